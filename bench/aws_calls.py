"""How many AWS calls the plan / apply engine makes, and how long it takes, against the fake AWS.

    .venv/bin/python bench/aws_calls.py [--quick] [--accounts 2,10,50] [--roles 4,10]
                                        [--no-op-accounts 2,12,50] [--no-op-roles 4] [--no-no-op]
                                        [--latency-ms 50] [--latency-accounts 10] [--no-latency]
                                        [--drift-accounts 2,12,50] [--no-drift]

For every A (assumable accounts) and R (roles): a wiped fake AWS and a fresh database, the
desired state seeded through the services (accounts with profiles, R roles with one small
inline policy each, a few memberships whose IAM users exist in the fake master account), then
the engine driven directly, as tests/test_plan_engine.py does (no worker):

1. first plan, then its apply (account steps one after another, then the master step);
2. a plan with nothing to change;
3. one policy changed, its plan, then its apply.

"Engine calls" are the Job rows' api_call_totals() (what the console counts and shows, STS
AssumeRole included); "wire" is every request the fake AWS received, through a counting proxy.
The two should be equal. Beside them: the original tool's formulas and the console's bound for a
no-op plan, A + 2 calls and 0 writes.

Then the no-op plan alone at A = 2, 12 and 50 (``--no-op-accounts``): calls, writes and the bound
A + 2 next to them, once with the credentials the first plan and apply fetched (a worker that ran
within the hour) and once with none (a worker just started: each account's AssumeRole on top).

Then a drift check (read-only) at A = 2, 12 and 50 (``--drift-accounts``) after a first plan and apply:
its calls next to the bound 2A + 2 (one DescribeStacks and one GetAccountAuthorizationDetails per
account, one GetAccountAuthorizationDetails for the master), when nothing changed since the last check
and the credentials are held, and once more with none held (each AssumeRole on top).

Then the first plan and apply of A accounts with an artificial latency per request: the plan's
wall time (its reads and change sets side by side), the account steps run one after another and
then in threads (as several Celery worker processes would), and the master step's wall time (its
groups side by side).

The database is SQLite in var/bench/aws_calls.sqlite3, or DATABASE_URL from the environment
(its database name must contain "bench").
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402  (sets up Django; must come before Django imports)

MASTER_ACCOUNT_ID = "111111111111"
GROUPS_QUOTA = 500
IAM_USERS = 6
STACK_NAME = "RoleModel"
PLAN_SECONDS_GOAL = 1.5  # the first plan at A = 10 with 50 ms added to every request (issue 11)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)

    def counts(text: str) -> list[int]:
        try:
            values = sorted({int(part) for part in text.split(",") if part.strip()})
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected numbers separated by commas, not {text!r}") from None
        if not values or values[0] < 1:
            raise argparse.ArgumentTypeError("give at least one number, each 1 or more")
        return values

    parser.add_argument("--quick", action="store_true", help="A = 2, 10 and R = 4 only")
    parser.add_argument("--accounts", type=counts, help="assumable account counts, e.g. 2,10,50")
    parser.add_argument("--roles", type=counts, help="role counts, e.g. 4,10")
    parser.add_argument("--no-op-accounts", type=counts, help="A for the no-op plan rows (default 2,12,50; --quick 2,12)")
    parser.add_argument("--no-op-roles", type=int, default=4, help="R for the no-op plan rows")
    parser.add_argument("--no-no-op", action="store_true", help="skip the no-op plan rows")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="per-request latency for the parallelism run")
    parser.add_argument("--latency-accounts", type=int, default=10, help="A for the parallelism run")
    parser.add_argument("--no-latency", action="store_true", help="skip the parallelism run")
    parser.add_argument("--drift-accounts", type=counts, help="A for the drift check rows (default 2,12,50; --quick 2,12)")
    parser.add_argument("--no-drift", action="store_true", help="skip the drift check rows")
    args = parser.parse_args()
    args.accounts = args.accounts or ([2, 10] if args.quick else [2, 10, 50])
    args.roles = args.roles or ([4] if args.quick else [4, 10])
    args.no_op_accounts = [] if args.no_no_op else (args.no_op_accounts or ([2, 12] if args.quick else [2, 12, 50]))
    if args.no_op_roles < 1:
        parser.error("--no-op-roles must be at least 1")
    args.drift_accounts = [] if args.no_drift else (args.drift_accounts or ([2, 12] if args.quick else [2, 12, 50]))
    worlds = [(a, r) for a in args.accounts for r in args.roles] + [(a, args.no_op_roles) for a in args.no_op_accounts]
    worlds += [(a, args.no_op_roles) for a in args.drift_accounts]
    for a, r in worlds:
        if a * r > GROUPS_QUOTA:
            parser.error(f"A={a} x R={r} needs {a * r} IAM groups; the master account allows at most {GROUPS_QUOTA}.")
    if args.latency_accounts < 1 or args.latency_ms < 0:
        parser.error("--latency-accounts must be at least 1 and --latency-ms not negative")
    return args


def account_names(count: int) -> list[str]:
    return [f"acct{index:02d}" for index in range(1, count + 1)]


def account_id(name: str) -> str:
    return f"{200000000000 + int(name[4:])}"


def original_update_first_run(a: int, r: int) -> int:
    return 9 * a + 1 + 4 * a * r


def original_update_no_op(a: int, r: int) -> int:
    return 9 * a + 1 + 3 * a * r


def no_op_goal(a: int) -> int:
    """The issue's bound for a plan with nothing to change: one DescribeStacks per account, then the
    master's GetAccountAuthorizationDetails and GetAccountSummary (GetTemplate skipped when the stack
    is as last read)."""
    return a + 2


# --- one world: desired state in the database, IAM users in the fake master -------------------


@dataclass
class World:
    accounts: int
    roles: int
    editor: object
    approver: object
    seed_seconds: float = 0.0


def build_world(bench_aws, a: int, r: int) -> World:
    """Wipe the fake AWS and the database, then seed A accounts, R roles and a few memberships via the services."""
    from accounts.services import account_create, master_account_update
    from audit.services import Actor
    from core.permissions import APPROVER, EDITOR
    from devtools.fake_aws import create_iam_users
    from integrations import aws
    from memberships.services import iam_user_create, memberships_grant
    from roles.services import role_create

    bench_aws.reset()
    aws.reset_session_cache()
    started = time.perf_counter()
    _setup.fresh_database()
    editor = _setup.console_user("eddie", EDITOR)
    approver = _setup.console_user("april", APPROVER)
    actor = Actor.from_user(editor)
    master_account_update(actor=actor, account_id=MASTER_ACCOUNT_ID, profile="master", stack_name=STACK_NAME,
                          group_quota=GROUPS_QUOTA)
    accounts = [account_create(actor=actor, name=name, account_id=account_id(name), profile=name)
                for name in account_names(a)]
    roles = [
        role_create(actor=actor, logical_name=f"Role{index:02d}", description=f"Benchmark role {index}", policies=[{
            "name": f"Role{index:02d}-Access",
            "document": {"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]},
        }])
        for index in range(r)
    ]
    users = [iam_user_create(actor=actor, user_name=f"bench.user{index}") for index in range(IAM_USERS)]
    grants = {(user, accounts[(index + offset) % a], roles[(index + 2 * offset) % r])
              for index, user in enumerate(users) for offset in (0, 1)}
    memberships_grant(actor=actor, grants=sorted(grants, key=lambda g: (g[0].pk, g[1].pk, g[2].pk)),
                      reason="Benchmark access")
    create_iam_users(bench_aws.session("master"), [user.user_name for user in users])
    return World(accounts=a, roles=r, editor=editor, approver=approver, seed_seconds=time.perf_counter() - started)


# --- driving the engine without a worker -----------------------------------------------------


@dataclass
class Phase:
    name: str
    status: str
    seconds: float
    calls: dict
    wire: Counter
    operations: Counter = field(default_factory=Counter)
    error: str = ""

    @property
    def wire_total(self) -> int:
        return sum(self.wire.values())


def _operations(job) -> Counter:
    operations = Counter()
    for step in job.steps.all():
        operations.update((step.api_calls or {}).get("operations", {}))
    return operations


def run_plan(bench_aws, world: World, name: str) -> tuple[object, Phase]:
    from audit.services import Actor
    from plans import planning, services
    from plans.models import Job

    bench_aws.proxy.take_counts()
    started = time.perf_counter()
    plan = services.plan_request(actor=Actor.from_user(world.editor))
    planning.plan_compute(plan_id=plan.pk)
    seconds = time.perf_counter() - started
    plan.refresh_from_db()
    job = plan.jobs.get(kind=Job.Kind.PLAN)
    error = plan.error or "; ".join(block["message"] for block in plan.blocks[:3])
    return plan, Phase(name, plan.status, seconds, job.api_call_totals(), bench_aws.proxy.take_counts(),
                       _operations(job), error)


def approve_and_request(world: World, plan):
    from audit.services import Actor
    from plans import services

    services.plan_approve(actor=Actor.from_user(world.approver), plan=plan)
    return services.apply_request(actor=Actor.from_user(world.editor), plan=plan)


def account_step_ids(job) -> list[int]:
    from plans.models import JobStep

    return list(job.steps.exclude(target=JobStep.MASTER).order_by("position").values_list("pk", flat=True))


def _apply_account_in_thread(step_id: int) -> None:
    from django.db import connection

    from plans import applying

    try:
        applying.apply_account(step_id=step_id)
    finally:
        connection.close()  # each thread has its own connection; leave none open


def run_account_steps(step_ids: list[int], *, parallel: bool) -> float:
    from plans import applying

    started = time.perf_counter()
    if parallel and len(step_ids) > 1:
        with ThreadPoolExecutor(max_workers=len(step_ids)) as pool:
            list(pool.map(_apply_account_in_thread, step_ids))
    else:
        for step_id in step_ids:
            applying.apply_account(step_id=step_id)
    return time.perf_counter() - started


def run_apply(bench_aws, world: World, plan, name: str) -> Phase:
    from plans import applying

    job = approve_and_request(world, plan)
    bench_aws.proxy.take_counts()
    started = time.perf_counter()
    run_account_steps(account_step_ids(job), parallel=False)
    applying.apply_master(job_id=job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    return Phase(name, job.status, seconds, job.api_call_totals(), bench_aws.proxy.take_counts(),
                 _operations(job), job.error)


def change_one_policy(world: World) -> None:
    from audit.services import Actor
    from roles.models import InlinePolicy
    from roles.services import policy_update

    policy = InlinePolicy.objects.select_related("role").order_by("role__logical_name").first()
    document = {**policy.document, "Statement": [
        {**policy.document["Statement"][0], "Action": ["s3:GetObject", "s3:ListBucket"]}]}
    policy_update(actor=Actor.from_user(world.editor), policy=policy, name=policy.name, document=document,
                  reason="Benchmark: one policy changed")


@dataclass
class ScenarioResult:
    accounts: int
    roles: int
    seed_seconds: float
    phases: list[Phase]

    def phase(self, name: str) -> Phase:
        return next(phase for phase in self.phases if phase.name == name)


def run_scenario(bench_aws, a: int, r: int) -> ScenarioResult:
    world = build_world(bench_aws, a, r)
    phases = []
    plan, first_plan = run_plan(bench_aws, world, "first plan")
    phases.append(first_plan)
    if plan.status != "pending":
        return ScenarioResult(a, r, world.seed_seconds, phases)
    phases.append(run_apply(bench_aws, world, plan, "first apply"))
    phases.append(run_plan(bench_aws, world, "no-op plan")[1])
    change_one_policy(world)
    plan, change_plan = run_plan(bench_aws, world, "one-change plan")
    phases.append(change_plan)
    if plan.status == "pending":
        phases.append(run_apply(bench_aws, world, plan, "one-change apply"))
    return ScenarioResult(a, r, world.seed_seconds, phases)


# --- the no-op plan alone ------------------------------------------------------------------------


def applied_world(bench_aws, a: int, r: int):
    """A world of A accounts and R roles, planned and applied: ``(world, [])``, or ``(world, phases)`` up to
    the phase that did not end as it should."""
    world = build_world(bench_aws, a, r)
    plan, first = run_plan(bench_aws, world, "first plan")
    if plan.status != "pending":
        return world, [first]
    applied = run_apply(bench_aws, world, plan, "first apply")
    return world, ([] if applied.status == "succeeded" else [first, applied])


def run_no_op(bench_aws, a: int, r: int) -> list[Phase]:
    """First plan and apply, then a no-op plan with the credentials they fetched, and one with none."""
    from integrations import aws

    world, stopped = applied_world(bench_aws, a, r)
    if stopped:
        return stopped
    warm = run_plan(bench_aws, world, "credentials held")[1]
    aws.reset_session_cache()  # as a worker process that has just started
    cold = run_plan(bench_aws, world, "new credentials")[1]
    return [warm, cold]


def no_op_rows(a: int, r: int, phases: list[Phase]) -> list[list]:
    rows = []
    for phase in phases:
        if phase.name not in ("credentials held", "new credentials"):
            rows.append([a, r, f"(stopped at the {phase.name}: {phase.status})", "", "", "", "", "", "", "", "", ""])
            continue
        calls = phase.calls
        met = calls["total"] <= no_op_goal(a) and calls["writes"] == 0 and phase.status == "no_changes"
        operations = ", ".join(f"{name} {count}" for name, count in sorted(phase.operations.items()))
        rows.append([a, r, phase.name, phase.status, calls["total"], calls["writes"], phase.wire_total,
                     phase.wire.get("AssumeRole", 0), no_op_goal(a), "yes" if met else "NO", f"{phase.seconds:.2f}",
                     operations])
    return rows


# --- the drift check ------------------------------------------------------------------------------


def drift_goal(a: int) -> int:
    """The issue's bound for a drift check when nothing changed: per account DescribeStacks and
    GetAccountAuthorizationDetails (roles), then the master's GetAccountAuthorizationDetails, + 1 spare."""
    return 2 * a + 2


