from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from core import limits


class RoleDefinition(models.Model):
    """One IAM role created by the stack in every assumable account it applies to."""

    logical_name = models.CharField(
        max_length=limits.LOGICAL_ID_MAX,
        help_text="CloudFormation logical name, letters and digits only; used in group names.",
    )
    role_name = models.CharField(
        max_length=limits.ROLE_NAME_MAX,
        blank=True,
        help_text="IAM role name people type in Switch Role; empty means the logical name.",
    )
    # The original tool's templates have no RoleName: CloudFormation named those roles
    # <stack>-<logical id>-<random>, and renaming means replacing them (a new ARN), so an imported
    # role keeps that name wherever it lives. Roles made in the console always get a RoleName.
    name_from_cloudformation = models.BooleanField(
        default=False,
        help_text="Imported without RoleName: where the role is deployed it keeps the name CloudFormation gave it; "
        "in an account it does not exist in yet, it is created with the role name.",
    )
    path = models.CharField(max_length=512, default="/", validators=[limits.validate_iam_path])
    description = models.CharField(max_length=1000, blank=True)
    require_mfa = models.BooleanField(default=True, help_text="Trust only sessions signed in with MFA.")
    max_session_duration = models.PositiveIntegerField(
        default=limits.SESSION_DURATION_MIN, validators=[limits.validate_session_duration]
    )
    permissions_boundary_arn = models.CharField(
        max_length=2048, blank=True, validators=[limits.validate_policy_arn]
    )
    managed_policy_arns = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    applies_to_all_accounts = models.BooleanField(default=True)
    # A change of RoleName, Path or logical id makes CloudFormation replace the role (a new ARN).
    # The editor confirms it on the role form; the plan lifts its block only for exactly this
    # change: {"from": identity, "to": identity, "by": name, "at": iso time} (plans.replacement).
    replacement_confirmation = models.JSONField(default=dict, blank=True)
    accounts = models.ManyToManyField("accounts.AssumableAccount", blank=True, related_name="restricted_roles")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["logical_name"]
        constraints = [
            models.UniqueConstraint(
                Lower("logical_name"),
                name="role_logical_name_unique_ci",
                violation_error_message="A role with this logical name already exists (names are compared without case).",
            ),
        ]

    def __str__(self):
        return self.logical_name

    @property
    def effective_role_name(self) -> str:
        return self.role_name or self.logical_name

    def role_arn(self, account_id: str, *, physical_name: str = "") -> str:
        """The ARN in one account: of ``physical_name`` when the role lives there under a name
        CloudFormation gave it, else of the role name the template sets."""
        return f"arn:aws:iam::{account_id}:role{self.path}{physical_name or self.effective_role_name}"

    def clean(self):
        errors = {}
        try:
            limits.validate_logical_id(self.logical_name or "")
        except ValidationError as error:
            errors["logical_name"] = error.messages
        name = self.effective_role_name
        if self.name_from_cloudformation and self.role_name:
            errors.setdefault("role_name", []).append(
                "This role keeps the name CloudFormation gave it, so it has no role name of its own; to give it one, "
                "also stop keeping the CloudFormation name (CloudFormation then replaces the role: a new ARN)."
            )
        if name:
            try:
                limits.validate_iam_name(name, kind="role", max_length=limits.ROLE_NAME_MAX)
            except ValidationError as error:
                errors.setdefault("role_name" if self.role_name else "logical_name", []).extend(error.messages)
            path_and_name = len(self.path or "/") - 1 + len(name)
            if path_and_name > limits.SWITCH_ROLE_PATH_AND_NAME_MAX:
                errors.setdefault("path", []).append(
                    f"Path and role name together are {path_and_name} characters; the AWS console's Switch Role "
                    f"accepts at most {limits.SWITCH_ROLE_PATH_AND_NAME_MAX}."
                )
        if not isinstance(self.managed_policy_arns, list):
            errors["managed_policy_arns"] = ["Managed policies must be a list of ARNs."]
        else:
            bad = []
            for arn in self.managed_policy_arns:
                try:
                    limits.validate_policy_arn(arn)
                except ValidationError as error:
                    bad.extend(error.messages)
            if len(set(self.managed_policy_arns)) != len(self.managed_policy_arns):
                bad.append("The same managed policy is listed twice.")
            if len(self.managed_policy_arns) > limits.MANAGED_POLICIES_PER_ROLE_DEFAULT:
                bad.append(
                    f"A role can have at most {limits.MANAGED_POLICIES_PER_ROLE_DEFAULT} managed policies by default; "
                    f"this has {len(self.managed_policy_arns)}."
                )
            if bad:
                errors["managed_policy_arns"] = bad
        try:
            limits.validate_tags(self.tags)
        except ValidationError as error:
            errors["tags"] = error.messages
        if errors:
            raise ValidationError(errors)

    def snapshot(self) -> dict:
        """Everything that defines the role, inline policies included, for audit before/after."""
        return {
            "logical_name": self.logical_name,
            "role_name": self.role_name,
            "name_from_cloudformation": self.name_from_cloudformation,
            "path": self.path,
            "description": self.description,
            "require_mfa": self.require_mfa,
            "max_session_duration": self.max_session_duration,
            "permissions_boundary_arn": self.permissions_boundary_arn,
            "managed_policy_arns": list(self.managed_policy_arns),
            "tags": dict(self.tags),
            "applies_to_all_accounts": self.applies_to_all_accounts,
            "accounts": sorted(account.name for account in self.accounts.all()) if self.pk else [],
        }


class InlinePolicy(models.Model):
    role = models.ForeignKey(RoleDefinition, on_delete=models.CASCADE, related_name="policies")
    name = models.CharField(max_length=limits.POLICY_NAME_MAX)
    document = models.JSONField()
    # The logical id of the AWS::IAM::Policy resource this policy was imported from: a live stack
    # keeps its resources only if the generated template uses the same ids. Empty: generated.
    logical_id = models.CharField(max_length=limits.LOGICAL_ID_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "inline policies"
        constraints = [
            models.UniqueConstraint(
                "role",
                Lower("name"),
                name="policy_name_unique_per_role_ci",
                violation_error_message="This role already has a policy with this name (compared without case).",
            )
        ]

    def __str__(self):
        return f"{self.role.logical_name}/{self.name}"

    def clean(self):
        errors = {}
        try:
            limits.validate_iam_name(self.name or "", kind="policy", max_length=limits.POLICY_NAME_MAX)
        except ValidationError as error:
            errors["name"] = error.messages
        try:
            limits.validate_policy_document(self.document)
        except ValidationError as error:
            errors["document"] = error.messages
        if self.logical_id:
            try:
                limits.validate_logical_id(self.logical_id)
            except ValidationError as error:
                errors["logical_id"] = error.messages
        if errors:
            raise ValidationError(errors)

    @property
    def size(self) -> int:
        return limits.policy_size(self.document)

    def snapshot(self) -> dict:
        snapshot = {"role": self.role.logical_name, "name": self.name, "document": self.document}
        if self.logical_id:
            snapshot["logical_id"] = self.logical_id
        return snapshot
