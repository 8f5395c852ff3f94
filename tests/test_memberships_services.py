from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor
from memberships.models import IAMUser, Membership
from memberships.services import (
    expire_due_memberships,
    iam_user_delete,
    membership_revoke,
    memberships_grant,
)
from tests.factories import AccountFactory, IAMUserFactory, MembershipFactory, RoleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def prod():
    return AccountFactory(name="prod")


@pytest.fixture
def admin_role():
    return RoleFactory(logical_name="Admin")


def unchanged():
    return Membership.objects.count(), AuditEvent.objects.count()


def test_grant_creates_memberships_with_who_asked_and_why(eddie, people, prod, admin_role):
    alice = IAMUserFactory(user_name="alice")
    expires = timezone.now() + timedelta(days=2)
    result = memberships_grant(actor=eddie, grants=[(alice, prod, admin_role)], reason=" on call ", expires_at=expires)
    membership = Membership.objects.get()
    assert result.created == [membership] and result.already_granted == []
    assert (membership.reason, membership.requested_by, membership.requested_by_name, membership.expires_at) == (
        "on call",
        people.editor,
        "eddie",
        expires,
    )
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.object_id, event.actor, event.actor_name, event.reason) == (
        "create",
        "membership",
        str(membership.pk),
        people.editor,
        "eddie",
        "on call",
    )
    assert event.before is None
    assert event.after == {
        "user": "alice",
        "account": "prod",
        "role": "Admin",
        "group": "prod.Admin",
        "reason": "on call",
        "requested_by": "eddie",
        "expires_at": expires.isoformat(),
    }


def test_grant_reports_existing_memberships_and_audits_only_new_ones(eddie, prod, admin_role):
    existing = MembershipFactory(account=prod, role=admin_role)
    newcomer = IAMUserFactory()
    result = memberships_grant(
        actor=eddie, grants=[(existing.iam_user, prod, admin_role), (newcomer, prod, admin_role)], reason="team"
    )
    assert result.already_granted == [existing]
    assert [m.iam_user for m in result.created] == [newcomer]
    assert AuditEvent.objects.count() == 1


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"reason": ""}, "Say why"),
        ({"reason": "   "}, "Say why"),
        ({"reason": "x", "expires_at": timezone.now() - timedelta(minutes=1)}, "in the past"),
        ({"reason": "x", "grants": []}, "at least one"),
    ],
)
def test_grant_refuses_bad_requests(eddie, prod, admin_role, kwargs, message):
    grants = kwargs.pop("grants", [(IAMUserFactory(), prod, admin_role)])
    before = unchanged()
    with pytest.raises(ValidationError, match=message):
        memberships_grant(actor=eddie, grants=grants, **kwargs)
    assert unchanged() == before


def test_grant_refuses_a_role_that_does_not_apply_to_the_account(eddie, prod):
    dev = AccountFactory(name="dev")
    billing = RoleFactory(logical_name="Billing", applies_to_all_accounts=False)
    billing.accounts.add(prod)
    before = unchanged()
    with pytest.raises(ValidationError, match="does not apply to account dev"):
        memberships_grant(actor=eddie, grants=[(IAMUserFactory(), prod, billing), (IAMUserFactory(), dev, billing)], reason="x")
    assert unchanged() == before


def test_grant_is_all_or_nothing_across_users(eddie, admin_role):
    full, fresh = IAMUserFactory(), IAMUserFactory()
    for account in AccountFactory.create_batch(10):
        MembershipFactory(iam_user=full, account=account, role=admin_role)
    extra = AccountFactory()
    before = unchanged()
    with pytest.raises(ValidationError, match="at most 10 groups"):
        memberships_grant(actor=eddie, grants=[(fresh, extra, admin_role), (full, extra, admin_role)], reason="x")
    assert unchanged() == before
    assert not fresh.memberships.exists()


def test_revoke_removes_the_membership_and_audits_its_last_state(eddie, people, prod, admin_role):
    membership = MembershipFactory(account=prod, role=admin_role, iam_user=IAMUserFactory(user_name="bob"))
    membership_pk = membership.pk
    membership_revoke(actor=eddie, membership=membership, reason="no longer on call")
    assert not Membership.objects.exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.object_id, event.actor, event.reason, event.after) == (
        "delete",
        str(membership_pk),
        people.editor,
        "no longer on call",
        None,
    )
    assert event.before["group"] == "prod.Admin" and event.before["user"] == "bob"


def test_expiry_revokes_only_memberships_that_are_due(prod, admin_role):
    now = timezone.now()
    due = MembershipFactory(account=prod, role=admin_role, expires_at=now - timedelta(minutes=5))
    later = MembershipFactory(account=prod, role=admin_role, expires_at=now + timedelta(days=1))
    forever = MembershipFactory(account=prod, role=admin_role, expires_at=None)
    due_pk = due.pk

    assert expire_due_memberships(now=now) == 1

    assert set(Membership.objects.values_list("pk", flat=True)) == {later.pk, forever.pk}
    event = AuditEvent.objects.get()
    assert (event.action, event.object_id, event.actor, event.actor_name, event.source) == (
        "delete",
        str(due_pk),
        None,
        "system:expiry",
        "worker",
    )
    assert event.reason.startswith("Expired at ")
    assert expire_due_memberships(now=now) == 0


def test_expiry_catches_up_when_the_clock_has_moved_on(prod, admin_role):
    MembershipFactory(account=prod, role=admin_role, expires_at=timezone.now() + timedelta(hours=1))
    assert expire_due_memberships(now=timezone.now() + timedelta(hours=2)) == 1
    assert not Membership.objects.exists()


def test_deleting_an_iam_user_revokes_each_grant_with_an_audit_row(eddie, prod, admin_role):
    carol = IAMUserFactory(user_name="carol")
    MembershipFactory(iam_user=carol, account=prod, role=admin_role)
    MembershipFactory(iam_user=carol, account=AccountFactory(name="dev"), role=admin_role)
    iam_user_delete(actor=eddie, iam_user=carol, reason="")
    assert not IAMUser.objects.exists() and not Membership.objects.exists()
    revocations = AuditEvent.objects.filter(object_type="membership", action="delete")
    assert sorted(e.before["group"] for e in revocations) == ["dev.Admin", "prod.Admin"]
    assert {e.reason for e in revocations} == {"IAM user carol removed"}
    assert AuditEvent.objects.filter(object_type="IAM user", action="delete").count() == 1


def test_a_system_actor_is_recorded_by_name(prod, admin_role):
    memberships_grant(
        actor=Actor.system("import:users.yml"), grants=[(IAMUserFactory(), prod, admin_role)], reason="imported from users.yml"
    )
    event = AuditEvent.objects.get()
    assert (event.actor, event.actor_name, event.source) == (None, "import:users.yml", "cli")
