"""The audit history as a keyed hash chain: editing, removing, reordering or re-hashing a row shows.

Row *n* stores ``sequence = n``, the hash of row *n − 1* and its own hash: an HMAC-SHA256, under a
key kept outside the database (audit/keys.py), over every column of the row but the hash itself
(``KEYED_FIELDS``). Someone who can write to the database but cannot read the key can change rows
and recompute plain hashes, but not the HMAC: :func:`verify_chain` then says the rows were
"recomputed without the key (forged)" rather than that all is well.

Rows written before the key existed carry ``chain_version = 1`` and the first, unkeyed hash
(``legacy_link_hash``); after an upgrade audit/reseal.py verifies them and reseals them under the
key. A truncated and rewritten history, even one rewritten with the key, is caught against the
heads published outside the database (audit/heads.py).
"""
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from audit.keys import audit_key
from audit.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
LEGACY, KEYED_V2, KEYED = 1, 2, 3

# What version 1 hashed. Frozen: the legacy rows were sealed with exactly this.
LEGACY_FIELDS = ("sequence", "created_at", "actor_name", "source", "action", "object_type", "object_id",
                 "object_repr", "before", "after", "reason")
# What version 2 covered: every column before the parent link came. Frozen, as version 1's: the rows
# sealed as version 2 keep verifying under exactly this, whatever columns came later.
KEYED_V2_FIELDS = ("id", "sequence", "chain_version", "previous_hash", "created_at", "actor_id", "actor_name", "source",
                   "action", "object_type", "object_id", "object_repr", "before", "after", "reason")
# Every column of AuditEvent but the hash itself (version 3, what the console writes now);
# tests/test_audit_keyed_chain.py fails when the model gains a field this list lacks. A new column
# needs a new chain version (old rows were sealed without it).
KEYED_FIELDS = (*KEYED_V2_FIELDS, "parent_type", "parent_id")
# Keyed chain version → the columns its HMAC covers.
KEYED_VERSIONS = {KEYED_V2: KEYED_V2_FIELDS, KEYED: KEYED_FIELDS}
NOT_HASHED = ("row_hash",)
ROW_COLUMNS = (*KEYED_FIELDS, "row_hash")

VERIFY_CHUNK_SIZE = 2000


def _canonical(values: dict, names: tuple[str, ...]) -> str:
    content = {name: values[name] for name in names}
    content["created_at"] = values["created_at"].isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def legacy_link_hash(previous_hash: str, values: dict) -> str:
    return hashlib.sha256((previous_hash + "\n" + _canonical(values, LEGACY_FIELDS)).encode()).hexdigest()


def _keyed_message(values: dict) -> bytes:
    """The message of a keyed row's HMAC, under the version the row carries (the version is inside it too)."""
    version = values["chain_version"]
    return (f"rolemodel-audit/{version}\n" + _canonical(values, KEYED_VERSIONS[version])).encode()


def keyed_link_hash(values: dict, *, key: bytes) -> str:
    return hmac.new(key, _keyed_message(values), hashlib.sha256).hexdigest()


def _unkeyed_hashes(values: dict) -> set[str]:
    """What someone without the key can compute for a row: the legacy hash, or the keyed message hashed plainly."""
    return {legacy_link_hash(values["previous_hash"], values), hashlib.sha256(_keyed_message(values)).hexdigest()}


def keyed_row_verifies(values: dict, key: bytes) -> bool:
    return values["chain_version"] in KEYED_VERSIONS and hmac.compare_digest(keyed_link_hash(values, key=key),
                                                                             values["row_hash"])


def _values_of(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in ROW_COLUMNS}


def append_event(event: AuditEvent) -> None:
    """Save an unsaved event as the chain's newest link. Call inside the transaction that makes the change.

    The row is inserted first and sealed right after, in the same transaction, so that the HMAC can
    cover its id too; the locked head row makes the links one at a time.
    """
    key = audit_key()  # a missing or unreadable key fails before anything is written
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    event.sequence = head.sequence + 1
    event.previous_hash = head.row_hash or GENESIS
    event.chain_version = KEYED
    event.save()
    event.row_hash = keyed_link_hash(_values_of(event), key=key)
    AuditEvent.objects.filter(pk=event.pk).update(row_hash=event.row_hash)
    head.sequence, head.row_hash = event.sequence, event.row_hash
    head.save(update_fields=["sequence", "row_hash"])


@dataclass
class ChainReport:
    ok: bool
    rows: int
    message: str
    first_bad_sequence: int | None = None
    first_bad_id: int | None = None
    # "", or what was found: edited, removed, inserted, forged (recomputed without the key), legacy
    # (rows still under the unkeyed hash), rewritten (a published head is missing), heads (the heads file).
    problem: str = ""
    heads_checked: int = 0
    last_hash: str = ""  # an intact chain's newest hash: where a later check can resume (``verify_chain(resume=…)``)
    resumed_after: int = 0  # rows 1..this were verified by an earlier full walk, not by this check

    @property
    def forged(self) -> bool:
        return self.problem == "forged"


