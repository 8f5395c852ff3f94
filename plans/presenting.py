"""What a plan finds and what it will do, named one by one, for the CLI, ``--json`` and the plan page.

The summary line counts; this names: each resource change with whether CloudFormation replaces it,
each role repair (a role edited in IAM outside CloudFormation, put back as the template has it),
each member added or removed by user name (marked when AWS has a member the console does not), each
/RoleModel/ group in AWS that the console does not know, and each stack whose status is not a plain
``*_COMPLETE`` with what the plan does about it. Everything is read from the plan as it was stored.
"""
from audit.selectors import membership_removals
from core import limits

# Stack states that need no word: the last operation finished as asked.
PLAIN_COMPLETE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
STATUS_MEANINGS = {
    "UPDATE_ROLLBACK_COMPLETE": "its last update failed and was rolled back; it still holds the template from before",
    "ROLLBACK_COMPLETE": "its creation failed and was rolled back; it holds nothing and cannot be updated",
    "ROLLBACK_FAILED": "its creation failed, and so did the rollback",
    "CREATE_FAILED": "its creation failed",
    "DELETE_FAILED": "a deletion failed; some of its resources may be left",
    "UPDATE_ROLLBACK_FAILED": "an update failed, and so did its rollback",
    "UPDATE_FAILED": "its last update failed",
    "IMPORT_ROLLBACK_COMPLETE": "a resource import failed and was rolled back",
    "REVIEW_IN_PROGRESS": "a change set made it but was never executed; it holds nothing yet",
    "DELETE_COMPLETE": "it was deleted",
}


def replacement_label(resource: dict, account: dict | None = None) -> str:
    """"yes", "no" or "conditional": whether CloudFormation replaces the resource (a new physical id;
    for a role, a new ARN). The plan's own word first, else what AWS listed in the account's change
    set ("True", "False", "Conditional"); "no" when neither says (an added or removed resource)."""
    value = resource.get("replacement")
    if value is None and account is not None:
        listed = {change.get("logical_id"): change.get("replacement") for change in account.get("aws_changes") or []}
        value = listed.get(resource["logical_id"])
    if value is True or (isinstance(value, str) and value.lower() == "true"):
        return "yes"
    if isinstance(value, str) and value.lower() == "conditional":
        return "conditional"
    return "no"


def resource_changes(plan) -> list[dict]:
    return [
        {"account": account["name"], "logical_id": resource["logical_id"], "type": resource.get("type", ""),
         "action": resource["action"], "replacement": replacement_label(resource, account)}
        for account in plan.accounts or []
        for resource in account.get("resources", [])
    ]


def _group_parts(plan, group: str) -> tuple[str, str]:
    spec = (plan.desired_state or {}).get("groups", {}).get(group)
    if spec:
        return spec["account"], spec["role"]
    return limits.group_parts(group)


def _unknown(plan, entry: dict) -> bool:
    if "unknown_to_console" in entry:
        return bool(entry["unknown_to_console"])
    # Plans stored before the planner marked it: a converge plan removes only groups it does not want.
    return plan.kind == "converge" and entry["group"] not in (plan.desired_state or {}).get("groups", {})


def member_changes(plan) -> dict:
    """{"add": [...], "remove": [...]}, each entry naming the user, the group, its account and role.

    A removal says ``not_in_console`` when the console never had that membership (AWS has a member
    the console does not: added by hand, or by the original tool), else who removed it in the console.
    Members of a group the plan deletes are removals too (``with_group``).
    """
    master = plan.master or {}
    added = []
    for entry in master.get("members_add", []):
        account, role = _group_parts(plan, entry["group"])
        added.append({"user": entry["user"], "group": entry["group"], "account": account, "role": role,
                      "requested_by": entry.get("requested_by", ""), "reason": entry.get("reason", "")})
    removed = []
    for entry in master.get("members_remove", []):
        account, role = _group_parts(plan, entry["group"])
        removed.append({"user": entry["user"], "group": entry["group"], "account": account, "role": role,
                        "not_in_console": not entry.get("removed_by"), "removed_by": entry.get("removed_by", ""),
                        "reason": entry.get("reason", ""), "with_group": False})
    for entry in master.get("groups_remove", []):
        account, role = _group_parts(plan, entry["group"])
        unknown = _unknown(plan, entry)
        for user in entry.get("members", []):
            removed.append({"user": user, "group": entry["group"], "account": account, "role": role,
                            "not_in_console": unknown, "removed_by": "", "reason": "", "with_group": True})
    return {"add": added, "remove": removed}


