"""One way to run the engine's work, after NetBox's ``JobRunner.handle``: the worker beats for the
job while the work runs, and the outcome is one of three, whatever the work was (the plan step or an
apply step):

* ``None``: the job was declared abandoned meanwhile (``JobAbandoned``); record nothing more, the
  reaper's outcome stands;
* ``""``: the work succeeded;
* a reason: AWS refused or failed (``AwsError``, its own words), or a bug (``internal error`` with the
  exception, logged with its traceback) — never an exception escaping with the step left running.
"""
import logging
from collections.abc import Callable
from contextlib import contextmanager

from integrations.aws import AwsError
from integrations.aws import CallCounter
from plans.jobs import JobAbandoned, heartbeat, step_finish, step_log
from plans.models import Job, JobStep

logger = logging.getLogger(__name__)


def run_guarded(work: Callable[[], None], *, internal_error: Callable[[Exception], str], what: str) -> str | None:
    """Run ``work``; None when abandoned, "" on success, else the reason (``internal_error`` words a bug)."""
    try:
        work()
    except JobAbandoned:
        return None
    except AwsError as failure:
        return str(failure)
    except Exception as failure:  # a bug must still leave the job or step failed with the reason
        logger.exception("%s failed", what)
        return internal_error(failure)
    return ""


def run_step_work(step: JobStep, work: Callable[[], None], *, label: str) -> str | None:
    """Run a step's AWS work. Returns "" when it succeeded; the reason when it failed (also written
    to the step log; ``label`` names the account in it); None when the job was declared abandoned
    meanwhile, so the caller records nothing more."""
    error = run_guarded(
        work,
        internal_error=lambda failure: f"{label}: internal error: {failure.__class__.__name__}: {failure}",
        what=f"step {step.pk} ({step.target}) of job {step.job_id}",
    )
    if error:
        step_log(step, error)
    return error


def take(job: Job, step: JobStep) -> bool:
    """Whether this delivery is to run ``step``: the first task of a job starts it (queued → running);
    a step already finished (a repeated delivery) or a job no longer running (finished, reaped) is left."""
    if step.status in JobStep.FINISHED_STATUSES or job.is_finished:
        return False
    job.start()
    job.refresh_from_db(fields=["status"])
    return job.status == Job.Status.RUNNING


def run_step(step: JobStep, work: Callable[[], None], *, label: str, counter: CallCounter,
             unless_succeeded: Callable[[], None] | None = None) -> str | None:
    """Run an apply step's work and record its outcome on the step (with the calls ``counter`` holds).
    ``unless_succeeded`` runs first when the work did not succeed (abandoned too). Returns as
    :func:`run_step_work`; after None the caller does nothing more."""
    error = run_step_work(step, work, label=label)
    if error != "" and unless_succeeded is not None:
        unless_succeeded()
    if error is not None:
        step_finish(step, counter=counter, error=error)
    return error


@contextmanager
def handling(job_id: int | None):
    """What the task wraps its one service call in: a live worker beats for its job (a killed one stops,
    and the reaper fails the job after the lease)."""
    with heartbeat(job_id):
        yield


def plan_job_id(plan_id: int) -> int | None:
    return Job.objects.filter(plan_id=plan_id, kind=Job.Kind.PLAN).values_list("pk", flat=True).first()


def step_job_id(step_id: int) -> int | None:
    return JobStep.objects.filter(pk=step_id).values_list("job_id", flat=True).first()
