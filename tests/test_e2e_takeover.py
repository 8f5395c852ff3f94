"""End to end: taking over a live deployment of the original ``rolemodel`` tool without touching anyone's
access. The command line and a real Celery worker against the moto server, edits through the web forms.

1. The original tool's deployment, built with boto3 call for call as it leaves it (tests/original_world.py).
2. Import its files and plan: nothing to change, nothing written, stacks and groups alike.
3. Edit one policy statement: the plan shows exactly that change in each account; after approval and
   apply every role ARN is unchanged.
4. Rename a role: the plan is blocked until the rename is confirmed on the role form, then replaces it.
"""
import copy
import json
from collections import Counter

import pytest
from django.urls import reverse

from accounts.models import LiveStackRecord
from plans.models import Plan
from roles.models import InlinePolicy, RoleDefinition
from tests.original_world import (
    ORIGINAL_ACCOUNTS,
    ORIGINAL_ROLES,
    deploy_like_the_original_tool,
    live_group_policy_resources,
    live_role_arns,
    write_original_files,
)
from tests.test_e2e_workflow import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The role form's confirmation that a rename, which replaces the role, is meant (plans/replacement.py's guard).
RENAME_CONFIRMATION_FIELD = "confirm_replacement"


@pytest.fixture
def cli(celery_worker, fake_aws, people):
    """On the broker the settings configure (Redis in CI): a takeover is about AWS, and both brokers are
    covered by the whole workflow in tests/test_e2e_workflow.py."""
    return Cli(celery_worker.env)


def role_form_data(client, role: RoleDefinition, **changes) -> dict:
    """What the role's edit form posts when someone changes only ``changes`` (unticked boxes left out)."""
    form = client.get(reverse("roles:edit", args=[role.pk])).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update(managed_policy_arns="\n".join(role.managed_policy_arns), tags="", accounts=[])
    data.update(changes)
    return {name: value for name, value in data.items() if value is not False and value is not None}


def resource_changes(plan: Plan) -> set:
    return {(entry["name"], change["logical_id"], change["action"]) for entry in plan.accounts for change in entry["resources"]}


