from audit.models import AuditEvent


def history_for(*, object_type: str, object_id, limit: int = 50):
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("-created_at", "-id")[:limit]


def history_context(*, object_type: str, obj, limit: int = 50) -> dict:
    return {
        "history": list(history_for(object_type=object_type, object_id=obj.pk, limit=limit)),
        "history_object_type": object_type,
        "history_object_id": obj.pk,
    }
