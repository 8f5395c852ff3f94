"""Thin Celery tasks: take an id, call one service. The DriftCheck rows record the outcome."""
from celery import shared_task


@shared_task(acks_late=True)
def run_drift_check_task(check_id: int) -> None:
    from drift import services

    services.run_drift_check(check_id=check_id)


@shared_task
def scheduled_drift_check_task() -> int:
    """Celery beat's: queue a check as the schedule (none when one is already queued or running)."""
    from drift import services

    check, _ = services.drift_check_request(actor=services.SCHEDULE)
    return check.pk