def run_drift_check(bench_aws, name: str) -> Phase:
    from drift import services
    from drift.models import DriftCheck

    bench_aws.proxy.take_counts()
    started = time.perf_counter()
    check = DriftCheck.objects.create(requested_by_name="bench")
    services.run_drift_check(check_id=check.pk)
    seconds = time.perf_counter() - started
    check.refresh_from_db()
    calls = {"total": check.api_calls.get("total", 0), "reads": check.api_calls.get("reads", 0),
             "writes": check.api_calls.get("writes", 0), "retries": 0}
    error = check.error or (f"{check.opened} finding(s) opened" if check.opened else "")
    return Phase(name, check.status, seconds, calls, bench_aws.proxy.take_counts(),
                 Counter(check.api_calls.get("by_operation", {})), error)


def run_drift(bench_aws, a: int, r: int) -> list[Phase]:
    """First plan and apply; a first check, then one with nothing changed since and the credentials held,
    then one with none held."""
    from integrations import aws

    world, stopped = applied_world(bench_aws, a, r)
    if stopped:
        return stopped
    phases = [run_drift_check(bench_aws, "first check"), run_drift_check(bench_aws, "credentials held")]
    aws.reset_session_cache()
    phases.append(run_drift_check(bench_aws, "new credentials"))
    return phases


