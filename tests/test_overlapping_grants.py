"""Several grants of one group to one person: each its own row, reason, expiry and audit rows; the person is
in the group while any of them is live, so access ends when the last one ends. Limits and the original
tool's files count groups, not grants."""
import shutil
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from interchange.exporting import user_map_document
from memberships import selectors
from memberships.models import Membership
from memberships.services import expire_due_memberships, memberships_grant, memberships_sync
from plans import desired
from tests.aws_world import SAMPLES
from tests.factories import AccountFactory, IAMUserFactory, MasterAccountFactory, MembershipFactory, RoleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    MasterAccountFactory()
    prod, admin = AccountFactory(name="prod"), RoleFactory(logical_name="Admin")
    alice = IAMUserFactory(user_name="alice")
    permanent = MembershipFactory(iam_user=alice, account=prod, role=admin, reason="team lead")
    return prod, admin, alice, permanent


def members_of(group: str) -> list[dict]:
    return desired.desired_state_document()["groups"][group]["members"]


def test_a_second_grant_with_another_expiry_is_a_grant_of_its_own_and_audited(world, eddie):
    prod, admin, alice, permanent = world
    soon = timezone.now() + timedelta(days=2)

    result = memberships_grant(actor=eddie, grants=[(alice, prod, admin)], reason="incident 42", expires_at=soon)

    assert len(result.created) == 1 and result.already_granted == []
    assert Membership.objects.filter(iam_user=alice, account=prod, role=admin).count() == 2
    created = AuditEvent.objects.get(object_type="membership", action="create")
    assert created.after["expires_at"] == soon.isoformat() and created.reason == "incident 42"
    # The same grant again (same expiry) adds nothing.
    again = memberships_grant(actor=eddie, grants=[(alice, prod, admin)], reason="incident 42", expires_at=soon)
    assert again.created == [] and len(again.already_granted) == 1
    assert memberships_grant(actor=eddie, grants=[(alice, prod, admin)], reason="again").already_granted == [permanent]


def test_the_desired_state_holds_the_member_once_while_any_grant_is_live(world, eddie):
    prod, admin, alice, permanent = world
    on_call = memberships_grant(actor=eddie, grants=[(alice, prod, admin)], reason="incident 42",
                                expires_at=timezone.now() + timedelta(hours=1)).created[0]
    [member] = members_of("prod.Admin")
    assert member["user"] == "alice" and member["reason"] == "team lead; incident 42"
    before = desired.fingerprint(desired.desired_state_document())

    Membership.objects.filter(pk=on_call.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_due_memberships() == 1

    assert [m["user"] for m in members_of("prod.Admin")] == ["alice"]
    assert desired.fingerprint(desired.desired_state_document()) == before  # AWS need not change
    Membership.objects.filter(pk=permanent.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert members_of("prod.Admin") == []


def test_the_group_limit_counts_groups_not_grants(eddie):
    account, alice = AccountFactory(name="prod"), IAMUserFactory(user_name="alice")
    roles = [RoleFactory(logical_name=f"Role{n}") for n in range(11)]
    for role in roles[:10]:
        MembershipFactory(iam_user=alice, account=account, role=role)

    memberships_grant(actor=eddie, grants=[(alice, account, roles[0])], reason="second grant",
                      expires_at=timezone.now() + timedelta(days=1))
    assert selectors.iam_users_with_group_counts().get(pk=alice.pk).group_count == 10
    with pytest.raises(ValidationError, match="would be in 11 groups"):
        memberships_grant(actor=eddie, grants=[(alice, account, roles[10])], reason="one too many")


def test_users_yml_keeps_one_line_per_group_and_sync_adds_no_grant(world, eddie):
    prod, admin, alice, permanent = world
    memberships_grant(actor=eddie, grants=[(alice, prod, admin)], reason="incident 42",
                      expires_at=timezone.now() + timedelta(hours=1))

    assert user_map_document() == {"prod": {"Admin": ["alice"]}}
    result = memberships_sync(actor=eddie, user_map={"prod": {"Admin": ["alice"]}}, reason="sync_users users.yml")
    assert result.granted == [] and result.revoked == []
    assert Membership.objects.filter(iam_user=alice).count() == 2


def test_the_access_matrix_counts_people_not_grants(world, eddie):
    prod, admin, alice, permanent = world
    memberships_grant(actor=eddie, grants=[(alice, prod, admin)], reason="incident 42",
                      expires_at=timezone.now() + timedelta(hours=1))

    assert selectors.access_matrix().total == 1


def test_the_pages_show_each_of_two_grants(world, eddie, client_for, people):
    prod, admin, alice, permanent = world
    memberships_grant(actor=eddie, grants=[(alice, prod, admin)], reason="incident 42",
                      expires_at=timezone.now() + timedelta(hours=1))
    client = client_for(people.viewer)

    listing = client.get(reverse("memberships:list")).content.decode()
    detail = client.get(reverse("memberships:iam_user_detail", args=[alice.pk])).content.decode()

    assert listing.count("1 of 2 grants") == 2 and "team lead" in listing and "incident 42" in listing
    assert detail.count("1 of 2 grants") == 2 and "Uses <b>1 of 10</b> groups (2 grants)" in detail


def test_an_import_names_a_person_with_two_grants_left_in_place_once(people, eddie, tmp_path):
    for name in ("config.yml", "roles.yml", "users.yml"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    call_command("rolemodel", "import", str(tmp_path / "config.yml"), "--users", str(tmp_path / "users.yml"),
                 "--as", "eddie", stdout=StringIO())
    held = Membership.objects.get(iam_user__user_name="maria.admin", account__name="prod", role__logical_name="AdminRole")
    memberships_grant(actor=eddie, grants=[(held.iam_user, held.account, held.role)], reason="incident 42",
                      expires_at=timezone.now() + timedelta(hours=1))
    (tmp_path / "users.yml").write_text("prod:\n  ReadOnlyRole:\n    - support.lee\n")

    out = StringIO()
    call_command("rolemodel", "import", str(tmp_path / "config.yml"), "--users", str(tmp_path / "users.yml"),
                 "--as", "eddie", "--dry-run", stdout=out)

    assert out.getvalue().count("membership maria.admin in prod.AdminRole") == 1


def test_the_dashboard_counts_groups_not_grants_for_people_near_the_group_limit(world):
    from console.selectors import iam_users_near_group_limit

    prod, admin, alice, permanent = world
    later = timezone.now() + timedelta(days=30)
    roles = [RoleFactory(logical_name=f"Role{number}") for number in range(7)]
    for role in roles[:4]:  # alice: 5 groups, each granted twice (10 grants)
        MembershipFactory(iam_user=alice, account=prod, role=role, reason="first")
        MembershipFactory(iam_user=alice, account=prod, role=role, reason="again", expires_at=later)
    MembershipFactory(iam_user=alice, account=prod, role=admin, reason="again", expires_at=later)
    bob = IAMUserFactory(user_name="bob")
    for role in [admin, *roles]:  # bob: 8 groups
        MembershipFactory(iam_user=bob, account=prod, role=role, reason="needed")
    assert [(user.user_name, user.group_count) for user in iam_users_near_group_limit()] == [("bob", 8)]
