import copy

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor, audit_record, audited_save
from core import limits
from core.permissions import check_actor
from core.services import apply_fields
from core.state_check import check_desired_state
from memberships.services import audited_delete_with_memberships, membership_revoke
from roles import identity
from roles.models import InlinePolicy, RoleDefinition

ROLE_FIELDS = (
    "logical_name",
    "role_name",
    "name_from_cloudformation",
    "path",
    "description",
    "require_mfa",
    "max_session_duration",
    "permissions_boundary_arn",
    "managed_policy_arns",
    "tags",
    "applies_to_all_accounts",
)
ROLE, POLICY = AuditEvent.ObjectType.ROLE, AuditEvent.ObjectType.POLICY
CREATE, UPDATE, DELETE = AuditEvent.Action.CREATE, AuditEvent.Action.UPDATE, AuditEvent.Action.DELETE


def _set_accounts(role: RoleDefinition, accounts) -> None:
    if accounts is not None:
        role.accounts.set(accounts)
    if role.applies_to_all_accounts:
        role.accounts.clear()


def _revoke_memberships_outside_scope(*, actor: Actor, role: RoleDefinition, reason: str) -> None:
    """Memberships of accounts the role no longer applies to have no group left to live in."""
    if role.applies_to_all_accounts:
        return
    stranded = role.memberships.exclude(account__in=role.accounts.all()).select_related("iam_user", "account", "role")
    for membership in stranded:
        membership_revoke(actor=actor, membership=membership, reason=reason or f"Role {role} no longer applies to {membership.account}")


@transaction.atomic
def role_create(*, actor: Actor, accounts=None, policies: list[dict] | None = None, reason: str = "", **fields) -> RoleDefinition:
    """Create a role, optionally with its inline policies (``[{"name", "document"}]``, optionally
    ``"logical_id"`` when imported from a stack) in one step."""
    check_actor(actor, "edit")
    role = RoleDefinition()
    apply_fields(role, fields, allowed=ROLE_FIELDS)

    def related():
        _set_accounts(role, accounts)
        for policy in policies or []:
            _policy_save(InlinePolicy(role=role, name=policy["name"], document=policy["document"],
                                      logical_id=policy.get("logical_id", "")))

    audited_save(actor=actor, obj=role, action=CREATE, object_type=ROLE, reason=reason,
                 snapshot=lambda: role_snapshot(role), related=related, after_change=check_desired_state)
    return role


def replacement_after_edit(*, role: RoleDefinition, fields: dict) -> tuple[dict, dict] | None:
    """(identity before, identity after) when these edits change the role's ARN, else None.

    RoleName, Path and the logical id are create-only in CloudFormation: changing any of them makes
    a new role with a new ARN in every account, which the role form asks the editor to confirm.
    """
    edited = copy.copy(role)
    apply_fields(edited, {k: v for k, v in fields.items() if k in ROLE_FIELDS}, allowed=ROLE_FIELDS)
    before, after = identity.role_identity(role), identity.role_identity(edited)
    return (before, after) if before != after else None


def _rename_record(*, previous: dict, before: dict, after: dict) -> dict:
    """The record of a change of ARN ``before`` → ``after``, not yet confirmed. A second rename before
    the first was applied keeps the first one's origins: the live role may still carry any of them."""
    origins = list(previous.get("from") or []) if previous.get("to") == before else []
    return {"from": origins + [before], "to": after, "confirmed": False}


def pending_replacement(role: RoleDefinition) -> dict | None:
    """The role's change of ARN that nobody has confirmed yet (made by an import, say), if any."""
    record = role.replacement_confirmation or {}
    if record and not record.get("confirmed") and record.get("to") == identity.role_identity(role):
        return record
    return None


def _confirm(*, actor: Actor, role: RoleDefinition, reason: str) -> None:
    record = role.replacement_confirmation
    record.update(confirmed=True, by=actor.name, at=timezone.now().isoformat())
    role.save(update_fields=["replacement_confirmation", "updated_at"])
    audit_record(actor=actor, action="confirm_replacement", object_type="role", obj=role,
                 before={"identities": record["from"]}, after=record,
                 reason=reason or f"Replace role {role.logical_name}: "
                                  f"{identity.describe_identity_change(record['from'][-1], record['to'])}"
                 if record["from"] else f"Replace role {role.logical_name} wherever AWS holds it under another name or path")


