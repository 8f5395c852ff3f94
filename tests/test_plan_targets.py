"""What an approval pins: the accounts a plan was made for and how each is reached.

* How every account and the master is reached is part of the plan's fingerprint (an edit makes an
  approved plan stale) and is shown on the plan page and in ``plan --json``; the external id only
  as "with an external id", never its value.
* Planning, ``list``, every apply step and the change-set clean-up check which account their
  credentials reached; a profile repointed in the AWS config file (invisible to the fingerprint)
  makes them fail with both ids, having written nothing there.

The end-to-end attacks, through a real worker and the CLI, are in tests/test_e2e_pinned_targets.py.
"""
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import AssumableAccount, MasterAccount
from accounts.services import account_update, master_account_update
from audit.services import Actor
from cli.workflow import plan_payload
from integrations import aws
from plans import cleanup, desired, live, services, targets
from plans.models import Job, JobStep, Plan
from tests.factories import AccountFactory, MasterAccountFactory
from tests.pinned_world import ACCOUNTS, approved_plan_deleting_the_sandbox_stack, pinned_world  # noqa: F401 - fixture
from tests.workflow import apply_now, plan_now, run_apply_job

pytestmark = pytest.mark.django_db

EXTERNAL_ID = "corp-sandbox-7f3a"
SANDBOX_ROLE = "arn:aws:iam::555555555555:role/RoleModelAccess"


def operations(step: JobStep) -> dict:
    return (step.api_calls or {}).get("operations", {})


def steps_of(plan_or_job) -> dict:
    job = plan_or_job if isinstance(plan_or_job, Job) else plan_or_job.jobs.get(kind=Job.Kind.PLAN)
    return {step.target: step for step in job.steps.all()}


# ---- the fingerprint ----------------------------------------------------------------------------


@pytest.fixture
def two_accounts(db):
    MasterAccountFactory(profile="master", region="eu-west-1")
    AccountFactory(name="prod", account_id=ACCOUNTS["prod"], profile="prod")
    AccountFactory(name="sandbox", account_id=ACCOUNTS["sandbox"], profile="", role_arn=SANDBOX_ROLE,
                   external_id=EXTERNAL_ID)


@pytest.mark.parametrize("teardown", [False, True], ids=["converge", "teardown"])
@pytest.mark.parametrize(
    "model, account, change",
    [
        (AssumableAccount, "prod", {"profile": "sandbox"}),
        (AssumableAccount, "sandbox", {"role_arn": "arn:aws:iam::222222222222:role/RoleModelAccess"}),
        (AssumableAccount, "sandbox", {"external_id": "corp-prod-0001"}),
        (AssumableAccount, "sandbox", {"external_id": ""}),
        (AssumableAccount, "sandbox", {"role_arn": "", "external_id": "", "profile": "prod"}),
        (AssumableAccount, "prod", {"account_id": "999999999999"}),
        (MasterAccount, None, {"profile": "prod"}),
        (MasterAccount, None, {"profile": ""}),
        (MasterAccount, None, {"region": "us-east-1"}),
    ],
    ids=["profile", "role-arn", "external-id", "external-id-removed", "role-arn-to-profile", "account-id",
         "master-profile", "master-default-chain", "region"],
)
def test_how_each_account_is_reached_is_part_of_the_fingerprint(two_accounts, model, account, change, teardown):
    before = desired.fingerprint(desired.desired_state_document(teardown=teardown))

    rows = model.objects.filter(name=account) if account else model.objects.all()
    rows.update(**change)

    assert desired.fingerprint(desired.desired_state_document(teardown=teardown)) != before


def test_the_plan_record_holds_whether_there_is_an_external_id_never_its_value(two_accounts):
    document = desired.desired_state_document()

    assert EXTERNAL_ID not in json.dumps(document)
    assert document["master"] == {"account_id": "111111111111", "profile": "master", "region": "eu-west-1",
                                  "stack_name": "RoleModel"}
    sandbox = document["accounts"]["sandbox"]
    assert (sandbox["account_id"], sandbox["profile"], sandbox["role_arn"], sandbox["region"]) == (
        ACCOUNTS["sandbox"], "", SANDBOX_ROLE, "eu-west-1")
    assert sandbox["external_id_sha256"] == targets.external_id_digest(EXTERNAL_ID)


