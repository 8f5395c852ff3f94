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


# --- a long, valid audit chain, fast (bench/audit_scale.py; any script that needs audit rows) ---

AUDIT_SEED_BATCH = 5_000
AUDIT_SEED_SPACING = 30  # seconds between seeded rows (a million rows: about a year); every third pair shares one


def seed_audit_chain(count: int, *, actors: list, batch_size: int = AUDIT_SEED_BATCH, progress=None) -> None:
    """Append ``count`` audit rows that verify to the chain, a batch at a time.

    Each row is sealed as ``audit.chain.append_event`` seals it (its sequence, the previous row's hash
    and the HMAC under the audit key, by ``audit.chain``'s own functions), but the ids are chosen here
    rather than read back after each insert, and the rows go in by COPY on PostgreSQL (executemany
    elsewhere) rather than through model instances: a million rows in minutes, not hours. Rows
    continue the existing chain and its timeline: calling it again extends both. ``actors`` are
    console users; ``progress(rows seeded)`` is called after each batch.
    """
    from datetime import timedelta

    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from audit.chain import GENESIS, KEYED, ROW_COLUMNS, keyed_link_hash
    from audit.keys import audit_key
    from audit.models import AuditChainHead, AuditEvent

    key = audit_key()
    head, _ = AuditChainHead.objects.get_or_create(pk=1)
    sequence, previous_hash = head.sequence, head.row_hash or GENESIS
    next_id = (AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    newest = AuditEvent.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    # A first call's rows end now; a later call's go on at the same pace (past now: no page minds).
    start = (newest - timedelta(seconds=AUDIT_SEED_SPACING * sequence) if newest
             else timezone.now() - timedelta(seconds=AUDIT_SEED_SPACING * (sequence + count)))
    kinds, done = _AUDIT_SEED_KINDS, 0
    while done < count:
        batch = []
        for _ in range(min(batch_size, count - done)):
            sequence += 1
            number = sequence  # the row's place in the whole history: what its content is derived from
            object_type, action = kinds[number % len(kinds)]
            actor = actors[number % len(actors)]
            row = {
                "id": next_id, "sequence": sequence, "chain_version": KEYED, "previous_hash": previous_hash,
                # Rows 3k+1 and 3k+2 share a timestamp: the list's cursor must tell them apart by id.
                "created_at": start + timedelta(seconds=AUDIT_SEED_SPACING * (number - number % 3 // 2)),
                "actor_id": actor.pk, "actor_name": actor.username, "source": AuditEvent.Source.WEB,
                "action": action, "object_type": object_type, "object_id": str(number % 2_000),
                "object_repr": _seed_repr(object_type, number),
                "before": {"reason": "old", "value": number - 1} if action == "update" else None,
                "after": {"reason": "Benchmark change", "value": number} if action != "delete" else None,
                "reason": f"Ticket OPS-{number % 5_000}", "parent_type": "", "parent_id": "",
            }
            row["row_hash"] = previous_hash = keyed_link_hash(row, key=key)
            batch.append(row)
            next_id += 1
        with transaction.atomic():
            _insert_rows(AuditEvent, ROW_COLUMNS, batch)
            AuditChainHead.objects.filter(pk=1).update(sequence=sequence, row_hash=previous_hash)
        done += len(batch)
        if progress is not None:
            progress(done)
    # Ids were given, not drawn: the table's id sequence must move past them for the console's own rows.
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [AuditEvent]):
            cursor.execute(statement)


def _insert_rows(model, columns: tuple[str, ...], rows: list[dict]) -> None:
    """Insert ``rows`` (column → Python value) as they are: COPY on PostgreSQL, executemany elsewhere."""
    import json

    from django.db import connection

    fields = [model._meta.get_field(name) for name in columns]
    postgresql = connection.vendor == "postgresql"
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(field.column) for field in fields)

    def converter(field):
        if field.get_internal_type() == "JSONField":
            return lambda value: None if value is None else json.dumps(value)
        if field.get_internal_type() == "DateTimeField" and not postgresql:
            return connection.ops.adapt_datetimefield_value
        return None

    plan = [(name, converter(field)) for name, field in zip(columns, fields)]

    def cells(row):
        return tuple(convert(row[name]) if convert else row[name] for name, convert in plan)

    with connection.cursor() as cursor:
        if postgresql:
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(cells(row))
        else:
            cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(fields))})",
                               [cells(row) for row in rows])


_AUDIT_SEED_KINDS = (
    ("membership", "create"), ("membership", "delete"), ("IAM user", "create"), ("role", "update"),
    ("policy", "update"), ("account", "update"), ("plan", "plan_requested"), ("plan", "apply_succeeded"),
    ("console user", "login"),
)


def _seed_repr(object_type: str, number: int) -> str:
    if object_type == "membership":
        return f"user{number % 2_000:04d} in acct{number % 50:02d}.Role{number % 10:02d}"
    if object_type in ("role", "policy"):
        return f"Role{number % 10:02d}" + ("/Access" if object_type == "policy" else "")
    if object_type == "account":
        return f"acct{number % 50:02d}"
    return f"{object_type} #{number}"


def audit_cursor_at_page(page: int) -> str:
    """The ``after`` cursor that opens page ``page`` of the unfiltered audit list (50 rows a page):
    what following "older" ``page - 1`` times reaches. Found with one OFFSET query, outside any timing."""
    from audit.models import AuditEvent
    from audit.selectors import PAGE_SIZE, Cursor

    if page <= 1:
        return ""
    # A history shorter than ``page`` pages: its last page.
    depth = min((page - 1) * PAGE_SIZE, max(AuditEvent.objects.count() - 1, 0) // PAGE_SIZE * PAGE_SIZE)
    if depth == 0:
        return ""
    row = AuditEvent.objects.order_by("-created_at", "-id")[depth - 1]
    return Cursor.of(row).token
