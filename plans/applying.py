"""Executing an approved plan: each account's stack in its own task, then the master account."""
import json
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import AssumableAccount, MasterAccount
from audit.services import Actor, audit_record
from core import limits
from drift import services as drift_services
from integrations import aws, parallel
from accounts import stack_records
from accounts.access import account_access, master_access
from notifications import services as notifications
from plans import dispatch, revocation, role_repairs, runner, targets
from plans.document import StackAction
from plans.jobs import ensure_running, step_finish, step_log
from plans.models import Job, JobStep, Plan
from roles.cloudformation import template_body


APPLIER = Actor.system("system:apply", source="worker")
SUCCESS_STATUSES = {StackAction.CREATE: ("CREATE_COMPLETE",), StackAction.UPDATE: ("UPDATE_COMPLETE",),
                    StackAction.RECREATE: ("CREATE_COMPLETE",)}
STEP_TOTALS = {StackAction.CREATE: 2, StackAction.UPDATE: 2, StackAction.DELETE: 2, StackAction.RECREATE: 4}
# Stack events older than the step's start (less this, for clocks that disagree) belong to earlier operations.
EVENT_CLOCK_SKEW = timedelta(minutes=1)


def _stack_timeout() -> float:
    return float(settings.ROLEMODEL_STACK_TIMEOUT_SECONDS)


def _account_plan(plan: Plan, name: str) -> dict:
    return next(entry for entry in plan.accounts if entry["name"] == name)


def _stack_reasons(access, counter, stack_name: str, *, status_reason: str, since) -> str:
    """The stack's own words: its status reason, then the failure reasons of its recent events."""
    reasons = aws.stack_failure_reasons(access, counter, stack_name=stack_name, since=since)
    parts = [status_reason] if status_reason and status_reason not in reasons else []
    parts += reasons
    return "; ".join(parts) if parts else "CloudFormation gave no reason"


def _wait_for(access, counter, step, stack_name: str, expected: tuple[str, ...], *, since) -> None:
    def on_poll(stack):
        ensure_running(step.job_id)
        step_log(step, f"Stack {stack.status}")

    try:
        final = aws.stack_wait(access, counter, stack_name=stack_name, timeout=_stack_timeout(), on_poll=on_poll)
    except aws.AwsError as error:
        if error.code != "Timeout":
            raise
        reasons = aws.stack_failure_reasons(access, counter, stack_name=stack_name, since=since)
        detail = f" Its events: {'; '.join(reasons)}" if reasons else ""
        raise aws.AwsError(f"{error}{detail} Plan again once it has finished.", code="Timeout") from None
    status = final.status if final else "DELETE_COMPLETE"
    if status not in expected:
        detail = _stack_reasons(access, counter, stack_name, status_reason=final.status_reason if final else "", since=since)
        raise aws.AwsError(f"{access.label}: stack {stack_name} ended in {status}: {detail}", code="StackFailed")
    step_log(step, f"Stack {status}", done_delta=1)


def _execute_change_set(access, counter, step, *, change_set_id: str, stack_name: str, expected, since) -> None:
    execution_status, status = aws.change_set_status(access, counter, change_set_id=change_set_id)
    if execution_status in ("EXECUTE_COMPLETE", "EXECUTE_IN_PROGRESS"):
        step_log(step, "The change set was already executed (a repeated delivery); checking the stack")
    elif execution_status != "AVAILABLE":
        raise aws.AwsError(
            f"{access.label}: the change set can no longer be executed ({execution_status or status}); plan again.",
            code="ChangeSetNotAvailable",
        )
    else:
        ensure_running(step.job_id)
        aws.change_set_execute(access, counter, change_set_id=change_set_id)
        step_log(step, "Executed the change set", done_delta=1)
    _wait_for(access, counter, step, stack_name, expected, since=since)


