"""Computing a plan: read AWS, compare with the desired state, prepare change sets."""
import logging
from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import AssumableAccount, MasterAccount
from audit.services import Actor, audit_record
from core import limits
from integrations import aws, parallel
from accounts import stack_records
from accounts.access import account_access, master_access
from notifications import services as notifications
from plans import desired, diff, dispatch, document, guards, presenting, revocation, role_repairs, targets
from plans.document import CHANGE_SET_ACTIONS, block
from plans.jobs import ensure_running, step_finish, step_log
from plans.models import Job, JobStep, Plan
from plans.runner import run_guarded
from roles.cloudformation import template_body

logger = logging.getLogger(__name__)

PLANNER = Actor.system("system:planner", source="worker")
MASTER_LABEL = "master"  # how AWS errors name the master account (accounts.access.master_access)


@dataclass
class AwsReads:
    """Everything a plan reads from AWS before it compares (see :func:`_read_aws`)."""

    stacks: dict  # enabled account name -> stack_records.StackRead
    iam: aws.LiveIam
    quota: int
    identities: dict = field(default_factory=dict)  # account name or JobStep.MASTER -> id from GetCallerIdentity
    reached: dict = field(default_factory=dict)  # account name or JobStep.MASTER -> the account its reads went to


def _read_aws(accounts_by_name: dict, master_model: MasterAccount, counters: dict) -> AwsReads:
    """Every read of the plan, side by side in a pool bounded by ROLEMODEL_AWS_READ_CONCURRENCY; AWS calls
    only, the database stays with the caller.

    1. At once: each enabled account's DescribeStacks; the master's GetAccountAuthorizationDetails
       (paginated) and GetAccountSummary; GetCallerIdentity of every account whose id is not known yet.
    2. At once, for what step 1 found: GetTemplate and ListStackResources of each stack that changed
       since the console last read it; GetCallerIdentity of each account whose reads named no account
       (no stack yet; for the master no group and no user), so a no-op plan makes no call more.
    """
    master = master_access(master_model)
    enabled = [account for account in accounts_by_name.values() if account.enabled]
    accesses = {account.name: account_access(account, master_model) for account in enabled}
    records = stack_records.records_for(enabled, stack_name=master_model.stack_name)
    stack_name = master_model.stack_name

    def identity(label, access):
        return lambda: aws.caller_account_id(access, counters[label])

    def stack(name):
        return lambda: aws.stack_status(accesses[name], counters[name], stack_name=stack_name)

    first = {("iam", JobStep.MASTER): lambda: aws.iam_read(master, counters[JobStep.MASTER], group_path=limits.GROUP_PATH),
             ("quota", JobStep.MASTER): lambda: aws.group_quota(master, counters[JobStep.MASTER])}
    if not master_model.account_id:
        first[("identity", JobStep.MASTER)] = identity(JobStep.MASTER, master)
    for account in enabled:
        first[("stack", account.name)] = stack(account.name)
        if not account.account_id:
            first[("identity", account.name)] = identity(account.name, accesses[account.name])
    found = parallel.run_all(first, limit=parallel.read_concurrency())
    identities = {label: value for (kind, label), value in found.items() if kind == "identity"}
    reads = AwsReads(stacks={}, iam=found[("iam", JobStep.MASTER)], quota=found[("quota", JobStep.MASTER)],
                     identities=identities)

    second, live_stacks = {}, {}
    for account in enabled:
        live = live_stacks[account.name] = found[("stack", account.name)]
        settled = stack_records.settled_by_status(live, stack_name=stack_name, record=records.get(account.pk))
        if settled is not None:
            reads.stacks[account.name] = settled
        else:
            for part, read in stack_records.fresh_reads(accesses[account.name], counters[account.name], live=live,
                                                        stack_name=stack_name).items():
                second[(part, account.name)] = read
        reads.reached[account.name] = (aws.account_id_from_arn(live.stack_id) if live is not None else "") or \
            identities.get(account.name, "")
        if not reads.reached[account.name]:
            second[("identity", account.name)] = identity(account.name, accesses[account.name])
    reads.reached[JobStep.MASTER] = reads.iam.account_id or identities.get(JobStep.MASTER, "")
    if master_model.account_id and not reads.reached[JobStep.MASTER]:
        second[("identity", JobStep.MASTER)] = identity(JobStep.MASTER, master)
    found = parallel.run_all(second, limit=parallel.read_concurrency())
    for (part, label), value in found.items():
        if part == "identity":
            reads.reached[label] = value
    for account in enabled:
        if account.name not in reads.stacks:
            parts = {part: value for (part, label), value in found.items() if label == account.name and part != "identity"}
            reads.stacks[account.name] = stack_records.fresh_read(live_stacks[account.name], parts)
    return reads


