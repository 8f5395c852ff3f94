from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Count, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.models import AssumableAccount
from audit.models import AuditEvent
from audit.services import Actor, audit_record, audited_create, audited_save, audited_update
from core import limits
from core.permissions import check_actor
from memberships.models import IAMUser, Membership
from roles.models import RoleDefinition

IAM_USER_FIELDS = ("user_name", "display_name", "email")
IAM_USER, MEMBERSHIP = AuditEvent.ObjectType.IAM_USER, AuditEvent.ObjectType.MEMBERSHIP
CREATE, DELETE = AuditEvent.Action.CREATE, AuditEvent.Action.DELETE


@transaction.atomic
def iam_user_create(*, actor: Actor, reason: str = "", **fields) -> IAMUser:
    check_actor(actor, "edit")
    return audited_create(actor=actor, obj=IAMUser(), fields=fields, allowed=IAM_USER_FIELDS, object_type=IAM_USER,
                          reason=reason)


@transaction.atomic
def iam_user_update(*, actor: Actor, iam_user: IAMUser, reason: str = "", **fields) -> IAMUser:
    check_actor(actor, "edit")
    return audited_update(actor=actor, obj=iam_user, fields=fields, allowed=IAM_USER_FIELDS, object_type=IAM_USER,
                          reason=reason)


@transaction.atomic
def iam_user_delete(*, actor: Actor, iam_user: IAMUser, reason: str = "") -> None:
    """Forget an IAM user, revoking each of their grants first (the IAM user itself stays in AWS)."""
    check_actor(actor, "edit")
    audited_delete_with_memberships(actor=actor, obj=iam_user, object_type=IAM_USER, reason=reason,
                                    removed=f"IAM user {iam_user} removed")


def audited_delete_with_memberships(*, actor: Actor, obj, object_type: str, reason: str, removed: str,
                                    snapshot=None) -> None:
    """Delete ``obj`` (an account, a role or an IAM user) with its audit row, revoking each of its
    memberships first, each audited with ``reason`` (or ``removed`` when the change gives none)."""
    for membership in obj.memberships.select_related("iam_user", "account", "role"):
        membership_revoke(actor=actor, membership=membership, reason=reason or removed)
    audited_save(actor=actor, obj=obj, action=DELETE, object_type=object_type, snapshot=snapshot, reason=reason)


@dataclass
class GrantResult:
    created: list[Membership] = field(default_factory=list)
    already_granted: list[Membership] = field(default_factory=list)


@transaction.atomic
def memberships_grant(
    *,
    actor: Actor,
    grants: list[tuple],
    reason: str,
    expires_at: datetime | None = None,
) -> GrantResult:
    """Grant each (IAM user, account, role) in ``grants``; all of them or none.

    1. Refuse an empty reason, a past expiry, or a role that does not apply to the account.
    2. Skip a grant the user already holds with the same expiry (reported back, not an error). A grant
       of a group the user is in already, with another expiry, is a grant of its own: the user stays in
       the group until the last of them ends.
    3. Create the rest, then refuse the whole request if any user would be in more than 10 groups
       (groups, not grants: IAM counts a user in a group once).
    4. Audit each new membership.
    """
    check_actor(actor, "edit")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this access is needed: the reason is kept in the audit history."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry date is in the past."})
    if not grants:
        raise ValidationError("Choose at least one user and one (account, role) pair.")

    result = GrantResult()
    for iam_user, account, role in grants:
        if not role.applies_to_all_accounts and not role.accounts.filter(pk=account.pk).exists():
            raise ValidationError(f"Role {role} does not apply to account {account}, so there is no group {account}.{role}.")
        existing = Membership.objects.filter(iam_user=iam_user, account=account, role=role, expires_at=expires_at).first()
        if existing:
            result.already_granted.append(existing)
            continue
        membership = Membership.objects.create(
            iam_user=iam_user,
            account=account,
            role=role,
            reason=reason[:500],
            requested_by=actor.user,
            requested_by_name=actor.name,
            expires_at=expires_at,
        )
        result.created.append(membership)

    touched_users = {membership.iam_user_id for membership in result.created}
    over_limit = (
        IAMUser.objects.filter(pk__in=touched_users)
        .annotate(groups=distinct_group_count("memberships__"))
        .filter(groups__gt=limits.GROUPS_PER_USER_MAX)
    )
    problems = [
        f"{user.user_name} would be in {user.groups} groups; an IAM user can be in at most "
        f"{limits.GROUPS_PER_USER_MAX} groups (an AWS limit that cannot be raised)."
        for user in over_limit
    ]
    if problems:
        raise ValidationError(problems)

    for membership in result.created:
        audit_record(actor=actor, action=CREATE, object_type=MEMBERSHIP, obj=membership, after=membership.snapshot(), reason=reason)
    return result