def test_an_approved_plan_is_stale_once_an_editor_changes_how_an_account_is_reached(two_accounts, people, eddie):
    document = desired.desired_state_document()
    plan = Plan.objects.create(status=Plan.Status.APPROVED, requested_by_name="eddie", desired_state=document,
                               fingerprint=desired.fingerprint(document), accounts=[], master={})
    account_update(actor=Actor.from_user(people.other_editor), account=AssumableAccount.objects.get(name="sandbox"),
                   role_arn="", external_id="", profile="prod")

    with pytest.raises(ValidationError, match="stale"):
        services.apply_request(actor=eddie, plan=plan)

    account_update(actor=Actor.from_user(people.other_editor), account=AssumableAccount.objects.get(name="sandbox"),
                   profile="", role_arn=SANDBOX_ROLE, external_id=EXTERNAL_ID)
    master_account_update(actor=Actor.from_user(people.other_editor), profile="prod")
    with pytest.raises(ValidationError, match="stale"):
        services.apply_request(actor=eddie, plan=Plan.objects.get(pk=plan.pk))
    assert not Job.objects.filter(kind=Job.Kind.APPLY).exists()


# ---- where the targets are shown ------------------------------------------------------------------


def test_the_plan_page_and_plan_json_show_each_target_and_how_it_is_reached(two_accounts, people, client_for):
    document = desired.desired_state_document()
    plan = Plan.objects.create(status=Plan.Status.PENDING, requested_by_name="eddie", desired_state=document,
                               fingerprint=desired.fingerprint(document), accounts=[], master={},
                               summary={"add": 1, "change": 0, "remove": 0})

    html = client_for(people.viewer).get(reverse("plans:detail", args=[plan.pk])).content.decode()

    section = html[html.index('id="plan-targets"'):]
    section = section[:section.index("</details>")]
    assert "Targets" in section
    assert ">111111111111<" in section and "profile master" in section and "eu-west-1" in section
    assert ">222222222222<" in section and "profile prod" in section
    assert ">555555555555<" in section
    assert f"role ARN {SANDBOX_ROLE} assumed from the master session, with an external id" in section
    assert EXTERNAL_ID not in html

    payload = plan_payload(plan)
    assert payload["targets"]["master"] == {"account_id": "111111111111", "profile": "master", "region": "eu-west-1",
                                            "reached_through": "profile master"}
    shown = [(a["name"], a["account_id"], a["profile"], a["role_arn"], a["external_id"])
             for a in payload["targets"]["accounts"]]
    assert shown == [("prod", ACCOUNTS["prod"], "prod", "", False), ("sandbox", ACCOUNTS["sandbox"], "", SANDBOX_ROLE, True)]
    assert EXTERNAL_ID not in json.dumps(payload)


# ---- planning ------------------------------------------------------------------------------------


def test_planning_takes_the_account_from_the_stack_id_and_fails_when_a_profile_reaches_another_account(
    pinned_world, people, eddie
):
    apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    no_op = plan_now(eddie)
    assert no_op.status == Plan.Status.NO_CHANGES
    # The account came from the StackId and the IAM ARNs the plan reads anyway: not one call more.
    assert all("GetCallerIdentity" not in operations(step) for step in steps_of(no_op).values())

    pinned_world.repoint("sandbox", to="prod")
    plan = plan_now(eddie)

    assert plan.status == Plan.Status.FAILED
    assert plan.error == ("sandbox: credentials reached account 222222222222, but the console records it as "
                          "555555555555; nothing was planned")
    steps = steps_of(plan)
    assert steps["sandbox"].status == JobStep.Status.FAILED
    assert "GetCallerIdentity" not in operations(steps["sandbox"])  # prod's StackId told
    assert "CreateChangeSet" not in json.dumps([step.api_calls for step in steps.values()])


def test_planning_asks_sts_when_there_is_no_stack_and_checks_the_master_by_its_iam_arns(pinned_world, people, eddie):
    pinned_world.repoint("sandbox", to="prod")
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.FAILED
    assert "sandbox: credentials reached account 222222222222, but the console records it as 555555555555" in plan.error
    assert operations(steps_of(plan)["sandbox"]).get("GetCallerIdentity") == 1  # no stack: STS was asked
    assert pinned_world.gone("prod") and pinned_world.gone("sandbox")  # no change set made a stack

    pinned_world.repoint("sandbox", to="sandbox")
    pinned_world.repoint("master", to="prod")
    pinned_world.session("prod").client("iam").create_user(UserName="prod.operator")
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.FAILED
    assert plan.error == ("master: credentials reached account 222222222222, but the console records it as "
                          "111111111111; nothing was planned")
    master_step = steps_of(plan)[JobStep.MASTER]
    assert master_step.status == JobStep.Status.FAILED
    assert "GetCallerIdentity" not in operations(master_step)  # the user's ARN told


# ---- applying ------------------------------------------------------------------------------------


