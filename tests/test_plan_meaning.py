"""Plans compare by meaning, mark replacements, and block the ones nobody chose (against the fake AWS)."""
import copy
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AssumableAccount
from accounts.services import account_delete
from audit.models import AuditEvent
from audit.services import Actor
from memberships.models import Membership
from plans import desired, services
from plans.links import block_link
from plans.models import Job, Plan
from roles.forms import format_tags
from roles.models import InlinePolicy, RoleDefinition
from roles.services import policy_update, role_delete, role_update
from tests.aws_world import SAMPLE_ACCOUNTS, live_groups, sample_world  # noqa: F401
from tests.workflow import apply_now, plan_now

pytestmark = pytest.mark.django_db

STACK = "Sample-RoleModel"
MASTER_ID = "111111111111"


def plan_calls(plan: Plan) -> dict:
    return plan.jobs.get(kind=Job.Kind.PLAN).api_call_totals()


def _statements_in_original_form(document: dict) -> dict:
    """A policy as the original tool writes it: actions in lists, booleans unquoted, one statement bare."""
    document = copy.deepcopy(document)
    statements = document["Statement"]
    for statement in statements:
        if isinstance(statement.get("Action"), str):
            statement["Action"] = [statement["Action"]]
        for block in (statement.get("Condition") or {}).values():
            for key, value in block.items():
                if value in ("false", "true"):
                    block[key] = value == "true"
    if len(statements) == 1:
        document["Statement"] = statements[0]
    return document


def original_form(template: dict) -> dict:
    """The same stack written as the original tool would: no defaults, another description, other forms."""
    template = copy.deepcopy(template)
    template["Description"] = "This stack contains all of the assumable roles."
    template["Parameters"]["AssumingAccountID"]["Description"] = "The 12-digit ID for the account that will assume the roles"
    for resource in template["Resources"].values():
        properties = resource["Properties"]
        if resource["Type"] == "AWS::IAM::Role":
            if properties.get("Path") == "/":
                del properties["Path"]
            if properties.get("MaxSessionDuration") == 3600:
                del properties["MaxSessionDuration"]
            properties["AssumeRolePolicyDocument"] = _statements_in_original_form(properties["AssumeRolePolicyDocument"])
        else:
            properties["PolicyDocument"] = _statements_in_original_form(properties["PolicyDocument"])
    return template


def rewrite_live_in_original_form(fake_aws) -> None:
    """Deploy every account's stack and group policy again, written differently but meaning the same."""
    document = desired.desired_state_document()
    for name in SAMPLE_ACCOUNTS:
        live = original_form(document["accounts"][name]["template"])
        fake_aws.session(name).client("cloudformation").update_stack(
            StackName=STACK, TemplateBody=json.dumps(live), Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": "AssumingAccountID", "ParameterValue": MASTER_ID}],
        )
    iam = fake_aws.session("master").client("iam")
    for group, spec in document["groups"].items():
        iam.put_group_policy(GroupName=group, PolicyName=spec["policy_name"],
                             PolicyDocument=json.dumps(_statements_in_original_form(spec["policy"])))


def live_template(fake_aws, account: str) -> dict:
    body = fake_aws.session(account).client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    return body if isinstance(body, dict) else json.loads(body)


def live_roles(fake_aws, account: str) -> dict:
    roles = fake_aws.session(account).client("iam").list_roles()["Roles"]
    return {role["RoleName"]: (role["Arn"], role["RoleId"]) for role in roles if role["RoleName"] != "admin"}


@pytest.fixture
def applied(sample_world, people, eddie):
    job = apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return sample_world


def test_a_live_deployment_that_differs_only_in_form_plans_no_change_and_no_write(applied, eddie):
    rewrite_live_in_original_form(applied)
    written = live_template(applied, "prod")
    assert "Path" not in written["Resources"]["AdminRole"]["Properties"]
    assert written["Resources"]["AdminRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]["Condition"] == {
        "Null": {"aws:MultiFactorAuthAge": False}}
    assert live_groups(applied)["prod.AdminRole"]["policies"]["prod.AdminRole-Policy"]["Statement"]["Action"] == [
        "sts:AssumeRole"]

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.NO_CHANGES, (plan.summary, plan.blocks)
    assert all(a["action"] == "none" and not a["change_set_id"] for a in plan.accounts)
    assert plan.master["policies_put"] == []
    assert plan_calls(plan)["writes"] == 0


def test_a_real_change_beside_differences_of_form_plans_exactly_that_change(applied, people, eddie):
    rewrite_live_in_original_form(applied)
    roles_before = {name: live_roles(applied, name) for name in SAMPLE_ACCOUNTS}
    policy = InlinePolicy.objects.get(role__logical_name="ReadOnlyRole")
    document = copy.deepcopy(policy.document)
    document["Statement"].append({"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"})
    policy_update(actor=Actor.from_user(people.other_editor), policy=policy, name=policy.name, document=document)

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.PENDING, plan.blocks
    assert plan.summary == {"add": 0, "change": len(SAMPLE_ACCOUNTS), "remove": 0}
    for account in plan.accounts:
        [change] = account["resources"]
        assert (change["type"], change["action"], change["replacement"]) == ("AWS::IAM::Policy", "change", False)
        assert "s3:DeleteBucket" in change["diff"]
        assert [c["logical_id"] for c in account["aws_changes"]] == [change["logical_id"]]
        sent = account["template"]["Resources"]
        assert "Path" not in sent["AdminRole"]["Properties"]  # what means the same is sent as deployed
    assert plan.master["policies_put"] == []

    job = apply_now(plan, approver=people.approver, requester=people.editor)

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert {name: live_roles(applied, name) for name in SAMPLE_ACCOUNTS} == roles_before
    assert plan_now(eddie).status == Plan.Status.NO_CHANGES


