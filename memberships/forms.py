from django import forms
from django.utils import timezone

from accounts.models import AssumableAccount
from core import limits
from core.form_fields import ServiceModelForm, SuggestionsInput, reason_field, typed_names
from core.validators import no_control_characters, no_control_characters_except_line_breaks
from memberships.models import IAMUser
from memberships.selectors import grantable_pairs, iam_users_named, pair_value
from roles.models import RoleDefinition

GRANT_USERS_MAX = 100


class IAMUserNamesField(forms.CharField):
    """IAM users typed by name (or picked from the search box's suggestions): with ``multiple``, several
    separated by commas or spaces, cleaned to a list in the order typed; otherwise one, cleaned to the IAM
    user (None when empty). A name no IAM user has is an error that names it."""

    def __init__(self, *, multiple: bool = False, **kwargs):
        self.multiple = multiple
        kwargs.setdefault("max_length", GRANT_USERS_MAX * (limits.USER_NAME_MAX + 2) if multiple else limits.USER_NAME_MAX)
        kwargs.setdefault("widget", SuggestionsInput(suggestions_url="memberships:iam_user_suggestions", multiple=multiple))
        kwargs.setdefault("validators", [no_control_characters])
        super().__init__(**kwargs)

    def clean(self, value):
        names = list(dict.fromkeys(typed_names(super().clean(value))))
        if not names and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if not names:
            return [] if self.multiple else None
        if not self.multiple and len(names) > 1:
            raise forms.ValidationError("Type one IAM user name.", code="several")
        if len(names) > GRANT_USERS_MAX:
            raise forms.ValidationError(f"Grant at most {GRANT_USERS_MAX} IAM users at once.", code="too_many")
        known = iam_users_named(names)
        unknown = [name for name in names if name.lower() not in known]
        if unknown:
            raise forms.ValidationError(
                "No IAM user is named %(names)s: pick a name from the suggestions, or add the IAM user first.",
                code="unknown", params={"names": ", ".join(f"“{name}”" for name in unknown)},
            )
        iam_users = list(dict.fromkeys(known[name.lower()] for name in names))
        return iam_users if self.multiple else iam_users[0]


def _id_or_none(value) -> int | None:
    """A database id from a query string, or None for anything that is not one."""
    # ASCII decimals only ("²" is a digit int() refuses), and no longer than a 64-bit id (int() refuses 5,000 digits).
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= 19:
        return int(value)
    return None


class AccountNameField(forms.CharField):
    """One account typed by name (or picked from the search box's suggestions), cleaned to the account
    (None when empty); a name no account has is an error that names it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", limits.ACCOUNT_NAME_MAX)
        kwargs.setdefault("widget", SuggestionsInput(suggestions_url="accounts:suggestions"))
        kwargs.setdefault("validators", [no_control_characters])
        super().__init__(**kwargs)

    def clean(self, value):
        name = super().clean(value)
        if not name:
            return None
        account = AssumableAccount.objects.filter(name__iexact=name).first()
        if account is None:
            raise forms.ValidationError("No account is named “%(name)s”: pick a name from the suggestions.",
                                        code="unknown", params={"name": name})
        return account


class MembershipFilterForm(forms.Form):
    account = AccountNameField(required=False)
    role = forms.ModelChoiceField(
        queryset=RoleDefinition.objects.order_by("logical_name"), required=False, empty_label="any role"
    )
    user = IAMUserNamesField(required=False, label="IAM user")


class MembershipGrantForm(forms.Form):
    """Grants every chosen IAM user every chosen (account, role) group: one user into several
    groups, several users into one group, or any cross product of the two."""

    users = IAMUserNamesField(
        multiple=True,
        label="IAM users",
        error_messages={"required": "Choose at least one IAM user."},
        help_text="User names, separated by commas: type part of a name and pick from the suggestions.",
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
        """Preselection from ``?user=<IAM user name>&account=<name or id>&role=<id>`` links (the memberships
        list's filters); unknown names and ids that are not numbers are ignored."""
        initial = {}
        names = [name for value in query.getlist("user") for name in typed_names(value)][:GRANT_USERS_MAX]
        known = iam_users_named([name for name in names if len(name) <= limits.USER_NAME_MAX])
        if known:
            initial["users"] = ", ".join(sorted(iam_user.user_name for iam_user in known.values()))
        account_key, role_id = str(query.get("account", "")).lower(), _id_or_none(query.get("role"))
        if account_key or role_id:
            initial["groups"] = [
                value
                for value, (account, role) in self.pairs.items()
                if (not account_key or account_key in (str(account.pk), account.name.lower()))
                and (role_id is None or role.pk == role_id)
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
