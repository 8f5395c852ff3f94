"""Readable differences: template resources, policy JSON, and what deserves a second look."""
import difflib
import json

from core import limits


def pretty(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


def unified_diff(before, after, *, name: str) -> str:
    before_lines = pretty(before).splitlines() if before is not None else []
    after_lines = pretty(after).splitlines() if after is not None else []
    return "\n".join(
        difflib.unified_diff(before_lines, after_lines, fromfile=f"{name} (live)", tofile=f"{name} (planned)", lineterm="")
    )


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def resource_changes(live_template: dict | None, desired_template: dict | None) -> list[dict]:
    """Per logical id: added, removed or changed, with the type and a unified diff of its properties."""
    live = (live_template or {}).get("Resources", {}) or {}
    desired = (desired_template or {}).get("Resources", {}) or {}
    changes = []
    for logical_id in sorted(set(live) | set(desired)):
        before, after = live.get(logical_id), desired.get(logical_id)
        if before is not None and after is not None and canonical(before) == canonical(after):
            continue
        action = "add" if before is None else "remove" if after is None else "change"
        resource_type = (after or before).get("Type", "")
        changes.append(
            {
                "logical_id": logical_id,
                "type": resource_type,
                "action": action,
                "diff": unified_diff(before, after, name=logical_id),
                "before": before,
                "after": after,
            }
        )
    return changes


def _allowed_actions(document) -> set[str]:
    actions = set()
    if not isinstance(document, dict):
        return actions
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict) and statement.get("Effect") == "Allow":
            value = statement.get("Action", [])
            actions.update(value if isinstance(value, list) else [value])
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
            added = _allowed_actions(document) - _allowed_actions(before.get("Properties", {}).get("PolicyDocument"))
            if added:
                warnings.append(f"{account}: {change['logical_id']} widens permissions: now also allows {', '.join(sorted(added))}.")
    if change["type"] == "AWS::IAM::Role" and change["action"] != "remove":
        trust = properties.get("AssumeRolePolicyDocument", {})
        statements = trust.get("Statement", []) if isinstance(trust, dict) else []
        if any(isinstance(s, dict) and not s.get("Condition") for s in statements):
            warnings.append(f"{account}: role {change['logical_id']} can be assumed without MFA.")
        added_managed = set(properties.get("ManagedPolicyArns", [])) - set(before.get("Properties", {}).get("ManagedPolicyArns", []) if before else [])
        if added_managed and change["action"] == "change":
            warnings.append(f"{account}: role {change['logical_id']} gains managed policies {', '.join(sorted(added_managed))}.")
    return warnings
