"""What differs between live AWS and the console: pure functions, no database, no AWS.

Three states meet here. *Live* is what AWS holds now; *applied* is what the console last wrote (the
desired state of the last plan applied, ``drift.models.AppliedState``); *desired* is what the console
wants now. For what the console writes itself (members, group policies, groups, stacks) a difference
is drift only when live differs from both: live equal to desired is a hand change the console agrees
with, and live equal to applied with desired elsewhere is a change still pending in the console (a
grant or a revocation not applied yet).

Before the console applied anything, the last applied state is empty: what AWS holds beyond the
desired state is drift (a group or member nobody asked for), what it lacks is simply not applied yet.

A role is compared with what its stack's template says (CloudFormation's own drift): trust policy,
inline policies, attached managed policies and boundary, read from IAM itself.

Policies are compared by meaning (``core.normalize``). Whether a difference widens access is judged
plainly: something added widens, something removed narrows, a policy whose statements are a subset
of the expected ones narrows, and anything else (unsure) widens.
"""
import json
from dataclasses import dataclass

from core import normalize
from core.cfn_intrinsics import UNRESOLVED, resolve_text
from drift.models import DriftFinding
from integrations import aws
from roles import template_roles

Kind = DriftFinding.Kind
MASTER = "master"
PLAIN_STACK_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
NO_STACK_STATUSES = ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE")


@dataclass
class Seen:
    """One difference as a check sees it; ``key`` finds the same open finding again."""

    kind: str
    account: str  # the account's name, or "master"
    target: str
    detail: str
    live: object
    expected: object
    widens: bool
    aspect: str = ""  # what in the target differs, when one target can differ in several ways

    @property
    def key(self) -> str:
        return "|".join((self.kind, self.account, self.target, self.aspect))


def _statements(document) -> list:
    normal = normalize.normalized_policy(document)
    statements = normal.get("Statement", []) if isinstance(normal, dict) else []
    return [json.dumps(s, sort_keys=True) for s in statements]


def policy_widens(live, expected) -> bool:
    """Whether ``live`` may allow more than ``expected``: False only when every statement it holds is
    one ``expected`` holds too (by meaning)."""
    if live is None:
        return False
    if expected is None:
        return True
    return not set(_statements(live)) <= set(_statements(expected))


