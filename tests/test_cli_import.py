import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import Group, User

from accounts.models import AssumableAccount, MasterAccount
from accounts.services import account_create, master_account_update
from audit.models import AuditEvent
from audit.services import Actor
from interchange.importing.files import MAX_FILE_BYTES
from memberships.models import IAMUser, Membership
from memberships.services import iam_user_create, memberships_grant
from roles.models import InlinePolicy, RoleDefinition
from roles.services import role_create
from tests.commands import command_refused, rolemodel

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ORIGINAL = FIXTURES / "original"
BAD = FIXTURES / "bad"
SAMPLES = ROOT / "samples"

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup_actor():
    return Actor.system("system:test-setup")

MASTER_PRINCIPAL = {"Fn::Join": [":", ["arn", "aws", "iam", "", {"Ref": "AssumingAccountID"}, "root"]]}
MFA = {"Null": {"aws:MultiFactorAuthAge": "false"}}
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*"}]}


def trust(principal=None, condition=MFA):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal or MASTER_PRINCIPAL}, "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def role_resource(**properties):
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust(), **properties}}


def policy_resource(role, name, document=READ_ONLY):
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyName": name, "PolicyDocument": document, "Roles": [{"Ref": role}]},
    }


def base_config():
    return {
        "assumable_roles": "roles.cf",
        "stack_name": "Test-RoleModel",
        "master_account_id": "111111111111",
        "master_account_profile": "master",
        "assumable_accounts": [{"name": "prod", "profile": "prod"}, {"name": "cdn", "profile": "cdn"}],
    }


def base_template():
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"AssumingAccountID": {"Type": "String"}},
        "Resources": {
            "AdminRole": role_resource(),
            "AdminRolePolicies": policy_resource("AdminRole", "AdminRolePolicy"),
            "ReadOnlyRole": role_resource(),
            "ReadOnlyRolePolicies": policy_resource("ReadOnlyRole", "ReadOnlyRolePolicy"),
        },
    }


def base_users():
    return {"prod": {"AdminRole": ["carol"], "ReadOnlyRole": ["bob", "alice"]}, "cdn": {"AdminRole": ["carol"]}}


