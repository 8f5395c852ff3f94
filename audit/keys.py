"""The audit chain's HMAC key: a setting or a file, never a database column, never printed.

Whoever can write to the database but cannot read this key can no longer make an edited history
verify again. The file is created on first use, mode 0600, the way settings.py makes a development
``SECRET_KEY``; keep a copy of it with the backups, since without it no row verifies.
"""
import functools
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_KEY_LENGTH = 32


def audit_key() -> bytes:
    configured = getattr(settings, "ROLEMODEL_AUDIT_KEY", "")
    if configured:
        return _checked(configured.encode(), "ROLEMODEL_AUDIT_KEY")
    return _key_from_file(str(settings.ROLEMODEL_AUDIT_KEY_FILE))


@functools.lru_cache(maxsize=8)
def _key_from_file(path: str) -> bytes:
    key_file = Path(path)
    if not key_file.exists():
        _create_key_file(key_file)
    try:
        key = key_file.read_bytes().strip()
    except OSError as error:
        raise ImproperlyConfigured(f"Cannot read the audit key file {path}: {error.strerror}.") from None
    return _checked(key, f"The audit key file {path}")


def _create_key_file(key_file: Path) -> None:
    """Write a new random key without ever exposing a half-written or world-readable file.

    The key goes to a private temporary file that is then hard-linked into place: when two processes
    start at once, the link fails for the second one, which then reads the first one's key.
    """
    key_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temporary, key_file)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


def _checked(key: bytes, where: str) -> bytes:
    if len(key) < MIN_KEY_LENGTH:
        raise ImproperlyConfigured(f"{where} must hold at least {MIN_KEY_LENGTH} characters of secret (it holds {len(key)}).")
    return key
