"""A deployment exactly as the original ``rolemodel`` tool leaves it, built with boto3 in the fake AWS.

``update`` then ``sync_users``, call for call as the original does them (scopely-devops/rolemodel):
the template file sent verbatim (its roles have no ``RoleName``, so CloudFormation names them
``<stack>-<logical id>-<random>``) with ``AssumingAccountID`` set to the master account id; for
each role of each stack (DescribeStackResources) a group ``<account>.<role>`` under
``/RoleModel/`` with the inline policy ``<group>-Policy`` that names the role's ARN (GetRole) in the
original's own text; then each group's members set to the user map.
"""
import json
from pathlib import Path

import yaml

from devtools.fake_aws import create_iam_users

ORIGINAL = Path(__file__).resolve().parent / "fixtures" / "original"
ORIGINAL_STACK = "Example-RoleModel"
ORIGINAL_ACCOUNTS = ("prod", "cdn")
ORIGINAL_ROLES = ("AdminRole", "FinanceRole", "ReadOnlyRole", "SuperUserRole")
GROUP_PATH = "/RoleModel/"
# The original tool's group policy, character for character (rolemodel/__init__.py, AssumeRolePolicy).
ASSUME_ROLE_POLICY = """{{
  "Version": "2012-10-17",
  "Statement": [{{
    "Effect": "Allow",
    "Action": ["sts:AssumeRole"],
    "Resource": "{arn}"
  }}]
}}"""


def original_user_map(users_path: Path = ORIGINAL / "users.yml") -> dict:
    return yaml.safe_load(users_path.read_text())


def original_user_names(users_path: Path = ORIGINAL / "users.yml") -> list[str]:
    user_map = original_user_map(users_path)
    return sorted({user for roles in user_map.values() for users in roles.values() for user in users})


def write_original_files(
    directory: Path, *, fake_aws, accounts=ORIGINAL_ACCOUNTS, template_path: Path = ORIGINAL / "roles.cf",
    users_path: Path = ORIGINAL / "users.yml",
) -> Path:
    """The original's config.yml (its own keys only, its layout), pointing at the fake accounts, next to
    the template and user map (the original's roles.cf and users.yml unless given). Returns the config's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / template_path.name).write_text(template_path.read_text())
    (directory / "users.yml").write_text(users_path.read_text())
    lines = ["---", f"assumable_roles: {template_path.name}", f"stack_name: {ORIGINAL_STACK}",
             f"master_account_id: {fake_aws.account_id('master')}", "master_account_profile: master",
             "assumable_accounts:"]
    for name in accounts:
        lines += ["  -", f"    name: {name}", f"    profile: {name}"]
    config = directory / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    return config


def deploy_like_the_original_tool(
    fake_aws, *, accounts=ORIGINAL_ACCOUNTS, template_path: Path = ORIGINAL / "roles.cf",
    users_path: Path = ORIGINAL / "users.yml",
) -> dict:
    """``rolemodel update`` then ``rolemodel sync_users``. Returns {account: {logical id: role ARN}}."""
    master_id = fake_aws.account_id("master")
    template_body = template_path.read_text()
    iam = fake_aws.session("master").client("iam")
    create_iam_users(fake_aws.session("master"), original_user_names(users_path))
    arns = {}
    for name in accounts:
        session = fake_aws.session(name)
        cloudformation = session.client("cloudformation")
        cloudformation.validate_template(TemplateBody=template_body)
        cloudformation.create_stack(
            StackName=ORIGINAL_STACK, TemplateBody=template_body, Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": "AssumingAccountID", "ParameterValue": master_id, "UsePreviousValue": False}],
        )
        assert cloudformation.describe_stacks(StackName=ORIGINAL_STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        account_iam = session.client("iam")
        arns[name] = {}
        for resource in cloudformation.describe_stack_resources(StackName=ORIGINAL_STACK)["StackResources"]:
            if resource["ResourceType"] == "AWS::IAM::Role":
                role = account_iam.get_role(RoleName=resource["PhysicalResourceId"])["Role"]
                arns[name][resource["LogicalResourceId"]] = role["Arn"]
    existing = {group["GroupName"] for group in iam.list_groups()["Groups"]}
    for name in accounts:
        for logical_id, arn in arns[name].items():
            group = f"{name}.{logical_id}"
            if group not in existing:
                iam.create_group(GroupName=group, Path=GROUP_PATH)
            iam.put_group_policy(GroupName=group, PolicyName=f"{group}-Policy",
                                 PolicyDocument=ASSUME_ROLE_POLICY.format(arn=arn))
    user_map = original_user_map(users_path)
    for name in accounts:
        for logical_id in arns[name]:
            wanted = user_map.get(name, {}).get(logical_id)
            if wanted is None:
                continue  # sync_users touches only the groups the user map names
            group = f"{name}.{logical_id}"
            current = [user["UserName"] for user in iam.get_group(GroupName=group)["Users"]]
            for user in current:
                if user not in wanted:
                    iam.remove_user_from_group(GroupName=group, UserName=user)
            for user in wanted:
                if user not in current:
                    iam.add_user_to_group(GroupName=group, UserName=user)
    return arns


def live_role_arns(fake_aws, account: str) -> dict:
    """Role name -> ARN of every role in the account, read from IAM itself (not from the stack)."""
    return {role["RoleName"]: role["Arn"] for role in fake_aws.session(account).client("iam").list_roles()["Roles"]}


def live_group_policy_resources(fake_aws) -> dict:
    """Group name -> the Resource its ``<group>-Policy`` allows, for every /RoleModel/ group."""
    iam = fake_aws.session("master").client("iam")
    details = iam.get_account_authorization_details(Filter=["Group"])["GroupDetailList"]
    resources = {}
    for group in details:
        if group["Path"] != GROUP_PATH:
            continue
        for policy in group.get("GroupPolicyList", []):
            if policy["PolicyName"] == f"{group['GroupName']}-Policy":
                document = policy["PolicyDocument"]
                document = json.loads(document) if isinstance(document, str) else document
                resources[group["GroupName"]] = document["Statement"][0]["Resource"]
    return resources
