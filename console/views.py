from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import MasterAccount
from audit.models import AuditEvent
from audit.services import Actor
from console import selectors, services_users
from console.forms import ConsoleUserForm
from core import sudo
from core.form_fields import posted_data
from core.permissions import require
from drift import selectors as drift_selectors
from plans import selectors as plan_selectors
from plans.desired import desired_state_problems


@require_GET
@require("view")
def dashboard(request):
    master = MasterAccount.load()
    context = {
        "master": master,
        **selectors.desired_state_counts(),
        "problems": desired_state_problems(master),
        "users_near_limit": selectors.iam_users_near_group_limit(),
        "expiring": selectors.memberships_expiring_soon(),
        "recent_events": AuditEvent.objects.all()[:10],
        "open_plans": plan_selectors.open_plans()[:10],
        "running_jobs": plan_selectors.running_jobs()[:10],
        "open_drift_count": drift_selectors.open_finding_count(),
    }
    return render(request, "console/dashboard.html", context)


@require_GET
@require("manage_users")
def console_user_list(request):
    return render(request, "console/console_user_list.html", {"console_users": selectors.console_users()})


@require_http_methods(["GET", "POST"])
@require("manage_users")
@sudo.require_recent_password
def console_user_create(request):
    form = ConsoleUserForm(posted_data(request), creating=True)
    if form.is_valid():
        try:
            user = services_users.console_user_create(actor=Actor.from_user(request.user), **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Console user {user.username} created.")
            return redirect("console:console_user_list")
    return render(request, "console/console_user_form.html", {"form": form, "creating": True})


def _get_changeable_console_user(request, pk: int) -> User:
    console_user = get_object_or_404(User, pk=pk)
    if (console_user.is_superuser or console_user.is_staff) and not request.user.is_superuser:
        # Their password would open /django-admin/; the service refuses this too.
        raise PermissionDenied("Only a superuser may change a superuser or staff account.")
    return console_user


@require_http_methods(["GET", "POST"])
@require("manage_users")
@sudo.require_recent_password
def console_user_edit(request, pk: int):
    console_user = _get_changeable_console_user(request, pk)
    form = ConsoleUserForm(
        posted_data(request), creating=False, instance_user=console_user
    )
    if form.is_valid():
        try:
            updated = services_users.console_user_update(
                actor=Actor.from_user(request.user), console_user=console_user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Console user {updated.username} updated.")
            return redirect("console:console_user_list")
    return render(request, "console/console_user_form.html", {"form": form, "creating": False, "console_user": console_user})
