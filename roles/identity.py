"""A role's identity: what its ARN is made of (logical id, RoleName, Path), and how a change of it is
described and confirmed.

An editor renaming a role on the role form confirms the new identity there
(``RoleDefinition.replacement_confirmation``); a plan (``plans.guards``) blocks a change that
replaces a role unless that confirmation covers exactly what the plan makes of it. CloudFormation's
rules for when a change replaces a resource are in ``plans/replacement.py``.
"""
from roles.cloudformation import role_resources


def template_properties(resource) -> dict:
    """A template resource's ``Properties``, or an empty mapping when it has none (or is not a mapping)."""
    properties = resource.get("Properties") if isinstance(resource, dict) else None
    return properties if isinstance(properties, dict) else {}


def resource_identity(logical_id: str, resource) -> dict:
    """What a role's ARN is made of in a template: its logical id, RoleName (None: CloudFormation names it) and Path."""
    properties = template_properties(resource)
    path = properties.get("Path", "/")
    return {"logical_id": logical_id, "role_name": properties.get("RoleName"), "path": path}


def role_arn(account_id: str, identity: dict) -> str:
    """The role's ARN, or a description of it when CloudFormation chose the name."""
    path = identity["path"] if isinstance(identity["path"], str) else "/"
    name = identity["role_name"]
    if not isinstance(name, str):
        name = "<the name CloudFormation gave it>"
    return f"arn:aws:iam::{account_id or '<account id>'}:role{path}{name}"


def role_identity(role) -> dict:
    """A console role's identity as the generated template writes it (see ``resource_identity``)."""
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
