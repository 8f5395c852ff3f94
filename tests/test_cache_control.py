"""Signed-in pages and exports carry ``Cache-Control: no-store``: no browser or proxy keeps a copy."""
import pytest
from django.urls import reverse

from tests.factories import AccountFactory, IAMUserFactory, MasterAccountFactory, RoleFactory

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "no-cache", "private"} <= directives


@pytest.fixture
def objects(db):
    MasterAccountFactory()
    return {"account": AccountFactory(), "role": RoleFactory(), "iam_user": IAMUserFactory()}


@pytest.mark.parametrize(
    "name, args",
    [
        ("console:dashboard", []),
        ("accounts:list", []),
        ("accounts:detail", ["account"]),
        ("roles:detail", ["role"]),
        ("memberships:matrix", []),
        ("memberships:iam_user_detail", ["iam_user"]),
        ("audit:list", []),
        ("plans:list", []),
        ("core:sudo", []),
    ],
)
def test_every_signed_in_page_says_no_store(client_for, people, objects, name, args):
    response = client_for(people.viewer).get(reverse(name, args=[objects[arg].pk for arg in args]))
    assert response.status_code == 200
    assert _no_store(response)


@pytest.mark.parametrize("export_format", ["csv", "json"])
def test_audit_exports_say_no_store(client_for, people, export_format):
    response = client_for(people.viewer).get(reverse("audit:export"), {"format": export_format})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert _no_store(response)


def test_refusals_and_redirects_to_a_signed_in_user_say_no_store(client_for, people, objects):
    client = client_for(people.viewer)
    assert _no_store(client.get(reverse("console:console_user_list")))  # 403
    assert _no_store(client.get("/accounts/999999/"))  # 404
    assert _no_store(client.post(reverse("plans:create")))  # 403


def test_a_signed_in_post_answer_says_no_store(client_for, people):
    response = client_for(people.editor).post(reverse("memberships:iam_user_create"), {"user_name": "carol"})
    assert response.status_code == 302
    assert _no_store(response)


def test_a_visitor_without_a_session_gets_pages_as_django_makes_them(client, db):
    response = client.get("/static-or-missing-page-for-visitors/")
    assert response.status_code in (302, 404)
    assert "no-store" not in response.get("Cache-Control", "")
