"""Compare IAM policy documents and CloudFormation templates by what they mean, not how they are written.

A plan must list only changes that change something in AWS. The original tool writes
``"Action": ["sts:AssumeRole"]`` where the console writes ``"Action": "sts:AssumeRole"``, a condition
value ``false`` where the console writes ``"false"``, and leaves out ``Path`` and ``MaxSessionDuration``
where the console writes their defaults. IAM and CloudFormation treat each pair the same, so must we.

Every function here is pure: it takes JSON-like values and returns values or booleans. The normal
forms exist only to be compared; what people see (the unified diff) is always the real JSON.

The rules, each with the authority it rests on:

* Policy grammar (IAM JSON policy reference): ``Action``, ``NotAction``, ``Resource``, ``NotResource``,
  each value of ``Principal``/``NotPrincipal`` and each condition value may be a string or a list of
  strings; lists are unordered sets; ``Statement`` may be one object or a list of them, and their
  order does not matter. Action names are case-insensitive (``s3:GetObject`` == ``S3:getobject``);
  resources, principals and condition *values* are not. Condition key names are case-insensitive.
  Condition values are compared as strings, so ``false`` == ``"false"`` and ``3600`` == ``"3600"``.
  A policy without ``Version`` is version ``2008-10-17``.
* CloudFormation defaults: what the resource schemas (cfn-lint ships them) give as ``default`` —
  ``Path: "/"`` for roles, managed policies and groups — plus ``MaxSessionDuration: 3600``, which the
  IAM CreateRole API documents as the default it applies. A list property left out is the empty list.
  ``DeletionPolicy`` and ``UpdateReplacePolicy`` default to ``Delete`` for every IAM type.
  A policy document given as a JSON string is the object it encodes (the schemas accept both).
* What changes nothing in AWS: the template's ``Description`` and ``Metadata`` sections and a
  resource's ``Metadata`` are kept by CloudFormation but create, change and grant nothing;
  ``AWSTemplateFormatVersion`` has one possible value. A parameter's ``Description`` and its
  constraints (``MinLength``, ``AllowedPattern``…) only check the value passed in, which the planner
  compares separately; its ``Type`` and ``Default`` are kept. ``Outputs`` are compared (another stack
  may import an export), as is everything else this module does not know.
"""
import json

from core import safe_json

POLICY_VERSION_DEFAULT = "2008-10-17"
STRING_OR_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")
CASE_INSENSITIVE_KEYS = ("Action", "NotAction")
PRINCIPAL_KEYS = ("Principal", "NotPrincipal")

TEMPLATE_KEYS_THAT_CHANGE_NOTHING = ("Description", "Metadata", "AWSTemplateFormatVersion")
RESOURCE_KEYS_THAT_CHANGE_NOTHING = ("Metadata",)
PARAMETER_KEYS_THAT_MATTER = ("Type", "Default")

# Per resource type: property -> default, list-valued properties (absent == []), policy documents,
# and properties whose list order means nothing. Only types the console generates or imports.
_IAM_TYPES = {
    "AWS::IAM::Role": {
        "defaults": {"Path": "/", "MaxSessionDuration": 3600},
        "integers": ("MaxSessionDuration",),
        "sets": ("ManagedPolicyArns",),
        "documents": ("AssumeRolePolicyDocument",),
        "inline_policies": ("Policies",),
        "tags": ("Tags",),
    },
    "AWS::IAM::Policy": {
        "defaults": {},
        "integers": (),
        "sets": ("Roles", "Groups", "Users"),
        "documents": ("PolicyDocument",),
        "inline_policies": (),
        "tags": (),
    },
    "AWS::IAM::ManagedPolicy": {
        "defaults": {"Path": "/"},
        "integers": (),
        "sets": ("Roles", "Groups", "Users"),
        "documents": ("PolicyDocument",),
        "inline_policies": (),
        "tags": (),
    },
    "AWS::IAM::Group": {
        "defaults": {"Path": "/"},
        "integers": (),
        "sets": ("ManagedPolicyArns",),
        "documents": (),
        "inline_policies": ("Policies",),
        "tags": (),
    },
    "AWS::IAM::RolePolicy": {
        "defaults": {}, "integers": (), "sets": (), "documents": ("PolicyDocument",), "inline_policies": (), "tags": (),
    },
    "AWS::IAM::GroupPolicy": {
        "defaults": {}, "integers": (), "sets": (), "documents": ("PolicyDocument",), "inline_policies": (), "tags": (),
    },
}
RESOURCE_ATTRIBUTE_DEFAULTS = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}


