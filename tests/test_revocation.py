"""Revocation plans (plans/revocation.py): planned from the master account's groups only, holding nothing
but member removals, approved by the system under the revocation rule and applied at once; everything
else still needs four eyes. Against the fake AWS, the worker's work run in this process (tests/workflow.py)."""
from datetime import timedelta

import os

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor
from core.permissions import check_actor
from memberships.models import IAMUser, Membership
from memberships.services import membership_revoke, memberships_grant
from plans import desired, planning, revocation, services
from plans.models import Job, JobStep, Plan
from tests.aws_world import live_groups, sample_world  # noqa: F401
from tests.e2e_fixtures import _SettingReader
from tests.factories import MasterAccountFactory
from tests.workflow import apply_now, plan_now, run_apply_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def applied_world(sample_world, people, eddie):
    """The samples live in the fake AWS, exactly as the desired state says."""
    job = apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return sample_world


def membership(user: str, group: str) -> Membership:
    account, role = group.split(".")
    return Membership.objects.get(iam_user__user_name=user, account__name=account, role__logical_name=role)


def expire(grant: Membership) -> None:
    Membership.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


def compute(plan: Plan) -> Plan:
    planning.plan_compute(plan_id=plan.pk)
    plan.refresh_from_db()
    return plan


def tick_and_compute() -> Plan:
    """One expiry check, then the revocation plan it requested computed, as the worker would."""
    outcome = revocation.expiry_tick()
    assert outcome["plan"], outcome
    return compute(Plan.objects.get(pk=outcome["plan"]))


def test_an_expired_membership_leaves_aws_with_no_person_involved(applied_world):
    expire(membership("dev.jones", "prod.PowerUserRole"))

    plan = tick_and_compute()

    assert plan.kind == Plan.Kind.REVOCATION and plan.status == Plan.Status.APPROVED
    assert plan.accounts == [] and plan.summary == {"add": 0, "change": 0, "remove": 1}
    assert [(e["user"], e["group"]) for e in plan.master["members_remove"]] == [("dev.jones", "prod.PowerUserRole")]
    assert plan.master["members_remove"][0]["removed_by"] == "system:expiry"
    assert not any(plan.master[part] for part in revocation.MASTER_PARTS if part != "members_remove")
    planned = plan.jobs.get(kind=Job.Kind.PLAN)
    assert [step.target for step in planned.steps.all()] == [JobStep.MASTER]
    assert planned.api_call_totals()["writes"] == 0
    assert planned.steps.get().api_calls["operations"] == {"GetAccountAuthorizationDetails": 1}
    approval = AuditEvent.objects.get(action="plan_approved", object_id=str(plan.pk))
    assert approval.actor_id is None and approval.actor_name == "system:revocation-rule"
    assert "ROLEMODEL_AUTO_APPLY_REVOCATIONS" in approval.reason and approval.after["rule"] == "ROLEMODEL_AUTO_APPLY_REVOCATIONS"

    job = run_apply_job(services.revocation_apply_by_rule(plan_id=plan.pk))

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert [step.target for step in job.steps.all()] == [JobStep.MASTER]
    assert job.api_call_totals()["writes"] == 1
    assert "GetCallerIdentity" in job.steps.get().api_calls["operations"]  # the target checked before writing
    assert live_groups(applied_world)["prod.PowerUserRole"]["members"] == {"dev.okafor"}
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPLIED


