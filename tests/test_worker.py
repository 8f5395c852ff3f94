"""A real Celery worker process runs the project's tasks against the test database."""
import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from devtools.processes import ProcessStartError, start_celery_worker
from memberships.models import Membership
from tests.e2e_fixtures import wait_for
from tests.factories import MembershipFactory

BROKERS = ["filesystem://"]
if os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
    BROKERS.append("redis://127.0.0.1:6379/15")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker_url", BROKERS)
def test_a_worker_process_expires_due_memberships_sent_from_this_process(celery_worker_factory, broker_url):
    worker = celery_worker_factory(broker_url)
    due = MembershipFactory(expires_at=timezone.now() - timedelta(minutes=1))
    current = MembershipFactory(expires_at=timezone.now() + timedelta(days=1))

    sent = worker.send_task("memberships.tasks.expire_due_memberships_task")

    finished = wait_for(
        lambda: re.search(rf"\[{sent.id}\] succeeded in [0-9.]+s: (\d+)", worker.log_text()),
        what=lambda: f"the worker to run the task; its log:\n{worker.log_text()[-3000:]}",
    )
    assert finished.group(1) == "1"
    assert not Membership.objects.filter(pk=due.pk).exists()
    assert Membership.objects.filter(pk=current.pk).exists()
    event = AuditEvent.objects.get(object_type="membership", object_id=str(due.pk))
    assert (event.actor_name, event.action, event.source) == ("system:expiry", "delete", AuditEvent.Source.WORKER)


@pytest.mark.e2e
def test_a_worker_that_cannot_start_reports_why_with_its_log(tmp_path):
    env = dict(os.environ, ROLEMODEL_VAR_DIR=str(tmp_path))

    with pytest.raises(ProcessStartError, match="exited with status") as raised:
        start_celery_worker(env=env, log_path=tmp_path / "worker.log", node_name="broken", pool="nosuchpool")

    assert "'nosuchpool' is not one of" in str(raised.value)
