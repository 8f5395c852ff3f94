"""A change of a role's ARN (RoleName, Path, logical id) is confirmed on the role form, stored and audited."""
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import Actor
from roles.models import RoleDefinition
from roles.services import role_update
from tests.factories import RoleFactory, role_form_data

pytestmark = pytest.mark.django_db

CHECKBOX = 'type="checkbox" name="confirm_replacement"'


@pytest.fixture
def role(db):
    return RoleFactory(logical_name="Admin", role_name="AdminRole", path="/")


def edit(editor, role, **overrides):
    data = role_form_data(**{"logical_name": role.logical_name, "role_name": role.role_name, "path": role.path, **overrides})
    return editor.post(reverse("roles:edit", kwargs={"pk": role.pk}), data)


def test_the_edit_form_does_not_ask_for_a_confirmation_before_the_arn_changes(editor, role):
    page = editor.get(reverse("roles:edit", kwargs={"pk": role.pk})).content.decode()
    assert CHECKBOX not in page
    assert "confirm_replacement" in page  # carried as a hidden field until it is needed
    assert "confirm_replacement" not in editor.get(reverse("roles:create")).content.decode()


@pytest.mark.parametrize("change, described", [
    ({"role_name": "Administrators"}, "RoleName AdminRole → Administrators"),
    ({"path": "/ops/"}, "Path / → /ops/"),
    ({"logical_name": "Administrator"}, "logical id Admin → Administrator"),
])
def test_a_change_of_arn_without_the_box_ticked_is_refused_and_shows_the_box(editor, role, change, described):
    response = edit(editor, role, **change)

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["confirm_replacement"])
    assert f"This edit changes the role's ARN ({described}): CloudFormation will replace the role." in errors
    assert CHECKBOX in response.content.decode()
    role.refresh_from_db()
    assert (role.logical_name, role.role_name, role.path, role.replacement_confirmation) == ("Admin", "AdminRole", "/", {})


def test_a_confirmed_rename_is_stored_on_the_role_and_audited(editor, people, role):
    response = edit(editor, role, role_name="Administrators", confirm_replacement="on", reason="team asked")

    assert response.status_code == 302
    role.refresh_from_db()
    confirmation = role.replacement_confirmation
    assert confirmation["confirmed"] is True and confirmation["by"] == people.editor.username
    assert confirmation["from"] == [{"logical_id": "Admin", "role_name": "AdminRole", "path": "/"}]
    assert confirmation["to"] == {"logical_id": "Admin", "role_name": "Administrators", "path": "/"}
    event = AuditEvent.objects.get(action="confirm_replacement")
    assert (event.object_type, event.object_repr, event.reason, event.after["to"]["role_name"]) == (
        "role", "Admin", "team asked", "Administrators")
    assert AuditEvent.objects.filter(action="update", object_type="role").count() == 1


def test_an_edit_that_keeps_the_arn_needs_no_confirmation(editor, role):
    assert edit(editor, role, description="Admins", max_session_duration="7200").status_code == 302
    role.refresh_from_db()
    assert role.replacement_confirmation == {}
    assert not AuditEvent.objects.filter(action="confirm_replacement").exists()


def test_a_rename_made_elsewhere_is_confirmed_later_on_the_form(editor, people, role):
    role_update(actor=Actor.from_user(people.other_editor), role=role, role_name="Administrators", reason="import")
    role.refresh_from_db()
    assert role.replacement_confirmation["confirmed"] is False

    page = editor.get(reverse("roles:edit", kwargs={"pk": role.pk})).content.decode()
    assert CHECKBOX in page and "Not confirmed yet: RoleName AdminRole → Administrators" in page

    assert edit(editor, role, confirm_replacement="on").status_code == 302
    role.refresh_from_db()
    assert role.replacement_confirmation["confirmed"] is True
    assert role.replacement_confirmation["by"] == people.editor.username
    assert AuditEvent.objects.filter(action="confirm_replacement", actor_name=people.editor.username).count() == 1


def test_a_second_rename_before_the_first_is_applied_keeps_both_origins(people, role):
    editor = Actor.from_user(people.editor)
    role_update(actor=editor, role=role, role_name="Administrators", confirm_replacement=True)
    role_update(actor=editor, role=RoleDefinition.objects.get(pk=role.pk), logical_name="Administrator",
                confirm_replacement=True)

    confirmation = RoleDefinition.objects.get(pk=role.pk).replacement_confirmation
    assert [o["role_name"] for o in confirmation["from"]] == ["AdminRole", "Administrators"]
    assert confirmation["to"]["logical_id"] == "Administrator"


def test_a_later_rename_without_confirmation_takes_the_confirmation_back(people, role):
    editor = Actor.from_user(people.editor)
    role_update(actor=editor, role=role, role_name="Administrators", confirm_replacement=True)
    role_update(actor=editor, role=RoleDefinition.objects.get(pk=role.pk), path="/ops/")

    confirmation = RoleDefinition.objects.get(pk=role.pk).replacement_confirmation
    assert confirmation["confirmed"] is False
    assert confirmation["to"] == {"logical_id": "Admin", "role_name": "Administrators", "path": "/ops/"}


def test_the_link_from_a_plans_block_offers_the_box_for_a_role_nobody_renamed_here(editor, people, role):
    url = reverse("roles:edit", kwargs={"pk": role.pk}) + "?confirm_replacement=1"
    assert CHECKBOX in editor.get(url).content.decode()

    data = role_form_data(logical_name="Admin", role_name="AdminRole", path="/", confirm_replacement="on")
    assert editor.post(url, data).status_code == 302

    confirmation = RoleDefinition.objects.get(pk=role.pk).replacement_confirmation
    assert (confirmation["from"], confirmation["to"], confirmation["confirmed"]) == (
        [], {"logical_id": "Admin", "role_name": "AdminRole", "path": "/"}, True)
    event = AuditEvent.objects.get(action="confirm_replacement")
    assert event.reason == "Replace role Admin wherever AWS holds it under another name or path"


def test_an_unticked_box_from_the_link_changes_nothing(editor, role):
    url = reverse("roles:edit", kwargs={"pk": role.pk}) + "?confirm_replacement=1"
    data = role_form_data(logical_name="Admin", role_name="AdminRole", path="/")
    assert editor.post(url, data).status_code == 302
    assert RoleDefinition.objects.get(pk=role.pk).replacement_confirmation == {}
    assert not AuditEvent.objects.filter(action="confirm_replacement").exists()