def drift_rows(a: int, r: int, phases: list[Phase]) -> list[list]:
    rows = []
    for phase in phases:
        operations = ", ".join(f"{name} {count}" for name, count in sorted(phase.operations.items()))
        if phase.name not in ("first check", "credentials held", "new credentials"):
            rows.append([a, r, f"(stopped at the {phase.name}: {phase.status})", "", "", "", "", "", "", "", "", ""])
            continue
        bounded = phase.name == "credentials held"
        met = phase.calls["total"] <= drift_goal(a) and phase.calls["writes"] == 0 and phase.status == "succeeded"
        rows.append([a, r, phase.name, phase.status, phase.calls["total"], phase.calls["writes"], phase.wire_total,
                     phase.wire.get("AssumeRole", 0), drift_goal(a) if bounded else "",
                     ("yes" if met else "NO") if bounded else "", f"{phase.seconds:.2f}", operations])
    return rows


# --- parallel account steps under latency --------------------------------------------------------


@dataclass
class LatencyRun:
    mode: str
    plan_seconds: float
    plan_calls: int
    accounts_seconds: float
    account_calls: int
    master_seconds: float
    master_calls: int
    status: str
    plan_cpu_seconds: float = 0.0
    master_cpu_seconds: float = 0.0


def run_latency(bench_aws, a: int, r: int, latency: float, *, parallel: bool) -> LatencyRun:
    from plans import applying
    from plans.models import JobStep

    world = build_world(bench_aws, a, r)
    bench_aws.proxy.delay_seconds = latency
    try:
        cpu = time.process_time()
        plan, plan_phase = run_plan(bench_aws, world, "first plan")
        plan_cpu = time.process_time() - cpu
        if plan.status != "pending":
            raise RuntimeError(f"the plan is {plan.status}: {plan_phase.error}")
        job = approve_and_request(world, plan)
        accounts_seconds = run_account_steps(account_step_ids(job), parallel=parallel)
        account_calls = sum(bench_aws.proxy.take_counts().values())
        started, cpu = time.perf_counter(), time.process_time()
        applying.apply_master(job_id=job.pk)
        master_seconds, master_cpu = time.perf_counter() - started, time.process_time() - cpu
        master_calls = sum(bench_aws.proxy.take_counts().values())
    finally:
        bench_aws.proxy.delay_seconds = 0.0
    job.refresh_from_db()
    failed = list(job.steps.filter(status=JobStep.Status.FAILED).values_list("error", flat=True))
    status = job.status + (f" ({failed[0]})" if failed else "")
    return LatencyRun("threads, one per account" if parallel else "one after another", plan_phase.seconds,
                      plan_phase.wire_total, accounts_seconds, account_calls, master_seconds, master_calls, status,
                      plan_cpu, master_cpu)


