"""The drift page, its buttons, the dashboard's count and ``rolemodel drift --json``, without AWS."""
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from drift.models import DriftCheck, DriftFinding
from memberships.models import Membership
from tests.commands import command_refused, rolemodel
from tests.factories import AccountFactory, IAMUserFactory, MasterAccountFactory, MembershipFactory, RoleFactory
from tests.sudo_mode import sent_to_confirmation

pytestmark = pytest.mark.django_db
Kind = DriftFinding.Kind


@pytest.fixture
def world(db):
    MasterAccountFactory()
    account, role = AccountFactory(name="prod"), RoleFactory(logical_name="Admin")
    return {"account": account, "role": role, "alice": IAMUserFactory(user_name="alice"),
            "bob": IAMUserFactory(user_name="bob")}


def finding(kind, *, target="prod.Admin", live=None, expected=None, widens=True, closed=False) -> DriftFinding:
    check = DriftCheck.objects.create(requested_by_name="system:drift-schedule", status=DriftCheck.Status.SUCCEEDED)
    now = timezone.now()
    return DriftFinding.objects.create(
        kind=kind, account_name="master", target=target, key=f"{kind}|{target}|{json.dumps(live)}", detail=f"{kind} seen",
        live=live, expected=expected, widens=widens, first_seen=now, last_seen=now, first_check=check, last_check=check,
        closed_at=now if closed else None)


def test_the_page_shows_open_findings_first_with_their_diff_and_the_closed_ones_below(world, client_for, people):
    finding(Kind.GROUP_POLICY, live={"Statement": [{"Resource": "*"}]}, expected={"Statement": [{"Resource": "arn:x"}]})
    finding(Kind.MEMBER_ADDED, target="prod.Old", live={"group": "prod.Old", "user": "carol"}, closed=True)
    page = client_for(people.viewer).get(reverse("drift:page")).content.decode()
    assert page.index("group_policy seen") < page.index("Closed findings") < page.index("prod.Old")
    assert '<span class="diff-add">+      &quot;Resource&quot;: &quot;*&quot;</span>' in page
    assert "Group policies are generated" in page  # why it cannot be adopted
    assert "Check for drift now" not in page and "<button type=\"submit\">Adopt</button>" not in page  # a Viewer only reads


def test_the_dashboard_counts_open_findings_and_links_to_the_page(world, client_for, people):
    finding(Kind.UNKNOWN_GROUP, target="prod.Shadow")
    finding(Kind.UNKNOWN_GROUP, target="prod.Gone", closed=True)
    page = client_for(people.editor).get(reverse("console:dashboard")).content.decode()
    assert f'<b>1</b><a href="{reverse("drift:page")}">open drift finding</a>' in page


def test_starting_a_check_queues_one_and_a_second_click_finds_it_running(world, client_for, people, django_capture_on_commit_callbacks):
    client = client_for(people.approver)
    with django_capture_on_commit_callbacks() as sent:
        assert client.post(reverse("drift:check")).status_code == 302
        client.post(reverse("drift:check"))
    assert DriftCheck.objects.get().status == DriftCheck.Status.QUEUED and len(sent) == 1



