"""The files a console process keeps on its own disk (under ``ROLEMODEL_VAR_DIR``), made when a
process first needs them and never when the settings are read: tools and tests import the settings
to read values, and an import that writes would leave folders wherever it ran.

* The development ``SECRET_KEY`` (when none is set) is made on first use, as the audit key is.
* SQLite's folder is made by :class:`rolemodel_site.apps.SiteConfig` when a process starts Django.
* The file broker's folders are made by its channel (``rolemodel_site/file_broker.py``).
"""
from __future__ import annotations

from pathlib import Path


def development_secret_key(var_dir: Path) -> str:
    """A development key that is stable per checkout and never committed: read from ``var_dir``,
    written there (mode 0600) by the first process that needs it."""
    key_file = Path(var_dir) / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(get_random_secret_key() + get_random_secret_key())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def create_database_folders(databases: dict) -> None:
    """The folder of every SQLite database file (and of its test database), so the first connection can create it."""
    for database in databases.values():
        if database.get("ENGINE", "").endswith("sqlite3"):
            for name in (database.get("NAME"), database.get("TEST", {}).get("NAME")):
                if name and str(name) != ":memory:" and not str(name).startswith("file:"):
                    Path(name).parent.mkdir(parents=True, exist_ok=True)
