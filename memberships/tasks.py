from celery import shared_task

from memberships.services import expire_due_memberships


@shared_task
def expire_due_memberships_task() -> int:
    return expire_due_memberships()
