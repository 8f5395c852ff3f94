"""The attack of issue 8, end to end: an approved plan pointed at another AWS account afterwards.

A plan that deletes the sandbox stack is approved (four eyes). Then either
* an Editor changes how sandbox (or the master) is reached, in the console: the apply is refused as
  stale, on the web and on the command line, and nothing reaches AWS; or
* someone with shell access repoints the profile in the AWS config file, which the console cannot
  see: the real worker's apply step asks STS where its credentials are, fails with both ids and
  writes nothing, so prod's stack (or prod's IAM groups, for the master) stays exactly as it was.

Real processes: the CLI (``manage.py rolemodel``) and a Celery worker on the file broker, started
after the tampering (as after a restart, so that it reads the changed file), against the moto server.
"""
import json
import os
import subprocess
import sys
import uuid

import pytest
from celery import Celery
from django.urls import reverse

from accounts.models import AssumableAccount, MasterAccount
from audit.services import Actor
from devtools.processes import PROJECT_ROOT, start_celery_worker
from plans import services, tasks
from plans.models import Job, JobStep, Plan
from tests.e2e_fixtures import E2EWorker, _SettingReader, _test_database_url, wait_for
from tests.pinned_world import approved_plan_deleting_the_sandbox_stack, pinned_world  # noqa: F401 - fixture
from tests.workflow import plan_now

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROUTED_TASKS = (tasks.compute_plan_task, tasks.apply_account_task, tasks.apply_master_task, tasks.discard_change_sets_task,
                tasks.discard_unexecuted_change_sets_task)
WRONG_SANDBOX = ("sandbox: credentials reached account 222222222222, but the plan was made for 555555555555; "
                 "nothing was written")
WRONG_MASTER = ("master: credentials reached account 222222222222, but the plan was made for 111111111111; "
                "nothing was written")


