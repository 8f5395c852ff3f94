"""Every kind of change, made through its service, leaves one audit row: who, what, before, after, why."""
import pytest

from accounts.models import AssumableAccount, MasterAccount
from accounts.services import account_create, account_delete, account_update, master_account_update
from audit.models import AuditEvent
from audit.services import Actor
from console.services_users import console_user_create, console_user_update
from memberships.models import IAMUser
from memberships.services import iam_user_create, iam_user_delete, iam_user_update, membership_revoke, memberships_grant
from roles.models import InlinePolicy
from roles.services import policy_create, policy_delete, policy_update, role_create, role_delete, role_update
from tests.factories import READ_ONLY, AccountFactory, IAMUserFactory, MembershipFactory, RoleFactory

pytestmark = pytest.mark.django_db

WRITE_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}



def only_event(**filters) -> AuditEvent:
    return AuditEvent.objects.get(**filters)


def assert_actor(event, user):
    assert (event.actor, event.actor_name, event.source) == (user, user.username, "web")


# ---- accounts -------------------------------------------------------------------------------


def test_account_create_is_audited(eddie, people):
    account = account_create(actor=eddie, reason="new team", name="prod", account_id="123456789012", profile="prod")
    event = only_event(object_type="account")
    assert_actor(event, people.editor)
    assert (event.action, event.object_id, event.object_repr, event.reason, event.before) == (
        "create",
        str(account.pk),
        "prod",
        "new team",
        None,
    )
    assert event.after["name"] == "prod" and event.after["account_id"] == "123456789012"


def test_account_update_records_before_and_after(eddie):
    account = AccountFactory(name="stage", description="old")
    account_update(actor=eddie, account=account, reason="rename", description="new")
    event = only_event(object_type="account", action="update")
    assert (event.before["description"], event.after["description"], event.reason) == ("old", "new", "rename")
    assert event.changed_fields == ["description"]


def test_an_update_that_changes_nothing_writes_no_row(eddie):
    account = AccountFactory(description="same")
    account_update(actor=eddie, account=account, description="same")
    assert not AuditEvent.objects.exists()


def test_account_delete_records_the_last_state_and_revokes_its_grants(eddie):
    membership = MembershipFactory(account=AccountFactory(name="old"))
    account_delete(actor=eddie, account=membership.account, reason="closed")
    account_event = only_event(object_type="account")
    assert (account_event.action, account_event.before["name"], account_event.after, account_event.reason) == (
        "delete",
        "old",
        None,
        "closed",
    )
    grant_event = only_event(object_type="membership")
    assert (grant_event.action, grant_event.before["account"], grant_event.reason) == ("delete", "old", "closed")
    assert not AssumableAccount.objects.exists()


def test_master_account_update_is_audited(eddie):
    MasterAccount.load()
    master_account_update(actor=eddie, reason="new region", region="eu-west-1")
    event = only_event(object_type="master account")
    assert (event.action, event.before["region"], event.after["region"], event.reason) == (
        "update",
        "us-east-1",
        "eu-west-1",
        "new region",
    )


# ---- roles and policies ---------------------------------------------------------------------


def test_role_create_is_audited_with_its_policies(eddie, people):
    role = role_create(
        actor=eddie, reason="auditors", logical_name="Auditor", policies=[{"name": "Read", "document": READ_ONLY}]
    )
    event = only_event(object_type="role")
    assert_actor(event, people.editor)
    assert (event.action, event.object_id, event.reason, event.before) == ("create", str(role.pk), "auditors", None)
    assert event.after["logical_name"] == "Auditor"
    assert event.after["policies"] == {"Read": READ_ONLY}


def test_role_update_records_before_and_after(eddie):
    role = RoleFactory(logical_name="Ops", require_mfa=True)
    role_update(actor=eddie, role=role, reason="break glass", require_mfa=False)
    event = only_event(object_type="role", action="update")
    assert (event.before["require_mfa"], event.after["require_mfa"], event.reason) == (True, False, "break glass")
    assert event.changed_fields == ["require_mfa"]


def test_role_delete_is_audited(eddie):
    role = RoleFactory(logical_name="Legacy")
    role_delete(actor=eddie, role=role, reason="unused")
    event = only_event(object_type="role")
    assert (event.action, event.before["logical_name"], event.after, event.reason) == ("delete", "Legacy", None, "unused")