def test_with_the_rule_off_a_revocation_plan_waits_for_an_approver(applied_world, people, settings):
    settings.ROLEMODEL_AUTO_APPLY_REVOCATIONS = False
    expire(membership("dev.jones", "prod.PowerUserRole"))

    plan = tick_and_compute()

    assert plan.status == Plan.Status.PENDING and plan.decided_by_name == ""
    assert services.revocation_apply_by_rule(plan_id=plan.pk) is None
    assert "dev.jones" in live_groups(applied_world)["prod.PowerUserRole"]["members"]
    assert revocation.rule_refusal(plan).startswith("ROLEMODEL_AUTO_APPLY_REVOCATIONS is off")
    # An Approver decides, and an apply by a person runs the same master-only step.
    job = apply_now(plan, approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "dev.jones" not in live_groups(applied_world)["prod.PowerUserRole"]["members"]


def test_a_converge_plan_that_only_removes_is_not_approved_by_the_rule(applied_world, people, eddie):
    membership_revoke(actor=Actor.from_user(people.other_editor), membership=membership("dev.jones", "prod.PowerUserRole"),
                      reason="moved team")

    plan = plan_now(eddie)

    assert plan.kind == Plan.Kind.CONVERGE and plan.status == Plan.Status.PENDING
    assert plan.summary == {"add": 0, "change": 0, "remove": 1}
    assert revocation.approve_by_rule(plan) is False
    assert "four eyes" in revocation.rule_refusal(plan)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PENDING
    # Forced into "approved" by nobody (the database written around the services): it does not apply.
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.APPROVED, decided_by_name=revocation.RULE_ACTOR.name)
    plan.refresh_from_db()
    with pytest.raises(services.PlanError, match="approves only revocation plans"):
        services.apply_request(actor=eddie, plan=plan)
    assert services.revocation_apply_by_rule(plan_id=plan.pk) is None


def test_a_revocation_plan_holding_anything_but_removals_is_refused(applied_world, people, settings):
    settings.ROLEMODEL_AUTO_APPLY_REVOCATIONS = False
    expire(membership("dev.jones", "prod.PowerUserRole"))
    plan = tick_and_compute()
    addition = {"group": "prod.AdminRole", "user": "dev.jones"}
    Plan.objects.filter(pk=plan.pk).update(master={**plan.master, "members_add": [addition]})
    plan.refresh_from_db()
    settings.ROLEMODEL_AUTO_APPLY_REVOCATIONS = True

    assert revocation.approve_by_rule(plan) is False
    assert "holds members_add" in revocation.rule_refusal(plan)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PENDING
    # Approved by a person, it still refuses to apply.
    services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)
    with pytest.raises(services.PlanError, match="may only remove members"):
        services.apply_request(actor=Actor.from_user(people.editor), plan=plan)


def test_a_revocation_plan_may_remove_members_only_from_groups_the_console_manages(applied_world):
    expire(membership("dev.jones", "prod.PowerUserRole"))
    plan = tick_and_compute()
    outside = {"group": "Administrators", "user": "dev.okafor"}
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.PENDING, decided_by_name="",
                                           master={**plan.master, "members_remove": [outside]})
    plan.refresh_from_db()

    assert revocation.approve_by_rule(plan) is False
    assert "Administrators, which the console does not manage" in revocation.rule_refusal(plan)


def test_a_revocation_plan_tampered_after_its_apply_started_writes_nothing(applied_world):
    expire(membership("dev.jones", "prod.PowerUserRole"))
    plan = tick_and_compute()
    job = services.revocation_apply_by_rule(plan_id=plan.pk)
    Plan.objects.filter(pk=plan.pk).update(
        accounts=[{"name": "prod", "action": "update", "resources": [{"logical_id": "AdminRole"}]}]
    )

    job = run_apply_job(job)

    assert job.status == Job.Status.FAILED and "changes the stacks of prod" in job.error
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPLY_FAILED
    assert job.api_call_totals()["writes"] == 0
    assert "dev.jones" in live_groups(applied_world)["prod.PowerUserRole"]["members"]


def test_no_person_holds_the_capability_of_the_rule(people):
    for user in (people.approver, people.admin, people.superuser):
        with pytest.raises(PermissionDenied):
            check_actor(Actor.from_user(user), "approve_removals")
    check_actor(revocation.RULE_ACTOR, "approve_removals")
    with pytest.raises(PermissionDenied):
        check_actor(revocation.RULE_ACTOR, "approve")


