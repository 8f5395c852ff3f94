"""What the worker would do, run in the test process: for unit tests of the plan engine and its pages.

End-to-end tests do not use these: they go through a real worker (tests/e2e_fixtures.py).
"""
from audit.services import Actor
from plans import applying, planning, services
from plans.models import Job, JobStep, Plan


def plan_now(actor: Actor, *, teardown: bool = False) -> Plan:
    """Request a plan and compute it at once, as the worker would."""
    plan = services.plan_request(actor=actor, teardown=teardown)
    planning.plan_compute(plan_id=plan.pk)
    plan.refresh_from_db()
    return plan


def run_apply_job(job: Job) -> Job:
    """What the worker does for an apply job: every account step, then the master step."""
    for step in job.steps.exclude(target=JobStep.MASTER):
        applying.apply_account(step_id=step.pk)
    applying.apply_master(job_id=job.pk)
    job.refresh_from_db()
    return job


def apply_now(plan: Plan, *, approver, requester) -> Job:
    """Approve a plan, request its apply and run it."""
    services.plan_approve(actor=Actor.from_user(approver), plan=plan)
    return run_apply_job(services.apply_request(actor=Actor.from_user(requester), plan=plan))
