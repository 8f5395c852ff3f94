"""Which resource changes CloudFormation makes by *replacement*: a new physical resource, a new ARN.

CloudFormation replaces a resource when a property listed in its type's ``createOnlyProperties``
changes (CloudFormation resource schemas; tests/test_replacement.py checks this table against the
schemas cfn-lint ships). A change set on real AWS says so itself (``Replacement``: ``True``,
``False`` or ``Conditional``); the fake AWS used in tests does not, so the table decides there.

For a role a replacement is not a detail: its ARN changes, and every saved switch-role link,
``role_arn`` profile and outside reference to it breaks. The plan marks every resource change with
``replacement`` and blocks the ones that replace a role unless the rename was confirmed.
"""
from plans import normalize

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


def _properties(resource) -> dict:
    properties = resource.get("Properties") if isinstance(resource, dict) else None
    return properties if isinstance(properties, dict) else {}


def replaced_by(resource_type: str, before, after) -> list[str]:
    """The create-only properties that differ by meaning between two versions of a resource."""
    names = CREATE_ONLY_PROPERTIES.get(resource_type, ())
    old, new = _properties(before), _properties(after)
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


def resource_identity(logical_id: str, resource) -> dict:
    """What a role's ARN is made of in a template: its logical id, RoleName (None: CloudFormation names it) and Path."""
    properties = _properties(resource)
    path = properties.get("Path", "/")
    return {"logical_id": logical_id, "role_name": properties.get("RoleName"), "path": path}


def role_arn(account_id: str, identity: dict) -> str:
    """The role's ARN, or a description of it when CloudFormation chose the name."""
    path = identity["path"] if isinstance(identity["path"], str) else "/"
    name = identity["role_name"]
    if not isinstance(name, str):
        name = "<the name CloudFormation gave it>"
    return f"arn:aws:iam::{account_id or '<account id>'}:role{path}{name}"


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
            name = _properties(added.get("after")).get("RoleName")
            old_id = next(
                (logical_id for logical_id, c in removed.items()
                 if isinstance(name, str) and isinstance(_properties(c.get("before")).get("RoleName"), str)
                 and _properties(c.get("before"))["RoleName"].lower() == name.lower()),
                None,
            )
        if old_id is None or old_id not in removed:
            continue
        old = removed.pop(old_id)
        added["replacement"] = old["replacement"] = True
        added["replaces"], old["replaced_by"] = old_id, added["logical_id"]


def role_identity(role) -> dict:
    """A console role's identity as the generated template writes it (see ``resource_identity``)."""
    from roles.cloudformation import role_resources

    resources = role_resources(role, [], include_account_metadata=False)
    return resource_identity(role.logical_name, resources[role.logical_name])


def describe_identity_change(before: dict, after: dict) -> str:
    """``RoleName Admin → Administrator, Path / → /ops/`` for the parts that change."""
    labels = {"logical_id": "logical id", "role_name": "RoleName", "path": "Path"}
    parts = []
    for key, label in labels.items():
        if before.get(key) != after.get(key):
            old = before.get(key) if before.get(key) is not None else "(given by CloudFormation)"
            new = after.get(key) if after.get(key) is not None else "(given by CloudFormation)"
            parts.append(f"{label} {old} → {new}")
    return ", ".join(parts)


def confirmation_covers(confirmation: dict, *, wanted: dict) -> bool:
    """Whether the editor confirmed on the role form that the role becomes exactly ``wanted``."""
    return bool(confirmation.get("confirmed")) and _same_identity(confirmation.get("to") or {}, wanted)


def _same_identity(confirmed: dict, wanted: dict) -> bool:
    """A confirmed role that keeps CloudFormation's name (``role_name`` None) is written, in an account
    where no such name exists yet, under its logical id (``roles.cloudformation.role_resources``):
    that RoleName is the same definition, not another rename."""
    names = {None, confirmed.get("logical_id")} if confirmed.get("role_name") is None else {confirmed.get("role_name")}
    return (confirmed.get("logical_id"), confirmed.get("path") or "/") == (wanted.get("logical_id"), wanted.get("path") or "/") \
        and wanted.get("role_name") in names
