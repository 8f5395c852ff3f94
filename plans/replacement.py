"""Which resource changes CloudFormation makes by *replacement*: a new physical resource, a new ARN.

CloudFormation replaces a resource when a property listed in its type's ``createOnlyProperties``
changes (CloudFormation resource schemas; tests/test_replacement.py checks this table against the
schemas cfn-lint ships). A change set on real AWS says so itself (``Replacement``: ``True``,
``False`` or ``Conditional``); the fake AWS used in tests does not, so the table decides there.

For a role a replacement is not a detail: its ARN changes, and every saved switch-role link,
``role_arn`` profile and outside reference to it breaks. The plan marks every resource change with
``replacement`` and blocks the ones that replace a role unless the rename was confirmed.
"""
from core import normalize
from roles.identity import template_properties

ROLE = "AWS::IAM::Role"
CONDITIONAL = "Conditional"

# The resource types the console generates or imports, and the IAM types next to them.
CREATE_ONLY_PROPERTIES = {
    "AWS::IAM::Role": ("Path", "RoleName"),
    "AWS::IAM::Policy": (),
    "AWS::IAM::ManagedPolicy": ("Description", "ManagedPolicyName", "Path"),
    "AWS::IAM::Group": ("GroupName",),
    "AWS::IAM::RolePolicy": ("PolicyName", "RoleName"),
    "AWS::IAM::GroupPolicy": ("GroupName", "PolicyName"),
}


def replaced_by(resource_type: str, before, after) -> list[str]:
    """The create-only properties that differ by meaning between two versions of a resource."""
    names = CREATE_ONLY_PROPERTIES.get(resource_type, ())
    old, new = template_properties(before), template_properties(after)
    return [name for name in names if not normalize.same_property(resource_type, name, old.get(name), new.get(name))]


def replacement(resource_type: str, before, after):
    """``True``, ``False`` or ``"Conditional"`` (a type we have no table for) for one resource change.

    Adding or removing a resource replaces nothing; a change replaces it when a create-only property
    changes, or when its type changes (CloudFormation makes a new resource then).
    """
    if before is None or after is None:
        return False
    if isinstance(before, dict) and isinstance(after, dict) and before.get("Type") != after.get("Type"):
        return True
    if resource_type not in CREATE_ONLY_PROPERTIES:
        return CONDITIONAL
    return bool(replaced_by(resource_type, before, after))


def from_change_set(value):
    """A change set's ``Replacement`` as ``True``/``False``/``"Conditional"``, or None when AWS did not say."""
    return {"True": True, "False": False, CONDITIONAL: CONDITIONAL}.get(value)


def pair_replaced_roles(changes: list[dict], renames: dict[str, str] | None = None) -> None:
    """Mark a role removed under one logical id and added under another as one replacement.

    Two changes are the same role when ``renames`` (new logical id -> old ids, from confirmed renames)
    says so, or when both carry the same literal ``RoleName`` (IAM compares role names without case).
    Both entries get ``replacement: True``; the added one names the removed one in ``replaces``.
    """
    renames = renames or {}
    removed = {c["logical_id"]: c for c in changes if c["action"] == "remove" and c["type"] == ROLE}
    for added in (c for c in changes if c["action"] == "add" and c["type"] == ROLE):
        candidates = renames.get(added["logical_id"]) or []
        old_id = next((c for c in ([candidates] if isinstance(candidates, str) else candidates) if c in removed), None)
        if old_id is None:
            name = template_properties(added.get("after")).get("RoleName")
            old_id = next(
                (logical_id for logical_id, c in removed.items()
                 if isinstance(name, str) and isinstance(template_properties(c.get("before")).get("RoleName"), str)
                 and template_properties(c.get("before"))["RoleName"].lower() == name.lower()),
                None,
            )
        if old_id is None:
            continue
        old = removed.pop(old_id)
        added["replacement"] = old["replacement"] = True
        added["replaces"], old["replaced_by"] = old_id, added["logical_id"]
