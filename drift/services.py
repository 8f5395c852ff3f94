"""Drift checks: request one, run it (read-only), keep its findings; record what an apply wrote; adopt.

Reading AWS costs at most 2A + 2 calls for A accounts when nothing changed and credentials are held:
per enabled account one DescribeStacks and one GetAccountAuthorizationDetails (roles), and one
GetAccountAuthorizationDetails (users and groups) for the master account. A stack whose id, status or
last-updated time differs from its record (``accounts.LiveStackRecord``) is read afresh (GetTemplate,
ListStackResources) and recorded, as plans do.
"""
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from accounts import stack_records
from accounts.access import account_access, master_access
from accounts.models import AssumableAccount, MasterAccount
from audit.models import AuditEvent
from audit.services import Actor, audit_record
from core import limits, safe_json, state_check
from core.permissions import check_actor
from drift import comparing
from drift.models import AppliedState, DriftCheck, DriftFinding
from integrations import aws, parallel
from memberships import services as membership_services
from notifications import services as notifications
from memberships.models import IAMUser, Membership
from roles import services as role_services
from roles.models import InlinePolicy, RoleDefinition

logger = logging.getLogger(__name__)

SCHEDULE = Actor.system("system:drift-schedule", source=AuditEvent.Source.WORKER)
MASTER_READ = object()  # the master's read among the accounts' (an account may be named anything)
ACTIVE_STATUSES = (DriftCheck.Status.QUEUED, DriftCheck.Status.RUNNING)
Kind = DriftFinding.Kind


class DriftError(ValidationError):
    """A drift request or adoption refused, with the reason a person can act on."""


# --- requesting and running a check ---------------------------------------------------------------


