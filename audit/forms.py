from datetime import date

from django import forms

from audit.models import AuditEvent
from audit.selectors import audit_actions, audit_object_types

# Dates outside this range are typing mistakes, and the far end would overflow when a day is added.
EARLIEST_DATE, LATEST_DATE = date(1970, 1, 1), date(9998, 12, 31)


class AuditFilterForm(forms.Form):
    person = forms.CharField(required=False, max_length=150, help_text="Part of the name of who made the change.")
    object_type = forms.ChoiceField(required=False, label="Object type")
    action = forms.ChoiceField(required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=200, label="Text", help_text="Object, reason or person contains.")
    object_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", "any")] + [(name, name) for name in audit_object_types()]
        labels = dict(AuditEvent.Action.choices)
        actions = list(labels) + [action for action in audit_actions() if action not in labels]
        self.fields["action"].choices = [("", "any")] + [(action, labels.get(action, action)) for action in actions]

    def _clean_day(self, name):
        day = self.cleaned_data[name]
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            raise forms.ValidationError(f"Give a date between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}.")
        return day

    def clean_date_from(self):
        return self._clean_day("date_from")

    def clean_date_to(self):
        return self._clean_day("date_to")

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "“To” is before “From”.")
        return cleaned

    def selector_filters(self) -> dict:
        """Keyword arguments for ``audit.selectors.audit_events`` from a valid form."""
        data = self.cleaned_data
        return {
            "person": data["person"].strip(),
            "object_type": data["object_type"],
            "object_id": data["object_id"].strip(),
            "action": data["action"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "text": data["q"].strip(),
        }

    def error_text(self) -> str:
        """All errors on one line, for responses that are not a page (exports)."""
        parts = []
        for name, errors in self.errors.items():
            label = (self.fields[name].label or name.replace("_", " ").capitalize()) if name in self.fields else ""
            parts.extend(f"{label}: {error}" if label else error for error in errors)
        return "; ".join(parts)
