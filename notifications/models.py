"""Who was told what: one row per message sent (or tried) to a person or to the webhook, and what each
person wants to hear by email.

A delivery row is the truth the deliveries page shows, as a job row is for a push to AWS: its status,
how many attempts were made and the last error. It never holds the webhook's secret nor its full URL
(which often carries a token): a webhook delivery names only the receiver's host.
"""
from django.conf import settings
from django.db import models


class Event(models.TextChoices):
    PLAN_WAITING_FOR_APPROVAL = "plan_waiting_for_approval", "Plan waiting for approval"
    PLAN_APPROVED = "plan_approved", "Plan approved"
    PLAN_REJECTED = "plan_rejected", "Plan rejected"
    APPLY_SUCCEEDED = "apply_succeeded", "Apply succeeded"
    APPLY_FAILED = "apply_failed", "Apply failed"
    WIDENING_DRIFT = "widening_drift", "New drift that widens access"
    MEMBERSHIP_EXPIRING = "membership_expiring", "Membership expiring within 3 days"


class Delivery(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    FINAL_STATUSES = (Status.SENT, Status.FAILED)

    class SubjectKind(models.TextChoices):
        PLAN = "plan", "Plan"
        DRIFT = "drift", "Drift check"
        MEMBERSHIP = "membership", "Membership"

    event = models.CharField(max_length=40, choices=Event.choices, db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # An email address (with recipient_user), or the webhook's scheme://host.
    recipient = models.CharField(max_length=320)
    recipient_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    subject_kind = models.CharField(max_length=20, choices=SubjectKind.choices)
    subject_id = models.CharField(max_length=64)
    summary = models.CharField(max_length=300)
    body = models.TextField(blank=True)  # the email's plain text
    payload = models.JSONField(null=True, blank=True)  # the webhook's JSON body
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"{self.get_event_display()} to {self.recipient} by {self.get_channel_display().lower()}"

    @property
    def subject_label(self) -> str:
        return f"{self.get_subject_kind_display().lower()} #{self.subject_id}"


class EmailPreference(models.Model):
    """The events a person wants by email. Without a row, every event addressed to them is sent."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email_events = models.JSONField(default=list, blank=True)  # Event values
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"email preferences of user #{self.user_id}"


class ExpiryNotice(models.Model):
    """A membership's coming expiry was announced: once per membership and expiry date."""

    membership = models.ForeignKey("memberships.Membership", on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint("membership", "expires_at", name="one_expiry_notice_per_expiry")]
