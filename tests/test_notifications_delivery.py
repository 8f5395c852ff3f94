"""Sending a delivery: email through Django's backend, the webhook signed, failures retried with back-off
and then recorded failed; the webhook's secret and URL token never stored nor logged; a bad setting said
clearly; a broker that is away fails the delivery, never the workflow."""
import hashlib
import hmac
import logging
import socket

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from audit.services import Actor
from notifications import delivery, services
from notifications.models import Delivery
from notifications.tasks import deliver_notification_task
from plans import services as plan_services
from plans.models import Plan
from tests.factories import pending_plan
from tests.test_faults_requests import celery_sends_to
from tests.webhook_receiver import WebhookReceiver

SECRET = "whsec-do-not-leak-7f3a"
TOKEN = "token-do-not-leak-91b2"


@pytest.fixture
def receiver(settings):
    started = WebhookReceiver().start()
    settings.ROLEMODEL_WEBHOOK_URL = f"{started.url}/hooks/{TOKEN}"
    settings.ROLEMODEL_WEBHOOK_SECRET = SECRET
    settings.ROLEMODEL_BASE_URL = "http://console.test"
    yield started
    started.stop()


def approved_event(people) -> list[Delivery]:
    return services.plan_approved(plan_id=21, summary="1 to add, 0 to change, 0 to remove", decided_by="april",
                                  decided_by_id=people.approver.pk, requester_id=people.editor.pk)


def by_channel(deliveries, channel) -> Delivery:
    return next(d for d in deliveries if d.channel == channel)


@pytest.mark.django_db
def test_an_email_is_sent_through_django_and_the_webhook_gets_a_signed_body(people, receiver):
    deliveries = approved_event(people)
    for recorded in deliveries:
        deliver_notification_task.apply(args=(recorded.pk,))

    assert [message.to for message in mail.outbox] == [["eddie@example.com"]]
    assert mail.outbox[0].subject == "Plan #21 was approved by april"
    assert "Open it: http://console.test/plans/21/" in mail.outbox[0].body
    [request] = receiver.received
    assert request.path == f"/hooks/{TOKEN}" and request.signed_with(SECRET)
    assert request.headers["Content-Type"] == "application/json" and request.headers["X-Rolemodel-Event"] == "plan_approved"
    assert request.payload == by_channel(deliveries, Delivery.Channel.WEBHOOK).payload
    assert set(request.payload) == {"event", "plan", "summary", "url", "text"}
    assert request.payload["text"].startswith("Plan #21 was approved by april: 1 to add")
    for recorded in Delivery.objects.all():
        assert (recorded.status, recorded.attempts, recorded.last_error) == (Delivery.Status.SENT, 1, "")
        assert recorded.sent_at is not None


def test_the_signature_is_the_hmac_sha256_of_the_exact_body():
    body = b'{"event":"plan_approved","plan":1}'
    assert delivery.signature(body, secret="key") == "sha256=" + hmac.new(b"key", body, hashlib.sha256).hexdigest()
    assert delivery.signature(body + b" ", secret="key") != delivery.signature(body, secret="key")


def test_the_back_off_doubles_up_to_an_hour(settings):
    settings.ROLEMODEL_NOTIFY_BACKOFF_SECONDS = 30
    assert [delivery.backoff_seconds(n) for n in range(4)] == [30, 60, 120, 240]
    assert delivery.backoff_seconds(20) == 3600


