"""The workflow: request a plan, approve or reject it, apply it. Every transition is audited."""
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import AssumableAccount
from audit.services import Actor, audit_record
from core.permissions import check_actor, has_capability
from notifications import services as notifications
from plans import desired, dispatch, revocation
from plans.document import has_account_step
from plans.jobs import reap_abandoned_jobs
from plans.models import Job, JobStep, Plan

logger = logging.getLogger(__name__)


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
    dispatch.plan_compute_after_commit(job)
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
    if not plan.approve(user=actor.user, name=actor.name, comment=comment):
        raise PlanError("This plan was decided by someone else a moment ago.")
    plan.refresh_from_db()
    audit_record(actor=actor, action="plan_approved", object_type="plan", obj=plan,
                 after={"summary": plan.summary, "fingerprint": plan.fingerprint}, reason=comment)
    notifications.plan_approved(plan_id=plan.pk, summary=plan.summary_line, decided_by=actor.name,
                                decided_by_id=actor.user.pk, requester_id=plan.requested_by_id, comment=comment)
    return plan


@transaction.atomic
def plan_reject(*, actor: Actor, plan: Plan, comment: str) -> Plan:
    check_actor(actor, "approve", "Only members of the Approver group reject plans.")
    comment = (comment or "").strip()
    if not comment:
        raise PlanError("Say why you reject this plan: the comment goes to the requester and the audit history.")
    if not plan.reject(user=actor.user, name=actor.name, comment=comment):
        raise PlanError("Only a plan waiting for approval (or blocked) can be rejected.")
    plan.refresh_from_db()
    audit_record(actor=actor, action="plan_rejected", object_type="plan", obj=plan, reason=comment)
    notifications.plan_rejected(plan_id=plan.pk, summary=plan.summary_line, decided_by=actor.name,
                                decided_by_id=plan.decided_by_id, requester_id=plan.requested_by_id, comment=comment)
    dispatch.discard_after_commit(plan_id=plan.pk)
    return plan


@transaction.atomic
def apply_request(*, actor: Actor, plan: Plan) -> Job:
    """Start applying an approved plan, once.

    1. Refuse unless the plan is approved and the desired state is still what it was planned from.
    2. Move the plan approved → applying with a conditional update (a double click loses here).
    3. Create the job and its steps; the unique constraint refuses a second apply running at once.
    4. After commit, send one task per account, or the master step when no stack changes.
    """
    check_actor(actor, "apply")
    reap_abandoned_jobs()  # a dead apply would otherwise block every new one
    if plan.status != Plan.Status.APPROVED:
        raise PlanError(f"Only an approved plan can be applied; this one is {plan.get_status_display().lower()}.")
    if own_work_refusal(plan=plan, user_id=plan.decided_by_id):
        # An approval recorded by an older release, or written around plan_approve: it does not count.
        raise PlanError("This plan was approved by a person who requested it or edited the desired state it carries; "
                        "that is not four eyes. Request a new plan.")
    if plan.kind == Plan.Kind.REVOCATION:
        # Only member removals, whoever approved it; stale only when a removal it holds is wanted again.
        refusal = revocation.document_refusal(plan) or revocation.stale_reason(plan)
        if refusal:
            raise PlanError(refusal)
    else:
        if plan.decided_by_id is None and plan.decided_by_name == revocation.RULE_ACTOR.name:
            raise PlanError("This plan is marked as approved by the revocation rule, which approves only revocation "
                            "plans; it cannot be applied. Request a new plan.")
        current = desired.fingerprint(desired.desired_state_document(teardown=plan.kind == Plan.Kind.TEARDOWN))
        if current != plan.fingerprint:
            raise PlanError("The desired state changed after this plan was made, so it is stale. Request a new plan.")
    if not plan.start_applying():
        raise PlanError("This plan is already being applied.")
    targets = [entry["name"] for entry in plan.accounts if has_account_step(entry)]
    try:
        with transaction.atomic():
            job = Job.objects.create(kind=Job.Kind.APPLY, plan=plan, requested_by=actor.user, requested_by_name=actor.name,
                                     master_step_started=not targets)
    except IntegrityError:
        raise PlanError("Another apply is running; wait for it to finish.") from None
    _steps_for(job, targets)
    audit_record(actor=actor, action="apply_requested", object_type="plan", obj=plan, after={"job": job.pk})
    dispatch.apply_after_commit(job)
    return job


def revocation_apply_by_rule(*, plan_id: int) -> Job | None:
    """Apply a revocation plan the system approved under the revocation rule (the worker, at once).

    1. Leave any other plan alone: a person applies what a person approved.
    2. A plan gone stale (a removal it holds was granted again) is superseded, audited.
    3. Otherwise request its apply as the rule's actor. When another apply is running (one at a time),
       the plan stays approved and the next expiry check (``plans.revocation.expiry_tick``) tries again.
    """
    plan = Plan.objects.get(pk=plan_id)
    if plan.status != Plan.Status.APPROVED or not revocation.is_approved_by_rule(plan):
        return None
    stale = revocation.stale_reason(plan)
    if stale:
        with transaction.atomic():
            if plan.supersede():
                audit_record(actor=revocation.RULE_ACTOR, action="plan_superseded", object_type="plan", obj=plan,
                             reason=stale)
        return None
    try:
        return apply_request(actor=revocation.RULE_ACTOR, plan=plan)
    except PlanError as error:
        logger.info("revocation plan %s not applied yet (the next expiry check tries again): %s", plan.pk,
                    " ".join(error.messages))
        return None
