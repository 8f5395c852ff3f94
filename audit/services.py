from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.chain import append_event
from audit.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who is making a change: a console user, or a named system actor (command line, worker)."""

    user: AbstractBaseUser | None
    name: str
    source: str = AuditEvent.Source.WEB

    @classmethod
    def from_user(cls, user, *, source: str = AuditEvent.Source.WEB) -> "Actor":
        return cls(user=user, name=user.get_username(), source=source)

    @classmethod
    def system(cls, name: str, *, source: str = AuditEvent.Source.CLI) -> "Actor":
        return cls(user=None, name=name, source=source)


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    obj=None,
    object_id: str = "",
    object_repr: str = "",
    before=None,
    after=None,
    reason: str = "",
) -> AuditEvent:
    """Append one audit row, linked into the hash chain. Call it inside the transaction that makes the change."""
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor.user,
        actor_name=actor.name[:150],
        source=actor.source,
        action=action,
        object_type=object_type,
        object_id=str(obj.pk if obj is not None else object_id),
        object_repr=(str(obj) if obj is not None else object_repr)[:300],
        before=before,
        after=after,
        reason=reason or "",
    )
    with transaction.atomic():
        append_event(event)
    return event
