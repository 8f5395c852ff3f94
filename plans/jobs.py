"""Recording a job's progress: the rows the job page reads while the worker runs."""
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.aws import CallCounter
from plans.models import Job, JobStep

LOG_LINES_MAX = 500


def step_log(step: JobStep, message: str, *, done_delta: int = 0) -> None:
    """Append a line to a step's log and advance its progress, visible at once to the job page."""
    with transaction.atomic():
        locked = JobStep.objects.select_for_update().get(pk=step.pk)
        locked.log = (locked.log + [{"at": timezone.now().isoformat(), "message": message}])[-LOG_LINES_MAX:]
        locked.done = min(locked.done + done_delta, locked.total) if locked.total else locked.done + done_delta
        locked.save(update_fields=["log", "done"])
        Job.objects.filter(pk=step.job_id).update(heartbeat_at=timezone.now())
    step.log, step.done = locked.log, locked.done


def step_start(step: JobStep, *, total: int) -> None:
    JobStep.objects.filter(pk=step.pk).update(status=JobStep.Status.RUNNING, started_at=timezone.now(), total=total, done=0)
    step.status, step.total = JobStep.Status.RUNNING, total


def step_finish(step: JobStep, *, counter: CallCounter | None, error: str = "", status: str | None = None) -> None:
    final = status or (JobStep.Status.FAILED if error else JobStep.Status.SUCCEEDED)
    fields = {"status": final, "finished_at": timezone.now(), "error": error}
    if counter is not None:
        fields["api_calls"] = counter.as_dict()
    if final == JobStep.Status.SUCCEEDED:
        fields["done"] = F("total")
    JobStep.objects.filter(pk=step.pk).update(**fields)
    step.status, step.error = final, error


def job_start(job: Job) -> bool:
    """Mark a queued job running; False if another delivery already took it."""
    now = timezone.now()
    started = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    return bool(started)


def job_finish(job: Job, *, error: str = "") -> None:
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.FAILED if error else Job.Status.SUCCEEDED, finished_at=timezone.now(), error=error
    )
    job.status = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    job.error = error
