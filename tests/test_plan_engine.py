"""The plan / approve / apply services against the fake AWS, called directly (no worker)."""
import json

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AssumableAccount, MasterAccount
from audit.models import AuditEvent
from audit.services import Actor
from integrations import aws
from memberships.models import IAMUser, Membership
from memberships.services import membership_revoke
from plans import cleanup, services
from plans.models import Job, Plan
from roles.models import InlinePolicy
from roles.services import policy_update
from tests.aws_world import SAMPLE_ACCOUNTS, SAMPLE_ROLES, live_groups, live_role_names, live_stack_status, sample_world  # noqa: F401
from tests.workflow import apply_now, plan_now

pytestmark = pytest.mark.django_db


def plan_calls(plan: Plan) -> dict:
    return plan.jobs.get(kind=Job.Kind.PLAN).api_call_totals()


def test_the_first_apply_builds_every_stack_group_policy_and_member(sample_world, people, eddie):
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.PENDING, plan.blocks or plan.error
    assert [a["action"] for a in plan.accounts] == ["create", "create", "create"]
    assert len(plan.master["groups_create"]) == len(SAMPLE_ACCOUNTS) * len(SAMPLE_ROLES)
    assert plan.editors == [people.editor.username]

    job = apply_now(plan, approver=people.approver, requester=people.editor)

    assert job.status == Job.Status.SUCCEEDED, job.error
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPLIED
    for profile in SAMPLE_ACCOUNTS:
        assert set(SAMPLE_ROLES) <= live_role_names(sample_world, profile)
    groups = live_groups(sample_world)
    assert set(groups) == {f"{a}.{r}" for a in SAMPLE_ACCOUNTS for r in SAMPLE_ROLES}
    prod_admin = groups["prod.AdminRole"]
    assert list(prod_admin["policies"]) == ["prod.AdminRole-Policy"]
    statement = prod_admin["policies"]["prod.AdminRole-Policy"]["Statement"][0]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Resource"] == "arn:aws:iam::222222222222:role/AdminRole"
    expected_members = {m.group_name: set() for m in Membership.objects.select_related("account", "role")}
    for membership in Membership.objects.select_related("iam_user", "account", "role"):
        expected_members[membership.group_name].add(membership.iam_user.user_name)
    for group, members in expected_members.items():
        assert groups[group]["members"] == members


def test_a_second_plan_finds_no_change_with_few_reads_and_no_writes(sample_world, people, eddie):
    apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)

    again = plan_now(eddie)

    assert again.status == Plan.Status.NO_CHANGES
    assert again.summary == {"add": 0, "change": 0, "remove": 0}
    calls = plan_calls(again)
    accounts = len(SAMPLE_ACCOUNTS)
    assert calls["writes"] == 0
    assert calls["total"] <= 2 * accounts + 3


def test_changing_one_policy_plans_exactly_that_change(sample_world, people, eddie):
    apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    policy = InlinePolicy.objects.select_related("role").get(role__logical_name="ReadOnlyRole")
    document = json.loads(json.dumps(policy.document))
    document["Statement"][0]["Action"] = sorted(set(document["Statement"][0]["Action"]) | {"xray:GetTraceSummaries"}) \
        if isinstance(document["Statement"][0]["Action"], list) else [document["Statement"][0]["Action"], "xray:GetTraceSummaries"]
    policy_update(actor=Actor.from_user(people.other_editor), policy=policy, name=policy.name, document=document)

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.PENDING
    changed = {(a["name"], r["logical_id"], r["action"]) for a in plan.accounts for r in a["resources"]}
    logical_id = next(r["logical_id"] for a in plan.accounts for r in a["resources"])
    assert changed == {(account, logical_id, "change") for account in SAMPLE_ACCOUNTS}
    assert plan.master["groups_create"] == plan.master["members_add"] == plan.master["members_remove"] == []
    assert plan.summary == {"add": 0, "change": 3, "remove": 0}
    assert any("widens permissions" in warning for warning in plan.warnings)
    assert "xray:GetTraceSummaries" in next(r["diff"] for a in plan.accounts for r in a["resources"])

    job = apply_now(plan, approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert plan_now(eddie).status == Plan.Status.NO_CHANGES


def test_removing_one_membership_plans_exactly_that_removal(sample_world, people, eddie):
    apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    membership = Membership.objects.select_related("iam_user", "account", "role").first()
    membership_revoke(actor=eddie, membership=membership, reason="left the team")

    plan = plan_now(eddie)

    assert plan.summary == {"add": 0, "change": 0, "remove": 1}
    [removal] = plan.master["members_remove"]
    assert (removal["group"], removal["user"]) == (membership.group_name, membership.iam_user.user_name)
    assert (removal["removed_by"], removal["reason"]) == ("eddie", "left the team")
    assert all(a["action"] == "none" for a in plan.accounts)
    job = apply_now(plan, approver=people.approver, requester=people.other_editor)
    assert job.status == Job.Status.SUCCEEDED
    assert membership.iam_user.user_name not in live_groups(sample_world)[membership.group_name]["members"]
    assert job.api_call_totals()["writes"] == 1


def test_a_member_added_in_aws_by_hand_is_removed_and_the_plan_says_no_one_asked(sample_world, people, eddie):
    apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    membership = Membership.objects.select_related("iam_user", "account", "role").first()
    stranger = IAMUser.objects.exclude(user_name__in=[
        m.iam_user.user_name for m in Membership.objects.filter(account=membership.account, role=membership.role)
    ]).first()
    sample_world.session("master").client("iam").add_user_to_group(GroupName=membership.group_name,
                                                                   UserName=stranger.user_name)

    plan = plan_now(eddie)

    [removal] = plan.master["members_remove"]
    assert (removal["group"], removal["user"]) == (membership.group_name, stranger.user_name)
    assert "removed_by" not in removal and "reason" not in removal


def test_teardown_removes_every_stack_and_group(sample_world, people, eddie):
    apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)

    plan = plan_now(eddie, teardown=True)
    assert plan.kind == Plan.Kind.TEARDOWN
    assert [a["action"] for a in plan.accounts] == ["delete", "delete", "delete"]
    job = apply_now(plan, approver=people.approver, requester=people.editor)

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert live_groups(sample_world) == {}
    for profile in SAMPLE_ACCOUNTS:
        assert live_stack_status(sample_world, profile, "Sample-RoleModel") in (None, "DELETE_COMPLETE")
        assert not set(SAMPLE_ROLES) & live_role_names(sample_world, profile)


