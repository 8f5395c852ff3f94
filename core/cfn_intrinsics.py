"""CloudFormation's intrinsic functions, resolved where the values they use are known.

Importing a template substitutes the master account id into a trust policy; a plan substitutes the
parameters and pseudo parameters of one account's stack into its roles' documents, to compare them
with what IAM holds. Only ``Ref``, ``Fn::Join`` and ``Fn::Sub`` of known names are resolved: anything
else cannot be known without AWS, and says so (``None``, or :data:`UNRESOLVED`).
"""
import re

SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class _Unresolved:
    def __repr__(self):
        return "UNRESOLVED"


UNRESOLVED = _Unresolved()


def is_intrinsic(value) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))


def resolve_text(value, variables: dict) -> str | None:
    """The text a value stands for when it uses only ``variables``; ``None`` when it cannot be known here."""
    if isinstance(value, str):
        return value
    if not is_intrinsic(value):
        return None
    function, argument = next(iter(value.items()))
    if function == "Ref":
        return variables.get(argument) if isinstance(argument, str) else None
    if function == "Fn::Join":
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            return None
        separator, parts = argument
        if not isinstance(parts, list):
            return None
        resolved = [resolve_text(part, variables) for part in parts]
        return None if any(part is None for part in resolved) else separator.join(resolved)
    if function == "Fn::Sub":
        extra = {}
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
            argument, extra = argument
            extra = {key: resolve_text(val, variables) for key, val in extra.items()}
            if any(val is None for val in extra.values()):
                return None
        if not isinstance(argument, str):
            return None
        known = {**variables, **extra}
        if any(name not in known for name in SUB_VARIABLE.findall(argument)):
            return None
        text = SUB_VARIABLE.sub(lambda match: known[match.group(1)], argument)
        return text.replace("${!", "${")
    return None


def resolve_value(value, variables: dict):
    """``value`` (a policy document, a list, a string…) with every intrinsic function in it replaced by
    the text it stands for; :data:`UNRESOLVED` when any of them cannot be known from ``variables``."""
    if is_intrinsic(value):
        text = resolve_text(value, variables)
        return UNRESOLVED if text is None else text
    if isinstance(value, dict):
        resolved = {}
        for key, item in value.items():
            resolved[key] = resolve_value(item, variables)
            if resolved[key] is UNRESOLVED:
                return UNRESOLVED
        return resolved
    if isinstance(value, list):
        items = [resolve_value(item, variables) for item in value]
        return UNRESOLVED if any(item is UNRESOLVED for item in items) else items
    return value