def _store_account_ids(master: MasterAccount, accounts_by_name: dict, identities: dict) -> None:
    """Keep the account ids the import left empty, as STS gave them (audited)."""
    if JobStep.MASTER in identities:
        _store_account_id(master, "master account", identities[JobStep.MASTER])
    for name, account_id in identities.items():
        if name != JobStep.MASTER:
            _store_account_id(accounts_by_name[name], "account", account_id)


def _store_account_id(model, object_type: str, account_id: str) -> None:
    before = model.snapshot()
    model.account_id = account_id
    model.full_clean()
    model.save(update_fields=["account_id"])
    audit_record(actor=PLANNER, action="update", object_type=object_type, obj=model, before=before,
                 after=model.snapshot(), reason="Account id read from AWS (GetCallerIdentity)")


def _master_blocks(*, document: dict, live: aws.LiveIam, master: dict, quota: int, live_group_total: int) -> list[dict]:
    blocks = []
    wanted_groups = document["groups"]
    users_wanted = {}
    for group, spec in wanted_groups.items():
        for member in spec["members"]:
            users_wanted.setdefault(member["user"], set()).add(group)
    live_users_lower = {name.lower(): name for name in live.users}
    for user, groups in sorted(users_wanted.items()):
        if user not in live.users:
            hint = f" (AWS has “{live_users_lower[user.lower()]}”: IAM user names are case-sensitive)" if user.lower() in live_users_lower else ""
            blocks.append(block(f"IAM user {user} does not exist in the master account{hint}.", "iam_user", q=user))
            continue
        other_groups = {g for g in live.users[user] if g not in live.groups}
        total = len(other_groups) + len(groups)
        if total > limits.GROUPS_PER_USER_MAX:
            blocks.append(block(f"{user} would be in {total} groups ({len(other_groups)} outside /RoleModel/); "
                                f"IAM allows {limits.GROUPS_PER_USER_MAX}.", "iam_user", q=user))
    after = live_group_total + len(master["groups_create"]) - len(master["groups_remove"])
    if after > quota:
        blocks.append(block(f"The master account would hold {after} IAM groups; its quota is {quota}.", "roles"))
    return blocks


def _store_stack_reads(accounts_by_name: dict, master_model, reads: dict) -> None:
    """Keep what the plan read of each account's stack in its stack record."""
    for name, read in reads.items():
        stack_records.store(account=accounts_by_name[name], stack_name=master_model.stack_name, read=read)


def _read_message(read: stack_records.StackRead) -> str:
    if read.from_record:
        return "Read the stack; unchanged since the console last read it, so its template was not read again"
    return "Read the stack and its template"


def _wrong_accounts(*, document: dict, reached: dict) -> list[str]:
    """Every account whose credentials reached another account than the one recorded.

    The account a read went to is taken from what the plan read anyway (the StackId ARN, the IAM
    ARNs), or from STS when those carry none (:func:`_read_aws`).
    """
    problems = []

    def check(label, reached_id, expected):
        problem = targets.mismatch(label=label, reached=reached_id, expected=expected, outcome="nothing was planned",
                                   expected_as="the console records it as")
        if problem:
            problems.append(problem)

    for name, reached_id in sorted(reached.items()):
        if name != JobStep.MASTER:
            check(name, reached_id, document["accounts"][name]["account_id"])
    if document["master"]["account_id"]:  # an unknown master id blocks the plan on its own
        check(MASTER_LABEL, reached.get(JobStep.MASTER, ""), document["master"]["account_id"])
    return problems


def plan_compute(*, plan_id: int) -> None:
    """Worker side of a plan.

    1. Take the plan's job (queued → running).
    2. Read AWS, every read that can overlap side by side (:func:`_read_aws`): every enabled account's
       stack (the template only when the stack changed since the console last read it), the master's
       IAM state (paginated) and quota, the account ids left empty. Keep the ids and the stack records.
    3. Snapshot the desired state with its fingerprint and the editors since the last apply.
    4. Diff accounts and master; collect blocks (red) and warnings (amber).
    5. Unless blocked, create a change set per account with a create or update (side by side).
    6. Store the plan; supersede older plans still waiting and discard their change sets.
    """
    plan = Plan.objects.get(pk=plan_id)
    job = plan.jobs.get(kind=Job.Kind.PLAN)
    if not job.start():
        return
    master_model = MasterAccount.load()
    counters = {JobStep.MASTER: aws.CallCounter()}
    for account in AssumableAccount.objects.all():
        counters[account.name] = aws.CallCounter()
    steps = {step.target: step for step in job.steps.all()}
    computed = {"account_plans": []}  # filled as the work goes: a failure discards the change sets made

    error = run_guarded(
        lambda: _compute(plan, job, master_model, counters, steps, computed),
        internal_error=lambda failure: f"Internal error: {failure.__class__.__name__}: {failure}",
        what=f"plan {plan.pk}",
    )
    if error is None:
        return  # declared abandoned meanwhile: the reaper recorded the failure and discards our change sets
    if error:
        _fail_plan(plan, job, steps, counters, computed["account_plans"], error)
        return
    _store_plan(plan, job, steps, counters, **{k: v for k, v in computed.items() if k != "account_plans"},
                account_plans=computed["account_plans"])


