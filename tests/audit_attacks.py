"""What an attacker with write access to the database (but not the audit key) does to the audit history.

``old_link_hash`` is the project's hash before the chain was keyed, copied verbatim: the tool the
security review used to make an edited history verify again.
"""
import hashlib
import hmac
import json

from audit.models import AuditChainHead, AuditEvent

OLD_HASHED_FIELDS = ("sequence", "created_at", "actor_name", "source", "action", "object_type", "object_id",
                     "object_repr", "before", "after", "reason")
GENESIS = "0" * 64


def old_event_content(values: dict) -> str:
    content = {name: values[name] for name in OLD_HASHED_FIELDS}
    content["created_at"] = values["created_at"].isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def old_link_hash(previous_hash: str, values: dict) -> str:
    return hashlib.sha256((previous_hash + "\n" + old_event_content(values)).encode()).hexdigest()


def hmac_with(key: bytes):
    """A forger who guessed the new scheme but holds another key."""
    from audit.chain import KEYED_FIELDS

    def link_hash(previous_hash: str, values: dict) -> str:
        content = {name: values[name] for name in KEYED_FIELDS}
        content["previous_hash"] = previous_hash
        content["created_at"] = values["created_at"].isoformat(timespec="microseconds")
        message = "rolemodel-audit/2\n" + json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    return link_hash


def rehash_from(sequence: int, link_hash, *, chain_version: int | None = None) -> None:
    """Recompute every hash from row ``sequence`` on, and the chain head, as the verifier would expect them."""
    previous = AuditEvent.objects.filter(sequence=sequence - 1).values_list("row_hash", flat=True).first() or GENESIS
    for event in AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence"):
        values = {field.attname: getattr(event, field.attname) for field in AuditEvent._meta.concrete_fields}
        if chain_version is not None:
            values["chain_version"] = chain_version
        row_hash = link_hash(previous, values)
        AuditEvent.objects.filter(pk=event.pk).update(previous_hash=previous, row_hash=row_hash, chain_version=values["chain_version"])
        previous = row_hash
    AuditChainHead.objects.filter(pk=1).update(row_hash=previous)


def make_legacy() -> None:
    """Turn the whole history into what the console wrote before the key: version 1, the old unkeyed hash."""
    rehash_from(1, old_link_hash, chain_version=1)