class ImportFiles:
    """A config, template and user map in a temporary directory; tests change them before writing."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.config = base_config()
        self.template = base_template()
        self.users = base_users()

    def write(self, *, config_text=None, template_text=None, users_text=None):
        config_path = self.directory / "config.yml"
        config_path.write_text(config_text if config_text is not None else yaml.safe_dump(self.config))
        template_name = self.config.get("assumable_roles") if isinstance(self.config, dict) else None
        if isinstance(template_name, str) and template_name:
            (self.directory / template_name).write_text(
                template_text if template_text is not None else json.dumps(self.template, indent=2)
            )
        users_path = self.directory / "users.yml"
        users_path.write_text(users_text if users_text is not None else yaml.safe_dump(self.users))
        return config_path, users_path


@pytest.fixture
def files(tmp_path):
    return ImportFiles(tmp_path)


def run_import(*args) -> str:
    return rolemodel("import", *args)


def state_counts() -> dict:
    return {
        "master": MasterAccount.objects.count(),
        "accounts": AssumableAccount.objects.count(),
        "roles": RoleDefinition.objects.count(),
        "policies": InlinePolicy.objects.count(),
        "iam_users": IAMUser.objects.count(),
        "memberships": Membership.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def refused(*args) -> str:
    """Run an import that must fail; check nothing changed and return the message."""
    return command_refused("import", *args, unchanged=state_counts)


# --- what a good import does ------------------------------------------------------------------


def test_it_imports_the_original_tools_sample_files():
    output = run_import(ORIGINAL / "config.yml", "--users", ORIGINAL / "users.yml")

    master = MasterAccount.load()
    assert (master.account_id, master.profile, master.stack_name) == ("123456789012", "dev", "Example-RoleModel")
    assert sorted(AssumableAccount.objects.values_list("name", "profile")) == [("cdn", "cdn"), ("prod", "prod")]
    roles = {role.logical_name: role for role in RoleDefinition.objects.all()}
    assert sorted(roles) == ["AdminRole", "FinanceRole", "ReadOnlyRole", "SuperUserRole"]
    assert all(role.require_mfa and role.applies_to_all_accounts for role in roles.values())
    assert list(roles["FinanceRole"].policies.values_list("name", flat=True)) == ["AdminRolePolicy"]
    assert roles["SuperUserRole"].policies.get().document["Statement"][0]["Effect"] == "Deny"
    memberships = sorted(
        (m.account.name, m.role.logical_name, m.iam_user.user_name) for m in Membership.objects.all()
    )
    assert memberships == [
        ("cdn", "AdminRole", "carol@foobar.com"),
        ("cdn", "SuperUserRole", "alice@foobar.com"),
        ("cdn", "SuperUserRole", "bob@foobar.com"),
        ("prod", "AdminRole", "carol@foobar.com"),
        ("prod", "FinanceRole", "ted@foobar.com"),
        ("prod", "SuperUserRole", "bob@foobar.com"),
    ]
    assert "created  role AdminRole" in output
    assert "created  membership bob@foobar.com in cdn.SuperUserRole" in output


def test_every_write_is_audited_with_the_file_it_came_from():
    run_import(ORIGINAL / "config.yml", "--users", ORIGINAL / "users.yml")

    events = AuditEvent.objects.all()
    assert {event.source for event in events} == {"cli"}
    assert all(event.actor_name.startswith("system:") for event in events)
    by_type = {}
    for event in events:
        by_type.setdefault(event.object_type, set()).add(event.reason)
    assert by_type["account"] == {f"Imported from {ORIGINAL / 'config.yml'}"}
    assert by_type["role"] == {f"Imported from {ORIGINAL / 'roles.cf'}"}
    assert by_type["membership"] == {f"Imported from {ORIGINAL / 'users.yml'}"}
    assert by_type["IAM user"] == {f"Imported from {ORIGINAL / 'users.yml'}"}
    membership = Membership.objects.first()
    assert membership.reason == f"Imported from {ORIGINAL / 'users.yml'}"
    assert membership.requested_by_name.startswith("system:")
    assert events.filter(action="import").count() == 1


def test_importing_the_same_files_again_changes_nothing_and_writes_no_audit_rows():
    run_import(ORIGINAL / "config.yml", "--users", ORIGINAL / "users.yml")
    audit_rows = AuditEvent.objects.count()
    counts = state_counts()

    output = run_import(ORIGINAL / "config.yml", "--users", ORIGINAL / "users.yml")

    assert AuditEvent.objects.count() == audit_rows
    assert state_counts() == counts
    assert "0 created, 0 changed, 17 unchanged." in output
    assert "Nothing to change" in output


def test_a_dry_run_reports_the_changes_and_saves_nothing():
    before = state_counts()

    output = run_import(ORIGINAL / "config.yml", "--users", ORIGINAL / "users.yml", "--dry-run")

    assert "created  account prod" in output
    assert "Dry run: nothing was saved." in output
    assert state_counts() == before


def test_it_imports_the_projects_own_samples_with_yaml_short_forms():
    run_import(SAMPLES / "config.yml", "--users", SAMPLES / "users.yml")

    assert MasterAccount.load().account_id == "111111111111"
    assert dict(AssumableAccount.objects.values_list("name", "account_id")) == {
        "cdn": "333333333333",
        "prod": "222222222222",
        "staging": "444444444444",
    }
    assert all(AssumableAccount.objects.values_list("enabled", flat=True))
    roles = RoleDefinition.objects.order_by("logical_name")
    assert [role.logical_name for role in roles] == ["AdminRole", "BillingRole", "PowerUserRole", "ReadOnlyRole"]
    assert all(role.require_mfa for role in roles)
    assert RoleDefinition.objects.get(logical_name="PowerUserRole").max_session_duration == 14400
    assert Membership.objects.filter(iam_user__user_name="maria.admin").count() == 2
    assert Membership.objects.filter(account__name="staging").count() == 0


def test_as_records_the_console_user_in_the_history():
    ada = User.objects.create(username="ada")
    ada.groups.add(Group.objects.get_or_create(name="Admin")[0])  # importing needs the edit capability
    run_import(ORIGINAL / "config.yml", "--users", ORIGINAL / "users.yml", "--as", "ada")

    assert set(AuditEvent.objects.values_list("actor", "actor_name")) == {(ada.pk, "ada")}
    assert set(AuditEvent.objects.values_list("source", flat=True)) == {"cli"}
    assert set(Membership.objects.values_list("requested_by", flat=True)) == {ada.pk}


def test_as_an_unknown_console_user_is_refused():
    message = refused(ORIGINAL / "config.yml", "--as", "nobody-by-that-name")
    assert "--as nobody-by-that-name: there is no console user" in message


def test_as_a_deactivated_console_user_is_refused():
    User.objects.create(username="eddie", is_active=False)
    assert "--as eddie: this console user is deactivated." in refused(ORIGINAL / "config.yml", "--as", "eddie")


def test_it_updates_what_exists_and_never_deletes(files, setup_actor):
    master_account_update(actor=setup_actor, account_id="111111111111", profile="master")
    legacy = account_create(actor=setup_actor, name="legacy", profile="legacy")
    account_create(actor=setup_actor, name="Prod", profile="old-profile", account_id="222222222222")
    admin = role_create(
        actor=setup_actor,
        logical_name="AdminRole",
        description="Before the import",
        policies=[{"name": "Extra", "document": READ_ONLY}],
    )
    carol = iam_user_create(actor=setup_actor, user_name="carol")
    memberships_grant(actor=setup_actor, grants=[(carol, legacy, admin)], reason="On call")
    config_path, users_path = files.write()

    output = run_import(config_path, "--users", users_path)

    prod = AssumableAccount.objects.get(name__iexact="prod")
    assert (prod.name, prod.profile, prod.account_id) == ("prod", "prod", "222222222222")
    assert AssumableAccount.objects.filter(name="legacy").exists()
    admin.refresh_from_db()
    assert admin.description == ""
    assert sorted(admin.policies.values_list("name", flat=True)) == ["AdminRolePolicy", "Extra"]
    assert Membership.objects.filter(iam_user=carol, account=legacy).exists()
    assert IAMUser.objects.filter(user_name__iexact="carol").count() == 1
    assert "changed  account prod (name, profile)" in output
    assert "account legacy" in output
    assert "policy Extra of role AdminRole" in output
    assert "membership carol in legacy.AdminRole" in output


def test_yaml_templates_with_short_forms_and_every_supported_property(files):
    files.config["master_account_region"] = "eu-west-1"
    files.config["assumable_accounts"] = [
        {"name": "prod", "profile": "prod", "account_id": 222222222222, "description": "Production"},
        {
            "name": "cdn",
            "role_arn": "arn:aws:iam::333333333333:role/RoleModelAdmin",
            "external_id": "rolemodel-cdn",
            "enabled": False,
        },
    ]
    files.config["assumable_roles"] = "roles.yml"
    template_text = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  AssumingAccountID: {Type: String}
  Unused: {Type: String}
Resources:
  DeployRole:
    Type: AWS::IAM::Role
    Metadata:
      RoleModel: {Accounts: [prod]}
    Properties:
      RoleName: deploy
      Path: /ci/
      Description: Used by the pipeline
      MaxSessionDuration: 7200
      PermissionsBoundary: !Sub arn:${AWS::Partition}:iam::111111111111:policy/Boundary
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess
      Tags:
        - {Key: team, Value: platform}
      Policies:
        - PolicyName: Deploy
          PolicyDocument:
            Version: 2012-10-17
            Statement:
              - Effect: Allow
                Action: cloudformation:*
                Resource: !Sub arn:aws:cloudformation:*:${AWS::AccountId}:stack/*
      AssumeRolePolicyDocument:
        Version: 2012-10-17
        Statement:
          - Effect: Allow
            Principal: {AWS: 'arn:aws:iam::111111111111:root'}
            Action: [sts:AssumeRole]
            Condition: {Bool: {aws:MultiFactorAuthPresent: true}}
  BreakGlassRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: 2012-10-17
        Statement:
          - Effect: Allow
            Principal: {AWS: !Ref AssumingAccountID}
            Action: sts:AssumeRole
  SharedReadPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: SharedRead
      PolicyDocument:
        Version: 2012-10-17
        Statement: [{Effect: Allow, Action: 's3:List*', Resource: '*'}]
      Roles: [!Ref DeployRole, !Ref BreakGlassRole]
"""
    files.users = {"prod": {"DeployRole": ["ci-bot"]}, "cdn": {"BreakGlassRole": ["carol"]}}
    config_path, users_path = files.write(template_text=template_text)

    output = run_import(config_path, "--users", users_path)

    master = MasterAccount.load()
    assert master.region == "eu-west-1"
    cdn = AssumableAccount.objects.get(name="cdn")
    assert (cdn.profile, cdn.role_arn, cdn.external_id, cdn.enabled) == (
        "",
        "arn:aws:iam::333333333333:role/RoleModelAdmin",
        "rolemodel-cdn",
        False,
    )
    assert AssumableAccount.objects.get(name="prod").account_id == "222222222222"
    deploy = RoleDefinition.objects.get(logical_name="DeployRole")
    assert (deploy.role_name, deploy.path, deploy.description, deploy.max_session_duration) == (
        "deploy",
        "/ci/",
        "Used by the pipeline",
        7200,
    )
    assert deploy.permissions_boundary_arn == "arn:aws:iam::111111111111:policy/Boundary"
    assert deploy.managed_policy_arns == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert deploy.tags == {"team": "platform"}
    assert deploy.require_mfa is True
    assert (deploy.applies_to_all_accounts, [a.name for a in deploy.accounts.all()]) == (False, ["prod"])
    policies = {policy.name: policy.document for policy in deploy.policies.all()}
    assert sorted(policies) == ["Deploy", "SharedRead"]
    assert policies["Deploy"]["Version"] == "2012-10-17"
    assert policies["Deploy"]["Statement"][0]["Resource"] == {"Fn::Sub": "arn:aws:cloudformation:*:${AWS::AccountId}:stack/*"}
    break_glass = RoleDefinition.objects.get(logical_name="BreakGlassRole")
    assert break_glass.require_mfa is False
    assert list(break_glass.policies.values_list("name", flat=True)) == ["SharedRead"]
    assert "inline policy named SharedRead on DeployRole, BreakGlassRole" in output
    assert "the unused parameter “Unused” was ignored" in output


