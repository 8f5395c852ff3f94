"""Requests from the console while something else fails: two applies at once, the broker (Redis)
down or restarting, the database briefly away."""
import os
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor
from notifications.models import Delivery
from devtools.processes import ProcessStartError, free_port, start_celery_worker, start_process, wait_until_ready
from plans import desired, jobs, planning, services, tasks
from plans.dispatch import BROKER_UNREACHABLE
from plans.models import Job, JobStep, Plan
from tests.aws_world import sample_world  # noqa: F401 - fixture
from tests.e2e_fixtures import _test_database_url, forget_broker_connections, wait_for
from tests.faults_world import approve, fault_proxy, fault_proxy_server, small_world  # noqa: F401 - fixtures
from tests.workflow import plan_now

# --- two applies at once --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_apply_clicked_four_times_at_once_runs_exactly_once(small_world, people, monkeypatch):
    plan = plan_now(Actor.from_user(people.editor))
    approve(plan, people)
    sent = []
    monkeypatch.setattr(tasks.apply_account_task, "delay", lambda step_id: sent.append(step_id))
    start = threading.Barrier(4)
    outcomes = []

    def click(user):
        try:
            start.wait()
            job = services.apply_request(actor=Actor.from_user(user), plan=Plan.objects.get(pk=plan.pk))
            outcomes.append(("applied", job.pk))
        except services.PlanError as refused:
            outcomes.append(("refused", " ".join(refused.messages)))
        finally:
            connection.close()  # each thread has its own connection

    clickers = [threading.Thread(target=click, args=(user,)) for user in
                (people.editor, people.editor, people.other_editor, people.approver)]
    for clicker in clickers:
        clicker.start()
    for clicker in clickers:
        clicker.join(timeout=60)

    applied = [detail for outcome, detail in outcomes if outcome == "applied"]
    refusals = [detail for outcome, detail in outcomes if outcome == "refused"]
    assert len(applied) == 1 and len(refusals) == 3, outcomes
    assert all("already being applied" in r or "Only an approved plan" in r for r in refusals), refusals
    job = Job.objects.get(kind=Job.Kind.APPLY)
    assert job.pk == applied[0]
    assert sorted(sent) == sorted(job.steps.exclude(target=JobStep.MASTER).values_list("pk", flat=True))
    assert AuditEvent.objects.filter(action="apply_requested").count() == 1


def approved_master_only_plan(people) -> Plan:
    """An approved plan with nothing to do, fresh for the current desired state (no AWS needed)."""
    return Plan.objects.create(
        requested_by=people.editor, requested_by_name=people.editor.username, status=Plan.Status.APPROVED,
        fingerprint=desired.fingerprint(desired.desired_state_document()), accounts=[],
        master={"groups_create": [], "groups_remove": [], "policies_put": [], "policies_remove": [],
                "members_add": [], "members_remove": []},
    )


@pytest.mark.django_db(transaction=True)
def test_two_approved_plans_applied_at_once_start_one_apply(people, monkeypatch):
    plans = [approved_master_only_plan(people), approved_master_only_plan(people)]
    sent = []
    monkeypatch.setattr(tasks.apply_master_task, "delay", lambda job_id: sent.append(job_id))
    start = threading.Barrier(2)
    outcomes = {}

    def click(plan):
        try:
            start.wait()
            outcomes[plan.pk] = services.apply_request(actor=Actor.from_user(people.approver), plan=plan)
        except services.PlanError as refused:
            outcomes[plan.pk] = " ".join(refused.messages)
        finally:
            connection.close()

    clickers = [threading.Thread(target=click, args=(plan,)) for plan in plans]
    for clicker in clickers:
        clicker.start()
    for clicker in clickers:
        clicker.join(timeout=60)

    job = Job.objects.get(kind=Job.Kind.APPLY)
    refused_pk = next(pk for pk in outcomes if pk != job.plan_id)
    assert outcomes[refused_pk] == "Another apply is running; wait for it to finish."
    assert Plan.objects.get(pk=refused_pk).status == Plan.Status.APPROVED  # untouched: apply it afterwards
    assert Plan.objects.get(pk=job.plan_id).status == Plan.Status.APPLYING
    assert sent == [job.pk]


