from django.conf import settings
from django.db import models


class Plan(models.Model):
    """The exact difference between the desired state and AWS, computed once and never edited."""

    class Kind(models.TextChoices):
        CONVERGE = "converge", "Converge"
        TEARDOWN = "teardown", "Teardown"

    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        NO_CHANGES = "no_changes", "No changes"
        BLOCKED = "blocked", "Blocked"
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"
        APPLY_FAILED = "apply_failed", "Apply failed"
        FAILED = "failed", "Planning failed"

    OPEN_STATUSES = (Status.PLANNING, Status.PENDING, Status.BLOCKED, Status.APPROVED)
    FINAL_STATUSES = (
        Status.NO_CHANGES,
        Status.REJECTED,
        Status.SUPERSEDED,
        Status.APPLIED,
        Status.APPLY_FAILED,
        Status.FAILED,
    )

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CONVERGE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNING, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    planned_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    desired_state = models.JSONField(default=dict, blank=True)
    editors = models.JSONField(default=list, blank=True)  # names, for display only
    # Who edited the desired state this plan carries, by user id: four eyes compare these, since a
    # name can be changed or imitated. System actors (no user) have no id and approve nothing.
    editor_ids = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)  # {"add", "change", "remove"}
    accounts = models.JSONField(default=list, blank=True)  # per account: action, change set, resources
    master = models.JSONField(default=dict, blank=True)  # groups, policies, members
    blocks = models.JSONField(default=list, blank=True)  # [{"message", "link"}]
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # Change sets made in AWS while planning, recorded as each is made: a plan whose worker dies
    # half way can still have them discarded. [{"name", "change_set_id", "created_stack"}]
    created_change_sets = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"plan #{self.pk}"

    @property
    def has_changes(self) -> bool:
        return any(self.summary.get(key) for key in ("add", "change", "remove"))

    @property
    def summary_line(self) -> str:
        if self.status == self.Status.PLANNING:
            return "Planning…"
        if self.status == self.Status.FAILED:
            return "Planning failed"
        add, change, remove = (self.summary.get(key, 0) for key in ("add", "change", "remove"))
        if not (add or change or remove):
            return "No changes. AWS matches the desired state."
        return f"{add} to add, {change} to change, {remove} to remove"


class Job(models.Model):
    """A background push. This row, not Celery's result backend, is the truth the pages show."""

    class Kind(models.TextChoices):
        PLAN = "plan", "Plan"
        APPLY = "apply", "Apply"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    TERMINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED)

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="jobs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    master_step_started = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one apply runs at a time, whatever the number of web processes and workers.
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(kind="apply", status__in=["queued", "running"]),
                name="one_active_apply",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display().lower()} job #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.TERMINAL_STATUSES

    def api_call_totals(self) -> dict:
        totals = {"total": 0, "reads": 0, "writes": 0, "retries": 0}
        for step in self.steps.all():
            calls = step.api_calls or {}
            totals["reads"] += calls.get("reads", 0)
            totals["writes"] += calls.get("writes", 0)
            totals["retries"] += calls.get("retries", 0)
        totals["total"] = totals["reads"] + totals["writes"]
        return totals


class JobStep(models.Model):
    """One account's part of a job, or the master account's."""

    MASTER = "(master)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED)

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="steps")
    target = models.CharField(max_length=150)  # account name, or MASTER
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    log = models.JSONField(default=list, blank=True)  # [{"at": iso, "message": str}]
    api_calls = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint("job", "target", name="one_step_per_target")]

    def __str__(self):
        return f"{self.job} {self.target}"

    @property
    def percent(self) -> int:
        if self.status in (self.Status.SUCCEEDED, self.Status.SKIPPED):
            return 100
        return int(100 * self.done / self.total) if self.total else 0
