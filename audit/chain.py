"""The audit history as a hash chain: editing, removing or reordering a row breaks it visibly.

Row *n* stores ``sequence = n``, the hash of row *n − 1* and its own hash over both plus its
content. :func:`verify_chain` recomputes every hash in order and names the first row that does
not fit; the chain head (the newest sequence and hash) also catches rows cut off the end.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from audit.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
HASHED_FIELDS = ("sequence", "created_at", "actor_name", "source", "action", "object_type", "object_id",
                 "object_repr", "before", "after", "reason")


def event_content(values: dict) -> str:
    content = {name: values[name] for name in HASHED_FIELDS}
    content["created_at"] = values["created_at"].isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def link_hash(previous_hash: str, values: dict) -> str:
    return hashlib.sha256((previous_hash + "\n" + event_content(values)).encode()).hexdigest()


def chain_link(event: AuditEvent) -> None:
    """Give an unsaved event its place in the chain. Call inside the transaction that saves it."""
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    event.sequence = head.sequence + 1
    event.previous_hash = head.row_hash or GENESIS
    event.row_hash = link_hash(event.previous_hash, {name: getattr(event, name) for name in HASHED_FIELDS})
    head.sequence, head.row_hash = event.sequence, event.row_hash
    head.save(update_fields=["sequence", "row_hash"])


@dataclass
class ChainReport:
    ok: bool
    rows: int
    message: str
    first_bad_sequence: int | None = None
    first_bad_id: int | None = None


def verify_chain() -> ChainReport:
    """Walk the chain from the first row; report the first row that was edited, removed or inserted."""
    expected_sequence, previous_hash, rows = 1, GENESIS, 0
    fields = ("id", "previous_hash", "row_hash", *HASHED_FIELDS)
    unchained = AuditEvent.objects.filter(sequence__isnull=True).order_by("id").values_list("id", flat=True).first()
    if unchained is not None:
        return ChainReport(False, 0, f"Audit row id {unchained} is not part of the chain: it was inserted outside the console.",
                           first_bad_id=unchained)
    for values in AuditEvent.objects.order_by("sequence").values(*fields).iterator(chunk_size=2000):
        sequence = values["sequence"]
        if sequence != expected_sequence:
            missing = f"row {expected_sequence}" if sequence == expected_sequence + 1 else f"rows {expected_sequence}–{sequence - 1}"
            return ChainReport(False, rows, f"Audit {missing} removed (the chain jumps to row {sequence}, id {values['id']}).",
                               first_bad_sequence=expected_sequence, first_bad_id=values["id"])
        if values["previous_hash"] != previous_hash or link_hash(previous_hash, values) != values["row_hash"]:
            return ChainReport(False, rows, f"Audit row {sequence} (id {values['id']}) was edited or inserted out of order.",
                               first_bad_sequence=sequence, first_bad_id=values["id"])
        previous_hash, expected_sequence, rows = values["row_hash"], sequence + 1, rows + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.sequence != rows or (rows and head.row_hash != previous_hash)):
        return ChainReport(False, rows, f"The chain ends at row {rows} but its head says {head.sequence}: "
                                        "the newest rows were removed.", first_bad_sequence=rows + 1)
    return ChainReport(True, rows, f"All {rows} audit rows verify.")


VERIFY_CACHE_SECONDS = 60


def recent_chain_report(*, fresh: bool = False) -> tuple[ChainReport, datetime]:
    """The chain's verification, recomputed at most once a minute unless ``fresh`` (a full walk is O(rows))."""
    cached = None if fresh else cache.get("audit-chain-report")
    if cached is None:
        cached = (verify_chain(), timezone.now())
        cache.set("audit-chain-report", cached, VERIFY_CACHE_SECONDS)
    return cached
