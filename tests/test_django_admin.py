"""/django-admin/ only looks at console users and groups (issue 8, found #3): every change to them goes
through console/services_users.py, which keeps the privilege boundaries and writes the audit rows."""
import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def auth_state() -> tuple:
    return (
        list(User.objects.order_by("pk").values_list("username", "is_active", "is_staff", "is_superuser", "password")),
        sorted(User.groups.through.objects.values_list("user__username", "group__name")),
        sorted(Group.objects.values_list("name", flat=True)),
    )


def test_a_superuser_sees_users_and_groups_there_but_cannot_change_them(client_for, people):
    client = client_for(people.superuser)
    ada, admins = people.admin, Group.objects.get(name="Admin")
    before = auth_state()

    assert client.get(reverse("admin:auth_user_change", args=[ada.pk])).status_code == 200
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 200
    attempts = [
        (reverse("admin:auth_user_password_change", args=[ada.pk]),
         {"password1": "a takeover passphrase", "password2": "a takeover passphrase", "usable_password": "true"}),
        (reverse("admin:auth_user_change", args=[ada.pk]),
         {"username": "ada", "is_active": "on", "is_superuser": "on", "is_staff": "on",
          "groups": [str(group.pk) for group in Group.objects.all()], "date_joined_0": "2026-01-01",
          "date_joined_1": "00:00:00"}),
        (reverse("admin:auth_user_add"),
         {"username": "mallory", "password1": "a takeover passphrase", "password2": "a takeover passphrase",
          "usable_password": "true"}),
        (reverse("admin:auth_user_delete", args=[ada.pk]), {"post": "yes"}),
        (reverse("admin:auth_group_change", args=[admins.pk]), {"name": "Admins", "permissions": []}),
        (reverse("admin:auth_group_add"), {"name": "Root"}),
        (reverse("admin:auth_group_delete", args=[admins.pk]), {"post": "yes"}),
    ]
    for url, data in attempts:
        assert client.post(url, data).status_code == 403, url

    assert auth_state() == before
    assert User.objects.get(pk=ada.pk).check_password(PASSWORD)
    assert not AuditEvent.objects.exists()


def test_a_console_admin_who_is_not_staff_is_sent_to_the_admin_login(client_for, people):
    response = client_for(people.admin).get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
