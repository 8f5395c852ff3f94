import os

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.auth.signals import user_logged_in

from audit.services import Actor
from console import login_audit
from core.permissions import CONSOLE_GROUPS
from tests.factories import MasterAccountFactory

pytest_plugins = ["tests.e2e_fixtures"]

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session", autouse=True)
def _real_services_when_required(django_db_setup, django_db_blocker):
    """In CI the suite must run on PostgreSQL and Redis; a silent fallback would hide that."""
    if os.environ.get("ROLEMODEL_REQUIRE_REAL_SERVICES") == "true":
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        assert engine == "django.db.backends.postgresql", f"CI must test on PostgreSQL, not {engine}"
        assert settings.CELERY_BROKER_URL.startswith("redis://"), "CI must test with the Redis broker"


def _console_user(username: str, *groups: str, **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.com", **extra)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


class ConsoleUsers:
    """One named person per console role, the way the tests talk about them."""

    def __init__(self):
        for name in CONSOLE_GROUPS:
            Group.objects.get_or_create(name=name)
        self.viewer = _console_user("vera", "Viewer")
        self.editor = _console_user("eddie", "Editor")
        self.other_editor = _console_user("erin", "Editor")
        self.approver = _console_user("april", "Approver")
        self.other_approver = _console_user("arthur", "Approver")
        self.admin = _console_user("ada", "Admin")
        self.nobody = _console_user("noel")
        self.superuser = _console_user("root", is_superuser=True, is_staff=True)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Per-person limits and counters live in the cache (core/throttle.py, console/login_audit.py); user ids are
    reused from test to test, so each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # ``people`` sets eight passwords per test; the production hasher makes that seconds each time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(db) -> ConsoleUsers:
    return ConsoleUsers()


@pytest.fixture
def eddie(people) -> Actor:
    """The Editor eddie, as services record him."""
    return Actor.from_user(people.editor)


@pytest.fixture
def client_for(client):
    """``client_for(user)`` → the test client logged in as that user.

    A shortcut past the login form, so it writes no sign-in audit row (tests/test_security_login.py
    covers those); it still counts as the recent password confirmation a sign-in gives (core/sudo.py).
    """

    def login(user):
        user_logged_in.disconnect(dispatch_uid=login_audit.LOGIN_RECEIVER)
        try:
            client.force_login(user)
        finally:
            user_logged_in.connect(login_audit.record_login, dispatch_uid=login_audit.LOGIN_RECEIVER)
        return client

    return login


@pytest.fixture
def stale_editor(client_for, people):
    """An Editor who signed in, and last gave the password eleven minutes ago (sudo mode asks again)."""
    from tests.sudo_mode import confirmed_minutes_ago

    client = client_for(people.editor)
    confirmed_minutes_ago(client, 11)
    return client


@pytest.fixture
def editor(people, client_for):
    """The test client logged in as eddie (an Editor), with the master account recorded."""
    MasterAccountFactory()
    return client_for(people.editor)
