from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.services import Actor
from core import sudo
from core.permissions import has_capability, require
from core.throttle import AWS_READ, throttled
from plans import live, selectors, services, targets
from plans.forms import ApproveForm, PlanRequestForm, RejectForm
from plans.models import Job, Plan


@require_GET
@require("view")
def plan_list(request):
    page = Paginator(selectors.plans_list(), 50).get_page(request.GET.get("page"))
    return render(request, "plans/plan_list.html", {"page": page, "request_form": PlanRequestForm()})


@require_GET
@require("edit")
@sudo.require_recent_password
def plan_teardown(request):
    return render(request, "plans/teardown_confirm.html", {})


@transaction.non_atomic_requests  # reads what send_tasks noted after commit (core/atomic_requests.py)
@require_POST
@require("edit")
@throttled(AWS_READ)  # the worker reads every account
def plan_create(request):
    form = PlanRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The plan request was not understood.")
        return redirect("plans:list")
    if form.cleaned_data["teardown"] and not sudo.password_recently_confirmed(request):
        return sudo.redirect_to_confirmation(request, next_url=reverse("plans:teardown"))
    plan = services.plan_request(actor=Actor.from_user(request.user), teardown=form.cleaned_data["teardown"])
    plan.refresh_from_db(fields=["status", "error"])
    if plan.status == Plan.Status.FAILED:  # e.g. the task queue could not be reached
        messages.error(request, f"Plan #{plan.pk} failed. {plan.error}")
    else:
        messages.success(request, f"Plan #{plan.pk} requested; the worker is reading AWS.")
    return redirect("plans:detail", pk=plan.pk)


def _plan_context(request, plan: Plan) -> dict:
    refusal = services.approval_refusal(user=request.user, plan=plan)
    return {
        "plan": plan,
        "targets": targets.plan_targets(plan),
        "plan_job": plan.jobs.filter(kind=Job.Kind.PLAN).first(),
        "apply_jobs": plan.jobs.filter(kind=Job.Kind.APPLY),
        "can_decide": not refusal,
        "approval_refusal": refusal,
        "can_reject": has_capability(request.user, "approve") and plan.status in Plan.REJECTABLE_STATUSES,
        "can_apply": has_capability(request.user, "apply") and plan.status == Plan.Status.APPROVED,
        "stale": plan.status in (Plan.Status.PENDING, Plan.Status.APPROVED) and selectors.plan_is_stale(plan),
        "approve_form": ApproveForm(),
        "reject_form": RejectForm(),
    }


@require_GET
@require("view")
def plan_detail(request, pk: int):
    plan = get_object_or_404(Plan, pk=pk)
    template = "plans/_plan_body.html" if request.htmx else "plans/plan_detail.html"
    return render(request, template, _plan_context(request, plan))


def _decide(request, pk: int, form_class, decide):
    plan = get_object_or_404(Plan, pk=pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            decide(actor=Actor.from_user(request.user), plan=plan, comment=form.cleaned_data["comment"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            return redirect("plans:detail", pk=plan.pk)
    else:
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
    context = _plan_context(request, plan)
    context["reject_form" if form_class is RejectForm else "approve_form"] = form
    return render(request, "plans/plan_detail.html", context, status=400)


@require_POST
@require("approve")
def plan_approve(request, pk: int):
    return _decide(request, pk, ApproveForm, services.plan_approve)


@require_POST
@require("approve")
def plan_reject(request, pk: int):
    return _decide(request, pk, RejectForm, services.plan_reject)


@require_POST
@require("apply")
def plan_apply(request, pk: int):
    plan = get_object_or_404(Plan, pk=pk)
    try:
        job = services.apply_request(actor=Actor.from_user(request.user), plan=plan)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("plans:detail", pk=plan.pk)
    return redirect("plans:job_detail", pk=job.pk)


@require_GET
@require("view")
def job_list(request):
    page = Paginator(selectors.jobs_list(), 50).get_page(request.GET.get("page"))
    return render(request, "plans/job_list.html", {"page": page})


@require_GET
@require("view")
def job_detail(request, pk: int):
    try:
        job = selectors.job_with_steps(pk)
    except Job.DoesNotExist:
        raise Http404("No such job.") from None
    template = "plans/_job_body.html" if request.htmx else "plans/job_detail.html"
    return render(request, template, {"job": job, "totals": job.api_call_totals()})


@require_GET
@require("view")
@throttled(AWS_READ, when=lambda request: request.GET.get("read") == "1")
def live_roles(request):
    report = live.live_roles() if request.GET.get("read") == "1" else None
    return render(request, "plans/live_roles.html", {"report": report})
