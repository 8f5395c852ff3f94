"""How fast the main pages answer with a large desired state and a long audit history.

    .venv/bin/python bench/pages.py [--quick] [--runs N] [--members N] [--audit-rows N] [--json]

Seeds its own database (SQLite in var/bench/pages.sqlite3, or DATABASE_URL from the
environment, whose database name must contain "bench") with 50 accounts x 10 roles, 2,000 IAM
users, 5,000 memberships and 100,000 audit rows (``--members`` and ``--audit-rows`` change the
last two; the IAM users are two fifths of the memberships), straight through bulk_create. Then
requests each page with the test client, logged in as a Viewer, and prints its status, SQL
queries, size, median and 95th percentile. The first request of each page is a warm-up (template
loading) and is where the queries are counted; it is not timed. With ``--json`` the tables go to
stderr and stdout holds one JSON object: ``{"database", "seed", "pages": {name: {status, queries,
kb, median_ms, p95_ms}}}``.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402  (sets up Django; must come before Django imports)

ACCOUNTS, ROLES = 50, 10
MEMBERSHIPS, AUDIT_ROWS, PLANS = 5_000, 100_000, 200
# The users at or near the limit of 10 groups (as many at 9), when there are enough memberships.
HEAVY_USERS = 50
MASTER_ACCOUNT_ID = "111111111111"
BATCH = 2_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 requests per page instead of 20")
    parser.add_argument("--runs", type=int, help="requests per page (overrides --quick)")
    parser.add_argument("--members", type=int, default=MEMBERSHIPS, metavar="N",
                        help=f"memberships to seed (default {MEMBERSHIPS:,}); IAM users: two fifths of that")
    parser.add_argument("--audit-rows", type=int, default=AUDIT_ROWS, metavar="N",
                        help=f"audit rows to seed, over two years (default {AUDIT_ROWS:,})")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object on stdout (pages: status, queries, kb, median_ms, p95_ms); tables to stderr")
    args = parser.parse_args()
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.members < 1 or args.members > MEMBERSHIPS_MAX:
        parser.error(f"--members must be between 1 and {MEMBERSHIPS_MAX:,}")
    if args.audit_rows < 0:
        parser.error("--audit-rows must be 0 or more")
    args.runs = args.runs or (3 if args.quick else 20)
    return args


# --- seeding (bulk, no services: the pages are measured, not the edits) ---------------------


def iam_users_for(memberships: int) -> int:
    """Two fifths of the memberships (2,000 IAM users for 5,000), at least one."""
    return max(1, memberships * 2 // 5)


# What one process seeds comfortably in memory (the rows are built in lists before bulk_create).
MEMBERSHIPS_MAX = 2_000_000


def seed_memberships_per_user(rng: random.Random, memberships: int) -> list[int]:
    """How many groups each IAM user is in, ``memberships`` in all: 50 users at the limit of 10, 50 at 9,
    the rest spread evenly (for 5,000: 250 at 3 and 1,650 at 2)."""
    iam_users = iam_users_for(memberships)
    heavy = min(HEAVY_USERS, iam_users // 40, memberships // 40)
    counts = [10] * heavy + [9] * heavy
    others = iam_users - len(counts)
    base, extra = divmod(memberships - sum(counts), others)
    counts += [base + 1] * extra + [base] * (others - extra)
    assert len(counts) == iam_users and sum(counts) == memberships and max(counts) <= 10
    rng.shuffle(counts)
    return counts


def seed(timings: dict, *, memberships: int, audit_rows: int) -> dict:
    from django.contrib.auth.models import User

    from accounts.models import AssumableAccount, MasterAccount
    from core.permissions import ADMIN, APPROVER, EDITOR, VIEWER
    from memberships.models import IAMUser, Membership
    from plans.models import Plan
    from roles.models import InlinePolicy, RoleDefinition

    from django.utils import timezone

    rng = random.Random(20240501)
    now = timezone.now()

    with _setup.stopwatch(timings, "console users, master, accounts, roles"):
        viewer = _setup.console_user("vera", VIEWER)
        editors = [_setup.console_user(name, EDITOR) for name in ("eddie", "erin")]
        _setup.console_user("april", APPROVER)
        _setup.console_user("ada", ADMIN)
        MasterAccount.objects.update_or_create(
            id=1, defaults={"account_id": MASTER_ACCOUNT_ID, "profile": "master", "group_quota": 500}
        )
        accounts = AssumableAccount.objects.bulk_create(
            AssumableAccount(name=f"acct{index:02d}", account_id=f"{200000000000 + index}", profile=f"acct{index:02d}",
                             description=f"Benchmark account {index}")
            for index in range(ACCOUNTS)
        )
        roles = RoleDefinition.objects.bulk_create(
            RoleDefinition(logical_name=f"Role{index:02d}", description=f"Benchmark role {index}",
                           tags={"team": f"team-{index % 4}"})
            for index in range(ROLES)
        )
        InlinePolicy.objects.bulk_create(
            InlinePolicy(role=role, name=f"{role.logical_name}-Access", document={
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "ec2:Describe*"], "Resource": "*"}],
            })
            for role in roles
        )

    iam_user_count = iam_users_for(memberships)
    with _setup.stopwatch(timings, f"{iam_user_count:,} IAM users"):
        iam_users = IAMUser.objects.bulk_create(
            (IAMUser(user_name=f"user{index:04d}", display_name=f"User {index:04d}", email=f"user{index:04d}@example.com")
             for index in range(iam_user_count)),
            batch_size=BATCH,
        )

    with _setup.stopwatch(timings, f"{memberships:,} memberships"):
        groups = [(account, role) for account in accounts for role in roles]
        rows = []
        for iam_user, count in zip(iam_users, seed_memberships_per_user(rng, memberships)):
            for group_index in rng.sample(range(len(groups)), count):
                account, role = groups[group_index]
                expiring = rng.random() < 0.05
                rows.append(Membership(
                    iam_user=iam_user, account=account, role=role, reason="Benchmark access",
                    requested_by=editors[len(rows) % 2], requested_by_name=editors[len(rows) % 2].username,
                    expires_at=now + timedelta(days=rng.randint(1, 30)) if expiring else None,
                ))
        Membership.objects.bulk_create(rows, batch_size=BATCH)

    with _setup.stopwatch(timings, f"{audit_rows:,} audit rows"):
        seed_audit_rows(rng, now, audit_rows, accounts=accounts, roles=roles, iam_users=iam_users,
                        actors=[*editors, User.objects.get(username="april")])

    with _setup.stopwatch(timings, f"{PLANS} plans"):
        statuses = [Plan.Status.APPLIED, Plan.Status.NO_CHANGES, Plan.Status.REJECTED, Plan.Status.SUPERSEDED]
        Plan.objects.bulk_create(
            Plan(status=statuses[index % len(statuses)], requested_by=editors[index % 2],
                 requested_by_name=editors[index % 2].username, planned_at=now,
                 summary={"add": index % 7, "change": index % 3, "remove": index % 2})
            for index in range(PLANS)
        )
    return {"viewer": viewer, "account": accounts[7], "role": roles[3], "iam_user": iam_users[42]}


def seed_audit_rows(rng: random.Random, now, audit_rows: int, *, accounts, roles, iam_users, actors) -> None:
    """``audit_rows`` rows over two years; some name the seeded objects so their history tabs have rows."""
    from audit.models import AuditEvent

    kinds = [
        ("membership", "create", lambda: iam_users[rng.randrange(len(iam_users))]),
        ("membership", "delete", lambda: iam_users[rng.randrange(len(iam_users))]),
        ("IAM user", "create", lambda: iam_users[rng.randrange(len(iam_users))]),
        ("role", "update", lambda: roles[rng.randrange(len(roles))]),
        ("policy", "update", lambda: roles[rng.randrange(len(roles))]),
        ("account", "update", lambda: accounts[rng.randrange(len(accounts))]),
        ("plan", "plan_requested", None),
        ("plan", "apply_succeeded", None),
        ("login", "login", None),
    ]
    created_at = AuditEvent._meta.get_field("created_at")
    # bulk_create would stamp every row with "now"; a spread history is what the filters and pages meet.
    created_at.auto_now_add = False
    try:
        span = timedelta(days=730).total_seconds()
        batch = []
        for index in range(audit_rows):
            object_type, action, pick = kinds[rng.randrange(len(kinds))]
            actor = actors[rng.randrange(len(actors))]
            obj = pick() if pick else None
            batch.append(AuditEvent(
                created_at=now - timedelta(seconds=span * (audit_rows - index) / audit_rows),
                actor=actor, actor_name=actor.username, source="web", action=action, object_type=object_type,
                object_id=str(obj.pk) if obj else str(index), object_repr=str(obj) if obj else f"{object_type} #{index}",
                before={"reason": "old", "value": index - 1} if action == "update" else None,
                after={"reason": "Benchmark change", "value": index},
                reason=f"Ticket OPS-{index % 5000}",
            ))
            if len(batch) == BATCH:
                AuditEvent.objects.bulk_create(batch)
                batch = []
        if batch:
            AuditEvent.objects.bulk_create(batch)
    finally:
        created_at.auto_now_add = True


# --- measuring ------------------------------------------------------------------------------


def pages_to_measure(objects: dict) -> list[tuple[str, str]]:
    from django.urls import reverse

    account, role, iam_user = objects["account"], objects["role"], objects["iam_user"]
    return [
        ("dashboard", reverse("console:dashboard")),
        ("accounts list", reverse("accounts:list")),
        ("account detail", reverse("accounts:detail", args=[account.pk])),
        ("roles list", reverse("roles:list")),
        ("role detail", reverse("roles:detail", args=[role.pk])),
        ("role preview tab", reverse("roles:detail", args=[role.pk]) + f"?tab=cloudformation&account={account.pk}"),
        ("memberships list", reverse("memberships:list")),
        ("memberships list, page 50", reverse("memberships:list") + "?page=50"),
        ("memberships filtered", reverse("memberships:list") + f"?account={account.name}&role={role.pk}"),
        ("IAM users list", reverse("memberships:iam_user_list")),
        ("IAM users search", reverse("memberships:iam_user_list") + "?q=user01"),
        ("IAM user suggestions", reverse("memberships:iam_user_suggestions") + "?q=user01"),
        ("IAM user detail", reverse("memberships:iam_user_detail", args=[iam_user.pk])),
        ("IAM user history tab", reverse("memberships:iam_user_detail", args=[iam_user.pk]) + "?tab=history"),
        ("matrix", reverse("memberships:matrix")),
        ("audit list", reverse("audit:list")),
        ("audit list, page 1000", reverse("audit:list") + "?after=" + _setup.audit_cursor_at_page(1000)),
        ("audit filtered", reverse("audit:list") + "?object_type=role&action=update&person=erin"),
        ("audit text search", reverse("audit:list") + "?q=OPS-4242"),
        ("plans list", reverse("plans:list")),
    ]


class QueryCounter:
    """Counts the SQL statements run inside the block (a ``connection.execute_wrapper``).

    Not CaptureQueriesContext: its log is a deque of 9,000 entries, full after the seeding,
    and it then reports 0.
    """

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self._wrapper.__exit__(*exc_info)


def measure(client, url: str, runs: int) -> dict:
    with QueryCounter() as queries:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    samples, statuses = [], {response.status_code}
    for _ in range(runs):
        started = time.perf_counter()
        timed = client.get(url)
        if timed.streaming:
            b"".join(timed.streaming_content)
        else:
            timed.content  # noqa: B018  (the body is rendered by now; this is what the server sends)
        samples.append(time.perf_counter() - started)
        statuses.add(timed.status_code)
    return {"status": "/".join(str(code) for code in sorted(statuses)), "queries": queries.count, "kb": len(body) / 1024,
            "samples": samples}


def measure_export(client, url: str, runs: int) -> dict:
    """The whole CSV stream (every row), and how long until its first 64 KB."""
    samples, first_chunk, rows, size, status = [], [], 0, 0, 0
    for _ in range(runs):
        with QueryCounter() as queries:
            started = time.perf_counter()
            response = client.get(url)
            status = response.status_code
            size, rows, first = 0, 0, None
            for chunk in response.streaming_content:
                size += len(chunk)
                rows += chunk.count(b"\n")
                if first is None and size >= 64 * 1024:
                    first = time.perf_counter() - started
            samples.append(time.perf_counter() - started)
            first_chunk.append(first or samples[-1])
    return {"status": str(status), "queries": queries.count, "kb": size / 1024, "samples": samples,
            "first_chunk": first_chunk, "rows": rows - 1}


def page_figures(result: dict) -> dict:
    """One page's figures as ``--json`` prints them."""
    return {"status": result["status"], "queries": result["queries"], "kb": round(result["kb"], 1),
            "median_ms": round(_setup.median_ms(result["samples"]), 1), "p95_ms": round(_setup.p95_ms(result["samples"]), 1)}


