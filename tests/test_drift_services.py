"""Drift checks against the fake AWS, run in the test process (tests/workflow.py's way): what a check
finds after changes made with boto3 behind the console's back, what it leaves alone (pending changes),
adoption, and failures that close nothing."""
import json

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import AssumableAccount
from audit.models import AuditEvent
from audit.services import Actor
from drift import services
from drift.models import AppliedState, DriftCheck, DriftFinding
from memberships.models import Membership
from memberships.services import membership_revoke
from tests.aws_world import SAMPLE_ACCOUNTS, sample_world  # noqa: F401 (a fixture)
from tests.workflow import apply_now, plan_now

pytestmark = pytest.mark.django_db
STACK = "Sample-RoleModel"
Kind = DriftFinding.Kind


def check_now(actor: Actor) -> tuple[DriftCheck, services.CheckOutcome]:
    check, created = services.drift_check_request(actor=actor)
    assert created
    outcome = services.run_drift_check(check_id=check.pk)
    check.refresh_from_db()
    assert check.status == DriftCheck.Status.SUCCEEDED, check.error
    return check, outcome


def open_kinds() -> list[tuple]:
    return sorted((f.kind, f.account_name, f.target, f.widens) for f in DriftFinding.objects.filter(closed_at__isnull=True))


@pytest.fixture
def applied_world(sample_world, eddie, people):
    plan = plan_now(eddie)
    apply_now(plan, approver=people.approver, requester=people.editor)
    assert AppliedState.objects.get().plan_id == plan.pk
    return sample_world


def test_nothing_changed_means_no_finding_within_2a_plus_2_calls(applied_world, eddie):
    check_now(eddie)  # reads each stack's template once more: the apply's record predates nothing
    check, outcome = check_now(eddie)
    assert open_kinds() == [] and outcome.opened == []
    assert check.api_calls["total"] <= 2 * len(SAMPLE_ACCOUNTS) + 2, check.api_calls
    assert check.api_calls["writes"] == 0