@transaction.atomic
def role_update(*, actor: Actor, role: RoleDefinition, accounts=None, reason: str = "",
                confirm_replacement: bool = False, **fields) -> RoleDefinition:
    """Save a role's edits.

    A change of RoleName, Path or logical id makes CloudFormation replace the role (a new ARN). It is
    recorded on the role; with ``confirm_replacement`` it is also confirmed (audited), which lets a
    plan replace the role for exactly this change — without it such a plan is blocked. Confirming
    with no other edit confirms the role's pending change of ARN.
    """
    check_actor(actor, "edit")
    role = RoleDefinition.objects.select_for_update().get(pk=role.pk)
    before = role_snapshot(role)
    identity_before = identity.role_identity(role)
    pending = pending_replacement(role)
    apply_fields(role, fields, allowed=ROLE_FIELDS)
    role.full_clean()
    identity_after = identity.role_identity(role)
    renamed = identity_after != identity_before
    if renamed:
        role.replacement_confirmation = _rename_record(previous=role.replacement_confirmation or {},
                                                       before=identity_before, after=identity_after)

    def after_change():
        _revoke_memberships_outside_scope(actor=actor, role=role, reason=reason)
        check_desired_state()

    # ``related`` makes the helper save even an unchanged role, as this service always has.
    audited_save(actor=actor, obj=role, action=UPDATE, object_type=ROLE, before=before, reason=reason,
                 snapshot=lambda: role_snapshot(role), related=lambda: _set_accounts(role, accounts),
                 after_change=after_change)
    if confirm_replacement:
        if not renamed and pending is None:
            # The live role differs from this one although nobody renamed it here (a plan said so):
            # confirming says the role is to become exactly what it is now, whatever AWS holds.
            role.replacement_confirmation = {"from": [], "to": identity_after, "confirmed": False}
        _confirm(actor=actor, role=role, reason=reason)
    return role


@transaction.atomic
def role_delete(*, actor: Actor, role: RoleDefinition, reason: str = "") -> None:
    check_actor(actor, "edit")
    role = RoleDefinition.objects.select_for_update().get(pk=role.pk)
    audited_delete_with_memberships(actor=actor, obj=role, object_type=ROLE, reason=reason, removed=f"Role {role} removed",
                                    snapshot=lambda: role_snapshot(role))


def role_snapshot(role: RoleDefinition) -> dict:
    snapshot = role.snapshot()
    snapshot["policies"] = {policy.name: policy.document for policy in role.policies.order_by("name")}
    return snapshot


def _policy_save(policy: InlinePolicy) -> InlinePolicy:
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def policy_create(
    *, actor: Actor, role: RoleDefinition, name: str, document: dict, reason: str = "", logical_id: str = ""
) -> InlinePolicy:
    check_actor(actor, "edit")
    policy = InlinePolicy(role=role, name=name, document=document, logical_id=logical_id)
    audited_save(actor=actor, obj=policy, action=CREATE, object_type=POLICY, reason=reason, after_change=check_desired_state,
                 parent_type=ROLE, parent_id=role.pk)
    return policy


@transaction.atomic
def policy_update(
    *, actor: Actor, policy: InlinePolicy, name: str, document: dict, reason: str = "", logical_id: str | None = None
) -> InlinePolicy:
    """Change a policy's name and document; ``logical_id`` (an import's) replaces the kept one when given."""
    check_actor(actor, "edit")
    policy = InlinePolicy.objects.select_for_update().select_related("role").get(pk=policy.pk)
    before = policy.snapshot()
    policy.name, policy.document = name, document
    if logical_id is not None:
        policy.logical_id = logical_id
    audited_save(actor=actor, obj=policy, action=UPDATE, object_type=POLICY, before=before, reason=reason,
                 after_change=check_desired_state, parent_type=ROLE, parent_id=policy.role_id)
    return policy


@transaction.atomic
def policy_delete(*, actor: Actor, policy: InlinePolicy, reason: str = "") -> None:
    check_actor(actor, "edit")
    audited_save(actor=actor, obj=policy, action=DELETE, object_type=POLICY, reason=reason, parent_type=ROLE,
                 parent_id=policy.role_id)


def warnings_for_role(role: RoleDefinition) -> list[str]:
    """What an approver should look at twice; shown on the role page and, later, in plans."""
    warnings = []
    if not role.require_mfa:
        warnings.append("The trust policy does not require MFA.")
    for policy in role.policies.all():
        if limits.allows_everything(policy.document):
            warnings.append(f"Policy {policy.name} allows every action (*) on every resource (*).")
    if "arn:aws:iam::aws:policy/AdministratorAccess" in role.managed_policy_arns:
        warnings.append("The managed policy AdministratorAccess grants every action on every resource.")
    return warnings
