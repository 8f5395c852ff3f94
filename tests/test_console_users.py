"""Console users: names that cannot be mistaken, and the privilege boundaries (issue 8, found #2, #3, #7).

Only a superuser changes a superuser or staff account; a person gives only groups whose powers they
hold; the last Admin stays, even when two Admins demote each other at the same moment.
"""
import threading

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import Actor
from console.services_users import console_user_create, console_user_update
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new long passphrase"


def form_data(user: User, **changes) -> dict:
    data = {"username": user.username, "email": user.email, "is_active": "on",
            "groups": list(user.groups.values_list("name", flat=True))}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def console_users_state() -> list:
    return list(User.objects.order_by("pk").values_list("username", "email", "is_active", "is_superuser", "password"))


def membership_state() -> list:
    return sorted(User.groups.through.objects.values_list("user__username", "group__name"))


def update(actor_user, user, **changes):
    fields = {"username": user.username, "email": user.email, "is_active": user.is_active,
              "groups": list(user.groups.values_list("name", flat=True)), "password": ""}
    fields.update(changes)
    return console_user_update(actor=Actor.from_user(actor_user) if actor_user else Actor.system("system:test"),
                               console_user=user, **fields)


# ---- names ------------------------------------------------------------------------------------


def test_a_look_alike_name_is_refused_on_the_form_with_a_message(client_for, people):
    before = console_users_state()

    response = client_for(people.admin).post(reverse("console:console_user_create"), {
        "username": "\u0430pril", "email": "", "groups": ["Viewer"], "password": NEW_PASSWORD, "is_active": "on"})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["username"] == [
        "The user name \u0430pril looks too much like the existing console user april; choose a clearly different name."]
    assert "looks too much like the existing console user april" in response.content.decode()
    assert console_users_state() == before and not AuditEvent.objects.exists()


@pytest.mark.parametrize("new_name", ["Eddie", "\u0435ddie", "\uff45ddie"])
def test_a_rename_into_a_look_alike_is_refused(client_for, people, new_name):
    before = console_users_state()

    response = client_for(people.admin).post(reverse("console:console_user_edit", args=[people.viewer.pk]),
                                             form_data(people.viewer, username=new_name))

    assert response.status_code == 200
    assert "eddie" in " ".join(response.context["form"].errors["username"])
    assert console_users_state() == before


def test_a_name_is_stored_normalised(people):
    user = console_user_create(actor=Actor.from_user(people.admin), username="\uff5a\uff4f\uff45",
                               groups=["Viewer"], password=NEW_PASSWORD)
    assert user.username == "zoe"


def test_a_name_accepted_before_these_checks_stays_usable(people):
    # Two names that would be refused today, created before the check existed.
    legacy = User.objects.create_user("Vera", password=PASSWORD)
    update(people.admin, legacy, email="vera.two@example.com")
    assert User.objects.get(pk=legacy.pk).email == "vera.two@example.com"


# ---- superusers and staff ---------------------------------------------------------------------


def test_an_admin_cannot_set_a_superusers_password_through_the_console(client_for, people):
    client = client_for(people.admin)
    url = reverse("console:console_user_edit", args=[people.superuser.pk])
    before = console_users_state()

    assert client.get(url).status_code == 403
    response = client.post(url, form_data(people.superuser, password=NEW_PASSWORD, groups=["Admin"]))

    assert response.status_code == 403
    assert console_users_state() == before
    people.superuser.refresh_from_db()
    assert people.superuser.check_password(PASSWORD) and not people.superuser.groups.exists()
    assert not AuditEvent.objects.exists()
    assert "superuser only" in client.get(reverse("console:console_user_list")).content.decode()


@pytest.mark.parametrize("change", [{"password": NEW_PASSWORD}, {"groups": ["Viewer"]}, {"is_active": False},
                                    {"email": "attacker@example.com"}])
def test_the_service_refuses_any_change_to_a_superuser_or_staff_account_by_an_admin(people, change):
    staff = User.objects.create_user("stan", password=PASSWORD, is_staff=True)
    for target in (people.superuser, staff):
        before = console_users_state()
        with pytest.raises(ValidationError, match="Only a superuser may change a superuser or staff account"):
            update(people.admin, target, **change)
        assert console_users_state() == before