def test_every_resource_change_says_whether_it_replaces(sample_world, eddie):
    plan = plan_now(eddie)

    resources = [r for a in plan.accounts for r in a["resources"]]
    assert resources and all(r["replacement"] is False for r in resources)
    assert all("before" not in r and "after" not in r for r in resources)


def test_a_role_name_change_is_blocked_until_the_rename_is_confirmed(applied, people, eddie, client_for):
    admin = RoleDefinition.objects.get(logical_name="AdminRole")
    role_update(actor=Actor.from_user(people.other_editor), role=admin, role_name="Administrators", name_from_cloudformation=False, reason="import")

    blocked = plan_now(eddie)

    assert blocked.status == Plan.Status.BLOCKED
    messages = [b["message"] for b in blocked.blocks]
    assert any(m.startswith("Role AdminRole in prod would be replaced (RoleName AdminRole → Administrators): "
                            "its ARN changes from arn:aws:iam::222222222222:role/AdminRole to "
                            "arn:aws:iam::222222222222:role/Administrators") and "switch-role link" in m
               for m in messages), messages
    assert len([m for m in messages if "would be replaced" in m]) == len(SAMPLE_ACCOUNTS)
    assert all(block_link(b) == f"/roles/{admin.pk}/edit/?confirm_replacement=1" for b in blocked.blocks if "would be replaced" in b["message"])
    role_changes = [r for a in blocked.accounts for r in a["resources"] if r["logical_id"] == "AdminRole"]
    assert [r["replacement"] for r in role_changes] == [True] * len(SAMPLE_ACCOUNTS)
    assert all(not a["change_set_id"] for a in blocked.accounts)
    with pytest.raises(ValidationError, match="blocked"):
        services.plan_approve(actor=Actor.from_user(people.approver), plan=blocked)
    page = client_for(people.viewer).get(reverse("plans:detail", args=[blocked.pk])).content.decode()
    assert page.count('<span class="badge red replaces"') == len(SAMPLE_ACCOUNTS)
    assert "Role AdminRole in prod would be replaced" in page

    role_update(actor=Actor.from_user(people.other_editor), role=admin, confirm_replacement=True, reason="new name")
    confirmation = AuditEvent.objects.get(action="confirm_replacement")
    assert (confirmation.actor_name, confirmation.object_repr) == (people.other_editor.username, "AdminRole")

    allowed = plan_now(eddie)

    assert allowed.status == Plan.Status.PENDING, allowed.blocks
    role_changes = [r for a in allowed.accounts for r in a["resources"] if r["logical_id"] == "AdminRole"]
    assert [(r["replacement"], r.get("confirmed")) for r in role_changes] == [(True, True)] * len(SAMPLE_ACCOUNTS)
    # Approvable now. (The fake AWS cannot execute a RoleName change: moto looks the new name up and
    # fails with NoSuchEntity, where CloudFormation makes a new role. A logical rename applies: below.)
    assert services.plan_approve(actor=Actor.from_user(people.approver), plan=allowed).status == Plan.Status.APPROVED


def test_a_confirmation_lifts_the_block_only_for_the_rename_it_confirmed(applied, people, eddie):
    admin = RoleDefinition.objects.get(logical_name="AdminRole")
    role_update(actor=eddie, role=admin, role_name="Administrators", name_from_cloudformation=False, confirm_replacement=True)
    role_update(actor=Actor.from_user(people.other_editor), role=admin, path="/ops/", reason="import again")

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.BLOCKED
    assert any("Path / → /ops/" in b["message"] for b in plan.blocks), plan.blocks


def test_a_confirmed_logical_rename_pairs_the_removed_and_added_role_as_one_replacement(applied, people, eddie):
    admin = RoleDefinition.objects.get(logical_name="AdminRole")
    role_update(actor=eddie, role=admin, logical_name="Administrator", confirm_replacement=True)

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.PENDING, plan.blocks
    prod = next(a for a in plan.accounts if a["name"] == "prod")
    roles = {r["logical_id"]: r for r in prod["resources"] if r["type"] == "AWS::IAM::Role"}
    assert (roles["AdminRole"]["action"], roles["AdminRole"]["replacement"], roles["AdminRole"]["replaced_by"]) == (
        "remove", True, "Administrator")
    assert (roles["Administrator"]["action"], roles["Administrator"]["replaces"]) == ("add", "AdminRole")
    assert {g["group"] for g in plan.master["groups_remove"]} == {f"{a}.AdminRole" for a in SAMPLE_ACCOUNTS}

    job = apply_now(plan, approver=people.approver, requester=people.other_editor)

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "Administrator" in live_roles(applied, "prod") and "AdminRole" not in live_roles(applied, "prod")
    assert plan_now(eddie).status == Plan.Status.NO_CHANGES


