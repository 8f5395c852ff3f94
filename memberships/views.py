from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.selectors import history_context
from audit.services import Actor
from core import limits
from core.form_errors import add_service_error
from core.form_fields import posted_data, suggestion_text
from core.form_flow import submit
from core.permissions import require
from core.redirects import redirect_next, safe_next_url
from core.sudo import require_recent_password
from memberships import selectors, services
from memberships.forms import (
    IAMUserForm,
    IAMUserSearchForm,
    MatrixFilterForm,
    MembershipFilterForm,
    MembershipGrantForm,
    ReasonForm,
)
from memberships.models import IAMUser, Membership

PAGE_SIZE = 50


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _names(memberships) -> str:
    return ", ".join(f"{membership.iam_user.user_name} in {membership.group_name}" for membership in memberships)


@require_GET
@require("view")
def membership_list(request):
    filters = MembershipFilterForm(request.GET)
    if filters.is_valid():
        rows = selectors.memberships_filtered(
            account=filters.cleaned_data["account"],
            role=filters.cleaned_data["role"],
            iam_user=filters.cleaned_data["user"],
        )
    else:
        rows = Membership.objects.none()
    return render(request, "memberships/membership_list.html", {"filters": filters, "page_obj": _page(request, rows)})


@require_http_methods(["GET", "POST"])
@require("edit")
def membership_add(request):
    form = MembershipGrantForm(posted_data(request), preselect=request.GET)
    if form.is_valid():
        try:
            result = services.memberships_grant(
                actor=Actor.from_user(request.user),
                grants=form.grants(),
                reason=form.cleaned_data["reason"],
                expires_at=form.cleaned_data["expires_at"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if result.created:
                messages.success(request, f"Granted {len(result.created)}: {_names(result.created)}.")
            if result.already_granted:
                messages.info(request, f"Already granted with the same expiry, left as they were: {_names(result.already_granted)}.")
            users = form.cleaned_data["users"]
            if len(users) == 1:
                return redirect("memberships:iam_user_detail", pk=users[0].pk)
            return redirect("memberships:list")
    return render(request, "memberships/membership_add.html", {"form": form})


def _back_to_the_removal_page(request, pk: int) -> str:
    return safe_next_url(request, request.POST.get("next"), default=reverse("memberships:list"))


@require_POST
@require("edit")
@require_recent_password(back=_back_to_the_removal_page)
def membership_remove(request, pk: int):
    membership = get_object_or_404(Membership.objects.select_related("iam_user", "account", "role"), pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{form.error_text()} Nothing was removed.")
    else:
        services.membership_revoke(actor=Actor.from_user(request.user), membership=membership, reason=form.cleaned_data["reason"])
        messages.success(request, f"Removed {membership.iam_user.user_name} from {membership.group_name}.")
    return redirect_next(request, request.POST.get("next"), default=reverse("memberships:list"))


@require_GET
@require("view")
def iam_user_suggestions(request):
    """The search box's suggestions (an htmx fragment): at most 20 IAM users matching the name being typed
    into the form field ``?field=``. The IAM users list shows the same names to the same people."""
    text = suggestion_text(request, max_length=limits.USER_NAME_MAX)
    suggestions = [(iam_user.user_name, iam_user.display_name) for iam_user in selectors.iam_user_suggestions(text)]
    return render(request, "partials/suggestions.html", {"suggestions": suggestions, "text": text, "kind": "IAM user"})


@require_GET
@require("view")
def iam_user_list(request):
    search = IAMUserSearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    context = {
        "search": search,
        "page_obj": _page(request, selectors.iam_users_with_group_counts(search=query)),
        "group_limit": limits.GROUPS_PER_USER_MAX,
    }
    return render(request, "memberships/iam_user_list.html", context)


@require_http_methods(["GET", "POST"])
@require("edit")
def iam_user_create(request):
    form = IAMUserForm(posted_data(request))
    done = submit(
        request, form,
        lambda: services.iam_user_create(actor=Actor.from_user(request.user), reason=form.cleaned_data["reason"],
                                         **form.user_fields()),
        success=lambda iam_user: f"IAM user {iam_user.user_name} added.",
        then=lambda iam_user: redirect("memberships:iam_user_detail", pk=iam_user.pk),
    )
    return done or render(request, "memberships/iam_user_form.html", {"form": form, "creating": True})


@require_http_methods(["GET", "POST"])
@require("edit")
def iam_user_edit(request, pk: int):
    iam_user = get_object_or_404(IAMUser, pk=pk)
    form = IAMUserForm(posted_data(request), initial=IAMUserForm.initial_for(iam_user))
    done = submit(
        request, form,
        lambda: services.iam_user_update(actor=Actor.from_user(request.user), iam_user=iam_user,
                                         reason=form.cleaned_data["reason"], **form.user_fields()),
        success=lambda _: f"IAM user {form.cleaned_data['user_name']} saved.",
        then=lambda _: redirect("memberships:iam_user_detail", pk=iam_user.pk),
    )
    return done or render(request, "memberships/iam_user_form.html", {"form": form, "creating": False, "iam_user": iam_user})


@require_POST
@require("edit")
@require_recent_password(back=lambda request, pk: reverse("memberships:iam_user_detail", args=[pk]))
def iam_user_delete(request, pk: int):
    iam_user = get_object_or_404(IAMUser, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{form.error_text()} Nothing was removed.")
        return redirect("memberships:iam_user_detail", pk=iam_user.pk)
    name = iam_user.user_name
    services.iam_user_delete(actor=Actor.from_user(request.user), iam_user=iam_user, reason=form.cleaned_data["reason"])
    messages.success(request, f"IAM user {name} removed from the console, with all of their grants.")
    return redirect("memberships:iam_user_list")


@require_GET
@require("view")
def iam_user_detail(request, pk: int):
    iam_user = get_object_or_404(IAMUser, pk=pk)
    tab = "history" if request.GET.get("tab") == "history" else "grants"
    grants = selectors.iam_user_grants(iam_user)
    context = {
        "iam_user": iam_user,
        "tab": tab,
        "grants": grants,
        "group_count": selectors.group_count(grants),
        "group_limit": limits.GROUPS_PER_USER_MAX,
        "remove_form": ReasonForm(),
    }
    if tab == "history":
        context.update(history_context(object_type="IAM user", obj=iam_user))
    return render(request, "memberships/iam_user_detail.html", context)


@require_GET
@require("view")
def matrix(request):
    filters = MatrixFilterForm(request.GET)
    if filters.is_valid():
        access = selectors.access_matrix(
            account_name=filters.cleaned_data["account_name"].strip(), role=filters.cleaned_data["role"]
        )
    else:
        access = None
    return render(
        request,
        "memberships/matrix.html",
        {"filters": filters, "matrix": access, "shade_legend": selectors.matrix_shade_legend()},
    )
