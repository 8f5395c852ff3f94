"""The plan, its jobs and their steps. Every change of status is a method here: one conditional UPDATE
that names the statuses it may leave and returns whether it won, so two processes racing for one row
(two approvers, a worker and the reaper, a planner superseding a plan being applied) cannot both win.
The methods write only their own row; the services around them audit and queue what follows.
"""
from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils import timezone


def _transition(instance: models.Model, *, leaving, **fields) -> bool:
    """UPDATE the row only while its status is one of ``leaving``; on success copy ``fields`` (those that
    are plain values) onto the instance too. Returns whether this call changed the row."""
    changed = type(instance).objects.filter(pk=instance.pk, status__in=tuple(leaving)).update(**fields)
    if changed:
        for name, value in fields.items():
            if not hasattr(value, "resolve_expression"):
                setattr(instance, name, value)
    return bool(changed)


class Plan(models.Model):
    """The exact difference between the desired state and AWS, computed once and never edited."""

    class Kind(models.TextChoices):
        CONVERGE = "converge", "Converge"
        TEARDOWN = "teardown", "Teardown"
        # Only removes members from /RoleModel/ groups (plans.revocation): an expiry or an offboarding.
        REVOCATION = "revocation", "Revocation"

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

    # The one meaning of "open": not final, something may still happen to the plan (the dashboard's list).
    OPEN_STATUSES = (Status.PLANNING, Status.PENDING, Status.BLOCKED, Status.APPROVED, Status.APPLYING)
    FINAL_STATUSES = (
        Status.NO_CHANGES,
        Status.REJECTED,
        Status.SUPERSEDED,
        Status.APPLIED,
        Status.APPLY_FAILED,
        Status.FAILED,
    )
    # The open plans a newer plan makes stale: planned, not yet being applied. A plan that is planning
    # finishes on its own; one applying must run to its end, its change sets in use.
    SUPERSEDABLE_STATUSES = (Status.PENDING, Status.BLOCKED, Status.APPROVED)
    REJECTABLE_STATUSES = (Status.PENDING, Status.BLOCKED)

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

    # State transitions. Each returns whether it won; the caller decides what losing means.

    def finish_planning(self, *, status: str, **fields) -> bool:
        """planning → pending, blocked or no changes, with what was planned."""
        return _transition(self, leaving=(self.Status.PLANNING,), status=status, planned_at=timezone.now(), **fields)

    def fail_planning(self, *, reason: str, now=None, **fields) -> bool:
        """planning → planning failed (by the planner, the reaper, or a broker that was away)."""
        return _transition(self, leaving=(self.Status.PLANNING,), status=self.Status.FAILED, error=reason,
                           planned_at=now or timezone.now(), **fields)

    def approve(self, *, user, name: str, comment: str = "") -> bool:
        return _transition(self, leaving=(self.Status.PENDING,), status=self.Status.APPROVED, decided_by=user,
                           decided_by_name=name, decided_at=timezone.now(), decision_comment=comment)

    def reject(self, *, user, name: str, comment: str) -> bool:
        return _transition(self, leaving=self.REJECTABLE_STATUSES, status=self.Status.REJECTED, decided_by=user,
                           decided_by_name=name, decided_at=timezone.now(), decision_comment=comment)

    def supersede(self) -> bool:
        """A newer plan was made: only a plan still waiting (not one that started applying) is superseded."""
        return _transition(self, leaving=self.SUPERSEDABLE_STATUSES, status=self.Status.SUPERSEDED)

    def start_applying(self) -> bool:
        """approved → applying: a double click, or two people at once, lose here."""
        return _transition(self, leaving=(self.Status.APPROVED,), status=self.Status.APPLYING)

    def finish_applying(self, *, error: str = "") -> bool:
        """applying → applied, or apply failed when ``error``."""
        return _transition(self, leaving=(self.Status.APPLYING,),
                           status=self.Status.APPLY_FAILED if error else self.Status.APPLIED)

    def apply_not_started(self) -> bool:
        """applying → approved: the apply's tasks never reached the worker, nothing changed in AWS."""
        return _transition(self, leaving=(self.Status.APPLYING,), status=self.Status.APPROVED)


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
    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

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

    # State transitions, after NetBox's Job.start() / Job.terminate(): conditional, returning whether they won.

    def start(self) -> bool:
        """queued → running; False if another delivery already took it."""
        now = timezone.now()
        started = _transition(self, leaving=(self.Status.QUEUED,), status=self.Status.RUNNING, started_at=now,
                              heartbeat_at=now)
        return started

    def finish(self, *, error: str = "") -> bool:
        """Record the outcome; False when the job had already ended (e.g. declared abandoned)."""
        return _transition(self, leaving=self.ACTIVE_STATUSES, status=self.Status.FAILED if error else self.Status.SUCCEEDED,
                           finished_at=timezone.now(), error=error)

    def fail_not_started(self, *, reason: str) -> bool:
        """queued → failed, its steps skipped: its tasks never reached a worker. One a worker already took runs on."""
        now = timezone.now()
        if not _transition(self, leaving=(self.Status.QUEUED,), status=self.Status.FAILED, finished_at=now, error=reason):
            return False
        self.steps.filter(status__in=JobStep.UNFINISHED_STATUSES).update(
            status=JobStep.Status.SKIPPED, finished_at=now, error="Not started."
        )
        return True

    def abandon(self, *, reason: str, now, still_stale: models.Q) -> bool:
        """Declared abandoned by the reaper: failed, unless a beat or a finish came in since it looked
        (``still_stale``). Its running steps fail with the reason, its pending ones are skipped."""
        if not Job.objects.filter(still_stale, pk=self.pk, status__in=self.ACTIVE_STATUSES).update(
            status=self.Status.FAILED, finished_at=now, error=reason
        ):
            return False
        self.status, self.finished_at, self.error = self.Status.FAILED, now, reason
        self.steps.filter(status=JobStep.Status.RUNNING).update(status=JobStep.Status.FAILED, finished_at=now, error=reason)
        self.steps.filter(status=JobStep.Status.PENDING).update(
            status=JobStep.Status.SKIPPED, finished_at=now, error="Not started: the job was abandoned."
        )
        return True

    def beat(self) -> bool:
        """Note that the worker is alive; False unless the job is running."""
        return bool(Job.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(heartbeat_at=timezone.now()))

    def claim_master_step(self, *, unfinished_accounts) -> bool:
        """Exactly one caller (the last account step to finish) wins the right to send the master step."""
        return bool(Job.objects.filter(pk=self.pk, master_step_started=False).exclude(unfinished_accounts)
                    .update(master_step_started=True))


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
    UNFINISHED_STATUSES = (Status.PENDING, Status.RUNNING)

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

    # State transitions: a repeated delivery, or a worker back after its job was reaped, changes nothing.

    def start(self, *, total: int) -> bool:
        """Mark a step running; False when it has already finished (a repeated delivery)."""
        return _transition(self, leaving=self.UNFINISHED_STATUSES, status=self.Status.RUNNING, started_at=timezone.now(),
                           total=total, done=0)

    def finish(self, *, error: str = "", status: str | None = None, api_calls: dict | None = None) -> bool:
        """Succeeded, failed (with ``error``) or ``status`` (skipped), with the calls it made."""
        final = status or (self.Status.FAILED if error else self.Status.SUCCEEDED)
        fields = {"status": final, "finished_at": timezone.now(), "error": error}
        if api_calls is not None:
            fields["api_calls"] = api_calls
        if final == self.Status.SUCCEEDED:
            fields["done"] = F("total")
        return _transition(self, leaving=self.UNFINISHED_STATUSES, **fields)