def rows_in_order(*, chunk_size: int = VERIFY_CHUNK_SIZE, columns: tuple[str, ...] = ROW_COLUMNS, after: int = 0):
    """Chained rows by sequence from ``after + 1``, ``chunk_size`` at a time (keyset pagination): memory stays bounded."""
    last = after
    while True:
        chunk = list(AuditEvent.objects.filter(sequence__gt=last).order_by("sequence").values(*columns)[:chunk_size])
        yield from chunk
        if len(chunk) < chunk_size:
            return
        last = chunk[-1]["sequence"]


def verify_chain(*, heads_file: str | Path | None = None, chunk_size: int = VERIFY_CHUNK_SIZE,
                 progress: Callable[[int, int], None] | None = None, resume: ChainReport | None = None) -> ChainReport:
    """Walk the chain from the first row; report the first row that was edited, removed, inserted or forged.

    With ``heads_file`` (published heads, audit/heads.py) the chain must also contain every published
    head: a history truncated and written again from scratch does not. Rows are read ``chunk_size``
    at a time, so memory stays the same for any length; ``progress(rows verified, rows in the chain)``
    is called after each chunk.

    ``resume``, an earlier report of an intact chain, checks only the rows written since, from its
    newest row (which must still carry the hash it had): what the audit page does between full walks.
    """
    from audit.heads import HeadsFileError, read_published_heads

    try:
        key = audit_key()
    except ImproperlyConfigured as error:
        return ChainReport(False, 0, f"The chain cannot be verified: {error}", problem="key")
    published: dict[int, list[dict]] = {}
    heads_checked = 0
    if heads_file is not None:
        try:
            heads = read_published_heads(heads_file, key=key)
        except HeadsFileError as error:
            return ChainReport(False, 0, str(error), problem="heads")
        for head in heads:
            if head["last_sequence"]:
                published.setdefault(head["last_sequence"], []).append(head)
        heads_checked = len(heads)

    unchained = AuditEvent.objects.filter(sequence__isnull=True).order_by("id").values_list("id", flat=True).first()
    if unchained is not None:
        return ChainReport(False, 0, f"Audit row id {unchained} is not part of the chain: it was inserted outside the console.",
                           first_bad_id=unchained, problem="inserted")

    expected_sequence, previous_hash, rows, legacy_rows, keyed_seen = 1, GENESIS, 0, 0, False
    resumed_after = 0
    if resume is not None and resume.ok and resume.rows and resume.last_hash and (
            AuditEvent.objects.filter(sequence=resume.rows).values_list("row_hash", flat=True).first() == resume.last_hash):
        resumed_after = rows = resume.rows
        expected_sequence, previous_hash, keyed_seen = rows + 1, resume.last_hash, True
    # The head's count, not COUNT(*): counting would read the table once more just to say how far along we are.
    total = AuditChainHead.objects.filter(pk=1).values_list("sequence", flat=True).first() or 0
    for values in rows_in_order(chunk_size=chunk_size, after=resumed_after):
        if progress is not None and rows and rows % chunk_size == 0:
            progress(rows, max(total, rows))
        sequence, row_id = values["sequence"], values["id"]
        where = f"Audit row {sequence} (id {row_id})"
        if sequence != expected_sequence:
            missing = f"row {expected_sequence}" if sequence == expected_sequence + 1 else f"rows {expected_sequence}–{sequence - 1}"
            return ChainReport(False, rows, f"Audit {missing} removed (the chain jumps to row {sequence}, id {row_id}).",
                               first_bad_sequence=expected_sequence, first_bad_id=row_id, problem="removed")
        if values["previous_hash"] != previous_hash:
            return _bad(values, rows, "inserted", f"{where} was inserted or moved: it does not link to the row before it.")
        if values["chain_version"] == LEGACY:
            if keyed_seen or values["action"] == AuditEvent.Action.CHAIN_RESEALED:
                return _bad(values, rows, "forged", f"{where} was recomputed without the key (forged): it carries "
                                                    "the legacy unkeyed hash, but the chain was sealed with the key before it.")
            if legacy_link_hash(previous_hash, values) != values["row_hash"]:
                return _bad(values, rows, "edited", f"{where} was edited (a legacy row, sealed before the audit key existed).")
            legacy_rows += 1
        elif keyed_row_verifies(values, key):
            keyed_seen = True
        else:
            return _bad_keyed_row(values, key, rows)
        for head in published.get(sequence, ()):
            if head["last_hash"] != values["row_hash"] or head["last_id"] != row_id:
                return _bad(values, rows, "rewritten",
                            f"{where} is not the row named by the head published at {head['published_at']} (id "
                            f"{head['last_id']}, hash {head['last_hash'][:16]}…): the history up to here was truncated "
                            "and written again.")
        previous_hash, expected_sequence, rows = values["row_hash"], sequence + 1, rows + 1

    if progress is not None:
        progress(rows, max(total, rows))
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None and rows:
        return ChainReport(False, rows, f"The chain's head record is missing (it is written with the first row): "
                                        f"rows after row {rows} may have been removed.", first_bad_sequence=rows + 1,
                           problem="removed")
    if head is not None and (head.sequence != rows or (rows and head.row_hash != previous_hash)):
        return ChainReport(False, rows, f"The chain ends at row {rows} but its head says {head.sequence}: "
                                        "the newest rows were removed.", first_bad_sequence=rows + 1, problem="removed")
    beyond = [heads[0] for sequence, heads in sorted(published.items()) if sequence > rows]
    if beyond:
        return ChainReport(False, rows, f"The head published at {beyond[0]['published_at']} names row {beyond[0]['last_sequence']}, "
                                        f"but the chain ends at row {rows}: rows were removed or the history was rewritten.",
                           first_bad_sequence=rows + 1, problem="rewritten", heads_checked=heads_checked)
    if legacy_rows:
        return ChainReport(False, rows, f"All {rows} audit rows link, but rows 1–{legacy_rows} still carry the legacy unkeyed "
                                        "hash that anyone who can write to the database can recompute: run "
                                        "`manage.py rolemodel audit reseal`.", first_bad_sequence=1, problem="legacy")
    against = f", and the chain contains each of the {heads_checked} published heads" if heads_file is not None else ""
    message = f"All {rows} audit rows verify under the audit key{against}."
    if resumed_after:
        message = (f"All {rows} audit rows verify under the audit key{against}: rows 1–{resumed_after} at the last full "
                   f"check, the {rows - resumed_after} since then now.")
    return ChainReport(True, rows, message, heads_checked=heads_checked, last_hash=previous_hash if rows else "",
                       resumed_after=resumed_after)