def test_a_member_missing_from_the_master_account_blocks_the_plan(sample_world, people, eddie):
    sample_world.session("master").client("iam").delete_user(UserName="finance.ng")

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.BLOCKED
    assert any("finance.ng does not exist" in block["message"] for block in plan.blocks)
    assert all(not a["change_set_id"] for a in plan.accounts)
    with pytest.raises(ValidationError, match="blocked"):
        services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)


def test_it_refuses_self_approval_and_approval_by_an_editor(sample_world, people, eddie):
    people.approver.groups.add(*people.editor.groups.all())
    plan_by_approver = plan_now(Actor.from_user(people.approver))
    with pytest.raises(ValidationError, match="You requested this plan"):
        services.plan_approve(actor=Actor.from_user(people.approver), plan=plan_by_approver)
    # eddie edited the desired state (the import); as an Approver too he still may not approve it.
    people.editor.groups.add(people.approver.groups.get(name="Approver"))
    people.editor._console_groups = None
    del people.editor._console_groups
    with pytest.raises(ValidationError, match="edited the desired state"):
        services.plan_approve(actor=Actor.from_user(people.editor), plan=plan_by_approver)
    assert Plan.objects.get(pk=plan_by_approver.pk).status == Plan.Status.PENDING


def test_two_approvals_at_once_cannot_both_succeed(sample_world, people, eddie):
    plan = plan_now(eddie)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)
    with pytest.raises(ValidationError):
        services.plan_approve(actor=Actor.from_user(people.other_approver), plan=plan)
    assert AuditEvent.objects.filter(action="plan_approved").count() == 1


def test_a_stale_plan_refuses_to_apply(sample_world, people, eddie):
    plan = plan_now(eddie)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)
    account = AssumableAccount.objects.get(name="staging")
    from accounts.services import account_update

    account_update(actor=eddie, account=account, enabled=False)

    with pytest.raises(ValidationError, match="stale"):
        services.apply_request(actor=eddie, plan=plan)
    assert not Job.objects.filter(kind=Job.Kind.APPLY).exists()


def test_an_apply_runs_once(sample_world, people, eddie):
    plan = plan_now(eddie)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)
    services.apply_request(actor=eddie, plan=plan)
    with pytest.raises(ValidationError, match="approved plan"):
        services.apply_request(actor=eddie, plan=Plan.objects.get(pk=plan.pk))
    assert Job.objects.filter(kind=Job.Kind.APPLY).count() == 1


def test_a_newer_plan_supersedes_and_a_rejection_discards_change_sets(sample_world, people, eddie):
    first = plan_now(eddie)
    change_set_id = first.accounts[0]["change_set_id"]
    second = plan_now(eddie)
    assert Plan.objects.get(pk=first.pk).status == Plan.Status.SUPERSEDED
    cleanup.discard_change_sets(plan_id=first.pk)
    cloudformation = sample_world.session(first.accounts[0]["name"]).client("cloudformation")
    with pytest.raises(Exception, match="does not exist|not found|NotFound"):
        cloudformation.describe_change_set(ChangeSetName=change_set_id)

    with pytest.raises(ValidationError, match="Say why"):
        services.plan_reject(actor=Actor.from_user(people.approver), plan=second, comment=" ")
    services.plan_reject(actor=Actor.from_user(people.approver), plan=second, comment="not this week")
    cleanup.discard_change_sets(plan_id=second.pk)
    for account in second.accounts:
        assert live_stack_status(sample_world, account["name"], "Sample-RoleModel") in (None, "DELETE_COMPLETE")
    assert Plan.objects.get(pk=second.pk).decision_comment == "not this week"


def test_an_unreachable_aws_fails_the_plan_with_the_reason(sample_world, people, eddie, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    aws.reset_session_cache()

    plan = plan_now(eddie)

    assert plan.status == Plan.Status.FAILED
    assert "Could not connect" in plan.error or "cannot reach" in plan.error or "Connect" in plan.error
    job = plan.jobs.get()
    assert job.status == Job.Status.FAILED and job.error


def test_missing_account_ids_are_read_from_aws(sample_world, people, eddie):
    AssumableAccount.objects.filter(name="cdn").update(account_id="")
    MasterAccount.objects.filter(pk=1).update(account_id="")

    plan_now(eddie)

    assert AssumableAccount.objects.get(name="cdn").account_id == "333333333333"
    assert MasterAccount.load().account_id == "111111111111"
    assert AuditEvent.objects.filter(actor_name="system:planner", object_type="account").exists()
