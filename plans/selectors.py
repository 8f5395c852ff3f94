from django.db.models import Prefetch, QuerySet

from plans import desired, revocation
from plans.models import Job, JobStep, Plan


def plans_list() -> QuerySet:
    return Plan.objects.defer("desired_state", "accounts", "master").order_by("-created_at", "-id")


def jobs_list() -> QuerySet:
    return Job.objects.select_related("plan").only(
        "id", "kind", "status", "created_at", "started_at", "finished_at", "requested_by_name", "error", "plan__id",
        "plan__kind",
    ).order_by("-created_at", "-id")


def job_with_steps(pk: int) -> Job:
    return Job.objects.select_related("plan").prefetch_related(
        Prefetch("steps", queryset=JobStep.objects.order_by("position", "id"))
    ).get(pk=pk)


def plan_is_stale(plan: Plan) -> bool:
    """Whether the desired state moved since the plan was computed (only meaningful once planned)."""
    if not plan.fingerprint:
        return False
    if plan.kind == Plan.Kind.REVOCATION:
        return bool(revocation.stale_reason(plan))
    current = desired.desired_state_document(teardown=plan.kind == Plan.Kind.TEARDOWN)
    return desired.fingerprint(current) != plan.fingerprint


def open_plans() -> QuerySet:
    return plans_list().filter(status__in=Plan.OPEN_STATUSES)


def running_jobs() -> QuerySet:
    return jobs_list().filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING))
