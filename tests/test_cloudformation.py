"""Generated templates are what CloudFormation accepts: checked by the real linter, cfn-lint."""
import json

import cfnlint.api
import pytest

from roles.cloudformation import build_template, template_body, template_problems
from roles.selectors import roles_for_account
from tests.factories import AccountFactory, PolicyFactory, RoleFactory

pytestmark = pytest.mark.django_db

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
DENY_BILLING = {
    "Version": "2012-10-17",
    "Statement": {"Sid": "NoBilling", "Effect": "Deny", "NotAction": ["s3:Get*"], "NotResource": "arn:aws:s3:::logs/*"},
}


@pytest.fixture
def accounts(db):
    """prod and dev; roles of every kind, some only in prod."""
    prod, dev = AccountFactory(name="prod"), AccountFactory(name="dev")
    admin = RoleFactory(logical_name="Admin", require_mfa=True, max_session_duration=3600)
    PolicyFactory(role=admin, name="AdminRolePolicy", document=ALLOW_ALL)
    readonly = RoleFactory(
        logical_name="ReadOnly",
        role_name="read-only",
        path="/rolemodel/",
        require_mfa=False,
        max_session_duration=43200,
        managed_policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"],
        permissions_boundary_arn="arn:aws:iam::123456789012:policy/Boundary",
        tags={"team": "platform", "cost-center": "42"},
    )
    PolicyFactory(role=readonly, name="deny.billing", document=DENY_BILLING)
    PolicyFactory(role=readonly, name="Deny-Billing", document=DENY_BILLING)
    finance = RoleFactory(logical_name="Finance", description="", applies_to_all_accounts=False, tags={"data": "pii"})
    finance.accounts.add(prod)
    billing = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["aws-portal:*Billing", "ce:Get*"]}]}
    billing["Statement"][0]["Resource"] = "*"
    PolicyFactory(role=finance, name="Billing", document=billing)
    return {"prod": prod, "dev": dev}


def lint_errors(template: dict) -> list[str]:
    """cfn-lint's errors (rule ids starting with E); warnings and information are returned separately below."""
    matches = cfnlint.api.lint_all(json.dumps(template, indent=2))
    return [f"{match.rule.id} line {match.linenumber}: {match.message}" for match in matches if match.rule.id.startswith("E")]


def lint_warnings(template: dict) -> list[str]:
    matches = cfnlint.api.lint_all(json.dumps(template, indent=2))
    return [f"{match.rule.id}: {match.message}" for match in matches if match.rule.id.startswith("W")]


@pytest.mark.parametrize("account_name", ["prod", "dev"])
def test_each_accounts_template_passes_cfn_lint_without_errors_or_warnings(accounts, account_name):
    template = build_template(list(roles_for_account(accounts[account_name])))
    assert lint_errors(template) == []
    assert lint_warnings(template) == []
    assert template_problems(template) == []


def test_the_exported_template_with_account_metadata_passes_cfn_lint(accounts):
    template = build_template(list(roles_for_account(accounts["prod"])), include_account_metadata=True)
    assert template["Resources"]["Finance"]["Metadata"] == {"RoleModel": {"Accounts": ["prod"]}}
    assert lint_errors(template) == []


def test_the_linter_does_report_a_broken_template(accounts):
    """Guards the tests above: an empty error list must mean a clean template, not a silent linter."""
    template = build_template(list(roles_for_account(accounts["dev"])))
    template["Resources"]["Admin"]["Properties"]["MaxSessionDuration"] = 43201
    template["Resources"]["Admin"]["Properties"]["Path"] = "no-slashes"
    errors = lint_errors(template)
    assert any("43201" in error for error in errors)
    assert any("no-slashes" in error for error in errors)


def test_only_the_accounts_roles_are_in_its_template(accounts):
    prod = build_template(list(roles_for_account(accounts["prod"])))
    dev = build_template(list(roles_for_account(accounts["dev"])))
    assert {"Admin", "ReadOnly", "Finance"} <= set(prod["Resources"])
    assert "Finance" not in dev["Resources"]


def test_the_trust_policy_requires_mfa_only_when_the_role_does(accounts):
    resources = build_template(list(roles_for_account(accounts["dev"])))["Resources"]
    admin_trust = resources["Admin"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    readonly_trust = resources["ReadOnly"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert admin_trust["Condition"] == {"Null": {"aws:MultiFactorAuthAge": "false"}}
    assert "Condition" not in readonly_trust
    assert admin_trust["Principal"]["AWS"]["Fn::Join"][1][4] == {"Ref": "AssumingAccountID"}


def test_role_settings_reach_the_template(accounts):
    properties = build_template(list(roles_for_account(accounts["dev"])))["Resources"]["ReadOnly"]["Properties"]
    assert properties["RoleName"] == "read-only" and properties["Path"] == "/rolemodel/"
    assert properties["MaxSessionDuration"] == 43200
    assert properties["PermissionsBoundary"] == "arn:aws:iam::123456789012:policy/Boundary"
    assert properties["ManagedPolicyArns"][0] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert properties["Tags"] == [{"Key": "cost-center", "Value": "42"}, {"Key": "team", "Value": "platform"}]


def test_policies_whose_names_differ_only_in_punctuation_get_distinct_logical_ids(accounts):
    resources = build_template(list(roles_for_account(accounts["dev"])))["Resources"]
    policies = {
        key: resource["Properties"]["PolicyName"]
        for key, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Policy" and key.startswith("ReadOnly")
    }
    assert sorted(policies.values()) == ["Deny-Billing", "deny.billing"]
    assert len(set(key.lower() for key in policies)) == 2


def test_the_template_body_is_stable_and_compact(accounts):
    roles = list(roles_for_account(accounts["prod"]))
    body = template_body(build_template(roles))
    assert body == template_body(build_template(list(reversed(roles))))
    assert ": " not in body and "\n" not in body
