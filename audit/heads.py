"""Published chain heads, after CloudTrail's digest files: proof of the chain's state kept elsewhere.

Someone who can rewrite the whole audit table (and even holds the key) can make a new chain that
verifies on its own. They cannot take back what was already published: every head names the then
newest row and its hash, is signed with the audit key, and names the previous head's digest, so
``rolemodel audit verify --heads FILE`` finds a rewritten history by a published row that is not in
it, and a removed head by a gap in the digests.

A head goes to the log, is appended to ``ROLEMODEL_AUDIT_HEAD_FILE`` (one JSON object a line) and,
when ``ROLEMODEL_AUDIT_HEAD_WEBHOOK_URL`` is set, is POSTed there. Publishing never raises into the
work that asked for it: a destination that fails is logged and reported in the result.
"""
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.chain import GENESIS, KEYED_VERSIONS, ROW_COLUMNS, keyed_row_verifies
from audit.keys import audit_key
from audit.models import AuditChainHead, AuditEvent, AuditHeadPublication
from core import safe_json, webhooks

logger = logging.getLogger(__name__)

HEAD_FORMAT = "rolemodel-audit-head/1"
SIGNED_FIELDS = ("format", "published_at", "last_id", "last_sequence", "last_hash", "rows", "previous_digest")


class HeadsFileError(Exception):
    """The heads file cannot be read, or one of its heads is not genuine."""


def _canonical(body: dict) -> bytes:
    return json.dumps({name: body[name] for name in SIGNED_FIELDS}, sort_keys=True, separators=(",", ":")).encode()


def head_signature(body: dict, *, key: bytes) -> str:
    return hmac.new(key, b"rolemodel-audit-head\n" + _canonical(body), hashlib.sha256).hexdigest()


def head_digest(body: dict, signature: str) -> str:
    return hashlib.sha256(_canonical(body) + b"\n" + signature.encode()).hexdigest()


@dataclass
class PublishResult:
    record: dict | None
    line: str = ""
    refused: str = ""
    file_error: str = ""
    webhook_error: str = ""

    @property
    def ok(self) -> bool:
        return self.record is not None and not (self.file_error or self.webhook_error)


def publish_head() -> PublishResult:
    """Sign the chain's newest row and publish it to the log, the heads file and the webhook."""
    key = audit_key()
    path = Path(settings.ROLEMODEL_AUDIT_HEAD_FILE)
    with transaction.atomic():
        # Holding the head row keeps a new row from arriving between reading the newest row and the count,
        # and two publishers from naming the same previous head.
        AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        newest = AuditEvent.objects.filter(sequence__isnull=False).order_by("-sequence").values(*ROW_COLUMNS).first()
        if newest is not None and newest["chain_version"] in KEYED_VERSIONS and not keyed_row_verifies(newest, key):
            refused = (f"Audit head not published: the newest row {newest['sequence']} (id {newest['id']}) does not "
                       "carry the HMAC under the audit key; run `manage.py rolemodel audit verify`.")
            logger.error(refused)
            return PublishResult(None, refused=refused)
        now = timezone.now()
        previous = AuditHeadPublication.objects.order_by("-id").values_list("digest", flat=True).first()
        body = {
            "format": HEAD_FORMAT,
            "published_at": now.isoformat(timespec="microseconds"),
            "last_id": newest["id"] if newest else None,
            "last_sequence": newest["sequence"] if newest else 0,
            "last_hash": newest["row_hash"] if newest else GENESIS,
            "rows": AuditEvent.objects.count(),
            "previous_digest": previous or "",
        }
        signature = head_signature(body, key=key)
        record = {**body, "signature": signature, "digest": head_digest(body, signature)}
        line = json.dumps(record, sort_keys=True, separators=(",", ":"))
        logger.info("Audit chain head: %s", line)
        result = PublishResult(record, line=line)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as heads:
                heads.write(line + "\n")
        except OSError as error:
            # Not recorded either, so the next head links to the last one the file really holds.
            result.file_error = f"Could not append the audit head to {path}: {error.strerror or error}."
            logger.error(result.file_error)
        else:
            AuditHeadPublication.objects.create(
                published_at=now,
                last_id=body["last_id"], last_sequence=body["last_sequence"], last_hash=body["last_hash"],
                rows=body["rows"], previous_digest=body["previous_digest"], signature=signature, digest=record["digest"],
            )
    url = settings.ROLEMODEL_AUDIT_HEAD_WEBHOOK_URL
    if url:
        result.webhook_error = _post_head(url, line)
    return result


def _post_head(url: str, line: str) -> str:
    """POST the head; return "" or what went wrong (logged). Never raises: the head is already in the log and file."""
    problem = webhooks.url_problem(url, setting="ROLEMODEL_AUDIT_HEAD_WEBHOOK_URL")
    if problem:
        error = f"Audit head not sent: {problem}"
        logger.error(error)
        return error
    try:
        webhooks.post(url, line.encode(), headers={"Content-Type": "application/json"},
                      timeout=settings.ROLEMODEL_AUDIT_HEAD_WEBHOOK_TIMEOUT)
    except webhooks.WebhookError as error:
        message = f"Audit head webhook {error}; the head is in the log and the heads file."
        logger.warning(message)
        return message
    return ""


def read_published_heads(path: str | Path, *, key: bytes) -> list[dict]:
    """The heads in a heads file, each checked: its signature, its digest, and that it follows the line before."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise HeadsFileError(f"Cannot read the heads file {path}: {error.strerror or error}.") from None
    heads, previous = [], None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                head = _parsed_head(line, where=f"Line {number} of {path}")
                if not hmac.compare_digest(head_signature(head, key=key), head["signature"]):
                    raise HeadsFileError(f"Line {number} of {path} is not signed with this console's audit key: "
                                         "the head was altered, or written under another key.")
                if head["digest"] != head_digest(head, head["signature"]):
                    raise HeadsFileError(f"Line {number} of {path} has a digest that does not match its content.")
                if previous is not None and head["previous_digest"] != previous["digest"]:
                    raise HeadsFileError(f"Line {number} of {path} does not follow the line before it: a published head "
                                         "is missing between them, or the database's record of heads was rewritten.")
                heads.append(head)
                previous = head
        except UnicodeDecodeError:
            raise HeadsFileError(f"The heads file {path} is not UTF-8 text.") from None
    return heads


def _parsed_head(line: str, *, where: str) -> dict:
    try:
        head = safe_json.loads(line)
    except ValueError:
        raise HeadsFileError(f"{where} is not a JSON object.") from None
    expected = {"format": str, "published_at": str, "last_id": (int, type(None)), "last_sequence": int, "last_hash": str,
                "rows": int, "previous_digest": str, "signature": str, "digest": str}
    if not isinstance(head, dict) or head.get("format") != HEAD_FORMAT:
        raise HeadsFileError(f"{where} is not a {HEAD_FORMAT} head.")
    for name, kind in expected.items():
        if not isinstance(head.get(name), kind) or isinstance(head.get(name), bool):
            raise HeadsFileError(f"{where} lacks a valid {name!r}.")
    return head


def last_publication() -> AuditHeadPublication | None:
    return AuditHeadPublication.objects.order_by("-id").first()
