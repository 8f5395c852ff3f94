"""Thin Celery tasks: take an id, call one function; the Delivery rows record the outcome."""
from celery import shared_task


@shared_task(bind=True, acks_late=True)
def deliver_notification_task(self, delivery_id: int) -> None:
    """Send one delivery; on a failure, try again after an exponential back-off (notifications.delivery)."""
    from kombu.exceptions import KombuError

    from notifications import delivery

    retries_so_far = self.request.retries
    if not delivery.attempt(delivery_id=delivery_id, retries_so_far=retries_so_far):
        return
    try:
        raise self.retry(countdown=delivery.backoff_seconds(retries_so_far), max_retries=None)
    except (KombuError, OSError) as error:
        delivery.give_up(delivery_id, reason=f"Could not queue the next attempt ({error.__class__.__name__}: {error}).")


@shared_task
def notify_expiring_memberships_task() -> int:
    """Beat task (settings.ROLEMODEL_EXPIRY_NOTICE_INTERVAL_SECONDS): announce memberships expiring within 3 days."""
    from notifications import services

    return services.notify_expiring_memberships()
