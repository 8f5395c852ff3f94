"""Telling the right people what needs them: one function per event, called by the code whose status
change it is (plans, drift, the expiry schedule) with plain data — ids, a summary, who is involved.

Each function records one Delivery per email (for every addressed person who wants that event by email,
see :func:`wants_email`) and one for the webhook when ``ROLEMODEL_WEBHOOK_URL`` is set, and queues their
sending after the caller's transaction commits. Sending happens in the worker
(:func:`notifications.delivery.attempt`), so a receiver that is slow or down never holds up the workflow,
and neither does a broker that cannot be reached (the deliveries are then recorded failed) nor a bug here
(logged; the caller's change stands).

Nobody is emailed about what they did themselves: an approval or a rejection goes to the requester, never
to the person who decided; a plan waiting for approval goes only to the Approvers who may approve it (not
its requester nor those whose edits it carries). An apply's outcome is the worker's, so it goes to both the
requester and the approver.
"""
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import KombuError

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from core import webhooks
from core.permissions import check_actor, has_capability
from memberships.models import Membership
from notifications import recipients
from notifications.models import Delivery, EmailPreference, Event, ExpiryNotice

logger = logging.getLogger(__name__)

EXPIRY_NOTICE_DAYS = 3
# Which events each console role can be addressed (the preferences page offers these).
EVENTS_FOR_CAPABILITY = {
    "approve": (Event.PLAN_WAITING_FOR_APPROVAL, Event.APPLY_SUCCEEDED, Event.APPLY_FAILED),
    "edit": (Event.PLAN_APPROVED, Event.PLAN_REJECTED, Event.APPLY_SUCCEEDED, Event.APPLY_FAILED,
             Event.MEMBERSHIP_EXPIRING),
    "manage_users": (Event.WIDENING_DRIFT,),
}
NOT_QUEUED = "Not sent: the task queue (broker) could not be reached ({error})."


@dataclass(frozen=True)
class Message:
    """One event, worded once for every channel."""

    event: str
    subject_kind: str
    subject_id: int | str
    headline: str  # one line: the email's subject, the start of the webhook's text
    summary: str  # what it is about, in a few words
    url: str
    details: str = ""  # more lines for the email

    def email_body(self) -> str:
        lines = [self.headline, "", self.summary]
        if self.details:
            lines += ["", self.details]
        lines += ["", f"Open it: {self.url}", "",
                  f"Choose which events email you: {absolute_url(reverse('notifications:preferences'))}"]
        return "\n".join(lines) + "\n"

    def webhook_payload(self) -> dict:
        return {"event": self.event, self.subject_kind: self.subject_id, "summary": self.summary, "url": self.url,
                "text": f"{_slack_escaped(self.headline)}: {_slack_escaped(self.summary)} <{self.url}>"}


def _slack_escaped(text: str) -> str:
    """Slack's message formatting gives &, < and > a meaning (links, mentions); a name holding them stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _never_fails_the_caller(record: Callable) -> Callable:
    """Run in a savepoint; an error is logged and swallowed, so the caller's own change always stands."""

    @wraps(record)
    def guarded(*args, **kwargs):
        try:
            with transaction.atomic():
                return record(*args, **kwargs)
        except Exception:  # noqa: BLE001 - telling people must never undo what they are told about
            logger.exception("could not record the notifications of %s", record.__name__)
            return []

    return guarded


def absolute_url(path: str) -> str:
    return settings.ROLEMODEL_BASE_URL.rstrip("/") + path


def _plan_url(plan_id: int) -> str:
    return absolute_url(reverse("plans:detail", kwargs={"pk": plan_id}))


# --- the events ------------------------------------------------------------------------------


@_never_fails_the_caller
def plan_waiting_for_approval(*, plan_id: int, summary: str, requested_by: str, requester_id: int | None,
                              editor_ids: Iterable[int] = ()) -> list[Delivery]:
    """A plan with changes was computed and waits for a second pair of eyes: to the Approvers who may approve it."""
    message = Message(Event.PLAN_WAITING_FOR_APPROVAL, "plan", plan_id,
                      headline=f"Plan #{plan_id} is waiting for approval", summary=summary, url=_plan_url(plan_id),
                      details=f"Requested by {requested_by}.")
    return _record(message, recipients.approvers_of_plan(requester_id=requester_id, editor_ids=editor_ids))


