import json

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import AssumableAccount
from core import limits
from core.form_fields import ModelIdsField, ServiceModelForm, name_not_taken, reason_field
from core.validators import (
    no_control_characters_except_line_breaks,
    validate_document_text,
)
from roles.identity import describe_identity_change
from roles.models import InlinePolicy, RoleDefinition
from roles.services import pending_replacement, replacement_after_edit


def _lines(text: str) -> list[tuple[int, str]]:
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def parse_tags(text: str) -> dict:
    """``key=value`` per line into a dict; a line without “=” or a repeated key is an error."""
    tags, problems = {}, []
    for number, line in _lines(text):
        key, separator, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not separator or not key:
            problems.append(f"Line {number} (“{line[:40]}”) is not key=value.")
        elif key in tags:
            problems.append(f"Line {number}: the tag “{key}” is given twice.")
        else:
            tags[key] = value
    if problems:
        raise ValidationError(problems)
    return tags


def format_tags(tags: dict) -> str:
    return "\n".join(f"{key}={value}" for key, value in sorted(tags.items()))


class RoleForm(ServiceModelForm):
    name_from_cloudformation = forms.BooleanField(
        required=False,
        label="Keep the name CloudFormation gave it",
        help_text="This role was imported without a RoleName, so where it is deployed CloudFormation named it "
        "<stack>-<logical id>-<random> and it keeps that name. Untick to give it the role name above (empty: the "
        "logical name): CloudFormation then replaces the role, which gets a new ARN.",
    )
    managed_policy_arns = forms.CharField(
        required=False,
        label="Managed policy ARNs",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"One ARN per line; at most {limits.MANAGED_POLICIES_PER_ROLE_DEFAULT}.",
        validators=[no_control_characters_except_line_breaks],
    )
    tags = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One key=value per line.",
        validators=[no_control_characters_except_line_breaks],
    )
    applies_to_all_accounts = forms.BooleanField(
        required=False, initial=True, label="Applies to all accounts", help_text="As in the original tool."
    )
    accounts = ModelIdsField(
        queryset=AssumableAccount.objects.order_by("name"),
        required=False,
        help_text="When the role does not apply to all accounts: the accounts it applies to.",
    )
    confirm_replacement = forms.BooleanField(
        required=False,
        # Hidden until an edit changes the role's ARN; then it shows with the reason it is asked.
        widget=forms.HiddenInput,
        label="Replace this role in AWS",
        help_text="CloudFormation replaces the role in every account it applies to: it gets a new ARN, and every "
                  "switch-role link, role_arn profile and outside reference to it breaks. Ticking this confirms "
                  "exactly this change; it is kept in the audit history.",
    )
    reason = reason_field()

    line_break_fields = ("description",)

    class Meta:
        model = RoleDefinition
        fields = ("logical_name", "role_name", "name_from_cloudformation", "path", "description", "require_mfa",
                  "max_session_duration", "permissions_boundary_arn", "managed_policy_arns", "tags",
                  "applies_to_all_accounts")
        labels = {
            "logical_name": "Logical name",
            "role_name": "Role name",
            "require_mfa": "Require MFA",
            "max_session_duration": "Maximum session duration (seconds)",
            "permissions_boundary_arn": "Permissions boundary ARN",
        }
        help_texts = {
            "logical_name": "CloudFormation logical name, letters and digits only; used in group names (<account>.<role>).",
            "role_name": f"The IAM role name people type in Switch Role; empty means the logical name. At most "
                         f"{limits.ROLE_NAME_MAX}.",
            "path": "Starts and ends with “/”.",
            "description": "",
            "require_mfa": "Trust only sessions signed in with MFA.",
            "max_session_duration": f"{limits.SESSION_DURATION_MIN}–{limits.SESSION_DURATION_MAX} (1 to 12 hours).",
            "permissions_boundary_arn": "Optional managed policy ARN.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, role: RoleDefinition | None = None, offer_replacement_confirmation: bool = False, **kwargs):
        """``offer_replacement_confirmation``: show the box although this edit keeps the ARN — a plan found
        the live role differs from this one in RoleName or Path (its block links here) and the editor may
        confirm that the role is to be replaced."""
        # The two lists are edited as lines of text, not as the model's JSON.
        source = role if role is not None else RoleDefinition()
        initial = {"managed_policy_arns": "\n".join(source.managed_policy_arns), "tags": format_tags(source.tags)}
        if role is not None:
            initial["accounts"] = list(role.accounts.all())
        kwargs.setdefault("initial", initial)
        super().__init__(*args, instance=role, **kwargs)
        self.role = role
        if role is None:
            del self.fields["name_from_cloudformation"]
            del self.fields["confirm_replacement"]  # a new role replaces nothing
            return
        if not role.name_from_cloudformation:
            # Only an imported role has a name CloudFormation chose; a role made here, or given a
            # name since, always has its own (going back would replace it under an unknown name).
            del self.fields["name_from_cloudformation"]
        pending = pending_replacement(role)
        if pending is not None or offer_replacement_confirmation:
            field = self.fields["confirm_replacement"]
            field.widget = forms.CheckboxInput()
            if pending is not None:  # renamed elsewhere (an import) and not confirmed yet
                field.help_text = f"Not confirmed yet: {describe_identity_change(pending['from'][-1], pending['to'])}. " + field.help_text

    def clean_logical_name(self):
        return name_not_taken(
            RoleDefinition.objects, "logical_name", self.cleaned_data["logical_name"], max_length=limits.LOGICAL_ID_MAX,
            instance=self.role,
            taken=lambda clash: f"A role named “{clash.logical_name}” already exists; logical names are compared without case.",
        )

    def clean_managed_policy_arns(self):
        arns = [line for _, line in _lines(self.cleaned_data["managed_policy_arns"])]
        # Counted before each line is checked, so a pasted file gets one message rather than thousands.
        if len(arns) > limits.MANAGED_POLICIES_PER_ROLE_DEFAULT:
            raise ValidationError(
                f"A role can have at most {limits.MANAGED_POLICIES_PER_ROLE_DEFAULT} managed policies by default; "
                f"this has {len(arns)}."
            )
        return arns

    def clean_tags(self):
        lines = _lines(self.cleaned_data["tags"])
        if len(lines) > limits.TAGS_PER_ROLE_MAX:
            raise ValidationError(f"A role can carry at most {limits.TAGS_PER_ROLE_MAX} tags; this has {len(lines)}.")
        return parse_tags(self.cleaned_data["tags"])

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("applies_to_all_accounts") and not cleaned.get("accounts"):
            self.add_error("accounts", "Choose the accounts this role applies to, or tick “Applies to all accounts”.")
        if self.role is not None:
            self._ask_to_confirm_a_replacement(cleaned)
        return cleaned

    def _ask_to_confirm_a_replacement(self, cleaned: dict) -> None:
        fields = {name: cleaned[name] for name in ("logical_name", "role_name", "path") if name in cleaned}
        change = replacement_after_edit(role=self.role, fields=fields)
        if change is None:
            return
        self.fields["confirm_replacement"].widget = forms.CheckboxInput()
        if not cleaned.get("confirm_replacement"):
            self.add_error(
                "confirm_replacement",
                f"This edit changes the role's ARN ({describe_identity_change(*change)}): CloudFormation will "
                "replace the role. Tick the box to confirm, or undo the change.",
            )

class RoleDeleteForm(forms.Form):
    reason = reason_field(
        required=True, rows=3, help_text="Why the role goes; kept in the audit history with every revoked membership."
    )


class PolicyForm(ServiceModelForm):
    document = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "false"}),
        help_text="A JSON policy document with “Version” and “Statement”.",
        validators=[no_control_characters_except_line_breaks],
    )
    reason = reason_field()

    class Meta:
        model = InlinePolicy
        fields = ("name", "document")
        help_texts = {"name": f"Letters, digits and + = , . @ _ -; at most {limits.POLICY_NAME_MAX}."}

    def __init__(self, *args, role: RoleDefinition, policy: InlinePolicy | None = None, **kwargs):
        # The document is edited as JSON text, not as the model's dict.
        kwargs.setdefault("initial", {"document": json.dumps(policy.document, indent=2) if policy is not None else ""})
        super().__init__(*args, instance=policy, **kwargs)
        self.role, self.policy = role, policy

    def clean_name(self):
        return name_not_taken(
            self.role.policies, "name", self.cleaned_data["name"], max_length=limits.POLICY_NAME_MAX,
            instance=self.policy,
            taken=lambda clash: f"Role {self.role.logical_name} already has a policy named “{clash.name}”; "
                                "policy names are compared without case.",
        )

    def clean_document(self):
        document = limits.parse_policy_text(self.cleaned_data["document"], label="The policy document")
        # JSON escapes (\u0000, \ud800) reach the database, which cannot store them, unless refused here.
        validate_document_text(document, label="The policy document")
        return document


class PolicyDeleteForm(forms.Form):
    reason = reason_field()