class Processes:
    """The CLI and a worker sharing this test's database, file broker queue and AWS config file."""

    def __init__(self, world, tmp_path, monkeypatch):
        self.queue = f"pinned-{uuid.uuid4().hex[:12]}"
        self.env = world.fake_aws.environment(os.environ)
        self.env.update(world.aws_variables())
        self.env.update(
            ROLEMODEL_VAR_DIR=str(tmp_path / "processes"),
            DATABASE_URL=_test_database_url(),
            CELERY_BROKER_URL="filesystem://",
            CELERY_QUEUE=self.queue,
            DJANGO_SETTINGS_MODULE="rolemodel_site.settings",
        )
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch
        self.worker: E2EWorker | None = None
        self.producer = Celery(f"producer-{self.queue}", set_as_current=False)

    def rolemodel(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", "rolemodel", *args], cwd=PROJECT_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300)

    def start_worker(self) -> E2EWorker:
        """Start the worker now; tasks this process sends with ``.delay()`` (web applies) go to it too."""
        options = _SettingReader(self.env, "CELERY_BROKER_TRANSPORT_OPTIONS").value()
        process = start_celery_worker(env=self.env, log_path=self.tmp_path / "worker.log", node_name=self.queue,
                                      queues=[self.queue], quick_start=True)
        self.worker = E2EWorker(worker=process, queue=self.queue, env=self.env, transport_options=options,
                                producer=self.producer)
        for task in ROUTED_TASKS:
            self.monkeypatch.setattr(task, "delay", lambda *args, _name=task.name: self.worker.send_task(_name, args))
        return self.worker

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.worker.kill()
        self.producer.close()


@pytest.fixture
def processes(pinned_world, tmp_path, monkeypatch):
    started = Processes(pinned_world, tmp_path, monkeypatch)
    try:
        yield started
    finally:
        started.stop()


def what_aws_holds(world) -> dict:
    return {
        "prod stack": world.stack("prod"),
        "sandbox stack": world.stack("sandbox"),
        "prod roles": world.role_names("prod"),
        "prod groups": world.groups("prod"),
        "master groups": world.groups("master"),
    }


def form_data(model, **changes) -> dict:
    """What the edit form posts for ``model`` as it is now, with ``changes``."""
    data = {key: value for key, value in model.snapshot().items() if value not in ("", None, False)}
    if data.get("enabled") is True:
        data["enabled"] = "on"  # a ticked checkbox
    data.update(changes)
    return data


def test_an_approved_plan_whose_account_or_master_an_editor_points_elsewhere_is_refused_as_stale(
    pinned_world, processes, people, client_for
):
    plan = approved_plan_deleting_the_sandbox_stack(pinned_world, people)
    before = what_aws_holds(pinned_world)
    sandbox = AssumableAccount.objects.get(name="sandbox")
    edits = [
        (lambda: AssumableAccount.objects.get(name="sandbox"), reverse("accounts:edit", args=[sandbox.pk]), "sandbox"),
        (MasterAccount.load, reverse("accounts:master_edit"), "master"),
    ]
    for load, url, profile in edits:
        editor = client_for(people.other_editor)
        assert editor.post(url, form_data(load(), profile="prod", reason="points elsewhere")).status_code == 302
        assert load().profile == "prod"

        page = client_for(people.editor).post(reverse("plans:apply", args=[plan.pk]), follow=True).content.decode()
        assert "it is stale" in page
        refused = processes.rolemodel("apply", str(plan.pk), "--wait", "--as", people.editor.username)
        assert refused.returncode != 0 and "it is stale" in refused.stderr, refused.stdout + refused.stderr

        assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPROVED
        assert not Job.objects.filter(kind=Job.Kind.APPLY, plan=plan).exists()
        editor = client_for(people.other_editor)
        assert editor.post(url, form_data(load(), profile=profile, reason="put back")).status_code == 302
    assert what_aws_holds(pinned_world) == before


def test_a_profile_repointed_in_the_aws_config_after_approval_fails_the_apply_and_prod_is_untouched(
    pinned_world, processes, people
):
    plan = approved_plan_deleting_the_sandbox_stack(pinned_world, people)
    before = what_aws_holds(pinned_world)
    assert before["prod stack"]["StackStatus"] == "CREATE_COMPLETE" and "ReadOnlyRole" in before["prod roles"]

    pinned_world.repoint("sandbox", to="prod")  # the profile name stays; the console's fingerprint cannot see it
    processes.start_worker()
    result = processes.rolemodel("apply", str(plan.pk), "--wait", "--json", "--as", people.editor.username)

    assert result.returncode != 0, result.stdout + result.stderr
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["status"] == "failed"
    steps = {step["target"]: step for step in payload["steps"]}
    assert steps["sandbox"]["error"] == WRONG_SANDBOX
    assert steps[JobStep.MASTER]["status"] == "skipped"  # the sandbox group stays while its stack does
    assert WRONG_SANDBOX in result.stderr  # the step log, as the CLI prints it while waiting
    assert what_aws_holds(pinned_world) == before
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPLY_FAILED


def test_a_master_profile_repointed_after_approval_creates_no_group_in_another_account(pinned_world, processes, people,
                                                                                      client_for):
    plan = plan_now(Actor.from_user(people.editor))
    assert len(plan.master["groups_create"]) == 2, plan.error or plan.blocks
    services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)

    pinned_world.repoint("master", to="prod")
    processes.start_worker()
    response = client_for(people.other_editor).post(reverse("plans:apply", args=[plan.pk]))
    job = Job.objects.get(kind=Job.Kind.APPLY, plan=plan)
    assert response.status_code == 302 and response["Location"] == reverse("plans:job_detail", args=[job.pk])
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60,
             what=lambda: f"the apply; worker log:\n{processes.worker.log_text()[-3000:]}")

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    master_step = job.steps.get(target=JobStep.MASTER)
    assert master_step.error == WRONG_MASTER
    assert "CreateGroup" not in master_step.api_calls["operations"]
    assert pinned_world.groups("prod") == set() and pinned_world.groups("master") == set()
    page = client_for(people.viewer).get(reverse("plans:job_detail", args=[job.pk])).content.decode()
    assert "credentials reached account 222222222222, but the plan was made for 111111111111" in page
