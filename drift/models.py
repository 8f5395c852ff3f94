"""What a drift check saw: live AWS compared with the last applied and the desired state.

A check is a read-only job; each difference it finds is one finding, kept open (and its last sighting
moved) while later checks keep seeing it, and closed by the first check that no longer does.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q


class DriftCheck(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_by_name = models.CharField(max_length=150)  # a person, or "system:schedule"
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    api_calls = models.JSONField(default=dict, blank=True)  # {"total", "reads", "writes", "by_operation"}
    opened = models.PositiveIntegerField(default=0)  # findings this check saw for the first time
    closed = models.PositiveIntegerField(default=0)  # open findings this check no longer saw

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"drift check #{self.pk}"


class DriftFinding(models.Model):
    class Kind(models.TextChoices):
        MEMBER_ADDED = "member_added", "Member added by hand"
        MEMBER_REMOVED = "member_removed", "Member removed by hand"
        GROUP_POLICY = "group_policy", "Group policy edited"
        UNKNOWN_GROUP = "unknown_group", "Unknown /RoleModel/ group"
        STACK_CHANGED = "stack_changed", "Stack updated outside the console"
        STACK_DELETED = "stack_deleted", "Stack deleted outside the console"
        ROLE_INLINE_POLICY = "role_inline_policy", "Role inline policy differs"
        ROLE_MANAGED_POLICY = "role_managed_policy", "Role managed policy attached or detached"
        ROLE_TRUST_POLICY = "role_trust_policy", "Role trust policy differs"
        ROLE_BOUNDARY = "role_boundary", "Role permissions boundary differs"

    ROLE_KINDS = (Kind.ROLE_INLINE_POLICY, Kind.ROLE_MANAGED_POLICY, Kind.ROLE_TRUST_POLICY, Kind.ROLE_BOUNDARY)

    kind = models.CharField(max_length=30, choices=Kind.choices)
    # None for the master account's groups and members.
    account = models.ForeignKey("accounts.AssumableAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    account_name = models.CharField(max_length=128)  # kept for display after the account is gone; "master"
    target = models.CharField(max_length=512)  # the group, the stack, "role/policy"…, in AWS's own names
    # One finding per thing that differs: kind, account and target (and what in it), so a later check
    # finds the same open row again instead of opening a second one.
    key = models.CharField(max_length=700)
    detail = models.TextField()  # one sentence a person reads
    live = models.JSONField(null=True, blank=True)  # what AWS holds (None: absent)
    expected = models.JSONField(null=True, blank=True)  # what the console expects (None: absent)
    widens = models.BooleanField()  # True: more access than expected; False: less
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    first_check = models.ForeignKey(DriftCheck, on_delete=models.CASCADE, related_name="+")
    last_check = models.ForeignKey(DriftCheck, on_delete=models.CASCADE, related_name="+")
    # Adopted: the desired state took the live value; the next check no longer sees it and closes it.
    adopted_at = models.DateTimeField(null=True, blank=True)
    adopted_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["closed_at", "-widens", "-last_seen", "id"]  # open first (NULLs first on both engines? see selectors)
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(closed_at__isnull=True), name="drift_one_open_finding_per_key"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.account_name} {self.target}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class AppliedState(models.Model):
    """What the console last wrote to AWS: the desired state of the last plan whose apply succeeded.

    Written by the apply's master step when it succeeds (every account step succeeded before it), so
    a drift check can tell a change made behind the console's back (live differs from this and from
    the desired state) from a change still pending in the console (the desired state moved on).
    Only the latest row is read; older ones are history.
    """

    plan_id = models.PositiveBigIntegerField()  # plans sits above drift: the id, not a foreign key
    applied_at = models.DateTimeField()
    # group -> {"account", "policy_name", "policy", "members": [user, …]}
    groups = models.JSONField(default=dict)
    # account name -> the template applied (None: the stack was removed); disabled accounts keep their last entry
    templates = models.JSONField(default=dict)

    class Meta:
        ordering = ["-applied_at", "-id"]

    def __str__(self):
        return f"state applied by plan #{self.plan_id}"
