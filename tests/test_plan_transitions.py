"""State transitions are model methods: each one conditional UPDATE that says whether it won."""
import pytest
from django.db.models import Q

from plans.models import Job, JobStep, Plan

pytestmark = pytest.mark.django_db


def make_plan(status: str) -> Plan:
    return Plan.objects.create(status=status, requested_by_name="eddie")


def test_only_one_of_two_approvals_wins(people):
    plan = make_plan(Plan.Status.PENDING)
    other = Plan.objects.get(pk=plan.pk)  # a second process's copy

    assert plan.approve(user=people.approver, name="anna", comment="ok")
    assert not other.approve(user=people.other_approver, name="otto")
    assert Plan.objects.get(pk=plan.pk).decided_by_name == "anna"
    assert plan.status == Plan.Status.APPROVED and other.status == Plan.Status.PENDING


@pytest.mark.parametrize("status", Plan.SUPERSEDABLE_STATUSES)
def test_a_waiting_plan_is_superseded(status):
    plan = make_plan(status)
    assert plan.supersede()
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.SUPERSEDED


@pytest.mark.parametrize("status", [Plan.Status.PLANNING, Plan.Status.APPLYING, *Plan.FINAL_STATUSES])
def test_a_plan_planning_applying_or_final_is_not_superseded(status):
    plan = make_plan(status)
    assert not plan.supersede()
    assert Plan.objects.get(pk=plan.pk).status == status


def test_an_apply_starts_once_and_ends_once():
    plan = make_plan(Plan.Status.APPROVED)
    assert plan.start_applying()
    assert not Plan.objects.get(pk=plan.pk).start_applying()
    assert plan.finish_applying(error="prod: stack failed")
    assert not plan.finish_applying()
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPLY_FAILED


def test_planning_ends_once():
    plan = make_plan(Plan.Status.PLANNING)
    assert plan.fail_planning(reason="reaped")
    assert not Plan.objects.get(pk=plan.pk).finish_planning(status=Plan.Status.PENDING)
    stored = Plan.objects.get(pk=plan.pk)
    assert (stored.status, stored.error) == (Plan.Status.FAILED, "reaped") and stored.planned_at


def test_a_job_starts_once_and_its_first_outcome_stands():
    job = Job.objects.create(kind=Job.Kind.PLAN, plan=make_plan(Plan.Status.PLANNING), requested_by_name="eddie")
    step = JobStep.objects.create(job=job, target="prod")
    assert job.start() and not Job.objects.get(pk=job.pk).start()
    assert job.beat()
    assert step.start(total=2)
    assert step.finish(error="prod: boom", api_calls={"reads": 1})
    assert not step.finish()
    assert job.abandon(reason="abandoned", now=job.started_at, still_stale=Q())
    assert not job.finish()
    assert not job.beat()
    assert Job.objects.get(pk=job.pk).error == "abandoned"
    assert JobStep.objects.get(pk=step.pk).status == JobStep.Status.FAILED


def test_a_job_that_never_reached_the_broker_skips_its_steps():
    job = Job.objects.create(kind=Job.Kind.APPLY, plan=make_plan(Plan.Status.APPLYING), requested_by_name="eddie")
    JobStep.objects.create(job=job, target="prod")
    assert job.fail_not_started(reason="broker away")
    assert not job.fail_not_started(reason="again")
    assert list(job.steps.values_list("status", flat=True)) == [JobStep.Status.SKIPPED]
    assert job.plan.apply_not_started()