def test_taking_over_a_live_deployment_of_the_original_tool(cli, fake_aws, people, client_for, tmp_path):
    # 1. What the original tool leaves: CloudFormation-named roles, groups, their policies and members.
    original_arns = deploy_like_the_original_tool(fake_aws)
    assert all(":role/Example-RoleModel-" in arn for arns in original_arns.values() for arn in arns.values())
    live_policies_before = live_group_policy_resources(fake_aws)
    assert len(live_policies_before) == len(ORIGINAL_ACCOUNTS) * len(ORIGINAL_ROLES)

    # 2. Import its files as the command line does, and plan.
    config = write_original_files(tmp_path / "original", fake_aws=fake_aws)
    cli.run("import", str(config), "--users", str(config.parent / "users.yml"), "--as", people.editor.username)
    first, _ = cli.json("plan", "--wait", "--as", people.editor.username)
    assert first["status"] != "failed", first

    stored = Plan.objects.get(pk=first["id"])
    # Names AWS gave are kept: no resource is added or removed, no role gains a RoleName, and every
    # group policy names the ARN the role lives under.
    assert {action for _, _, action in resource_changes(stored)} <= {"change"}
    for entry in stored.accounts:
        assert all("RoleName" not in entry["template"]["Resources"][role]["Properties"] for role in ORIGINAL_ROLES)
    for group, resource in live_policies_before.items():
        assert stored.desired_state["groups"][group]["role_arn"] == resource
    assert stored.master["groups_create"] == stored.master["groups_remove"] == []
    assert stored.master["members_add"] == stored.master["members_remove"] == []
    # The rest needs the comparison by meaning (core/normalize.py): what still differs is form only,
    # the roles' "aws:MultiFactorAuthAge": false against "false" and the defaults Path "/" and
    # MaxSessionDuration 3600 written out, and the group policies' "Action": ["sts:AssumeRole"].
    assert first["changes"] == {"add": 0, "change": 0, "remove": 0}, stored.accounts
    assert first["status"] == "no_changes" and first["api_calls"]["writes"] == 0

    # The console now holds each stack's record: a second plan reads only DescribeStacks per account,
    # and the master's two reads. A worker child that holds no credentials yet also assumes a role
    # per account and for the master (counted too, apart).
    assert LiveStackRecord.objects.count() == len(ORIGINAL_ACCOUNTS)
    second, _ = cli.json("plan", "--wait", "--as", people.editor.username)
    assert second["status"] == "no_changes" and second["api_calls"]["writes"] == 0
    operations = plan_operations(second["id"])
    credentials = operations.pop("AssumeRole", 0)
    assert sum(operations.values()) <= len(ORIGINAL_ACCOUNTS) + 2, operations
    assert credentials <= len(ORIGINAL_ACCOUNTS) + 1
    assert second["api_calls"]["total"] == sum(operations.values()) + credentials

    # 3. Edit one statement of one policy, through the web form, as another editor.
    policy = InlinePolicy.objects.select_related("role").get(role__logical_name="SuperUserRole")
    document = copy.deepcopy(policy.document)
    document["Statement"][0]["Action"].append("iam:Tag*")
    editor = client_for(people.other_editor)
    response = editor.post(reverse("roles:policy_edit", args=[policy.role.pk, policy.pk]),
                           {"name": policy.name, "document": json.dumps(document, indent=2), "reason": "Nor tag IAM"})
    assert response.status_code == 302, response.content.decode()[-2000:]

    edit, _ = cli.json("plan", "--wait", "--as", people.editor.username)
    stored = Plan.objects.get(pk=edit["id"])
    assert {(account, logical_id) for account, logical_id, _ in resource_changes(stored)} >= {
        (account, "SuperUserRolePolicies") for account in ORIGINAL_ACCOUNTS
    }
    # Exactly that change needs the comparison by meaning (core/normalize.py) too.
    assert resource_changes(stored) == {(account, "SuperUserRolePolicies", "change") for account in ORIGINAL_ACCOUNTS}
    assert edit["changes"] == {"add": 0, "change": len(ORIGINAL_ACCOUNTS), "remove": 0}
    assert stored.master["policies_put"] == []
    cli.run("approve", str(edit["id"]), "--as", people.approver.username)
    applied, _ = cli.json("apply", str(edit["id"]), "--wait", "--as", people.editor.username)
    assert applied["status"] == "succeeded", applied

    for account in ORIGINAL_ACCOUNTS:
        live = live_role_arns(fake_aws, account)
        assert {role: live.get(arn.rsplit("/", 1)[1]) for role, arn in original_arns[account].items()} == original_arns[account]
        iam = fake_aws.session(account).client("iam")
        physical = original_arns[account]["SuperUserRole"].rsplit("/", 1)[1]
        documents = [iam.get_role_policy(RoleName=physical, PolicyName=name)["PolicyDocument"]
                     for name in iam.list_role_policies(RoleName=physical)["PolicyNames"]]
        assert any("iam:Tag*" in json.dumps(doc) for doc in documents)
    assert live_group_policy_resources(fake_aws) == live_policies_before

    # 4. Rename a role: CloudFormation replaces it, so a new ARN. Blocked until the rename is confirmed.
    role = RoleDefinition.objects.get(logical_name="SuperUserRole")
    response = editor.post(reverse("roles:edit", args=[role.pk]),
                           role_form_data(editor, role, name_from_cloudformation=False, role_name="SuperUser",
                                          reason="A name people can type in Switch Role"))
    assert response.status_code in (200, 302)
    role.refresh_from_db()
    assert (role.name_from_cloudformation, role.role_name) == (False, "SuperUser")

    unconfirmed, result = cli.json("plan", "--wait", "--as", people.editor.username, expect_ok=False)
    stored = Plan.objects.get(pk=unconfirmed["id"])
    new_arns = {account: f"arn:aws:iam::{fake_aws.account_id(account)}:role/SuperUser" for account in ORIGINAL_ACCOUNTS}
    for account in ORIGINAL_ACCOUNTS:
        entry = next(a for a in stored.accounts if a["name"] == account)
        assert entry["template"]["Resources"]["SuperUserRole"]["Properties"]["RoleName"] == "SuperUser"
        assert stored.desired_state["groups"][f"{account}.SuperUserRole"]["role_arn"] == new_arns[account]
    # The guard (plans/replacement.py): a replacement nobody confirmed blocks the plan, in red, naming the role.
    assert unconfirmed["status"] == "blocked" and result.returncode != 0, unconfirmed
    assert any("SuperUserRole" in block and "replace" in block.lower() for block in unconfirmed["blocks"])

    response = editor.post(reverse("roles:edit", args=[role.pk]),
                           role_form_data(editor, role, reason="Yes: a new ARN, links updated",
                                          **{RENAME_CONFIRMATION_FIELD: "on"}))
    assert response.status_code == 302, response.content.decode()[-2000:]
    confirmed, _ = cli.json("plan", "--wait", "--as", people.editor.username)
    assert confirmed["status"] == "pending" and not confirmed["blocked"], confirmed
    stored = Plan.objects.get(pk=confirmed["id"])
    replaced = {(entry["name"], change["logical_id"]) for entry in stored.accounts for change in entry["resources"]
                if change.get("replacement")}
    assert replaced == {(account, "SuperUserRole") for account in ORIGINAL_ACCOUNTS}
    assert {(put["group"], put["document"]["Statement"][0]["Resource"]) for put in stored.master["policies_put"]} == {
        (f"{account}.SuperUserRole", new_arns[account]) for account in ORIGINAL_ACCOUNTS
    }
    cli.run("approve", str(confirmed["id"]), "--as", people.other_approver.username)
    renamed, _ = cli.json("apply", str(confirmed["id"]), "--wait", "--as", people.editor.username)
    assert renamed["status"] == "succeeded", renamed

    for account in ORIGINAL_ACCOUNTS:
        live = live_role_arns(fake_aws, account)
        assert live.get("SuperUser") == new_arns[account]
        assert original_arns[account]["SuperUserRole"] not in live.values()
        for role, arn in original_arns[account].items():
            if role != "SuperUserRole":
                assert live.get(arn.rsplit("/", 1)[1]) == arn  # every other role kept its ARN
        assert LiveStackRecord.objects.get(account__name=account).role_names["SuperUserRole"] == "SuperUser"
    assert live_group_policy_resources(fake_aws) == {
        **live_policies_before, **{f"{account}.SuperUserRole": new_arns[account] for account in ORIGINAL_ACCOUNTS}
    }


def plan_operations(plan_id: int) -> Counter:
    """The AWS operations a plan's job made, over all its steps."""
    operations = Counter()
    for step in Plan.objects.get(pk=plan_id).jobs.get().steps.all():
        operations.update((step.api_calls or {}).get("operations", {}))
    return operations
