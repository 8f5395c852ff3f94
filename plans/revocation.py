"""Revocations on time: a plan that may only remove members from /RoleModel/ groups.

An expired membership, or an offboarded person, leaves the desired state at once; a *revocation plan*
carries that to AWS without waiting for the next converge plan. It is planned from the master
account's groups alone (one paginated GetAccountAuthorizationDetails) and holds nothing but member
removals. Narrowing access needs no second person: with ``ROLEMODEL_AUTO_APPLY_REVOCATIONS`` the
system approves such a plan under that rule (:func:`approve_by_rule`) and applies it at once. Four
eyes guard everything else: the rule approves only a plan of this kind whose document removes
members and nothing more, and the apply checks the document again before its first write.

A revocation plan neither supersedes nor is superseded by a converge plan (``planning._store_plan``),
and only a later grant of the very membership it removes makes it stale (:func:`stale_reason`).
"""
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import MasterAccount
from audit.models import AuditEvent
from audit.services import Actor, audit_record
from core import limits
from core.permissions import check_actor
from integrations import aws
from memberships.models import IAMUser
from memberships.services import expire_due_memberships, membership_revoke
from plans import desired, dispatch, presenting, targets
from accounts.access import master_access
from plans.document import UNCHANGED_ACTIONS, block, summarize
from plans.jobs import reap_abandoned_jobs, step_log
from plans.models import Job, JobStep, Plan

logger = logging.getLogger(__name__)

RULE_SETTING = "ROLEMODEL_AUTO_APPLY_REVOCATIONS"
# The one system actor that approves anything, and only what this module allows (core.permissions).
RULE_ACTOR = Actor.system("system:revocation-rule", source=AuditEvent.Source.WORKER)
RULE_COMMENT = (f"Approved by the system under the revocation rule ({RULE_SETTING}=true): "
                "this plan only removes members from groups, so no second person is needed.")
EXPIRY_ACTOR = Actor.system("system:expiry", source=AuditEvent.Source.WORKER)
MASTER_LABEL = "master"
MASTER_PARTS = ("groups_create", "groups_remove", "policies_put", "policies_remove", "members_add", "members_remove")


class RevocationError(ValidationError):
    """A revocation request refused, with the reason a person can act on."""


def auto_apply_enabled() -> bool:
    return bool(getattr(settings, RULE_SETTING))


# --- the rule: what a revocation plan may hold ------------------------------------------------


def document_refusal(plan: Plan) -> str:
    """Why ``plan`` is not a pure revocation (anything but member removals), or "" when it is one."""
    if plan.kind != Plan.Kind.REVOCATION:
        return f"Plan #{plan.pk} is a {plan.get_kind_display().lower()} plan, not a revocation plan."
    master = plan.master or {}
    extra = [part for part in MASTER_PARTS if part != "members_remove" and master.get(part)]
    if extra:
        return (f"Plan #{plan.pk} is a revocation plan but holds {', '.join(extra)}: a revocation plan may only "
                "remove members from groups. Nothing was written.")
    changed = [entry.get("name", "?") for entry in plan.accounts or []
               if entry.get("action") not in UNCHANGED_ACTIONS or entry.get("resources")]
    if changed:
        return (f"Plan #{plan.pk} is a revocation plan but changes the stacks of {', '.join(changed)}: a revocation "
                "plan may only remove members from groups. Nothing was written.")
    summary = plan.summary or {}
    if summary.get("add") or summary.get("change"):
        return f"Plan #{plan.pk} is a revocation plan but its summary adds or changes something. Nothing was written."
    managed = (plan.desired_state or {}).get("groups", {})
    unmanaged = sorted({str(entry.get("group")) for entry in master.get("members_remove") or []} - set(managed))
    if unmanaged:
        return (f"Plan #{plan.pk} is a revocation plan but removes members from {', '.join(unmanaged)}, which the "
                "console does not manage. Nothing was written.")
    return ""


def stale_reason(plan: Plan) -> str:
    """Why a revocation plan must not be applied any more, or "": a removal it holds is wanted again
    (the person was granted that group after the plan was made). Other edits of the desired state do
    not matter to it: it only removes members the console does not want."""
    wanted = desired.desired_state_document().get("groups", {})
    regranted = sorted(
        f"{entry['user']} in {entry['group']}"
        for entry in (plan.master or {}).get("members_remove", [])
        if entry["user"] in {member["user"] for member in wanted.get(entry["group"], {}).get("members", [])}
    )
    if regranted:
        return (f"Granted again after this revocation plan was made: {', '.join(regranted)}. "
                "It is stale; a new plan is needed.")
    return ""