def test_a_superuser_may_change_a_superuser(people):
    other_root = User.objects.create_user("root2", password=PASSWORD, is_superuser=True, is_staff=True)
    update(other_root, people.superuser, password=NEW_PASSWORD)
    people.superuser.refresh_from_db()
    assert people.superuser.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(object_type="console user")
    assert (event.actor, event.reason) == (other_root, "Password changed")


# ---- giving groups -----------------------------------------------------------------------------


def test_an_admin_cannot_give_a_group_they_do_not_hold(client_for, people):
    client = client_for(people.admin)
    before, memberships = console_users_state(), membership_state()

    created = client.post(reverse("console:console_user_create"), {
        "username": "sock", "email": "", "groups": ["Approver"], "password": NEW_PASSWORD, "is_active": "on"})
    granted = client.post(reverse("console:console_user_edit", args=[people.viewer.pk]),
                          form_data(people.viewer, groups=["Viewer", "Approver"]))

    for response in (created, granted):
        assert response.status_code == 200
        assert "You cannot give the Approver group: you do not hold it yourself." in response.content.decode()
    assert console_users_state() == before and membership_state() == memberships


def test_an_admin_gives_what_their_own_role_covers(people):
    update(people.admin, people.viewer, groups=["Viewer", "Editor", "Admin"])
    assert set(people.viewer.groups.values_list("name", flat=True)) == {"Viewer", "Editor", "Admin"}


def test_an_admin_who_holds_approver_may_give_it(people):
    people.admin.groups.add(Group.objects.get(name="Approver"))
    update(people.admin, people.viewer, groups=["Viewer", "Approver"])
    assert people.viewer.groups.filter(name="Approver").exists()


def test_an_admin_cannot_take_over_an_approver_by_setting_their_password(people):
    before = console_users_state()
    with pytest.raises(ValidationError, match="april holds Approver, which you do not hold"):
        update(people.admin, people.approver, password=NEW_PASSWORD)
    assert console_users_state() == before
    update(people.admin, people.approver, email="april@new.example.com")  # other changes are fine
    # Taking a group away needs no such power: removing access is always allowed.
    update(people.admin, people.approver, groups=["Viewer"])
    assert list(people.approver.groups.values_list("name", flat=True)) == ["Viewer"]


# ---- the last Admin ------------------------------------------------------------------------------


@pytest.mark.parametrize("change", [{"groups": ["Viewer"]}, {"is_active": False}])
def test_the_last_admin_cannot_be_demoted_or_deactivated(people, change):
    before = console_users_state(), membership_state()
    with pytest.raises(ValidationError, match="ada is the last Admin"):
        update(people.superuser, people.admin, **change)
    assert (console_users_state(), membership_state()) == before

    update(people.admin, people.other_editor, groups=["Editor", "Admin"])
    update(people.superuser, people.admin, **change)
    assert list(User.objects.filter(groups__name="Admin", is_active=True)) == [people.other_editor]


def test_an_admin_demoted_a_moment_ago_changes_nothing(people):
    bea = User.objects.create_user("bea", password=PASSWORD)
    bea.groups.add(Group.objects.get(name="Admin"))
    stale_actor = User.objects.get(pk=bea.pk)  # as the request loaded her, an Admin
    update(people.admin, bea, groups=["Viewer"])

    with pytest.raises(PermissionDenied, match="no longer manage console users"):
        update(stale_actor, people.viewer, groups=["Viewer", "Admin"])
    assert list(people.viewer.groups.values_list("name", flat=True)) == ["Viewer"]


@pytest.mark.django_db(transaction=True)
def test_two_admins_who_demote_each_other_at_once_leave_one_admin(people):
    bea = User.objects.create_user("bea", password=PASSWORD)
    bea.groups.add(Group.objects.get(name="Admin"))
    ada = people.admin
    barrier = threading.Barrier(2)
    outcomes = {}

    def demote(actor_user, target):
        try:
            barrier.wait(timeout=10)
            update(actor_user, target, groups=["Viewer"])
            outcomes[actor_user.username] = "demoted"
        except (ValidationError, PermissionDenied) as error:
            outcomes[actor_user.username] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=(ada, bea)), threading.Thread(target=demote, args=(bea, ada))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["ada", "bea"]
    assert list(outcomes.values()).count("demoted") == 1, outcomes
    assert User.objects.filter(groups__name="Admin", is_active=True).count() == 1
    assert AuditEvent.objects.filter(object_type="console user", action="update").count() == 1
