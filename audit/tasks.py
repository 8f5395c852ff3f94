from celery import shared_task

from audit.heads import publish_head


@shared_task
def publish_audit_head_task() -> dict | None:
    """Beat task (settings.ROLEMODEL_AUDIT_HEAD_MINUTES): publish the audit chain's signed head."""
    return publish_head().record