@_never_fails_the_caller
def plan_approved(*, plan_id: int, summary: str, decided_by: str, decided_by_id: int | None,
                  requester_id: int | None, comment: str = "") -> list[Delivery]:
    """To the person who requested the plan."""
    message = Message(Event.PLAN_APPROVED, "plan", plan_id, headline=f"Plan #{plan_id} was approved by {decided_by}",
                      summary=summary, url=_plan_url(plan_id), details=f"Comment: {comment}" if comment else "")
    return _record(message, _others(requester_id, actor_id=decided_by_id))


@_never_fails_the_caller
def plan_rejected(*, plan_id: int, summary: str, decided_by: str, decided_by_id: int | None,
                  requester_id: int | None, comment: str) -> list[Delivery]:
    """To the person who requested the plan, with the reason."""
    message = Message(Event.PLAN_REJECTED, "plan", plan_id, headline=f"Plan #{plan_id} was rejected by {decided_by}",
                      summary=summary, url=_plan_url(plan_id), details=f"Reason: {comment}")
    return _record(message, _others(requester_id, actor_id=decided_by_id))


@_never_fails_the_caller
def apply_finished(*, plan_id: int, summary: str, requester_id: int | None, approver_id: int | None,
                   error: str = "") -> list[Delivery]:
    """The apply of a plan succeeded, or failed with ``error``: to its requester and its approver."""
    if error:
        message = Message(Event.APPLY_FAILED, "plan", plan_id, headline=f"The apply of plan #{plan_id} failed",
                          summary=summary, url=_plan_url(plan_id), details=f"Error: {error}")
    else:
        message = Message(Event.APPLY_SUCCEEDED, "plan", plan_id, headline=f"Plan #{plan_id} was applied",
                          summary=summary, url=_plan_url(plan_id))
    return _record(message, recipients.active_users([requester_id, approver_id]))


@_never_fails_the_caller
def new_widening_drift(check_id: int, findings: list[dict]) -> list[Delivery]:
    """A drift check found differences never seen before; those that widen access go to the Admins.

    ``findings``: ``[{"kind", "account", "target", "detail", "widens"}]``, the new findings of the check.
    """
    widening = [finding for finding in findings if finding.get("widens")]
    if not widening:
        return []
    listed = [f"{finding.get('account') or 'master'}: {finding.get('target', '')} ({finding.get('kind', '')})"
              for finding in widening]
    shown = "; ".join(listed[:3]) + (f"; and {len(listed) - 3} more" if len(listed) > 3 else "")
    count = f"{len(widening)} new finding{'s' if len(widening) != 1 else ''}"
    message = Message(Event.WIDENING_DRIFT, "drift", check_id, headline=f"Drift that widens access: {count}",
                      summary=shown,
                      url=absolute_url(reverse("drift:page")),
                      details="\n".join(f"- {line}: {finding.get('detail', '')}" for line, finding in zip(listed, widening)))
    return _record(message, recipients.admins())


@_never_fails_the_caller
def membership_expiring(*, membership_id: int, group: str, user_name: str, expires_at, granted_by_id: int | None
                        ) -> list[Delivery]:
    """A membership ends within three days: to the person who granted it."""
    when = timezone.localtime(expires_at).strftime("%Y-%m-%d %H:%M %Z")
    message = Message(Event.MEMBERSHIP_EXPIRING, "membership", membership_id,
                      headline=f"{user_name}'s access to {group} expires {when}",
                      summary=f"{user_name} in {group} until {when}",
                      url=absolute_url(reverse("memberships:list")),
                      details="Grant it again with a new expiry if the access is still needed.")
    return _record(message, recipients.active_users([granted_by_id]))


def notify_expiring_memberships(*, now=None) -> int:
    """Announce every membership that expires within three days to the person who granted it, once per
    membership and expiry date (an :class:`ExpiryNotice` remembers it). Returns how many were announced."""
    now = now or timezone.now()
    due = (Membership.objects.filter(expires_at__gt=now, expires_at__lte=now + timedelta(days=EXPIRY_NOTICE_DAYS))
           .select_related("iam_user", "account", "role").order_by("expires_at", "pk"))
    announced = 0
    for membership in due:
        try:
            with transaction.atomic():
                ExpiryNotice.objects.create(membership=membership, expires_at=membership.expires_at)
                membership_expiring(membership_id=membership.pk, group=membership.group_name,
                                    user_name=membership.iam_user.user_name, expires_at=membership.expires_at,
                                    granted_by_id=membership.requested_by_id)
        except IntegrityError:
            continue  # announced before (or by another beat at the same moment)
        announced += 1
    return announced


# --- preferences -----------------------------------------------------------------------------


