from django import forms


class ApproveForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(forms.Form):
    comment = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why you reject this plan."},
    )


class PlanRequestForm(forms.Form):
    teardown = forms.BooleanField(
        required=False,
        label="Teardown",
        help_text="Plan the removal of every stack and every /RoleModel/ group (the original tool's delete).",
    )
