"""Revocations on time, end to end: a real worker running Celery beat (the expiry check every second here,
ROLEMODEL_EXPIRY_CHECK_SECONDS=1) against the moto server. An expiry reaches AWS within the check interval
plus the apply time with nobody approving; with ROLEMODEL_AUTO_APPLY_REVOCATIONS=false the revocation plan
waits for an Approver; of two overlapping grants, the later one keeps the access.

The samples are imported in this process, and the two groups the tests watch are put in the master account
with boto3 as an apply leaves them (a revocation plan reads only the master account's groups). The worker
with beat is started after that and killed at the end of each test, so its schedule touches no other
test's rows.
"""
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor
from memberships.models import Membership
from memberships.services import memberships_grant
from plans.models import Job, Plan
from tests.aws_world import live_groups, sample_world  # noqa: F401
from tests.e2e_fixtures import start_e2e_worker, wait_for
from tests.workflow import apply_now

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHECK_SECONDS = 1
# An apply of one master step against the moto server takes well under this; the bound is generous for a busy machine.
APPLY_SECONDS = 15


@pytest.fixture
def beat_worker(fake_aws_server, tmp_path):
    """``beat_worker(auto_apply)`` → a worker with beat checking expiries every CHECK_SECONDS; killed after the test."""
    started = []

    def start(*, auto_apply: bool):
        worker = start_e2e_worker(fake_aws_server, tmp_path, "filesystem://", beat=True, extra_env={
            "ROLEMODEL_EXPIRY_CHECK_SECONDS": str(CHECK_SECONDS),
            "ROLEMODEL_AUTO_APPLY_REVOCATIONS": "true" if auto_apply else "false",
        })
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.producer.close()
        worker.worker.kill()


def live_as_applied(fake_aws, groups: dict[str, set]) -> None:
    """These /RoleModel/ groups in the master account with these members, as an apply leaves them."""
    iam = fake_aws.session("master").client("iam")
    for group, users in groups.items():
        iam.create_group(GroupName=group, Path="/RoleModel/")
        for user in users:
            iam.add_user_to_group(GroupName=group, UserName=user)


def grant(user: str, group: str) -> Membership:
    account, role = group.split(".")
    return Membership.objects.get(iam_user__user_name=user, account__name=account, role__logical_name=role)


def expires(membership: Membership, at) -> None:
    Membership.objects.filter(pk=membership.pk).update(expires_at=at)


def members(fake_aws, group: str) -> set:
    return live_groups(fake_aws)[group]["members"]


def test_expiries_reach_aws_on_time_with_no_person_and_the_later_grant_keeps_access(sample_world, people, eddie,
                                                                                   beat_worker):
    permanent = grant("dev.jones", "prod.PowerUserRole")
    on_call = memberships_grant(actor=eddie, grants=[(permanent.iam_user, permanent.account, permanent.role)],
                                reason="on call this week", expires_at=timezone.now() + timedelta(days=7)).created[0]
    live_as_applied(sample_world, {"prod.AdminRole": {"maria.admin"}, "prod.PowerUserRole": {"dev.jones", "dev.okafor"}})
    worker = beat_worker(auto_apply=True)

    expired_at = time.monotonic()
    expires(grant("maria.admin", "prod.AdminRole"), timezone.now() - timedelta(seconds=1))
    expires(permanent, timezone.now() - timedelta(seconds=1))  # dev.jones's first grant ends ...
    later = timezone.now() + timedelta(seconds=6)
    expires(on_call, later)  # ... and the second one a little later

    wait_for(lambda: "maria.admin" not in members(sample_world, "prod.AdminRole"),
             timeout=CHECK_SECONDS + APPLY_SECONDS, what=lambda: f"maria.admin's removal; worker log:\n{worker.log_text()[-3000:]}")
    assert time.monotonic() - expired_at <= CHECK_SECONDS + APPLY_SECONDS
    first = Plan.objects.filter(kind=Plan.Kind.REVOCATION, status=Plan.Status.APPLIED).earliest("pk")
    assert first.decided_by_id is None and first.decided_by_name == "system:revocation-rule"
    assert {(e["user"], e["group"]) for e in first.master["members_remove"]} == {("maria.admin", "prod.AdminRole")}
    assert not AuditEvent.objects.filter(action="plan_approved", object_id=str(first.pk)).exclude(
        actor_name="system:revocation-rule").exists()
    # dev.jones's first grant has ended too, but the second still holds: access stays.
    assert not Membership.objects.filter(pk=permanent.pk).exists()
    assert "dev.jones" in members(sample_world, "prod.PowerUserRole")

    wait_for(lambda: "dev.jones" not in members(sample_world, "prod.PowerUserRole"),
             timeout=(later - timezone.now()).total_seconds() + CHECK_SECONDS + APPLY_SECONDS,
             what=lambda: f"dev.jones's removal; worker log:\n{worker.log_text()[-3000:]}")
    assert timezone.now() >= later  # not before the later grant ended
    assert members(sample_world, "prod.PowerUserRole") == {"dev.okafor"}
    revocations = Plan.objects.filter(kind=Plan.Kind.REVOCATION, status=Plan.Status.APPLIED)
    assert all(plan.decided_by_name == "system:revocation-rule" for plan in revocations)


def test_with_the_rule_off_the_revocation_plan_waits_for_an_approver(sample_world, people, beat_worker):
    live_as_applied(sample_world, {"prod.AdminRole": {"maria.admin"}})
    worker = beat_worker(auto_apply=False)

    expires(grant("maria.admin", "prod.AdminRole"), timezone.now() - timedelta(seconds=1))

    plan = wait_for(lambda: Plan.objects.filter(kind=Plan.Kind.REVOCATION, status=Plan.Status.PENDING).first(),
                    timeout=CHECK_SECONDS + APPLY_SECONDS, what=lambda: f"a pending revocation plan:\n{worker.log_text()[-3000:]}")
    time.sleep(2 * CHECK_SECONDS)  # two more expiry checks: neither approves nor applies it
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PENDING and plan.decided_by_name == ""
    assert not plan.jobs.filter(kind=Job.Kind.APPLY).exists()
    assert "maria.admin" in members(sample_world, "prod.AdminRole")
    # An Approver decides; then it goes like any plan.
    job = apply_now(plan, approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "maria.admin" not in members(sample_world, "prod.AdminRole")
    assert Actor.from_user(people.approver).name == plan.decided_by_name
