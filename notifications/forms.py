from django import forms

from notifications.models import Delivery, Event


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "any")] + Delivery.Status.choices)
    channel = forms.ChoiceField(required=False, choices=[("", "any")] + Delivery.Channel.choices)
    event = forms.ChoiceField(required=False, choices=[("", "any")] + Event.choices)

    def selector_filters(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value}


class EmailPreferencesForm(forms.Form):
    email_events = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Email me when",
        help_text="Untick an event to stop its emails. Events your console roles are not addressed are marked.",
    )

    def __init__(self, *args, addressed: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_events"].choices = [
            (value, label if value in addressed else f"{label} (not addressed to your console roles)")
            for value, label in Event.choices
        ]