# --- jobs no worker finishes ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_plan_no_worker_took_fails_after_the_queue_timeout_and_a_late_delivery_does_nothing(
    people, django_capture_on_commit_callbacks, settings
):
    settings.ROLEMODEL_JOB_QUEUE_TIMEOUT_SECONDS = 600
    eddie = Actor.from_user(people.editor)
    plan = services.plan_request(actor=eddie)  # its task never reaches a worker
    made = [{"name": "prod", "change_set_id": "arn:aws:cloudformation:us-east-1:222222222222:changeSet/rolemodel-plan/1",
             "created_stack": True}]
    Plan.objects.filter(pk=plan.pk).update(created_change_sets=made)
    waited_less = timezone.now() - timedelta(minutes=9)
    Job.objects.filter(plan=plan).update(created_at=waited_less)
    assert jobs.reap_abandoned_jobs() == []  # past the lease, but still within the queue timeout
    long_ago = timezone.now() - timedelta(minutes=11)
    Job.objects.filter(plan=plan).update(created_at=long_ago)
    busy = approved_master_only_plan(people)
    alive = Job.objects.create(kind=Job.Kind.APPLY, plan=busy, requested_by_name="eddie", status=Job.Status.RUNNING,
                               started_at=long_ago, heartbeat_at=timezone.now())

    with django_capture_on_commit_callbacks() as sent:
        assert jobs.reap_abandoned_jobs() == [plan.jobs.get().pk]

    plan.refresh_from_db()
    job = plan.jobs.get()
    assert plan.status == Plan.Status.FAILED and job.status == Job.Status.FAILED
    assert job.error.startswith("abandoned: no worker took the job (queued since ") and plan.error == job.error
    assert set(job.steps.values_list("status", flat=True)) == {JobStep.Status.SKIPPED}
    assert plan.accounts == made and len(sent) == 1  # its change sets are discarded after commit
    assert AuditEvent.objects.filter(action="plan_failed", actor_name="system:reaper", object_id=str(plan.pk)).exists()
    assert Job.objects.get(pk=alive.pk).status == Job.Status.RUNNING  # it beats: not abandoned

    planning.plan_compute(plan_id=plan.pk)  # the task arrives after all
    assert Plan.objects.get(pk=plan.pk).error == job.error and Job.objects.get(pk=job.pk).started_at is None
    assert jobs.reap_abandoned_jobs() == []


# --- the broker down, then back -----------------------------------------------------------


class ThrowawayRedis:
    """A redis-server of our own on a free port, which the test may stop and start again."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.directory)]
        self.process = start_process("redis", argv, env={"PATH": "/usr/bin:/bin"}, log_path=self.directory / "redis.log")
        wait_until_ready(self.process, self._answers, timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process = None

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False

    def queued(self, queue: str = "rolemodel") -> int:
        return redis.Redis(port=self.port).llen(queue)

    def idle(self, queue: str) -> bool:
        """Nothing waits in ``queue`` and no message is taken but not yet acknowledged."""
        client = redis.Redis(port=self.port)
        return client.llen(queue) == 0 and client.hlen("unacked") == 0


@contextmanager
def celery_sends_to(url: str, monkeypatch):
    """This process's Celery app publishes to ``url`` for the block (Celery reads the variable first)."""
    from rolemodel_site.celery import app

    saved = app.conf.broker_url, app.conf.broker_transport_options
    forget_broker_connections(app)
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    app.conf.broker_url, app.conf.broker_transport_options = url, {}
    try:
        yield
    finally:
        forget_broker_connections(app)
        app.conf.broker_url, app.conf.broker_transport_options = saved


@pytest.fixture
def throwaway_redis(tmp_path, monkeypatch):
    server = ThrowawayRedis(tmp_path)
    try:
        server.start()
    except (ProcessStartError, FileNotFoundError) as error:
        pytest.fail(f"redis-server is needed for this test: {error}")
    try:
        with celery_sends_to(server.url, monkeypatch):
            yield server
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_plan_request_while_the_broker_is_down_fails_clearly_and_keeps_every_row(
    throwaway_redis, people, client_for, settings
):
    settings.ROLEMODEL_JOB_LEASE_SECONDS = settings.ROLEMODEL_JOB_QUEUE_TIMEOUT_SECONDS = 1
    client = client_for(people.editor)
    client.post(reverse("plans:create"), {})
    queued = Plan.objects.get()
    assert queued.status == Plan.Status.PLANNING and throwaway_redis.queued() == 1

    throwaway_redis.stop()
    started = time.monotonic()
    response = client.post(reverse("plans:create"), {}, follow=True)
    elapsed = time.monotonic() - started

    assert elapsed < 5
    assert response.status_code == 200
    refused = Plan.objects.latest("pk")
    page = response.content.decode()
    assert f"Plan #{refused.pk} failed. {BROKER_UNREACHABLE}" in page  # the message, and the plan's page
    assert refused.status == Plan.Status.FAILED and refused.error.startswith(BROKER_UNREACHABLE)
    job = refused.jobs.get()
    assert job.status == Job.Status.FAILED and job.error == refused.error
    assert set(job.steps.values_list("status", flat=True)) == {JobStep.Status.SKIPPED}
    assert AuditEvent.objects.filter(action="plan_requested", object_id=str(refused.pk)).exists()
    assert AuditEvent.objects.filter(action="plan_failed", object_id=str(refused.pk)).exists()
    assert Plan.objects.get(pk=queued.pk).status == Plan.Status.PLANNING  # untouched

    throwaway_redis.start()  # restarted, empty: the first plan's message was lost with it
    time.sleep(1.1)  # past the lease
    client.post(reverse("plans:create"), {})

    retried = Plan.objects.latest("pk")
    assert retried.status == Plan.Status.PLANNING and throwaway_redis.queued() == 1
    lost = Plan.objects.get(pk=queued.pk)
    assert lost.status == Plan.Status.FAILED and lost.error.startswith("abandoned: no worker took the job (queued since")


