from django import forms

from core.form_fields import reason_field
from core.validators import no_control_characters_except_line_breaks


class _DecisionForm(forms.Form):
    """Approve and reject share one page, so each form's field ids carry its name (one label, one textarea)."""

    field_id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.field_id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ApproveForm(_DecisionForm):
    field_id_prefix = "approve"
    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[no_control_characters_except_line_breaks],
    )


class RejectForm(_DecisionForm):
    field_id_prefix = "reject"
    comment = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why you reject this plan."},
        validators=[no_control_characters_except_line_breaks],
    )


class PlanRequestForm(forms.Form):
    teardown = forms.BooleanField(
        required=False,
        label="Teardown",
        help_text="Plan the removal of every stack and every /RoleModel/ group (the original tool's delete).",
    )


class OffboardForm(forms.Form):
    reason = reason_field(required=True, max_length=500, help_text="Why this person loses every group: kept in the "
                          "audit history of each grant and of the revocation plan.",
                          error_messages={"required": "Say why this person is offboarded."})
