"""Recording a job's progress: the rows the job page reads while the worker runs.

Every write here is conditional on the row still being in the state the writer expects, so a
task delivered twice, or a worker that comes back after its job was declared abandoned, cannot
undo what another process recorded. A running job's worker beats (``heartbeat_at``); a job whose
beat stops for ``ROLEMODEL_JOB_LEASE_SECONDS`` is marked failed by :func:`reap_abandoned_jobs`.
"""
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import KombuError

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from integrations.aws import AwsError, CallCounter
from plans.models import Job, JobStep, Plan

logger = logging.getLogger(__name__)

LOG_LINES_MAX = 500
ACTIVE_STATUSES = (Job.Status.QUEUED, Job.Status.RUNNING)
UNFINISHED_STEP_STATUSES = (JobStep.Status.PENDING, JobStep.Status.RUNNING)
REAPER = Actor.system("system:reaper", source=AuditEvent.Source.WORKER)
DISPATCHER = Actor.system("system:dispatch", source=AuditEvent.Source.WORKER)
BROKER_UNREACHABLE = (
    "Not started: the task queue (broker) could not be reached, so nothing was sent to the worker and "
    "nothing changed in AWS. Try again in a moment."
)


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


def run_step_work(step: JobStep, work: Callable[[], None], *, label: str) -> str | None:
    """Run a step's AWS work. Returns "" when it succeeded; the reason when it failed (also written
    to the step log; ``label`` names the account in it); None when the job was declared abandoned
    meanwhile, so the caller records nothing more."""
    try:
        work()
    except JobAbandoned:
        return None
    except AwsError as failure:
        error = str(failure)
    except Exception as failure:  # a bug must still leave the step failed with the reason
        logger.exception("step %s (%s) of job %s failed", step.pk, step.target, step.job_id)
        error = f"{label}: internal error: {failure.__class__.__name__}: {failure}"
    else:
        return ""
    step_log(step, error)
    return error


def ensure_running(job_id: int) -> None:
    """Beat, and raise :class:`JobAbandoned` unless the job is still running. Call before every AWS write."""
    if not Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now()):
        raise JobAbandoned(f"job #{job_id} is no longer running")


def step_start(step: JobStep, *, total: int) -> bool:
    """Mark a step running; False when it has already finished (a repeated delivery)."""
    started = JobStep.objects.filter(pk=step.pk, status__in=UNFINISHED_STEP_STATUSES).update(
        status=JobStep.Status.RUNNING, started_at=timezone.now(), total=total, done=0
    )
    if started:
        step.status, step.total = JobStep.Status.RUNNING, total
    return bool(started)


def step_finish(step: JobStep, *, counter: CallCounter | None, error: str = "", status: str | None = None) -> None:
    final = status or (JobStep.Status.FAILED if error else JobStep.Status.SUCCEEDED)
    fields = {"status": final, "finished_at": timezone.now(), "error": error}
    if counter is not None:
        fields["api_calls"] = counter.as_dict()
    if final == JobStep.Status.SUCCEEDED:
        fields["done"] = F("total")
    if JobStep.objects.filter(pk=step.pk, status__in=UNFINISHED_STEP_STATUSES).update(**fields):
        step.status, step.error = final, error


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


def job_start(job: Job) -> bool:
    """Mark a queued job running; False if another delivery already took it."""
    now = timezone.now()
    started = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    return bool(started)


def job_finish(job: Job, *, error: str = "") -> bool:
    """Record the outcome; False when the job had already ended (e.g. declared abandoned)."""
    final = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    finished = Job.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=final, finished_at=timezone.now(), error=error
    )
    if finished:
        job.status, job.error = final, error
    return bool(finished)


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
                    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
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
            if not Job.objects.filter(stale, pk=job.pk, status__in=ACTIVE_STATUSES).update(
                status=Job.Status.FAILED, finished_at=now, error=reason
            ):
                continue
            JobStep.objects.filter(job=job, status=JobStep.Status.RUNNING).update(
                status=JobStep.Status.FAILED, finished_at=now, error=reason
            )
            JobStep.objects.filter(job=job, status=JobStep.Status.PENDING).update(
                status=JobStep.Status.SKIPPED, finished_at=now, error="Not started: the job was abandoned."
            )
            _fail_plan_of(job, reason=reason, now=now)
        reaped.append(job.pk)
    return reaped


def _fail_plan_of(job: Job, *, reason: str, now) -> None:
    plan = job.plan
    if job.kind == Job.Kind.PLAN:
        plan.refresh_from_db(fields=["created_change_sets"])
        made = plan.created_change_sets
        if Plan.objects.filter(pk=plan.pk, status=Plan.Status.PLANNING).update(
            status=Plan.Status.FAILED, error=reason, planned_at=now, accounts=made
        ):
            audit_record(actor=REAPER, action="plan_failed", object_type="plan", obj=plan, after={"job": job.pk}, reason=reason)
            if made:
                transaction.on_commit(lambda: discard_change_sets_later(plan_id=plan.pk))
    elif Plan.objects.filter(pk=plan.pk, status=Plan.Status.APPLYING).update(status=Plan.Status.APPLY_FAILED):
        audit_record(actor=REAPER, action="apply_failed", object_type="plan", obj=plan, after={"job": job.pk}, reason=reason)
        transaction.on_commit(lambda: discard_change_sets_later(failed_apply_job_id=job.pk))


def discard_change_sets_later(*, plan_id: int | None = None, failed_apply_job_id: int | None = None) -> None:
    """Queue the discarding of a dead plan's change sets, or of those a failed apply did not execute.
    Best effort: a new plan works with or without them, so a broker that is away is only logged."""
    from plans.tasks import discard_change_sets_task, discard_unexecuted_change_sets_task

    try:
        if plan_id is not None:
            discard_change_sets_task.delay(plan_id)
        if failed_apply_job_id is not None:
            discard_unexecuted_change_sets_task.delay(failed_apply_job_id)
    except (KombuError, OSError) as error:
        logger.warning("could not queue the discarding of change sets (plan %s, job %s): %s", plan_id,
                       failed_apply_job_id, error)


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
        if not Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.FAILED, finished_at=now, error=reason
        ):
            return
        JobStep.objects.filter(job=job, status__in=UNFINISHED_STEP_STATUSES).update(
            status=JobStep.Status.SKIPPED, finished_at=now, error="Not started."
        )
        plan = Plan.objects.get(pk=job.plan_id)
        if job.kind == Job.Kind.PLAN:
            if Plan.objects.filter(pk=plan.pk, status=Plan.Status.PLANNING).update(
                status=Plan.Status.FAILED, error=reason, planned_at=now
            ):
                audit_record(actor=DISPATCHER, action="plan_failed", object_type="plan", obj=plan, after={"job": job.pk},
                             reason=reason)
        elif Plan.objects.filter(pk=plan.pk, status=Plan.Status.APPLYING).update(status=Plan.Status.APPROVED):
            audit_record(actor=DISPATCHER, action="apply_failed", object_type="plan", obj=plan, after={"job": job.pk},
                         reason=f"{reason} The plan is still approved.")
    job.status, job.error = Job.Status.FAILED, reason
