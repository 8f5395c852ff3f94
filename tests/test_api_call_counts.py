"""Every request a job sends is counted on the job: the AssumeRole that fetched its credentials and
the change-set clean-up after a failed apply included. What crossed the wire is read from the fault
proxy's log (devtools/fault_proxy.py), which sees every request the engine sends to the fake AWS."""
import pytest

from accounts.models import AssumableAccount
from integrations import aws
from django.urls import reverse

from plans import cleanup
from plans.models import Job, JobStep, Plan
from tests.faults_world import (  # noqa: F401 - fixtures
    ACCOUNTS,
    apply_now,
    fault_proxy,
    fault_proxy_server,
    small_world,
    steps_by_target,
)
from tests.workflow import plan_now

pytestmark = pytest.mark.django_db

CDN = ACCOUNTS["cdn"]
# GetCallerIdentity: the clean-up deletes only in the account the change set's ARN names (plans/targets.py).
CLEANUP = {"GetCallerIdentity": 1, "DescribeChangeSet": 1, "DeleteChangeSet": 1, "DescribeStacks": 1, "ListChangeSets": 1, "DeleteStack": 1}


def wire_operations(proxy) -> dict:
    counts = {}
    for request in proxy.log:
        counts[request.operation] = counts.get(request.operation, 0) + 1
    return counts


def job_operations(job: Job) -> dict:
    counts = {}
    for step in job.steps.all():
        for operation, count in (step.api_calls or {}).get("operations", {}).items():
            counts[operation] = counts.get(operation, 0) + count
    return counts


@pytest.mark.parametrize("reached_by", ["profile", "role_arn"])
def test_a_failed_apply_reports_every_call_that_crossed_the_wire(small_world, people, eddie, reached_by):
    if reached_by == "role_arn":  # cdn reached by assuming a role from the master's session, as in production
        AssumableAccount.objects.filter(name="cdn").update(profile="", role_arn=f"arn:aws:iam::{CDN}:role/admin")
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.PENDING, plan.error or plan.blocks
    aws.reset_session_cache()  # the apply runs in a worker that has no credentials yet
    small_world.reset()
    small_world.fail("ExecuteChangeSet", code="AccessDenied", message="not allowed to execute", account=CDN)

    job = apply_now(plan, people)
    assert job.status == Job.Status.FAILED and steps_by_target(job)["cdn"].status == JobStep.Status.FAILED
    cleanup.discard_unexecuted_change_sets(job_id=job.pk)  # the worker's clean-up task

    job.refresh_from_db()
    totals = job.api_call_totals()
    assert totals["total"] + totals["retries"] == len(small_world.log)
    assert job_operations(job) == wire_operations(small_world)
    assert job_operations(job)["AssumeRole"] == small_world.count("AssumeRole") >= 2
    cdn = steps_by_target(job)["cdn"].api_calls
    assert cdn["cleanup"]["operations"] == CLEANUP
    assert cdn["cleanup"]["writes"] == 2


def test_the_job_page_says_which_calls_were_the_clean_up(small_world, people, eddie, client_for):
    plan = plan_now(eddie)
    small_world.fail("ExecuteChangeSet", code="AccessDenied", message="not allowed to execute", account=CDN)
    job = apply_now(plan, people)
    cleanup.discard_unexecuted_change_sets(job_id=job.pk)

    html = client_for(people.viewer).get(reverse("plans:job_detail", args=[job.pk])).content.decode()

    assert html.count('class="muted cleanup-calls"') == 1
    assert ("Of these, the change-set clean-up after the job: DeleteChangeSet ×1, DeleteStack ×1, "
            "DescribeChangeSet ×1, DescribeStacks ×1, GetCallerIdentity ×1, ListChangeSets ×1") in html


def test_a_throttled_assume_role_is_counted_as_a_retry(small_world, eddie):
    aws.reset_session_cache()
    small_world.reset()
    small_world.throttle("AssumeRole", times=1)

    plan = plan_now(eddie)

    totals = plan.jobs.get().api_call_totals()
    assert plan.status == Plan.Status.PENDING, plan.error or plan.blocks
    assert small_world.count("AssumeRole", outcome="error") == 1
    assert totals["retries"] == 1
    assert totals["total"] + totals["retries"] == len(small_world.log)


def test_the_assume_role_of_a_plan_is_counted_on_the_step_that_needed_it(small_world, eddie):
    aws.reset_session_cache()
    small_world.reset()  # the world's own setup calls are not the plan's

    plan = plan_now(eddie)

    steps = steps_by_target(plan.jobs.get())
    assert plan.status == Plan.Status.PENDING, plan.error or plan.blocks
    for target in ("prod", "cdn", JobStep.MASTER):
        assert steps[target].api_calls["operations"]["AssumeRole"] == 1, target
    assert plan.jobs.get().api_call_totals()["total"] == len(small_world.log)
    assert plan.jobs.get().api_call_totals()["writes"] == 2  # the change sets; fetching credentials writes nothing
