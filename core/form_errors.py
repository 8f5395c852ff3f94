"""Putting a service's ValidationError back onto the form the person filled in."""
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def add_service_error(form, error: ValidationError) -> None:
    """Errors about one field land on that field; whole-state problems (a list) above the form.

    A model may complain about a field the form does not show (a constraint on several
    columns, say); that message goes above the form, prefixed with the field's name, instead of
    Django's ``ValueError`` for an unknown field.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        if field == NON_FIELD_ERRORS or field in form.fields:
            form.add_error(None if field == NON_FIELD_ERRORS else field, errors)
        else:
            label = field.replace("_", " ").capitalize()
            form.add_error(None, [f"{label}: {message}" for message in ValidationError(errors).messages])