# --- printing -----------------------------------------------------------------------------------


def scenario_rows(result: ScenarioResult) -> list[list]:
    a, r = result.accounts, result.roles
    rows = []

    def row(label, phases, *, original="", goal="", met=""):
        calls = {key: sum(phase.calls[key] for phase in phases) for key in ("total", "reads", "writes", "retries")}
        wire = sum(phase.wire_total for phase in phases)
        assume = sum(phase.wire.get("AssumeRole", 0) for phase in phases)
        status = phases[-1].status
        rows.append([f"A={a} R={r}", label, status, calls["total"], calls["reads"], calls["writes"], wire, assume,
                     f"{sum(phase.seconds for phase in phases):.2f}", original, goal, met])

    names = [phase.name for phase in result.phases]
    for phase in result.phases:
        if phase.name == "no-op plan":
            ok = phase.calls["total"] <= no_op_goal(a) and phase.calls["writes"] == 0 and phase.status == "no_changes"
            row(phase.name, [phase], original=str(original_update_no_op(a, r)),
                goal=f"<={no_op_goal(a)} (A+2), 0 writes", met="yes" if ok else "NO")
        else:
            row(phase.name, [phase])
        if phase.name == "first apply":
            row("= first run (plan+apply)", [result.phase("first plan"), phase],
                original=str(original_update_first_run(a, r)))
        if phase.name == "one-change apply":
            row("= one change (plan+apply)", [result.phase("one-change plan"), phase],
                original=f">={original_update_no_op(a, r)}")
    if "first apply" not in names:
        rows.append([f"A={a} R={r}", "(stopped: the first plan was not pending)", "", "", "", "", "", "", "", "", "", ""])
    return rows