def _same_policy(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return normalize.same_policy(a, b)


# --- master account -----------------------------------------------------------------------------


def master_findings(*, live: aws.LiveIam, applied: dict | None, desired: dict, skipped_accounts: set) -> list[Seen]:
    """Members, group policies and unknown groups under /RoleModel/.

    ``applied`` and ``desired`` map group -> {"policy_name", "policy", "members": [user names]};
    ``applied`` is None (nothing) before the first apply. Groups of ``skipped_accounts`` (disabled: plans leave
    them alone) are not looked at.
    """
    found = []
    live_members = {}
    for user, groups in live.users.items():
        for group in groups:
            live_members.setdefault(group, set()).add(user)
    applied = applied or {}
    groups = set(live.groups) | set(desired) | set(applied)
    for group in sorted(groups):
        if group.split(".", 1)[0] in skipped_accounts:
            continue
        live_group = live.groups.get(group)
        wanted = desired.get(group)
        was = applied.get(group)
        if live_group is not None and wanted is None and was is None:
            found.append(Seen(
                kind=Kind.UNKNOWN_GROUP, account=MASTER, target=group, widens=True,
                detail=f"Group /RoleModel/{group} is not the console's (created by hand?)"
                       f"{'; members: ' + ', '.join(sorted(live_members.get(group, ()))) if live_members.get(group) else ''}.",
                live={"group": group, "members": sorted(live_members.get(group, ())),
                      "policies": live_group["policies"]},
                expected=None))
            continue
        # A group the last apply did not hold was, as far as the console knows, not there at all.
        was = was or {"policy_name": "", "policy": None, "members": []}
        found += _member_findings(group, live_members.get(group, set()) if live_group else set(), was, wanted)
        found += _group_policy_findings(group, live_group["policies"] if live_group else {}, was, wanted)
    return found


def _member_findings(group: str, live: set, applied: dict, desired: dict | None) -> list[Seen]:
    wanted = set(desired["members"]) if desired else set()
    was = set(applied["members"])
    found = []
    for user in sorted(live - wanted):
        if user not in was:
            found.append(Seen(kind=Kind.MEMBER_ADDED, account=MASTER, target=group, aspect=user, widens=True,
                              detail=f"{user} was added to {group} outside the console.",
                              live={"group": group, "user": user}, expected=None))
    for user in sorted(wanted - live):
        if user in was:
            found.append(Seen(kind=Kind.MEMBER_REMOVED, account=MASTER, target=group, aspect=user, widens=False,
                              detail=f"{user} was removed from {group} outside the console.",
                              live=None, expected={"group": group, "user": user}))
    return found


def _group_policy_findings(group: str, live_policies: dict, applied: dict, desired: dict | None) -> list[Seen]:
    found = []
    names = set(live_policies)
    if desired is not None:
        names.add(desired["policy_name"])
    for name in sorted(names):
        live = live_policies.get(name)
        wanted = desired["policy"] if desired is not None and desired["policy_name"] == name else None
        if _same_policy(live, wanted):
            continue
        if _same_policy(live, applied["policy"] if applied["policy_name"] == name else None):
            continue  # a change pending in the console
        what = "added" if wanted is None else "removed" if live is None else "edited"
        found.append(Seen(kind=Kind.GROUP_POLICY, account=MASTER, target=group, aspect=name,
                          widens=policy_widens(live, wanted),
                          detail=f"Policy {name} of group {group} was {what} outside the console.",
                          live=live, expected=wanted))
    return found


# --- stacks ---------------------------------------------------------------------------------------


def _template_or_none(template):
    return template if isinstance(template, dict) and template.get("Resources") else None


def _same_template(a, b) -> bool:
    a, b = _template_or_none(a), _template_or_none(b)
    if a is None or b is None:
        return a is b
    return normalize.same_template(a, b)


def stack_findings(*, account: str, stack_name: str, live: aws.LiveStack | None, applied: dict | None,
                   desired: dict | None) -> list[Seen]:
    """The stack against the template the console last applied and the one it wants (None: no stack).

    ``live.template`` is the stack's template (None when it has none); ``desired`` the template the console
    would deploy (None: no stack wanted).
    """
    has_stack = live is not None and live.status not in NO_STACK_STATUSES
    live_template = live.template if has_stack else None
    if live is not None and live.status.endswith("_IN_PROGRESS") and has_stack:
        return []  # mid-operation (an apply may be running): the next check sees how it ends
    found = []
    if not _same_template(live_template, desired) and not _same_template(live_template, applied):
        if not has_stack:
            found.append(Seen(kind=Kind.STACK_DELETED, account=account, target=stack_name, widens=False,
                              detail=f"Stack {stack_name} in {account} was deleted outside the console.",
                              live=None, expected=_template_or_none(desired) or applied))
        else:
            found.append(Seen(kind=Kind.STACK_CHANGED, account=account, target=stack_name, aspect="template", widens=True,
                              detail=f"Stack {stack_name} in {account} was "
                                     f"{'created' if _template_or_none(desired) is None else 'updated'} outside the console "
                                     f"(status {live.status}).",
                              live=live_template, expected=_template_or_none(desired)))
    if has_stack and live.status not in PLAIN_STACK_STATUSES:
        reason = f": {live.status_reason}" if live.status_reason else ""
        found.append(Seen(kind=Kind.STACK_CHANGED, account=account, target=stack_name, aspect="status", widens=True,
                          detail=f"Stack {stack_name} in {account} is {live.status}{reason}.",
                          live={"status": live.status, "reason": live.status_reason}, expected={"status": "*_COMPLETE"}))
    return found


# --- roles against their stack's template ----------------------------------------------------------


@dataclass
class ExpectedRole:
    logical_id: str
    name: str
    trust: object  # each part may be UNRESOLVED
    inline: dict
    managed: list
    boundary: str


def roles_in_template(template: dict, *, parameters: dict, role_names: dict, account_id: str,
                      region: str) -> list[ExpectedRole]:
    """Each role the template makes, as IAM should hold it: its physical name (RoleName, else the name
    CloudFormation gave it from ``role_names``), trust policy, inline policies, managed policies, boundary.
    A part the template leaves to values only AWS knows is :data:`UNRESOLVED`, and not compared."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        return []
    variables = {"AWS::AccountId": account_id, "AWS::Partition": "aws", "AWS::Region": region, **parameters}
    names = {}
    for logical_id, resource in resources.items():
        if isinstance(resource, dict) and resource.get("Type") == template_roles.ROLE:
            properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
            name = resolve_text(properties["RoleName"], variables) if "RoleName" in properties else role_names.get(logical_id)
            if name:
                names[logical_id] = name
    variables.update(names)
    roles = []
    for logical_id, name in names.items():
        role = template_roles.template_role(template, logical_id, physical=name, variables=variables)
        managed = role["managed"] if role["managed"] is UNRESOLVED else sorted(role["managed"])
        roles.append(ExpectedRole(logical_id=logical_id, name=name, trust=role["trust"], inline=role["inline"],
                                  managed=managed, boundary=role["boundary"]))
    return sorted(roles, key=lambda role: role.name)


def role_findings(*, account: str, expected_roles: list[ExpectedRole], live_roles: dict,
                  desired_roles: list[ExpectedRole] | None = None) -> list[Seen]:
    """Each role of the stack against IAM: trust policy, inline policies, managed policies, boundary.

    With ``desired_roles`` (the roles of the template the console would deploy now), a difference from
    the stack where IAM already holds what the console wants is a change pending in the console (an
    edit not applied yet, or an adopted finding), not drift.
    """
    found = _role_differences(account, expected_roles, live_roles)
    if desired_roles is None:
        return found
    wanted = {role.name for role in desired_roles}
    still_different = {seen.key for seen in _role_differences(account, desired_roles, live_roles)}
    return [seen for seen in found if seen.target.split("/", 1)[0] not in wanted or seen.key in still_different]


def _role_differences(account: str, expected_roles: list[ExpectedRole], live_roles: dict) -> list[Seen]:
    found = []
    for role in expected_roles:
        live = live_roles.get(role.name)
        if live is None:
            found.append(Seen(kind=Kind.STACK_CHANGED, account=account, target=role.name, aspect="role", widens=False,
                              detail=f"Role {role.name} of the stack is missing from IAM in {account} (deleted by hand?).",
                              live=None, expected={"role": role.name}))
            continue
        if role.trust is not UNRESOLVED and not _same_policy(live.trust, role.trust):
            found.append(Seen(kind=Kind.ROLE_TRUST_POLICY, account=account, target=role.name,
                              widens=policy_widens(live.trust, role.trust),
                              detail=f"The trust policy of role {role.name} in {account} differs from its stack's.",
                              live=live.trust, expected=role.trust))
        for name in sorted(set(live.inline) | set(role.inline)) if role.inline is not UNRESOLVED else ():
            mine, theirs = live.inline.get(name), role.inline.get(name)
            if theirs is UNRESOLVED or _same_policy(mine, theirs):
                continue
            what = "added in IAM" if theirs is None else "removed in IAM" if mine is None else "edited in IAM"
            found.append(Seen(kind=Kind.ROLE_INLINE_POLICY, account=account, target=f"{role.name}/{name}",
                              widens=policy_widens(mine, theirs),
                              detail=f"Inline policy {name} of role {role.name} in {account} was {what}.",
                              live=mine, expected=theirs))
        for arn in sorted(set(live.managed) ^ set(role.managed)) if role.managed is not UNRESOLVED else ():
            attached = arn in live.managed
            found.append(Seen(kind=Kind.ROLE_MANAGED_POLICY, account=account, target=f"{role.name}/{arn}", widens=attached,
                              detail=f"Managed policy {arn} was {'attached to' if attached else 'detached from'} "
                                     f"role {role.name} in {account} outside its stack.",
                              live=arn if attached else None, expected=None if attached else arn))
        if role.boundary is not UNRESOLVED and (live.boundary or "") != (role.boundary or ""):
            widens = not live.boundary or bool(role.boundary)  # removed or replaced: unsure, so it widens
            found.append(Seen(kind=Kind.ROLE_BOUNDARY, account=account, target=role.name, widens=widens,
                              detail=f"The permissions boundary of role {role.name} in {account} is "
                                     f"{live.boundary or 'none'}; its stack says {role.boundary or 'none'}.",
                              live=live.boundary or None, expected=role.boundary or None))
    return found


def group_specs(groups: dict) -> dict:
    """The desired document's groups reduced to what AWS holds: policy and member names."""
    return {group: {"account": spec["account"], "policy_name": spec["policy_name"], "policy": spec["policy"],
                    "members": sorted(member["user"] if isinstance(member, dict) else member for member in spec["members"])}
            for group, spec in groups.items()}

