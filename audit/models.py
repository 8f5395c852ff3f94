from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One append-only line of history: who did what to which object, with before and after."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Removed"
        IMPORT = "import", "Imported"
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOGOUT = "logout", "Logged out"
        PLAN_REQUESTED = "plan_requested", "Requested"
        PLAN_COMPUTED = "plan_computed", "Computed"
        PLAN_FAILED = "plan_failed", "Failed to compute"
        PLAN_SUPERSEDED = "plan_superseded", "Superseded"
        PLAN_APPROVED = "plan_approved", "Approved"
        PLAN_REJECTED = "plan_rejected", "Rejected"
        APPLY_REQUESTED = "apply_requested", "Apply requested for"
        APPLY_SUCCEEDED = "apply_succeeded", "Applied"
        APPLY_FAILED = "apply_failed", "Failed to apply"
        CHAIN_RESEALED = "chain_resealed", "Resealed under the audit key"

    class ObjectType(models.TextChoices):
        # The values are the free text older releases wrote, so old rows read the same.
        ACCOUNT = "account", "Account"
        MASTER_ACCOUNT = "master account", "Master account"
        ROLE = "role", "Role"
        POLICY = "policy", "Inline policy"
        IAM_USER = "IAM user", "IAM user"
        MEMBERSHIP = "membership", "Membership"
        PLAN = "plan", "Plan"
        CONSOLE_USER = "console user", "Console user"
        IMPORT = "import", "Import"
        AUDIT_CHAIN = "audit_chain", "Audit chain"

    class Source(models.TextChoices):
        WEB = "web", "Web"
        CLI = "cli", "Command line"
        WORKER = "worker", "Worker"

    # Indexed with id in Meta.indexes: the list's order and its keyset cursor (audit/selectors.py).
    created_at = models.DateTimeField(default=timezone.now)
    # PROTECT, not SET_NULL: the chain covers actor_id, so who acted is kept; deactivate people instead.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    action = models.CharField(max_length=30, choices=Action.choices)
    object_type = models.CharField(max_length=50, choices=ObjectType.choices)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # The object this one belongs to, where there is one (a policy's role), so that an object's history
    # with its parts' is a query. Covered by the chain from version 3 on.
    parent_type = models.CharField(max_length=50, blank=True, choices=ObjectType.choices)
    parent_id = models.CharField(max_length=64, blank=True)
    # Tamper evidence: each row's hash covers its content and the previous row's hash (audit/chain.py).
    sequence = models.PositiveBigIntegerField(unique=True, null=True, editable=False)
    previous_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)
    # 1: the legacy unkeyed SHA-256 (rows written before the key existed); 2: HMAC over every column
    # before the parent columns came; 3: HMAC over every column (audit/chain.py).
    chain_version = models.PositiveSmallIntegerField(default=3, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The list reads newest first from a keyset cursor, alone or narrowed by type or action: each
        # of those has an index in that order, so a page costs the same at any depth and any size.
        # The text search's trigram indexes are PostgreSQL's only and made by migration 0009 alone.
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["actor_name"]),
                   models.Index(fields=["parent_type", "parent_id"]),
                   models.Index(fields=["created_at", "id"], name="audit_newest_idx"),
                   models.Index(fields=["object_type", "created_at", "id"], name="audit_type_newest_idx"),
                   models.Index(fields=["action", "created_at", "id"], name="audit_action_newest_idx")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    @property
    def changed_fields(self) -> list[str]:
        before, after = self.before or {}, self.after or {}
        if not isinstance(before, dict) or not isinstance(after, dict):
            return []
        return sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))


class AuditChainHead(models.Model):
    """The newest link of the audit chain. Writers lock this row, so links are made one at a time."""

    sequence = models.PositiveBigIntegerField(default=0)
    row_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="single_audit_chain_head")]


class AuditHeadPublication(models.Model):
    """A signed chain head that was published (audit/heads.py). Kept so the next head can name this
    one's digest; the copies that count are the ones published outside the database."""

    published_at = models.DateTimeField()
    last_id = models.BigIntegerField(null=True)
    last_sequence = models.PositiveBigIntegerField()
    last_hash = models.CharField(max_length=64)
    rows = models.PositiveBigIntegerField()
    previous_digest = models.CharField(max_length=64, blank=True)
    signature = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
