"""Sudo mode: a teardown plan, removing an account or a role, and creating or changing a console
user (who may then approve, or manage users) ask for the password again unless it was given in the
last ten minutes (signing in counts); the confirmation page only ever sends people back into this site.
"""
import time

import pytest
from django.urls import reverse

from accounts.models import AssumableAccount
from audit.models import AuditEvent
from core import sudo
from plans.models import Plan
from tests.conftest import PASSWORD
from tests.factories import AccountFactory, MasterAccountFactory, RoleFactory
from tests.sudo_mode import confirm, confirmed_minutes_ago, sent_to_confirmation

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db):
    MasterAccountFactory()
    return AccountFactory(name="prod")


# ---- what asks -----------------------------------------------------------------------------


def test_signing_in_counts_as_a_recent_confirmation(client_for, people, account):
    client = client_for(people.editor)
    assert client.get(reverse("plans:teardown")).status_code == 200
    assert client.get(reverse("accounts:delete", args=[account.pk])).status_code == 200


def test_a_confirmation_is_good_for_ten_minutes(client_for, people):
    client = client_for(people.editor)
    confirmed_minutes_ago(client, 9)
    assert client.get(reverse("plans:teardown")).status_code == 200


def test_the_teardown_page_asks_for_the_password_after_ten_minutes(stale_editor):
    response = stale_editor.get(reverse("plans:teardown"))
    assert sent_to_confirmation(response, reverse("plans:teardown"))


def test_requesting_a_teardown_plan_asks_and_plans_nothing(stale_editor):
    response = stale_editor.post(reverse("plans:create"), {"teardown": "on"})

    assert sent_to_confirmation(response, reverse("plans:teardown"))
    assert not Plan.objects.exists()


@pytest.mark.parametrize("kind, reason", [("account", "closed"), ("role", "retired")])
def test_removing_an_account_or_a_role_asks_and_removes_nothing(stale_editor, account, kind, reason):
    target = account if kind == "account" else RoleFactory(logical_name="AdminRole")
    url = reverse(f"{kind}s:delete", args=[target.pk])
    assert sent_to_confirmation(stale_editor.get(url), url)

    response = stale_editor.post(url, {"reason": reason})

    assert sent_to_confirmation(response, url)
    assert type(target).objects.filter(pk=target.pk).exists()


def test_after_confirming_the_account_can_be_removed(stale_editor, account):
    url = reverse("accounts:delete", args=[account.pk])
    confirm(stale_editor, url)

    assert stale_editor.post(url, {"reason": "closed"}).status_code == 302
    assert not AssumableAccount.objects.filter(pk=account.pk).exists()


def test_creating_or_changing_a_console_user_asks_and_saves_nothing(client_for, people):
    admin = client_for(people.admin)
    confirmed_minutes_ago(admin, 11)
    create = reverse("console:console_user_create")
    edit = reverse("console:console_user_edit", args=[people.viewer.pk])
    promote = {"username": people.viewer.username, "email": "", "groups": ["Approver"], "password": "", "is_active": "on"}

    assert sent_to_confirmation(admin.get(create), create)
    assert sent_to_confirmation(admin.post(create, {**promote, "username": "mallory",
                                                     "password": "a long enough passphrase"}), create)
    assert sent_to_confirmation(admin.post(edit, promote), edit)

    assert not people.viewer.groups.filter(name="Approver").exists()
    assert not people.viewer.__class__.objects.filter(username="mallory").exists()


def test_the_confirmation_refreshes_the_ten_minutes(stale_editor):
    stale_editor.post(reverse("core:sudo"), {"password": PASSWORD, "next": "/"})
    assert time.time() - stale_editor.session[sudo.SESSION_KEY] < 5
    assert stale_editor.get(reverse("plans:teardown")).status_code == 200


# ---- the confirmation page -----------------------------------------------------------------


def test_the_page_asks_for_the_password_and_keeps_where_to_go_next(stale_editor):
    response = stale_editor.get(reverse("core:sudo"), {"next": reverse("plans:teardown")})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'type="password"' in page and 'name="password"' in page
    assert f'name="next" value="{reverse("plans:teardown")}"' in page


def test_a_wrong_password_is_refused_recorded_and_confirms_nothing(stale_editor, people):
    response = stale_editor.post(reverse("core:sudo"), {"password": "not-my-password", "next": reverse("plans:teardown")})

    assert response.status_code == 200
    assert "That is not your password." in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert (event.actor_name, event.reason) == ("eddie", "password confirmation failed")
    assert "not-my-password" not in str(AuditEvent.objects.filter(pk=event.pk).values().get())
    assert sent_to_confirmation(stale_editor.get(reverse("plans:teardown")), reverse("plans:teardown"))


@pytest.mark.parametrize("data", [{"password": ""}, {}])
def test_an_empty_password_is_refused(stale_editor, data):
    response = stale_editor.post(reverse("core:sudo"), data)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_repeated_wrong_passwords_lock_the_confirmation_like_a_login(stale_editor):
    for _ in range(4):
        assert stale_editor.post(reverse("core:sudo"), {"password": "guess"}).status_code == 200

    assert stale_editor.post(reverse("core:sudo"), {"password": "guess"}).status_code == 429
    locked = stale_editor.post(reverse("core:sudo"), {"password": PASSWORD})
    assert locked.status_code == 429 and "Sign-in locked" in locked.content.decode()
    assert sent_to_confirmation(stale_editor.get(reverse("plans:teardown")), reverse("plans:teardown"))


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/path", "javascript:alert(1)", ""])
def test_it_never_sends_people_off_the_site(stale_editor, next_url):
    response = stale_editor.post(reverse("core:sudo"), {"password": PASSWORD, "next": next_url})
    assert response.status_code == 302 and response["Location"] == reverse("console:dashboard")


def test_someone_without_a_password_is_told_to_sign_in_again(client_for, people):
    people.editor.set_unusable_password()
    people.editor.save()
    client = client_for(people.editor)

    page = client.get(reverse("core:sudo")).content.decode()

    assert "single sign-on" in page and 'name="password"' not in page


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("core:sudo"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
