"""The fake AWS replaces an IAM role whose RoleName or Path a stack update changes, as AWS does
(devtools/moto_server.py); moto alone fails such an update with NoSuchEntity."""
import json

import pytest
from botocore.exceptions import ClientError

STACK = "Replacement"


def template(**role_properties) -> str:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]}
    return json.dumps({"Resources": {
        "Admin": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust, **role_properties}},
        "AdminPolicies": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "Everything", "Roles": [{"Ref": "Admin"}],
            "PolicyDocument": {"Version": "2012-10-17",
                               "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}},
    }})


@pytest.fixture
def prod(fake_aws):
    session = fake_aws.session("prod")
    return session.client("cloudformation"), session.client("iam")


def roles(iam) -> dict:
    return {role["RoleName"]: role for role in iam.list_roles()["Roles"] if role["RoleName"] != "admin"}


def physical_id(cloudformation, logical_id: str) -> str:
    resources = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    return next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == logical_id)


def test_a_role_given_a_role_name_is_replaced_with_its_policies(prod):
    cloudformation, iam = prod
    cloudformation.create_stack(StackName=STACK, TemplateBody=template(), Capabilities=["CAPABILITY_IAM"])
    generated = physical_id(cloudformation, "Admin")
    assert generated.startswith(f"{STACK}-Admin-")

    cloudformation.update_stack(StackName=STACK, TemplateBody=template(RoleName="Administrators"),
                                Capabilities=["CAPABILITY_NAMED_IAM"])

    assert set(roles(iam)) == {"Administrators"}
    assert iam.list_role_policies(RoleName="Administrators")["PolicyNames"] == ["Everything"]
    assert physical_id(cloudformation, "Admin") == "Administrators"


def test_a_role_given_another_path_is_replaced_under_a_new_name(prod):
    cloudformation, iam = prod
    cloudformation.create_stack(StackName=STACK, TemplateBody=template(), Capabilities=["CAPABILITY_IAM"])
    old = physical_id(cloudformation, "Admin")

    cloudformation.update_stack(StackName=STACK, TemplateBody=template(Path="/people/"), Capabilities=["CAPABILITY_IAM"])

    new = physical_id(cloudformation, "Admin")
    assert new != old and set(roles(iam)) == {new}
    assert roles(iam)[new]["Arn"].endswith(f":role/people/{new}")
    assert iam.list_role_policies(RoleName=new)["PolicyNames"] == ["Everything"]


def test_a_custom_named_role_cannot_be_replaced_under_the_same_name(prod):
    # AWS refuses too ("cannot update a stack when a custom-named resource requires replacing").
    cloudformation, iam = prod
    cloudformation.create_stack(StackName=STACK, TemplateBody=template(RoleName="Admin"), Capabilities=["CAPABILITY_NAMED_IAM"])

    with pytest.raises(ClientError, match="already exists"):
        cloudformation.update_stack(StackName=STACK, TemplateBody=template(RoleName="Admin", Path="/people/"),
                                    Capabilities=["CAPABILITY_NAMED_IAM"])
    assert roles(iam)["Admin"]["Arn"].endswith(":role/Admin")


def test_a_role_whose_name_and_path_stay_is_updated_in_place(prod):
    cloudformation, iam = prod
    cloudformation.create_stack(StackName=STACK, TemplateBody=template(), Capabilities=["CAPABILITY_IAM"])
    before = roles(iam)

    cloudformation.update_stack(StackName=STACK, TemplateBody=template(Description="Everything, for the platform team"),
                                Capabilities=["CAPABILITY_IAM"])

    after = roles(iam)
    assert set(after) == set(before)
    assert [role["RoleId"] for role in after.values()] == [role["RoleId"] for role in before.values()]


def test_credentials_issued_before_a_reset_still_reach_their_account(fake_aws):
    """A worker serving several tests holds assumed credentials across the fake AWS's resets; AWS keeps
    issued credentials valid, and so does the fake (moto alone would answer as 123456789012)."""
    sts = fake_aws.session("prod").client("sts")
    before = sts.get_caller_identity()["Account"]

    fake_aws.reset()

    assert before == sts.get_caller_identity()["Account"] == fake_aws.account_id("prod")