@pytest.mark.django_db
def test_a_receiver_that_fails_is_retried_then_the_delivery_is_failed_with_the_reason(people, receiver, settings, caplog):
    settings.ROLEMODEL_NOTIFY_MAX_RETRIES = 2
    receiver.answer = 500
    caplog.set_level(logging.DEBUG)
    webhook = by_channel(approved_event(people), Delivery.Channel.WEBHOOK)

    assert delivery.attempt(delivery_id=webhook.pk, retries_so_far=0) is True  # try again later
    webhook.refresh_from_db()
    assert (webhook.status, webhook.attempts) == (Delivery.Status.QUEUED, 1)
    assert webhook.last_error == "http://127.0.0.1 answered 500"

    deliver_notification_task.apply(args=(webhook.pk,))  # eager: its retries run at once
    webhook.refresh_from_db()
    assert len(receiver.received) == 1 + 3  # the first attempt above, then the task's first try and 2 retries
    assert (webhook.status, webhook.attempts) == (Delivery.Status.FAILED, 4)
    assert webhook.last_error == "Gave up after 3 attempts: http://127.0.0.1 answered 500"
    assert all(request.signed_with(SECRET) for request in receiver.received)

    deliver_notification_task.apply(args=(webhook.pk,))  # a repeated message changes nothing
    assert len(receiver.received) == 4

    _assert_nowhere(SECRET, caplog)
    _assert_nowhere(TOKEN, caplog)


def _assert_nowhere(secret: str, caplog) -> None:
    assert secret not in caplog.text
    with connection.cursor() as cursor:
        for table in ("notifications_delivery", "notifications_emailpreference", "notifications_expirynotice"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            assert secret not in repr(cursor.fetchall()), table


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_an_unreachable_receiver_is_a_failure_to_retry_naming_only_the_host(people, settings):
    settings.ROLEMODEL_WEBHOOK_URL = f"http://127.0.0.1:{_closed_port()}/hooks/{TOKEN}"
    settings.ROLEMODEL_WEBHOOK_SECRET = SECRET
    webhook = by_channel(approved_event(people), Delivery.Channel.WEBHOOK)
    assert delivery.attempt(delivery_id=webhook.pk, retries_so_far=0) is True
    webhook.refresh_from_db()
    assert webhook.last_error.startswith("http://127.0.0.1 could not be reached") and TOKEN not in webhook.last_error


@pytest.mark.django_db
@pytest.mark.parametrize("url, secret, message", [
    ("ftp://hooks.example.com/x", SECRET, "ROLEMODEL_WEBHOOK_URL must be an http(s) URL (it starts ftp:)."),
    ("http://hooks.example.com:port/x", SECRET, "ROLEMODEL_WEBHOOK_URL is not a valid URL."),
    ("https://hooks.example.com/x", "", "ROLEMODEL_WEBHOOK_SECRET is not set; webhook bodies are always signed."),
], ids=["not http", "bad port", "no secret"])
def test_a_bad_webhook_setting_is_said_at_start_on_the_page_and_on_each_delivery(
        people, settings, client_for, capsys, url, secret, message):
    settings.ROLEMODEL_WEBHOOK_URL, settings.ROLEMODEL_WEBHOOK_SECRET = url, secret
    call_command("check")
    assert message in capsys.readouterr().err
    webhook = by_channel(approved_event(people), Delivery.Channel.WEBHOOK)
    assert (webhook.status, webhook.last_error) == (Delivery.Status.FAILED, f"Not sent: {message}")
    page = client_for(people.admin).get("/notifications/deliveries/").content.decode()
    assert f"The webhook cannot be used: {message}" in page


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_away_fails_the_deliveries_and_never_the_approval(people, settings, monkeypatch):
    settings.ROLEMODEL_WEBHOOK_URL = ""
    plan = pending_plan(people.editor)
    with celery_sends_to(f"redis://127.0.0.1:{_closed_port()}/0", monkeypatch):
        plan_services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPROVED
    recorded = Delivery.objects.get()
    assert recorded.status == Delivery.Status.FAILED
    assert recorded.last_error.startswith("Not sent: the task queue (broker) could not be reached")


@pytest.mark.django_db
def test_a_mail_server_that_cannot_be_reached_is_retried_like_a_webhook(people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    settings.ROLEMODEL_WEBHOOK_URL = ""
    email = by_channel(approved_event(people), Delivery.Channel.EMAIL)
    assert delivery.attempt(delivery_id=email.pk, retries_so_far=0) is True
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Delivery.Status.QUEUED, 1) and "refused" in email.last_error.lower()
