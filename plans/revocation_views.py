"""The offboarding page: remove an IAM user from every group in one action (plans/revocation.py)."""
from django.conf import settings
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from audit.services import Actor
from core import sudo
from core.form_flow import submit
from core.permissions import require
from memberships.models import IAMUser
from memberships.selectors import iam_user_grants
from plans import revocation
from plans.forms import OffboardForm


@require_http_methods(["GET", "POST"])
@require("edit")
@sudo.require_recent_password
def offboard(request, iam_user_pk: int):
    iam_user = get_object_or_404(IAMUser, pk=iam_user_pk)
    form = OffboardForm(request.POST or None)
    done = submit(
        request, form,
        lambda: revocation.offboard(actor=Actor.from_user(request.user), user_name=iam_user.user_name,
                                    reason=form.cleaned_data["reason"]),
        success=lambda result: (f"{result.iam_user.user_name}: {len(result.revoked)} grant(s) revoked; revocation "
                                f"plan #{result.plan.pk} removes them from every group in AWS."),
        then=lambda result: redirect(reverse("plans:detail", args=[result.plan.pk])),
    )
    return done or render(request, "plans/offboard.html", {
        "iam_user": iam_user, "grants": iam_user_grants(iam_user), "form": form,
        "auto_apply": settings.ROLEMODEL_AUTO_APPLY_REVOCATIONS,
    })
