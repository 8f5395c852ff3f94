from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.chain import append_event
from audit.models import AuditEvent
from core.services import apply_fields


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
    parent_type: str = "",
    parent_id="",
) -> AuditEvent:
    """Append one audit row, linked into the hash chain. Call it inside the transaction that makes the change.

    ``parent_type``/``parent_id`` name the object this one belongs to, where there is one (a policy's role).
    """
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
        parent_type=parent_type,
        parent_id=str(parent_id) if parent_type else "",
    )
    with transaction.atomic():
        append_event(event)
    return event


def audited_save(
    *,
    actor: Actor,
    obj,
    action: str,
    object_type: str,
    before=None,
    reason: str = "",
    snapshot: Callable[[], object] | None = None,
    related: Callable[[], None] | None = None,
    after_change: Callable[[], None] | None = None,
    parent_type: str = "",
    parent_id="",
) -> bool:
    """Create, update or delete ``obj`` and write its audit row, in the caller's transaction.

    1. ``delete``: the row records ``before`` (default: the snapshot now), then the object goes.
    2. ``create`` / ``update``: validate (``full_clean``) and save. An update that changes nothing
       saves nothing and writes no row (returns False) — checked before saving unless ``related``
       (many-to-many links set after the save) can make the change.
    3. ``related()`` then sets what needs the saved row; ``after_change()`` runs only for a real
       change, before the audit row: whole-state checks and the change's consequences, whose own
       audit rows then come first.
    4. The audit row, with the snapshot (``obj.snapshot()`` unless ``snapshot`` says otherwise) as after,
       linked to the parent object when there is one.
    """
    parent = {"parent_type": parent_type, "parent_id": parent_id}
    take = snapshot or obj.snapshot
    if action == AuditEvent.Action.DELETE:
        audit_record(actor=actor, action=action, object_type=object_type, obj=obj,
                     before=take() if before is None else before, reason=reason, **parent)
        obj.delete()
        return True
    obj.full_clean()
    if action == AuditEvent.Action.UPDATE and related is None and take() == before:
        return False
    obj.save()
    if related is not None:
        related()
    after = take()
    if action == AuditEvent.Action.UPDATE and after == before:
        return False
    if after_change is not None:
        after_change()
    audit_record(actor=actor, action=action, object_type=object_type, obj=obj,
                 before=before if action == AuditEvent.Action.UPDATE else None, after=after, reason=reason, **parent)
    return True


def audited_create(*, actor: Actor, obj, fields: dict, allowed: tuple[str, ...], object_type: str, reason: str = "",
                   after_change: Callable[[], None] | None = None):
    """Set ``fields`` (only those ``allowed``) on the new ``obj`` and create it with its audit row (``audited_save``)."""
    apply_fields(obj, fields, allowed=allowed)
    audited_save(actor=actor, obj=obj, action=AuditEvent.Action.CREATE, object_type=object_type, reason=reason,
                 after_change=after_change)
    return obj


def audited_update(*, actor: Actor, obj, fields: dict, allowed: tuple[str, ...], object_type: str, reason: str = "",
                   after_change: Callable[[], None] | None = None):
    """Lock ``obj``'s row, set ``fields`` (only those ``allowed``) and save it with its audit row
    (``audited_save``: none when nothing changed). Returns the locked, updated object."""
    obj = type(obj).objects.select_for_update().get(pk=obj.pk)
    before = obj.snapshot()
    apply_fields(obj, fields, allowed=allowed)
    audited_save(actor=actor, obj=obj, action=AuditEvent.Action.UPDATE, object_type=object_type, before=before,
                 reason=reason, after_change=after_change)
    return obj
