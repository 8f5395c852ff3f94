"""Recording a job's progress: the rows the job page reads while the worker runs.

Every write here is conditional on the row still being in the state the writer expects, so a
task delivered twice, or a worker that comes back after its job was declared abandoned, cannot
undo what another process recorded. A running job's worker beats (``heartbeat_at``); a job whose
beat stops for ``ROLEMODEL_JOB_LEASE_SECONDS`` is marked failed by :func:`reap_abandoned_jobs`.
"""
import logging
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from integrations.aws import CallCounter
from notifications import services as notifications
from plans import dispatch
from plans.models import Job, JobStep

logger = logging.getLogger(__name__)

LOG_LINES_MAX = 500
ACTIVE_STATUSES = Job.ACTIVE_STATUSES
REAPER = Actor.system("system:reaper", source=AuditEvent.Source.WORKER)


class JobAbandoned(Exception):
    """The job is no longer running (declared abandoned, or finished by another delivery): stop, write nothing."""


def lease_seconds() -> float:
    return float(settings.ROLEMODEL_JOB_LEASE_SECONDS)


def queue_wait_seconds() -> float:
    """How long a job may wait for a worker: longer than the lease, since it may be queued behind a long apply."""
    return max(float(settings.ROLEMODEL_JOB_QUEUE_TIMEOUT_SECONDS), lease_seconds())


def step_log(step: JobStep, message: str, *, done_delta: int = 0) -> None:
    """Append a line to a step's log and advance its progress, visible at once to the job page."""
    with transaction.atomic():
        locked = JobStep.objects.select_for_update().get(pk=step.pk)
        locked.log = (locked.log + [{"at": timezone.now().isoformat(), "message": message}])[-LOG_LINES_MAX:]
        locked.done = min(locked.done + done_delta, locked.total) if locked.total else locked.done + done_delta
        locked.save(update_fields=["log", "done"])
    step.log, step.done = locked.log, locked.done


def ensure_running(job_id: int) -> None:
    """Beat, and raise :class:`JobAbandoned` unless the job is still running. Call before every AWS write."""
    if not Job(pk=job_id).beat():
        raise JobAbandoned(f"job #{job_id} is no longer running")


def step_finish(step: JobStep, *, counter: CallCounter | None, error: str = "", status: str | None = None) -> bool:
    """Finish a step with the calls its counter holds (see ``JobStep.finish``)."""
    return step.finish(error=error, status=status, api_calls=counter.as_dict() if counter is not None else None)


def step_add_calls(*, job: Job, target: str, counter: CallCounter, part: str) -> None:
    """Add calls made for a step after it finished (``part``: what they were for, e.g. "cleanup") to
    its ``api_calls``, so that the job's totals hold every request sent on its behalf."""
    made = counter.as_dict()
    if not (made["reads"] or made["writes"] or made["retries"]):
        return
    with transaction.atomic():
        step = JobStep.objects.select_for_update().filter(job=job, target=target).first()
        if step is None:
            return
        calls = dict(step.api_calls or {})
        operations = dict(calls.get("operations", {}))
        for operation, count in made["operations"].items():
            operations[operation] = operations.get(operation, 0) + count
        calls["operations"] = dict(sorted(operations.items()))
        for key in ("reads", "writes", "retries"):
            calls[key] = calls.get(key, 0) + made[key]
        earlier = calls.get(part, {})
        calls[part] = {
            "operations": {op: earlier.get("operations", {}).get(op, 0) + made["operations"].get(op, 0)
                           for op in sorted(set(earlier.get("operations", {})) | set(made["operations"]))},
            **{key: earlier.get(key, 0) + made[key] for key in ("reads", "writes", "retries")},
        }
        step.api_calls = calls
        step.save(update_fields=["api_calls"])


@contextmanager
def heartbeat(job_id: int | None, *, interval: float | None = None):
    """Beat for the job from a thread while the block runs, whatever the block is waiting for.

    Only a live worker beats: a killed one stops, and its job is reaped after the lease.
    """
    if job_id is None:
        yield
        return
    every = interval or min(30.0, max(0.2, lease_seconds() / 4))
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(every):
                try:
                    Job(pk=job_id).beat()
                except DatabaseError:  # the database is briefly away; the next beat tries again
                    logger.warning("heartbeat of job %s failed", job_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _abandoned_reason(job: Job) -> str:
    if job.heartbeat_at is None:
        return f"abandoned: no worker took the job (queued since {timezone.localtime(job.created_at):%Y-%m-%d %H:%M:%S %Z})"
    return f"abandoned: the worker stopped answering (no heartbeat since {timezone.localtime(job.heartbeat_at):%Y-%m-%d %H:%M:%S %Z})"


def reap_abandoned_jobs(*, now=None) -> list[int]:
    """Mark failed every running job without a heartbeat for longer than the lease, and every job
    no worker took within the queue timeout.

    Its running steps fail with the reason, its pending steps are skipped, its plan becomes
    "Planning failed" or "Apply failed", and an audit row says so. A worker that comes back
    later finds the job failed and does nothing. Returns the ids of the jobs reaped.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=lease_seconds())
    queued_cutoff = now - timedelta(seconds=queue_wait_seconds())
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=queued_cutoff)
    reaped = []
    for job in Job.objects.filter(stale, status__in=ACTIVE_STATUSES).select_related("plan"):
        reason = _abandoned_reason(job)
        with transaction.atomic():
            # Conditional: a beat or a finish that came in since the read wins.
            if not job.abandon(reason=reason, now=now, still_stale=stale):
                continue
            _fail_plan_of(job, reason=reason, now=now)
        reaped.append(job.pk)
    return reaped


def _fail_plan_of(job: Job, *, reason: str, now) -> None:
    plan = job.plan
    if job.kind == Job.Kind.PLAN:
        plan.refresh_from_db(fields=["created_change_sets"])
        made = plan.created_change_sets
        if plan.fail_planning(reason=reason, now=now, accounts=made):
            audit_record(actor=REAPER, action="plan_failed", object_type="plan", obj=plan, after={"job": job.pk}, reason=reason)
            if made:
                dispatch.discard_after_commit(plan_id=plan.pk)
    elif plan.finish_applying(error=reason):
        audit_record(actor=REAPER, action="apply_failed", object_type="plan", obj=plan, after={"job": job.pk}, reason=reason)
        notifications.apply_finished(plan_id=plan.pk, summary=plan.summary_line, requester_id=plan.requested_by_id,
                                     approver_id=plan.decided_by_id, error=reason)
        dispatch.discard_after_commit(failed_apply_job_id=job.pk)
