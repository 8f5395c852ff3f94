import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from core import limits

_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


class MasterAccount(models.Model):
    """The one account that holds the IAM users and the /RoleModel/ groups."""

    account_id = models.CharField(max_length=12, blank=True, validators=[limits.validate_account_id])
    profile = models.CharField(
        max_length=128, blank=True, help_text="Named AWS profile; empty means the default credential chain."
    )
    region = models.CharField(max_length=32, default="us-east-1")
    stack_name = models.CharField(
        max_length=128,
        default="RoleModel",
        help_text="Name of the CloudFormation stack that holds the roles in every assumable account.",
    )
    group_quota = models.PositiveIntegerField(
        default=limits.GROUPS_PER_ACCOUNT_DEFAULT,
        help_text="IAM groups allowed in the master account (300 by default, 500 at most).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="single_master_account")]

    def __str__(self):
        return f"master {self.account_id or '(id not set)'}"

    def clean(self):
        if not 1 <= self.group_quota <= limits.GROUPS_PER_ACCOUNT_MAX:
            raise ValidationError({"group_quota": f"The group quota must be between 1 and {limits.GROUPS_PER_ACCOUNT_MAX}."})
        if self.stack_name and not _STACK_NAME.match(self.stack_name):
            raise ValidationError(
                {"stack_name": "A stack name starts with a letter and uses only letters, digits and hyphens (≤ 128)."}
            )

    @classmethod
    def load(cls) -> "MasterAccount":
        master, _ = cls.objects.get_or_create(id=1)
        return master

    def snapshot(self) -> dict:
        return {
            "account_id": self.account_id,
            "profile": self.profile,
            "region": self.region,
            "stack_name": self.stack_name,
            "group_quota": self.group_quota,
        }


class AssumableAccount(models.Model):
    name = models.CharField(
        max_length=limits.ACCOUNT_NAME_MAX,
        help_text="Short name used in group names (<account>.<role>), e.g. prod.",
    )
    account_id = models.CharField(
        max_length=12,
        blank=True,
        validators=[limits.validate_account_id],
        help_text="12 digits. May stay empty after an import; the AWS engine resolves it.",
    )
    description = models.CharField(max_length=300, blank=True)
    profile = models.CharField(max_length=128, blank=True, help_text="Named AWS profile (as in the original tool).")
    role_arn = models.CharField(
        max_length=2048,
        blank=True,
        validators=[limits.validate_role_arn],
        help_text="Role assumed from the master session (the modern way).",
    )
    external_id = models.CharField(max_length=1224, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="account_name_unique_ci",
                violation_error_message="An account with this name already exists (names are compared without case).",
            ),
            models.UniqueConstraint(
                "account_id",
                condition=~models.Q(account_id=""),
                name="account_id_unique_when_set",
                violation_error_message="Another account already has this account id.",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        try:
            limits.validate_iam_name(self.name or "", kind="account", max_length=limits.ACCOUNT_NAME_MAX)
        except ValidationError as error:
            errors["name"] = error.messages
        if self.name and "." in self.name:
            errors.setdefault("name", []).append(
                "An account name cannot contain “.”: it separates account and role in group names."
            )
        if self.profile and self.role_arn:
            errors["role_arn"] = ["Give either a named profile or a role ARN, not both."]
        elif not self.profile and not self.role_arn:
            errors["profile"] = ["Give a named profile or a role ARN so the console can reach this account."]
        if self.external_id and not self.role_arn:
            errors["external_id"] = ["An external id is used only with a role ARN."]
        if self.external_id and not re.match(r"^[\w+=,.@:/-]{2,1224}$", self.external_id):
            errors["external_id"] = ["An external id is 2–1224 characters of letters, digits and + = , . @ : / -"]
        if errors:
            raise ValidationError(errors)

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "account_id": self.account_id,
            "description": self.description,
            "profile": self.profile,
            "role_arn": self.role_arn,
            "external_id": self.external_id,
            "enabled": self.enabled,
        }


class LiveStackRecord(models.Model):
    """An account's stack as the console last read it from AWS.

    It lets a plan skip GetTemplate when the stack has not changed since (same id, status and
    last-updated time), and it holds the physical names of the stack's roles: those the original
    tool created have names CloudFormation made up, which group policies must name exactly and the
    role page shows without calling AWS.
    """

    account = models.OneToOneField(AssumableAccount, on_delete=models.CASCADE, related_name="live_stack")
    stack_name = models.CharField(max_length=128)
    stack_id = models.CharField(max_length=2048)
    stack_status = models.CharField(max_length=64)
    # LastUpdatedTime as AWS gave it (CreationTime for a stack never updated), ISO 8601.
    last_updated = models.CharField(max_length=64, blank=True)
    template = models.JSONField(null=True, blank=True)
    role_names = models.JSONField(default=dict, blank=True)  # role logical id -> physical role name
    read_at = models.DateTimeField()

    def __str__(self):
        return f"stack {self.stack_name} of {self.account} as read at {self.read_at:%Y-%m-%d %H:%M}"

    def is_current(self, *, stack_name: str, stack_id: str, stack_status: str, last_updated: str) -> bool:
        """Whether a stack DescribeStacks shows now is the one recorded, unchanged since."""
        return (self.stack_name, self.stack_id, self.stack_status, self.last_updated) == (
            stack_name, stack_id, stack_status, last_updated
        )

    def _role_properties(self, logical_id: str) -> dict:
        resources = self.template.get("Resources") if isinstance(self.template, dict) else None
        resource = resources.get(logical_id) if isinstance(resources, dict) else None
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        return properties if isinstance(properties, dict) else {}

    def role_path(self, logical_id: str) -> str:
        """The path the recorded template gives one of its roles ("/", IAM's default, when it gives none)."""
        path = self._role_properties(logical_id).get("Path")
        return path if isinstance(path, str) and path else "/"

    def role_arn(self, logical_id: str) -> str:
        """The live ARN of one of the stack's roles ("" when the stack holds no such role): its physical
        name under the path the recorded template gives it."""
        physical = (self.role_names or {}).get(logical_id, "")
        if not physical:
            return ""
        path = self.role_path(logical_id)
        account_id = self.stack_id.split(":")[4] if self.stack_id.count(":") >= 5 else self.account.account_id
        return f"arn:aws:iam::{account_id}:role{path}{physical}"

    def names_given_by_cloudformation(self) -> dict:
        """Roles the recorded template creates without RoleName, and the names CloudFormation gave
        them: logical id -> physical name. Only these keep a name the console did not choose."""
        kept = {}
        for logical_id, physical in (self.role_names or {}).items():
            properties = self._role_properties(logical_id)
            if properties and "RoleName" not in properties and physical:
                kept[logical_id] = physical
        return kept