# --- bad input: one test per kind, each checking the message and that nothing changed ---------


def test_a_config_file_that_does_not_exist_is_refused(tmp_path):
    assert f"{tmp_path / 'missing.yml'}: no such file." in refused(tmp_path / "missing.yml")


def test_a_directory_is_refused(tmp_path):
    assert f"{tmp_path} is a directory" in refused(tmp_path)


def test_a_users_file_that_does_not_exist_is_refused(files):
    config_path, _ = files.write()
    assert "nope.yml: no such file." in refused(config_path, "--users", files.directory / "nope.yml")


def test_a_template_that_does_not_exist_is_refused(files):
    config_path, users_path = files.write()
    (files.directory / "roles.cf").unlink()
    assert f"{files.directory / 'roles.cf'}: no such file." in refused(config_path, "--users", users_path)


def test_malformed_yaml_is_refused_with_the_line():
    message = refused(BAD / "malformed_config.yml")
    assert f"{BAD / 'malformed_config.yml'}, line 8" in message


def test_malformed_json_in_the_template_is_refused_with_line_and_column():
    message = refused(BAD / "config_with_malformed_template.yml")
    assert f"{BAD / 'malformed_roles.cf'}, line 11, column 13" in message


@pytest.mark.parametrize("users_file, expected", [
    ("binary_users.yml", ["binary_users.yml, line 4: this is a binary file"]),
    ("latin1_users.yml", ["latin1_users.yml, line 4: not UTF-8 text (byte 0xe9)"]),
    ("alias_bomb_users.yml", ["alias_bomb_users.yml, line", "too many aliases"]),
    ("duplicate_key_users.yml",
     ["duplicate_key_users.yml, line 8, column 1: the key “prod” is given twice (first on line 2)"]),
], ids=["a binary file", "a file that is not UTF-8", "a YAML alias bomb", "a key given twice, with both lines"])
def test_a_bad_users_file_is_refused(files, users_file, expected):
    config_path, _ = files.write()
    message = refused(config_path, "--users", BAD / users_file)
    for text in expected:
        assert text in message


