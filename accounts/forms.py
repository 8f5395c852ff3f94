from django import forms

from accounts.models import AssumableAccount, MasterAccount
from core import limits
from core.form_fields import ServiceModelForm, name_not_taken, reason_field


class AccountForm(ServiceModelForm):
    """An assumable account. Limits are checked by the model and the services, not repeated here."""

    reason = reason_field()

    class Meta:
        model = AssumableAccount
        fields = ("name", "account_id", "description", "profile", "role_arn", "external_id", "enabled")
        labels = {"role_arn": "Role ARN"}
        help_texts = {
            "name": f"Used in group names (<account>.<role>); letters, digits and + = , @ _ -; at most "
                    f"{limits.ACCOUNT_NAME_MAX}.",
            "account_id": "12 digits.",
            "description": "",
            "profile": "Named AWS profile (as in the original tool).",
            "role_arn": "Or: a role assumed from the master session (the modern way).",
            "external_id": "Only with a role ARN.",
            "enabled": "",
        }

    def __init__(self, *args, account: AssumableAccount | None = None, **kwargs):
        super().__init__(*args, instance=account, **kwargs)
        self.account = account

    def clean_name(self):
        # The database constraint would say the same above the form; here it lands on the field.
        return name_not_taken(
            AssumableAccount.objects, "name", self.cleaned_data["name"], max_length=limits.ACCOUNT_NAME_MAX,
            instance=self.account,
            taken=lambda clash: f"An account named “{clash.name}” already exists; account names are compared without case.",
        )

class AccountDeleteForm(forms.Form):
    reason = reason_field(
        required=True, rows=3,
        help_text="Why the account leaves the console; kept in the audit history with every revoked membership.",
    )


class MasterAccountForm(ServiceModelForm):
    reason = reason_field()

    class Meta:
        model = MasterAccount
        fields = ("account_id", "profile", "region", "stack_name", "group_quota")
        labels = {"stack_name": "Stack name", "group_quota": "Group quota"}
        help_texts = {
            "account_id": "12 digits.",
            "profile": "Named AWS profile; empty means the default credential chain.",
            "region": "",
            "stack_name": "The CloudFormation stack that holds the roles in every assumable account.",
            "group_quota": f"IAM groups allowed in the master account ({limits.GROUPS_PER_ACCOUNT_DEFAULT} by default, "
                           f"{limits.GROUPS_PER_ACCOUNT_MAX} at most).",
        }

    def __init__(self, *args, master: MasterAccount, **kwargs):
        super().__init__(*args, instance=master, **kwargs)
