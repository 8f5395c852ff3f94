"""What both benchmark scripts share: a throw-away database, console users, figures and tables.

Import this module before anything from Django: :func:`configure` sets the environment the
settings module reads, then calls ``django.setup()``.
"""
from __future__ import annotations

import os
import signal
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR_DIR = ROOT / "var" / "bench"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def refuse(message: str):
    """Stop with a message for the person running the benchmark (exit status 2)."""
    print(f"bench: {message}", file=sys.stderr)
    raise SystemExit(2)


def configure(name: str) -> str:
    """Point Django at the benchmark's own database and set it up; returns a description of the database.

    SQLite by default (``var/bench/<name>.sqlite3``, deleted first). ``DATABASE_URL`` from the
    environment benchmarks another database, which is wiped: its name must contain "bench".
    """
    BENCH_VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Never the demo's or the tests' var dir: secret key, Celery folders and SQLite live here.
    os.environ["ROLEMODEL_VAR_DIR"] = str(BENCH_VAR_DIR)
    external_url = os.environ.get("DATABASE_URL", "")
    if external_url:
        database_name = urlsplit(external_url).path.lstrip("/")
        if "bench" not in database_name:
            refuse(
                f"DATABASE_URL names the database {database_name!r}; the benchmark wipes the database it uses, "
                "so its name must contain 'bench' (e.g. postgres://postgres@127.0.0.1:5432/rm_bench)."
            )
    else:
        sqlite_file = BENCH_VAR_DIR / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{sqlite_file}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "rolemodel_site.settings"
    # The test client speaks plain HTTP and there is no collectstatic here.
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["ROLEMODEL_MANIFEST_STATIC"] = "false"
    os.environ["STATIC_ROOT"] = str(BENCH_VAR_DIR / "staticfiles")
    (BENCH_VAR_DIR / "staticfiles").mkdir(exist_ok=True)
    # Tasks that services send after commit stay in this process's memory: the scripts call the engine themselves.
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # A SIGTERM should run the scripts' cleanup (finally blocks) like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    import django

    django.setup()
    from django.db import connection

    if connection.vendor == "postgresql":
        _create_postgresql_database_if_missing()
        return f"PostgreSQL database {connection.settings_dict['NAME']} (wiped)"
    return f"SQLite {connection.settings_dict['NAME']} (journal mode WAL, new file)"


def _create_postgresql_database_if_missing() -> None:
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as error:
        if "does not exist" not in str(error):
            raise
        name = connection.settings_dict["NAME"]
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')


def fresh_database() -> float:
    """Migrate and empty every table (console groups recreated); returns the seconds it took."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from core.permissions import CONSOLE_GROUPS

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    for name in CONSOLE_GROUPS:
        Group.objects.get_or_create(name=name)
    return time.perf_counter() - started


def console_user(username: str, *groups: str):
    """A console user in ``groups``, without a usable password (the scripts log in with force_login)."""
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username=username, email=f"{username}@example.com")
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@contextmanager
def stopwatch(timings: dict, label: str):
    """Add the seconds the block takes to ``timings[label]``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[label] = timings.get(label, 0.0) + time.perf_counter() - started


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    """The 95th percentile (nearest rank): with few samples, the slowest one."""
    ordered = sorted(samples)
    rank = max(1, -(-95 * len(ordered) // 100))
    return ordered[rank - 1] * 1000


def print_header(title: str) -> None:
    print()
    print(title)
    print("=" * len(title))


def print_table(headers: list[str], rows: list[list], *, right: set[int] | None = None) -> None:
    """A plain-text table; columns in ``right`` (by index, default: all but the first) align right."""
    right = set(range(1, len(headers))) if right is None else right
    cells = [[str(value) for value in row] for row in rows]
    widths = [max([len(headers[i])] + [len(row[i]) for row in cells]) for i in range(len(headers))]

    def line(values):
        return "  ".join(value.rjust(widths[i]) if i in right else value.ljust(widths[i]) for i, value in enumerate(values))

    print(line(headers))
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print(line(row))
    sys.stdout.flush()
