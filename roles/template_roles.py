"""What a CloudFormation template says a role is, in IAM's terms: its trust policy, inline policies
(its own and those of policy resources naming it), managed policies and boundary, with the intrinsic
functions resolved from known values. The plan's role repairs and the drift check both compare IAM
with this.
"""
from core.cfn_intrinsics import UNRESOLVED, resolve_text, resolve_value

ROLE = "AWS::IAM::Role"
POLICY = "AWS::IAM::Policy"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"


def names_role(roles, *, logical_id: str, physical: str, variables: dict) -> bool:
    """Whether a policy resource's ``Roles`` list names this role (``{"Ref": logical id}`` or its name)."""
    if not isinstance(roles, list):
        return False
    return any(resolve_text(entry, {**variables, logical_id: physical}) == physical for entry in roles)


def template_role(template, logical_id: str, *, physical: str, variables: dict) -> dict | None:
    """What ``template`` makes of one role, in IAM's terms: {"trust", "inline": {name: document},
    "managed": set of ARNs, "boundary": ARN or ""}, intrinsic functions resolved from ``variables``.
    A part that cannot be resolved is :data:`UNRESOLVED`; None when the template has no such role."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    role = resources.get(logical_id) if isinstance(resources, dict) else None
    if not isinstance(role, dict) or role.get("Type") != ROLE:
        return None
    properties = role.get("Properties") if isinstance(role.get("Properties"), dict) else {}
    inline = {}
    for entry in properties.get("Policies") or []:
        name = resolve_text(entry.get("PolicyName"), variables) if isinstance(entry, dict) else None
        if name is None:
            inline = UNRESOLVED
            break
        inline[name] = resolve_value(entry.get("PolicyDocument"), variables)
    managed = resolve_value(properties.get("ManagedPolicyArns") or [], variables)
    managed = set(managed) if isinstance(managed, list) and all(isinstance(arn, str) for arn in managed) else UNRESOLVED
    for resource in resources.values():
        if not isinstance(resource, dict) or resource.get("Type") not in (POLICY, MANAGED_POLICY):
            continue
        policy = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
        if not names_role(policy.get("Roles"), logical_id=logical_id, physical=physical, variables=variables):
            continue
        if resource["Type"] == MANAGED_POLICY:  # attached under an ARN CloudFormation makes up
            managed = UNRESOLVED
            continue
        name = resolve_text(policy.get("PolicyName"), variables)
        if name is None or inline is UNRESOLVED:
            inline = UNRESOLVED
            continue
        inline[name] = resolve_value(policy.get("PolicyDocument"), variables)
    boundary = resolve_value(properties.get("PermissionsBoundary") or "", variables)
    return {
        "trust": resolve_value(properties.get("AssumeRolePolicyDocument"), variables),
        "inline": inline,
        "managed": managed,
        "boundary": boundary if isinstance(boundary, str) else UNRESOLVED,
    }