def test_a_file_over_the_size_limit_is_refused(files):
    config_path, users_path = files.write()
    users_path.write_text("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    assert "users.yml is larger than 5 MB" in refused(config_path, "--users", users_path)


def test_an_empty_config_is_refused(files):
    config_path, _ = files.write(config_text="")
    assert "config.yml: the file is empty" in refused(config_path)


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda c: c.pop("assumable_roles"), "config.yml: the key “assumable_roles” is missing."),
        (lambda c: c.pop("assumable_accounts"), "config.yml: the key “assumable_accounts” is missing."),
        (lambda c: c.update(assumable_accounts="prod"), "config.yml, assumable_accounts: expected a list"),
        (lambda c: c.update(assumable_accounts=["prod"]), "assumable_accounts entry 1: expected a mapping with name and profile, found text."),
        (lambda c: c["assumable_accounts"][1].pop("name"), "assumable_accounts entry 2: the key “name” is missing."),
        (lambda c: c["assumable_accounts"][1].pop("profile"), "entry 2 (“cdn”): give “profile”"),
        (lambda c: c.update(assumable_acounts=[]), "config.yml: unknown key “assumable_acounts”"),
        (lambda c: c["assumable_accounts"][0].update(enabled="yes"), "(“prod”), enabled: expected true or false, found text."),
        (lambda c: c.update(master_account_id="12345"), "config.yml, master_account_id: “12345” is not an AWS account id"),
        (lambda c: c["assumable_accounts"][0].update(account_id="2222"), "(“prod”), account_id: “2222” is not an AWS account id"),
        (lambda c: c["assumable_accounts"][0].update(name="prod.eu"), "An account name cannot contain “.”"),
        (lambda c: c["assumable_accounts"][0].update(name="prod eu"), "contains ' '"),
        (lambda c: c.update(stack_name="1-bad"), "config.yml, stack_name: A stack name starts with a letter"),
        (
            lambda c: c["assumable_accounts"].append({"name": "PROD", "profile": "p"}),
            "entry 3 (“PROD”): the account “PROD” is listed twice (also entry 1)",
        ),
        (
            lambda c: [a.update(account_id="222222222222") for a in c["assumable_accounts"]],
            "the account id 222222222222 is also given for “prod”",
        ),
    ],
)
def test_config_problems_are_refused_naming_the_key(files, change, expected):
    change(files.config)
    config_path, users_path = files.write()
    assert expected in refused(config_path, "--users", users_path)