def apply_account(*, step_id: int) -> None:
    """Bring one account's stack to the plan: execute its change set (or delete / recreate), then wait."""
    step = JobStep.objects.select_related("job__plan").get(pk=step_id)
    job, plan = step.job, step.job.plan
    if not runner.take(job, step):
        return
    master = _master_model()
    account_plan = _account_plan(plan, step.target)
    counter = aws.CallCounter()
    stack_name = master.stack_name
    action = account_plan["action"]
    repairs = account_plan.get("role_repairs", [])
    if not step.start(total=STEP_TOTALS.get(action, 0 if repairs else 1) + len(repairs)):
        return
    step_log(step, f"Starting: {action} stack {stack_name}" + (f", then {len(repairs)} role repair(s)" if repairs else ""))
    since = timezone.now() - EVENT_CLOCK_SKEW
    # Looked up inside the step's work: an account renamed or deleted since the apply was requested
    # fails this step with the reason, instead of escaping and leaving the step pending.
    account = None

    def work():
        nonlocal account
        account = _account_model(step.target)
        access = account_access(account, master)
        # Before the first write: an edit while the job waited, or a profile repointed in the AWS
        # config file (which no fingerprint sees), would send this step to another account.
        targets.ensure_unchanged(label=step.target, recorded=(plan.desired_state.get("accounts") or {}).get(step.target),
                                 current=targets.account_target(account, master))
        targets.verify_reached(access, counter, expected=account_plan.get("account_id", ""))
        step_log(step, f"Credentials are in account {account_plan['account_id']}, as planned")
        if action in (StackAction.CREATE, StackAction.UPDATE):
            _execute_change_set(access, counter, step, change_set_id=account_plan["change_set_id"], stack_name=stack_name,
                                expected=SUCCESS_STATUSES[action], since=since)
        elif action == StackAction.DELETE:
            ensure_running(job.pk)
            aws.stack_delete(access, counter, stack_name=stack_name)
            step_log(step, "Deleting the stack", done_delta=1)
            _wait_for(access, counter, step, stack_name, ("DELETE_COMPLETE",), since=since)
        elif action == StackAction.RECREATE:
            ensure_running(job.pk)
            aws.stack_delete(access, counter, stack_name=stack_name)
            step_log(step, f"Deleting the stack left in {account_plan.get('recovering_from', 'a failed state')}", done_delta=1)
            _wait_for(access, counter, step, stack_name, ("DELETE_COMPLETE",), since=since)
            ensure_running(job.pk)
            change_set = aws.change_set_create(
                access, counter, stack_name=stack_name, change_set_name=f"rolemodel-job-{job.pk}", change_set_type="CREATE",
                template_body=template_body(account_plan["template"]), parameters=account_plan["parameters"],
                tags={"rolemodel:plan": str(plan.pk)},
            )
            step_log(step, "Created a new CREATE change set", done_delta=1)
            _execute_change_set(access, counter, step, change_set_id=change_set["id"], stack_name=stack_name,
                                expected=SUCCESS_STATUSES[StackAction.RECREATE], since=since)
        if action != StackAction.NONE:
            # The stack changed: keep its new template and role names, so the next plan need not read them.
            step_log(step, stack_records.refresh_after_apply(access, counter, account=account, stack_name=stack_name))
        role_repairs.apply_role_repairs(access, counter, repairs, before_each=lambda: ensure_running(job.pk),
                                        log=lambda message: step_log(step, message, done_delta=1))

    def forget_stack():  # whatever the stack is now, the next plan reads it afresh
        if account is not None:
            stack_records.forget(account=account)

    if runner.run_step(step, work, label=step.target, counter=counter, unless_succeeded=forget_stack) is None:
        return  # declared abandoned: the reaper recorded the failure; start nothing more
    start_master_step_when_accounts_done(job)


def start_master_step_when_accounts_done(job: Job) -> None:
    """Exactly one caller, the last account task to finish, sends the master step."""
    unfinished = JobStep.objects.filter(job=OuterRef("pk")).exclude(target=JobStep.MASTER).exclude(
        status__in=JobStep.FINISHED_STATUSES
    )
    if job.claim_master_step(unfinished_accounts=Exists(unfinished)):
        dispatch.master_step_after_commit(job)


def _iam_operations(master_plan: dict) -> dict[str, list[tuple[str, str, dict]]]:
    """Every IAM write of the plan by group, each group's in an order AWS accepts: (description,
    operation, parameters). A group is created before its policies are put and its members added;
    a group is removed after its members and then its policies. Different groups do not depend on
    each other, so the master step writes them side by side."""
    by_group: dict[str, list] = {}

    def add(group, description, operation, parameters):
        by_group.setdefault(group, []).append((description, operation, {"GroupName": group, **parameters}))

    for item in master_plan["groups_create"]:
        add(item["group"], f"Create group {item['group']}", "create_group", {"Path": limits.GROUP_PATH})
    for item in master_plan["policies_put"]:
        add(item["group"], f"Put policy {item['policy_name']} on {item['group']}", "put_group_policy",
            {"PolicyName": item["policy_name"], "PolicyDocument": json.dumps(item["document"])})
    for item in master_plan["policies_remove"]:
        add(item["group"], f"Remove policy {item['policy_name']} from {item['group']}", "delete_group_policy",
            {"PolicyName": item["policy_name"]})
    for item in master_plan["members_add"]:
        add(item["group"], f"Add {item['user']} to {item['group']}", "add_user_to_group", {"UserName": item["user"]})
    for item in master_plan["members_remove"]:
        add(item["group"], f"Remove {item['user']} from {item['group']}", "remove_user_from_group",
            {"UserName": item["user"]})
    for item in master_plan["groups_remove"]:
        for user in item["members"]:
            add(item["group"], f"Remove {user} from {item['group']}", "remove_user_from_group", {"UserName": user})
        for policy in item["policies"]:
            add(item["group"], f"Remove policy {policy} from {item['group']}", "delete_group_policy",
                {"PolicyName": policy})
        add(item["group"], f"Delete group {item['group']}", "delete_group", {})
    return by_group