def distinct_group_count(prefix: str = "") -> Count:
    """Count the distinct (account, role) groups of memberships reached through ``prefix``
    (``"memberships__"`` from an IAM user): two grants of one group are one group."""
    # Concat reads a missing row (a user without grants) as ":", so rows without a grant are left out.
    return Count(Concat(Cast(f"{prefix}account_id", CharField()), Value(":"), Cast(f"{prefix}role_id", CharField())),
                 distinct=True, filter=Q(**{f"{prefix}pk__isnull": False}))


@transaction.atomic
def membership_revoke(*, actor: Actor, membership: Membership, reason: str = "") -> None:
    check_actor(actor, "edit")
    audited_save(actor=actor, obj=membership, action=DELETE, object_type=MEMBERSHIP, reason=reason)


def expire_due_memberships(*, now: datetime | None = None) -> int:
    """Revoke memberships whose expiry has passed; returns how many. Each is audited."""
    now = now or timezone.now()
    actor = Actor.system("system:expiry", source="worker")
    due = Membership.objects.filter(expires_at__lte=now).select_related("iam_user", "account", "role")
    count = 0
    for membership in due:
        membership_revoke(actor=actor, membership=membership, reason=f"Expired at {membership.expires_at:%Y-%m-%d %H:%M %Z}")
        count += 1
    return count


@dataclass
class SyncResult:
    granted: list[Membership] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    users_created: list[IAMUser] = field(default_factory=list)


@transaction.atomic
def memberships_sync(*, actor: Actor, user_map: dict, reason: str) -> SyncResult:
    """Make each listed (account, role) group hold exactly the listed users (the original ``sync_users``).

    1. Resolve every account and role named in the map; an unknown one is an error naming it.
    2. Create IAMUser rows for names the console does not know yet (the plan checks them in AWS).
    3. Revoke memberships of listed groups whose user is not listed; groups not in the map are untouched.
    4. Grant the missing ones through ``memberships_grant`` (10-group limit, audit rows).
    """
    check_actor(actor, "edit")
    accounts = {account.name.lower(): account for account in AssumableAccount.objects.all()}
    roles = {role.logical_name.lower(): role for role in RoleDefinition.objects.prefetch_related("accounts")}
    problems, wanted = [], []
    for account_name, role_map in user_map.items():
        account = accounts.get(str(account_name).lower())
        if account is None:
            problems.append(f"Unknown account “{account_name}”.")
            continue
        for role_name, user_names in (role_map or {}).items():
            role = roles.get(str(role_name).lower())
            if role is None:
                problems.append(f"Unknown role “{role_name}” (under account {account_name}).")
                continue
            wanted.append((account, role, [str(name) for name in (user_names or [])]))
    if problems:
        raise ValidationError(problems)

    result = SyncResult()
    known = {iam_user.user_name.lower(): iam_user for iam_user in IAMUser.objects.all()}
    # The map lists members: a user holding any grant of a group is a member of it already.
    members = set(Membership.objects.values_list("iam_user_id", "account_id", "role_id"))
    grants = []
    for account, role, user_names in wanted:
        listed = set()
        for name in user_names:
            iam_user = known.get(name.lower())
            if iam_user is None:
                iam_user = iam_user_create(actor=actor, user_name=name, reason=reason)
                known[name.lower()] = iam_user
                result.users_created.append(iam_user)
            listed.add(iam_user.pk)
            if (iam_user.pk, account.pk, role.pk) not in members:
                grants.append((iam_user, account, role))
        for membership in Membership.objects.filter(account=account, role=role).exclude(iam_user_id__in=listed).select_related(
            "iam_user", "account", "role"
        ):
            result.revoked.append(str(membership))
            membership_revoke(actor=actor, membership=membership, reason=reason)
    if grants:
        result.granted = memberships_grant(actor=actor, grants=grants, reason=reason).created
    return result
