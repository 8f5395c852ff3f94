"""Every service that changes state checks the actor's capability itself, whoever calls it.

Before: ``plan_request``, ``apply_request``, ``import_files``, ``memberships_sync`` and the account,
role, IAM user and membership services trusted the page or the command line to have checked first;
called directly with a Viewer they wrote under the Viewer's name.
"""
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied

from accounts import services as accounts
from audit.models import AuditEvent
from audit.reseal import reseal_legacy_chain
from audit.services import Actor
from interchange.importing import import_files
from core.permissions import SYSTEM_CAPABILITIES, actor_may
from memberships import services as memberships
from plans import services as plans
from plans.models import Job, Plan
from roles import services as roles
from tests.factories import AccountFactory, IAMUserFactory, MasterAccountFactory, MembershipFactory, PolicyFactory, RoleFactory
from tests.test_bad_input_forms import everything
from tests.test_cli_import import ORIGINAL

pytestmark = pytest.mark.django_db


@dataclass
class World:
    account: object
    role: object
    policy: object
    iam_user: object
    newcomer: object  # an IAM user without a grant yet
    membership: object
    pending: Plan
    approved: Plan


@pytest.fixture
def world(people) -> World:
    MasterAccountFactory()
    account = AccountFactory(name="prod")
    role = RoleFactory(logical_name="Admin")
    iam_user = IAMUserFactory(user_name="alice")
    pending = Plan.objects.create(status=Plan.Status.PENDING, requested_by=people.other_editor, requested_by_name="erin",
                                  fingerprint="x", summary={"add": 1, "change": 0, "remove": 0})
    Job.objects.create(kind=Job.Kind.PLAN, plan=pending, status=Job.Status.SUCCEEDED, requested_by_name="erin")
    approved = Plan.objects.create(status=Plan.Status.APPROVED, requested_by_name="erin", decided_by_name="arthur",
                                   fingerprint="x")
    return World(account=account, role=role, policy=PolicyFactory(role=role), iam_user=iam_user,
                 newcomer=IAMUserFactory(user_name="carol"), membership=MembershipFactory(iam_user=iam_user, account=account, role=role), pending=pending,
                 approved=approved)


# service → (the capability it needs, a call of it with valid arguments)
SERVICES = {
    "account_create": ("edit", lambda actor, w: accounts.account_create(actor=actor, name="dev", account_id="222222222222")),
    "account_update": ("edit", lambda actor, w: accounts.account_update(actor=actor, account=w.account, description="new")),
    "account_delete": ("edit", lambda actor, w: accounts.account_delete(actor=actor, account=w.account)),
    "master_account_update": ("edit", lambda actor, w: accounts.master_account_update(actor=actor, group_quota=100)),
    "role_create": ("edit", lambda actor, w: roles.role_create(actor=actor, logical_name="ReadOnly")),
    "role_update": ("edit", lambda actor, w: roles.role_update(actor=actor, role=w.role, description="new")),
    "role_delete": ("edit", lambda actor, w: roles.role_delete(actor=actor, role=w.role)),
    "policy_create": ("edit", lambda actor, w: roles.policy_create(
        actor=actor, role=w.role, name="more", document={"Version": "2012-10-17", "Statement": []})),
    "policy_update": ("edit", lambda actor, w: roles.policy_update(
        actor=actor, policy=w.policy, name="renamed", document=w.policy.document)),
    "policy_delete": ("edit", lambda actor, w: roles.policy_delete(actor=actor, policy=w.policy)),
    "iam_user_create": ("edit", lambda actor, w: memberships.iam_user_create(actor=actor, user_name="bob")),
    "iam_user_update": ("edit", lambda actor, w: memberships.iam_user_update(actor=actor, iam_user=w.iam_user,
                                                                             display_name="Alice")),
    "iam_user_delete": ("edit", lambda actor, w: memberships.iam_user_delete(actor=actor, iam_user=w.iam_user)),
    "memberships_grant": ("edit", lambda actor, w: memberships.memberships_grant(
        actor=actor, grants=[(w.newcomer, w.account, w.role)], reason="on call")),
    "membership_revoke": ("edit", lambda actor, w: memberships.membership_revoke(actor=actor, membership=w.membership)),
    "memberships_sync": ("edit", lambda actor, w: memberships.memberships_sync(
        actor=actor, user_map={"prod": {"Admin": ["bob"]}}, reason="sync")),
    "import_files": ("edit", lambda actor, w: import_files(config_path=ORIGINAL / "config.yml", actor=actor)),
    "import_files (dry run)": ("edit", lambda actor, w: import_files(config_path=ORIGINAL / "config.yml", actor=actor,
                                                                      dry_run=True)),
    "plan_request": ("edit", lambda actor, w: plans.plan_request(actor=actor)),
    "plan_approve": ("approve", lambda actor, w: plans.plan_approve(actor=actor, plan=w.pending)),
    "plan_reject": ("approve", lambda actor, w: plans.plan_reject(actor=actor, plan=w.pending, comment="no")),
    "apply_request": ("apply", lambda actor, w: plans.apply_request(actor=actor, plan=w.approved)),
    "reseal_legacy_chain": ("manage_users", lambda actor, w: reseal_legacy_chain(actor=actor)),
}