def test_a_group_with_members_that_the_console_never_knew_is_not_removed_silently(applied, eddie):
    iam = applied.session("master").client("iam")
    iam.create_group(GroupName="prod.LegacyRole", Path="/RoleModel/")
    iam.add_user_to_group(GroupName="prod.LegacyRole", UserName="finance.ng")

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.BLOCKED
    [block] = plan.blocks
    assert block["message"].startswith("Group prod.LegacyRole under /RoleModel/ is not known to the console and has "
                                       "members (finance.ng)")
    assert "rolemodel import" in block["message"] and "remove its members from the group in AWS" in block["message"]

    iam.remove_user_from_group(GroupName="prod.LegacyRole", UserName="finance.ng")
    assert plan_now(eddie).status == Plan.Status.PENDING  # an empty group is simply removed


def test_deleting_a_role_or_an_account_in_the_console_removes_their_groups_without_a_block(applied, people, eddie):
    assert Membership.objects.filter(role__logical_name="BillingRole").exists()
    role_delete(actor=eddie, role=RoleDefinition.objects.get(logical_name="BillingRole"), reason="no longer used")
    account_delete(actor=eddie, account=AssumableAccount.objects.get(name="cdn"), reason="closed")

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.PENDING, plan.blocks
    removed = {g["group"] for g in plan.master["groups_remove"]}
    assert {f"{a}.BillingRole" for a in SAMPLE_ACCOUNTS} <= removed
    assert {g for g in live_groups(applied) if g.startswith("cdn.")} <= removed


def test_a_member_added_by_hand_to_a_group_the_console_removes_blocks_the_plan(applied, eddie):
    iam = applied.session("master").client("iam")
    members = live_groups(applied)["prod.BillingRole"]["members"]
    hand_added = sorted({u["UserName"] for u in iam.list_users()["Users"]} - members)[0]
    iam.add_user_to_group(GroupName="prod.BillingRole", UserName=hand_added)
    billing = RoleDefinition.objects.get(logical_name="BillingRole")
    role_update(actor=eddie, role=billing, applies_to_all_accounts=False,
                accounts=list(AssumableAccount.objects.exclude(name="prod")), reason="not in prod")

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.BLOCKED
    [block] = plan.blocks
    assert block["message"].startswith(f"Group prod.BillingRole would be removed while members the console did not "
                                       f"revoke are in it ({hand_added})")


def test_a_teardown_is_never_blocked_by_members_or_replacements(applied, people, eddie):
    iam = applied.session("master").client("iam")
    iam.create_group(GroupName="prod.LegacyRole", Path="/RoleModel/")
    iam.add_user_to_group(GroupName="prod.LegacyRole", UserName="finance.ng")

    plan = plan_now(eddie, teardown=True)

    assert plan.status == Plan.Status.PENDING, plan.blocks
    assert "prod.LegacyRole" in {g["group"] for g in plan.master["groups_remove"]}


def test_a_replacement_nobody_asked_for_here_is_confirmed_from_the_blocks_link(applied, people, eddie, client_for):
    # The console's role and the live one differ in name without an edit here (as after adopting a stack).
    RoleDefinition.objects.filter(logical_name="ReadOnlyRole").update(role_name="Reader", name_from_cloudformation=False)
    blocked = plan_now(eddie)
    assert blocked.status == Plan.Status.BLOCKED
    link = next(block_link(b) for b in blocked.blocks if b["message"].startswith("Role ReadOnlyRole in prod"))

    role = RoleDefinition.objects.get(logical_name="ReadOnlyRole")
    data = {"logical_name": role.logical_name, "role_name": role.role_name, "path": role.path,
            "description": role.description, "max_session_duration": str(role.max_session_duration),
            "managed_policy_arns": "\n".join(role.managed_policy_arns), "applies_to_all_accounts": "on",
            "require_mfa": "on" if role.require_mfa else "", "tags": format_tags(role.tags),
            "permissions_boundary_arn": role.permissions_boundary_arn,
            "confirm_replacement": "on", "reason": "rename it for real"}
    assert client_for(people.other_editor).post(link, data).status_code == 302

    assert plan_now(eddie).status == Plan.Status.PENDING


def test_renaming_an_account_moves_its_groups_members_without_a_block(applied, eddie):
    from accounts.services import account_update

    account_update(actor=eddie, account=AssumableAccount.objects.get(name="prod"), name="production", reason="rename")

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.PENDING, plan.blocks
    removed = {g["group"] for g in plan.master["groups_remove"] if g["members"]}
    assert removed and all(g.startswith("prod.") for g in removed)
    added = {(m["group"], m["user"]) for m in plan.master["members_add"]}
    for group in plan.master["groups_remove"]:
        renamed = "production." + group["group"].split(".", 1)[1]
        assert {(renamed, user) for user in group["members"]} <= added
