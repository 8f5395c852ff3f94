"""Thin Celery tasks: take an id, call one service. The Job rows record the outcome."""
from celery import shared_task

from plans import applying, planning, services


@shared_task(acks_late=True)
def compute_plan_task(plan_id: int) -> None:
    planning.plan_compute(plan_id=plan_id)


@shared_task(acks_late=True)
def apply_account_task(step_id: int) -> None:
    applying.apply_account(step_id=step_id)


@shared_task(acks_late=True)
def apply_master_task(job_id: int) -> None:
    applying.apply_master(job_id=job_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def discard_change_sets_task(plan_id: int) -> None:
    services.discard_change_sets(plan_id=plan_id)