def _compute(plan: Plan, job: Job, master_model: MasterAccount, counters: dict, steps: dict, computed: dict) -> None:
    """Steps 1-5 of :func:`plan_compute`; what it finds goes into ``computed``."""
    teardown = plan.kind == Plan.Kind.TEARDOWN
    for step in steps.values():
        step.start(total=2)
    if plan.kind == Plan.Kind.REVOCATION:  # the master account's members only
        revocation.compute(plan, master_model, counters, steps, computed)
        return
    accounts_by_name = {account.name: account for account in AssumableAccount.objects.all()}
    aws_reads = _read_aws(accounts_by_name, master_model, counters)
    with transaction.atomic():
        _store_account_ids(master_model, accounts_by_name, aws_reads.identities)
    # Stacks first: the desired templates and group policies name the roles as they live there.
    reads = aws_reads.stacks
    _store_stack_reads(accounts_by_name, master_model, reads)
    live_stacks = {name: read.live for name, read in reads.items()}
    for name, read in reads.items():
        if name in steps:
            step_log(steps[name], _read_message(read), done_delta=1)
    wanted = desired.desired_state_document(teardown=teardown)
    live_iam, quota = aws_reads.iam, aws_reads.quota
    step_log(steps[JobStep.MASTER], f"Read {len(live_iam.groups)} /RoleModel/ groups and {len(live_iam.users)} users",
             done_delta=1)
    wrong = _wrong_accounts(document=wanted, reached=aws_reads.reached)
    if wrong:
        raise targets.WrongAccount("; ".join(wrong))

    confirmations = guards.role_confirmations()
    renames = guards.role_renames(confirmations)
    account_plans = computed["account_plans"]
    account_plans.extend(
        document.account_plan(name=name, entry=entry, live=live_stacks.get(name), master_id=master_model.account_id,
                              teardown=teardown, renames=renames)
        for name, entry in sorted(wanted["accounts"].items())
    )
    if not teardown:  # roles edited in IAM, which no change set sees
        role_repairs.plan_role_repairs(account_plans, accounts_by_name=accounts_by_name, live_stacks=live_stacks,
                                       master_model=master_model, counters=counters,
                                       log=lambda name, message: name in steps and step_log(steps[name], message))
    protected = {name for name, entry in wanted["accounts"].items() if not entry["enabled"]}
    master_plan = document.master_plan(document=wanted, live=live_iam, teardown=teardown, protected_prefixes=protected)
    presenting.say_who_removed(master_plan["members_remove"])
    presenting.mark_groups_unknown_to_console(master_plan["groups_remove"])
    blocks = [block(message, "accounts") for a in account_plans for message in a["blocks"]]
    if not teardown:
        blocks += guards.role_replacement_blocks(account_plans, confirmations)
        blocks += guards.group_removal_blocks(master_plan, confirmations)
        blocks += [block(problem, "dashboard") for problem in desired.desired_state_problems()]
        blocks += _master_blocks(document=wanted, live=live_iam, master=master_plan, quota=quota,
                                 live_group_total=_all_group_count(live_iam))
    if not master_model.account_id:
        blocks.append(block("The master account id is not known.", "master"))
    warnings = [w for a in account_plans for r in a["resources"] for w in diff.resource_warnings(a["name"], r)]
    summary = document.summarize(account_plans, master_plan)

    if not blocks:
        _create_change_sets(plan, job, account_plans, accounts_by_name, master_model, counters, steps)
        guards.apply_change_set_replacements(account_plans)
        if not teardown:  # AWS may see a replacement the table did not: it blocks just the same
            blocks += guards.role_replacement_blocks(account_plans, confirmations)
    for account_plan in account_plans:
        for resource in account_plan["resources"]:
            resource.pop("before", None)
            resource.pop("after", None)
    computed.update(document=wanted, master_plan=master_plan, blocks=blocks, warnings=warnings, summary=summary)