def test_revocation_and_converge_plans_never_supersede_each_other(applied_world, people, eddie, settings):
    settings.ROLEMODEL_AUTO_APPLY_REVOCATIONS = False
    membership_revoke(actor=Actor.from_user(people.other_editor), membership=membership("support.lee", "cdn.ReadOnlyRole"))
    converge = plan_now(eddie)
    assert converge.status == Plan.Status.PENDING
    expire(membership("dev.jones", "prod.PowerUserRole"))

    revoking = tick_and_compute()

    converge.refresh_from_db()
    assert converge.status == Plan.Status.PENDING and revoking.status == Plan.Status.PENDING
    newer = plan_now(eddie)
    converge.refresh_from_db()
    revoking.refresh_from_db()
    assert newer.status == Plan.Status.PENDING
    assert converge.status == Plan.Status.SUPERSEDED and revoking.status == Plan.Status.PENDING


def test_an_approved_converge_plan_that_still_grants_the_revoked_membership_is_stale(applied_world, people, eddie):
    user = IAMUser.objects.get(user_name="dev.jones")
    grant = memberships_grant(actor=Actor.from_user(people.other_editor), reason="on call",
                              grants=[(user, membership("maria.admin", "prod.AdminRole").account,
                                       membership("maria.admin", "prod.AdminRole").role)],
                              expires_at=timezone.now() + timedelta(hours=1)).created[0]
    converge = plan_now(eddie)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=converge)
    expire(grant)

    revocation.expiry_tick()

    with pytest.raises(services.PlanError, match="stale"):
        services.apply_request(actor=eddie, plan=converge)


def test_an_apply_already_running_delays_the_revocation_and_the_next_check_applies_it(applied_world, people):
    other = Plan.objects.create(kind=Plan.Kind.CONVERGE, status=Plan.Status.APPLYING, requested_by_name="eddie")
    running = Job.objects.create(kind=Job.Kind.APPLY, plan=other, status=Job.Status.RUNNING, requested_by_name="eddie",
                                 heartbeat_at=timezone.now())
    expire(membership("dev.jones", "prod.PowerUserRole"))
    plan = tick_and_compute()

    assert services.revocation_apply_by_rule(plan_id=plan.pk) is None
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPROVED
    assert revocation.expiry_tick() == {"expired": 0, "retried": [plan.pk], "plan": None}

    running.finish()
    job = run_apply_job(services.revocation_apply_by_rule(plan_id=plan.pk))

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "dev.jones" not in live_groups(applied_world)["prod.PowerUserRole"]["members"]


def test_a_membership_granted_again_before_the_apply_makes_the_revocation_stale(applied_world, people):
    grant = membership("dev.jones", "prod.PowerUserRole")
    account, role, user = grant.account, grant.role, grant.iam_user
    expire(grant)
    plan = tick_and_compute()
    memberships_grant(actor=Actor.from_user(people.editor), grants=[(user, account, role)], reason="back again")

    assert services.revocation_apply_by_rule(plan_id=plan.pk) is None

    plan.refresh_from_db()
    assert plan.status == Plan.Status.SUPERSEDED
    assert "Granted again" in AuditEvent.objects.get(action="plan_superseded", object_id=str(plan.pk)).reason
    assert "dev.jones" in live_groups(applied_world)["prod.PowerUserRole"]["members"]


def test_an_applied_revocation_does_not_hide_edits_from_four_eyes(applied_world, people):
    membership_revoke(actor=Actor.from_user(people.other_editor), membership=membership("support.lee", "cdn.ReadOnlyRole"))
    expire(membership("dev.jones", "prod.PowerUserRole"))
    plan = tick_and_compute()
    run_apply_job(services.revocation_apply_by_rule(plan_id=plan.pk))

    assert people.other_editor.pk in desired.editor_ids_since_last_apply()


def test_an_expiry_check_with_nothing_due_requests_no_plan(db):
    assert revocation.expiry_tick() == {"expired": 0, "retried": [], "plan": None}
    assert not Plan.objects.exists()


