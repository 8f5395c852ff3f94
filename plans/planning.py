"""Computing a plan: read AWS, compare with the desired state, prepare change sets."""
import logging
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AssumableAccount, MasterAccount
from audit.selectors import membership_removals
from audit.services import Actor, audit_record
from core import limits
from integrations import aws
from plans import desired, diff, guards, normalize, presenting, stack_records, targets
from plans.access import account_access, master_access
from plans.jobs import (
    JobAbandoned,
    discard_change_sets_later,
    ensure_running,
    job_finish,
    job_start,
    step_finish,
    step_log,
    step_start,
)
from plans.models import Job, JobStep, Plan
from roles.cloudformation import template_body

logger = logging.getLogger(__name__)

PLANNER = Actor.system("system:planner", source="worker")
MASTER_PARAMETER = "AssumingAccountID"
MASTER_LABEL = "master"  # how AWS errors name the master account (plans.access.master_access)
BUSY_STATUSES_OK = ("REVIEW_IN_PROGRESS",)
# States a stack cannot be updated from: it is deleted and created again.
RECREATE_STATUSES = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED")
BLOCKING_STATUSES = ("UPDATE_ROLLBACK_FAILED",)
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


def _account_plan(*, name: str, entry: dict, live: aws.LiveStack | None, master_id: str, teardown: bool,
                  renames: dict | None = None) -> dict:
    """Decide what happens to one account's stack and which resources change.

    Templates are compared by meaning (plans.normalize): a difference of form alone is no change and
    makes no change set. An update sends the wanted template written as the live one wherever the two
    mean the same, so that CloudFormation, too, sees only the real changes.
    """
    plan = {"name": name, "account_id": entry["account_id"], "action": "none", "stack_status": live.status if live else "",
            "resources": [], "change_set_id": "", "change_set_type": "", "created_stack": False, "blocks": [],
            "parameters": {MASTER_PARAMETER: master_id}}
    if not entry["enabled"]:
        plan["action"] = "skip"
        return plan
    exists = live is not None and live.status not in ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE")
    if live is not None and live.status.endswith("_IN_PROGRESS") and live.status not in BUSY_STATUSES_OK:
        plan["blocks"].append(f"Account {name}: stack is busy ({live.status}); plan again when it has finished.")
        return plan
    if live is not None and live.status in BLOCKING_STATUSES:
        plan["blocks"].append(
            f"Account {name}: stack is {live.status}; continue the rollback in CloudFormation, then plan again."
        )
        return plan
    if teardown:
        if live is not None and live.status != "DELETE_COMPLETE":
            plan["action"] = "delete"
            plan["resources"] = diff.resource_changes(live.template, None)
        return plan

    wanted = entry["template"]
    has_resources = bool(wanted.get("Resources"))
    plan["template"] = wanted
    if live is not None and live.status in RECREATE_STATUSES:
        plan["action"] = "recreate" if has_resources else "delete"
        plan["resources"] = diff.resource_changes(None, wanted)
        plan["recovering_from"] = live.status
        return plan
    if not exists:
        if has_resources:
            plan["action"] = "create"
            plan["change_set_type"] = "CREATE"
            plan["created_stack"] = live is None
            plan["resources"] = diff.resource_changes(None, wanted)
        return plan
    if not has_resources:
        plan["action"] = "delete"
        plan["resources"] = diff.resource_changes(live.template, None)
        return plan
    same_template = live.template is not None and normalize.same_template(live.template, wanted)
    same_parameters = live.parameters.get(MASTER_PARAMETER) == master_id
    if same_template and same_parameters:
        return plan
    plan["action"] = "update"
    plan["change_set_type"] = "UPDATE"
    plan["template"] = normalize.keep_live_form(live.template, wanted)
    plan["resources"] = diff.resource_changes(live.template, plan["template"], renames=renames)
    if not same_parameters:
        plan["parameter_change"] = {"before": live.parameters.get(MASTER_PARAMETER, ""), "after": master_id}
    return plan


def _master_plan(*, document: dict, live: aws.LiveIam, teardown: bool, protected_prefixes: set) -> dict:
    """Groups, group policies and members to create, change or remove in the master account."""
    wanted = document["groups"]
    master = {"groups_create": [], "groups_remove": [], "policies_put": [], "policies_remove": [],
              "members_add": [], "members_remove": []}
    members_live = {}
    for user, groups in live.users.items():
        for group in groups:
            members_live.setdefault(group, set()).add(user)

    for group in sorted(live.groups):
        if group in wanted:
            continue
        if not teardown and group.split(".", 1)[0] in protected_prefixes:
            continue  # a disabled account's groups are left as they are
        master["groups_remove"].append({
            "group": group,
            "members": sorted(members_live.get(group, set())),
            "policies": sorted(live.groups[group]["policies"]),
        })
    for group, spec in sorted(wanted.items()):
        live_group = live.groups.get(group)
        if live_group is None:
            master["groups_create"].append({"group": group, "account": spec["account"], "role": spec["role"]})
        live_policies = live_group["policies"] if live_group else {}
        current = live_policies.get(spec["policy_name"])
        if current is None or not normalize.same_policy(current, spec["policy"]):
            master["policies_put"].append({
                "group": group, "policy_name": spec["policy_name"], "document": spec["policy"], "before": current,
                "diff": diff.unified_diff(current, spec["policy"], name=spec["policy_name"]),
            })
        for other in sorted(set(live_policies) - {spec["policy_name"]}):
            master["policies_remove"].append({"group": group, "policy_name": other})
        wanted_members = {member["user"]: member for member in spec["members"]}
        current_members = members_live.get(group, set()) if live_group else set()
        for user in sorted(set(wanted_members) - current_members):
            master["members_add"].append({"group": group, **wanted_members[user]})
        for user in sorted(current_members - set(wanted_members)):
            master["members_remove"].append({"group": group, "user": user})
    return master