def test_hand_changes_are_found_with_whether_they_widen_and_closed_when_undone(applied_world, eddie):
    master = applied_world.session("master").client("iam")
    prod = applied_world.session("prod").client("iam")
    master.add_user_to_group(GroupName="prod.AdminRole", UserName="dev.jones")
    master.remove_user_from_group(GroupName="prod.AdminRole", UserName="maria.admin")
    master.put_group_policy(GroupName="cdn.BillingRole", PolicyName="cdn.BillingRole-Policy", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    master.create_group(GroupName="prod.Shadow", Path="/RoleModel/")
    admin_policy = prod.create_policy(PolicyName="AdministratorAccess", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]
    prod.attach_role_policy(RoleName="ReadOnlyRole", PolicyArn=admin_policy)
    prod.put_role_policy(RoleName="BillingRole", PolicyName="Extra", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    prod.put_role_permissions_boundary(RoleName="PowerUserRole", PermissionsBoundary=admin_policy)

    check, outcome = check_now(eddie)
    assert open_kinds() == sorted([
        (Kind.MEMBER_ADDED, "master", "prod.AdminRole", True),
        (Kind.MEMBER_REMOVED, "master", "prod.AdminRole", False),
        (Kind.GROUP_POLICY, "master", "cdn.BillingRole", True),
        (Kind.UNKNOWN_GROUP, "master", "prod.Shadow", True),
        (Kind.ROLE_MANAGED_POLICY, "prod", f"ReadOnlyRole/{admin_policy}", True),
        (Kind.ROLE_INLINE_POLICY, "prod", "BillingRole/Extra", True),
        (Kind.ROLE_BOUNDARY, "prod", "PowerUserRole", False),
    ])
    assert {f.pk for f in outcome.new_widening} == set(DriftFinding.objects.filter(widens=True).values_list("pk", flat=True))

    # Seen again: the same rows, last seen moved, nothing new.
    again, outcome = check_now(eddie)
    assert outcome.opened == [] and DriftFinding.objects.count() == 7
    assert set(DriftFinding.objects.values_list("last_check", flat=True)) == {again.pk}

    master.remove_user_from_group(GroupName="prod.AdminRole", UserName="dev.jones")
    master.delete_group(GroupName="prod.Shadow")
    _, outcome = check_now(eddie)
    assert sorted(f.kind for f in outcome.closed) == [Kind.MEMBER_ADDED, Kind.UNKNOWN_GROUP]
    assert DriftFinding.objects.filter(closed_at__isnull=True).count() == 5


def test_changes_pending_in_the_console_are_not_drift(applied_world, eddie, people):
    membership = Membership.objects.get(iam_user__user_name="maria.admin", account__name="prod", role__logical_name="AdminRole")
    membership_revoke(actor=eddie, membership=membership, reason="left the team")
    master = applied_world.session("master").client("iam")
    master.remove_user_from_group(GroupName="prod.AdminRole", UserName="maria.admin")  # done early, by hand
    check_now(eddie)
    assert open_kinds() == []


def test_a_failed_check_closes_nothing_and_says_why(applied_world, eddie):
    applied_world.session("master").client("iam").create_group(GroupName="prod.Shadow", Path="/RoleModel/")
    check_now(eddie)
    AssumableAccount.objects.filter(name="cdn").update(profile="no-such-profile")
    check, _ = services.drift_check_request(actor=eddie)
    services.run_drift_check(check_id=check.pk)
    check.refresh_from_db()
    assert check.status == DriftCheck.Status.FAILED and "cdn" in check.error
    assert DriftFinding.objects.filter(closed_at__isnull=True).count() == 1


def test_one_check_at_a_time_and_viewers_may_not_start_one(people, eddie):
    first, created = services.drift_check_request(actor=eddie)
    second, created_again = services.drift_check_request(actor=eddie)
    assert created and not created_again and first == second
    with pytest.raises(PermissionDenied):
        services.drift_check_request(actor=Actor.from_user(people.viewer))


def test_adopting_a_hand_added_member_grants_it_and_the_next_check_closes_it(applied_world, eddie):
    applied_world.session("master").client("iam").add_user_to_group(GroupName="prod.AdminRole", UserName="dev.jones")
    check_now(eddie)
    finding = DriftFinding.objects.get(kind=Kind.MEMBER_ADDED)
    services.finding_adopt(actor=eddie, finding=finding, reason="on call this week")
    assert Membership.objects.filter(iam_user__user_name="dev.jones", account__name="prod", role__logical_name="AdminRole").exists()
    assert AuditEvent.objects.filter(action="drift_adopted", object_id=str(finding.pk)).exists()
    _, outcome = check_now(eddie)
    assert [f.pk for f in outcome.closed] == [finding.pk]


def test_adopting_a_role_edit_updates_the_role(applied_world, eddie):
    prod = applied_world.session("prod").client("iam")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    prod.put_role_policy(RoleName="BillingRole", PolicyName="Extra", PolicyDocument=json.dumps(document))
    check_now(eddie)
    finding = DriftFinding.objects.get(kind=Kind.ROLE_INLINE_POLICY)
    services.finding_adopt(actor=eddie, finding=finding, reason="needed for invoices")
    from roles.models import InlinePolicy
    assert InlinePolicy.objects.get(role__logical_name="BillingRole", name="Extra").document == document


@pytest.mark.parametrize("reason, message", [("", "Say why"), ("   ", "Say why")])
def test_adopting_needs_a_reason(applied_world, eddie, reason, message):
    applied_world.session("master").client("iam").add_user_to_group(GroupName="prod.AdminRole", UserName="dev.jones")
    check_now(eddie)
    finding = DriftFinding.objects.get(kind=Kind.MEMBER_ADDED)
    with pytest.raises(services.DriftError, match=message):
        services.finding_adopt(actor=eddie, finding=finding, reason=reason)
    assert not Membership.objects.filter(iam_user__user_name="dev.jones", account__name="prod", role__logical_name="AdminRole").exists()


def test_what_cannot_be_adopted_says_why(applied_world, eddie, people):
    applied_world.session("master").client("iam").create_group(GroupName="prod.Shadow", Path="/RoleModel/")
    check_now(eddie)
    finding = DriftFinding.objects.get(kind=Kind.UNKNOWN_GROUP)
    with pytest.raises(services.DriftError, match="revert"):
        services.finding_adopt(actor=eddie, finding=finding, reason="keep it")
    with pytest.raises(PermissionDenied):
        services.finding_adopt(actor=Actor.from_user(people.viewer), finding=finding, reason="keep it")