def test_a_failed_revocation_is_planned_again_at_the_next_check(applied_world):
    expire(membership("dev.jones", "prod.PowerUserRole"))
    failed = Plan.objects.get(pk=revocation.expiry_tick()["plan"])
    Plan.objects.filter(pk=failed.pk).update(status=Plan.Status.FAILED, error="master: AWS did not answer")

    again = revocation.expiry_tick()

    assert again["expired"] == 0 and again["plan"] not in (None, failed.pk)
    plan = compute(Plan.objects.get(pk=again["plan"]))
    assert [(e["user"], e["group"]) for e in plan.master["members_remove"]] == [("dev.jones", "prod.PowerUserRole")]
    run_apply_job(services.revocation_apply_by_rule(plan_id=plan.pk))
    assert "dev.jones" not in live_groups(applied_world)["prod.PowerUserRole"]["members"]
    assert revocation.expiry_tick()["plan"] is None  # the last one succeeded: nothing more to do


def _expiry_settings(environment: dict) -> _SettingReader:
    """The check's beat entry and the rule as a process with ``environment`` reads them (started at once)."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("ROLEMODEL_EXPIRY_CHECK_SECONDS", "MEMBERSHIP_EXPIRY_INTERVAL_SECONDS",
                           "ROLEMODEL_AUTO_APPLY_REVOCATIONS")}
    env.update(DJANGO_SETTINGS_MODULE="rolemodel_site.settings", **environment)
    return _SettingReader(env, "CELERY_BEAT_SCHEDULE['expire-memberships'] | "
                               "{'auto_apply': settings.ROLEMODEL_AUTO_APPLY_REVOCATIONS}")


def test_the_expiry_check_runs_every_minute_by_default_and_the_old_setting_name_still_counts():
    cases = [({}, ("plans.tasks.expiry_tick_task", 60, True)),
             ({"ROLEMODEL_EXPIRY_CHECK_SECONDS": "5"}, ("plans.tasks.expiry_tick_task", 5, True)),
             ({"MEMBERSHIP_EXPIRY_INTERVAL_SECONDS": "300"}, ("plans.tasks.expiry_tick_task", 300, True)),
             ({"MEMBERSHIP_EXPIRY_INTERVAL_SECONDS": "300", "ROLEMODEL_EXPIRY_CHECK_SECONDS": "30"},
              ("plans.tasks.expiry_tick_task", 30, True)),
             ({"ROLEMODEL_AUTO_APPLY_REVOCATIONS": "false"}, ("plans.tasks.expiry_tick_task", 60, False))]
    readers = [(_expiry_settings(environment), expected) for environment, expected in cases]
    for reader, expected in readers:
        read = reader.value()
        assert (read["task"], read["schedule"], read["auto_apply"]) == expected


def test_the_expiry_check_task_is_registered():
    from rolemodel_site.celery import app

    assert "plans.tasks.expiry_tick_task" in app.tasks and "plans.tasks.apply_revocation_task" in app.tasks


def test_the_plan_pages_show_a_revocation_plan_and_who_approved_it(people, client_for):
    MasterAccountFactory()
    removals = {part: [] for part in revocation.MASTER_PARTS}
    removals["members_remove"] = [{"group": "prod.Admin", "user": "alice", "removed_by": "system:expiry",
                                   "reason": "Expired at 2026-11-30 10:00 UTC"}]
    plan = Plan.objects.create(kind=Plan.Kind.REVOCATION, status=Plan.Status.APPROVED, requested_by_name="system:expiry",
                               decided_by_name=revocation.RULE_ACTOR.name, decision_comment=revocation.RULE_COMMENT,
                               summary={"add": 0, "change": 0, "remove": 1}, master=removals, fingerprint="x")
    client = client_for(people.viewer)

    listing = client.get(reverse("plans:list")).content.decode()
    detail = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()

    assert ">revocation</span>" in listing and "0 to add, 0 to change, 1 to remove" in listing
    assert ">revocation</span>" in detail and "system:revocation-rule" in detail
    assert "ROLEMODEL_AUTO_APPLY_REVOCATIONS=true" in detail and "alice" in detail
