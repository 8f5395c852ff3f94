from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.services import Actor
from core import sudo
from core.throttle import AWS_READ, throttled
from core.permissions import require
from drift import selectors, services
from drift.forms import AdoptForm
from drift.models import DriftCheck, DriftFinding


@require_GET
@require("view")
def drift_page(request):
    findings = list(selectors.open_findings())
    for finding in findings:
        finding.adoption_refusal = services.adoption_refusal(finding)
    closed = Paginator(selectors.closed_findings(), 50).get_page(request.GET.get("page"))
    return render(request, "drift/drift.html", {"findings": findings, "closed": closed, "check": selectors.latest_check(),
                                                "adopt_form": AdoptForm()})


@transaction.non_atomic_requests  # the task is sent after commit
@require_POST
@require("check_drift")
@throttled(AWS_READ)  # the worker reads every account
def drift_check_start(request):
    check, created = services.drift_check_request(actor=Actor.from_user(request.user))
    check.refresh_from_db(fields=["status", "error"])
    if check.status == DriftCheck.Status.FAILED:  # e.g. the task queue could not be reached
        messages.error(request, f"Drift check #{check.pk} failed. {check.error}")
    elif created:
        messages.success(request, f"Drift check #{check.pk} queued; the worker is reading AWS.")
    else:
        messages.info(request, f"Drift check #{check.pk} is already {check.get_status_display().lower()}.")
    return redirect("drift:page")


@require_POST
@require("edit")
def finding_adopt(request, pk: int):
    finding = get_object_or_404(DriftFinding, pk=pk)
    form = AdoptForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", ["The adoption was not understood."])))
        return redirect("drift:page")
    if services.adoption_removes_access(finding):
        needed = sudo.confirmation_needed(request, what="Adopting this finding", next_url=reverse("drift:page"))
        if needed is not None:
            return needed
    try:
        services.finding_adopt(actor=Actor.from_user(request.user), finding=finding, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("drift:page")
    messages.success(request, f"Adopted: {finding.detail} The next drift check closes the finding.")
    return redirect("drift:page")
