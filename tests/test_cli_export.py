import json
from datetime import timedelta
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import AssumableAccount, MasterAccount
from accounts.services import account_create, master_account_update
from audit.models import AuditEvent
from audit.services import Actor
from memberships.models import IAMUser, Membership
from memberships.services import iam_user_create, memberships_grant
from roles.models import InlinePolicy, RoleDefinition
from roles.services import role_create, role_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup_actor():
    return Actor.system("system:test-setup")

READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}
DEPLOY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Stacks", "Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": ["iam:Get*"], "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": False}}},
    ],
}


def run(*args) -> str:
    out = StringIO()
    call_command("rolemodel", *[str(arg) for arg in args], stdout=out)
    return out.getvalue()


def desired_state() -> dict:
    return {
        "master": MasterAccount.load().snapshot(),
        "accounts": [account.snapshot() for account in AssumableAccount.objects.order_by("name")],
        "roles": [role_snapshot(role) for role in RoleDefinition.objects.order_by("logical_name")],
        "memberships": sorted(
            (m.iam_user.user_name, m.account.name, m.role.logical_name)
            for m in Membership.objects.select_related("iam_user", "account", "role")
        ),
    }


def wipe_desired_state() -> None:
    Membership.objects.all().delete()
    IAMUser.objects.all().delete()
    InlinePolicy.objects.all().delete()
    RoleDefinition.objects.all().delete()
    AssumableAccount.objects.all().delete()
    MasterAccount.objects.all().delete()


