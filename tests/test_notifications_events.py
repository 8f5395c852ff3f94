"""Who hears about each event: recipients worked out from the console roles, their email preferences, and
never a deactivated person nor someone told of their own decision. The plan workflow records the events
(and carries on whatever notifications do)."""
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor
from notifications import services
from notifications.models import Delivery, EmailPreference, Event, ExpiryNotice
from notifications.tasks import notify_expiring_memberships_task
from plans import services as plan_services
from plans.models import Plan
from tests.factories import MembershipFactory, pending_plan

pytestmark = pytest.mark.django_db


def emailed(event: str) -> set[str]:
    return set(Delivery.objects.filter(event=event, channel=Delivery.Channel.EMAIL).values_list("recipient", flat=True))


def test_a_plan_waiting_for_approval_goes_to_the_approvers_who_may_approve_it(people):
    people.other_editor.groups.add(Group.objects.get(name="Approver"))  # erin edited the state the plan carries
    people.other_approver.is_active = False  # arthur left
    people.other_approver.save()
    services.plan_waiting_for_approval(plan_id=7, summary="1 to add, 0 to change, 0 to remove", requested_by="eddie",
                                       requester_id=people.editor.pk, editor_ids=[people.other_editor.pk])
    # Not the superuser either: a superuser cannot approve.
    assert emailed(Event.PLAN_WAITING_FOR_APPROVAL) == {"april@example.com"}
    delivery = Delivery.objects.get()
    assert (delivery.subject_kind, delivery.subject_id, delivery.status) == ("plan", "7", Delivery.Status.QUEUED)
    assert delivery.summary == "Plan #7 is waiting for approval"
    assert "http://console.test/plans/7/" in delivery.body and "1 to add" in delivery.body


def test_an_approval_goes_to_the_requester_and_a_rejection_carries_its_reason(people):
    plan = pending_plan(people.editor)
    plan_services.plan_approve(actor=Actor.from_user(people.approver), plan=plan, comment="fine")
    assert emailed(Event.PLAN_APPROVED) == {"eddie@example.com"}

    other = pending_plan(people.editor)
    plan_services.plan_reject(actor=Actor.from_user(people.approver), plan=other, comment="not on a Friday")
    rejection = Delivery.objects.get(event=Event.PLAN_REJECTED)
    assert rejection.recipient == "eddie@example.com" and "Reason: not on a Friday" in rejection.body
    assert rejection.summary == f"Plan #{other.pk} was rejected by april"


def test_nobody_is_emailed_about_their_own_decision(people):
    services.plan_rejected(plan_id=3, summary="s", decided_by="april", decided_by_id=people.approver.pk,
                           requester_id=people.approver.pk, comment="mine")
    assert not Delivery.objects.exists()


def test_an_apply_outcome_goes_to_the_requester_and_the_approver_never_to_a_deactivated_person(people):
    services.apply_finished(plan_id=4, summary="s", requester_id=people.editor.pk, approver_id=people.approver.pk)
    assert emailed(Event.APPLY_SUCCEEDED) == {"eddie@example.com", "april@example.com"}
    people.editor.is_active = False
    people.editor.save()
    services.apply_finished(plan_id=5, summary="s", requester_id=people.editor.pk, approver_id=people.approver.pk,
                            error="prod: AccessDenied")
    failed = Delivery.objects.get(event=Event.APPLY_FAILED)
    assert failed.recipient == "april@example.com" and "Error: prod: AccessDenied" in failed.body


def test_drift_that_widens_access_goes_to_the_admins_and_narrowing_drift_to_nobody(people):
    findings = [
        {"kind": "member_added", "account": "", "target": "prod.AdminRole", "detail": "mallory added by hand", "widens": True},
        {"kind": "member_removed", "account": "", "target": "prod.ReadOnly", "detail": "bob removed", "widens": False},
    ]
    services.new_widening_drift(12, findings)
    assert emailed(Event.WIDENING_DRIFT) == {"ada@example.com", "root@example.com"}  # Admins, and the superuser
    delivery = Delivery.objects.filter(event=Event.WIDENING_DRIFT).first()
    assert (delivery.subject_kind, delivery.subject_id) == ("drift", "12")
    assert "master: prod.AdminRole (member_added)" in delivery.body and "bob" not in delivery.body

    Delivery.objects.all().delete()
    assert services.new_widening_drift(13, findings[1:]) == [] and not Delivery.objects.exists()


