"""Readable differences: template resources, policy JSON, and what deserves a second look."""
from core import limits, normalize
from core.json_diff import unified_diff
from plans import replacement


def resource_changes(live_template: dict | None, desired_template: dict | None, *,
                     renames: dict[str, str] | None = None) -> list[dict]:
    """Per logical id that differs by meaning: added, removed or changed, with the type, a unified
    diff of the real JSON, and whether CloudFormation replaces it (``replacement``: True, False or
    "Conditional", from the create-only properties table until a change set says otherwise).
    ``renames`` (new logical id -> old) pairs a role removed and added under a confirmed new id."""
    live = (live_template or {}).get("Resources", {}) or {}
    desired = (desired_template or {}).get("Resources", {}) or {}
    changes = []
    for logical_id in sorted(set(live) | set(desired)):
        before, after = live.get(logical_id), desired.get(logical_id)
        resource_type = (after or before).get("Type", "")
        if before is not None and after is not None and normalize.same_resource(resource_type, before, after):
            continue
        action = "add" if before is None else "remove" if after is None else "change"
        changes.append(
            {
                "logical_id": logical_id,
                "type": resource_type,
                "action": action,
                "replacement": replacement.replacement(resource_type, before, after),
                "replacement_source": "schema",
                "replaced_properties": replacement.replaced_by(resource_type, before, after) if action == "change" else [],
                "diff": unified_diff(before, after, name=logical_id),
                "before": before,
                "after": after,
            }
        )
    replacement.pair_replaced_roles(changes, renames)
    return changes


def _allowed_actions(document) -> dict[str, str]:
    """Allowed action names keyed without case (IAM compares them so), each as written."""
    actions = {}
    if not isinstance(document, dict):
        return actions
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict) and statement.get("Effect") == "Allow":
            value = statement.get("Action", [])
            actions.update((a.lower(), a) for a in (value if isinstance(value, list) else [value]) if isinstance(a, str))
    return actions


def resource_warnings(account: str, change: dict) -> list[str]:
    """Amber notes for one resource change: Allow * on *, a trust policy without MFA, wider permissions."""
    warnings = []
    after = change.get("after") or {}
    before = change.get("before") or {}
    properties = after.get("Properties", {}) if isinstance(after, dict) else {}
    if change["type"] == "AWS::IAM::Policy" and change["action"] != "remove":
        document = properties.get("PolicyDocument")
        if limits.allows_everything(document):
            warnings.append(f"{account}: {change['logical_id']} allows every action (*) on every resource (*).")
        if change["action"] == "change":
            now = _allowed_actions(document)
            added = {now[key] for key in set(now) - set(_allowed_actions(before.get("Properties", {}).get("PolicyDocument")))}
            if added:
                warnings.append(f"{account}: {change['logical_id']} widens permissions: now also allows {', '.join(sorted(added))}.")
    if change["type"] == "AWS::IAM::Role" and change["action"] != "remove":
        trust = properties.get("AssumeRolePolicyDocument", {})
        statements = trust.get("Statement", []) if isinstance(trust, dict) else []
        statements = statements if isinstance(statements, list) else [statements]
        if any(isinstance(s, dict) and not s.get("Condition") for s in statements):
            warnings.append(f"{account}: role {change['logical_id']} can be assumed without MFA.")
        added_managed = set(properties.get("ManagedPolicyArns", [])) - set(before.get("Properties", {}).get("ManagedPolicyArns", []) if before else [])
        if added_managed and change["action"] == "change":
            warnings.append(f"{account}: role {change['logical_id']} gains managed policies {', '.join(sorted(added_managed))}.")
    return warnings
