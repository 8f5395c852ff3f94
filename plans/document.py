"""The plan document, typed: what ``Plan.accounts``, ``Plan.master``, ``Plan.summary`` and ``Plan.blocks``
hold, and the pure functions that compute it from the desired state and what was read in AWS.

The types are TypedDicts, so the stored JSON is exactly what it always was: rows written by older
releases, the plan page, ``--json`` and ``plans.presenting`` read it unchanged. The functions here
read no database and call no AWS: they compare (``core.normalize`` says what means the same,
``plans.diff`` words the difference).
"""
from typing import NotRequired, TypedDict

from django.db import models

from core import json_diff, normalize
from integrations import aws
from plans import diff

MASTER_PARAMETER = "AssumingAccountID"
BUSY_STATUSES_OK = ("REVIEW_IN_PROGRESS",)
# States a stack cannot be updated from: it is deleted and created again.
RECREATE_STATUSES = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED")
BLOCKING_STATUSES = ("UPDATE_ROLLBACK_FAILED",)


class StackAction(models.TextChoices):
    """What the plan does to one account's stack."""

    NONE = "none", "No change"
    SKIP = "skip", "Skipped (account disabled)"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    RECREATE = "recreate", "Delete and create again"


# No stack change in the account (the apply makes a step for it only for role repairs: has_account_step).
UNCHANGED_ACTIONS = (StackAction.NONE, StackAction.SKIP)


# Those that need a change set made while planning.
CHANGE_SET_ACTIONS = (StackAction.CREATE, StackAction.UPDATE)


class ResourceChange(TypedDict):
    """One template resource that differs by meaning (``plans.diff.resource_changes``)."""

    logical_id: str
    type: str
    action: str  # "add", "change" or "remove"
    replacement: bool | str  # True, False or "Conditional"
    replacement_source: str  # "schema" or "aws"
    replaced_properties: list[str]
    diff: str
    before: NotRequired[dict | None]  # dropped before the plan is stored
    after: NotRequired[dict | None]
    replaces: NotRequired[str]  # the logical id a renamed role replaces
    confirmed: NotRequired[bool]


class RoleRepair(TypedDict):
    """One IAM write that undoes an edit made to a stack's role in IAM, outside CloudFormation
    (``plans.role_repairs``); made by the account's apply step after its stack change."""

    logical_id: str  # the role's logical id in the template
    role_name: str  # its name in IAM
    kind: str  # the drift finding kind it answers (drift.models.DriftFinding.Kind): role_inline_policy, ...
    # The IAM API: PutRolePolicy, DeleteRolePolicy, AttachRolePolicy, DetachRolePolicy, UpdateAssumeRolePolicy,
    # PutRolePermissionsBoundary or DeleteRolePermissionsBoundary.
    operation: str
    action: str  # "add", "change" or "remove", as IAM sees the policy, ARN or boundary (it counts as a change)
    subject: str  # the inline policy's name, the managed policy's ARN, "trust policy" or "permissions boundary"
    live: dict | str | None  # what IAM holds: a policy document, an ARN, or None (absent)
    wanted: dict | str | None  # what the desired template says, resolved as IAM stores it
    diff: str  # unified diff of the policy documents, live -> wanted ("" for an ARN)
    description: str  # one sentence, ending "(edited in IAM outside CloudFormation)"


class AccountPlan(TypedDict):
    name: str
    account_id: str
    action: str  # a StackAction
    stack_status: str
    resources: list[ResourceChange]
    change_set_id: str
    change_set_type: str  # "CREATE", "UPDATE" or ""
    created_stack: bool
    blocks: list[str]
    parameters: dict[str, str]
    template: NotRequired[dict]
    recovering_from: NotRequired[str]
    parameter_change: NotRequired[dict[str, str]]
    aws_changes: NotRequired[list[dict]]
    role_repairs: NotRequired[list[RoleRepair]]  # only when there are any


class GroupCreate(TypedDict):
    group: str
    account: str
    role: str


class GroupRemove(TypedDict):
    group: str
    members: list[str]
    policies: list[str]
    unknown_to_console: NotRequired[bool]


class PolicyPut(TypedDict):
    group: str
    policy_name: str
    document: dict
    before: dict | None
    diff: str


class PolicyRemove(TypedDict):
    group: str
    policy_name: str


class MemberChange(TypedDict):
    group: str
    user: str
    removed_by: NotRequired[str]
    reason: NotRequired[str]
    removed_at: NotRequired[str]