@pytest.fixture
def rich_state(setup_actor):
    """Every setting the files can carry, original keys and extensions alike."""
    master_account_update(
        actor=setup_actor, account_id="111111111111", profile="master", region="eu-central-1", stack_name="Corp-RoleModel"
    )
    prod = account_create(
        actor=setup_actor, name="prod", profile="prod", account_id="222222222222", description="Production"
    )
    cdn = account_create(
        actor=setup_actor,
        name="cdn",
        role_arn="arn:aws:iam::333333333333:role/RoleModelAccess",
        external_id="corp-cdn-1",
        account_id="333333333333",
    )
    account_create(actor=setup_actor, name="sandbox", profile="sandbox", enabled=False)
    admin = role_create(
        actor=setup_actor,
        logical_name="AdminRole",
        description="Full control",
        policies=[{"name": "AdminAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}],
    )
    deploy = role_create(
        actor=setup_actor,
        logical_name="DeployRole",
        role_name="ci-deploy",
        path="/ci/",
        require_mfa=False,
        max_session_duration=7200,
        permissions_boundary_arn="arn:aws:iam::111111111111:policy/Boundary",
        managed_policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AWSCodeBuildAdminAccess"],
        tags={"team": "platform", "cost-center": "42"},
        applies_to_all_accounts=False,
        accounts=[prod, cdn],
        policies=[{"name": "Deploy", "document": DEPLOY}, {"name": "Read", "document": READ_ONLY}],
    )
    role_create(actor=setup_actor, logical_name="DormantRole", applies_to_all_accounts=False, accounts=[])
    carol = iam_user_create(actor=setup_actor, user_name="carol@example.com")
    bot = iam_user_create(actor=setup_actor, user_name="ci-bot")
    memberships_grant(
        actor=setup_actor,
        grants=[(carol, prod, admin), (carol, cdn, admin), (bot, prod, deploy), (bot, cdn, deploy)],
        reason="Set up for the test",
    )


def test_export_then_import_into_an_empty_console_gives_the_same_state(rich_state, tmp_path):
    before = desired_state()

    run("export", tmp_path / "export")
    wipe_desired_state()
    run("import", tmp_path / "export" / "config.yml", "--users", tmp_path / "export" / "users.yml")

    assert desired_state() == before


def test_importing_an_export_over_the_state_it_came_from_changes_nothing(rich_state, tmp_path):
    run("export", tmp_path)
    audit_rows = AuditEvent.objects.count()

    output = run("import", tmp_path / "config.yml", "--users", tmp_path / "users.yml")

    assert AuditEvent.objects.count() == audit_rows
    assert " 0 changed" in output and "0 created" in output


def test_the_files_keep_the_original_formats_with_extensions_only_where_set(rich_state, tmp_path):
    output = run("export", tmp_path)

    config = yaml.safe_load((tmp_path / "config.yml").read_text())
    assert list(config)[:4] == ["assumable_roles", "stack_name", "master_account_id", "master_account_profile"]
    assert config["assumable_roles"] == "roles.cf"
    assert (config["stack_name"], config["master_account_id"], config["master_account_profile"]) == (
        "Corp-RoleModel",
        "111111111111",
        "master",
    )
    assert config["master_account_region"] == "eu-central-1"
    accounts = {entry["name"]: entry for entry in config["assumable_accounts"]}
    assert accounts["prod"] == {"name": "prod", "profile": "prod", "account_id": "222222222222", "description": "Production"}
    assert accounts["cdn"] == {
        "name": "cdn",
        "role_arn": "arn:aws:iam::333333333333:role/RoleModelAccess",
        "external_id": "corp-cdn-1",
        "account_id": "333333333333",
    }
    assert accounts["sandbox"] == {"name": "sandbox", "profile": "sandbox", "enabled": False}

    template = json.loads((tmp_path / "roles.cf").read_text())
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["Resources"]["DeployRole"]["Metadata"] == {"RoleModel": {"Accounts": ["cdn", "prod"]}}
    assert "Metadata" not in template["Resources"]["AdminRole"]
    assert (tmp_path / "roles.cf").read_text().startswith("{\n    \"AWSTemplateFormatVersion\"")

    users = yaml.safe_load((tmp_path / "users.yml").read_text())
    assert users == {
        "cdn": {"AdminRole": ["carol@example.com"], "DeployRole": ["ci-bot"]},
        "prod": {"AdminRole": ["carol@example.com"], "DeployRole": ["ci-bot"]},
    }
    assert f"Wrote {tmp_path / 'users.yml'}" in output


def test_an_empty_console_exports_files_whose_empty_template_the_import_refuses_by_name(tmp_path):
    run("export", tmp_path)

    # CloudFormation refuses a template without resources, and so does the import (issue 7).
    with pytest.raises(CommandError, match=r"roles\.cf: the template has no resources"):
        run("import", tmp_path / "config.yml", "--users", tmp_path / "users.yml")

    assert yaml.safe_load((tmp_path / "users.yml").read_text()) == {}
    assert "Resources" in (tmp_path / "roles.cf").read_text()


def test_it_refuses_to_replace_existing_files_unless_forced(tmp_path):
    (tmp_path / "config.yml").write_text("hand-written\n")

    with pytest.raises(CommandError, match="config.yml already exist"):
        run("export", tmp_path)
    assert (tmp_path / "config.yml").read_text() == "hand-written\n"
    assert not (tmp_path / "roles.cf").exists()

    run("export", tmp_path, "--force")
    assert "assumable_roles: roles.cf" in (tmp_path / "config.yml").read_text()


def test_a_file_given_as_the_directory_is_refused(tmp_path):
    target = tmp_path / "not-a-directory"
    target.write_text("")
    with pytest.raises(CommandError, match="exists and is not a directory"):
        run("export", target)


def test_it_says_which_expiry_dates_the_user_map_cannot_carry(tmp_path, setup_actor):
    account = account_create(actor=setup_actor, name="prod", profile="prod")
    role = role_create(actor=setup_actor, logical_name="AdminRole")
    user = iam_user_create(actor=setup_actor, user_name="carol")
    memberships_grant(
        actor=setup_actor, grants=[(user, account, role)], reason="Incident", expires_at=timezone.now() + timedelta(days=1)
    )

    output = run("export", tmp_path)

    assert "Note: 1 membership(s) have an expiry date, which users.yml cannot hold" in output
