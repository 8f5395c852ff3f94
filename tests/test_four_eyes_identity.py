"""Four eyes by identity (issue 8, found #2): the requester, the editors and the approver of a plan
are compared by user id. A rename, or a new person taking an old name, changes nothing."""
import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import Actor
from console.services_users import console_user_create
from memberships.models import Membership
from memberships.services import membership_revoke
from plans import services
from plans.models import Job, Plan
from tests.aws_world import sample_world  # noqa: F401 - fixture
from tests.workflow import plan_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_approver(people):
    """ada, an Admin who also holds Approver: she may edit, manage console users and approve."""
    people.admin.groups.add(Group.objects.get(name="Approver"))
    return people.admin


def revoke_one_membership(actor_user) -> None:
    membership = Membership.objects.select_related("iam_user", "account", "role").first()
    membership_revoke(actor=Actor.from_user(actor_user), membership=membership, reason="left the team")


def rename_through_the_console_page(client, user, new_name: str):
    return client.post(reverse("console:console_user_edit", args=[user.pk]), {
        "username": new_name, "email": user.email, "is_active": "on",
        "groups": list(user.groups.values_list("name", flat=True)),
    })


def test_an_admin_approver_who_renames_themselves_still_may_not_approve_or_apply_their_own_edits(
    sample_world, people, eddie, admin_approver, client_for
):
    revoke_one_membership(admin_approver)
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.PENDING, plan.blocks or plan.error
    assert "ada" in plan.editors and admin_approver.pk in plan.editor_ids
    client = client_for(admin_approver)

    renamed = rename_through_the_console_page(client, admin_approver, "ada.lovelace")
    assert renamed.status_code == 302
    admin_approver.refresh_from_db()
    assert admin_approver.username == "ada.lovelace"

    approve = client.post(reverse("plans:approve", args=[plan.pk]), {"comment": "looks fine"})
    assert approve.status_code == 400
    assert "You edited the desired state this plan carries" in approve.content.decode()
    apply = client.post(reverse("plans:apply", args=[plan.pk]), follow=True)
    assert "Only an approved plan can be applied" in apply.content.decode()

    plan.refresh_from_db()
    assert (plan.status, plan.decided_by) == (Plan.Status.PENDING, None)
    assert not Job.objects.filter(kind=Job.Kind.APPLY).exists()
    assert not AuditEvent.objects.filter(action__in=("plan_approved", "apply_requested")).exists()
    # The page still names the edit as it was made; another approver may approve.
    assert "<b>ada</b>" in client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert services.approval_refusal(user=people.approver, plan=plan) == ""


def test_a_rename_is_audited_with_both_names(people, client_for):
    response = rename_through_the_console_page(client_for(people.admin), people.viewer, "vera.rubin")

    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="console user", action="update")
    assert (event.actor, event.object_id) == (people.admin, str(people.viewer.pk))
    assert (event.before["username"], event.after["username"]) == ("vera", "vera.rubin")
    assert event.reason == "Renamed from vera to vera.rubin"


def test_a_requester_who_renames_themselves_still_may_not_approve(people, client_for):
    people.editor.groups.add(Group.objects.get(name="Approver"))
    plan = Plan.objects.create(status=Plan.Status.PENDING, requested_by=people.editor, requested_by_name="eddie",
                               summary={"add": 1, "change": 0, "remove": 0})
    rename_through_the_console_page(client_for(people.admin), people.editor, "edward")
    people.editor.refresh_from_db()

    with pytest.raises(ValidationError, match="You requested this plan"):
        services.plan_approve(actor=Actor.from_user(people.editor), plan=plan)


def test_a_new_person_who_takes_an_editors_old_name_may_approve(people):
    plan = Plan.objects.create(status=Plan.Status.PENDING, requested_by=people.editor, requested_by_name="eddie",
                               editors=["erin"], editor_ids=[people.other_editor.pk],
                               summary={"add": 1, "change": 0, "remove": 0})
    admin = Actor.from_user(people.admin)
    people.admin.groups.add(Group.objects.get(name="Approver"))
    from console.services_users import console_user_update

    console_user_update(actor=admin, console_user=people.other_editor, username="erin.old", email="", groups=["Editor"])
    newcomer = console_user_create(actor=admin, username="erin", groups=["Approver"], password="a long enough passphrase")

    assert services.approval_refusal(user=newcomer, plan=plan) == ""
    services.plan_approve(actor=Actor.from_user(newcomer), plan=plan)
    assert Plan.objects.get(pk=plan.pk).decided_by == newcomer


def test_an_approval_that_fails_four_eyes_by_id_is_not_applied(people, eddie):
    # An approval written around plan_approve (or by a release that compared names) does not count.
    plan = Plan.objects.create(status=Plan.Status.APPROVED, requested_by=people.editor, requested_by_name="eddie",
                               editors=["arthur"], editor_ids=[people.other_approver.pk],
                               decided_by=people.other_approver, decided_by_name="arthur.renamed",
                               summary={"add": 1, "change": 0, "remove": 0})

    with pytest.raises(ValidationError, match="not four eyes"):
        services.apply_request(actor=eddie, plan=plan)

    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.APPROVED
    assert not Job.objects.exists()


def test_the_planner_records_edits_by_id_and_leaves_system_actors_out_of_the_ids(people):
    from plans.desired import editor_ids_since_last_apply, editors_since_last_apply
    from memberships.services import iam_user_create

    iam_user_create(actor=Actor.from_user(people.editor), user_name="frank")
    iam_user_create(actor=Actor.system("system:ops"), user_name="grace")

    assert editors_since_last_apply() == ["eddie", "system:ops"]
    assert editor_ids_since_last_apply() == [people.editor.pk]


def test_plans_made_before_the_upgrade_get_their_editors_ids_from_their_names(people):
    migration = importlib.import_module("plans.migrations.0003_plan_editor_ids")
    plan = Plan.objects.create(status=Plan.Status.PENDING, requested_by_name="someone",
                               editors=["eddie", "arthur", "system:ops"])
    untouched = Plan.objects.create(status=Plan.Status.PENDING, requested_by_name="someone")

    migration.editor_ids_from_names(django_apps, None)

    assert sorted(Plan.objects.get(pk=plan.pk).editor_ids) == sorted([people.editor.pk, people.other_approver.pk])
    assert Plan.objects.get(pk=untouched.pk).editor_ids == []
