"""Computing a plan: read AWS, compare with the desired state, prepare change sets."""
import logging
from concurrent.futures import ThreadPoolExecutor

from django.db import transaction

from accounts.models import AssumableAccount, MasterAccount
from audit.selectors import membership_removals
from audit.services import Actor, audit_record
from core import limits
from integrations import aws
from notifications import services as notifications
from plans import desired, diff, dispatch, document, guards, presenting, role_repairs, stack_records, targets
from plans.access import account_access, master_access
from plans.document import CHANGE_SET_ACTIONS, block
from plans.jobs import ensure_running, step_finish, step_log
from plans.models import Job, JobStep, Plan
from plans.runner import run_guarded
from roles.cloudformation import template_body

logger = logging.getLogger(__name__)

PLANNER = Actor.system("system:planner", source="worker")
MASTER_LABEL = "master"  # how AWS errors name the master account (plans.access.master_access)
PARALLEL_ACCOUNTS = 8


def _resolve_account_ids(master: MasterAccount, counters: dict) -> None:
    """Fill in account ids the import left empty, from STS, and keep them (audited)."""
    if not master.account_id:
        _store_account_id(master, "master account", aws.caller_account_id(master_access(master), counters[JobStep.MASTER]))
    for account in AssumableAccount.objects.filter(enabled=True, account_id=""):
        _store_account_id(account, "account", aws.caller_account_id(account_access(account, master), counters[account.name]))


def _store_account_id(model, object_type: str, account_id: str) -> None:
    before = model.snapshot()
    model.account_id = account_id
    model.full_clean()
    model.save(update_fields=["account_id"])
    audit_record(actor=PLANNER, action="update", object_type=object_type, obj=model, before=before,
                 after=model.snapshot(), reason="Account id read from AWS (GetCallerIdentity)")


def _say_who_removed(members_remove: list[dict]) -> None:
    """Add who removed each membership and why, from its audit row (none when it was removed in AWS by hand)."""
    removals = membership_removals({(entry["user"], entry["group"]) for entry in members_remove})
    for entry in members_remove:
        row = removals.get((entry["user"], entry["group"]))
        if row is not None:
            entry.update(removed_by=row.actor_name, reason=row.reason, removed_at=row.created_at.isoformat())


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


def _read_accounts(accounts_by_name: dict, master_model, counters) -> dict:
    """Read every enabled account's stack in parallel threads (AWS calls only), then keep what was
    read in the accounts' stack records. A stack unchanged since its record is not read again."""
    enabled = [account for account in accounts_by_name.values() if account.enabled]
    records = stack_records.records_for(enabled, stack_name=master_model.stack_name)

    def read(account):
        return stack_records.read_stack(account_access(account, master_model), counters[account.name],
                                        stack_name=master_model.stack_name, record=records.get(account.pk))

    with ThreadPoolExecutor(max_workers=PARALLEL_ACCOUNTS) as pool:
        futures = {account.name: pool.submit(read, account) for account in enabled}
        reads = {name: future.result() for name, future in futures.items()}
    for account in enabled:
        stack_records.store(account=account, stack_name=master_model.stack_name, read=reads[account.name])
    return reads


def _read_message(read: stack_records.StackRead) -> str:
    if read.from_record:
        return "Read the stack; unchanged since the console last read it, so its template was not read again"
    return "Read the stack and its template"


def _wrong_accounts(*, document: dict, live_stacks: dict, live_iam: aws.LiveIam, accounts_by_name: dict,
                    master_model, counters: dict) -> list[str]:
    """Every account whose credentials reached another account than the one recorded.

    The account a read went to is taken from what the plan read anyway (the StackId ARN, the IAM
    ARNs): STS is asked only when those carry none (no stack yet, no group or user), so a no-op
    plan makes no call more.
    """
    problems = []

    def check(label, access, counter, arn_account, expected):
        reached = arn_account or aws.caller_account_id(access, counter)
        problem = targets.mismatch(label=label, reached=reached, expected=expected, outcome="nothing was planned",
                                   expected_as="the console records it as")
        if problem:
            problems.append(problem)

    for name, live in sorted(live_stacks.items()):
        stack_account = aws.account_id_from_arn(live.stack_id) if live is not None else ""
        check(name, account_access(accounts_by_name[name], master_model), counters[name], stack_account,
              document["accounts"][name]["account_id"])
    if document["master"]["account_id"]:  # an unknown master id blocks the plan on its own
        check(MASTER_LABEL, master_access(master_model), counters[JobStep.MASTER], live_iam.account_id,
              document["master"]["account_id"])
    return problems


def plan_compute(*, plan_id: int) -> None:
    """Worker side of a plan.

    1. Take the plan's job (queued → running) and resolve account ids left empty.
    2. Read every enabled account's stack (in parallel; the template only when the stack changed since
       the console last read it) and keep it in the account's stack record.
    3. Snapshot the desired state with its fingerprint and the editors since the last apply; read
       the master's IAM state (paginated).
    4. Diff accounts and master; collect blocks (red) and warnings (amber).
    5. Unless blocked, create a change set per account with a create or update.
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
    with transaction.atomic():
        _resolve_account_ids(master_model, counters)
    accounts_by_name = {account.name: account for account in AssumableAccount.objects.all()}
    # Stacks first: the desired templates and group policies name the roles as they live there.
    reads = _read_accounts(accounts_by_name, master_model, counters)
    live_stacks = {name: read.live for name, read in reads.items()}
    for name, read in reads.items():
        if name in steps:
            step_log(steps[name], _read_message(read), done_delta=1)
    wanted = desired.desired_state_document(teardown=teardown)
    master_access_ = master_access(master_model)
    live_iam = aws.iam_read(master_access_, counters[JobStep.MASTER], group_path=limits.GROUP_PATH)
    quota = aws.group_quota(master_access_, counters[JobStep.MASTER])
    step_log(steps[JobStep.MASTER], f"Read {len(live_iam.groups)} /RoleModel/ groups and {len(live_iam.users)} users",
             done_delta=1)
    wrong = _wrong_accounts(document=wanted, live_stacks=live_stacks, live_iam=live_iam,
                            accounts_by_name=accounts_by_name, master_model=master_model, counters=counters)
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
    _say_who_removed(master_plan["members_remove"])
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
        candidates = list(
            Plan.objects.filter(status__in=Plan.SUPERSEDABLE_STATUSES, pk__lt=plan.pk).values_list("pk", flat=True)
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
    made = []
    with ThreadPoolExecutor(max_workers=PARALLEL_ACCOUNTS) as pool:
        results = {a["name"]: pool.submit(create, a) for a in todo}
        failures = []
        for account_plan in todo:
            try:
                change_set = results[account_plan["name"]].result()
            except aws.AwsError as error:  # record the others first, so that they are discarded too
                failures.append(error)
                continue
            account_plan["change_set_id"] = change_set["id"]
            account_plan["aws_changes"] = change_set["changes"]
            made.append({"name": account_plan["name"], "change_set_id": change_set["id"],
                         "created_stack": account_plan["created_stack"]})
            Plan.objects.filter(pk=plan.pk).update(created_change_sets=made)
            step_log(steps[account_plan["name"]], f"Created change set {account_plan['change_set_type']}")
    if failures:
        raise failures[0]


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
                failed_here = reason.startswith(f"{label}:")
                step_finish(step, counter=counters.get(target), error=reason if failed_here else "",
                            status=JobStep.Status.FAILED if failed_here else JobStep.Status.SKIPPED)
        job.finish(error=reason)
        audit_record(actor=PLANNER, action="plan_failed", object_type="plan", obj=plan, reason=reason)