def reap_stale_checks(*, now=None) -> int:
    """Fail checks no worker took, or no worker finished, within the job queue timeout (the worker
    died or the message was lost), so that a new check can start. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ROLEMODEL_JOB_QUEUE_TIMEOUT_SECONDS)
    return DriftCheck.objects.filter(status__in=ACTIVE_STATUSES, created_at__lt=cutoff).update(
        status=DriftCheck.Status.FAILED, finished_at=now,
        error=f"No worker finished this check within {settings.ROLEMODEL_JOB_QUEUE_TIMEOUT_SECONDS} s "
              "(ROLEMODEL_JOB_QUEUE_TIMEOUT_SECONDS); nothing was closed.")


@transaction.atomic
def drift_check_request(*, actor: Actor) -> tuple[DriftCheck, bool]:
    """Queue a check, unless one is queued or running: then that one. Returns (check, created)."""
    check_actor(actor, "check_drift")
    reap_stale_checks()
    # Two requests at once must not both find no active check: the master account's row serialises them.
    MasterAccount.load()
    MasterAccount.objects.select_for_update().get(pk=1)
    active = DriftCheck.objects.filter(status__in=ACTIVE_STATUSES).order_by("pk").first()
    if active is not None:
        return active, False
    check = DriftCheck.objects.create(requested_by=actor.user, requested_by_name=actor.name)
    audit_record(actor=actor, action="drift_check_requested", object_type="drift check", obj=check)
    transaction.on_commit(lambda: _send_check(check.pk))
    return check, True


def _send_check(check_id: int) -> None:
    """Hand the check to the broker (after commit). A broker that cannot be reached fails the check at
    once with the reason, instead of leaving it queued until the queue timeout."""
    from drift.tasks import run_drift_check_task

    try:
        run_drift_check_task.delay(check_id)
    except (KombuError, OSError) as error:
        logger.warning("could not send drift check %s: %s", check_id, error)
        DriftCheck.objects.filter(pk=check_id, status=DriftCheck.Status.QUEUED).update(
            status=DriftCheck.Status.FAILED, finished_at=timezone.now(),
            error=f"Not started: the task queue (broker) could not be reached, so no worker will read AWS. "
                  f"Try again in a moment. ({error.__class__.__name__}: {error})")


@dataclass
class CheckOutcome:
    """What a check did to the findings; ``new_widening`` is what Admins hear about."""

    opened: list = field(default_factory=list)
    closed: list = field(default_factory=list)

    @property
    def new_widening(self) -> list:
        return [finding for finding in self.opened if finding.widens]


def run_drift_check(*, check_id: int) -> CheckOutcome | None:
    """Worker side of a check (None when another delivery already took it).

    1. Take the check (queued → running).
    2. Read AWS: every enabled account's stack and roles in parallel, the master's groups and users.
    3. Compare live with the last applied and the desired state (``drift.comparing``).
    4. In one transaction: refresh the open findings still seen, open the new ones, close those no
       longer seen, and finish the check. A check that fails closes nothing.
    """
    now = timezone.now()
    if not DriftCheck.objects.filter(pk=check_id, status=DriftCheck.Status.QUEUED).update(
            status=DriftCheck.Status.RUNNING, started_at=now):
        return None
    check = DriftCheck.objects.get(pk=check_id)
    counter = aws.CallCounter()
    try:
        seen = _look(counter)
    except aws.AwsError as error:
        return _fail(check, counter, str(error))
    except Exception as error:  # a bug still ends the check with its reason
        logger.exception("drift check %s failed", check_id)
        return _fail(check, counter, f"Internal error: {error.__class__.__name__}: {error}")
    return _keep(check, counter, seen)


def _fail(check: DriftCheck, counter: aws.CallCounter, reason: str) -> CheckOutcome:
    DriftCheck.objects.filter(pk=check.pk).update(status=DriftCheck.Status.FAILED, finished_at=timezone.now(),
                                                  error=reason, api_calls=_calls(counter))
    return CheckOutcome()


def _calls(counter: aws.CallCounter) -> dict:
    calls = counter.as_dict()
    return {"total": calls["reads"] + calls["writes"], "reads": calls["reads"], "writes": calls["writes"],
            "by_operation": calls["operations"]}


def _look(counter: aws.CallCounter) -> list[comparing.Seen]:
    """Steps 2 and 3 of :func:`run_drift_check`: what differs."""
    master = MasterAccount.load()
    accounts = list(AssumableAccount.objects.order_by("name"))
    enabled = [account for account in accounts if account.enabled]
    records = stack_records.records_for(enabled, stack_name=master.stack_name)

    def read(account):
        access = account_access(account, master)
        stack = stack_records.read_stack(access, counter, stack_name=master.stack_name, record=records.get(account.pk))
        return stack, aws.account_roles(access, counter)

    found = parallel.run_all(
        {MASTER_READ: lambda: aws.iam_read(master_access(master), counter, group_path=limits.GROUP_PATH),
         **{account.name: (lambda account=account: read(account)) for account in enabled}},
        limit=parallel.read_concurrency())
    live_iam, reads = found.pop(MASTER_READ), found
    for account in enabled:
        stack_records.store(account=account, stack_name=master.stack_name, read=reads[account.name][0])
    _check_reached(master, enabled, reads, live_iam)

    desired = state_check.desired_state_document()
    applied = AppliedState.objects.first()
    seen = comparing.master_findings(
        live=live_iam, applied=None if applied is None else applied.groups,
        desired=comparing.group_specs(desired["groups"]), skipped_accounts={a.name for a in accounts if not a.enabled})
    for account in enabled:
        stack_read, live_roles = reads[account.name]
        live = stack_read.live
        seen += comparing.stack_findings(
            account=account.name, stack_name=master.stack_name, live=live,
            # Before the first apply, and for an account the last apply did not know, the console made no stack.
            applied=None if applied is None else applied.templates.get(account.name),
            desired=desired["accounts"][account.name].get("template"))
        if stack_read.gone or live.template is None:
            continue
        # A fresh read carries the role names it just recorded; otherwise the record read above stands.
        record = records.get(account.pk)
        role_names = stack_read.role_names if stack_read.role_names is not None else (record.role_names if record else {})
        resolving = {"parameters": live.parameters, "role_names": role_names,
                     "account_id": aws.account_id_from_arn(live.stack_id) or account.account_id, "region": master.region}
        wanted = desired["accounts"][account.name].get("template")
        seen += comparing.role_findings(
            account=account.name, expected_roles=comparing.roles_in_template(live.template, **resolving),
            live_roles=live_roles, desired_roles=comparing.roles_in_template(wanted, **resolving) if wanted else None)
    return seen


def _check_reached(master: MasterAccount, enabled: list, reads: dict, live_iam: aws.LiveIam) -> None:
    """Refuse findings about another account than the one recorded, from the ARNs the reads carry
    (no call more): a profile pointed elsewhere would otherwise report a whole other account as drift."""
    wrong = []
    for account in enabled:
        stack_read, live_roles = reads[account.name]
        arns = [stack_read.live.stack_id] if stack_read.live is not None else []
        arns += [role.arn for role in live_roles.values()]
        reached = next((aws.account_id_from_arn(arn) for arn in arns if aws.account_id_from_arn(arn)), "")
        if account.account_id and reached and reached != account.account_id:
            wrong.append(f"{account.name}: the credentials reached account {reached}, the console records {account.account_id}")
    if master.account_id and live_iam.account_id and live_iam.account_id != master.account_id:
        wrong.append(f"master: the credentials reached account {live_iam.account_id}, the console records {master.account_id}")
    if wrong:
        raise aws.AwsError("; ".join(wrong) + ". Nothing was compared.", code="WrongAccount")


def _keep(check: DriftCheck, counter: aws.CallCounter, seen: list) -> CheckOutcome:
    """Step 4 of :func:`run_drift_check`."""
    now = timezone.now()
    outcome = CheckOutcome()
    accounts = {account.name: account for account in AssumableAccount.objects.all()}
    with transaction.atomic():
        still_open = {f.key: f for f in DriftFinding.objects.select_for_update().filter(closed_at__isnull=True)}
        seen_keys = set()
        for item in seen:
            if item.key in seen_keys:
                continue
            seen_keys.add(item.key)
            finding = still_open.get(item.key)
            if finding is not None:
                finding.detail, finding.live, finding.expected, finding.widens = item.detail, item.live, item.expected, item.widens
                finding.last_seen, finding.last_check = now, check
                finding.save(update_fields=["detail", "live", "expected", "widens", "last_seen", "last_check"])
                continue
            outcome.opened.append(DriftFinding.objects.create(
                kind=item.kind, account=None if item.account == comparing.MASTER else accounts.get(item.account),
                account_name=item.account, target=item.target[:512],
                key=item.key[:700], detail=item.detail, live=item.live, expected=item.expected, widens=item.widens,
                first_seen=now, last_seen=now, first_check=check, last_check=check))
        for key, finding in still_open.items():
            # A finding about an account this check did not look at (disabled since, or removed) is
            # closed too: plans leave such accounts alone, and nothing there is compared any more.
            if key not in seen_keys:
                finding.closed_at = now
                finding.save(update_fields=["closed_at"])
                outcome.closed.append(finding)
        DriftCheck.objects.filter(pk=check.pk).update(
            status=DriftCheck.Status.SUCCEEDED, finished_at=now, api_calls=_calls(counter),
            opened=len(outcome.opened), closed=len(outcome.closed))
        notifications.new_widening_drift(check.pk, [
            {"kind": finding.kind, "account": finding.account_name, "target": finding.target, "detail": finding.detail,
             "widens": finding.widens} for finding in outcome.new_widening])
    return outcome


# --- what an apply wrote ---------------------------------------------------------------------------


def record_applied_master(*, document: dict, plan_id: int) -> AppliedState:
    """Keep what a successful apply wrote: the desired state its plan carried (``plans.desired``'s
    document). Called by the apply's master step, which runs only once every account succeeded.

    A teardown leaves no stack and no group; a disabled account (left alone by plans) keeps what was
    last applied to it.
    """
    previous = AppliedState.objects.first()
    templates = dict(previous.templates) if previous else {}
    teardown = document.get("kind") == "teardown"
    for name, entry in document.get("accounts", {}).items():
        if teardown:
            templates[name] = None
        elif entry.get("enabled"):
            templates[name] = entry.get("template")
    return AppliedState.objects.create(plan_id=plan_id, applied_at=timezone.now(), templates=templates,
                                       groups=comparing.group_specs(document.get("groups", {})))



def record_applied_removals(*, removals: list[dict], plan_id: int) -> AppliedState | None:
    """Keep what a revocation plan's apply wrote: only these members left their groups. Its plan carries
    the whole desired state, but nothing else of it was written (no stack, no grant still pending), so
    the last applied state is the previous one less these members."""
    previous = AppliedState.objects.first()
    if previous is None:
        return None
    groups = {name: dict(spec, members=list(spec["members"])) for name, spec in previous.groups.items()}
    for removal in removals:
        if removal["group"] in groups:
            groups[removal["group"]]["members"] = [user for user in groups[removal["group"]]["members"] if user != removal["user"]]
    return AppliedState.objects.create(plan_id=plan_id, applied_at=timezone.now(), templates=previous.templates,
                                       groups=groups)

# --- adopting a finding -----------------------------------------------------------------------------

ADOPTABLE = (Kind.MEMBER_ADDED, Kind.MEMBER_REMOVED, Kind.ROLE_INLINE_POLICY, Kind.ROLE_MANAGED_POLICY, Kind.ROLE_BOUNDARY)
NOT_ADOPTABLE_REASONS = {
    Kind.GROUP_POLICY: "Group policies are generated from the roles; revert it (the next plan puts the console's policy back).",
    Kind.UNKNOWN_GROUP: "The console has no such (account, role) pair to adopt it into; revert it, or import the role "
                        "and account.",
    Kind.STACK_CHANGED: "A stack is generated from the role definitions: edit the roles, or revert it.",
    Kind.STACK_DELETED: "A deleted stack cannot be adopted; revert it (the next plan creates it again).",
    Kind.ROLE_TRUST_POLICY: "The trust policy is generated from the role's settings (master account, MFA); revert "
                            "it, or change those settings on the role.",
}


def adoption_refusal(finding: DriftFinding) -> str:
    """Why ``finding`` cannot be adopted, or "" when it can."""
    if not finding.is_open:
        return "This finding is closed."
    if finding.adopted_at is not None:
        return "Already adopted; the next check closes it."
    return NOT_ADOPTABLE_REASONS.get(finding.kind, "")


def adoption_removes_access(finding: DriftFinding) -> bool:
    """Adopting narrows the desired state (sudo mode): a hand removal, or a narrowing role change."""
    return finding.kind == Kind.MEMBER_REMOVED or (finding.kind in DriftFinding.ROLE_KINDS and not finding.widens)


def _role_by_live_name(finding: DriftFinding) -> RoleDefinition:
    role_name = finding.target.split("/", 1)[0]
    for role in RoleDefinition.objects.all():
        if role.effective_role_name == role_name:
            return role
    record = getattr(finding.account, "live_stack", None) if finding.account else None
    for logical_id, physical in ((record.role_names or {}).items() if record else ()):
        if physical == role_name:
            role = RoleDefinition.objects.filter(logical_name=logical_id).first()
            if role is not None:
                return role
    raise DriftError(f"No role of the console is called {role_name} in {finding.account_name}.")


def _membership_target(finding: DriftFinding):
    user_name = (finding.live or finding.expected or {}).get("user", "")
    account_name, _, role_name = finding.target.partition(".")
    account = AssumableAccount.objects.filter(name=account_name).first()
    role = RoleDefinition.objects.filter(logical_name=role_name).first()
    iam_user = IAMUser.objects.filter(user_name=user_name).first()
    if account is None or role is None:
        raise DriftError(f"The console has no account and role for group {finding.target}.")
    if iam_user is None:
        raise DriftError(f"IAM user {user_name} is not in the console; add the IAM user first, then adopt.")
    return iam_user, account, role


@transaction.atomic
def finding_adopt(*, actor: Actor, finding: DriftFinding, reason: str) -> None:
    """Make the desired state take the live value, as an audited edit through the owning app's services.

    The finding stays open, marked adopted; the next check no longer sees it and closes it.
    """
    check_actor(actor, "edit")
    finding = DriftFinding.objects.select_for_update().get(pk=finding.pk)
    refusal = adoption_refusal(finding)
    if refusal:
        raise DriftError(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise DriftError({"reason": "Say why the live value is right: the reason is kept in the audit history."})
    reason = f"Adopted from drift finding #{finding.pk}: {reason}"
    if finding.kind == Kind.MEMBER_ADDED:
        membership_services.memberships_grant(actor=actor, grants=[_membership_target(finding)], reason=reason)
    elif finding.kind == Kind.MEMBER_REMOVED:
        iam_user, account, role = _membership_target(finding)
        for membership in Membership.objects.filter(iam_user=iam_user, account=account, role=role):
            membership_services.membership_revoke(actor=actor, membership=membership, reason=reason)
    else:
        _adopt_role_change(actor=actor, finding=finding, reason=reason)
    finding.adopted_at, finding.adopted_by_name = timezone.now(), actor.name
    finding.save(update_fields=["adopted_at", "adopted_by_name"])
    audit_record(actor=actor, action="drift_adopted", object_type="drift finding", obj=finding, reason=reason,
                 after={"kind": finding.kind, "target": finding.target, "live": finding.live})


def _adopt_role_change(*, actor: Actor, finding: DriftFinding, reason: str) -> None:
    role = _role_by_live_name(finding)
    if finding.kind == Kind.ROLE_BOUNDARY:
        role_services.role_update(actor=actor, role=role, reason=reason, permissions_boundary_arn=finding.live or "")
    elif finding.kind == Kind.ROLE_MANAGED_POLICY:
        arn = finding.live or finding.expected
        arns = [a for a in role.managed_policy_arns if a != arn] + ([arn] if finding.live else [])
        role_services.role_update(actor=actor, role=role, reason=reason, managed_policy_arns=sorted(arns))
    else:  # an inline policy
        policy_name = finding.target.split("/", 1)[1]
        policy = InlinePolicy.objects.filter(role=role, name=policy_name).first()
        if finding.live is None:
            if policy is not None:
                role_services.policy_delete(actor=actor, policy=policy, reason=reason)
            return
        document = finding.live if isinstance(finding.live, dict) else safe_json.loads(finding.live)
        if policy is None:
            role_services.policy_create(actor=actor, role=role, name=policy_name, document=document, reason=reason)
        else:
            role_services.policy_update(actor=actor, policy=policy, name=policy_name, document=document, reason=reason)
