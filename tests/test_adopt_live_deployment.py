"""Taking over what the original tool left live: the plan names the roles as they live, keeps every
resource, and what it approves for a new account is exactly what the apply writes.

The plan and apply services run in this process against the fake AWS (the worker's own path is
tests/test_e2e_takeover.py). These hold whatever the comparison by meaning decides about form-only
differences: they look only at names, logical ids and ARNs.
"""
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import LiveStackRecord
from audit.services import Actor
from integrations import aws
from plans import desired
from plans.models import Job, Plan
from tests.original_world import (
    ORIGINAL_ACCOUNTS,
    ORIGINAL_ROLES,
    ORIGINAL_STACK,
    deploy_like_the_original_tool,
    live_group_policy_resources,
    live_role_arns,
    write_original_files,
)
from tests.workflow import apply_now, plan_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def original_deployment(fake_aws, people, tmp_path):
    """The original tool's deployment in prod and cdn, and its files imported into the console."""
    aws.reset_session_cache()
    arns = deploy_like_the_original_tool(fake_aws)
    config = write_original_files(tmp_path / "files", fake_aws=fake_aws, accounts=ORIGINAL_ACCOUNTS + ("staging",))
    call_command("rolemodel", "import", str(config), "--users", str(config.parent / "users.yml"),
                 "--as", people.editor.username, stdout=open("/dev/null", "w"))
    yield arns
    aws.reset_session_cache()


def test_the_plan_names_every_role_by_the_arn_it_lives_under(original_deployment, fake_aws, eddie):
    plan = plan_now(eddie)

    assert plan.status != Plan.Status.FAILED, plan.error
    live_policies = live_group_policy_resources(fake_aws)
    for account in ORIGINAL_ACCOUNTS:
        for role in ORIGINAL_ROLES:
            group = plan.desired_state["groups"][f"{account}.{role}"]
            assert group["role_arn"] == original_deployment[account][role] == live_policies[f"{account}.{role}"]
            assert ":role/Example-RoleModel-" in group["role_arn"]


def test_the_plan_keeps_every_live_resource_under_its_logical_id(original_deployment, eddie):
    plan = plan_now(eddie)

    for entry in plan.accounts:
        if entry["name"] in ORIGINAL_ACCOUNTS:
            assert [r for r in entry["resources"] if r["action"] != "change"] == []
            properties = {logical_id: resource["Properties"] for logical_id, resource in entry["template"]["Resources"].items()}
            assert all("RoleName" not in properties[role] for role in ORIGINAL_ROLES)
            assert set(properties) == {*ORIGINAL_ROLES, *(f"{role}Policies" for role in ORIGINAL_ROLES)}
    records = {record.account.name: record for record in LiveStackRecord.objects.select_related("account")}
    assert set(records) == set(ORIGINAL_ACCOUNTS)  # staging has no stack yet
    for account in ORIGINAL_ACCOUNTS:
        assert records[account].stack_name == ORIGINAL_STACK
        assert {role: records[account].role_arn(role) for role in ORIGINAL_ROLES} == original_deployment[account]


def test_in_a_new_account_a_cloudformation_named_role_gets_exactly_the_arn_the_approver_saw(
    original_deployment, fake_aws, people, eddie
):
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.PENDING, plan.blocks or plan.error
    staging = next(entry for entry in plan.accounts if entry["name"] == "staging")
    assert staging["action"] == "create"
    assert staging["template"]["Resources"]["AdminRole"]["Properties"]["RoleName"] == "AdminRole"
    approved = {role: plan.desired_state["groups"][f"staging.{role}"]["role_arn"] for role in ORIGINAL_ROLES}
    assert approved["AdminRole"] == "arn:aws:iam::444444444444:role/AdminRole"

    job = apply_now(plan, approver=people.approver, requester=people.editor)

    assert job.status == Job.Status.SUCCEEDED, job.error
    staging_roles = live_role_arns(fake_aws, "staging")
    assert {role: staging_roles.get(role) for role in ORIGINAL_ROLES} == approved
    assert {group: arn for group, arn in live_group_policy_resources(fake_aws).items() if group.startswith("staging.")} \
        == {f"staging.{role}": arn for role, arn in approved.items()}
    for account in ORIGINAL_ACCOUNTS:  # the roles people switch into today kept their ARNs
        assert set(original_deployment[account].values()) <= set(live_role_arns(fake_aws, account).values())
    # Created under its name there, the role stays so named: the next plan changes nothing about it.
    document = desired.desired_state_document()
    assert document["accounts"]["staging"]["template"]["Resources"]["AdminRole"]["Properties"]["RoleName"] == "AdminRole"
    assert document["groups"]["staging.AdminRole"]["role_arn"] == approved["AdminRole"]
    assert document["groups"]["prod.AdminRole"]["role_arn"] == original_deployment["prod"]["AdminRole"]


def test_an_imported_role_renamed_on_purpose_is_named_in_every_account(original_deployment, people, eddie):
    from roles.models import RoleDefinition
    from roles.services import role_update

    plan_now(eddie)  # reads the stacks: the console now knows the names CloudFormation gave
    role = RoleDefinition.objects.get(logical_name="SuperUserRole")
    role_update(actor=Actor.from_user(people.other_editor), role=role, name_from_cloudformation=False,
                role_name="SuperUser", reason="A name people can type in Switch Role")

    document = desired.desired_state_document()

    for account in (*ORIGINAL_ACCOUNTS, "staging"):
        assert document["accounts"][account]["template"]["Resources"]["SuperUserRole"]["Properties"]["RoleName"] == "SuperUser"
        assert document["groups"][f"{account}.SuperUserRole"]["role_arn"].endswith(":role/SuperUser")
    assert document["groups"]["prod.AdminRole"]["role_arn"] == original_deployment["prod"]["AdminRole"]


def test_a_deployment_made_from_a_yaml_template_is_adopted_too(fake_aws, people, eddie, tmp_path):
    # The project's own sample is YAML with short-form tags; GetTemplate returns such a body verbatim.
    samples = Path(__file__).resolve().parent.parent / "samples"
    aws.reset_session_cache()
    arns = deploy_like_the_original_tool(fake_aws, template_path=samples / "roles.yml", users_path=samples / "users.yml")
    config = write_original_files(tmp_path / "files", fake_aws=fake_aws, template_path=samples / "roles.yml",
                                  users_path=samples / "users.yml")
    call_command("rolemodel", "import", str(config), "--users", str(config.parent / "users.yml"),
                 "--as", people.editor.username, stdout=open("/dev/null", "w"))

    plan = plan_now(eddie)

    assert plan.status != Plan.Status.FAILED, plan.error
    for entry in plan.accounts:
        assert [r for r in entry["resources"] if r["action"] != "change"] == [], entry["resources"]
        live = LiveStackRecord.objects.get(account__name=entry["name"]).template["Resources"]
        assert set(entry["template"]["Resources"]) == set(live)
        for role, arn in arns[entry["name"]].items():
            assert "RoleName" not in entry["template"]["Resources"][role]["Properties"]
            assert plan.desired_state["groups"][f"{entry['name']}.{role}"]["role_arn"] == arn