def test_a_teardown_step_whose_profile_now_reaches_another_account_deletes_nothing(pinned_world, people, eddie):
    apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    teardown = plan_now(eddie, teardown=True)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=teardown)
    pinned_world.repoint("sandbox", to="prod")
    prod_before = pinned_world.stack("prod")

    job = run_apply_job(services.apply_request(actor=Actor.from_user(people.other_editor), plan=teardown))

    assert job.status == Job.Status.FAILED
    steps = steps_of(job)
    assert steps["sandbox"].error == ("sandbox: credentials reached account 222222222222, but the plan was made for "
                                      "555555555555; nothing was written")
    assert "DeleteStack" not in operations(steps["sandbox"])
    assert steps[JobStep.MASTER].status == JobStep.Status.SKIPPED
    assert pinned_world.stack("sandbox")["StackStatus"] == "CREATE_COMPLETE"  # sandbox's own stack, not reached
    assert prod_before is not None and pinned_world.gone("prod")  # deleted once, by prod's own step
    assert steps["prod"].status == JobStep.Status.SUCCEEDED


def test_an_edit_made_while_the_apply_job_waits_sends_no_step_elsewhere(pinned_world, people):
    plan = approved_plan_deleting_the_sandbox_stack(pinned_world, people)
    job = services.apply_request(actor=Actor.from_user(people.editor), plan=plan)  # passes the stale check
    prod_before = pinned_world.stack("prod")
    account_update(actor=Actor.from_user(people.other_editor), account=AssumableAccount.objects.get(name="sandbox"),
                   profile="prod")

    job = run_apply_job(job)

    assert job.status == Job.Status.FAILED
    sandbox_step = steps_of(job)["sandbox"]
    assert sandbox_step.error == ("sandbox: how the account is reached changed after the plan was made (then: profile "
                                  "sandbox; now: profile prod); nothing was written. Request a new plan.")
    assert operations(sandbox_step) == {}  # not even a read
    assert pinned_world.stack("prod") == prod_before
    assert pinned_world.stack("sandbox")["StackStatus"] == "CREATE_COMPLETE"


def test_the_master_step_writes_no_group_in_another_account(pinned_world, people, eddie):
    plan = plan_now(eddie)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)
    pinned_world.repoint("master", to="prod")

    job = run_apply_job(services.apply_request(actor=Actor.from_user(people.other_editor), plan=plan))

    assert job.status == Job.Status.FAILED
    master_step = steps_of(job)[JobStep.MASTER]
    assert master_step.error == ("master: credentials reached account 222222222222, but the plan was made for "
                                 "111111111111; nothing was written")
    assert "CreateGroup" not in operations(master_step)
    assert pinned_world.groups("prod") == set() and pinned_world.groups("master") == set()


def test_the_change_set_clean_up_deletes_nothing_through_a_profile_that_reaches_another_account(
    pinned_world, people, eddie
):
    plan = plan_now(eddie)
    change_sets = {entry["name"]: entry["change_set_id"] for entry in plan.accounts}
    assert aws.account_id_from_arn(change_sets["sandbox"]) == ACCOUNTS["sandbox"]
    services.plan_reject(actor=Actor.from_user(people.approver), plan=plan, comment="not now")
    pinned_world.repoint("sandbox", to="prod")

    with pytest.raises(targets.WrongAccount, match="sandbox: credentials reached account 222222222222, but the plan "
                                                   "was made for 555555555555; nothing was deleted"):
        cleanup.discard_change_sets(plan_id=plan.pk)

    sandbox = pinned_world.session("sandbox").client("cloudformation")
    assert sandbox.describe_change_set(ChangeSetName=change_sets["sandbox"])["ChangeSetId"] == change_sets["sandbox"]
    assert pinned_world.stack("sandbox")["StackStatus"] == "REVIEW_IN_PROGRESS"
    assert pinned_world.gone("prod")  # prod's own change set and the stack it made were cleaned

    pinned_world.repoint("sandbox", to="sandbox")  # once the profile is put right, the retry cleans up
    sandbox_entry = next(entry for entry in plan.accounts if entry["name"] == "sandbox")
    assert cleanup.discard_account_change_sets([sandbox_entry]) == ["sandbox"]
    assert pinned_world.gone("sandbox")


# ---- list ----------------------------------------------------------------------------------------


def test_list_shows_an_error_with_both_ids_instead_of_another_accounts_roles(pinned_world, people, eddie, capsys):
    apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    pinned_world.repoint("sandbox", to="prod")

    report = live.live_roles()

    by_name = {entry["name"]: entry for entry in report["accounts"]}
    assert by_name["sandbox"]["roles"] == []
    assert by_name["sandbox"]["error"] == ("sandbox: credentials reached account 222222222222, but the console records "
                                           "it as 555555555555; its roles are not shown")
    assert [role["arn"] for role in by_name["prod"]["roles"]] == ["arn:aws:iam::222222222222:role/ReadOnlyRole"]
    with pytest.raises(CommandError, match="Could not read 1 account") as refused:
        call_command("rolemodel", "list")
    assert "credentials reached account 222222222222" in str(refused.value)
    assert "Account: sandbox" not in capsys.readouterr().out
