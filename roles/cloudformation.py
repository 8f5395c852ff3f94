"""Generate the CloudFormation template that holds an account's roles.

The template keeps the original tool's shape: an ``AssumingAccountID`` parameter that the
trust policies join into the master account's root principal, one ``AWS::IAM::Role`` per role
and one ``AWS::IAM::Policy`` per inline policy. Roles restricted to some accounts carry the
account list in ``Metadata`` so an exported template imports back to the same state.
"""
import json
import re

from core import limits

TEMPLATE_DESCRIPTION = (
    "Cross-account roles managed by Rolemodel Console. Each role trusts the master account given "
    "in AssumingAccountID. Edit the roles in the console, not in this stack."
)
MASTER_ACCOUNT_PARAMETER = "AssumingAccountID"
METADATA_KEY = "RoleModel"
MFA_CONDITION = {"Null": {"aws:MultiFactorAuthAge": "false"}}


def master_principal():
    return {"Fn::Join": [":", ["arn", "aws", "iam", "", {"Ref": MASTER_ACCOUNT_PARAMETER}, "root"]]}


def trust_policy(role) -> dict:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": master_principal()},
        "Action": "sts:AssumeRole",
    }
    if role.require_mfa:
        statement["Condition"] = MFA_CONDITION
    return {"Version": "2012-10-17", "Statement": [statement]}


def resolved_trust_policy(role, master_account_id: str = "123456789012") -> dict:
    """The trust policy as IAM stores it once the stack resolves the master account parameter."""
    rendered = trust_policy(role)
    rendered["Statement"][0]["Principal"]["AWS"] = f"arn:aws:iam::{master_account_id}:root"
    return rendered


def trust_policy_size(role, master_account_id: str = "123456789012") -> int:
    """Size of the trust policy as IAM sees it, with the principal resolved."""
    return limits.policy_size(resolved_trust_policy(role, master_account_id))


def generated_policy_id(role_logical_name: str, policy_name: str) -> str:
    """The logical id the console gives a role's inline policy when no other resource has it."""
    return f"{role_logical_name}{re.sub(r'[^A-Za-z0-9]', '', policy_name)}Policy"[: limits.LOGICAL_ID_MAX - 4]


def policy_logical_ids(roles_and_policies) -> dict:
    """Logical ids for the inline policies of a whole template, keyed by (role logical name, policy name).

    A policy imported from a live stack keeps its resource's logical id: with another id
    CloudFormation would remove the resource and add it again. The others get a stable,
    alphanumeric id derived from role and policy names that no other resource uses.
    """
    taken = {role.logical_name.lower() for role, _ in roles_and_policies}
    ids, generated = {}, []
    for role, policies in sorted(roles_and_policies, key=lambda pair: pair[0].logical_name.lower()):
        for policy in sorted(policies, key=lambda p: p.name.lower()):
            kept = getattr(policy, "logical_id", "")
            if kept and kept.lower() not in taken:
                taken.add(kept.lower())
                ids[(role.logical_name, policy.name)] = kept
            else:
                generated.append((role, policy))
    for role, policy in generated:
        base = generated_policy_id(role.logical_name, policy.name)
        candidate, counter = base, 2
        while candidate.lower() in taken:
            candidate, counter = f"{base}{counter}", counter + 1
        taken.add(candidate.lower())
        ids[(role.logical_name, policy.name)] = candidate
    return ids


def keeps_name_from_cloudformation(role, kept_names: dict | None) -> bool:
    """Whether the template leaves RoleName out for ``role``.

    Only for a role imported without RoleName, and, when the account is known (``kept_names``, its
    roles living under names CloudFormation gave them), only where it lives under such a name. In
    an account it does not exist in yet the template names it, so the plan knows its ARN exactly.
    """
    if not getattr(role, "name_from_cloudformation", False):
        return False
    return kept_names is None or role.logical_name in kept_names


def role_resources(
    role, policies, *, include_account_metadata: bool = True, kept_names: dict | None = None, policy_ids: dict | None = None
) -> dict:
    properties = {}
    if not keeps_name_from_cloudformation(role, kept_names):
        properties["RoleName"] = role.effective_role_name
    properties.update({
        "Path": role.path,
        "AssumeRolePolicyDocument": trust_policy(role),
        "MaxSessionDuration": role.max_session_duration,
    })
    if role.description:
        properties["Description"] = role.description
    if role.managed_policy_arns:
        properties["ManagedPolicyArns"] = list(role.managed_policy_arns)
    if role.permissions_boundary_arn:
        properties["PermissionsBoundary"] = role.permissions_boundary_arn
    if role.tags:
        properties["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(role.tags.items())]
    role_resource = {"Type": "AWS::IAM::Role", "Properties": properties}
    if include_account_metadata and not role.applies_to_all_accounts:
        role_resource["Metadata"] = {METADATA_KEY: {"Accounts": sorted(a.name for a in role.accounts.all())}}
    resources = {role.logical_name: role_resource}
    logical_ids = policy_ids if policy_ids is not None else policy_logical_ids([(role, policies)])
    for policy in policies:
        resources[logical_ids[(role.logical_name, policy.name)]] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": policy.name,
                "PolicyDocument": policy.document,
                "Roles": [{"Ref": role.logical_name}],
            },
        }
    return resources


def build_template(roles, *, include_account_metadata: bool = False, kept_names: dict | None = None) -> dict:
    """The template for a list of roles (their ``policies`` and ``accounts`` prefetched).

    ``kept_names`` is for the template of one account: its roles that live under names
    CloudFormation gave them (logical id -> physical name, from the account's stack record).
    Without it (an export) roles imported without RoleName are written without one, as they came.
    """
    roles = sorted(roles, key=lambda r: r.logical_name.lower())
    roles_and_policies = [(role, list(role.policies.all())) for role in roles]
    policy_ids = policy_logical_ids(roles_and_policies)
    resources = {}
    for role, policies in roles_and_policies:
        resources.update(
            role_resources(role, policies, include_account_metadata=include_account_metadata, kept_names=kept_names,
                           policy_ids=policy_ids)
        )
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": TEMPLATE_DESCRIPTION,
        "Parameters": {
            MASTER_ACCOUNT_PARAMETER: {
                "Type": "String",
                "Description": "The 12-digit ID of the master account whose users assume these roles",
                "MinLength": 12,
                "MaxLength": 12,
                "AllowedPattern": "[0-9]+",
                "ConstraintDescription": "Must contain a 12 digit account ID",
            }
        },
        "Resources": resources,
    }


def template_body(template: dict) -> str:
    """The body sent to CloudFormation: compact, with keys in a stable order."""
    return json.dumps(template, separators=(",", ":"), sort_keys=True)


def template_problems(template: dict) -> list[str]:
    """Stack limits a template would break, as messages; empty when it fits."""
    problems = []
    count = len(template.get("Resources", {}))
    if count > limits.STACK_RESOURCES_MAX:
        problems.append(
            f"The stack would hold {count} resources; CloudFormation allows at most {limits.STACK_RESOURCES_MAX}."
        )
    size = len(template_body(template).encode())
    if size > limits.TEMPLATE_BODY_BYTES_MAX:
        problems.append(
            f"The template would be {size:,} bytes; CloudFormation accepts at most "
            f"{limits.TEMPLATE_BODY_BYTES_MAX:,} bytes sent inline."
        )
    return problems
