"""The workflow: request a plan, approve or reject it, apply it. Every transition is audited."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AssumableAccount, MasterAccount
from audit.services import Actor, audit_record
from core.permissions import check_actor, has_capability
from integrations import aws
from plans import desired, targets
from plans.access import account_access
from plans.jobs import discard_change_sets_later, reap_abandoned_jobs, send_tasks, step_add_calls
from plans.models import Job, JobStep, Plan


class PlanError(ValidationError):
    """A workflow step refused, with the reason a person can act on."""


def _steps_for(job: Job, targets: list[str]) -> None:
    JobStep.objects.bulk_create(
        [JobStep(job=job, target=target, position=position) for position, target in enumerate(targets)]
        + [JobStep(job=job, target=JobStep.MASTER, position=len(targets))]
    )


@transaction.atomic
def plan_request(*, actor: Actor, teardown: bool = False) -> Plan:
    """Create a plan and its job; the worker computes it after this transaction commits."""
    from plans.tasks import compute_plan_task

    check_actor(actor, "edit", "Only members of the Editor or Admin group request plans.")
    reap_abandoned_jobs()
    plan = Plan.objects.create(
        kind=Plan.Kind.TEARDOWN if teardown else Plan.Kind.CONVERGE,
        requested_by=actor.user,
        requested_by_name=actor.name,
    )
    job = Job.objects.create(kind=Job.Kind.PLAN, plan=plan, requested_by=actor.user, requested_by_name=actor.name)
    _steps_for(job, list(AssumableAccount.objects.filter(enabled=True).order_by("name").values_list("name", flat=True)))
    audit_record(actor=actor, action="plan_requested", object_type="plan", obj=plan,
                 after={"kind": plan.kind}, reason="Teardown of every stack and /RoleModel/ group" if teardown else "")
    transaction.on_commit(lambda: send_tasks(job, lambda: compute_plan_task.delay(plan.pk)))
    return plan


def approval_refusal(*, user, plan: Plan) -> str:
    """Why ``user`` may not approve ``plan``, or an empty string when they may."""
    if not has_capability(user, "approve"):
        return "Only members of the Approver group approve plans."
    if plan.status != Plan.Status.PENDING:
        if plan.status == Plan.Status.BLOCKED:
            return "This plan is blocked: fix what is listed in red and plan again."
        return f"This plan is {plan.get_status_display().lower()}; only a plan waiting for approval can be approved."
    return own_work_refusal(plan=plan, user_id=user.pk)


def own_work_refusal(*, plan: Plan, user_id: int | None) -> str:
    """Why the person with this user id may not be the second pair of eyes on ``plan``, or "".

    By id, never by name: a name can be changed (a rename is an ordinary console user edit) or
    imitated, an id cannot.
    """
    if user_id is None:
        return ""
    if plan.requested_by_id == user_id:
        return "You requested this plan; another person must approve it (four eyes)."
    if user_id in plan.editor_ids:
        return "You edited the desired state this plan carries; another person must approve it (four eyes)."
    return ""


@transaction.atomic
def plan_approve(*, actor: Actor, plan: Plan, comment: str = "") -> Plan:
    if actor.user is None:
        raise PermissionDenied("A plan is approved by a console user, not a system actor.")
    check_actor(actor, "approve")
    refusal = approval_refusal(user=actor.user, plan=plan)
    if refusal:
        raise PlanError(refusal)
    # Two approvers clicking at once: only one conditional update changes the row.
    changed = Plan.objects.filter(pk=plan.pk, status=Plan.Status.PENDING).update(
        status=Plan.Status.APPROVED, decided_by=actor.user, decided_by_name=actor.name, decided_at=timezone.now(),
        decision_comment=comment,
    )
    if not changed:
        raise PlanError("This plan was decided by someone else a moment ago.")
    plan.refresh_from_db()
    audit_record(actor=actor, action="plan_approved", object_type="plan", obj=plan,
                 after={"summary": plan.summary, "fingerprint": plan.fingerprint}, reason=comment)
    return plan


@transaction.atomic
def plan_reject(*, actor: Actor, plan: Plan, comment: str) -> Plan:
    check_actor(actor, "approve", "Only members of the Approver group reject plans.")
    comment = (comment or "").strip()
    if not comment:
        raise PlanError("Say why you reject this plan: the comment goes to the requester and the audit history.")
    changed = Plan.objects.filter(pk=plan.pk, status__in=(Plan.Status.PENDING, Plan.Status.BLOCKED)).update(
        status=Plan.Status.REJECTED, decided_by=actor.user, decided_by_name=actor.name, decided_at=timezone.now(),
        decision_comment=comment,
    )
    if not changed:
        raise PlanError("Only a plan waiting for approval (or blocked) can be rejected.")
    plan.refresh_from_db()
    audit_record(actor=actor, action="plan_rejected", object_type="plan", obj=plan, reason=comment)
    transaction.on_commit(lambda: discard_change_sets_later(plan_id=plan.pk))
    return plan


@transaction.atomic
def apply_request(*, actor: Actor, plan: Plan) -> Job:
    """Start applying an approved plan, once.

    1. Refuse unless the plan is approved and the desired state is still what it was planned from.
    2. Move the plan approved → applying with a conditional update (a double click loses here).
    3. Create the job and its steps; the unique constraint refuses a second apply running at once.
    4. After commit, send one task per account, or the master step when no stack changes.
    """
    from plans.tasks import apply_account_task, apply_master_task

    check_actor(actor, "apply")
    reap_abandoned_jobs()  # a dead apply would otherwise block every new one
    if plan.status != Plan.Status.APPROVED:
        raise PlanError(f"Only an approved plan can be applied; this one is {plan.get_status_display().lower()}.")
    if own_work_refusal(plan=plan, user_id=plan.decided_by_id):
        # An approval recorded by an older release, or written around plan_approve: it does not count.
        raise PlanError("This plan was approved by a person who requested it or edited the desired state it carries; "
                        "that is not four eyes. Request a new plan.")
    current = desired.fingerprint(desired.desired_state_document(teardown=plan.kind == Plan.Kind.TEARDOWN))
    if current != plan.fingerprint:
        raise PlanError("The desired state changed after this plan was made, so it is stale. Request a new plan.")
    if not Plan.objects.filter(pk=plan.pk, status=Plan.Status.APPROVED).update(status=Plan.Status.APPLYING):
        raise PlanError("This plan is already being applied.")
    targets = [entry["name"] for entry in plan.accounts if entry["action"] not in ("none", "skip")]
    try:
        with transaction.atomic():
            job = Job.objects.create(kind=Job.Kind.APPLY, plan=plan, requested_by=actor.user, requested_by_name=actor.name,
                                     master_step_started=not targets)
    except IntegrityError:
        raise PlanError("Another apply is running; wait for it to finish.") from None
    _steps_for(job, targets)
    audit_record(actor=actor, action="apply_requested", object_type="plan", obj=plan, after={"job": job.pk})
    step_ids = list(job.steps.exclude(target=JobStep.MASTER).values_list("pk", flat=True))
    if step_ids:
        sends = [lambda step_id=step_id: apply_account_task.delay(step_id) for step_id in step_ids]
    else:
        sends = [lambda: apply_master_task.delay(job.pk)]
    transaction.on_commit(lambda: send_tasks(job, *sends))
    return job


def discard_change_sets(*, plan_id: int) -> list[str]:
    """Delete a dead plan's change sets, and stacks that only its CREATE change sets made. The calls
    are counted on the plan job's step of each account."""
    plan = Plan.objects.get(pk=plan_id)
    job = plan.jobs.filter(kind=Job.Kind.PLAN).first()
    return discard_account_change_sets(plan.accounts, job=job)