def print_operations(result: ScenarioResult) -> None:
    _setup.print_header(f"Engine calls by operation, A={result.accounts} R={result.roles}")
    for phase in result.phases:
        operations = ", ".join(f"{name} {count}" for name, count in sorted(phase.operations.items()))
        print(f"{phase.name:17} {operations or '(none)'}")
        uncounted = {name: count - phase.operations.get(name, 0) for name, count in phase.wire.items()
                     if count > phase.operations.get(name, 0)}
        if uncounted:
            print(f"{'':17} + on the wire, not counted: "
                  + ", ".join(f"{name} {count}" for name, count in sorted(uncounted.items())))


def rows_per_account_count(what: str, account_counts, roles: int, failures: list, *, run, rows) -> list:
    """``run(A)`` for each account count, the table rows ``rows(A, R, phases)`` of all of them; each failed
    phase is added to ``failures``."""
    table = []
    for a in account_counts:
        print(f"... {what} A={a} R={roles}", flush=True)
        phases = run(a)
        table += rows(a, roles, phases)
        failures += [f"{what} A={a}: {phase.name}: {phase.status}: {phase.error}" for phase in phases
                     if phase.error or phase.status in ("failed", "blocked", "apply_failed")]
    return table


def main() -> None:
    args = parse_args()
    database = _setup.configure("aws_calls")

    from integrations import aws
    from integrations import parallel

    from _fake_aws import start_bench_aws

    _setup.print_header("Rolemodel Console: AWS calls of the plan / apply engine")
    print(f"Database: {database}")
    print(f"Scenarios: A in {args.accounts}, R in {args.roles}; {IAM_USERS} IAM users, 2 memberships each")
    biggest = max(max(args.accounts), max(args.no_op_accounts, default=0), max(args.drift_accounts, default=0),
                  args.latency_accounts if not args.no_latency else 0)
    accounts = {"master": MASTER_ACCOUNT_ID, **{name: account_id(name) for name in account_names(biggest)}}
    started = time.perf_counter()
    bench_aws = start_bench_aws(_setup.BENCH_VAR_DIR / "fake-aws", accounts=accounts, groups_quota=GROUPS_QUOTA)
    failures = []
    try:
        bench_aws.use_in_this_process()
        bench_aws.server.warm_up_cloudformation()
        print(f"Fake AWS: moto server {bench_aws.server.endpoint_url} (pid {bench_aws.server.process.pid}, "
              f"IAM group quota {GROUPS_QUOTA}) behind the proxy {bench_aws.proxy.url}; "
              f"ready in {time.perf_counter() - started:.1f} s")

        results = []
        for a in args.accounts:
            for r in args.roles:
                print(f"... A={a} R={r}", flush=True)
                result = run_scenario(bench_aws, a, r)
                results.append(result)
                for phase in result.phases:
                    if phase.error or phase.status in ("failed", "blocked", "apply_failed"):
                        failures.append(f"A={a} R={r} {phase.name}: {phase.status}: {phase.error}")

        _setup.print_header("AWS calls and wall time per phase")
        print("engine = the Job rows' api_call_totals(), AssumeRole included; wire = requests the fake AWS received "
              "(the two should be equal);")
        print("original = the rolemodel CLI's update: first run 9A+1+4AR, nothing changed 9A+1+3AR "
              "(any update at least that).")
        print("Account steps run one after another here; wall times are against moto on loopback (no network latency).")
        rows = [row for result in results for row in scenario_rows(result)]
        _setup.print_table(
            ["scenario", "phase", "status", "engine", "reads", "writes", "wire", "AssumeRole", "wall s", "original",
             "goal", "met"],
            rows, right={3, 4, 5, 6, 7, 8, 9},
        )
        print("Seeding through the services (database and fake IAM users): "
              + ", ".join(f"A={res.accounts} R={res.roles} {res.seed_seconds:.1f} s" for res in results))
        print_operations(results[-1])

        if args.no_op_accounts:
            no_op = rows_per_account_count("no-op plan", args.no_op_accounts, args.no_op_roles, failures,
                                           run=lambda a: run_no_op(bench_aws, a, args.no_op_roles), rows=no_op_rows)
            _setup.print_header("The no-op plan: calls against the bound A + 2 (0 writes)")
            print("calls = the Job rows' api_call_totals()['total'] (AssumeRole included); wire = requests received.")
            print("'credentials held': after a first plan and apply in the same process (a worker that ran within the")
            print("hour); 'new credentials': the session cache emptied first (a worker just started), so each account's")
            print("and the master's AssumeRole come on top. GetTemplate is skipped while a stack's id, status and last")
            print("update equal those recorded when the console last read its template (accounts/stack_records.py).")
            _setup.print_table(
                ["A", "R", "credentials", "status", "calls", "writes", "wire", "AssumeRole", "bound A+2", "met", "wall s",
                 "by operation"],
                no_op, right={0, 1, 4, 5, 6, 7, 8, 10},
            )

        if args.drift_accounts:
            drift = rows_per_account_count("drift check", args.drift_accounts, args.no_op_roles, failures,
                                           run=lambda a: run_drift(bench_aws, a, args.no_op_roles), rows=drift_rows)
            failures += [f"drift A={row[0]}: {row[4]} calls, over the bound {row[8]}" for row in drift
                         if row[2] == "credentials held" and row[4] > row[8]]
            _setup.print_header("The drift check: calls against the bound 2A + 2 (0 writes)")
            print("calls = the DriftCheck row's api_calls['total'] (AssumeRole included); wire = requests received.")
            print("'first check': right after the first apply (which recorded the stacks it changed, so no GetTemplate);")
            print("'credentials held': nothing changed since (the bound applies); 'new credentials': the session cache")
            print("emptied first (a worker just started), so each account's and the master's AssumeRole come on top.")
            _setup.print_table(
                ["A", "R", "check", "status", "calls", "writes", "wire", "AssumeRole", "bound 2A+2", "met", "wall s",
                 "by operation"],
                drift, right={0, 1, 4, 5, 6, 7, 8, 10},
            )

        if not args.no_latency:
            a, r, latency = args.latency_accounts, 4, args.latency_ms / 1000
            print(f"... latency run A={a} R={r}", flush=True)
            runs = [run_latency(bench_aws, a, r, latency, parallel=False),
                    run_latency(bench_aws, a, r, latency, parallel=True)]
            _setup.print_header(f"First apply of A={a} R={r} with {args.latency_ms:.0f} ms added to every AWS request")
            print(f"The plan makes its reads and change sets side by side (at most {parallel.read_concurrency()} at once, "
                  f"ROLEMODEL_AWS_READ_CONCURRENCY); the master step writes groups side by side (at most "
                  f"{parallel.write_concurrency()}, ROLEMODEL_AWS_WRITE_CONCURRENCY), each group's writes in order.")
            _setup.print_table(
                ["account steps", "plan s", "plan CPU s", "plan calls", "account steps s", "their calls",
                 "master step s", "master CPU s", "its calls", "job"],
                [[run.mode, f"{run.plan_seconds:.2f}", f"{run.plan_cpu_seconds:.2f}", run.plan_calls,
                  f"{run.accounts_seconds:.2f}", run.account_calls, f"{run.master_seconds:.2f}",
                  f"{run.master_cpu_seconds:.2f}", run.master_calls, run.status] for run in runs],
                right={1, 2, 3, 4, 5, 6, 7, 8},
            )
            serial, parallel = runs[0].accounts_seconds, runs[1].accounts_seconds
            print(f"Account steps: {serial:.2f} s one after another, {parallel:.2f} s in parallel "
                  f"({serial / parallel:.1f}x faster). Calls x latency, if nothing overlapped: account steps "
                  f"{runs[0].account_calls * latency:.1f} s, master step {runs[0].master_calls * latency:.1f} s.")
            plan_goal = PLAN_SECONDS_GOAL if (a, args.latency_ms) == (10, 50) else None
            print("CPU s = this process's CPU time meanwhile (the counting proxy runs in it too): a wall time far above")
            print("it and above calls x latency / concurrency means the machine was busy with other work.")
            print(f"Plan: {runs[0].plan_seconds:.2f} s for {runs[0].plan_calls} calls "
                  f"({runs[0].plan_calls * latency:.1f} s if nothing overlapped)"
                  + (f"; goal at A=10 with 50 ms: <= {plan_goal:.1f} s, "
                     f"{'met' if max(run.plan_seconds for run in runs) <= plan_goal else 'NOT met'}" if plan_goal else "")
                  + f". Master step: {runs[0].master_seconds:.2f} s for {runs[0].master_calls} calls.")
            failures += [f"latency run ({run.mode}): {run.status}" for run in runs if run.status != "succeeded"]
    finally:
        aws.reset_session_cache()
        bench_aws.stop()
    if failures:
        print("\nProblems:\n" + "\n".join(f"- {failure}" for failure in failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
