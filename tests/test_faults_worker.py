"""A worker killed in the middle of an apply: its job is declared abandoned within the lease,
nothing runs twice when its task comes again, and a new plan on a new worker converges.

A real worker process on the file broker; AWS (moto) behind the fault proxy, which holds the
cdn account's ExecuteChangeSet so that the kill lands while that account's step is running.
"""
import os
import re
import time
import uuid

import pytest
from celery import Celery

from audit.models import AuditEvent
from audit.services import Actor
from devtools.processes import start_celery_worker
from plans import jobs, services, tasks
from plans.models import Job, JobStep, Plan
from tests.e2e_fixtures import E2EWorker, _SettingReader, _test_database_url, wait_for
from tests.faults_world import (  # noqa: F401 - fixtures
    ACCOUNTS,
    actions,
    approve,
    fault_proxy,
    fault_proxy_server,
    small_world,
    steps_by_target,
)
from tests.workflow import plan_now

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 2
CDN = ACCOUNTS["cdn"]
ROUTED_TASKS = (tasks.compute_plan_task, tasks.apply_account_task, tasks.apply_master_task, tasks.discard_change_sets_task,
                tasks.discard_unexecuted_change_sets_task)


@pytest.fixture
def worker_starter(django_db_setup, fake_aws_server, fault_proxy_server, tmp_path, monkeypatch, settings):
    """``start()`` → a new worker process on one file-broker queue of this test, AWS through the proxy,
    a short job lease. Tasks that product code in this process sends with ``.delay()`` go to it."""
    settings.ROLEMODEL_JOB_LEASE_SECONDS = LEASE_SECONDS
    queue = f"faults-{uuid.uuid4().hex[:12]}"
    env = fake_aws_server.environment(os.environ)
    env.update(
        ROLEMODEL_VAR_DIR=str(tmp_path / "worker"),
        DATABASE_URL=_test_database_url(),
        CELERY_BROKER_URL="filesystem://",
        CELERY_QUEUE=queue,
        DJANGO_SETTINGS_MODULE="rolemodel_site.settings",
        AWS_ENDPOINT_URL=fault_proxy_server.url,
        ROLEMODEL_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    transport_options = _SettingReader(env, "CELERY_BROKER_TRANSPORT_OPTIONS").value()
    producer = Celery(f"producer-{queue}", set_as_current=False)
    started: list[E2EWorker] = []

    def start() -> E2EWorker:
        worker = start_celery_worker(env=env, log_path=tmp_path / f"worker-{len(started)}.log", node_name="faults",
                                     queues=[queue], quick_start=True)
        e2e = E2EWorker(worker=worker, queue=queue, env=env, transport_options=transport_options, producer=producer)
        started.append(e2e)
        for task in ROUTED_TASKS:
            monkeypatch.setattr(task, "delay", lambda *args, _name=task.name: e2e.send_task(_name, args))
        return e2e

    try:
        yield start
    finally:
        for e2e in started:
            e2e.worker.kill()
        producer.close()


def ran(worker: E2EWorker, sent) -> bool:
    return re.search(rf"\[{sent.id}\] succeeded", worker.log_text()) is not None


def step_states(job: Job) -> dict:
    return {step.target: (step.status, step.error, step.done, step.finished_at) for step in job.steps.all()}


def plan_on(worker: E2EWorker, actor: Actor) -> Plan:
    plan = services.plan_request(actor=actor)
    wait_for(lambda: Plan.objects.get(pk=plan.pk).status != Plan.Status.PLANNING, timeout=30,
             what=lambda: f"the plan; worker log:\n{worker.log_text()[-3000:]}")
    plan.refresh_from_db()
    return plan


def test_a_worker_killed_mid_apply_is_reaped_runs_nothing_twice_and_a_new_plan_converges(
    small_world, worker_starter, people
):
    proxy = small_world
    eddie = Actor.from_user(people.editor)
    plan = plan_now(eddie)
    approve(plan, people)
    proxy.stall("ExecuteChangeSet", account=CDN)
    first = worker_starter()

    job = services.apply_request(actor=eddie, plan=Plan.objects.get(pk=plan.pk))
    steps = steps_by_target(job)
    wait_for(lambda: JobStep.objects.get(pk=steps["prod"].pk).status == JobStep.Status.SUCCEEDED and proxy.stalled_now,
             timeout=30, what=lambda: f"prod to finish and cdn to stall; worker log:\n{first.log_text()[-3000:]}")
    time.sleep(LEASE_SECONDS + 0.5)
    assert jobs.reap_abandoned_jobs() == []  # stalled for longer than the lease, but its worker lives and beats

    first.worker.kill()  # SIGKILL to the worker and its pool children
    killed_at = time.monotonic()
    wait_for(lambda: job.pk in jobs.reap_abandoned_jobs(), timeout=LEASE_SECONDS + 5, what="the job to be reaped")

    assert time.monotonic() - killed_at < LEASE_SECONDS + 5
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("abandoned: the worker stopped answering (no heartbeat since ")
    steps = steps_by_target(job)
    states = step_states(job)
    assert steps["prod"].status == JobStep.Status.SUCCEEDED
    assert (steps["cdn"].status, steps["cdn"].error) == (JobStep.Status.FAILED, job.error)
    assert steps[JobStep.MASTER].status == JobStep.Status.SKIPPED
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPLY_FAILED
    assert AuditEvent.objects.filter(action="apply_failed", actor_name="system:reaper", object_id=str(plan.pk)).exists()

    proxy.clear()  # AWS answers again; the held ExecuteChangeSet never reached it
    second = worker_starter()
    wait_for(lambda: "discard_unexecuted_change_sets_task" in second.log_text() and re.search(
        r"discard_unexecuted_change_sets_task\[[^\]]+\] succeeded", second.log_text()), timeout=30,
        what=lambda: f"the reaper's clean-up of cdn's unexecuted change set; worker log:\n{second.log_text()[-3000:]}")
    assert proxy.count("DeleteChangeSet", account=CDN) == 1 and proxy.count("DeleteStack", account=CDN) == 1
    again = [second.send_task(tasks.apply_account_task.name, [steps["cdn"].pk]),
             second.send_task(tasks.apply_master_task.name, [job.pk])]  # the killed worker's tasks, delivered again
    wait_for(lambda: all(ran(second, sent) for sent in again), timeout=30,
             what=lambda: f"the repeated tasks to run; worker log:\n{second.log_text()[-3000:]}")
    assert proxy.count("ExecuteChangeSet", account=CDN) == 0
    assert proxy.count("ExecuteChangeSet", account=ACCOUNTS["prod"]) == 1
    assert proxy.count("CreateGroup") == 0
    assert step_states(job) == states and Job.objects.get(pk=job.pk).status == Job.Status.FAILED

    leftover = plan_on(second, eddie)
    assert leftover.status == Plan.Status.PENDING, leftover.error or leftover.blocks
    assert actions(leftover) == {"prod": "none", "cdn": "create"}
    assert [g["group"] for g in leftover.master["groups_create"]] == ["cdn.ReadOnlyRole", "prod.ReadOnlyRole"]

    approve(leftover, people)
    finishing = services.apply_request(actor=eddie, plan=Plan.objects.get(pk=leftover.pk))
    wait_for(lambda: Job.objects.get(pk=finishing.pk).is_finished, timeout=30,
             what=lambda: f"the apply; worker log:\n{second.log_text()[-3000:]}")
    finishing.refresh_from_db()
    assert finishing.status == Job.Status.SUCCEEDED, finishing.error
    assert proxy.count("ExecuteChangeSet", account=CDN) == 1
    assert proxy.count("ExecuteChangeSet", account=ACCOUNTS["prod"]) == 1  # never executed twice
    assert plan_on(second, eddie).status == Plan.Status.NO_CHANGES
