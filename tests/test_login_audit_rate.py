"""Failed sign-ins are all counted, but anonymous failures cannot flood the audit history: one row per
user name, address and minute at the first failure, and one with the total once the minute is over.

Before: every failed sign-in wrote its own audit row (50 attempts, 50 rows).
"""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.chain import verify_chain
from audit.models import AuditEvent
from console import login_audit
from console.tasks import close_failed_login_windows_task
from core.models import FailedLoginWindow

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The time login_audit sees: 10:00:05 on a fixed day, moved by the test."""
    now = [timezone.now().replace(hour=10, minute=0, second=5, microsecond=0)]
    monkeypatch.setattr(login_audit, "_now", lambda: now[0])
    return now


@pytest.fixture
def no_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 1000  # the audit side only; the lockout has its own tests


def _fail(client, username="mallory", address="203.0.113.7"):
    return client.post(reverse("login"), {"username": username, "password": "guess"}, REMOTE_ADDR=address)


def _rows():
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).order_by("sequence"))


def test_fifty_failures_in_a_minute_write_two_rows_with_the_right_count(client, clock, no_lockout):
    for second in range(50):
        clock[0] = clock[0].replace(second=5 + second // 2)
        assert _fail(client).status_code == 200

    rows = _rows()
    assert len(rows) == 1
    assert rows[0].after == {"address": "203.0.113.7", "window_start": clock[0].replace(second=0).isoformat(),
                             "failures": 1}
    assert FailedLoginWindow.objects.get().failures == 50

    clock[0] += timedelta(minutes=1)
    assert close_failed_login_windows_task() == 1

    rows = _rows()
    assert len(rows) == 2
    assert rows[1].actor_name == "mallory" and rows[1].after["failures"] == 50
    assert rows[1].reason == "50 failed sign-ins in the minute from 10:00 UTC"
    assert verify_chain().ok


def test_the_next_failure_closes_the_minute_before_it(client, clock, no_lockout):
    for _ in range(3):
        _fail(client)
    clock[0] += timedelta(minutes=1)
    _fail(client)

    assert [row.after["failures"] for row in _rows()] == [1, 3, 1]
    assert [row.after["window_start"][11:16] for row in _rows()] == ["10:00", "10:00", "10:01"]


def test_a_minute_with_one_failure_writes_no_closing_row(client, clock, no_lockout):
    _fail(client)
    clock[0] += timedelta(minutes=5)
    assert login_audit.close_failed_login_windows() == 0
    assert len(_rows()) == 1


def test_each_name_and_address_has_its_own_window(client, clock, no_lockout):
    for username, address in [("mallory", "203.0.113.7"), ("mallory", "203.0.113.8"), ("eve", "203.0.113.7")] * 4:
        _fail(client, username, address)

    assert sorted((row.actor_name, row.after["address"]) for row in _rows()) == [
        ("eve", "203.0.113.7"), ("mallory", "203.0.113.7"), ("mallory", "203.0.113.8")]
    clock[0] += timedelta(minutes=1)
    login_audit.close_failed_login_windows()
    assert [row.after["failures"] for row in _rows()[3:]] == [4, 4, 4]


def test_a_window_is_closed_once_even_when_closed_twice(client, clock, no_lockout):
    for _ in range(5):
        _fail(client)
    clock[0] += timedelta(minutes=1)
    assert login_audit.close_failed_login_windows() == 1
    assert login_audit.close_failed_login_windows() == 0
    assert len(_rows()) == 2


def test_old_windows_are_deleted_an_hour_after_they_closed(client, clock, no_lockout):
    _fail(client)
    _fail(client)
    clock[0] += timedelta(minutes=1)
    login_audit.close_failed_login_windows()
    assert FailedLoginWindow.objects.count() == 1
    clock[0] += timedelta(hours=2)
    login_audit.close_failed_login_windows()
    assert not FailedLoginWindow.objects.exists()
