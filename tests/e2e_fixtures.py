"""Fixtures for end-to-end tests through real processes; register with ``pytest_plugins``.

* ``fake_aws_server`` (session): a moto server process and profiles for its accounts
  (master 111111111111, prod 222222222222, cdn 333333333333, staging 444444444444).
* ``fake_aws`` (function): the same server, wiped before the test, with this process's
  environment pointed at it (AWS_ENDPOINT_URL, AWS_CONFIG_FILE, ...; real AWS_* removed).
* ``celery_worker_factory`` (session): ``celery_worker_factory(broker_url, settings_env=None)`` → a
  worker process on that broker (started once per broker and ``settings_env`` per session) sharing the
  test database and the fake AWS; ``settings_env`` adds environment variables (settings) of its own;
  ``.send_task(name, args, kwargs)`` enqueues from this process to that worker.
* ``celery_worker`` (session): the worker on the broker the settings configure.

The worker sees only committed rows: tests using it need ``django_db(transaction=True)``.
It listens on a queue of its own (a stale message from another run cannot reach it), so a
task that product code sends with ``.delay()`` goes to this process's broker, not to the
worker: send it with ``send_task``. ``fake_aws`` wipes the server before each test; code that
keeps boto3 sessions across tests must build new ones (see shared/notes/moto.md).
"""
from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import kombu.pools
import pytest
from celery import Celery
from kombu import Connection

from devtools.fake_aws import FakeAwsAccounts, start_fake_accounts
from devtools.processes import PROJECT_ROOT, VENV_BIN, CeleryWorker, start_celery_worker


def forget_broker_connections(app) -> None:
    """Make this process's Celery app open fresh broker connections on its next send.

    The app caches its default queue (``app.amqp``) and takes its connection and producer pools from
    kombu's process-wide registry; closing one of those pools without dropping it from the registry
    leaves every later send with "Acquire on closed pool". So reset the registry and the caches together.
    """
    kombu.pools.reset()
    app._pool = None
    app.__dict__.pop("amqp", None)


def wait_for(
    check: Callable[[], object], *, timeout: float = 15.0, interval: float = 0.05, what: str | Callable[[], str] = "the condition"
):
    """Poll ``check`` until it returns something truthy, and return that; fail the test after ``timeout``.

    ``what`` may be a callable, to describe the state at the moment of failure (a process log).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what() if callable(what) else what}.")
        time.sleep(interval)


# --- fake AWS -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fake_aws_server(tmp_path_factory) -> Iterator[FakeAwsAccounts]:
    accounts = start_fake_accounts(tmp_path_factory.mktemp("fake-aws"))
    try:
        yield accounts
    finally:
        accounts.server.process.kill()


@pytest.fixture
def fake_aws(fake_aws_server, monkeypatch) -> FakeAwsAccounts:
    """A wiped fake AWS, and this process's environment pointed at it for the test."""
    fake_aws_server.reset()
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in fake_aws_server.variables.items():
        monkeypatch.setenv(name, value)
    return fake_aws_server


# --- Celery worker --------------------------------------------------------------------------


def _test_database_url() -> str:
    """The URL of the database this test session uses (the test database, not the configured one)."""
    from django.db import connection

    settings_dict = connection.settings_dict
    name = str(settings_dict["NAME"])
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        if name == ":memory:" or "mode=memory" in name:
            raise RuntimeError("A worker process cannot share an in-memory SQLite database; use a file (TEST NAME).")
        return f"sqlite:///{Path(name).resolve()}"
    if settings_dict["ENGINE"] == "django.db.backends.postgresql":
        # Keep the configured URL (user, host, options) and swap in the test database's name.
        configured = urlsplit(os.environ["DATABASE_URL"])
        return configured._replace(path="/" + quote(name)).geturl()
    raise RuntimeError(f"No worker database URL for engine {settings_dict['ENGINE']}.")