def _add_resource(name, resource):
    return lambda t: t["Resources"].update({name: resource})


@pytest.mark.parametrize(
    "change, expected",
    [
        (_add_resource("Bucket", {"Type": "AWS::S3::Bucket"}), "resource Bucket: the type AWS::S3::Bucket cannot be represented"),
        (_add_resource("Broken", "AWS::IAM::Role"), "resource Broken: expected a mapping with Type and Properties, found text."),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"].update(Tags={"team": "platform"}),
            "role AdminRole, Tags: expected a list",
        ),
        (lambda t: t.pop("Resources"), "roles.cf: the template has no “Resources”."),
        (lambda t: t.update(Resources=[]), "roles.cf, Resources: expected a mapping"),
        (lambda t: t.update(Conditions={}), "the template section “Conditions” cannot be represented"),
        (_add_resource("Bad-Name", role_resource()), "role Bad-Name: “Bad-Name” is not a CloudFormation logical name"),
        (_add_resource("adminrole", role_resource()), "the roles AdminRole and adminrole differ only in case"),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"].update(
                AssumeRolePolicyDocument=trust(principal="arn:aws:iam::999999999999:root")
            ),
            "role AdminRole, AssumeRolePolicyDocument: the principal must be the master account (111111111111)",
        ),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"].update(
                AssumeRolePolicyDocument=trust(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
            ),
            "role AdminRole, AssumeRolePolicyDocument: the only Condition the console can represent is the MFA check",
        ),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"].append(
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ),
            "role AdminRole, AssumeRolePolicyDocument: the console can represent a trust policy of exactly one statement",
        ),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"].pop("AssumeRolePolicyDocument"),
            "role AdminRole: the role has no AssumeRolePolicyDocument",
        ),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"].update(RoleName={"Fn::Sub": "${AWS::StackName}-admin"}),
            "role AdminRole, RoleName: a CloudFormation function (Fn::Sub) cannot be represented",
        ),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"].update(RoleName="x" * 65),
            "role AdminRole, RoleName: The role name “xxxx",
        ),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"].update(MaxSessionDuration=60),
            "role AdminRole, MaxSessionDuration: The maximum session duration must be between 3600 and 43200",
        ),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"].update(Policies={"PolicyName": "x"}),
            "role AdminRole, Policies: expected a list",
        ),
        (
            lambda t: t["Resources"]["AdminRole"]["Properties"].update(AssumeRoleWithSAML=True),
            "role AdminRole, Properties: unknown key “AssumeRoleWithSAML”",
        ),
        (
            lambda t: t["Resources"]["AdminRolePolicies"]["Properties"].update(Groups=["admins"]),
            "resource AdminRolePolicies: attaches to IAM groups",
        ),
        (
            lambda t: t["Resources"]["AdminRolePolicies"]["Properties"].update(Roles=["AdminRole"]),
            "resource AdminRolePolicies, Roles: “AdminRole” must be a Ref",
        ),
        (
            lambda t: t["Resources"]["AdminRolePolicies"]["Properties"].update(Roles=[{"Ref": "GhostRole"}]),
            "Roles: GhostRole is not an AWS::IAM::Role resource",
        ),
        (
            lambda t: t["Resources"]["AdminRolePolicies"]["Properties"].update(PolicyDocument={"Statement": []}),
            "resource AdminRolePolicies, PolicyDocument has no “Version” key.",
        ),
        (
            lambda t: t["Resources"]["AdminRolePolicies"]["Properties"].update(PolicyName="has space"),
            "resource AdminRolePolicies, PolicyName: The policy name “has space” contains ' '",
        ),
        (
            _add_resource("AdminRoleMore", policy_resource("AdminRole", "adminrolepolicy")),
            "role AdminRole: two policies are named adminrolepolicy",
        ),
        (
            lambda t: t["Resources"]["AdminRolePolicies"]["Properties"].update(
                PolicyDocument={
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": [f"s3:Get{n:05d}" for n in range(1000)], "Resource": "*"}],
                }
            ),
            "resource AdminRolePolicies, PolicyDocument: the policy is 14,083 characters; IAM allows 10,240",
        ),
        (
            lambda t: t["Parameters"].update(Environment={"Type": "String"})
            or t["Resources"]["AdminRole"]["Properties"].update(Description={"Ref": "Environment"}),
            "the parameter “Environment” is used by the resources",
        ),
        (
            lambda t: t["Resources"]["AdminRole"].update(Metadata={"RoleModel": {"Accounts": ["staging"]}}),
            "role AdminRole, Metadata: the account(s) staging are neither in",
        ),
    ],
)
def test_template_problems_are_refused_naming_the_resource(files, change, expected):
    change(files.template)
    config_path, users_path = files.write()
    assert expected in refused(config_path, "--users", users_path)


