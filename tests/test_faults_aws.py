"""AWS misbehaving while the engine plans and applies: it stops answering, throttles, or a stack
ends badly. The engine runs in this process; AWS is the moto server behind the fault proxy."""
import time

import pytest

from audit.models import AuditEvent
from audit.services import Actor
from plans.models import Job, JobStep, Plan
from roles.models import InlinePolicy
from roles.services import policy_update
from tests.faults_world import (  # noqa: F401 - fixtures
    ACCOUNTS,
    STACK,
    actions,
    apply_now,
    approve,
    fast_failing_aws,
    fault_proxy,
    fault_proxy_server,
    small_world,
    steps_by_target,
)
from tests.workflow import plan_now

pytestmark = pytest.mark.django_db

# Two attempts of at most 1 s (connect or read) and botocore's pause between them, with room to spare.
NO_ANSWER_BOUND_SECONDS = 10
PROD, CDN = ACCOUNTS["prod"], ACCOUNTS["cdn"]


def test_aws_that_stops_answering_mid_plan_fails_the_plan_quickly_and_writes_nothing(small_world, fast_failing_aws, eddie):
    small_world.stall("GetAccountAuthorizationDetails")

    started = time.monotonic()
    plan = plan_now(eddie)
    elapsed = time.monotonic() - started

    assert elapsed < NO_ANSWER_BOUND_SECONDS
    assert plan.status == Plan.Status.FAILED
    assert plan.error.startswith("master: AWS stopped answering: GetAccountAuthorizationDetails got no answer after 2 attempt(s)")
    assert (plan.summary, plan.accounts, plan.master, plan.fingerprint) == ({}, [], {}, "")
    job = plan.jobs.get()
    steps = steps_by_target(job)
    assert job.status == Job.Status.FAILED and job.error == plan.error
    assert steps[JobStep.MASTER].status == JobStep.Status.FAILED and steps[JobStep.MASTER].error == plan.error
    assert {steps["prod"].status, steps["cdn"].status} == {JobStep.Status.SKIPPED}
    assert small_world.count("CreateChangeSet", outcome=None) == 0
    assert AuditEvent.objects.filter(action="plan_failed", object_id=str(plan.pk), reason=plan.error).exists()


def test_aws_that_stops_answering_mid_apply_fails_that_account_and_leaves_the_master_untouched(
    small_world, fast_failing_aws, people, eddie
):
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.PENDING, plan.error or plan.blocks
    small_world.stall("DescribeStacks", account=CDN)

    started = time.monotonic()
    job = apply_now(plan, people)
    elapsed = time.monotonic() - started

    assert elapsed < NO_ANSWER_BOUND_SECONDS + 5  # prod's stack and the master step's refusal on top
    steps = steps_by_target(job)
    assert steps["prod"].status == JobStep.Status.SUCCEEDED
    assert steps["cdn"].status == JobStep.Status.FAILED
    assert steps["cdn"].error.startswith("cdn: AWS stopped answering: DescribeStacks got no answer")
    assert steps[JobStep.MASTER].status == JobStep.Status.SKIPPED
    assert job.status == Job.Status.FAILED and "cdn: AWS stopped answering" in job.error
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPLY_FAILED
    assert small_world.count("CreateGroup", outcome=None) == 0  # not one IAM write

    small_world.clear()
    again = plan_now(eddie)  # AWS answers again: what is left is the master account
    assert actions(again) == {"prod": "none", "cdn": "none"}
    assert [g["group"] for g in again.master["groups_create"]] == ["cdn.ReadOnlyRole", "prod.ReadOnlyRole"]
    assert run_apply_and_plan(again, people, eddie).status == Plan.Status.NO_CHANGES


def run_apply_and_plan(plan, people, eddie) -> Plan:
    job = apply_now(plan, people)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return plan_now(eddie)


def test_throttled_calls_are_retried_counted_and_the_jobs_succeed(small_world, people, eddie):
    small_world.throttle("GetAccountAuthorizationDetails", times=1)
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.PENDING, plan.error
    plan_steps = steps_by_target(plan.jobs.get())
    assert plan_steps[JobStep.MASTER].api_calls["retries"] == 1
    assert plan.jobs.get().api_call_totals()["retries"] == 1

    small_world.throttle("AddUserToGroup", times=1)
    job = apply_now(plan, people)

    assert job.status == Job.Status.SUCCEEDED, job.error
    master = steps_by_target(job)[JobStep.MASTER]
    assert master.api_calls["operations"]["AddUserToGroup"] == 2  # two calls, each counted once…
    assert master.api_calls["retries"] == 1  # …and the throttled attempt as one retry
    assert job.api_call_totals()["retries"] == 1
    assert small_world.count("AddUserToGroup", outcome="error") == 1
    assert small_world.count("AddUserToGroup") == 2


