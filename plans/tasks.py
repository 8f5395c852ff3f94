"""Thin Celery tasks: take an id, call one service. The Job rows record the outcome.

While a job's task runs, a thread beats for the job (``plans.jobs.heartbeat``): a worker that is
killed stops beating, and the periodic reaper marks its job failed after the lease.
"""
from celery import shared_task

from plans import applying, jobs, planning, services
from plans.models import Job, JobStep


@shared_task(acks_late=True)
def compute_plan_task(plan_id: int) -> None:
    job_id = Job.objects.filter(plan_id=plan_id, kind=Job.Kind.PLAN).values_list("pk", flat=True).first()
    with jobs.heartbeat(job_id):
        planning.plan_compute(plan_id=plan_id)


@shared_task(acks_late=True)
def apply_account_task(step_id: int) -> None:
    job_id = JobStep.objects.filter(pk=step_id).values_list("job_id", flat=True).first()
    with jobs.heartbeat(job_id):
        applying.apply_account(step_id=step_id)


@shared_task(acks_late=True)
def apply_master_task(job_id: int) -> None:
    with jobs.heartbeat(job_id):
        applying.apply_master(job_id=job_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def discard_change_sets_task(plan_id: int) -> None:
    services.discard_change_sets(plan_id=plan_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def discard_unexecuted_change_sets_task(job_id: int) -> None:
    applying.discard_unexecuted_change_sets(job_id=job_id)


@shared_task
def reap_abandoned_jobs_task() -> list[int]:
    return jobs.reap_abandoned_jobs()