def unknown_groups(plan) -> list[dict]:
    """/RoleModel/ groups in AWS that the console does not know, which the plan removes."""
    return [
        {"group": entry["group"], "members": list(entry.get("members", [])), "policies": list(entry.get("policies", []))}
        for entry in (plan.master or {}).get("groups_remove", [])
        if _unknown(plan, entry)
    ]


def _what_the_plan_does(account: dict) -> str:
    action, status = account["action"], account.get("stack_status", "")
    if account.get("blocks"):
        return "the plan is blocked until that is resolved"
    if action == "update" and status == "UPDATE_ROLLBACK_COMPLETE":
        return ("the plan updates it again (AWS allows an update from UPDATE_ROLLBACK_COMPLETE); "
                "look at why the last update failed before approving")
    return {
        "update": "the plan updates it",
        "recreate": "the plan deletes it and creates it again",
        "create": "the plan creates it",
        "delete": "the plan deletes it",
        "skip": "the account is disabled: the plan leaves it alone",
        "none": "nothing to change: it already holds the desired template",
    }.get(action, f"the plan's action is {action}")


def stack_notes(plan) -> list[dict]:
    """Each stack whose status is not a plain ``*_COMPLETE``: the status, what it means, what the plan does."""
    notes = []
    for account in plan.accounts or []:
        status = account.get("stack_status", "")
        if not status or status in PLAIN_COMPLETE:
            continue
        meaning = STATUS_MEANINGS.get(status) or (
            "CloudFormation is still working on it" if status.endswith("_IN_PROGRESS") else "it did not end as asked"
        )
        doing = _what_the_plan_does(account)
        notes.append({"account": account["name"], "status": status, "action": account["action"], "meaning": meaning,
                      "plan": doing, "message": f"Stack in {account['name']} is {status}: {meaning}; {doing}."})
    return notes


def role_repairs(plan) -> list[dict]:
    """Each IAM write that undoes an edit made to a stack's role in IAM, outside CloudFormation (which no
    change set sees), with the live and the wanted value and their diff."""
    return [
        {"account": account["name"], "role": repair["role_name"], "logical_id": repair["logical_id"],
         "kind": repair["kind"], "operation": repair["operation"], "action": repair["action"],
         "subject": repair["subject"], "description": repair["description"], "live": repair["live"],
         "wanted": repair["wanted"], "diff": repair["diff"]}
        for account in plan.accounts or []
        for repair in account.get("role_repairs", [])
    ]


def plan_report(plan) -> dict:
    return {
        "resources": resource_changes(plan),
        "role_repairs": role_repairs(plan),
        "members": member_changes(plan),
        "unknown_groups": unknown_groups(plan),
        "stacks": stack_notes(plan),
    }


def mark_groups_unknown_to_console(groups_remove: list[dict]) -> None:
    """Planner side: mark each group to remove that no (account, role) pair of the console names.

    Disabled accounts count as known (their groups are left alone anyway); a role or account deleted
    in the console is no longer known, and its group goes as any stray one does.
    """
    from accounts.models import AssumableAccount
    from roles.selectors import account_role_pairs, roles_with_policies

    if not groups_remove:
        return
    known = {limits.group_name(account.name, role.logical_name)
             for account, role in account_role_pairs(list(AssumableAccount.objects.all()), list(roles_with_policies()))}
    for entry in groups_remove:
        entry["unknown_to_console"] = entry["group"] not in known


def say_who_removed(members_remove: list[dict]) -> None:
    """Add who removed each membership and why, from its audit row (none when it was removed in AWS by hand)."""
    removals = membership_removals({(entry["user"], entry["group"]) for entry in members_remove})
    for entry in members_remove:
        row = removals.get((entry["user"], entry["group"]))
        if row is not None:
            entry.update(removed_by=row.actor_name, reason=row.reason, removed_at=row.created_at.isoformat())
