from django import forms
from django.core.exceptions import ValidationError

from accounts.models import AssumableAccount, MasterAccount
from core import limits
from core.form_fields import name_taken_by, reason_field
from core.validators import no_control_characters



class AccountForm(forms.Form):
    """An assumable account. Limits are checked by the model and the services, not repeated here."""

    name = forms.CharField(
        help_text=f"Used in group names (<account>.<role>); letters, digits and + = , @ _ -; at most {limits.ACCOUNT_NAME_MAX}.",
        validators=[no_control_characters],
    )
    account_id = forms.CharField(
        required=False, label="Account id", help_text="12 digits.", validators=[no_control_characters]
    )
    description = forms.CharField(required=False, validators=[no_control_characters])
    profile = forms.CharField(
        required=False, help_text="Named AWS profile (as in the original tool).", validators=[no_control_characters]
    )
    role_arn = forms.CharField(
        required=False,
        label="Role ARN",
        help_text="Or: a role assumed from the master session (the modern way).",
        validators=[no_control_characters],
    )
    external_id = forms.CharField(
        required=False, label="External id", help_text="Only with a role ARN.", validators=[no_control_characters]
    )
    enabled = forms.BooleanField(required=False, initial=True)
    reason = reason_field()

    def __init__(self, *args, account: AssumableAccount | None = None, **kwargs):
        if account is not None:
            kwargs.setdefault("initial", {**account.snapshot()})
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_name(self):
        # The database constraint would say the same above the form; here it lands on the field.
        name = self.cleaned_data["name"]
        clash = name_taken_by(AssumableAccount.objects, "name", name, max_length=limits.ACCOUNT_NAME_MAX,
                              instance=self.account)
        if clash is not None:
            raise ValidationError(
                f"An account named “{clash.name}” already exists; account names are compared without case."
            )
        return name

    def service_fields(self) -> dict:
        fields = dict(self.cleaned_data)
        fields.pop("reason")
        return fields


class AccountDeleteForm(forms.Form):
    reason = reason_field(
        required=True, rows=3,
        help_text="Why the account leaves the console; kept in the audit history with every revoked membership.",
    )


class MasterAccountForm(forms.Form):
    account_id = forms.CharField(
        required=False, label="Account id", help_text="12 digits.", validators=[no_control_characters]
    )
    profile = forms.CharField(
        required=False,
        help_text="Named AWS profile; empty means the default credential chain.",
        validators=[no_control_characters],
    )
    region = forms.CharField(validators=[no_control_characters])
    stack_name = forms.CharField(
        label="Stack name",
        help_text="The CloudFormation stack that holds the roles in every assumable account.",
        validators=[no_control_characters],
    )
    group_quota = forms.IntegerField(
        label="Group quota",
        help_text=f"IAM groups allowed in the master account ({limits.GROUPS_PER_ACCOUNT_DEFAULT} by default, "
        f"{limits.GROUPS_PER_ACCOUNT_MAX} at most).",
    )
    reason = reason_field()

    def __init__(self, *args, master: MasterAccount, **kwargs):
        kwargs.setdefault("initial", master.snapshot())
        super().__init__(*args, **kwargs)

    def service_fields(self) -> dict:
        fields = dict(self.cleaned_data)
        fields.pop("reason")
        return fields