def _bad(values: dict, rows: int, problem: str, message: str) -> ChainReport:
    return ChainReport(False, rows, message, first_bad_sequence=values["sequence"], first_bad_id=values["id"], problem=problem)


def _bad_keyed_row(values: dict, key: bytes, rows: int) -> ChainReport:
    """Tell an edited row from a re-hashed one: an edit leaves the old hash, which the next row still
    links to and which stays a valid HMAC for that next row; a forger must rewrite the hashes onward."""
    sequence = values["sequence"]
    where = f"Audit row {sequence} (id {values['id']})"
    if values["chain_version"] not in KEYED_VERSIONS:
        return _bad(values, rows, "edited", f"{where} was edited: it claims chain version {values['chain_version']!r}, "
                                            "which the console never writes.")
    if values["row_hash"] in _unkeyed_hashes(values):
        return _bad(values, rows, "forged", f"{where} was recomputed without the key (forged): its hash is a plain "
                                            "SHA-256 of its content, not the HMAC under the audit key.")
    following = AuditEvent.objects.filter(sequence=sequence + 1).values(*ROW_COLUMNS).first()
    if following is not None and following["previous_hash"] == values["row_hash"] and not keyed_row_verifies(following, key):
        return _bad(values, rows, "forged", f"{where} and the rows after it were recomputed without the key (forged): "
                                            "they link to each other, but none carries the HMAC under the audit key (or "
                                            "this console does not have the key that sealed them).")
    return _bad(values, rows, "edited", f"{where} was edited.")


VERIFY_CACHE_SECONDS = 60


def default_heads_file() -> Path | None:
    """The configured heads file, when heads have been published to it."""
    path = Path(settings.ROLEMODEL_AUDIT_HEAD_FILE)
    return path if path.is_file() else None


def recent_chain_report(*, fresh: bool = False) -> tuple[ChainReport, datetime]:
    """The chain's verification for the audit page: at most once a minute unless ``fresh``.

    A full walk reads every row (minutes at a million); between full walks, which happen every
    ``ROLEMODEL_AUDIT_FULL_VERIFY_MINUTES`` or on ``fresh`` ("verify now"), only the rows written
    since the last full walk are checked, from its newest row on. ``rolemodel audit verify`` always walks all.
    """
    cached = None if fresh else cache.get("audit-chain-report")
    if cached is None:
        full = None if fresh else cache.get("audit-chain-full")
        heads_file = default_heads_file()
        if full is None:
            cached = (verify_chain(heads_file=heads_file), timezone.now())
            if cached[0].ok:
                cache.set("audit-chain-full", cached[0], settings.ROLEMODEL_AUDIT_FULL_VERIFY_MINUTES * 60)
        else:
            cached = (verify_chain(heads_file=heads_file, resume=full), timezone.now())
        cache.set("audit-chain-report", cached, VERIFY_CACHE_SECONDS)
    return cached
