"""Thin Celery tasks: take an id, call one service. The Job rows record the outcome.

As the HackSoft styleguide shows, each task imports what it calls inside its function: the engine's
modules send tasks (through ``plans.dispatch``) without this module importing them back.

While a job's task runs, a thread beats for the job (``plans.runner.handling``): a worker that is
killed stops beating, and the periodic reaper marks its job failed after the lease.
"""
from celery import shared_task


@shared_task(acks_late=True)
def compute_plan_task(plan_id: int) -> None:
    from plans import planning, runner

    with runner.handling(runner.plan_job_id(plan_id)):
        planning.plan_compute(plan_id=plan_id)


@shared_task(acks_late=True)
def apply_account_task(step_id: int) -> None:
    from plans import applying, runner

    with runner.handling(runner.step_job_id(step_id)):
        applying.apply_account(step_id=step_id)


@shared_task(acks_late=True)
def apply_master_task(job_id: int) -> None:
    from plans import applying, runner

    with runner.handling(job_id):
        applying.apply_master(job_id=job_id)


@shared_task(acks_late=True)
def apply_revocation_task(plan_id: int) -> None:
    from plans import services

    services.revocation_apply_by_rule(plan_id=plan_id)


@shared_task
def expiry_tick_task() -> dict:
    from plans import revocation

    return revocation.expiry_tick()


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def discard_change_sets_task(plan_id: int) -> None:
    from plans import cleanup

    cleanup.discard_change_sets(plan_id=plan_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def discard_unexecuted_change_sets_task(job_id: int) -> None:
    from plans import cleanup

    cleanup.discard_unexecuted_change_sets(job_id=job_id)


@shared_task
def reap_abandoned_jobs_task() -> list[int]:
    from plans import jobs

    return jobs.reap_abandoned_jobs()
