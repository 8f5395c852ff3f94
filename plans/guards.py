"""Red blocks for changes that break people's access unless someone chose them on purpose.

* A role CloudFormation would replace gets a new ARN: every switch-role link, ``role_arn`` profile
  and outside reference to it breaks. Blocked unless an editor confirmed on the role form that the
  role is to become exactly what the plan makes of it (``RoleDefinition.replacement_confirmation``):
  when renaming it there, or later from the block's link (a rename an import made, or a live role
  that differs from the console's without anyone renaming it).
* A ``/RoleModel/`` group removed (or renamed: removed under its old name) while it has members takes
  their access away. Blocked unless the console explains the removal: the plan is a teardown; the
  group's role or account was deleted in the console (a sudo-confirmed, audited action); its role
  was renamed with a confirmation; its account was renamed (an audited edit); or every member was
  revoked in the console.

A teardown is never blocked here: removing everything is what it is for.
"""
from accounts.models import AssumableAccount
from audit.models import AuditEvent
from audit.selectors import membership_removals
from core import limits
from plans import replacement
from plans.document import Block, block
from roles import identity
from roles.models import RoleDefinition

ROLE = replacement.ROLE


def role_confirmations() -> dict[str, dict]:
    """Each role's record of its last change of ARN (confirmed or not), by its current logical id."""
    return {
        logical_name: confirmation
        for logical_name, confirmation in RoleDefinition.objects.exclude(replacement_confirmation={})
        .values_list("logical_name", "replacement_confirmation")
        if confirmation
    }


def role_renames(confirmations: dict[str, dict]) -> dict[str, list[str]]:
    """New logical id -> the logical ids it replaces (a role renamed in the console, confirmed or not:
    either way the two are one role, and the pair is a replacement)."""
    renames = {}
    for logical_id, confirmation in confirmations.items():
        old_ids = [o.get("logical_id") for o in confirmation.get("from") or [] if o.get("logical_id") != logical_id]
        if old_ids:
            renames[logical_id] = old_ids
    return renames


def _role_block(message: str, logical_id: str) -> Block:
    """Leads to the role's form, where the replacement is confirmed; to the roles when it is gone."""
    role_id = RoleDefinition.objects.filter(logical_name=logical_id).values_list("pk", flat=True).first()
    if role_id is None:
        return block(message, "roles")
    return block(message, "role", id=role_id, confirm_replacement=True)


def role_replacement_blocks(account_plans: list[dict], confirmations: dict[str, dict]) -> list[Block]:
    """A block for each role a plan would replace without a confirmation; confirmed ones are marked.

    Reads each resource change's ``before``/``after`` (so call it before they are dropped) and its
    ``replacement``, which a change set's answer may have set (``apply_change_set_replacements``).
    """
    blocks = []
    for account in account_plans:
        for change in account["resources"]:
            if change["type"] != ROLE or change.get("replacement") not in (True, replacement.CONDITIONAL):
                continue
            if change["action"] == "change":
                old_id = change["logical_id"]
            elif change["action"] == "add" and change.get("replaces"):
                old_id = change["replaces"]
            else:
                continue  # the removed half of a pair: its added half speaks for both
            before = change.get("before") if change["action"] == "change" else _before_of(account, old_id)
            live = identity.resource_identity(old_id, before)
            wanted = identity.resource_identity(change["logical_id"], change.get("after"))
            if identity.confirmation_covers(confirmations.get(change["logical_id"]) or {}, wanted=wanted):
                change["confirmed"] = True
                continue
            blocks.append(_role_block(_replacement_message(account, change, live, wanted), change["logical_id"]))
    return blocks


def _before_of(account: dict, logical_id: str):
    return next((c.get("before") for c in account["resources"] if c["logical_id"] == logical_id), None)


def _replacement_message(account: dict, change: dict, live: dict, wanted: dict) -> str:
    verb = "may be replaced" if change["replacement"] == replacement.CONDITIONAL else "would be replaced"
    what = identity.describe_identity_change(live, wanted)
    why = f" ({what})" if what else " (CloudFormation reports it)" if change.get("replacement_source") == "aws" else ""
    old_arn = identity.role_arn(account["account_id"], live)
    new_arn = identity.role_arn(account["account_id"], wanted)
    arn = f"its ARN changes from {old_arn} to {new_arn}" if old_arn != new_arn else f"{old_arn} becomes a new role"
    return (
        f"Role {change['logical_id']} in {account['name']} {verb}{why}: {arn}, and every switch-role link, "
        "role_arn profile and outside reference to it breaks. If that is intended, confirm the rename on the "
        "role's form, then plan again."
    )


def apply_change_set_replacements(account_plans: list[dict]) -> None:
    """Take ``Replacement`` from each change set where AWS reported it (the fake AWS does not)."""
    for account in account_plans:
        reported = {c["logical_id"]: replacement.from_change_set(c.get("replacement"))
                    for c in account.get("aws_changes") or []}
        for change in account["resources"]:
            value = reported.get(change["logical_id"])
            if value is not None and change["action"] == "change":
                change["replacement"], change["replacement_source"] = value, "aws"


def group_removal_blocks(master_plan: dict, confirmations: dict[str, dict]) -> list[dict]:
    """A block for each group with members the plan would remove without the console having chosen it."""
    blocks = []
    unexplained = [g for g in master_plan["groups_remove"] if g["members"] and not _removal_explained(g, confirmations)]
    if not unexplained:
        return blocks
    revoked = membership_removals({(user, g["group"]) for g in unexplained for user in g["members"]})
    for group in unexplained:
        if all((user, group["group"]) in revoked for user in group["members"]):
            continue  # every member was revoked in the console, by name, with a reason
        blocks.append(block(_group_message(group, revoked), "roles"))
    return blocks


def _removal_explained(group: dict, confirmations: dict[str, dict]) -> bool:
    account, role = limits.group_parts(group["group"])
    audit = AuditEvent.objects.all()
    if audit.filter(object_type="role", action="delete", object_repr=role).exists():
        return True
    if audit.filter(object_type="account", action="delete", object_repr=account).exists():
        return True
    if any(o.get("logical_id") == role for c in confirmations.values() if c.get("confirmed") for o in c.get("from") or []):
        return True  # the old group of a role renamed with a confirmation
    renamed = audit.filter(object_type="account", action="update", before__name=account).exclude(after__name=account)
    return renamed.exists()


def _group_message(group: dict, revoked: dict) -> str:
    account, role = limits.group_parts(group["group"])
    members = ", ".join(group["members"])
    known = RoleDefinition.objects.filter(logical_name=role).exists() and AssumableAccount.objects.filter(name=account).exists()
    if not known:
        return (
            f"Group {group['group']} under /RoleModel/ is not known to the console and has members ({members}): "
            "the plan would remove it and their access with it. To keep it, import its account and role "
            "(rolemodel import) so the console knows it; to let it go, remove its members from the group in AWS. "
            "Then plan again. A teardown removes it without asking."
        )
    not_revoked = ", ".join(u for u in group["members"] if (u, group["group"]) not in revoked)
    return (
        f"Group {group['group']} would be removed while members the console did not revoke are in it "
        f"({not_revoked}): their access through it ends. Remove them from the group in AWS, or give them a "
        "membership in the console, then plan again. A teardown removes it without asking."
    )