def _say_who_removed(members_remove: list[dict]) -> None:
    """Add who removed each membership and why, from its audit row (none when it was removed in AWS by hand)."""
    removals = membership_removals({(entry["user"], entry["group"]) for entry in members_remove})
    for entry in members_remove:
        row = removals.get((entry["user"], entry["group"]))
        if row is not None:
            entry.update(removed_by=row.actor_name, reason=row.reason, removed_at=row.created_at.isoformat())


def _iam_user_search_link(user: str) -> str:
    return reverse("memberships:iam_user_list") + "?" + urlencode({"q": user})


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
            blocks.append({"message": f"IAM user {user} does not exist in the master account{hint}.",
                           "link": _iam_user_search_link(user)})
            continue
        other_groups = {g for g in live.users[user] if g not in live.groups}
        total = len(other_groups) + len(groups)
        if total > limits.GROUPS_PER_USER_MAX:
            blocks.append({"message": f"{user} would be in {total} groups ({len(other_groups)} outside /RoleModel/); "
                                      f"IAM allows {limits.GROUPS_PER_USER_MAX}.",
                           "link": _iam_user_search_link(user)})
    after = live_group_total + len(master["groups_create"]) - len(master["groups_remove"])
    if after > quota:
        blocks.append({"message": f"The master account would hold {after} IAM groups; its quota is {quota}.",
                       "link": reverse("roles:list")})
    return blocks


