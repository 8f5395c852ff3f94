"""Form fields and helpers shared by the apps' forms and views."""
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


def name_taken_by(queryset, field: str, value: str, *, max_length: int, instance=None):
    """The row of ``queryset`` (other than ``instance``) whose ``field`` equals ``value`` ignoring case, or None.

    A value longer than ``max_length`` is not looked up: no stored name is that long, the model says
    why, and SQLite refuses a LIKE pattern of 50,000+ characters.
    """
    if len(value) > max_length:
        return None
    others = queryset.filter(**{f"{field}__iexact": value})
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    return others.first()


def posted_data(request):
    """What a view binds its form to: the POST data on a POST, even an empty one (so that its errors
    show), and nothing on a GET (an unbound form, whose ``is_valid()`` is False)."""
    return request.POST if request.method == "POST" else None
