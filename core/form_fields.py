"""Form fields shared by the apps' forms."""
from django import forms
from django.core.exceptions import ValidationError

from core.validators import no_control_characters_except_line_breaks

REASON_MAX_LENGTH = 2000
REASON_OPTIONAL_HELP = "Optional; kept in the audit history."

# BigAutoField's range: the primary keys of every model.
DATABASE_ID_MIN, DATABASE_ID_MAX = -(2**63), 2**63 - 1


def _beyond_database_ids(value) -> bool:
    try:
        number = int(str(value).strip())
    except ValueError:
        return False  # not a number at all: Django's own check names it
    return not DATABASE_ID_MIN <= number <= DATABASE_ID_MAX


class ModelIdsField(forms.ModelMultipleChoiceField):
    """A ``ModelMultipleChoiceField`` that answers "not one of the choices" for an id no database can hold.

    Django looks the ids up with ``pk__in``, and SQLite raises ``OverflowError`` for an integer past
    64 bits (``?users=99999999999999999999``): a server error instead of a form error.
    """

    def _check_values(self, value):
        try:
            values = frozenset(value)
        except TypeError:
            return super()._check_values(value)
        for pk in values:
            if _beyond_database_ids(pk):
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(values)


def reason_field(
    *, required: bool = False, help_text: str = REASON_OPTIONAL_HELP, rows: int = 2,
    max_length: int = REASON_MAX_LENGTH, **kwargs
) -> forms.CharField:
    """The "reason" every change form asks for: kept in the audit history, line breaks allowed."""
    return forms.CharField(
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
        validators=[no_control_characters_except_line_breaks],
        **kwargs,
    )
