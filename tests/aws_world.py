"""Helpers for tests that plan and apply against the fake AWS: the samples loaded, AWS read back."""
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from devtools.fake_aws import create_iam_users
from integrations import aws
from plans.models import Plan
from tests.workflow import plan_now

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SAMPLE_ACCOUNTS = ("cdn", "prod", "staging")
SAMPLE_ROLES = ("AdminRole", "BillingRole", "PowerUserRole", "ReadOnlyRole")


def sample_user_names() -> list[str]:
    user_map = yaml.safe_load((SAMPLES / "users.yml").read_text())
    return sorted({user for roles in user_map.values() for users in roles.values() for user in users})


@pytest.fixture
def sample_world(fake_aws, people):
    """The project's samples imported (as eddie, an Editor) and their IAM users in the fake master account."""
    aws.reset_session_cache()
    create_iam_users(fake_aws.session("master"), sample_user_names())
    call_command("rolemodel", "import", str(SAMPLES / "config.yml"), "--users", str(SAMPLES / "users.yml"),
                 "--as", people.editor.username, stdout=open("/dev/null", "w"))
    yield fake_aws
    aws.reset_session_cache()


def live_groups(fake_aws) -> dict:
    """Master account groups under /RoleModel/: name -> {"policies": {name: doc}, "members": set}."""
    iam = fake_aws.session("master").client("iam")
    details = iam.get_account_authorization_details(Filter=["User", "Group"])
    groups = {
        group["GroupName"]: {
            "path": group["Path"],
            "policies": {p["PolicyName"]: p["PolicyDocument"] for p in group.get("GroupPolicyList", [])},
            "members": set(),
        }
        for group in details["GroupDetailList"]
        if group["Path"] == "/RoleModel/"
    }
    for user in details["UserDetailList"]:
        for group in user.get("GroupList", []):
            if group in groups:
                groups[group]["members"].add(user["UserName"])
    return groups


def live_role_names(fake_aws, profile: str) -> set[str]:
    iam = fake_aws.session(profile).client("iam")
    return {role["RoleName"] for role in iam.list_roles()["Roles"]}


def describe_stack(session, stack_name: str) -> dict | None:
    """The stack as DescribeStacks shows it through a boto3 ``session``, or None when AWS says it is missing
    (told apart by the error code, as integrations/aws.py's ``is_missing_stack`` does)."""
    cloudformation = session.client("cloudformation")
    try:
        return cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except cloudformation.exceptions.ClientError as error:
        answer = error.response.get("Error", {})
        if aws.is_missing_stack(aws.AwsError(str(error), code=answer.get("Code", ""), aws_message=answer.get("Message", ""))):
            return None
        raise


def live_stack_status(fake_aws, profile: str, stack_name: str) -> str | None:
    stack = describe_stack(fake_aws.session(profile), stack_name)
    return stack["StackStatus"] if stack else None


@pytest.fixture
def pending_plan(sample_world, eddie):
    """The samples planned by eddie against an empty fake AWS: every stack, group and member to add."""
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.PENDING, plan.blocks or plan.error
    return plan
