from django.core.exceptions import ValidationError


def apply_fields(instance, fields: dict, *, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(instance, name, value)