def events_for(user) -> list[str]:
    """The events that may be addressed to ``user``, given their console roles."""
    offered = {event for capability, events in EVENTS_FOR_CAPABILITY.items() if has_capability(user, capability)
               for event in events}
    return [event for event in Event.values if event in offered]


def email_events_of(user) -> list[str]:
    """The events ``user`` gets by email: every event addressed to them unless they chose otherwise."""
    preference = EmailPreference.objects.filter(user=user).first()
    return list(preference.email_events) if preference is not None else list(Event.values)


def wants_email(users: list, event: str) -> list:
    chosen = dict(EmailPreference.objects.filter(user__in=users).values_list("user_id", "email_events"))
    return [user for user in users if user.pk not in chosen or event in chosen[user.pk]]


@transaction.atomic
def email_preferences_update(*, actor: Actor, email_events: Iterable[str]) -> EmailPreference:
    """A person chooses which events email them (their own preference only; audited as a change of their console user)."""
    check_actor(actor, "view")
    if actor.user is None:
        raise PermissionDenied("Email preferences belong to a console user; a system actor has none.")
    chosen = [event for event in Event.values if event in set(email_events)]
    before = email_events_of(actor.user)
    preference, _ = EmailPreference.objects.update_or_create(user=actor.user, defaults={"email_events": chosen})
    if before != chosen:
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, object_type=AuditEvent.ObjectType.CONSOLE_USER,
                     obj=actor.user, before={"email_events": before}, after={"email_events": chosen},
                     reason="Email notification preferences")
    return preference


# --- recording and queueing ------------------------------------------------------------------


def _others(user_id: int | None, *, actor_id: int | None) -> list:
    return recipients.active_users([user_id] if user_id != actor_id else [])


def _record(message: Message, people: list) -> list[Delivery]:
    deliveries = []
    for person in wants_email(people, message.event):
        delivery = Delivery(event=message.event, channel=Delivery.Channel.EMAIL,
                            recipient=person.email or person.get_username(), recipient_user=person, subject_kind=message.subject_kind, subject_id=str(message.subject_id),
                            summary=message.headline[:300], body=message.email_body())
        if not person.email:
            delivery.status, delivery.last_error = Delivery.Status.FAILED, "This console user has no email address."
        deliveries.append(delivery)
    url = settings.ROLEMODEL_WEBHOOK_URL
    if url:
        delivery = Delivery(event=message.event, channel=Delivery.Channel.WEBHOOK, recipient=webhooks.shown_url(url),
                            subject_kind=message.subject_kind, subject_id=str(message.subject_id),
                            summary=message.headline[:300], payload=message.webhook_payload())
        problem = webhook_setting_problem()
        if problem:
            delivery.status, delivery.last_error = Delivery.Status.FAILED, f"Not sent: {problem}"
        deliveries.append(delivery)
    for delivery in deliveries:
        delivery.save()
    queued = [delivery.pk for delivery in deliveries if delivery.status == Delivery.Status.QUEUED]
    if queued:
        transaction.on_commit(lambda: queue_deliveries(queued))
    return deliveries


def webhook_setting_problem() -> str:
    """What is wrong with the webhook settings, or "" (also when no webhook is configured)."""
    url = settings.ROLEMODEL_WEBHOOK_URL
    if not url:
        return ""
    problem = webhooks.url_problem(url, setting="ROLEMODEL_WEBHOOK_URL")
    if problem:
        return problem
    if not settings.ROLEMODEL_WEBHOOK_SECRET:
        return "ROLEMODEL_WEBHOOK_SECRET is not set; webhook bodies are always signed."
    return ""


def queue_deliveries(delivery_ids: list[int]) -> None:
    """Hand deliveries to the worker (after commit). A broker that cannot be reached fails them with the reason."""
    from notifications.tasks import deliver_notification_task

    for position, delivery_id in enumerate(delivery_ids):
        try:
            deliver_notification_task.delay(delivery_id)
        except (KombuError, OSError) as error:
            logger.warning("could not queue notification deliveries %s: %s", delivery_ids[position:], error)
            Delivery.objects.filter(pk__in=delivery_ids[position:], status=Delivery.Status.QUEUED).update(
                status=Delivery.Status.FAILED, last_error=NOT_QUEUED.format(error=f"{error.__class__.__name__}: {error}"),
                updated_at=timezone.now())
            return


def webhook_body(payload: dict) -> bytes:
    """The exact bytes POSTed, and signed: compact JSON with sorted keys."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