def discard_account_change_sets(entries: list[dict], *, only_unexecuted: bool = False, job: Job | None = None) -> list[str]:
    """Delete the change sets of these account plan entries, and a stack only such a change set made
    (kept while a newer plan's change set is on it). With ``only_unexecuted``, a change set an apply
    already executed (or is executing) is left alone. The calls made for each account are added to
    ``job``'s step of that account (its ``api_calls``, under "cleanup" too), even when one fails.
    Returns the accounts cleaned.

    Nothing is deleted through credentials that reach another account than the one the change set
    lives in (its ARN says which): those are left, and raised as ``WrongAccount`` after the others."""
    master = MasterAccount.load()
    accounts = {account.name: account for account in AssumableAccount.objects.all()}
    cleaned, wrong = [], []
    for entry in entries:
        if not entry.get("change_set_id") or entry["name"] not in accounts:
            continue
        access = account_access(accounts[entry["name"]], master)
        counter = aws.CallCounter()
        try:
            # The change set's own ARN names the account it lives in: delete only there.
            expected = targets.account_id_from_arn(entry["change_set_id"]) or entry.get("account_id", "")
            try:
                targets.verify_reached(access, counter, expected=expected, outcome="nothing was deleted")
            except targets.WrongAccount as error:
                wrong.append(str(error))
                continue
            if not only_unexecuted or _change_set_execution_status(access, counter, entry["change_set_id"]) == "AVAILABLE":
                aws.change_set_delete(access, counter, change_set_id=entry["change_set_id"])
            if entry.get("created_stack"):
                aws.stack_delete_if_under_review(access, counter, stack_name=master.stack_name)
        finally:
            if job is not None:
                step_add_calls(job=job, target=entry["name"], counter=counter, part="cleanup")
        cleaned.append(entry["name"])
    if wrong:
        # Raised after the others are cleaned, so the task retries these once the profile is put right.
        raise targets.WrongAccount("; ".join(wrong))
    return cleaned


def _change_set_execution_status(access, counter, change_set_id: str) -> str:
    try:
        execution_status, _ = aws.change_set_status(access, counter, change_set_id=change_set_id)
    except aws.AwsError as error:
        if "ChangeSetNotFound" not in error.code:
            raise
        return "GONE"
    return execution_status
