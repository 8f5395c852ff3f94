"""Defects of the plans engine found in issue 9, each pinned by a test that failed before its fix."""
from unittest import mock

import pytest
from django.db.models.query import QuerySet

from accounts.models import AssumableAccount
from audit.models import AuditEvent
from audit.services import Actor
from plans import applying, planning, services
from plans.models import Job, JobStep, Plan
from tests.aws_world import sample_world  # noqa: F401
from tests.workflow import plan_now

pytestmark = pytest.mark.django_db


def test_an_account_renamed_after_the_apply_was_requested_fails_its_step_with_the_reason(sample_world, people, eddie):
    plan = plan_now(eddie)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)
    job = services.apply_request(actor=eddie, plan=plan)
    step = job.steps.exclude(target=JobStep.MASTER).order_by("position").first()
    # Renamed behind the plan's back, after the fingerprint was checked at the request.
    AssumableAccount.objects.filter(name=step.target).update(name=f"{step.target}-renamed")

    applying.apply_account(step_id=step.pk)  # must not raise

    step.refresh_from_db()
    assert step.status == JobStep.Status.FAILED
    assert f"{step.target}: the account is no longer in the console" in step.error
    assert "internal error" not in step.error
    assert step.log and step.log[-1]["message"] == step.error


def test_a_plan_that_started_applying_meanwhile_is_not_superseded(sample_world, people, eddie):
    first = plan_now(eddie)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=first)
    second = services.plan_request(actor=eddie)
    values_list = QuerySet.values_list

    def read_then_apply_starts(queryset, *fields, **kwargs):
        """The moment after the planner read which plans are open: another process starts applying one."""
        result = values_list(queryset, *fields, **kwargs)
        if queryset.model is Plan and fields == ("pk",):
            pks = list(result)
            Plan.objects.filter(pk=first.pk, status=Plan.Status.APPROVED).update(status=Plan.Status.APPLYING)
            return pks
        return result

    with mock.patch.object(QuerySet, "values_list", read_then_apply_starts):
        planning.plan_compute(plan_id=second.pk)

    assert Plan.objects.get(pk=first.pk).status == Plan.Status.APPLYING
    assert not AuditEvent.objects.filter(action="plan_superseded", object_id=str(first.pk)).exists()
