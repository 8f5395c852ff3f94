"""End to end: a role edited in IAM behind the console's back (which CloudFormation cannot see) is put back
by the next plan, once a drift check has left open findings about it. The command line and a real Celery
worker against the moto server.

1. A world of one role in prod and cdn, applied (in this process: it is the setting, not the subject).
2. With boto3, in prod: a copy of AdministratorAccess attached to the role (the moto server has no AWS
   managed policies), an inline policy put, the trust policy opened to another account without MFA.
3. The open findings a drift check leaves for those edits, written here as rows (the check itself is
   another module's); cdn has none, so its roles are not read (no extra call).
4. The plan lists exactly those three repairs; approved by another person and applied, IAM holds what
   the template says again, and the next plan has nothing to change.
"""
import json

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import AssumableAccount, LiveStackRecord
from audit.services import Actor
from devtools.fake_aws import create_iam_users
from drift.models import DriftCheck, DriftFinding
from integrations import aws
from interchange.importing import import_files
from core import normalize
from plans import services
from plans.services import PlanError
from plans.models import Job, JobStep, Plan
from tests import one_role_world
from tests.test_e2e_workflow import Cli
from tests.workflow import apply_now, plan_now

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STACK = "Repair-RoleModel"
MEMBER = "support.lee"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
OPEN_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def cli(celery_worker, fake_aws, people):
    return Cli(celery_worker.env)


def open_role_findings(account_name: str, role_name: str, admin_arn: str) -> None:
    """What a drift check that saw the three edits leaves: one open finding each."""
    now = timezone.now()
    check = DriftCheck.objects.create(status=DriftCheck.Status.SUCCEEDED, requested_by_name="system:schedule",
                                      started_at=now, finished_at=now)
    account = AssumableAccount.objects.get(name=account_name)
    for kind, target, live in ((DriftFinding.Kind.ROLE_MANAGED_POLICY, f"{role_name}/{admin_arn}", admin_arn),
                               (DriftFinding.Kind.ROLE_INLINE_POLICY, f"{role_name}/Backdoor", EVERYTHING),
                               (DriftFinding.Kind.ROLE_TRUST_POLICY, f"{role_name}/trust", OPEN_TRUST)):
        DriftFinding.objects.create(kind=kind, account=account, account_name=account_name, target=target,
                                    key=f"{kind}:{account_name}:{target}", detail=f"{target} edited in IAM", live=live,
                                    expected=None, widens=True, first_seen=now, last_seen=now, first_check=check,
                                    last_check=check)


def step_operations(plan_id: int, kind: str) -> dict:
    job = Plan.objects.get(pk=plan_id).jobs.get(kind=kind)
    return {step.target: (step.api_calls or {}).get("operations", {}) for step in job.steps.all()}


def test_roles_edited_in_iam_are_put_back_by_the_next_plan(cli, fake_aws, people, tmp_path):
    editor = people.editor.username
    people.editor.groups.add(Group.objects.get(name="Approver"))  # may approve in general, but not the plan he asked for
    aws.reset_session_cache()
    create_iam_users(fake_aws.session("master"), [MEMBER])
    config, users = one_role_world.write_world_files(
        tmp_path, stack=STACK, master_id=fake_aws.account_id("master"), member=MEMBER,
        accounts={"prod": fake_aws.account_id("prod"), "cdn": fake_aws.account_id("cdn")})
    import_files(config_path=config, users_path=users, actor=Actor.from_user(people.editor))
    job = apply_now(plan_now(Actor.from_user(people.editor)), approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error

    # 2. Behind the console's back.
    role_name = LiveStackRecord.objects.get(account__name="prod").role_names[one_role_world.ROLE]
    iam = fake_aws.session("prod").client("iam")
    trust_as_applied = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    admin_arn = iam.create_policy(PolicyName="AdministratorAccess", PolicyDocument=json.dumps(EVERYTHING))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role_name, PolicyArn=admin_arn)
    iam.put_role_policy(RoleName=role_name, PolicyName="Backdoor", PolicyDocument=json.dumps(EVERYTHING))
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(OPEN_TRUST))
    open_role_findings("prod", role_name, admin_arn)

    # 3. The plan carries exactly their reversal, and reads only prod's roles.
    plan, _ = cli.json("plan", "--wait", "--as", editor)
    assert plan["status"] == "pending" and not plan["blocked"], plan
    assert [(r["account"], r["role"], r["operation"], r["subject"]) for r in plan["role_repairs"]] == [
        ("prod", role_name, "UpdateAssumeRolePolicy", "trust policy"),
        ("prod", role_name, "DetachRolePolicy", admin_arn),
        ("prod", role_name, "DeleteRolePolicy", "Backdoor"),
    ]
    assert all(r["description"].endswith("(edited in IAM outside CloudFormation)") for r in plan["role_repairs"])
    assert plan["changes"] == {"add": 0, "change": 3, "remove": 0} and plan["api_calls"]["writes"] == 0
    assert normalize.same_policy(plan["role_repairs"][0]["wanted"], trust_as_applied)
    planned_calls = step_operations(plan["id"], Job.Kind.PLAN)
    assert planned_calls["prod"].get("GetAccountAuthorizationDetails") == 1
    assert "GetAccountAuthorizationDetails" not in planned_calls["cdn"]

    # 4. Four eyes as for any plan; then IAM matches the template again.
    stored = Plan.objects.get(pk=plan["id"])
    with pytest.raises(PlanError, match="four eyes"):
        services.plan_approve(actor=Actor.from_user(people.editor), plan=stored)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=stored)
    applied, _ = cli.json("apply", str(plan["id"]), "--wait", "--as", editor)
    assert applied["status"] == "succeeded", applied
    applied_calls = step_operations(plan["id"], Job.Kind.APPLY)
    assert set(applied_calls) == {"prod", JobStep.MASTER}  # cdn had nothing to do
    assert {op: applied_calls["prod"].get(op) for op in ("GetCallerIdentity", "UpdateAssumeRolePolicy",
                                                          "DetachRolePolicy", "DeleteRolePolicy")} == {
        "GetCallerIdentity": 1, "UpdateAssumeRolePolicy": 1, "DetachRolePolicy": 1, "DeleteRolePolicy": 1}

    role = iam.get_role(RoleName=role_name)["Role"]
    assert normalize.same_policy(role["AssumeRolePolicyDocument"], trust_as_applied)
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=role_name)["PolicyNames"] == ["ReadOnlyAccess"]

    # The findings stay open until a drift check closes them: the next plan reads prod's roles again
    # and finds nothing left to put back.
    again, _ = cli.json("plan", "--wait", "--as", editor)
    assert again["status"] == "no_changes" and again["changes"] == {"add": 0, "change": 0, "remove": 0}, again
    assert again["role_repairs"] == [] and again["api_calls"]["writes"] == 0