def test_a_check_the_broker_cannot_take_fails_at_once_with_the_reason(world, client_for, people, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    def broker_away(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr("drift.tasks.run_drift_check_task.delay", broker_away)
    client = client_for(people.approver)
    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction holds them back till here
        client.post(reverse("drift:check"))
    check = DriftCheck.objects.get()
    assert check.status == DriftCheck.Status.FAILED and "broker) could not be reached" in check.error
    assert "could not be reached" in client.get(reverse("drift:page")).content.decode()  # the page says why
    # Nothing is left queued: the next click starts a new check instead of finding this one.
    monkeypatch.undo()
    with django_capture_on_commit_callbacks() as sent:
        client.post(reverse("drift:check"))
    assert DriftCheck.objects.count() == 2 and len(sent) == 1


def test_adopting_a_hand_added_member_grants_it(world, editor):
    adopted = finding(Kind.MEMBER_ADDED, live={"group": "prod.Admin", "user": "alice"})
    response = editor.post(reverse("drift:adopt", args=[adopted.pk]), {"reason": "on call"})
    assert response.status_code == 302
    membership = Membership.objects.get(iam_user=world["alice"], account=world["account"], role=world["role"])
    assert "on call" in membership.reason
    adopted.refresh_from_db()
    assert adopted.adopted_by_name == "eddie" and adopted.is_open  # the next check closes it


@pytest.mark.parametrize("reason", ["", "   "])
def test_adopting_without_a_reason_says_so_and_changes_nothing(world, editor, reason):
    adopted = finding(Kind.MEMBER_ADDED, live={"group": "prod.Admin", "user": "alice"})
    response = editor.post(reverse("drift:adopt", args=[adopted.pk]), {"reason": reason}, follow=True)
    assert "Say why the live value is right" in response.content.decode()
    assert not Membership.objects.exists()


@pytest.mark.parametrize("live, message", [
    ({"group": "prod.Admin", "user": "nobody-here"}, "IAM user nobody-here is not in the console"),
    ({"group": "gone.Admin", "user": "alice"}, "The console has no account and role for group"),
])
def test_adopting_what_the_console_cannot_hold_says_why(world, editor, live, message):
    adopted = finding(Kind.MEMBER_ADDED, target=live["group"], live=live)
    response = editor.post(reverse("drift:adopt", args=[adopted.pk]), {"reason": "keep"}, follow=True)
    assert message in response.content.decode()
    assert not Membership.objects.exists()


def test_adopting_a_hand_removal_revokes_the_membership_after_a_fresh_password(world, stale_editor, client_for, people):
    MembershipFactory(iam_user=world["bob"], account=world["account"], role=world["role"])
    adopted = finding(Kind.MEMBER_REMOVED, expected={"group": "prod.Admin", "user": "bob"}, widens=False)
    response = stale_editor.post(reverse("drift:adopt", args=[adopted.pk]), {"reason": "left"})
    assert sent_to_confirmation(response, reverse("drift:page")) and Membership.objects.exists()
    client_for(people.editor).post(reverse("drift:adopt", args=[adopted.pk]), {"reason": "left"})
    assert not Membership.objects.exists()


def test_a_closed_or_unknown_finding_cannot_be_adopted(world, editor):
    closed = finding(Kind.MEMBER_ADDED, live={"group": "prod.Admin", "user": "alice"}, closed=True)
    response = editor.post(reverse("drift:adopt", args=[closed.pk]), {"reason": "keep"}, follow=True)
    assert "This finding is closed." in response.content.decode() and not Membership.objects.exists()
    assert editor.post(reverse("drift:adopt", args=[9999]), {"reason": "keep"}).status_code == 404



def test_adopting_twice_grants_once(world, editor):
    adopted = finding(Kind.MEMBER_ADDED, live={"group": "prod.Admin", "user": "alice"})
    editor.post(reverse("drift:adopt", args=[adopted.pk]), {"reason": "on call"})
    response = editor.post(reverse("drift:adopt", args=[adopted.pk]), {"reason": "again"}, follow=True)
    assert "Already adopted; the next check closes it." in response.content.decode()
    assert Membership.objects.count() == 1


@pytest.mark.parametrize("role", ["viewer", "approver"])
def test_only_an_editor_adopts_a_viewer_or_an_approver_widens_nothing(world, client_for, people, role):
    adopted = finding(Kind.MEMBER_ADDED, live={"group": "prod.Admin", "user": "alice"})
    response = client_for(getattr(people, role)).post(reverse("drift:adopt", args=[adopted.pk]), {"reason": "mine"})
    assert response.status_code == 403 and not Membership.objects.exists()
    adopted.refresh_from_db()
    assert adopted.adopted_at is None

def test_cli_drift_json_prints_one_object_with_the_open_findings(world, people):
    finding(Kind.UNKNOWN_GROUP, target="prod.Shadow")
    finding(Kind.MEMBER_ADDED, target="prod.Old", live={"group": "prod.Old", "user": "carol"}, closed=True)
    output = rolemodel("drift", "--json", "--as", people.editor.username)
    payload = json.loads(output)
    check = DriftCheck.objects.get(status=DriftCheck.Status.QUEUED)
    assert {key: payload[key] for key in ("id", "status")} == {"id": check.pk, "status": "queued"}
    assert payload["findings"] == [{"kind": "unknown_group", "account": "master", "target": "prod.Shadow",
                                    "detail": "unknown_group seen", "widens": True}]


def test_cli_drift_as_a_viewer_is_refused(world, people):
    message = command_refused("drift", "--as", "vera", unchanged=lambda: DriftCheck.objects.count())
    assert message == "--as vera: only members of the Editor, Admin or Approver group start drift checks."