def _store_plan(plan: Plan, job: Job, steps: dict, counters: dict, *, document: dict, account_plans: list,
                master_plan: dict, blocks: list, warnings: list, summary: dict) -> None:
    """Step 6 of :func:`plan_compute`."""
    has_changes = any(summary.values())
    status = Plan.Status.BLOCKED if blocks else Plan.Status.PENDING if has_changes else Plan.Status.NO_CHANGES
    with transaction.atomic():
        if not plan.finish_planning(
            status=status, fingerprint=desired.fingerprint(document), desired_state=document,
            editors=desired.editors_since_last_apply(), summary=summary, accounts=account_plans, master=master_plan,
            editor_ids=desired.editor_ids_since_last_apply(),
            blocks=blocks, warnings=warnings, created_change_sets=[],
        ):
            return  # declared abandoned while we finished: its failure stands
        for target, step in steps.items():
            step_finish(step, counter=counters.get(target))
        job.finish()
        # Revocation plans and the others never supersede each other (plans.revocation); a revocation plan
        # supersedes nothing at all: each removes only what the desired state no longer holds.
        candidates = [] if plan.kind == Plan.Kind.REVOCATION else list(
            Plan.objects.filter(status__in=Plan.SUPERSEDABLE_STATUSES, pk__lt=plan.pk)
            .exclude(kind=Plan.Kind.REVOCATION).values_list("pk", flat=True)
        )
        # Each conditional: a plan that started applying since the read runs on, its change sets kept.
        superseded = [old for old in candidates if Plan(pk=old).supersede()]
        plan.refresh_from_db()
        audit_record(actor=PLANNER, action="plan_computed", object_type="plan", obj=plan,
                     after={"status": status, "summary": summary, "blocks": len(blocks)}, reason=plan.summary_line)
        if status == Plan.Status.PENDING:
            notifications.plan_waiting_for_approval(plan_id=plan.pk, summary=plan.summary_line,
                                                    requested_by=plan.requested_by_name,
                                                    requester_id=plan.requested_by_id, editor_ids=plan.editor_ids)
        for old in superseded:
            audit_record(actor=PLANNER, action="plan_superseded", object_type="plan", object_id=str(old),
                         object_repr=f"plan #{old}", reason=f"Superseded by plan #{plan.pk}")
            dispatch.discard_after_commit(plan_id=old)
        revocation.after_planned(plan)


def _all_group_count(live: aws.LiveIam) -> int:
    groups = set(live.groups)
    for user_groups in live.users.values():
        groups |= user_groups
    return len(groups)


def _create_change_sets(plan, job, account_plans, accounts_by_name, master_model, counters, steps) -> None:
    def create(account_plan):
        access = account_access(accounts_by_name[account_plan["name"]], master_model)
        return aws.change_set_create(
            access, counters[account_plan["name"]], stack_name=master_model.stack_name,
            change_set_name=f"rolemodel-plan-{plan.pk}", change_set_type=account_plan["change_set_type"],
            template_body=template_body(account_plan["template"]), parameters=account_plan["parameters"],
            tags={"rolemodel:plan": str(plan.pk)},
        )

    todo = [a for a in account_plans if a["action"] in CHANGE_SET_ACTIONS]
    if not todo:
        return
    ensure_running(job.pk)
    outcomes = parallel.run_each({a["name"]: (lambda a=a: create(a)) for a in todo}, limit=parallel.read_concurrency())
    made, failures = [], []
    for account_plan in todo:  # the change sets made are recorded first, so that they are discarded too
        outcome = outcomes[account_plan["name"]]
        if outcome.error is not None:
            failures.append(outcome.error)
            continue
        change_set = outcome.result
        account_plan["change_set_id"] = change_set["id"]
        account_plan["aws_changes"] = change_set["changes"]
        made.append({"name": account_plan["name"], "change_set_id": change_set["id"],
                     "created_stack": account_plan["created_stack"]})
        step_log(steps[account_plan["name"]], f"Created change set {account_plan['change_set_type']}")
    if made:
        Plan.objects.filter(pk=plan.pk).update(created_change_sets=made)
    if failures:
        raise parallel.failure_of(failures)


def _fail_plan(plan, job, steps, counters, account_plans, reason: str) -> None:
    """Mark the plan and its job failed; change sets made before the failure are discarded."""
    created = [{"name": a["name"], "change_set_id": a["change_set_id"], "created_stack": a["created_stack"]}
               for a in account_plans if a.get("change_set_id")]
    with transaction.atomic():
        if not plan.fail_planning(reason=reason, accounts=created, created_change_sets=[]):
            return  # declared abandoned meanwhile: the reaper recorded the failure
        if created:
            dispatch.discard_after_commit(plan_id=plan.pk)
        for target, step in steps.items():
            label = MASTER_LABEL if target == JobStep.MASTER else target
            if step.status != JobStep.Status.SUCCEEDED:
                # Reads side by side may fail in several accounts: each names its own account.
                failed_here = any(part.startswith(f"{label}:") for part in reason.split("; "))
                step_finish(step, counter=counters.get(target), error=reason if failed_here else "",
                            status=JobStep.Status.FAILED if failed_here else JobStep.Status.SKIPPED)
        job.finish(error=reason)
        audit_record(actor=PLANNER, action="plan_failed", object_type="plan", obj=plan, reason=reason)