class _SettingReader:
    """Reads one setting as a process with ``env`` sees it (the settings module decides, not us).

    Runs while the worker starts, so it costs no extra time.
    """

    def __init__(self, env: Mapping[str, str], setting: str):
        code = f"import json; from django.conf import settings; print(json.dumps(settings.{setting}))"
        self.setting = setting
        self.process = subprocess.Popen(
            [str(VENV_BIN / "python"), "-c", code],
            env=dict(env),
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def value(self):
        stdout, stderr = self.process.communicate(timeout=60)
        if self.process.returncode != 0:
            raise RuntimeError(f"Could not read {self.setting} with the worker's environment:\n{stderr[-2000:]}")
        return json.loads(stdout.strip().splitlines()[-1])


@dataclass
class E2EWorker:
    """A worker process, and a way to send to exactly its queue on exactly its broker."""

    worker: CeleryWorker
    queue: str
    env: dict[str, str]
    transport_options: dict
    producer: Celery = field(repr=False)

    @property
    def broker_url(self) -> str:
        return self.env["CELERY_BROKER_URL"]

    @property
    def log_path(self) -> Path:
        return self.worker.process.log_path

    def send_task(self, name: str, args=(), kwargs=None):
        # An explicit connection: Celery would otherwise let CELERY_BROKER_URL in our environment win.
        with Connection(self.broker_url, transport_options=self.transport_options) as connection:
            return self.producer.send_task(name, args=args, kwargs=kwargs or {}, queue=self.queue, connection=connection)

    def log_text(self) -> str:
        return self.worker.process.log_text()


def _wait_until_only_we_use_the_database(timeout: float = 10.0) -> None:
    """PostgreSQL will not drop the test database while a killed worker's session lingers."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


def start_e2e_worker(fake_aws_server: FakeAwsAccounts, var_dir: Path, broker_url: str, *,
                     extra_env: Mapping[str, str] | None = None, beat: bool = False) -> E2EWorker:
    """A worker process on ``broker_url`` with its own queue and ``var_dir``, sharing the test database and
    the fake AWS; ``extra_env`` sets settings for it alone, ``beat`` also runs Celery beat inside it (kill
    such a worker at the end of its test: its schedule goes on writing to the shared database)."""
    queue = f"e2e-{uuid.uuid4().hex[:12]}"
    env = fake_aws_server.environment(os.environ)
    env.update(
        ROLEMODEL_VAR_DIR=str(var_dir),
        DATABASE_URL=_test_database_url(),
        CELERY_BROKER_URL=broker_url,
        # Tasks sent by processes with this environment (the CLI, the worker itself) land on its queue.
        CELERY_QUEUE=queue,
        DJANGO_SETTINGS_MODULE="rolemodel_site.settings",
    )
    env.update(extra_env or {})
    transport_options = _SettingReader(env, "CELERY_BROKER_TRANSPORT_OPTIONS")
    try:
        worker = start_celery_worker(
            env=env, log_path=var_dir / "worker.log", node_name=queue, queues=[queue], quick_start=True,
            beat_schedule_file=var_dir / "celerybeat-schedule" if beat else None,
        )
    except BaseException:
        transport_options.process.kill()
        raise
    try:
        options = transport_options.value()
    except BaseException:
        worker.kill()
        raise
    producer = Celery(f"producer-{queue}", set_as_current=False)
    return E2EWorker(worker=worker, queue=queue, env=env, transport_options=options, producer=producer)


@pytest.fixture(scope="session")
def celery_worker_factory(django_db_setup, django_db_blocker, fake_aws_server, tmp_path_factory):
    workers: dict[tuple, E2EWorker] = {}

    def start(broker_url: str, settings_env: Mapping[str, str] | None = None) -> E2EWorker:
        key = (broker_url, tuple(sorted((settings_env or {}).items())))
        if key in workers:
            return workers[key]
        kind = broker_url.split("://", 1)[0].replace("+", "-")
        workers[key] = start_e2e_worker(fake_aws_server, tmp_path_factory.mktemp(f"worker-{kind}"), broker_url,
                                        extra_env=settings_env)
        return workers[key]

    try:
        yield start
    finally:
        for e2e in workers.values():
            e2e.producer.close()
            e2e.worker.kill()  # idle by now; a warm shutdown of the file broker's loop takes ~5 s
        if workers:
            with django_db_blocker.unblock():
                _wait_until_only_we_use_the_database()


@pytest.fixture(scope="session")
def celery_worker(celery_worker_factory) -> E2EWorker:
    from django.conf import settings

    return celery_worker_factory(settings.CELERY_BROKER_URL)
