"""The per-account record of the live stack: what a plan reads, what it skips, what an apply keeps.

Against the fake AWS, with the plan and apply services called in this process (tests/workflow.py).
"""
import json

import pytest

from accounts.models import AssumableAccount, LiveStackRecord, MasterAccount
from audit.services import Actor
from plans import desired
from plans.models import Job, JobStep, Plan
from roles.models import InlinePolicy
from roles.services import policy_update
from tests.aws_world import SAMPLE_ACCOUNTS, SAMPLE_ROLES, sample_world  # noqa: F401
from tests.workflow import apply_now, plan_now

pytestmark = pytest.mark.django_db


def step_operations(plan: Plan) -> dict:
    """Per job step (account name or "(master)"): AWS operation -> calls made."""
    job = plan.jobs.get(kind=Job.Kind.PLAN)
    return {step.target: step.api_calls.get("operations", {}) for step in job.steps.all()}


@pytest.fixture
def applied(sample_world, people, eddie):
    """The samples planned and applied: every account has its stack, recorded by the apply."""
    job = apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return sample_world


def test_an_apply_records_each_stack_it_changed_with_its_role_names(applied):
    stack_name = MasterAccount.load().stack_name
    for name in SAMPLE_ACCOUNTS:
        record = LiveStackRecord.objects.get(account__name=name)
        live = applied.session(name).client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        assert (record.stack_name, record.stack_id, record.stack_status) == (stack_name, live["StackId"], live["StackStatus"])
        assert set(record.template["Resources"]) >= set(SAMPLE_ROLES)
        assert record.role_names == {role: role for role in SAMPLE_ROLES}  # the console names its roles


def test_a_no_op_plan_makes_one_call_per_account_and_two_in_the_master_account(applied, eddie):
    again = plan_now(eddie)

    assert again.status == Plan.Status.NO_CHANGES, again.blocks or again.error
    operations = step_operations(again)
    for name in SAMPLE_ACCOUNTS:
        assert operations[name] == {"DescribeStacks": 1}
    assert operations[JobStep.MASTER] == {"GetAccountAuthorizationDetails": 1, "GetAccountSummary": 1}
    totals = again.jobs.get(kind=Job.Kind.PLAN).api_call_totals()
    assert totals["total"] <= len(SAMPLE_ACCOUNTS) + 2 and totals["writes"] == 0


def test_a_plan_without_a_record_reads_the_template_and_the_roles_and_records_them(applied, eddie):
    LiveStackRecord.objects.all().delete()

    first = plan_now(eddie)

    assert first.status == Plan.Status.NO_CHANGES, first.blocks or first.error
    for name, operations in step_operations(first).items():
        if name != JobStep.MASTER:
            assert operations == {"DescribeStacks": 1, "GetTemplate": 1, "ListStackResources": 1}
    assert LiveStackRecord.objects.count() == len(SAMPLE_ACCOUNTS)
    assert step_operations(plan_now(eddie))["prod"] == {"DescribeStacks": 1}


def test_a_stack_replaced_behind_the_consoles_back_is_read_again(applied, eddie):
    stack_name = MasterAccount.load().stack_name
    record = LiveStackRecord.objects.get(account__name="prod")
    cloudformation = applied.session("prod").client("cloudformation")
    cloudformation.delete_stack(StackName=stack_name)
    cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(record.template),
                                Parameters=[{"ParameterKey": "AssumingAccountID", "ParameterValue": "111111111111"}],
                                Capabilities=["CAPABILITY_NAMED_IAM"])
    new_id = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackId"]

    plan = plan_now(eddie)

    assert step_operations(plan)["prod"] == {"DescribeStacks": 1, "GetTemplate": 1, "ListStackResources": 1}
    assert step_operations(plan)["cdn"] == {"DescribeStacks": 1}
    assert LiveStackRecord.objects.get(account__name="prod").stack_id == new_id != record.stack_id


def test_a_stack_deleted_behind_the_consoles_back_drops_its_record_and_is_planned_anew(applied, eddie):
    applied.session("cdn").client("cloudformation").delete_stack(StackName=MasterAccount.load().stack_name)

    plan = plan_now(eddie)

    assert not LiveStackRecord.objects.filter(account__name="cdn").exists()
    assert {a["name"]: a["action"] for a in plan.accounts}["cdn"] == "create"


def test_a_changed_policy_is_planned_against_the_recorded_template_and_the_apply_records_the_new_one(
    applied, people, eddie
):
    policy = InlinePolicy.objects.get(role__logical_name="AdminRole")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    policy_update(actor=Actor.from_user(people.other_editor), policy=policy, name=policy.name, document=document)

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.PENDING
    assert {(a["name"], r["action"]) for a in plan.accounts for r in a["resources"]} == {
        (name, "change") for name in SAMPLE_ACCOUNTS
    }
    assert "GetTemplate" not in step_operations(plan)["prod"]
    job = apply_now(plan, approver=people.approver, requester=people.other_editor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    record = LiveStackRecord.objects.get(account__name="prod")
    resources = [r for r in record.template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    assert document in [r["Properties"]["PolicyDocument"] for r in resources]
    assert plan_now(eddie).status == Plan.Status.NO_CHANGES


def test_a_failed_apply_drops_the_record_so_the_next_plan_reads_the_stack_afresh(applied, people, eddie):
    policy = InlinePolicy.objects.get(role__logical_name="AdminRole")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    policy_update(actor=Actor.from_user(people.other_editor), policy=policy, name=policy.name, document=document)
    plan = plan_now(eddie)
    prod = next(a for a in plan.accounts if a["name"] == "prod")
    applied.session("prod").client("cloudformation").delete_change_set(ChangeSetName=prod["change_set_id"])

    job = apply_now(plan, approver=people.approver, requester=people.other_editor)

    assert job.status == Job.Status.FAILED
    assert not LiveStackRecord.objects.filter(account__name="prod").exists()
    assert "GetTemplate" in step_operations(plan_now(eddie))["prod"]


def test_a_disabled_account_is_neither_read_nor_recorded(applied, eddie):
    AssumableAccount.objects.filter(name="staging").update(enabled=False)
    LiveStackRecord.objects.filter(account__name="staging").delete()

    plan = plan_now(eddie)

    assert "staging" not in step_operations(plan)
    assert not LiveStackRecord.objects.filter(account__name="staging").exists()
    assert "staging" in desired.desired_state_document()["accounts"]


def test_a_stack_that_differs_only_in_its_description_is_left_alone(applied, eddie):
    stack_name = MasterAccount.load().stack_name
    record = LiveStackRecord.objects.get(account__name="prod")
    theirs = json.loads(json.dumps(record.template))
    theirs["Description"] = "This stack contains all of the assumable roles."
    theirs["Parameters"]["AssumingAccountID"]["Description"] = "The 12-digit ID for the account that will assume the roles"
    cloudformation = applied.session("prod").client("cloudformation")
    cloudformation.update_stack(StackName=stack_name, TemplateBody=json.dumps(theirs), Capabilities=["CAPABILITY_NAMED_IAM"],
                                Parameters=[{"ParameterKey": "AssumingAccountID", "UsePreviousValue": True}])
    LiveStackRecord.objects.filter(account__name="prod").delete()  # the fake AWS keeps LastUpdatedTime empty

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.NO_CHANGES, plan.accounts
    assert {a["name"]: a["action"] for a in plan.accounts}["prod"] == "none"
    assert plan.jobs.get(kind=Job.Kind.PLAN).api_call_totals()["writes"] == 0