def summarize(accounts: list[dict], master: dict) -> dict:
    summary = {"add": 0, "change": 0, "remove": 0}
    for account in accounts:
        for resource in account["resources"]:
            summary[resource["action"]] += 1
    summary["add"] += len(master["groups_create"]) + len(master["members_add"])
    summary["add"] += sum(1 for put in master["policies_put"] if put["before"] is None)
    summary["change"] += sum(1 for put in master["policies_put"] if put["before"] is not None)
    summary["remove"] += len(master["groups_remove"]) + len(master["members_remove"]) + len(master["policies_remove"])
    return summary


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
    6. Store the plan; supersede older open plans and discard their change sets.
    """
    plan = Plan.objects.get(pk=plan_id)
    job = plan.jobs.get(kind=Job.Kind.PLAN)
    if not job_start(job):
        return
    master_model = MasterAccount.load()
    teardown = plan.kind == Plan.Kind.TEARDOWN
    counters = {JobStep.MASTER: aws.CallCounter()}
    for account in AssumableAccount.objects.all():
        counters[account.name] = aws.CallCounter()
    steps = {step.target: step for step in job.steps.all()}
    account_plans = []
    try:
        for step in steps.values():
            step_start(step, total=2)
        with transaction.atomic():
            _resolve_account_ids(master_model, counters)
        accounts_by_name = {account.name: account for account in AssumableAccount.objects.all()}
        # Stacks first: the desired templates and group policies name the roles as they live there.
        reads = _read_accounts(accounts_by_name, master_model, counters)
        live_stacks = {name: read.live for name, read in reads.items()}
        for name, read in reads.items():
            if name in steps:
                step_log(steps[name], _read_message(read), done_delta=1)
        document = desired.desired_state_document(teardown=teardown)
        master_access_ = master_access(master_model)
        live_iam = aws.iam_read(master_access_, counters[JobStep.MASTER], group_path=limits.GROUP_PATH)
        quota = aws.group_quota(master_access_, counters[JobStep.MASTER])
        step_log(steps[JobStep.MASTER], f"Read {len(live_iam.groups)} /RoleModel/ groups and {len(live_iam.users)} users",
                 done_delta=1)
        wrong = _wrong_accounts(document=document, live_stacks=live_stacks, live_iam=live_iam,
                                accounts_by_name=accounts_by_name, master_model=master_model, counters=counters)
        if wrong:
            raise targets.WrongAccount("; ".join(wrong))

        confirmations = guards.role_confirmations()
        renames = guards.role_renames(confirmations)
        account_plans = [
            _account_plan(name=name, entry=entry, live=live_stacks.get(name), master_id=master_model.account_id,
                          teardown=teardown, renames=renames)
            for name, entry in sorted(document["accounts"].items())
        ]
        protected = {name for name, entry in document["accounts"].items() if not entry["enabled"]}
        master_plan = _master_plan(document=document, live=live_iam, teardown=teardown, protected_prefixes=protected)
        _say_who_removed(master_plan["members_remove"])
        presenting.mark_groups_unknown_to_console(master_plan["groups_remove"])
        blocks = [{"message": message, "link": reverse("accounts:list")} for a in account_plans for message in a["blocks"]]
        if not teardown:
            blocks += guards.role_replacement_blocks(account_plans, confirmations)
            blocks += guards.group_removal_blocks(master_plan, confirmations)
            blocks += [{"message": problem, "link": reverse("console:dashboard")} for problem in desired.desired_state_problems()]
            blocks += _master_blocks(document=document, live=live_iam, master=master_plan, quota=quota,
                                     live_group_total=_all_group_count(live_iam))
        if not master_model.account_id:
            blocks.append({"message": "The master account id is not known.", "link": reverse("accounts:master_edit")})
        warnings = [w for a in account_plans for r in a["resources"] for w in diff.resource_warnings(a["name"], r)]
        summary = summarize(account_plans, master_plan)

        if not blocks:
            _create_change_sets(plan, job, account_plans, accounts_by_name, master_model, counters, steps)
            guards.apply_change_set_replacements(account_plans)
            if not teardown:  # AWS may see a replacement the table did not: it blocks just the same
                blocks += guards.role_replacement_blocks(account_plans, confirmations)
        for account_plan in account_plans:
            for resource in account_plan["resources"]:
                resource.pop("before", None)
                resource.pop("after", None)
    except JobAbandoned:
        return  # declared abandoned meanwhile: the reaper recorded the failure and discards our change sets
    except aws.AwsError as error:
        _fail_plan(plan, job, steps, counters, account_plans, str(error))
        return
    except Exception as error:  # a bug must still leave the job marked failed with the reason
        logger.exception("plan %s failed", plan.pk)
        _fail_plan(plan, job, steps, counters, account_plans, f"Internal error: {error.__class__.__name__}: {error}")
        return

    has_changes = any(summary.values())
    status = Plan.Status.BLOCKED if blocks else Plan.Status.PENDING if has_changes else Plan.Status.NO_CHANGES
    with transaction.atomic():
        if not Plan.objects.filter(pk=plan.pk, status=Plan.Status.PLANNING).update(
            status=status, planned_at=timezone.now(), fingerprint=desired.fingerprint(document), desired_state=document,
            editors=desired.editors_since_last_apply(), summary=summary, accounts=account_plans, master=master_plan,
            editor_ids=desired.editor_ids_since_last_apply(),
            blocks=blocks, warnings=warnings, created_change_sets=[],
        ):
            return  # declared abandoned while we finished: its failure stands
        for target, step in steps.items():
            step_finish(step, counter=counters.get(target))
        job_finish(job)
        superseded = list(
            Plan.objects.filter(status__in=(Plan.Status.PENDING, Plan.Status.BLOCKED, Plan.Status.APPROVED), pk__lt=plan.pk)
            .values_list("pk", flat=True)
        )
        Plan.objects.filter(pk__in=superseded).update(status=Plan.Status.SUPERSEDED)
        plan.refresh_from_db()
        audit_record(actor=PLANNER, action="plan_computed", object_type="plan", obj=plan,
                     after={"status": status, "summary": summary, "blocks": len(blocks)}, reason=plan.summary_line)
        for old in superseded:
            audit_record(actor=PLANNER, action="plan_superseded", object_type="plan", object_id=str(old),
                         object_repr=f"plan #{old}", reason=f"Superseded by plan #{plan.pk}")
            transaction.on_commit(lambda old=old: discard_change_sets_later(plan_id=old))


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

    todo = [a for a in account_plans if a["action"] in ("create", "update")]
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
        if not Plan.objects.filter(pk=plan.pk, status=Plan.Status.PLANNING).update(
            status=Plan.Status.FAILED, error=reason, planned_at=timezone.now(), accounts=created, created_change_sets=[]
        ):
            return  # declared abandoned meanwhile: the reaper recorded the failure
        if created:
            transaction.on_commit(lambda: discard_change_sets_later(plan_id=plan.pk))
        for target, step in steps.items():
            label = MASTER_LABEL if target == JobStep.MASTER else target
            if step.status != JobStep.Status.SUCCEEDED:
                failed_here = reason.startswith(f"{label}:")
                step_finish(step, counter=counters.get(target), error=reason if failed_here else "",
                            status=JobStep.Status.FAILED if failed_here else JobStep.Status.SKIPPED)
        job_finish(job, error=reason)
        audit_record(actor=PLANNER, action="plan_failed", object_type="plan", obj=plan, reason=reason)