@pytest.mark.parametrize(
    "template_text",
    [
        '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}',
        "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n",
    ],
    ids=["json-empty-mapping", "yaml-empty-mapping", "yaml-nothing-under-the-key"],
)
def test_a_template_without_resources_is_refused_naming_the_file(files, template_text):
    files.config["assumable_roles"] = "team-roles.cf"
    config_path, users_path = files.write(template_text=template_text)

    message = refused(config_path)

    assert "team-roles.cf: the template has no resources (“Resources” is empty); CloudFormation refuses such a template" in message
    assert RoleDefinition.objects.count() == 0


@pytest.mark.parametrize(
    "users, expected",
    [
        ({"staging": {"AdminRole": ["carol"]}}, "users.yml, account staging: there is no account staging"),
        ({"prod": {"PowerRole": ["carol"]}}, "users.yml, account prod, role PowerRole: there is no role PowerRole"),
        (["prod"], "users.yml: expected a mapping"),
        ({"prod": ["AdminRole"]}, "users.yml, account prod: expected a mapping"),
        ({"prod": {"AdminRole": "carol"}}, "users.yml, account prod, role AdminRole: expected a list"),
        ({"prod": {"AdminRole": [{"name": "carol"}]}}, "role AdminRole: expected text, found a mapping."),
        ({"prod": {"AdminRole": ["carol smith"]}}, "role AdminRole: The user name “carol smith” contains ' '"),
        ({"prod": {"AdminRole": ["carol", "CAROL"]}}, "the user CAROL is listed twice"),
        ({"prod": {"AdminRole": ["carol"]}, "PROD": {}}, "the account is listed twice (also as PROD)"),
    ],
)
def test_user_map_problems_are_refused_naming_the_entry(files, users, expected):
    files.users = users
    config_path, users_path = files.write()
    assert expected in refused(config_path, "--users", users_path)


