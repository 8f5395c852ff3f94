from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core import limits


class IAMUser(models.Model):
    """An IAM user of the master account. The console grants access; it never creates IAM users."""

    user_name = models.CharField(max_length=limits.USER_NAME_MAX)
    display_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_name"]
        verbose_name = "IAM user"
        constraints = [
            models.UniqueConstraint(
                Lower("user_name"),
                name="iam_user_name_unique_ci",
                violation_error_message="An IAM user with this name is already known (names are compared without case).",
            )
        ]

    def __str__(self):
        return self.user_name

    def clean(self):
        try:
            limits.validate_iam_name(self.user_name or "", kind="user", max_length=limits.USER_NAME_MAX)
        except ValidationError as error:
            raise ValidationError({"user_name": error.messages}) from None

    def snapshot(self) -> dict:
        return {"user_name": self.user_name, "display_name": self.display_name, "email": self.email}


class Membership(models.Model):
    """One grant of one (account, role) group of the master account to one IAM user.

    A person may hold several grants of the same group (say a permanent one and an on-call one that
    expires, each with its own reason and audit rows): they are in the group while any of them is live,
    so access ends when the last one ends. Limits count groups, not grants.
    """

    iam_user = models.ForeignKey(IAMUser, on_delete=models.PROTECT, related_name="memberships")
    account = models.ForeignKey("accounts.AssumableAccount", on_delete=models.PROTECT, related_name="memberships")
    role = models.ForeignKey("roles.RoleDefinition", on_delete=models.PROTECT, related_name="memberships")
    reason = models.CharField(max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account__name", "role__logical_name", "iam_user__user_name"]
        indexes = [
            models.Index(fields=["account", "role"]),
            models.Index(fields=["expires_at"]),
            models.Index(fields=["iam_user", "account", "role"], name="membership_grants_of_group"),
        ]

    def __str__(self):
        return f"{self.iam_user.user_name} in {self.group_name}"

    @property
    def group_name(self) -> str:
        return limits.group_name(self.account.name, self.role.logical_name)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def snapshot(self) -> dict:
        return {
            "user": self.iam_user.user_name,
            "account": self.account.name,
            "role": self.role.logical_name,
            "group": self.group_name,
            "reason": self.reason,
            "requested_by": self.requested_by_name,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }
