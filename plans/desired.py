"""The desired state: its checks as a whole, one canonical document of it, its fingerprint, and who edited it.

A single row can be valid while the state it produces is not (one more account pushes a group name
past 128 characters, or the master account past its group quota). The services of accounts and
roles save an edit and run :func:`check_desired_state` in the same transaction, through
``core.state_check`` (plans registers it in ``PlansConfig.ready()``: they may not import plans);
the dashboard lists :func:`desired_state_problems` and a plan is blocked while there are any.
"""
import hashlib
import json

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AssumableAccount, MasterAccount
from audit.models import AuditEvent
from core import limits
from memberships.models import Membership
from plans.models import Plan
from plans.targets import account_target, master_target
from roles import cloudformation
from roles.selectors import account_role_pairs, kept_role_names, roles_with_policies

DESIRED_STATE_OBJECT_TYPES = ("account", "master account", "role", "policy", "membership", "IAM user")


def desired_state_problems(master: MasterAccount | None = None) -> list[str]:
    master = master or MasterAccount.load()
    accounts = list(AssumableAccount.objects.order_by("name"))
    roles = list(roles_with_policies())
    problems = []

    pairs = account_role_pairs(accounts, roles)
    for account, role in pairs:
        try:
            limits.validate_group_name(account.name, role.logical_name)
        except ValidationError as error:
            problems.extend(error.messages)
    if len(pairs) > master.group_quota:
        problems.append(
            f"{len(accounts)} accounts × their roles need {len(pairs)} IAM groups in the master account; "
            f"its quota is {master.group_quota}. Remove roles or accounts, or raise the quota (at most "
            f"{limits.GROUPS_PER_ACCOUNT_MAX})."
        )

    role_names = {}
    for role in roles:
        role_names.setdefault(role.effective_role_name.lower(), []).append(role.logical_name)
        inline_total = sum(policy.size for policy in role.policies.all())
        if inline_total > limits.ROLE_INLINE_POLICIES_CHARS_MAX:
            problems.append(
                f"Role {role.logical_name}: its inline policies add up to {inline_total:,} characters; IAM allows "
                f"{limits.ROLE_INLINE_POLICIES_CHARS_MAX:,} per role (whitespace not counted)."
            )
        trust_size = cloudformation.trust_policy_size(role, master.account_id or "123456789012")
        if trust_size > limits.TRUST_POLICY_CHARS_MAX:
            problems.append(
                f"Role {role.logical_name}: its trust policy is {trust_size:,} characters; IAM allows "
                f"{limits.TRUST_POLICY_CHARS_MAX:,}."
            )
    for logical_names in role_names.values():
        if len(logical_names) > 1:
            problems.append(
                f"Roles {', '.join(logical_names)} would create IAM roles with the same name "
                "(IAM role names are unique regardless of case)."
            )

    seen_subsets = set()
    for account in accounts:
        subset = tuple(role.pk for a, role in pairs if a.pk == account.pk)
        if subset in seen_subsets:
            continue
        seen_subsets.add(subset)
        template = cloudformation.build_template([role for role in roles if role.pk in subset])
        for problem in cloudformation.template_problems(template):
            problems.append(f"Account {account.name}: {problem}")
    return problems


def check_desired_state() -> None:
    problems = desired_state_problems()
    if problems:
        raise ValidationError(problems)


def group_policy_name(group: str) -> str:
    return f"{group}-Policy"


def group_policy_document(role_arn: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}


def desired_state_document(*, teardown: bool = False) -> dict:
    """Everything a plan is computed from, in a form that serialises the same way every time.

    Accounts that are disabled are listed but carry no template or groups: plans leave them alone.
    A teardown wants no stacks and no groups at all. Each account and the master carry how they are
    reached (plans.targets): an approval pins them, so changing one makes the plan stale.
    """
    master = MasterAccount.load()
    accounts = list(AssumableAccount.objects.order_by("name"))
    roles = list(roles_with_policies())
    now = timezone.now()
    document = {
        "kind": "teardown" if teardown else "converge",
        "master": {**master_target(master), "stack_name": master.stack_name},
        "accounts": {},
        "groups": {},
    }
    enabled = [account for account in accounts if account.enabled]
    # Roles living under names CloudFormation gave them keep those names: in the template (no
    # RoleName) and in the group policies (their real ARNs), as the accounts' stack records hold them.
    kept_names = kept_role_names(enabled, roles, stack_name=master.stack_name)
    for account in accounts:
        entry = {**account_target(account, master), "enabled": account.enabled}
        if account.enabled and not teardown:
            account_roles = [role for a, role in account_role_pairs([account], roles)]
            entry["template"] = cloudformation.build_template(account_roles, kept_names=kept_names[account.name])
        document["accounts"][account.name] = entry
    if teardown:
        return document

    members = {}  # group -> user -> member; a user with several live grants of a group is one member
    for membership in Membership.objects.select_related("iam_user", "account", "role").filter(
        account__enabled=True
    ).order_by("pk"):
        if membership.expires_at is not None and membership.expires_at <= now:
            continue
        group = members.setdefault(membership.group_name, {})
        member = group.get(membership.iam_user.user_name)
        if member is None:
            group[membership.iam_user.user_name] = {
                "user": membership.iam_user.user_name,
                "reason": membership.reason,
                "requested_by": membership.requested_by_name,
            }
        else:  # each grant's reason and requester shown to the approver
            member["reason"] = f"{member['reason']}; {membership.reason}"
            if membership.requested_by_name not in member["requested_by"].split(", "):
                member["requested_by"] = f"{member['requested_by']}, {membership.requested_by_name}"
    for account, role in account_role_pairs(enabled, roles):
        group = limits.group_name(account.name, role.logical_name)
        physical = kept_names[account.name].get(role.logical_name, "")
        role_arn = role.role_arn(account.account_id or "<account id unknown>", physical_name=physical)
        document["groups"][group] = {
            "account": account.name,
            "role": role.logical_name,
            "role_arn": role_arn,
            "policy_name": group_policy_name(group),
            "policy": group_policy_document(role_arn),
            "members": sorted(members.get(group, {}).values(), key=lambda m: m["user"].lower()),
        }
    return document


def fingerprint(document: dict) -> str:
    """A digest of what AWS should look like; reasons and requesters do not change it."""
    essential = json.loads(json.dumps(document))
    for group in essential.get("groups", {}).values():
        group["members"] = sorted(member["user"] for member in group["members"])
    canonical = json.dumps(essential, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _edits_since_last_apply():
    # A revocation plan applies no edit of the desired state: the edits since the last converge or
    # teardown are still waiting for AWS, and still not approvable by their authors.
    last_applied = (Plan.objects.filter(status=Plan.Status.APPLIED).exclude(kind=Plan.Kind.REVOCATION)
                    .order_by("-planned_at").first())
    events = AuditEvent.objects.filter(object_type__in=DESIRED_STATE_OBJECT_TYPES, action__in=("create", "update", "delete"))
    if last_applied and last_applied.planned_at:
        events = events.filter(created_at__gt=last_applied.planned_at)
    return events


def editors_since_last_apply() -> list[str]:
    """The names of the people who changed the desired state after the last plan that was applied,
    as they were called when they made the change: for display only."""
    return sorted(set(_edits_since_last_apply().values_list("actor_name", flat=True)))


def editor_ids_since_last_apply() -> list[int]:
    """The same people by user id, which four eyes compare (a name can be changed or imitated)."""
    return sorted(set(_edits_since_last_apply().exclude(actor__isnull=True).values_list("actor_id", flat=True)))
