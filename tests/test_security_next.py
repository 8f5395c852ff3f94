"""``next`` is used only when it is a safe path of this site; anything else falls back to the page's default.

Before: ``next=foo`` was handed to ``redirect()``, which read it as a view name and failed (a 500 after
the membership had already been removed).
"""
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from memberships.models import Membership
from tests.conftest import PASSWORD
from tests.factories import MasterAccountFactory, MembershipFactory

pytestmark = pytest.mark.django_db

BAD_NEXT = [
    "foo",
    "foo/bar",
    "dashboard",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "/ /evil.example",
    "/\tevil",
    "\x00/",
    " /",
    "/" + "a" * 5000,
]


@pytest.mark.parametrize("bad", BAD_NEXT)
def test_the_confirmation_page_ignores_a_next_that_is_not_a_local_path(client_for, people, bad):
    client = client_for(people.editor)

    page = client.get(reverse("core:sudo"), {"next": bad})
    assert page.status_code == 200
    assert page.context["next"] == reverse("console:dashboard")

    response = client.post(reverse("core:sudo"), {"password": PASSWORD, "next": bad})
    assert response.status_code == 302
    assert response["Location"] == reverse("console:dashboard")


def test_the_confirmation_page_goes_back_to_a_local_path(client_for, people):
    local = reverse("memberships:list") + "?account=1"
    response = client_for(people.editor).post(reverse("core:sudo"), {"password": PASSWORD, "next": local})
    assert response["Location"] == local


@pytest.mark.parametrize("bad", BAD_NEXT)
def test_removing_a_membership_with_a_bad_next_goes_to_the_list_once(client_for, people, bad):
    MasterAccountFactory()
    grant = MembershipFactory()

    response = client_for(people.editor).post(
        reverse("memberships:remove", args=[grant.pk]), {"reason": "left", "next": bad}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("memberships:list")
    assert not Membership.objects.exists()
    assert AuditEvent.objects.filter(object_type="membership", action="delete").count() == 1


@pytest.mark.parametrize("bad", ["foo", "//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_signing_in_ignores_a_next_that_is_not_a_local_path(client, people, bad):
    page = client.get(reverse("login"), {"next": bad})
    assert page.context["next"] == ""

    response = client.post(reverse("login") + "?next=x", {"username": "eddie", "password": PASSWORD, "next": bad})
    assert response.status_code == 302
    assert response["Location"] == reverse("console:dashboard")


def test_signing_in_goes_on_to_a_local_path(client, people):
    local = reverse("memberships:list")
    response = client.post(reverse("login"), {"username": "eddie", "password": PASSWORD, "next": local})
    assert response["Location"] == local


def test_signing_out_ignores_a_next_that_is_not_a_local_path(client_for, people):
    response = client_for(people.editor).post(reverse("logout"), {"next": "foo"})
    assert response.status_code == 302 and response["Location"] == reverse("login")