def _key(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _as_set(values) -> list:
    """A list as a set: duplicates dropped, in a stable order, so that equal sets compare equal."""
    unique = {_key(value): value for value in values}
    return [unique[key] for key in sorted(unique)]


def _scalar_text(value):
    """Condition values as IAM reads them: strings. Other values (intrinsic functions) stay as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _principal(value):
    if isinstance(value, dict) and not _is_intrinsic(value):
        return {kind: _as_set(_as_list(ids)) for kind, ids in value.items()}
    return value  # "*" or an intrinsic function


def _condition(value):
    if not isinstance(value, dict) or _is_intrinsic(value):
        return value
    normal = {}
    for operator, entries in value.items():
        if not isinstance(entries, dict) or _is_intrinsic(entries):
            normal[operator] = entries
            continue
        lowered = [key.lower() if isinstance(key, str) else key for key in entries]
        # Two spellings of one key in one operator are two conditions, both required: keep them apart.
        names = lowered if len(set(lowered)) == len(lowered) else list(entries)
        normal[operator] = {name: _as_set([_scalar_text(v) for v in _as_list(values)])
                            for name, values in zip(names, entries.values())}
    return normal


def _statement(statement):
    if not isinstance(statement, dict) or _is_intrinsic(statement):
        return statement
    normal = {}
    for key, value in statement.items():
        if key in STRING_OR_LIST_KEYS:
            values = _as_list(value)
            if key in CASE_INSENSITIVE_KEYS:
                values = [v.lower() if isinstance(v, str) else v for v in values]
            normal[key] = _as_set(values)
        elif key in PRINCIPAL_KEYS:
            normal[key] = _principal(value)
        elif key == "Condition":
            normal[key] = _condition(value)
        else:
            normal[key] = value
    return normal


def _is_intrinsic(value) -> bool:
    """``{"Ref": …}``, ``{"Fn::Join": …}``: a value CloudFormation computes, compared as written."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    name = next(iter(value))
    return name in ("Ref", "Condition") or name.startswith("Fn::")


def normalized_policy(document):
    """An IAM policy document in a normal form: equal normal forms mean the same permissions.

    Anything that is not a policy object (None, an intrinsic function, malformed input) is
    returned unchanged, so that it compares equal only to itself.
    """
    if isinstance(document, str):
        try:
            document = safe_json.loads(document)
        except ValueError:
            return document
    if not isinstance(document, dict) or _is_intrinsic(document):
        return document
    normal = {key: value for key, value in document.items() if key != "Statement"}
    normal.setdefault("Version", POLICY_VERSION_DEFAULT)
    if "Statement" in document:
        normal["Statement"] = _as_set([_statement(s) for s in _as_list(document["Statement"])])
    return normal


def same_policy(a, b) -> bool:
    """Whether two policy documents grant the same thing, whatever their form."""
    return _key(normalized_policy(a)) == _key(normalized_policy(b))


def _inline_policies(value):
    if not isinstance(value, list):
        return value
    policies = {}
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("PolicyName"), str):
            return [_key(e) for e in value]  # not the documented shape: compare it as written
        policies[entry["PolicyName"]] = normalized_policy(entry.get("PolicyDocument"))
    return policies


def _tags(value):
    if not isinstance(value, list) or not all(isinstance(t, dict) and "Key" in t for t in value):
        return value
    return {_key(tag["Key"]): tag.get("Value") for tag in value}


def _integer(value):
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def normalized_properties(resource_type: str, properties) -> dict:
    """A resource's Properties with CloudFormation's defaults filled in and sets and documents normalised."""
    if not isinstance(properties, dict):
        return properties
    rules = _IAM_TYPES.get(resource_type)
    if rules is None:
        return dict(properties)
    normal = dict(rules["defaults"])
    normal.update({name: [] for name in rules["sets"]})
    normal.update({name: {} for name in rules["inline_policies"] + rules["tags"]})
    for name, value in properties.items():
        if name in rules["documents"]:
            value = normalized_policy(value)
        elif name in rules["sets"]:
            value = _as_set(_as_list(value))
        elif name in rules["inline_policies"]:
            value = _inline_policies(value)
        elif name in rules["tags"]:
            value = _tags(value)
        elif name in rules["integers"]:
            value = _integer(value)
        normal[name] = value
    return normal