def test_a_user_in_more_than_ten_groups_is_refused(files):
    files.config["assumable_accounts"] = [{"name": f"acct{n}", "profile": f"p{n}"} for n in range(6)]
    files.users = {f"acct{n}": {"AdminRole": ["carol"], "ReadOnlyRole": ["carol"]} for n in range(6)}
    config_path, users_path = files.write()
    assert "carol would be in 12 groups; an IAM user can be in at most 10" in refused(config_path, "--users", users_path)


def test_a_role_limited_away_from_its_members_is_refused(files, setup_actor):
    master_account_update(actor=setup_actor, account_id="111111111111")
    cdn = account_create(actor=setup_actor, name="cdn", profile="cdn")
    admin = role_create(actor=setup_actor, logical_name="AdminRole")
    carol = iam_user_create(actor=setup_actor, user_name="carol")
    memberships_grant(actor=setup_actor, grants=[(carol, cdn, admin)], reason="On call")
    files.template["Resources"]["AdminRole"]["Metadata"] = {"RoleModel": {"Accounts": ["prod"]}}
    config_path, _ = files.write()

    message = refused(config_path)

    assert "role AdminRole, Metadata: the role would no longer apply to accounts where people hold it (carol in cdn.AdminRole)" in message


def test_every_problem_is_reported_at_once(files):
    files.config["assumable_accounts"][0]["account_id"] = "1"
    files.template["Resources"]["Bucket"] = {"Type": "AWS::S3::Bucket"}
    files.users = {"prod": {"AdminRole": ["not valid"]}}
    config_path, users_path = files.write()

    message = refused(config_path, "--users", users_path)

    assert message.startswith("Nothing was imported; 3 problems to fix:")
    assert "account_id" in message and "Bucket" in message and "not valid" in message


def test_a_problem_found_while_writing_rolls_back_everything_written_before_it(files):
    # Each policy fits, but together the roles make a template over CloudFormation's 51,200 bytes.
    big = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": [f"s3:Get{n:04d}" for n in range(600)], "Resource": "*"}],
    }
    for number in range(7):
        files.template["Resources"][f"Big{number}Role"] = role_resource()
        files.template["Resources"][f"Big{number}Policy"] = policy_resource(f"Big{number}Role", "Big", big)
    config_path, users_path = files.write()

    message = refused(config_path, "--users", users_path)

    assert "Account cdn: The template would be" in message
    assert "CloudFormation accepts at most 51,200 bytes" in message
    assert AssumableAccount.objects.count() == 0


def test_the_command_line_prints_the_problem_without_a_traceback(tmp_path):
    environment = {**os.environ, "ROLEMODEL_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "manage.py", "rolemodel", "import", str(tmp_path / "missing.yml")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{tmp_path / 'missing.yml'}: no such file." in result.stderr
    assert "Traceback" not in result.stderr