@pytest.mark.django_db(transaction=True)
def test_an_apply_while_the_broker_is_down_fails_clearly_and_the_plan_stays_approved(
    throwaway_redis, people, client_for
):
    plan = approved_master_only_plan(people)
    throwaway_redis.stop()

    response = client_for(people.approver).post(reverse("plans:apply", args=[plan.pk]), follow=True)

    job = Job.objects.get(kind=Job.Kind.APPLY)
    assert job.status == Job.Status.FAILED and job.error.startswith(BROKER_UNREACHABLE)
    assert BROKER_UNREACHABLE in response.content.decode()  # the job page the apply leads to
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPROVED  # apply it again later

    throwaway_redis.start()
    services.apply_request(actor=Actor.from_user(people.approver), plan=Plan.objects.get(pk=plan.pk))
    assert Job.objects.filter(kind=Job.Kind.APPLY, status=Job.Status.QUEUED).count() == 1
    assert throwaway_redis.queued() == 1


# --- the database briefly away ------------------------------------------------------------


@pytest.mark.django_db
def test_a_page_while_the_database_is_away_is_a_clear_503_and_works_again_after(people, client_for, monkeypatch):
    client = client_for(people.viewer)

    def refused():
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    with monkeypatch.context() as away:
        away.setattr(connection, "ensure_connection", refused)
        response = client.get(reverse("plans:list"))

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "The database is not answering" in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert client.get(reverse("plans:list")).status_code == 200


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_carries_on_after_redis_restarts(
    throwaway_redis, sample_world, fake_aws_server, people, client_for, tmp_path
):
    from rolemodel_site.celery import app

    queue = f"restart-{uuid.uuid4().hex[:12]}"
    env = fake_aws_server.environment(os.environ)
    env.update(ROLEMODEL_VAR_DIR=str(tmp_path / "worker"), DATABASE_URL=_test_database_url(),
               CELERY_BROKER_URL=throwaway_redis.url, CELERY_QUEUE=queue, DJANGO_SETTINGS_MODULE="rolemodel_site.settings")
    worker = start_celery_worker(env=env, log_path=tmp_path / "worker.log", node_name=queue, queues=[queue],
                                 quick_start=True)
    saved_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue  # what the views send goes to this worker
    forget_broker_connections(app)
    client = client_for(people.editor)

    def plan_through_the_page() -> Plan:
        response = client.post(reverse("plans:create"), {})
        assert response.status_code == 302
        plan = Plan.objects.latest("pk")
        wait_for(lambda: Plan.objects.get(pk=plan.pk).status != Plan.Status.PLANNING, timeout=60,
                 what=lambda: f"the worker to compute plan #{plan.pk}; its log:\n{worker.process.log_tail(40)}")
        plan.refresh_from_db()
        return plan

    try:
        before = plan_through_the_page()
        # The plan's notifications are tasks too: restart Redis once the worker has acknowledged them all.
        # (kombu's Redis transport cannot acknowledge a task whose connection went away meanwhile, and the
        # worker then stops consuming: a restart in that instant is not what this test is about.)
        wait_for(lambda: not Delivery.objects.filter(status=Delivery.Status.QUEUED).exists()
                 and throwaway_redis.idle(queue), timeout=30, what="the worker to deliver the plan's notifications")
        throwaway_redis.stop()
        throwaway_redis.start()  # the same address, empty: the worker and this process reconnect by themselves
        after = plan_through_the_page()
    finally:
        app.conf.task_default_queue = saved_queue
        forget_broker_connections(app)
        worker.kill()

    assert before.status == Plan.Status.PENDING, before.error
    assert after.status == Plan.Status.PENDING, after.error
    assert Plan.objects.get(pk=before.pk).status == Plan.Status.SUPERSEDED  # nothing lost: the older plan is kept
