"""The one module that puts the engine's tasks on the queue.

Everything is sent after the transaction that wrote the rows commits (the task reads them), with ids,
never model objects. A job's tasks that cannot reach the broker fail the job at once with the reason
(``jobs.job_not_started``), so nobody waits for a worker that will never hear of it; clean-up is best
effort, since a new plan works with or without the old change sets.
"""
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from plans.models import Job, JobStep, Plan
from plans.tasks import (
    apply_account_task,
    apply_master_task,
    apply_revocation_task,
    compute_plan_task,
    discard_change_sets_task,
    discard_unexecuted_change_sets_task,
)

logger = logging.getLogger(__name__)

DISPATCHER = Actor.system("system:dispatch", source=AuditEvent.Source.WORKER)
BROKER_UNREACHABLE = (
    "Not started: the task queue (broker) could not be reached, so nothing was sent to the worker and "
    "nothing changed in AWS. Try again in a moment."
)


def send_tasks(job: Job, *sends: Callable[[], object]) -> bool:
    """Hand a job's tasks to the broker (call it after commit). When the broker cannot be reached,
    the job fails at once with the reason instead of waiting for ever, and the plan can be retried."""
    try:
        for send in sends:
            send()
    except (KombuError, OSError) as error:
        logger.warning("could not send the tasks of job %s: %s", job.pk, error)
        job_not_started(job, reason=f"{BROKER_UNREACHABLE} ({error.__class__.__name__}: {error})")
        return False
    return True


def job_not_started(job: Job, *, reason: str) -> None:
    """A job whose tasks never reached the broker: failed, and its plan back where a person can retry.

    A plan request becomes "Planning failed" (request another); an apply puts the plan back to
    approved (apply it again). Only a job still queued is touched: one a worker already took runs on.
    """
    now = timezone.now()
    with transaction.atomic():
        if not job.fail_not_started(reason=reason):
            return
        plan = Plan.objects.get(pk=job.plan_id)
        if job.kind == Job.Kind.PLAN:
            if plan.fail_planning(reason=reason, now=now):
                audit_record(actor=DISPATCHER, action="plan_failed", object_type="plan", obj=plan, after={"job": job.pk},
                             reason=reason)
        elif plan.apply_not_started():
            audit_record(actor=DISPATCHER, action="apply_failed", object_type="plan", obj=plan, after={"job": job.pk},
                         reason=f"{reason} The plan is still approved.")


def plan_compute_after_commit(job: Job) -> None:
    """The plan job's one task: read AWS and compute the plan."""
    plan_id = job.plan_id
    transaction.on_commit(lambda: send_tasks(job, lambda: compute_plan_task.delay(plan_id)))


def apply_after_commit(job: Job) -> None:
    """One task per account step; the master step directly when no stack changes (the last account
    step to finish sends it otherwise: :func:`master_step_after_commit`)."""
    step_ids = list(job.steps.exclude(target=JobStep.MASTER).values_list("pk", flat=True))
    if step_ids:
        sends = [lambda step_id=step_id: apply_account_task.delay(step_id) for step_id in step_ids]
    else:
        sends = [lambda: apply_master_task.delay(job.pk)]
    transaction.on_commit(lambda: send_tasks(job, *sends))


def revocation_apply_after_commit(plan_id: int) -> None:
    """Apply a revocation plan the system approved under the revocation rule (``plans.revocation``).
    A broker that is away loses nothing: the plan stays approved and the next expiry check sends it again."""

    def send():
        try:
            apply_revocation_task.delay(plan_id)
        except (KombuError, OSError) as error:
            logger.warning("could not queue the apply of revocation plan %s (the next expiry check retries): %s",
                           plan_id, error)

    transaction.on_commit(send)


def master_step_after_commit(job: Job) -> None:
    transaction.on_commit(lambda: apply_master_task.delay(job.pk))


def discard_change_sets_later(*, plan_id: int | None = None, failed_apply_job_id: int | None = None) -> None:
    """Queue the discarding of a dead plan's change sets, or of those a failed apply did not execute.
    Best effort: a new plan works with or without them, so a broker that is away is only logged."""
    try:
        if plan_id is not None:
            discard_change_sets_task.delay(plan_id)
        if failed_apply_job_id is not None:
            discard_unexecuted_change_sets_task.delay(failed_apply_job_id)
    except (KombuError, OSError) as error:
        logger.warning("could not queue the discarding of change sets (plan %s, job %s): %s", plan_id,
                       failed_apply_job_id, error)


def discard_after_commit(*, plan_id: int | None = None, failed_apply_job_id: int | None = None) -> None:
    transaction.on_commit(lambda: discard_change_sets_later(plan_id=plan_id, failed_apply_job_id=failed_apply_job_id))