def rule_refusal(plan: Plan) -> str:
    """Why the system may not approve ``plan`` under the revocation rule, or "" when it may."""
    if plan.kind != Plan.Kind.REVOCATION:
        return "The system approves only revocation plans; every other plan needs a second person (four eyes)."
    if not auto_apply_enabled():
        return f"{RULE_SETTING} is off: a person approves revocation plans."
    if plan.status != Plan.Status.PENDING:
        return f"This plan is {plan.get_status_display().lower()}; only a plan waiting for approval can be approved."
    return document_refusal(plan) or stale_reason(plan)


@transaction.atomic
def approve_by_rule(plan: Plan) -> bool:
    """Approve a pending, pure revocation plan as the system, under the rule; audited as such.

    Returns False (and approves nothing) when the rule does not apply: see :func:`rule_refusal`.
    """
    check_actor(RULE_ACTOR, "approve_removals")
    refusal = rule_refusal(plan)
    if refusal:
        logger.info("plan %s not approved by the revocation rule: %s", plan.pk, refusal)
        return False
    if not plan.approve(user=None, name=RULE_ACTOR.name, comment=RULE_COMMENT):
        return False
    plan.refresh_from_db()
    audit_record(actor=RULE_ACTOR, action=AuditEvent.Action.PLAN_APPROVED, object_type=AuditEvent.ObjectType.PLAN,
                 obj=plan, after={"summary": plan.summary, "fingerprint": plan.fingerprint, "rule": RULE_SETTING},
                 reason=RULE_COMMENT)
    return True


def after_planned(plan: Plan) -> None:
    """Called in the transaction that stores a plan: a revocation plan waiting for approval is approved
    by the rule when it is on, and its apply is queued after commit. Off, it waits like any plan."""
    if plan.kind == Plan.Kind.REVOCATION and plan.status == Plan.Status.PENDING and approve_by_rule(plan):
        dispatch.revocation_apply_after_commit(plan.pk)


def is_approved_by_rule(plan: Plan) -> bool:
    return plan.kind == Plan.Kind.REVOCATION and plan.decided_by_id is None and plan.decided_by_name == RULE_ACTOR.name


# --- requesting and computing ---------------------------------------------------------------


@transaction.atomic
def revocation_request(*, actor: Actor, reason: str) -> Plan:
    """Create a revocation plan and its job (the master account's step only); the worker computes it
    after this transaction commits. It supersedes nothing and waits behind nothing."""
    check_actor(actor, "edit", "Only members of the Editor or Admin group request plans.")
    reap_abandoned_jobs()
    plan = Plan.objects.create(kind=Plan.Kind.REVOCATION, requested_by=actor.user, requested_by_name=actor.name)
    job = Job.objects.create(kind=Job.Kind.PLAN, plan=plan, requested_by=actor.user, requested_by_name=actor.name)
    JobStep.objects.create(job=job, target=JobStep.MASTER, position=0)
    audit_record(actor=actor, action=AuditEvent.Action.PLAN_REQUESTED, object_type=AuditEvent.ObjectType.PLAN, obj=plan,
                 after={"kind": plan.kind}, reason=reason)
    dispatch.plan_compute_after_commit(job)
    return plan


def compute(plan: Plan, master_model: MasterAccount, counters: dict, steps: dict, computed: dict) -> None:
    """The planner's work for a revocation plan (``planning._compute`` hands it over): read the master
    account's groups once, and remove from each group the console manages every member the desired
    state does not hold. No stack is read, no change set made, nothing added or changed."""
    counter = counters[JobStep.MASTER]
    wanted = desired.desired_state_document()
    access = master_access(master_model)
    live = aws.iam_read(access, counter, group_path=limits.GROUP_PATH)
    step_log(steps[JobStep.MASTER], f"Read {len(live.groups)} /RoleModel/ groups and {len(live.users)} users",
             done_delta=1)
    expected = wanted["master"]["account_id"]
    if expected:
        problem = targets.mismatch(label=MASTER_LABEL, reached=live.account_id or aws.caller_account_id(access, counter),
                                   expected=expected, outcome="nothing was planned",
                                   expected_as="the console records it as")
        if problem:
            raise targets.WrongAccount(problem)
    removals = removals_from(wanted=wanted, live=live)
    presenting.say_who_removed(removals)
    master_plan = {part: [] for part in MASTER_PARTS}
    master_plan["members_remove"] = removals
    blocks = [] if expected else [block("The master account id is not known.", "master")]
    computed.update(document=wanted, master_plan=master_plan, blocks=blocks, warnings=[],
                    summary=summarize([], master_plan))