def fail_the_stack(proxy, *, account: str, status: str, event_status: str, reason: str) -> None:
    """AWS accepts the execution, does nothing, and the stack reports ``status`` with its reasons."""
    proxy.swallow("ExecuteChangeSet", account=account)
    proxy.stack_status(status, reason="The following resource(s) failed: [ReadOnlyRole].", account=account)
    proxy.stack_events([{"logical_id": "ReadOnlyRole", "status": event_status, "type": "AWS::IAM::Role", "reason": reason},
                        {"logical_id": STACK, "status": status, "reason": ""}], account=account)


@pytest.mark.parametrize("final_status", ["ROLLBACK_COMPLETE", "CREATE_FAILED"])
def test_a_stack_that_fails_to_create_reports_its_reason_and_the_next_plan_recreates_it(
    small_world, people, eddie, final_status
):
    plan = plan_now(eddie)
    denied = "Resource handler returned message: User is not authorized to perform: iam:CreateRole"
    fail_the_stack(small_world, account=PROD, status=final_status, event_status="CREATE_FAILED", reason=denied)

    job = apply_now(plan, people)

    prod = steps_by_target(job)["prod"]
    assert prod.status == JobStep.Status.FAILED
    assert prod.error.startswith(f"prod: stack {STACK} ended in {final_status}: The following resource(s) failed")
    assert f"ReadOnlyRole: CREATE_FAILED: {denied}" in prod.error
    assert steps_by_target(job)["cdn"].status == JobStep.Status.SUCCEEDED
    assert steps_by_target(job)[JobStep.MASTER].status == JobStep.Status.SKIPPED
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPLY_FAILED
    assert denied in job.error

    recovery = plan_now(eddie)
    assert actions(recovery) == {"prod": "recreate", "cdn": "none"}
    prod_plan = next(a for a in recovery.accounts if a["name"] == "prod")
    assert (prod_plan["recovering_from"], prod_plan["stack_status"]) == (final_status, final_status)

    if final_status == "ROLLBACK_COMPLETE":  # AWS behaves again: the recreate converges
        small_world.clear()
        assert run_apply_and_plan(recovery, people, eddie).status == Plan.Status.NO_CHANGES


def test_an_update_rolled_back_reports_its_reason_and_the_next_plan_updates_again(small_world, people, eddie):
    assert run_apply_and_plan(plan_now(eddie), people, eddie).status == Plan.Status.NO_CHANGES
    policy = InlinePolicy.objects.get(role__logical_name="ReadOnlyRole")
    document = dict(policy.document, Statement=[dict(policy.document["Statement"][0], Action=["iam:Get*"])])
    policy_update(actor=Actor.from_user(people.other_editor), policy=policy, name=policy.name, document=document)
    update = plan_now(eddie)
    assert actions(update) == {"prod": "update", "cdn": "update"}
    reason = "Resource handler returned message: Rate exceeded (Service: Iam, Status Code: 400)"
    fail_the_stack(small_world, account=PROD, status="UPDATE_ROLLBACK_COMPLETE", event_status="UPDATE_FAILED", reason=reason)

    job = apply_now(update, people)

    prod = steps_by_target(job)["prod"]
    assert prod.status == JobStep.Status.FAILED
    assert "ended in UPDATE_ROLLBACK_COMPLETE" in prod.error and reason in prod.error
    assert Plan.objects.get(pk=update.pk).status == Plan.Status.APPLY_FAILED

    again = plan_now(eddie)  # the stack still holds the old template: the same update, once more
    assert actions(again) == {"prod": "update", "cdn": "none"}
    prod_plan = next(a for a in again.accounts if a["name"] == "prod")
    assert prod_plan["stack_status"] == "UPDATE_ROLLBACK_COMPLETE"
    first_time = next(a for a in update.accounts if a["name"] == "prod")["resources"]
    assert [(r["logical_id"], r["action"], r["diff"]) for r in prod_plan["resources"]] == [
        (r["logical_id"], "change", r["diff"]) for r in first_time
    ]
    small_world.clear()
    assert run_apply_and_plan(again, people, eddie).status == Plan.Status.NO_CHANGES


def test_a_stack_that_never_finishes_times_out_and_the_next_plan_waits_for_it(small_world, people, eddie, settings):
    settings.ROLEMODEL_STACK_TIMEOUT_SECONDS = 1
    plan = plan_now(eddie)
    small_world.stack_status("CREATE_IN_PROGRESS", reason="Resource creation Initiated", account=PROD)

    job = apply_now(plan, people)

    prod = steps_by_target(job)["prod"]
    assert prod.status == JobStep.Status.FAILED
    assert prod.error.startswith(
        f"prod: stack {STACK} was still CREATE_IN_PROGRESS (Resource creation Initiated) after 1 s."
    ), prod.error
    assert steps_by_target(job)[JobStep.MASTER].status == JobStep.Status.SKIPPED

    waiting = plan_now(eddie)
    assert waiting.status == Plan.Status.BLOCKED
    assert any("prod: stack is busy (CREATE_IN_PROGRESS)" in block["message"] for block in waiting.blocks)

    small_world.clear()  # it finished after all
    done = plan_now(eddie)
    assert actions(done) == {"prod": "none", "cdn": "none"}
    assert done.status == Plan.Status.PENDING and done.master["groups_create"]
