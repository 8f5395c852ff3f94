"""Login throttling (django-axes) and an audit row for every sign-in, failed sign-in and sign-out."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from audit.chain import verify_chain
from audit.models import AuditEvent
from console import login_audit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "wrong-password-typed-by-mistake"


def _log_in(client, username, password, address="127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(client) -> bool:
    return SESSION_KEY in client.session


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


# ---- audit rows ---------------------------------------------------------------------------


def test_a_sign_in_is_recorded(client, people):
    response = _log_in(client, people.editor.username, PASSWORD)

    assert response.status_code == 302 and _signed_in(client)
    (event,) = _events(AuditEvent.Action.LOGIN)
    assert (event.actor, event.actor_name, event.object_type, event.object_id) == (
        people.editor, "eddie", "console user", str(people.editor.pk))
    assert event.source == AuditEvent.Source.WEB


def test_a_failed_sign_in_is_recorded_under_the_typed_name_without_the_password(client, people):
    response = _log_in(client, people.editor.username, WRONG)

    assert response.status_code == 200 and not _signed_in(client)
    assert "did not match" in response.content.decode()
    (event,) = _events(AuditEvent.Action.LOGIN_FAILED)
    assert event.actor is None
    assert (event.actor_name, event.object_id, event.reason) == ("eddie", str(people.editor.pk), "wrong user name or password")
    row = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert not any(WRONG in str(value) for value in row.values())


def test_a_failed_sign_in_with_an_unknown_name_is_recorded_too(client, people):
    _log_in(client, "mallory", WRONG)

    (event,) = _events(AuditEvent.Action.LOGIN_FAILED)
    assert (event.actor_name, event.object_id, event.object_repr) == ("mallory", "", "mallory")


def test_a_sign_out_is_recorded(client, people):
    _log_in(client, people.viewer.username, PASSWORD)

    response = client.post(reverse("logout"))

    assert response.status_code == 302 and not _signed_in(client)
    (event,) = _events(AuditEvent.Action.LOGOUT)
    assert (event.actor, event.actor_name) == (people.viewer, "vera")


def test_a_sign_out_without_a_session_records_nothing(client, people):
    client.post(reverse("logout"))
    assert not _events(AuditEvent.Action.LOGOUT)


def test_sign_in_rows_keep_the_audit_chain_intact(client, people):
    _log_in(client, people.viewer.username, WRONG)
    _log_in(client, people.viewer.username, PASSWORD)
    client.post(reverse("logout"))

    assert [event.action for event in AuditEvent.objects.order_by("sequence")] == ["login_failed", "login", "logout"]
    assert verify_chain().ok


# ---- throttling ---------------------------------------------------------------------------


def test_five_failures_lock_the_name_out_from_that_address_even_with_the_right_password(client, people, monkeypatch):
    minute = timezone.now().replace(second=30)  # every attempt in one minute, however long the test takes
    monkeypatch.setattr(login_audit, "_now", lambda: minute)
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _log_in(client, people.editor.username, WRONG).status_code == 200

    fifth = _log_in(client, people.editor.username, WRONG)
    right_password = _log_in(client, people.editor.username, PASSWORD)

    for response in (fifth, right_password):
        assert response.status_code == 429
        page = response.content.decode()
        assert "Sign-in locked for 15 minutes" in page
        assert "5 failed attempts" in page
    assert not _signed_in(client)
    # One row per user name, address and minute, then the total once the minute is over (console/login_audit.py).
    reasons = [event.reason for event in _events(AuditEvent.Action.LOGIN_FAILED)]
    assert reasons == ["wrong user name or password"]
    login_audit.close_failed_login_windows(now=minute + timedelta(minutes=1))
    reasons = [event.reason for event in _events(AuditEvent.Action.LOGIN_FAILED)]
    assert reasons[0] == "wrong user name or password" and len(reasons) == 2
    assert reasons[1].startswith("6 failed sign-ins in the minute from ")
    assert reasons[1].endswith("; locked out for 15 minutes after 5 failed attempts")
    assert not _events(AuditEvent.Action.LOGIN)


def test_the_lockout_is_per_name_and_address(client, people):
    for _ in range(5):
        _log_in(client, people.editor.username, WRONG)

    assert _log_in(client, people.editor.username, PASSWORD, address="192.0.2.10").status_code == 302
    client.post(reverse("logout"))
    assert _log_in(client, people.viewer.username, PASSWORD).status_code == 302


def test_the_lockout_ends_after_fifteen_minutes(client, people):
    for _ in range(5):
        _log_in(client, people.editor.username, WRONG)
    assert _log_in(client, people.editor.username, PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))

    assert _log_in(client, people.editor.username, PASSWORD).status_code == 302
    assert _signed_in(client)


def test_a_success_resets_the_count(client, people):
    for _ in range(4):
        _log_in(client, people.editor.username, WRONG)
    assert _log_in(client, people.editor.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))

    for _ in range(4):
        assert _log_in(client, people.editor.username, WRONG).status_code == 200
    assert _log_in(client, people.editor.username, PASSWORD).status_code == 302


def test_the_stored_attempts_hold_no_password(client, people):
    for _ in range(2):
        _log_in(client, people.editor.username, WRONG)

    attempt = AccessAttempt.objects.get()
    assert attempt.failures_since_start == 2
    assert WRONG not in attempt.post_data and "********" in attempt.post_data
