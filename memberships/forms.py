from django import forms
from django.utils import timezone

from accounts.models import AssumableAccount
from core import limits
from core.form_fields import ModelIdsField, ServiceModelForm, reason_field
from core.validators import no_control_characters_except_line_breaks
from memberships.models import IAMUser
from memberships.selectors import grantable_pairs, pair_value
from roles.models import RoleDefinition


def _id_or_none(value) -> int | None:
    """A database id from a query string, or None for anything that is not one."""
    # ASCII decimals only ("²" is a digit int() refuses), and no longer than a 64-bit id (int() refuses 5,000 digits).
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= 19:
        return int(value)
    return None


class MembershipFilterForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=AssumableAccount.objects.order_by("name"), required=False, empty_label="any account"
    )
    role = forms.ModelChoiceField(
        queryset=RoleDefinition.objects.order_by("logical_name"), required=False, empty_label="any role"
    )
    user = forms.ModelChoiceField(
        queryset=IAMUser.objects.order_by("user_name"), required=False, empty_label="any IAM user", label="IAM user"
    )


class MembershipGrantForm(forms.Form):
    """Grants every chosen IAM user every chosen (account, role) group: one user into several
    groups, several users into one group, or any cross product of the two."""

    users = ModelIdsField(
        queryset=IAMUser.objects.order_by("user_name"),
        label="IAM users",
        widget=forms.SelectMultiple(attrs={"size": 10}),
        error_messages={"required": "Choose at least one IAM user."},
    )
    groups = forms.MultipleChoiceField(
        label="Groups (account.role)",
        widget=forms.SelectMultiple(attrs={"size": 10}),
        error_messages={
            "required": "Choose at least one (account, role) group.",
            "invalid_choice": "“%(value)s” is not a group of this console: the role may not apply to that account, "
            "or the account or role no longer exists.",
        },
        help_text="Only pairs where the role applies to the account are listed.",
    )
    reason = forms.CharField(
        max_length=500,
        error_messages={"required": "Say why this access is needed: the reason is kept in the audit history."},
        help_text="Kept in the audit history and shown to the approver.",
        validators=[no_control_characters_except_line_breaks],
    )
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional. The access is revoked automatically at this time.",
    )

    def __init__(self, *args, preselect=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pairs = {pair_value(account, role): (account, role) for account, role in grantable_pairs()}
        self.fields["groups"].choices = [
            (value, limits.group_name(account.name, role.logical_name)) for value, (account, role) in self.pairs.items()
        ]
        if preselect is not None and not self.is_bound:
            self.initial.update(self._initial_from_query(preselect))

    def _initial_from_query(self, query) -> dict:
        """Preselection from ``?user=&account=&role=`` links; ids that are not numbers are ignored."""
        initial = {}
        user_ids = [user_id for user_id in map(_id_or_none, query.getlist("user")) if user_id]
        if user_ids:
            initial["users"] = user_ids
        account_id, role_id = _id_or_none(query.get("account")), _id_or_none(query.get("role"))
        if account_id or role_id:
            initial["groups"] = [
                value
                for value, (account, role) in self.pairs.items()
                if (account_id is None or account.pk == account_id) and (role_id is None or role.pk == role_id)
            ]
        return initial

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return expires_at

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why this access is needed: the reason is kept in the audit history.")
        return reason

    def grants(self) -> list[tuple]:
        """The (IAM user, account, role) cross product of a valid form."""
        pairs = [self.pairs[value] for value in self.cleaned_data["groups"]]
        return [(iam_user, account, role) for iam_user in self.cleaned_data["users"] for account, role in pairs]


class ReasonForm(forms.Form):
    reason = reason_field(max_length=500)

    def error_text(self) -> str:
        return " ".join(message for errors in self.errors.values() for message in errors)


class IAMUserForm(ServiceModelForm):
    # Declared: the page has always accepted any address Django's email field does (up to 320 characters).
    email = forms.EmailField(required=False)
    reason = reason_field(max_length=500)

    keep_database_limits = ("user_name", "display_name")
    FIELDS = ("user_name", "display_name", "email")

    class Meta:
        model = IAMUser
        fields = ("user_name", "display_name", "email")
        help_texts = {"user_name": "Exactly as in the master account's IAM (letters, digits and + = , . @ _ -)."}

    @classmethod
    def initial_for(cls, iam_user: IAMUser) -> dict:
        return {name: getattr(iam_user, name) for name in cls.FIELDS}

    def user_fields(self) -> dict:
        return self.service_fields()


class IAMUserSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search", widget=forms.TextInput(attrs={"type": "search"}))


class MatrixFilterForm(forms.Form):
    account_name = forms.CharField(required=False, max_length=200, label="Account name contains")
    role = forms.ModelChoiceField(
        queryset=RoleDefinition.objects.order_by("logical_name"), required=False, empty_label="all roles"
    )
