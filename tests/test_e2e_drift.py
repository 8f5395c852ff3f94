"""End to end: drift through the command line and a real Celery worker, against the moto server.

A world is applied; then boto3, behind the console's back, adds a member, edits a group policy,
attaches AdministratorAccess to a role, puts an inline policy on a role and creates a /RoleModel/ group.
``rolemodel drift`` lists exactly those, each widening; adopting the membership closes it at the next
check; a plan reverts the group changes and repairs the roles (0 changes after it), and the next
check finds nothing.
"""
import json

import pytest

from audit.services import Actor
from drift import services
from drift.models import DriftFinding
from memberships.models import Membership
from plans.models import Plan
from plans.services import plan_approve
from tests.aws_world import live_groups, sample_world  # noqa: F401 (a fixture)
from tests.test_e2e_workflow import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def cli(celery_worker_factory, sample_world):
    """The samples imported (in this process: it only writes rows) and a worker to plan, apply and check."""
    return Cli(celery_worker_factory("filesystem://").env)


def apply_a_plan(cli, people) -> dict:
    plan, _ = cli.json("plan", "--wait", "--as", people.editor.username)
    if plan["status"] == "pending":
        plan_approve(actor=Actor.from_user(people.approver), plan=Plan.objects.get(pk=plan["id"]))  # sends no task
        applied, _ = cli.json("apply", str(plan["id"]), "--wait", "--as", people.editor.username)
        assert applied["status"] == "succeeded", applied
    return plan


def drift(cli, people) -> dict:
    check, _ = cli.json("drift", "--wait", "--as", people.approver.username)
    assert check["status"] == "succeeded", check
    return check


def listed(check) -> set:
    return {(f["kind"], f["account"], f["target"], f["widens"]) for f in check["findings"]}


def test_drift_lists_hand_changes_and_adopt_and_revert_converge(cli, fake_aws, people):
    apply_a_plan(cli, people)

    master, prod = fake_aws.session("master").client("iam"), fake_aws.session("prod").client("iam")
    master.add_user_to_group(GroupName="prod.AdminRole", UserName="dev.jones")
    master.put_group_policy(GroupName="cdn.BillingRole", PolicyName="cdn.BillingRole-Policy", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    # The fake AWS holds no AWS-managed policies: one of the same name and document stands in for it.
    administrator = prod.create_policy(PolicyName="AdministratorAccess", PolicyDocument=json.dumps(ALLOW_ALL))["Policy"]["Arn"]
    prod.attach_role_policy(RoleName="ReadOnlyRole", PolicyArn=administrator)
    prod.put_role_policy(RoleName="BillingRole", PolicyName="Anything", PolicyDocument=json.dumps(ALLOW_ALL))
    master.create_group(GroupName="prod.Shadow", Path="/RoleModel/")

    check = drift(cli, people)
    assert listed(check) == {
        ("member_added", "master", "prod.AdminRole", True),
        ("group_policy", "master", "cdn.BillingRole", True),
        ("role_managed_policy", "prod", f"ReadOnlyRole/{administrator}", True),
        ("role_inline_policy", "prod", "BillingRole/Anything", True),
        ("unknown_group", "master", "prod.Shadow", True),
    }
    assert check["api_calls"]["writes"] == 0

    member = DriftFinding.objects.get(kind=DriftFinding.Kind.MEMBER_ADDED, closed_at__isnull=True)
    services.finding_adopt(actor=Actor.from_user(people.other_editor), finding=member, reason="on call this week")
    assert Membership.objects.filter(iam_user__user_name="dev.jones", account__name="prod", role__logical_name="AdminRole").exists()
    check = drift(cli, people)
    assert ("member_added", "master", "prod.AdminRole", True) not in listed(check) and len(check["findings"]) == 4
    member.refresh_from_db()
    assert member.closed_at is not None

    # Revert: the next plan puts the group policy back, removes the unknown group and repairs the roles
    # edited in IAM; the member stays (adopted). After it, nothing is left to change or to find.
    apply_a_plan(cli, people)
    assert live_groups(fake_aws)["prod.AdminRole"]["members"] == {"maria.admin", "dev.jones"}
    assert prod.list_attached_role_policies(RoleName="ReadOnlyRole")["AttachedPolicies"] == []
    assert "Anything" not in prod.list_role_policies(RoleName="BillingRole")["PolicyNames"]
    assert apply_a_plan(cli, people)["status"] == "no_changes"
    assert drift(cli, people)["findings"] == []
    assert not DriftFinding.objects.filter(closed_at__isnull=True).exists()