def test_a_person_chooses_which_events_email_them(people):
    services.email_preferences_update(actor=Actor.from_user(people.approver), email_events=[Event.APPLY_FAILED])
    services.plan_waiting_for_approval(plan_id=8, summary="s", requested_by="eddie", requester_id=people.editor.pk)
    assert emailed(Event.PLAN_WAITING_FOR_APPROVAL) == {"arthur@example.com"}  # april unticked it; arthur did not
    row = AuditEvent.objects.get(action="update", object_type="console user", object_id=str(people.approver.pk))
    assert row.after == {"email_events": ["apply_failed"]} and row.before["email_events"] == list(Event.values)


def test_only_a_person_with_a_console_role_has_email_preferences(people):
    for actor in (Actor.from_user(people.nobody), Actor.system("system:test")):
        with pytest.raises(PermissionDenied):
            services.email_preferences_update(actor=actor, email_events=[])
    assert not EmailPreference.objects.exists()


def test_the_expiry_notices_run_hourly_on_the_beat_schedule(settings, people):
    entry = settings.CELERY_BEAT_SCHEDULE["notify-expiring-memberships"]
    assert (entry["task"], entry["schedule"]) == (notify_expiring_memberships_task.name, 3600)
    MembershipFactory(requested_by=people.editor, expires_at=timezone.now() + timedelta(hours=5))
    assert notify_expiring_memberships_task() == 1


def test_someone_without_an_email_address_is_recorded_as_not_reached(people):
    people.approver.email = ""
    people.approver.save()
    services.plan_approved(plan_id=9, summary="s", decided_by="arthur", decided_by_id=people.other_approver.pk,
                           requester_id=people.approver.pk)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.last_error == "This console user has no email address."


def test_a_membership_expiring_within_three_days_is_announced_once_to_who_granted_it(people):
    now = timezone.now()
    soon = MembershipFactory(requested_by=people.editor, expires_at=now + timedelta(days=2))
    MembershipFactory(requested_by=people.editor, expires_at=now + timedelta(days=4))  # not yet
    MembershipFactory(requested_by=people.editor, expires_at=now - timedelta(minutes=1))  # already over
    assert services.notify_expiring_memberships(now=now) == 1
    assert services.notify_expiring_memberships(now=now + timedelta(hours=1)) == 0
    delivery = Delivery.objects.get()
    assert delivery.recipient == "eddie@example.com" and delivery.subject_id == str(soon.pk)
    assert f"{soon.iam_user.user_name}'s access to {soon.group_name} expires" in delivery.summary

    soon.expires_at = now + timedelta(days=1)  # a new expiry is announced again
    soon.save()
    assert services.notify_expiring_memberships(now=now) == 1
    assert ExpiryNotice.objects.count() == 2


def test_a_failure_while_recording_never_fails_the_workflow(people, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(services.recipients, "active_users", broken)
    plan = pending_plan(people.editor)
    plan_services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPROVED
    assert "could not record the notifications of plan_approved" in caplog.text
    assert not Delivery.objects.exists()


def test_the_webhook_gets_one_delivery_per_event_naming_only_its_host(people, settings):
    settings.ROLEMODEL_WEBHOOK_URL = "https://hooks.example.com/services/T000/B000/secret-token"
    services.plan_approved(plan_id=10, summary="2 to add, 0 to change, 0 to remove", decided_by="april",
                           decided_by_id=people.approver.pk, requester_id=people.editor.pk)
    webhook = Delivery.objects.get(channel=Delivery.Channel.WEBHOOK)
    assert webhook.recipient == "https://hooks.example.com" and webhook.recipient_user is None
    assert webhook.payload == {
        "event": "plan_approved", "plan": 10, "summary": "2 to add, 0 to change, 0 to remove",
        "url": "http://console.test/plans/10/",
        "text": "Plan #10 was approved by april: 2 to add, 0 to change, 0 to remove <http://console.test/plans/10/>",
    }
    services.new_widening_drift(11, [{"kind": "inline_policy", "account": "prod", "target": "<Admin> & co",
                                      "detail": "", "widens": True}])
    text = Delivery.objects.get(channel=Delivery.Channel.WEBHOOK, subject_kind="drift").payload["text"]
    assert "prod: &lt;Admin&gt; &amp; co (inline_policy)" in text  # Slack reads <…> as a link


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ROLEMODEL_BASE_URL = "http://console.test"
    settings.ROLEMODEL_WEBHOOK_URL = ""
    settings.ROLEMODEL_WEBHOOK_SECRET = "s3cret-for-tests"