class MasterPlan(TypedDict):
    groups_create: list[GroupCreate]
    groups_remove: list[GroupRemove]
    policies_put: list[PolicyPut]
    policies_remove: list[PolicyRemove]
    members_add: list[MemberChange]
    members_remove: list[MemberChange]


class Summary(TypedDict):
    add: int
    change: int
    remove: int


class BlockTarget(TypedDict):
    """What a block's link leads to; the page builds the URL (``plans.templatetags.plan_links``)."""

    kind: str  # "accounts", "master", "dashboard", "roles", "role", "iam_user"
    id: NotRequired[int]  # a role's id
    q: NotRequired[str]  # an IAM user's name, searched for
    confirm_replacement: NotRequired[bool]


class Block(TypedDict):
    message: str
    target: NotRequired[BlockTarget]
    link: NotRequired[str]  # rows written before the target was stored


def block(message: str, kind: str, **target) -> Block:
    return {"message": message, "target": {"kind": kind, **target}}


def account_plan(*, name: str, entry: dict, live: aws.LiveStack | None, master_id: str, teardown: bool,
                 renames: dict | None = None) -> AccountPlan:
    """Decide what happens to one account's stack and which resources change.

    Templates are compared by meaning (core.normalize): a difference of form alone is no change and
    makes no change set. An update sends the wanted template written as the live one wherever the two
    mean the same, so that CloudFormation, too, sees only the real changes.
    """
    plan: AccountPlan = {"name": name, "account_id": entry["account_id"], "action": StackAction.NONE, "stack_status": live.status if live else "",
            "resources": [], "change_set_id": "", "change_set_type": "", "created_stack": False, "blocks": [],
            "parameters": {MASTER_PARAMETER: master_id}}
    if not entry["enabled"]:
        plan["action"] = StackAction.SKIP
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
            plan["action"] = StackAction.DELETE
            plan["resources"] = diff.resource_changes(live.template, None)
        return plan

    wanted = entry["template"]
    has_resources = bool(wanted.get("Resources"))
    plan["template"] = wanted
    if live is not None and live.status in RECREATE_STATUSES:
        plan["action"] = StackAction.RECREATE if has_resources else StackAction.DELETE
        plan["resources"] = diff.resource_changes(None, wanted)
        plan["recovering_from"] = live.status
        return plan
    if not exists:
        if has_resources:
            plan["action"] = StackAction.CREATE
            plan["change_set_type"] = "CREATE"
            plan["created_stack"] = live is None
            plan["resources"] = diff.resource_changes(None, wanted)
        return plan
    if not has_resources:
        plan["action"] = StackAction.DELETE
        plan["resources"] = diff.resource_changes(live.template, None)
        return plan
    same_template = live.template is not None and normalize.same_template(live.template, wanted)
    same_parameters = live.parameters.get(MASTER_PARAMETER) == master_id
    if same_template and same_parameters:
        return plan
    plan["action"] = StackAction.UPDATE
    plan["change_set_type"] = "UPDATE"
    plan["template"] = normalize.keep_live_form(live.template, wanted)
    plan["resources"] = diff.resource_changes(live.template, plan["template"], renames=renames)
    if not same_parameters:
        plan["parameter_change"] = {"before": live.parameters.get(MASTER_PARAMETER, ""), "after": master_id}
    return plan


def master_plan(*, document: dict, live: aws.LiveIam, teardown: bool, protected_prefixes: set) -> MasterPlan:
    """Groups, group policies and members to create, change or remove in the master account."""
    wanted = document["groups"]
    master: MasterPlan = {"groups_create": [], "groups_remove": [], "policies_put": [], "policies_remove": [],
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
                "diff": json_diff.unified_diff(current, spec["policy"], name=spec["policy_name"]),
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


def summarize(accounts: list[AccountPlan], master: MasterPlan) -> Summary:
    summary: Summary = {"add": 0, "change": 0, "remove": 0}
    for account in accounts:
        for resource in account["resources"]:
            summary[resource["action"]] += 1
    summary["add"] += len(master["groups_create"]) + len(master["members_add"])
    summary["add"] += sum(1 for put in master["policies_put"] if put["before"] is None)
    summary["change"] += sum(1 for put in master["policies_put"] if put["before"] is not None)
    summary["change"] += sum(len(account.get("role_repairs", [])) for account in accounts)
    summary["remove"] += len(master["groups_remove"]) + len(master["members_remove"]) + len(master["policies_remove"])
    return summary


def has_account_step(account: AccountPlan) -> bool:
    """Whether applying the plan does anything in the account: a stack change, or role repairs."""
    return account["action"] not in UNCHANGED_ACTIONS or bool(account.get("role_repairs"))
