"""Form fields and helpers shared by the apps' forms and views."""
import re
from collections.abc import Callable
from urllib.parse import urlencode

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from core.validators import no_control_characters, no_control_characters_except_line_breaks

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


def name_not_taken(queryset, field: str, value: str, *, max_length: int, instance=None,
                   taken: Callable[[object], str]) -> str:
    """``value``, for a form's ``clean_<field>``; a ``ValidationError`` saying ``taken(clash)`` when
    ``name_taken_by`` finds another row with that name (so that the clash lands on the field)."""
    clash = name_taken_by(queryset, field, value, max_length=max_length, instance=instance)
    if clash is not None:
        raise ValidationError(taken(clash))
    return value


def posted_data(request):
    """What a view binds its form to: the POST data on a POST, even an empty one (so that its errors
    show), and nothing on a GET (an unbound form, whose ``is_valid()`` is False)."""
    return request.POST if request.method == "POST" else None


def _without_database_limits(field: forms.Field) -> None:
    """Drop the length and range limits Django copies from the column onto a generated form field:
    the model checks them in the service (``full_clean``), with the messages the pages have always shown."""
    if type(field) is forms.CharField and field.max_length is not None:
        field.max_length = None
        field.validators = [v for v in field.validators if not isinstance(v, validators.MaxLengthValidator)]
        field.widget.attrs.pop("maxlength", None)
    elif isinstance(field, forms.IntegerField) and field.min_value is not None:
        field.min_value = None
        field.validators = [v for v in field.validators if not isinstance(v, validators.MinValueValidator)]
        field.widget.attrs.pop("min", None)


class ServiceModelForm(forms.ModelForm):
    """A form whose fields come from the model (``Meta.fields``), for a service to save.

    The service validates the whole object (``full_clean``) and writes it with its audit row in one
    transaction, so the form neither fills in nor validates its instance (``_post_clean``) and never
    saves: it reads the request. Text fields generated from the model refuse control characters
    (line breaks too, unless named in ``line_break_fields``); their column limits are left to the
    model unless named in ``keep_database_limits``.
    """

    line_break_fields: tuple[str, ...] = ()
    keep_database_limits: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name in self.declared_fields:
                continue
            if name not in self.keep_database_limits:
                _without_database_limits(field)
            if type(field) is forms.CharField:
                # First, as a declared ``validators=[...]`` would be: a NUL gets this message before Django's.
                field.validators.insert(0, no_control_characters_except_line_breaks if name in self.line_break_fields
                                        else no_control_characters)

    def _post_clean(self):
        """Nothing: the service validates the object inside its transaction (see the class docstring)."""

    def service_fields(self) -> dict:
        """The model fields of a valid form, as the service's keyword arguments."""
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}


# Between the names typed into one search box (IAM and account names never hold a comma or a space).
NAME_SEPARATORS = re.compile(r"[\s,]+")


def typed_names(text: str) -> list[str]:
    return [name for name in NAME_SEPARATORS.split(text) if name]


def name_being_typed(text: str) -> str:
    """The last name of a box of names, unless a separator ends it (then the next is not begun)."""
    return "" if not text or NAME_SEPARATORS.fullmatch(text[-1]) else typed_names(text)[-1]


class SuggestionsInput(forms.TextInput):
    """A text input for names that asks the view ``suggestions_url`` (a URL name) for at most 20 matches as
    one types (htmx, ``?field=<its name>&<its name>=<text>``) and lists them under it; static/js/console.js
    puts the one clicked into the input (``multiple``: in place of the name being typed). Without
    JavaScript it is a plain text input for the names, which the form validates."""

    def __init__(self, *, suggestions_url: str, multiple: bool = False, attrs=None):
        super().__init__(attrs={"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.suggestions_url = suggestions_url
        self.multiple = multiple

    @staticmethod
    def suggestions_id(name: str, attrs) -> str:
        return f"{(attrs or {}).get('id') or name}-suggestions"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        suggestions_id = self.suggestions_id(name, context["widget"]["attrs"])
        context["widget"]["attrs"].update({
            "hx-get": f"{reverse(self.suggestions_url)}?{urlencode({'field': name})}",
            "hx-trigger": "input changed delay:200ms",
            "hx-target": f"#{suggestions_id}",
            "hx-swap": "innerHTML",
            "aria-controls": suggestions_id,
            "data-suggestions": suggestions_id,
        })
        if self.multiple:
            context["widget"]["attrs"]["data-multiple"] = "true"
        return context

    def render(self, name, value, attrs=None, renderer=None):
        return format_html(
            '{}<ul class="suggestions" id="{}" aria-label="Suggestions"></ul>',
            super().render(name, value, attrs, renderer), self.suggestions_id(name, attrs),
        )


def suggestion_text(request, *, max_length: int) -> str:
    """The name being typed into the search box that sent ``request`` (its field is ``?field=``, else ``q``);
    "" for anything too long or holding control characters, so a bad query only finds nothing."""
    text = request.GET.get(request.GET.get("field", "q"), "")
    try:
        no_control_characters(text)
    except ValidationError:
        return ""
    name = name_being_typed(text[: 100 * (max_length + 2) + 1])
    return name if len(name) <= max_length else ""
