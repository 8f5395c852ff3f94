"""No secret reaches a log: every log record's message is scrubbed as the record is made.

Our own code logs no credentials, but botocore at DEBUG (an operator may turn it on) writes signed
requests (``x-amz-security-token``) and raw STS responses (``<SecretAccessKey>``, ``<SessionToken>``).
A log record factory works whatever handlers a process has (Django's, Celery's, pytest's), which a
handler filter would not. Installed once per process by ``core/apps.py``.
"""
import logging
import re

REDACTED = "[redacted]"
_SECRET_NAMES = (
    r"(?:secret_?access_?key|secret_?key|session_?token|security-?token|client_?secret"
    r"|(?:access|id|refresh)_?token|password|signature)"
)
_NAMED = re.compile(_SECRET_NAMES, re.IGNORECASE)
# <SecretAccessKey>value</SecretAccessKey>
_ELEMENT = re.compile(rf"<({_SECRET_NAMES})>[^<]*</", re.IGNORECASE)
# x-amz-security-token:value   'X-Amz-Security-Token': b'value'   "SessionToken": "value"   password=value
# and the same inside escaped JSON (a JSON document logged as a string): {\"SessionToken\": \"value\"}.
# A quote may carry any number of escaping backslashes; the value ends at a quote, escaped or not, so an
# escaped closing quote does not let the rest of the line (or the next secret) through unredacted.
_QUOTE = r"(?:\\*['\"])"
_ASSIGNMENT = re.compile(
    rf"({_SECRET_NAMES}{_QUOTE}?[ \t]*[:=]\s*b?{_QUOTE}?)(?:[^'\"\s,&}}<>\\]|\\(?![\\'\"]))+", re.IGNORECASE
)


def redact(text: str) -> str:
    if not _NAMED.search(text):
        return text
    text = _ELEMENT.sub(lambda match: f"<{match.group(1)}>{REDACTED}</", text)
    return _ASSIGNMENT.sub(lambda match: match.group(1) + REDACTED, text)


def install() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_secrets", False):
        return

    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging itself reports it when the record is emitted
            return record
        scrubbed = redact(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return record

    make_record.redacts_secrets = True
    logging.setLogRecordFactory(make_record)