def normalized_resource(resource) -> dict:
    """A template resource (Type, Properties, attributes) in a normal form."""
    if not isinstance(resource, dict):
        return resource
    resource_type = resource.get("Type", "")
    normal = {}
    if resource_type in _IAM_TYPES:
        normal.update(RESOURCE_ATTRIBUTE_DEFAULTS)
    for key, value in resource.items():
        if key in RESOURCE_KEYS_THAT_CHANGE_NOTHING:
            continue
        if key == "Properties":
            value = normalized_properties(resource_type, value)
        elif key == "DependsOn":
            value = _as_set(_as_list(value))
        normal[key] = value
    normal.setdefault("Properties", normalized_properties(resource_type, {}))
    normal.setdefault("DependsOn", [])
    return normal


def same_resource(resource_type: str, a, b) -> bool:
    """Whether two template resources of ``resource_type`` would make the same thing in AWS."""
    if a is None or b is None:
        return a is b
    a = {**a, "Type": a.get("Type", resource_type)} if isinstance(a, dict) else a
    b = {**b, "Type": b.get("Type", resource_type)} if isinstance(b, dict) else b
    return _key(normalized_resource(a)) == _key(normalized_resource(b))


def same_property(resource_type: str, name: str, a, b) -> bool:
    """Whether one property has the same meaning on both sides (``None``: left out)."""
    before = normalized_properties(resource_type, {} if a is None else {name: a}).get(name)
    after = normalized_properties(resource_type, {} if b is None else {name: b}).get(name)
    return _key(before) == _key(after)


def normalized_template(template) -> dict:
    """A whole template in a normal form; sections that change nothing in AWS are left out."""
    if not isinstance(template, dict):
        return template
    normal = {}
    for key, value in template.items():
        if key in TEMPLATE_KEYS_THAT_CHANGE_NOTHING:
            continue
        if key == "Resources" and isinstance(value, dict):
            value = {logical_id: normalized_resource(resource) for logical_id, resource in value.items()}
        elif key == "Parameters" and isinstance(value, dict):
            value = {
                name: {k: v for k, v in spec.items() if k in PARAMETER_KEYS_THAT_MATTER} if isinstance(spec, dict) else spec
                for name, spec in value.items()
            }
        if value in ({}, [], None):
            continue  # an empty section is the section left out
        normal[key] = value
    return normal


def same_template(live, wanted) -> bool:
    """Whether deploying ``wanted`` over ``live`` would change nothing in AWS."""
    if live is None or wanted is None:
        return live is wanted
    return _key(normalized_template(live)) == _key(normalized_template(wanted))


def keep_live_form(live, wanted):
    """``wanted``, written as ``live`` wherever the two mean the same.

    The template sent to CloudFormation then differs from the deployed one only where something
    changes: a resource equal by meaning is sent exactly as deployed, and in a changed resource each
    property equal by meaning keeps its deployed form (a default left out stays left out). So neither
    AWS's change set nor its replacement decision sees a difference of form.
    """
    if not isinstance(live, dict) or not isinstance(wanted, dict):
        return wanted
    merged = {}
    for key, value in wanted.items():
        if key == "Resources" and isinstance(value, dict) and isinstance(live.get("Resources"), dict):
            value = {logical_id: _keep_live_resource(live["Resources"].get(logical_id), resource)
                     for logical_id, resource in value.items()}
        elif key in live and key not in TEMPLATE_KEYS_THAT_CHANGE_NOTHING and \
                _key(normalized_template({key: live[key]})) == _key(normalized_template({key: value})):
            value = live[key]
        merged[key] = value
    return merged


def _keep_live_resource(live, wanted):
    if not isinstance(live, dict) or not isinstance(wanted, dict) or live.get("Type") != wanted.get("Type"):
        return wanted
    if same_resource(wanted.get("Type", ""), live, wanted):
        return live
    resource_type = wanted.get("Type", "")
    live_properties = live.get("Properties") if isinstance(live.get("Properties"), dict) else {}
    wanted_properties = wanted.get("Properties") if isinstance(wanted.get("Properties"), dict) else None
    merged = dict(wanted)
    if wanted_properties is not None:
        properties = {}
        for name in list(live_properties) + [n for n in wanted_properties if n not in live_properties]:
            if not same_property(resource_type, name, live_properties.get(name), wanted_properties.get(name)):
                if name in wanted_properties:
                    properties[name] = wanted_properties[name]
            elif name in live_properties:
                properties[name] = live_properties[name]
        merged["Properties"] = properties
    return merged