# Who holds what (core/permissions.py); "system" is a system actor such as the worker's or the operator's.
HOLDERS = {
    "viewer": {"view"},
    "nobody": set(),
    "editor": {"view", "edit", "apply"},
    "approver": {"view", "approve", "apply"},
    "admin": {"view", "edit", "apply", "manage_users"},
    "superuser": {"view", "edit", "apply", "manage_users"},
    "system": set(SYSTEM_CAPABILITIES),
}


def actor_for(people, who: str) -> Actor:
    if who == "system":
        return Actor.system("system:test", source=AuditEvent.Source.WORKER)
    return Actor.from_user(getattr(people, who))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_viewer_calling_a_service_directly_is_refused_and_nothing_is_written(people, world, service):
    _, call = SERVICES[service]
    before = everything()
    with pytest.raises(PermissionDenied):
        call(Actor.from_user(people.viewer), world)
    assert everything() == before


@pytest.mark.parametrize("who", sorted(HOLDERS))
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_actor_gets_exactly_the_services_of_its_capabilities(people, world, service, who):
    capability, call = SERVICES[service]
    before = everything()
    refused = False
    try:
        call(actor_for(people, who), world)
    except PermissionDenied:
        refused = True
    except Exception:  # allowed through the check; what the service says next is not this test's business
        pass
    assert refused == (capability not in HOLDERS[who])
    if refused:
        assert everything() == before


def test_system_actors_do_what_the_system_does_but_never_approve():
    system = Actor.system("system:expiry", source=AuditEvent.Source.WORKER)
    assert [actor_may(system, capability) for capability in ("view", "edit", "apply", "manage_users", "approve")] == [
        True, True, True, True, False]


def test_the_expiry_worker_still_revokes_as_its_system_actor(world):
    from datetime import timedelta

    from django.utils import timezone

    world.membership.expires_at = timezone.now() - timedelta(minutes=1)
    world.membership.save()
    assert memberships.expire_due_memberships() == 1
    assert AuditEvent.objects.filter(actor_name="system:expiry", action="delete", object_type="membership").exists()


def test_a_deactivated_editor_is_refused(people, world):
    people.editor.is_active = False
    people.editor.save()
    with pytest.raises(PermissionDenied):
        accounts.account_update(actor=Actor.from_user(people.editor), account=world.account, description="new")


def test_the_command_line_turns_a_service_refusal_into_its_message_and_a_non_zero_exit(people):
    """``audit reseal`` is open to Viewers by the command table (``audit verify`` is); the reseal service
    itself refuses anyone but an Admin."""
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as raised:
        call_command("rolemodel", "audit", "reseal", "--as", "vera", stdout=StringIO(), stderr=StringIO())
    assert raised.value.returncode != 0
    assert str(raised.value) == "--as vera: only members of the Admin group reseal the audit chain."
    out = StringIO()
    call_command("rolemodel", "audit", "reseal", "--as", "ada", stdout=out)
    assert "Nothing to reseal" in out.getvalue()