def main() -> None:
    args = parse_args()
    # With --json, stdout carries the one JSON object and everything a person reads goes to stderr.
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        report = run(args)
    if args.json:
        print(json.dumps(report, indent=2))
    failed = [name for name, figures in report["pages"].items() if figures["status"] != "200"]
    if failed:
        print(f"Pages that did not answer 200: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


def run(args) -> dict:
    database = _setup.configure("pages")

    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    _setup.print_header("Rolemodel Console: page benchmark")
    print(f"Database: {database}")
    print(f"Requests per page: {args.runs} timed, after 1 warm-up (queries are counted on the warm-up); "
          "times include the test client, not a network")

    timings = {"migrate + flush": _setup.fresh_database()}
    objects = seed(timings, memberships=args.members, audit_rows=args.audit_rows)
    if connection.vendor == "postgresql":
        with _setup.stopwatch(timings, "ANALYZE"), connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    seeded = {"accounts": ACCOUNTS, "roles": ROLES, "iam_users": iam_users_for(args.members),
              "memberships": args.members, "audit_rows": args.audit_rows, "plans": PLANS}
    _setup.print_header("Seed")
    print(f"{ACCOUNTS} accounts x {ROLES} roles (one inline policy each) = {ACCOUNTS * ROLES} groups, master quota 500")
    print(f"{seeded['iam_users']:,} IAM users, {args.members:,} memberships (up to {HEAVY_USERS} users at 10 groups), "
          f"{args.audit_rows:,} audit rows over 2 years, {PLANS} plans")
    _setup.print_table(["step", "seconds"], [[label, f"{seconds:.2f}"] for label, seconds in timings.items()])
    print(f"total: {sum(timings.values()):.1f} s")

    client = Client(SERVER_NAME="localhost")
    client.force_login(objects["viewer"])

    _setup.print_header(f"Pages (logged in as the Viewer {objects['viewer'].username})")
    pages = {}
    for label, url in pages_to_measure(objects):
        pages[label] = page_figures(measure(client, url, args.runs))
    export_runs = 1 if args.quick else min(args.runs, 3)
    export = measure_export(client, reverse("audit:export") + "?format=csv", export_runs)
    pages["audit CSV export"] = {**page_figures(export), "rows": export["rows"],
                                 "first_64kb_ms": round(_setup.median_ms(export["first_chunk"]), 1)}
    _setup.print_table(
        ["page", "status", "SQL queries", "KB", "median ms", "p95 ms"],
        [[label if label != "audit CSV export" else f"audit CSV export, {export['rows']:,} rows", figures["status"],
          figures["queries"], f"{figures['kb']:.0f}", f"{figures['median_ms']:.1f}", f"{figures['p95_ms']:.1f}"]
         for label, figures in pages.items()],
    )
    print(f"Audit CSV export: {export_runs} full stream(s); first 64 KB after "
          f"{pages['audit CSV export']['first_64kb_ms']:.0f} ms (median); the export stops at "
          f"{100_000:,} rows by design.")
    memberships, roles = pages["memberships list"]["median_ms"], pages["roles list"]["median_ms"]
    print(f"Memberships list: {pages['memberships list']['kb']:.0f} KB (at most 40), median {memberships / roles:.1f}x "
          "the roles list's (at most 3x)")
    return {"database": database, "runs": args.runs, "seed": seeded, "seed_seconds": round(sum(timings.values()), 1),
            "pages": pages}


if __name__ == "__main__":
    main()
