"""Real-browser tests: Playwright drives Debian's Chromium against pytest-django's live server,
with a real Celery worker (shared test database, fake AWS) running what the pages enqueue.

The live server runs in a thread of this process, so the tasks its views send with ``.delay()``
leave through this process's Celery app; ``live_server_worker`` starts a worker for the test and
points that app at the worker's queue (and, on the file broker, its folders).
"""
import os

# Playwright's sync API keeps an event loop running in the main thread; Django would otherwise
# refuse database work there (SynchronousOnlyOperation) although nothing here is async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import re  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from devtools.processes import CeleryWorker, start_celery_worker  # noqa: E402
from tests.aws_world import sample_world  # noqa: E402,F401 (a fixture the browser tests use)
from tests.e2e_fixtures import _SettingReader, _test_database_url, forget_broker_connections, wait_for  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SCREENSHOT_MAX_HEIGHT = 4000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).is_file():
        pytest.fail(f"No Chromium at {chromium}: install Debian's chromium (scripts/test.sh does) or set CHROMIUM_PATH.")
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        # The resolver rule keeps Chromium's background lookups of Google hosts off the network.
        "args": ["--disable-gpu", "--disable-quic",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost, EXCLUDE 127.0.0.1"],
    }  # fmt: skip


def _database_sessions_of(application_name: str) -> int:
    """PostgreSQL sessions on the test database that a process started with PGAPPNAME opened."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [application_name],
        )
        return cursor.fetchone()[0]


def _task_succeeded(worker: CeleryWorker, task_name: str, task_id: str) -> bool:
    log = worker.process.log_text()
    return re.search(rf"Task {re.escape(task_name)}\[{re.escape(task_id)}\] succeeded", log) is not None


@pytest.fixture
def live_server_worker(live_server, fake_aws, tmp_path) -> Iterator[CeleryWorker]:
    """A Celery worker of this test's own, receiving what the live server's views enqueue.

    Not the session's shared worker: a worker that outlives a reset of the fake AWS keeps
    assumed-role sessions the server no longer knows, and moto answers those from another
    account (shared/notes/moto.md). The worker shares the test database and the fake AWS; this
    process's Celery app sends to the worker's queue (and, for the file broker, its folders).
    """
    from django.conf import settings

    from memberships.tasks import expire_due_memberships_task
    from rolemodel_site.celery import app

    queue = f"browser-{uuid.uuid4().hex[:12]}"
    env = fake_aws.environment(os.environ)
    env.update(
        ROLEMODEL_VAR_DIR=str(tmp_path / "worker"),
        DATABASE_URL=_test_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_QUEUE=queue,
        DJANGO_SETTINGS_MODULE="rolemodel_site.settings",
        PGAPPNAME=queue,  # libpq names the worker's database sessions, to wait for them below
    )
    transport_options = _SettingReader(env, "CELERY_BROKER_TRANSPORT_OPTIONS")
    try:
        worker = start_celery_worker(env=env, log_path=tmp_path / "worker.log", node_name=queue, queues=[queue], quick_start=True)
    except BaseException:
        transport_options.process.kill()
        raise
    saved = {name: app.conf[name] for name in ("task_default_queue", "broker_transport_options")}
    try:
        app.conf.task_default_queue = queue
        app.conf.broker_transport_options = transport_options.value()
        forget_broker_connections(app)
        # The path the views take (.delay in this process), with a harmless task: nothing is due.
        result = expire_due_memberships_task.delay()
        wait_for(
            lambda: _task_succeeded(worker, expire_due_memberships_task.name, result.id),
            timeout=20,
            what=lambda: f"the worker to run a task sent with .delay(); its log:\n{worker.process.log_tail(40)}",
        )
        yield worker
    finally:
        app.conf.update(saved)
        forget_broker_connections(app)
        worker.kill()  # idle by now; a warm shutdown of the file broker's loop takes seconds
        # PostgreSQL drops the test database at the end only when no session of the killed worker lingers.
        wait_for(lambda: _database_sessions_of(queue) == 0, timeout=10, what="the killed worker's database sessions to end")


@pytest.fixture
def screenshot(request, page) -> Callable[[str], Path]:
    """``screenshot("plan")`` saves the page (its first 4000 pixels) as tests/artifacts/<test name>/NN-plan.png."""
    folder = ARTIFACTS / request.node.originalname
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    taken = []

    def take(name: str) -> Path:
        taken.append(name)
        path = folder / f"{len(taken):02d}-{name}.png"
        # The whole page, but not all of a long plan: its full height takes seconds to capture.
        width, height = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        clip = {"x": 0, "y": 0, "width": width, "height": min(height, SCREENSHOT_MAX_HEIGHT)}
        page.screenshot(path=str(path), full_page=True, clip=clip)
        return path

    return take
