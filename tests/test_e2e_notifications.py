"""End to end through the real worker, the file broker and the moto server: a webhook receiver (a small
HTTP server in this test) gets each event of a plan's life with a valid signature; one event it answers
with 500 is retried with back-off and then recorded failed, and the workflow carries on to a successful
apply. The approvers' emails go through Django's console backend into the worker's log."""
import pytest

from audit.services import Actor
from notifications.models import Delivery, Event
from notifications.tasks import deliver_notification_task
from plans import services, tasks
from plans.models import Job, Plan
from tests.e2e_fixtures import wait_for
from tests.pinned_world import pinned_world  # noqa: F401 - fixture
from tests.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "e2e-webhook-secret-5d1c"
ROUTED_TASKS = (tasks.compute_plan_task, tasks.apply_account_task, tasks.apply_master_task, tasks.discard_change_sets_task,
                tasks.discard_unexecuted_change_sets_task, deliver_notification_task)


@pytest.fixture
def receiver():
    started = WebhookReceiver(failing_events={Event.PLAN_APPROVED}).start()
    yield started
    started.stop()


@pytest.fixture
def worker(celery_worker_factory, pinned_world, receiver, monkeypatch):  # noqa: F811 - the fixture imported above
    """A worker that posts to the receiver, retrying twice after 0.2 s and 0.4 s; what this process
    sends with ``.delay()`` (the plan request, the approval's notifications, the apply) goes to it."""
    started = celery_worker_factory("filesystem://", {
        **pinned_world.aws_variables(),
        "ROLEMODEL_WEBHOOK_URL": f"{receiver.url}/hooks/rolemodel",
        "ROLEMODEL_WEBHOOK_SECRET": SECRET,
        "ROLEMODEL_NOTIFY_MAX_RETRIES": "2",
        "ROLEMODEL_NOTIFY_BACKOFF_SECONDS": "0.2",
        "ROLEMODEL_BASE_URL": "http://console.test",
    })
    monkeypatch.setattr("django.conf.settings.ROLEMODEL_WEBHOOK_URL", f"{receiver.url}/hooks/rolemodel")
    monkeypatch.setattr("django.conf.settings.ROLEMODEL_WEBHOOK_SECRET", SECRET)
    monkeypatch.setattr("django.conf.settings.ROLEMODEL_BASE_URL", "http://console.test")
    for task in ROUTED_TASKS:
        monkeypatch.setattr(task, "delay", lambda *args, _name=task.name: started.send_task(_name, args))
    return started


def delivered(receiver, event: str, times: int = 1) -> list:
    """The requests the receiver got for ``event`` once there are at least ``times`` of them, else []."""
    requests = [request for request in receiver.received if request.payload["event"] == event]
    return requests if len(requests) >= times else []


def test_each_plan_event_reaches_the_webhook_signed_and_a_failing_receiver_never_stops_the_workflow(
        worker, receiver, people):
    plan = services.plan_request(actor=Actor.from_user(people.editor))
    waiting = wait_for(lambda: delivered(receiver, Event.PLAN_WAITING_FOR_APPROVAL), timeout=120,
                       what=lambda: f"the plan waiting for approval at the webhook; worker log:\n{worker.log_text()[-3000:]}")
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.PENDING

    services.plan_approve(actor=Actor.from_user(people.approver), plan=Plan.objects.get(pk=plan.pk))
    job = services.apply_request(actor=Actor.from_user(people.editor), plan=Plan.objects.get(pk=plan.pk))
    applied = wait_for(lambda: delivered(receiver, Event.APPLY_SUCCEEDED), timeout=120,
                       what=lambda: f"the apply's outcome at the webhook; worker log:\n{worker.log_text()[-3000:]}")
    approved = wait_for(lambda: delivered(receiver, Event.PLAN_APPROVED, times=3), timeout=30,
                        what="three attempts of the approval (the receiver answers 500)")

    # The workflow carried on while the receiver failed: the apply succeeded.
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPLIED
    summary = Plan.objects.get(pk=plan.pk).summary_line
    for request in waiting + applied + approved:
        assert request.signed_with(SECRET) and request.path == "/hooks/rolemodel"
        assert request.payload["plan"] == plan.pk and request.payload["summary"] == summary
        assert request.payload["url"] == f"http://console.test/plans/{plan.pk}/"
        assert request.payload["url"] in request.payload["text"]
    assert waiting[0].payload["text"].startswith(f"Plan #{plan.pk} is waiting for approval: ")
    assert applied[0].payload["text"].startswith(f"Plan #{plan.pk} was applied: ")

    webhook = {row.event: row for row in Delivery.objects.filter(channel=Delivery.Channel.WEBHOOK)}
    failed = wait_for(lambda: Delivery.objects.filter(pk=webhook[Event.PLAN_APPROVED].pk,
                                                      status=Delivery.Status.FAILED).first(), timeout=15,
                      what="the approval's webhook delivery recorded failed")
    assert (failed.attempts, failed.last_error) == (3, "Gave up after 3 attempts: http://127.0.0.1 answered 500")
    for event in (Event.PLAN_WAITING_FOR_APPROVAL, Event.APPLY_SUCCEEDED):
        assert (webhook[event].status, webhook[event].attempts) == (Delivery.Status.SENT, 1)
    assert len(delivered(receiver, Event.PLAN_APPROVED)) == 3  # no fourth attempt

    # Email: the Approvers (april and arthur; not eddie, who requested it), the requester, requester and approver.
    emails = wait_for(lambda: (rows := list(Delivery.objects.filter(channel=Delivery.Channel.EMAIL)))
                      and all(row.status == Delivery.Status.SENT for row in rows) and rows, timeout=15,
                      what="every email sent")
    assert sorted((row.event, row.recipient) for row in emails) == [
        ("apply_succeeded", "april@example.com"), ("apply_succeeded", "eddie@example.com"),
        ("plan_approved", "eddie@example.com"),
        ("plan_waiting_for_approval", "april@example.com"), ("plan_waiting_for_approval", "arthur@example.com"),
    ]
    assert f"Subject: Plan #{plan.pk} is waiting for approval" in worker.log_text()
    assert SECRET not in worker.log_text()
