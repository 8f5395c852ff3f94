"""Offboarding: "remove this IAM user from every group", one action (plans.revocation.offboard) from the IAM
user's page (Editors, sudo mode, a reason) or ``rolemodel offboard USER --reason``: every grant revoked and
audited, and one revocation plan requested. Bad input changes nothing."""
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import Actor
from memberships.models import Membership
from plans import revocation
from plans.models import Job, JobStep, Plan
from tests.factories import AccountFactory, IAMUserFactory, MasterAccountFactory, MembershipFactory, RoleFactory
from tests.sudo_mode import confirm, sent_to_confirmation

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    MasterAccountFactory()
    prod, dev, admin = AccountFactory(name="prod"), AccountFactory(name="dev"), RoleFactory(logical_name="Admin")
    alice = IAMUserFactory(user_name="alice")
    for account in (prod, dev):
        MembershipFactory(iam_user=alice, account=account, role=admin)
    MembershipFactory(account=prod, role=admin)  # someone else, left alone
    return alice


def unchanged() -> tuple:
    return Membership.objects.count(), Plan.objects.count(), AuditEvent.objects.count()


def test_offboarding_revokes_every_grant_and_requests_one_revocation_plan(alice, eddie):
    done = revocation.offboard(actor=eddie, user_name="ALICE", reason="left the company")

    assert done.iam_user == alice and sorted(done.revoked) == ["alice in dev.Admin", "alice in prod.Admin"]
    assert not alice.memberships.exists() and Membership.objects.count() == 1
    removals = AuditEvent.objects.filter(object_type="membership", action="delete")
    assert removals.count() == 2 and {row.reason for row in removals} == {"Offboarded: left the company"}
    assert {row.actor_name for row in removals} == {"eddie"}
    plan = done.plan
    assert plan.kind == Plan.Kind.REVOCATION and plan.status == Plan.Status.PLANNING and plan.requested_by_name == "eddie"
    assert [step.target for step in plan.jobs.get(kind=Job.Kind.PLAN).steps.all()] == [JobStep.MASTER]
    requested = AuditEvent.objects.get(action="plan_requested", object_id=str(plan.pk))
    assert requested.reason == "Offboarding alice (2 grant(s) revoked): left the company"


@pytest.mark.parametrize("user_name, reason, message", [
    ("mallory", "left", "knows no IAM user “mallory”"),
    ("alice", "   ", "Say why this person is offboarded"),
    ("", "left", "knows no IAM user"),
])
def test_bad_offboarding_requests_change_nothing(alice, eddie, user_name, reason, message):
    before = unchanged()
    with pytest.raises(revocation.RevocationError, match=message):
        revocation.offboard(actor=eddie, user_name=user_name, reason=reason)
    assert unchanged() == before


def test_only_editors_offboard(alice, people):
    before = unchanged()
    for user in (people.viewer, people.approver):
        with pytest.raises(PermissionDenied):
            revocation.offboard(actor=Actor.from_user(user), user_name="alice", reason="left")
    assert unchanged() == before


def test_the_command_line_offboards_and_refuses_bad_input(alice, people):
    out = StringIO()
    call_command("rolemodel", "offboard", "alice", "--reason", "left the company", "--as", "eddie", stdout=out)
    assert "alice: 2 grant(s) revoked. Revocation plan #" in out.getvalue()
    assert "approves and applies it at once" in out.getvalue()
    assert not alice.memberships.exists()

    before = unchanged()
    with pytest.raises(CommandError, match="knows no IAM user “bob”"):
        call_command("rolemodel", "offboard", "bob", "--reason", "left", "--as", "eddie", stdout=StringIO())
    with pytest.raises(CommandError, match="only members of the Editor or Admin group offboard people"):
        call_command("rolemodel", "offboard", "alice", "--reason", "left", "--as", "vera", stdout=StringIO())
    assert unchanged() == before


def test_the_page_asks_for_the_password_and_a_reason_then_offboards(alice, stale_editor):
    url = reverse("plans:offboard", args=[alice.pk])
    before = unchanged()
    assert sent_to_confirmation(stale_editor.post(url, {"reason": "left"}), url)
    assert unchanged() == before
    confirm(stale_editor, url)

    page = stale_editor.get(url).content.decode()
    assert "prod.Admin" in page and "dev.Admin" in page and "applies that plan at once" in page
    empty = stale_editor.post(url, {"reason": ""})
    assert empty.status_code == 200 and "Say why this person is offboarded." in empty.content.decode()
    assert unchanged() == before

    response = stale_editor.post(url, {"reason": "left the company"})

    plan = Plan.objects.get(kind=Plan.Kind.REVOCATION)
    assert response.status_code == 302 and response["Location"] == reverse("plans:detail", args=[plan.pk])
    assert not alice.memberships.exists()


def test_the_iam_user_page_offers_offboarding_to_editors_only(alice, client_for, people):
    link = reverse("plans:offboard", args=[alice.pk])
    assert link in client_for(people.editor).get(reverse("memberships:iam_user_detail", args=[alice.pk])).content.decode()
    assert link not in client_for(people.viewer).get(reverse("memberships:iam_user_detail", args=[alice.pk])).content.decode()