def apply_master(*, job_id: int) -> None:
    """The master step: groups, group policies and members, once every account has finished."""
    job = Job.objects.select_related("plan").get(pk=job_id)
    plan = job.plan
    step = job.steps.get(target=JobStep.MASTER)
    if not runner.take(job, step):
        return
    failed_accounts = list(job.steps.exclude(target=JobStep.MASTER).filter(status=JobStep.Status.FAILED))
    if failed_accounts:
        reason = "; ".join(s.error or f"{s.target} failed" for s in failed_accounts)
        step_finish(step, counter=None, status=JobStep.Status.SKIPPED,
                    error="Not started: an account step failed, so the master account was left unchanged.")
        _finish(job, plan, error=f"{len(failed_accounts)} account(s) failed: {reason}")
        return
    refusal = revocation.document_refusal(plan) if plan.kind == Plan.Kind.REVOCATION else ""
    if refusal:  # changed in the database after it was approved: nothing is written
        step_finish(step, counter=None, error=refusal)
        _finish(job, plan, error=refusal)
        return
    operations = _iam_operations(plan.master)
    counter = aws.CallCounter()
    master = _master_model()
    access = master_access(master)
    if not step.start(total=sum(len(writes) for writes in operations.values())):
        return
    def work():
        if operations:  # groups written in another account would grant access nobody approved
            recorded = plan.desired_state.get("master") or {}
            targets.ensure_unchanged(label="master", recorded=recorded, current=targets.master_target(master))
            expected = recorded.get("account_id", "")
            targets.verify_reached(access, counter, expected=expected)
            step_log(step, f"Credentials are in account {expected}, as planned")
            ensure_running(job.pk)
        _write_groups(job, step, access, counter, operations)

    error = runner.run_step(step, work, label="master", counter=counter)
    if error is None:
        return  # declared abandoned: the reaper recorded the failure
    _finish(job, plan, error=error)


def _write_groups(job: Job, step: JobStep, access, counter, operations: dict) -> None:
    """The master step's IAM writes: each group's in order, different groups side by side in a pool
    bounded by ROLEMODEL_AWS_WRITE_CONCURRENCY. The writes share one IAM client, so botocore's adaptive
    retry mode paces them all when IAM throttles. The database stays in this thread: each write done is
    logged here, and the job checked to be still running; once it is not, or a write fails, no further
    write starts and the writes under way end first (see ``parallel.run_lanes``)."""

    def write(operation, parameters):
        return lambda: aws.iam_write(access, counter, operation, **parameters)

    def written(done: parallel.Write) -> None:
        step_log(step, done.description, done_delta=1)
        ensure_running(job.pk)

    lanes = {group: [parallel.Write(description, write(operation, parameters))
                     for description, operation, parameters in writes]
             for group, writes in operations.items()}
    parallel.run_lanes(lanes, limit=parallel.write_concurrency(), on_written=written)


def _finish(job: Job, plan: Plan, *, error: str) -> None:
    with transaction.atomic():
        if not job.finish(error=error):
            return  # it had already ended (declared abandoned): that outcome stands
        if error:
            dispatch.discard_after_commit(failed_apply_job_id=job.pk)
        plan.finish_applying(error=error)
        # What AWS now holds, for drift checks to tell hand changes from pending ones.
        if not error and plan.kind == Plan.Kind.REVOCATION:
            drift_services.record_applied_removals(removals=plan.master.get("members_remove", []), plan_id=plan.pk)
        elif not error:
            drift_services.record_applied_master(document=plan.desired_state, plan_id=plan.pk)
        job.refresh_from_db()
        audit_record(
            actor=APPLIER,
            action="apply_failed" if error else "apply_succeeded",
            object_type="plan",
            obj=plan,
            after={"job": job.pk, "api_calls": job.api_call_totals()},
            reason=error or plan.summary_line,
        )
        notifications.apply_finished(plan_id=plan.pk, summary=plan.summary_line, requester_id=plan.requested_by_id,
                                     approver_id=plan.decided_by_id, error=error)


def _master_model() -> MasterAccount:
    return MasterAccount.load()


def _account_model(name: str) -> AssumableAccount:
    try:
        return AssumableAccount.objects.get(name=name)
    except AssumableAccount.DoesNotExist:
        raise targets.TargetChanged(
            f"{name}: the account is no longer in the console (renamed or deleted after the plan was made); "
            "nothing was written. Request a new plan."
        ) from None