def removals_from(*, wanted: dict, live: aws.LiveIam) -> list[dict]:
    """Every (group, user) where the group is one the console manages (a group of an enabled account's
    role), AWS has the user in it, and the desired state does not."""
    removals = []
    for user, groups in sorted(live.users.items()):
        for group in sorted(groups):
            spec = wanted["groups"].get(group)
            if spec is None or group not in live.groups:
                continue
            if user not in {member["user"] for member in spec["members"]}:
                removals.append({"group": group, "user": user})
    return sorted(removals, key=lambda entry: (entry["group"], entry["user"]))


# --- triggers ---------------------------------------------------------------------------------


def expiry_tick() -> dict:
    """What Celery beat runs every ``ROLEMODEL_EXPIRY_CHECK_SECONDS``.

    1. Revoke every membership whose expiry has passed (each audited).
    2. Apply again every revocation plan the rule approved that is still waiting for its apply (an
       apply was running when it was approved: only one runs at a time); one gone stale is superseded.
    3. When a membership was revoked, request a revocation plan: AWS may still hold it (when it does
       not, the plan says "No changes"). So too when the last revocation plan failed (AWS did not
       answer, say): the memberships it was to remove are still to be removed.
    """
    expired = expire_due_memberships()
    retried = waiting_rule_plans()
    for plan_id in retried:
        dispatch.revocation_apply_after_commit(plan_id)
    reason = (f"{expired} membership(s) expired" if expired
              else "The last revocation plan failed; trying again" if _last_revocation_failed() else "")
    plan = revocation_request(actor=EXPIRY_ACTOR, reason=reason) if reason else None
    return {"expired": expired, "retried": retried, "plan": plan.pk if plan else None}


def _last_revocation_failed() -> bool:
    last = Plan.objects.filter(kind=Plan.Kind.REVOCATION).order_by("-pk").only("status").first()
    return last is not None and last.status in (Plan.Status.FAILED, Plan.Status.APPLY_FAILED)


def waiting_rule_plans() -> list[int]:
    """Revocation plans approved by the rule whose apply has not started."""
    return list(Plan.objects.filter(kind=Plan.Kind.REVOCATION, status=Plan.Status.APPROVED, decided_by__isnull=True,
                                    decided_by_name=RULE_ACTOR.name).order_by("pk").values_list("pk", flat=True))


@dataclass
class Offboarding:
    iam_user: IAMUser
    revoked: list[str]  # "<user> in <group>", one per grant
    plan: Plan


@transaction.atomic
def offboard(*, actor: Actor, user_name: str, reason: str) -> Offboarding:
    """Remove an IAM user from every group, in one action.

    1. Refuse an empty reason or an IAM user the console does not know.
    2. Revoke each of the user's memberships (each audited with the reason).
    3. Request a revocation plan: it removes the user from every group AWS still has them in.
    """
    check_actor(actor, "edit", "Only members of the Editor or Admin group offboard people.")
    reason = (reason or "").strip()
    if not reason:
        raise RevocationError({"reason": "Say why this person is offboarded: the reason is kept in the audit history."})
    iam_user = IAMUser.objects.filter(user_name__iexact=(user_name or "").strip()).first()
    if iam_user is None:
        raise RevocationError({"user_name": f"The console knows no IAM user “{user_name}”."})
    revoked = []
    for membership in iam_user.memberships.select_related("iam_user", "account", "role").order_by("pk"):
        revoked.append(str(membership))
        membership_revoke(actor=actor, membership=membership, reason=f"Offboarded: {reason}")
    plan = revocation_request(
        actor=actor, reason=f"Offboarding {iam_user.user_name} ({len(revoked)} grant(s) revoked): {reason}"
    )
    return Offboarding(iam_user=iam_user, revoked=revoked, plan=plan)