def test_policy_create_update_delete_are_audited(eddie, people):
    role = RoleFactory(logical_name="Data")
    policy = policy_create(actor=eddie, role=role, name="S3", document=READ_ONLY, reason="read buckets")
    policy_update(actor=eddie, policy=policy, name="S3", document=WRITE_ONLY, reason="write too")
    policy_delete(actor=eddie, policy=InlinePolicy.objects.get(pk=policy.pk), reason="gone")
    created, updated, deleted = AuditEvent.objects.filter(object_type="policy").order_by("id")
    assert all(event.actor == people.editor for event in (created, updated, deleted))
    assert (created.action, created.before, created.after["document"], created.reason) == ("create", None, READ_ONLY, "read buckets")
    assert (updated.action, updated.before["document"], updated.after["document"], updated.reason) == (
        "update",
        READ_ONLY,
        WRITE_ONLY,
        "write too",
    )
    assert (deleted.action, deleted.before["name"], deleted.after, deleted.reason) == ("delete", "S3", None, "gone")
    assert created.object_repr == "Data/S3"


# ---- IAM users and memberships --------------------------------------------------------------


def test_iam_user_create_update_delete_are_audited(eddie, people):
    iam_user = iam_user_create(actor=eddie, user_name="dave", reason="joined")
    iam_user_update(actor=eddie, iam_user=iam_user, display_name="Dave D.", reason="name")
    iam_user_delete(actor=eddie, iam_user=IAMUser.objects.get(pk=iam_user.pk), reason="left")
    created, updated, deleted = AuditEvent.objects.filter(object_type="IAM user").order_by("id")
    assert {event.object_id for event in (created, updated, deleted)} == {str(iam_user.pk)}
    assert all(event.actor == people.editor for event in (created, updated, deleted))
    assert (created.action, created.before, created.after["user_name"], created.reason) == ("create", None, "dave", "joined")
    assert (updated.before["display_name"], updated.after["display_name"], updated.changed_fields) == ("", "Dave D.", ["display_name"])
    assert (deleted.action, deleted.before["display_name"], deleted.after, deleted.reason) == ("delete", "Dave D.", None, "left")


def test_membership_grant_and_revoke_are_audited(eddie, people):
    iam_user, account, role = IAMUserFactory(user_name="erin"), AccountFactory(name="prod"), RoleFactory(logical_name="Admin")
    membership = memberships_grant(actor=eddie, grants=[(iam_user, account, role)], reason="on call").created[0]
    membership_revoke(actor=Actor.from_user(people.other_editor), membership=membership, reason="rota ended")
    granted, revoked = AuditEvent.objects.filter(object_type="membership").order_by("id")
    assert (granted.action, granted.actor, granted.after["group"], granted.reason) == ("create", people.editor, "prod.Admin", "on call")
    assert (revoked.action, revoked.actor, revoked.before["group"], revoked.after, revoked.reason) == (
        "delete",
        people.other_editor,
        "prod.Admin",
        None,
        "rota ended",
    )
    assert granted.object_repr == "erin in prod.Admin"


# ---- console users --------------------------------------------------------------------------


def test_console_user_create_and_update_are_audited_without_passwords(people):
    admin = Actor.from_user(people.admin)
    user = console_user_create(actor=admin, username="zoe", email="zoe@example.com", groups=["Viewer"], password="a long enough passphrase")
    console_user_update(
        actor=admin, console_user=user, username="zoe", email="zoe@example.com", groups=["Viewer", "Editor"], password=""
    )
    created, updated = AuditEvent.objects.filter(object_type="console user").order_by("id")
    assert (created.action, created.actor, created.after["groups"], created.before) == ("create", people.admin, ["Viewer"], None)
    assert (updated.action, updated.before["groups"], updated.after["groups"]) == ("update", ["Viewer"], ["Editor", "Viewer"])
    for event in (created, updated):
        assert "password" not in (event.after or {}) and "password" not in (event.before or {})


def test_a_password_change_alone_is_audited_as_such(people):
    admin = Actor.from_user(people.admin)
    console_user_update(
        actor=admin,
        console_user=people.viewer,
        username="vera",
        email="vera@example.com",
        groups=["Viewer"],
        password="another long passphrase",
    )
    event = only_event(object_type="console user")
    assert (event.action, event.reason, event.changed_fields) == ("update", "Password changed", [])


# ---- the history itself ---------------------------------------------------------------------


def test_audit_rows_cannot_be_changed_or_deleted(eddie):
    iam_user_create(actor=eddie, user_name="frank")
    event = AuditEvent.objects.get()
    event.reason = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.get().reason == ""
