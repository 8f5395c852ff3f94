from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEvent


def history_for(*, object_type: str, object_id, limit: int = 50):
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("-created_at", "-id")[:limit]


def history_context(*, object_type: str, obj, rows=None, limit: int = 50) -> dict:
    """What ``partials/history.html`` needs: ``rows`` when the caller gathered them (a role's include
    its policies'), else the object's own audit rows."""
    if rows is None:
        rows = history_for(object_type=object_type, object_id=obj.pk, limit=limit)
    return {
        "history": list(rows),
        "history_object_type": object_type,
        "history_object_id": obj.pk,
    }


def audit_events(
    *,
    person: str = "",
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    text: str = "",
) -> QuerySet:
    """Audit rows newest first, narrowed by whichever filters are given (dates inclusive, in the site's time zone)."""
    events = AuditEvent.objects.order_by("-created_at", "-id")
    if person:
        events = events.filter(actor_name__icontains=person)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if action:
        events = events.filter(action=action)
    if date_from:
        events = events.filter(created_at__gte=_start_of(date_from))
    if date_to:
        events = events.filter(created_at__lt=_start_of(date_to + timedelta(days=1)))
    if text:
        events = events.filter(Q(object_repr__icontains=text) | Q(reason__icontains=text) | Q(actor_name__icontains=text))
    return events


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_object_types() -> list[str]:
    return list(AuditEvent.objects.order_by("object_type").values_list("object_type", flat=True).distinct())


def audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def membership_removals(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], AuditEvent]:
    """The latest audit row removing each (IAM user name, group name) membership, where there is one."""
    if not pairs:
        return {}
    found = {}
    rows = (
        AuditEvent.objects.filter(object_type="membership", action="delete",
                                  before__user__in={user for user, _ in pairs},
                                  before__group__in={group for _, group in pairs})
        .order_by("-pk")
        .only("actor_name", "reason", "created_at", "before")
    )
    for row in rows.iterator():
        key = (row.before.get("user"), row.before.get("group"))
        if key in pairs and key not in found:
            found[key] = row
            if len(found) == len(pairs):
                break
    return found
