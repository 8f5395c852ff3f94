"""Reseal the legacy (unkeyed) audit chain under the audit key, once, after the upgrade that added the key.

The legacy chain is verified first: only a chain that verifies is resealed, so that no edit made
before the upgrade gets a valid HMAC. A chain that was ever sealed with the key is never resealed:
the console writes no legacy row after that, so legacy rows in it are forgeries (a downgrade), and
resealing them would launder them. The reseal itself is recorded as an audit row.

It runs after every ``migrate`` (audit/apps.py; a no-op once nothing is legacy) and as
``manage.py rolemodel audit reseal``.
"""
from dataclasses import dataclass

from django.db import transaction

from audit.chain import GENESIS, KEYED, LEGACY, default_heads_file, keyed_link_hash, rows_in_order, verify_chain
from audit.keys import audit_key
from audit.models import AuditChainHead, AuditEvent, AuditHeadPublication
from audit.services import Actor, audit_record
from core.permissions import check_actor

RESEAL_CHUNK_SIZE = 2000


@dataclass
class ResealResult:
    ok: bool
    resealed: int
    message: str


def legacy_rows_exist() -> bool:
    return AuditEvent.objects.filter(chain_version=LEGACY).exists()


def reseal_legacy_chain(*, actor: Actor, chunk_size: int = RESEAL_CHUNK_SIZE) -> ResealResult:
    check_actor(actor, "manage_users", "Only members of the Admin group reseal the audit chain.")
    key = audit_key()
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        if not legacy_rows_exist():
            return ResealResult(True, 0, "Nothing to reseal: no audit row carries the legacy unkeyed hash.")
        if AuditEvent.objects.exclude(chain_version=LEGACY).exists() or AuditHeadPublication.objects.exists() \
                or default_heads_file() is not None:
            return ResealResult(False, 0, "Not resealed: this chain was already sealed with the audit key (it has keyed rows "
                                          "or published heads), so the legacy rows in it were not written by the console. "
                                          "`manage.py rolemodel audit verify` names the first of them.")
        report = verify_chain(chunk_size=chunk_size)
        if report.problem != "legacy":
            return ResealResult(False, 0, f"Not resealed: the legacy chain does not verify, and resealing it would hide "
                                          f"that. {report.message}")
        legacy_head, previous, count = head.row_hash, GENESIS, 0
        batch = []
        for values in rows_in_order(chunk_size=chunk_size):
            values = {**values, "chain_version": KEYED, "previous_hash": previous}
            previous = keyed_link_hash(values, key=key)
            batch.append(AuditEvent(id=values["id"], chain_version=KEYED, previous_hash=values["previous_hash"], row_hash=previous))
            count += 1
            if len(batch) >= chunk_size:
                AuditEvent.objects.bulk_update(batch, ["chain_version", "previous_hash", "row_hash"])
                batch = []
        AuditEvent.objects.bulk_update(batch, ["chain_version", "previous_hash", "row_hash"])
        head.row_hash = previous
        head.save(update_fields=["row_hash"])
        event = audit_record(
            actor=actor,
            action=AuditEvent.Action.CHAIN_RESEALED,
            object_type="audit_chain",
            object_repr="audit chain",
            before={"rows": count, "head_hash": legacy_head, "hash": "sha256 (unkeyed)"},
            after={"rows": count, "head_hash": previous, "hash": "hmac-sha256 (audit key)"},
            reason="The legacy chain verified and was resealed under the audit key.",
        )
    return ResealResult(True, count, f"The legacy chain of {count} rows verified and was resealed under the audit key "
                                     f"(recorded as audit row {event.sequence}).")
