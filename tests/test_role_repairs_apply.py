"""Role repairs against the fake AWS, run in this process as the worker would (tests/workflow.py): the
roles are read as IAM holds them, the writes are harmless when made twice, and an AWS error fails the
account's apply step with AWS's reason. The whole path through the real worker is in
tests/test_e2e_role_repairs.py."""
import json
from urllib.parse import quote

import pytest
from django.utils import timezone

from accounts.models import AssumableAccount, LiveStackRecord, MasterAccount
from audit.services import Actor
from devtools.fake_aws import create_iam_users
from drift.models import DriftCheck, DriftFinding
from integrations import aws
from interchange.importing import import_files
from plans import role_repairs
from accounts.access import account_access
from plans.models import Job, JobStep, Plan
from tests import one_role_world
from tests.workflow import apply_now, plan_now

pytestmark = pytest.mark.django_db

EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def applied_world(fake_aws, people, tmp_path):
    """One role in prod, applied; returns its name in IAM."""
    aws.reset_session_cache()
    create_iam_users(fake_aws.session("master"), ["support.lee"])
    config, users = one_role_world.write_world_files(tmp_path, stack="Apply-RoleModel", master_id=fake_aws.account_id("master"),
                                                     accounts={"prod": fake_aws.account_id("prod")}, member="support.lee")
    import_files(config_path=config, users_path=users, actor=Actor.from_user(people.editor))
    job = apply_now(plan_now(Actor.from_user(people.editor)), approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    yield LiveStackRecord.objects.get(account__name="prod").role_names[one_role_world.ROLE]
    aws.reset_session_cache()


def open_finding(kind=DriftFinding.Kind.ROLE_INLINE_POLICY) -> None:
    now = timezone.now()
    check = DriftCheck.objects.create(status=DriftCheck.Status.SUCCEEDED, requested_by_name="system:schedule")
    DriftFinding.objects.create(kind=kind, account=AssumableAccount.objects.get(name="prod"), account_name="prod",
                                target="role", key=f"{kind}:prod:role", detail="edited in IAM", widens=True,
                                first_seen=now, last_seen=now, first_check=check, last_check=check)


def test_roles_are_read_as_iam_holds_them(applied_world, fake_aws):
    iam = fake_aws.session("prod").client("iam")
    iam.put_role_policy(RoleName=applied_world, PolicyName="Extra", PolicyDocument=json.dumps(EVERYTHING))
    counter = aws.CallCounter()

    roles = aws.account_roles(account_access(AssumableAccount.objects.get(name="prod"), MasterAccount.load()), counter)

    role = roles[applied_world]
    assert role.arn == f"arn:aws:iam::{fake_aws.account_id('prod')}:role/{applied_world}"
    assert role.inline["Extra"] == EVERYTHING and set(role.inline) == {"ReadOnlyAccess", "Extra"}
    assert role.trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{fake_aws.account_id('master')}:root"}
    assert (role.managed, role.boundary) == ([], "")
    assert counter.calls["GetAccountAuthorizationDetails"] == 1
    assert aws.decoded_policy_document(quote(json.dumps(EVERYTHING))) == EVERYTHING  # AWS sends documents URL-encoded


def test_repairs_made_twice_are_harmless(applied_world, fake_aws, eddie):
    iam = fake_aws.session("prod").client("iam")
    admin = iam.create_policy(PolicyName="AdministratorAccess", PolicyDocument=json.dumps(EVERYTHING))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=applied_world, PolicyArn=admin)
    iam.put_role_policy(RoleName=applied_world, PolicyName="Extra", PolicyDocument=json.dumps(EVERYTHING))
    iam.delete_role_policy(RoleName=applied_world, PolicyName="ReadOnlyAccess")
    open_finding()
    plan = plan_now(eddie)
    repairs = plan.accounts[0]["role_repairs"]
    assert [r["operation"] for r in repairs] == ["DetachRolePolicy", "DeleteRolePolicy", "PutRolePolicy"]
    access = account_access(AssumableAccount.objects.get(name="prod"), MasterAccount.load())

    logged = []
    for _ in range(2):  # a task delivered twice writes the same things again
        role_repairs.apply_role_repairs(access, aws.CallCounter(), repairs, before_each=lambda: None, log=logged.append)

    assert len(logged) == 6
    assert iam.list_attached_role_policies(RoleName=applied_world)["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=applied_world)["PolicyNames"] == ["ReadOnlyAccess"]
    assert plan_now(eddie).summary == {"add": 0, "change": 0, "remove": 0}


def test_an_aws_error_fails_the_account_step_with_the_reason(applied_world, fake_aws, eddie, people):
    iam = fake_aws.session("prod").client("iam")
    iam.update_assume_role_policy(RoleName=applied_world, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                                                 "Action": "sts:AssumeRole"}]}))
    open_finding(DriftFinding.Kind.ROLE_TRUST_POLICY)
    plan = plan_now(eddie)
    assert [r["operation"] for r in plan.accounts[0]["role_repairs"]] == ["UpdateAssumeRolePolicy"]
    Plan.objects.filter(pk=plan.pk).update(accounts=[{**plan.accounts[0], "role_repairs": [
        {**plan.accounts[0]["role_repairs"][0], "role_name": "GoneRole"}]}])  # as if the role went after planning

    job = apply_now(Plan.objects.get(pk=plan.pk), approver=people.approver, requester=people.editor)

    step = job.steps.get(target="prod")
    assert job.status == Job.Status.FAILED and step.status == JobStep.Status.FAILED
    assert "UpdateAssumeRolePolicy failed: NoSuchEntity" in step.error and "GoneRole" in step.error
    assert step.api_calls["operations"]["GetCallerIdentity"] == 1  # the target was checked before the write
