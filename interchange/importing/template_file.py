"""A CloudFormation template (the original tool's ``roles.cf``, JSON or YAML) as role definitions.

Only what the console can represent is accepted: ``AWS::IAM::Role`` resources that trust the master
account (optionally requiring MFA), ``AWS::IAM::Policy`` resources and inline ``Policies`` attached to
them, and ``AWS::IAM::ManagedPolicy`` resources, which become inline policies on each role they name.
Anything else is reported by logical id, never dropped silently.
"""
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from core import limits
from core.cfn_intrinsics import SUB_VARIABLE, is_intrinsic, resolve_text
from interchange.importing.problems import Problems
from interchange.importing.values import (
    describe_type,
    expect_document,
    expect_list,
    expect_mapping,
    expect_text,
    unknown_keys,
)
from roles.cloudformation import MASTER_ACCOUNT_PARAMETER, METADATA_KEY, generated_policy_id
from roles.models import RoleDefinition

ROLE = "AWS::IAM::Role"
POLICY = "AWS::IAM::Policy"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
TEMPLATE_KEYS = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Resources", "Outputs")
RESOURCE_KEYS = ("Type", "Properties", "Metadata", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy")
ROLE_PROPERTIES = (
    "AssumeRolePolicyDocument",
    "RoleName",
    "Path",
    "Description",
    "MaxSessionDuration",
    "PermissionsBoundary",
    "ManagedPolicyArns",
    "Tags",
    "Policies",
)
POLICY_PROPERTIES = ("PolicyName", "PolicyDocument", "Roles", "Groups", "Users")
MANAGED_POLICY_PROPERTIES = ("ManagedPolicyName", "PolicyDocument", "Roles", "Groups", "Users", "Description", "Path")
ROLE_FIELD_LABELS = {
    "logical_name": "logical id",
    "role_name": "RoleName",
    "path": "Path",
    "description": "Description",
    "max_session_duration": "MaxSessionDuration",
    "permissions_boundary_arn": "PermissionsBoundary",
    "managed_policy_arns": "ManagedPolicyArns",
    "tags": "Tags",
}
# Values the console can substitute when it reads a template; the master id is filled in per import.
PSEUDO_PARAMETERS = {"AWS::Partition": "aws"}
MFA_CONDITIONS = (
    ("Null", "aws:MultiFactorAuthAge", "false"),
    ("Bool", "aws:MultiFactorAuthPresent", "true"),
)


@dataclass
class PolicySpec:
    name: str
    document: dict
    origin: str
    # The AWS::IAM::Policy resource's logical id, kept so the live resource stays; empty: generated.
    logical_id: str = ""


@dataclass
class RoleSpec:
    logical_name: str
    fields: dict
    # None: every account (the original tool's behaviour); a list: only these account names.
    account_names: list[str] | None
    policies: list[PolicySpec] = field(default_factory=list)


@dataclass
class TemplateSpec:
    roles: list[RoleSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def references(value) -> set[str]:
    """Every name a value refers to: ``Ref`` targets, ``${Name}`` in ``Fn::Sub``, ``Fn::GetAtt`` resources."""
    found = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        if is_intrinsic(value):
            function, argument = next(iter(value.items()))
            if function == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif function == "Fn::GetAtt" and isinstance(argument, list) and argument and isinstance(argument[0], str):
                found.add(argument[0])
            elif function == "Fn::Sub":
                text, local = argument, {}
                if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
                    text, local = argument
                if isinstance(text, str):
                    found |= {name.split(".")[0] for name in SUB_VARIABLE.findall(text) if name not in local}
        for item in value.values():
            found |= references(item)
    return found


def parse_template(data, *, source: str, master_account_id: str, problems: Problems) -> TemplateSpec:
    spec = TemplateSpec()
    data = expect_document(data, where=source, problems=problems,
                           needs="it needs a CloudFormation template with “Resources”.")
    if data is None:
        return spec
    for key in data:
        if key not in TEMPLATE_KEYS:
            problems.add(
                f"{source}: the template section “{key}” cannot be represented by the console, which generates "
                f"the template itself (accepted sections: {', '.join(TEMPLATE_KEYS)})."
            )
    if "Outputs" in data:
        spec.notes.append(f"{source}: the template's Outputs were not imported; the console generates its own template.")
    if "Resources" not in data:
        problems.add(f"{source}: the template has no “Resources”.")
        return spec
    if data["Resources"] is None or data["Resources"] == {}:
        # CloudFormation refuses a template without resources; importing one would plan the stacks away.
        problems.add(
            f"{source}: the template has no resources (“Resources” is empty); CloudFormation refuses such a "
            "template. List at least one AWS::IAM::Role."
        )
        return spec
    resources = expect_mapping(data["Resources"], where=f"{source}, Resources", problems=problems)
    if resources is None:
        return spec
    _check_parameters(data.get("Parameters"), resources, source=source, problems=problems, notes=spec.notes)

    roles = {}
    broken_roles = set()  # their problems are reported already; policies attached to them add nothing
    attachments = []  # (logical id, type, properties) of policy resources, attached once all roles are known
    for logical_id, resource in resources.items():
        where = f"{source}, resource {logical_id}"
        if not isinstance(resource, dict):
            problems.add(f"{where}: expected a mapping with Type and Properties, found {describe_type(resource)}.")
            continue
        kind = resource.get("Type")
        if kind not in (ROLE, POLICY, MANAGED_POLICY):
            problems.add(
                f"{where}: the type {kind if isinstance(kind, str) else describe_type(kind)} cannot be represented; the "
                f"console manages only {ROLE}, {POLICY} and {MANAGED_POLICY} resources."
            )
            continue
        for key in resource:
            if key not in RESOURCE_KEYS:
                problems.add(f"{where}: the resource attribute “{key}” cannot be represented by the console.")
        for key in ("DeletionPolicy", "UpdateReplacePolicy"):
            if key in resource:
                spec.notes.append(f"{where}: {key} was not imported; the console's generated template uses the default.")
        properties = expect_mapping(resource.get("Properties"), where=f"{where}, Properties", problems=problems)
        if properties is None:
            continue
        if kind == ROLE:
            role = _role(
                logical_id, resource, properties, source=source, master_account_id=master_account_id, problems=problems
            )
            if role is not None:
                roles[logical_id] = role
            else:
                broken_roles.add(logical_id)
        else:
            attachments.append((logical_id, kind, properties))

    _check_role_names(roles, source=source, problems=problems)
    for logical_id, kind, properties in attachments:
        _attach_policy(
            logical_id, kind, properties, roles, broken_roles, source=source, problems=problems, notes=spec.notes
        )
    for role in roles.values():
        _check_policies(role, source=source, problems=problems)
    spec.roles = list(roles.values())
    return spec


def _check_parameters(parameters, resources, *, source: str, problems: Problems, notes: list) -> None:
    if parameters is None:
        return
    parameters = expect_mapping(parameters, where=f"{source}, Parameters", problems=problems)
    if not parameters:
        return
    used = references(resources)
    for name in parameters:
        if name == MASTER_ACCOUNT_PARAMETER:
            continue
        if name in used:
            problems.add(
                f"{source}, Parameters: the parameter “{name}” is used by the resources; the console fills in only "
                f"{MASTER_ACCOUNT_PARAMETER} (the master account id), so the template cannot be represented."
            )
        else:
            notes.append(f"{source}: the unused parameter “{name}” was ignored.")


def _role(
    logical_id: str, resource: dict, properties: dict, *, source: str, master_account_id: str, problems: Problems
) -> RoleSpec | None:
    before = len(problems.messages)
    where = f"{source}, role {logical_id}"
    try:
        limits.validate_logical_id(logical_id)
    except ValidationError as error:
        problems.add_validation_error(where, error)
    unknown_keys(properties, ROLE_PROPERTIES, where=f"{where}, Properties", problems=problems)
    plain = {"AWS::Partition": PSEUDO_PARAMETERS["AWS::Partition"]}

    fields = {
        "logical_name": logical_id,
        "role_name": "",
        "name_from_cloudformation": False,
        "path": "/",
        "description": "",
        "max_session_duration": limits.SESSION_DURATION_MIN,
        "permissions_boundary_arn": "",
        "managed_policy_arns": [],
        "tags": {},
        "applies_to_all_accounts": True,
    }
    for key, field_name in (("RoleName", "role_name"), ("Path", "path"), ("Description", "description")):
        if key in properties:
            value = _literal(properties[key], where=f"{where}, {key}", problems=problems)
            if value is not None:
                fields[field_name] = value
    if fields["role_name"] == logical_id:
        fields["role_name"] = ""  # the same name the console derives from the logical id
    if "RoleName" not in properties:
        # CloudFormation named the live roles <stack>-<logical id>-<random>; giving them a RoleName
        # now would replace them (new ARNs), so the role keeps the name it was given.
        fields["name_from_cloudformation"] = True
    if "MaxSessionDuration" in properties:
        seconds = properties["MaxSessionDuration"]
        if isinstance(seconds, str) and seconds.isascii() and seconds.isdecimal() and len(seconds) <= 18:
            seconds = int(seconds)
        if isinstance(seconds, int) and not isinstance(seconds, bool):
            fields["max_session_duration"] = seconds
        else:
            problems.add(f"{where}, MaxSessionDuration: expected a number of seconds, found {describe_type(seconds)}.")
    if "PermissionsBoundary" in properties:
        value = _literal(
            properties["PermissionsBoundary"], where=f"{where}, PermissionsBoundary", problems=problems, variables=plain
        )
        if value is not None:
            fields["permissions_boundary_arn"] = value
    if "ManagedPolicyArns" in properties:
        arns = expect_list(properties["ManagedPolicyArns"], where=f"{where}, ManagedPolicyArns", problems=problems) or []
        resolved = [_literal(arn, where=f"{where}, ManagedPolicyArns", problems=problems, variables=plain) for arn in arns]
        fields["managed_policy_arns"] = [arn for arn in resolved if arn is not None]
    if "Tags" in properties:
        fields["tags"] = _tags(properties["Tags"], where=f"{where}, Tags", problems=problems)

    account_names = _metadata_accounts(resource.get("Metadata"), where=where, problems=problems)
    if account_names is not None:
        fields["applies_to_all_accounts"] = False

    if "AssumeRolePolicyDocument" not in properties:
        problems.add(f"{where}: the role has no AssumeRolePolicyDocument (its trust policy).")
    else:
        require_mfa = _trust_requires_mfa(
            properties["AssumeRolePolicyDocument"], where=f"{where}, AssumeRolePolicyDocument",
            master_account_id=master_account_id, problems=problems,
        )
        if require_mfa is not None:
            fields["require_mfa"] = require_mfa

    role = RoleDefinition(**fields)
    try:
        # logical_name and role_name are checked by clean(), whose messages say more than max_length's.
        role.clean_fields(exclude=["logical_name", "role_name"])
        role.clean()
    except ValidationError as error:
        problems.add_validation_error(where, error, field_labels=ROLE_FIELD_LABELS)

    spec = RoleSpec(logical_name=logical_id, fields=fields, account_names=account_names)
    entries = expect_list(properties.get("Policies"), where=f"{where}, Policies", problems=problems, empty_allowed=True)
    for number, entry in enumerate(entries or [], start=1):
        policy = _inline_policy_property(entry, where=f"{where}, Policies entry {number}", problems=problems)
        if policy is not None:
            spec.policies.append(policy)
    return spec if len(problems.messages) == before else None


def _literal(value, *, where: str, problems: Problems, variables: dict | None = None) -> str | None:
    if isinstance(value, str):
        return value
    if is_intrinsic(value) and variables:
        resolved = resolve_text(value, variables)
        if resolved is not None:
            return resolved
    if is_intrinsic(value):
        problems.add(
            f"{where}: {describe_type(value)} cannot be represented; the console stores plain values here."
        )
        return None
    return expect_text(value, where=where, problems=problems)


def _tags(value, *, where: str, problems: Problems) -> dict:
    tags = {}
    for number, tag in enumerate(expect_list(value, where=where, problems=problems) or [], start=1):
        if not isinstance(tag, dict) or set(tag) != {"Key", "Value"}:
            problems.add(f"{where}, entry {number}: a tag is a mapping with exactly Key and Value.")
            continue
        key = _literal(tag["Key"], where=f"{where}, entry {number}, Key", problems=problems)
        text = _literal(tag["Value"], where=f"{where}, entry {number}, Value", problems=problems)
        if key is None or text is None:
            continue
        if key in tags:
            problems.add(f"{where}: the tag “{key}” is given twice.")
        tags[key] = text
    return tags


def _metadata_accounts(metadata, *, where: str, problems: Problems) -> list[str] | None:
    if not isinstance(metadata, dict) or METADATA_KEY not in metadata:
        return None
    where = f"{where}, Metadata, {METADATA_KEY}"
    settings = expect_mapping(metadata[METADATA_KEY], where=where, problems=problems)
    if settings is None:
        return None
    unknown_keys(settings, ("Accounts",), where=where, problems=problems)
    accounts = expect_list(settings.get("Accounts"), where=f"{where}, Accounts", problems=problems, empty_allowed=True)
    if accounts is None:
        return None
    names = []
    for account in accounts:
        name = expect_text(account, where=f"{where}, Accounts", problems=problems)
        if name is not None:
            names.append(name)
    return names


def _trust_requires_mfa(document, *, where: str, master_account_id: str, problems: Problems) -> bool | None:
    """Whether the trust policy requires MFA; ``None`` after recording why it cannot be represented."""
    master = master_account_id or "(the master account id)"
    expected = f"the master account ({master_account_id or 'master_account_id in the config'})"
    if not isinstance(document, dict) or "Statement" not in document:
        problems.add(f"{where}: expected a policy document with Version and Statement, found {describe_type(document)}.")
        return None
    unknown_keys(document, ("Version", "Statement"), where=where, problems=problems)
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or len(statements) != 1 or not isinstance(statements[0], dict):
        problems.add(
            f"{where}: the console can represent a trust policy of exactly one statement that lets {expected} "
            "assume the role; this one differs."
        )
        return None
    statement = statements[0]
    found = len(problems.messages)
    unknown_keys(statement, ("Sid", "Effect", "Principal", "Action", "Condition"), where=where, problems=problems)
    if statement.get("Effect") != "Allow":
        problems.add(f"{where}: the statement's Effect must be Allow.")
    actions = statement.get("Action")
    if actions not in ("sts:AssumeRole", ["sts:AssumeRole"]):
        problems.add(f"{where}: the statement's Action must be sts:AssumeRole (found {actions!r}).")
    principal = statement.get("Principal")
    aws = principal.get("AWS") if isinstance(principal, dict) and set(principal) == {"AWS"} else None
    if isinstance(aws, list) and len(aws) == 1:
        aws = aws[0]
    if isinstance(aws, int) and not isinstance(aws, bool):
        aws = str(aws)
    resolved = resolve_text(aws, {**PSEUDO_PARAMETERS, MASTER_ACCOUNT_PARAMETER: master})
    if resolved not in (f"arn:aws:iam::{master}:root", master):
        shown = resolved if resolved is not None else describe_type(principal)
        problems.add(f"{where}: the principal must be {expected}, as arn:aws:iam::<id>:root or the id; found {shown}.")
    require_mfa = _mfa_condition(statement.get("Condition"), where=where, problems=problems)
    return require_mfa if len(problems.messages) == found else None


def _mfa_condition(condition, *, where: str, problems: Problems) -> bool | None:
    if condition is None:
        return False
    for operator, key, value in MFA_CONDITIONS:
        if isinstance(condition, dict) and list(condition) == [operator]:
            block = condition[operator]
            if isinstance(block, dict) and list(block) == [key] and str(block[key]).lower() == value:
                return True
    problems.add(
        f"{where}: the only Condition the console can represent is the MFA check "
        "(Null aws:MultiFactorAuthAge false, or Bool aws:MultiFactorAuthPresent true)."
    )
    return None


def _policy_document(value, *, where: str, problems: Problems) -> dict | None:
    try:
        limits.validate_policy_document(value, label=where)
    except ValidationError as error:
        for message in error.messages:
            problems.add(message if message.startswith(where) else f"{where}: {message}")
        return None
    foreign = sorted(
        name for name in references(value) if name != MASTER_ACCOUNT_PARAMETER and not name.startswith("AWS::")
    )
    if foreign:
        problems.add(
            f"{where}: refers to {', '.join(foreign)}, which the console's generated template does not define "
            f"(only {MASTER_ACCOUNT_PARAMETER} and AWS:: pseudo parameters are available)."
        )
        return None
    size = limits.policy_size(value)
    if size > limits.ROLE_INLINE_POLICIES_CHARS_MAX:
        problems.add(
            f"{where}: the policy is {size:,} characters; IAM allows {limits.ROLE_INLINE_POLICIES_CHARS_MAX:,} "
            "for all of a role's inline policies together (whitespace not counted)."
        )
        return None
    return value


def _policy_name(value, *, where: str, problems: Problems) -> str | None:
    name = _literal(value, where=where, problems=problems)
    if name is None:
        return None
    try:
        limits.validate_iam_name(name, kind="policy", max_length=limits.POLICY_NAME_MAX)
    except ValidationError as error:
        problems.add_validation_error(where, error)
        return None
    return name


def _inline_policy_property(entry, *, where: str, problems: Problems) -> PolicySpec | None:
    if not isinstance(entry, dict):
        problems.add(f"{where}: expected a mapping with PolicyName and PolicyDocument, found {describe_type(entry)}.")
        return None
    unknown_keys(entry, ("PolicyName", "PolicyDocument"), where=where, problems=problems)
    missing = [key for key in ("PolicyName", "PolicyDocument") if key not in entry]
    if missing:
        problems.add(f"{where}: the key “{missing[0]}” is missing.")
        return None
    name = _policy_name(entry["PolicyName"], where=f"{where}, PolicyName", problems=problems)
    document = _policy_document(entry["PolicyDocument"], where=f"{where}, PolicyDocument", problems=problems)
    if name is None or document is None:
        return None
    return PolicySpec(name=name, document=document, origin=where)


def _attach_policy(
    logical_id, kind, properties, roles: dict, broken_roles: set, *, source: str, problems: Problems, notes: list
) -> None:
    where = f"{source}, resource {logical_id}"
    managed = kind == MANAGED_POLICY
    known = MANAGED_POLICY_PROPERTIES if managed else POLICY_PROPERTIES
    unknown_keys(properties, known, where=f"{where}, Properties", problems=problems)
    for key in ("Groups", "Users"):
        if properties.get(key):
            problems.add(f"{where}: attaches to IAM {key.lower()}, which the console does not manage (only roles).")
    name_key = "ManagedPolicyName" if managed else "PolicyName"
    if name_key in properties:
        name = _policy_name(properties[name_key], where=f"{where}, {name_key}", problems=problems)
    elif managed:
        name = logical_id
    else:
        problems.add(f"{where}: the key “PolicyName” is missing.")
        name = None
    if "PolicyDocument" not in properties:
        problems.add(f"{where}: the key “PolicyDocument” is missing.")
        document = None
    else:
        document = _policy_document(properties["PolicyDocument"], where=f"{where}, PolicyDocument", problems=problems)
    targets = expect_list(properties.get("Roles"), where=f"{where}, Roles", problems=problems, empty_allowed=True)
    if targets == []:
        problems.add(f"{where}: the policy is attached to no role; list its roles as Ref to AWS::IAM::Role resources.")
    target_roles = []
    for target in targets or []:
        if isinstance(target, dict) and list(target) == ["Ref"] and target["Ref"] in roles:
            target_roles.append(roles[target["Ref"]])
        elif isinstance(target, dict) and list(target) == ["Ref"] and target["Ref"] in broken_roles:
            continue
        elif isinstance(target, dict) and list(target) == ["Ref"]:
            problems.add(f"{where}, Roles: {target['Ref']} is not an {ROLE} resource in this template.")
        else:
            shown = target if isinstance(target, str) else describe_type(target)
            problems.add(f"{where}, Roles: “{shown}” must be a Ref to an {ROLE} resource in this template.")
    if name is None or document is None:
        return
    for number, role in enumerate(target_roles):
        # The console keeps one policy per role: a resource shared by several roles keeps its id
        # for the first; a managed policy becomes another resource type, which cannot keep its id.
        kept_id = logical_id if number == 0 and not managed else ""
        if kept_id == generated_policy_id(role.logical_name, name):
            kept_id = ""  # the id the console generates anyway (an exported template): nothing to keep
        role.policies.append(PolicySpec(name=name, document=document, origin=where, logical_id=kept_id))
    if managed and target_roles:
        notes.append(
            f"{where}: the managed policy became an inline policy named {name} on "
            f"{', '.join(role.logical_name for role in target_roles)} (the console keeps a role's policies inline)."
        )


def _check_role_names(roles: dict, *, source: str, problems: Problems) -> None:
    seen_logical, seen_names = {}, {}
    for logical_id, role in roles.items():
        if logical_id.lower() in seen_logical:
            problems.add(
                f"{source}: the roles {seen_logical[logical_id.lower()]} and {logical_id} differ only in case; "
                "role names are compared without case."
            )
        seen_logical[logical_id.lower()] = logical_id
        name = (role.fields["role_name"] or logical_id).lower()
        if name in seen_names and seen_names[name] != logical_id:
            problems.add(
                f"{source}: the roles {seen_names[name]} and {logical_id} would both be named "
                f"{role.fields['role_name'] or logical_id} in IAM (compared without case)."
            )
        seen_names.setdefault(name, logical_id)


def _check_policies(role: RoleSpec, *, source: str, problems: Problems) -> None:
    where = f"{source}, role {role.logical_name}"
    seen = {}
    for policy in role.policies:
        if policy.name.lower() in seen:
            problems.add(
                f"{where}: two policies are named {policy.name} (from {seen[policy.name.lower()]} and {policy.origin}); "
                "policy names are compared without case."
            )
        seen[policy.name.lower()] = policy.origin
    total = sum(limits.policy_size(policy.document) for policy in role.policies)
    if total > limits.ROLE_INLINE_POLICIES_CHARS_MAX:
        problems.add(
            f"{where}: its inline policies add up to {total:,} characters; IAM allows "
            f"{limits.ROLE_INLINE_POLICIES_CHARS_MAX:,} per role (whitespace not counted)."
        )
