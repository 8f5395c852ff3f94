import pytest
from django.urls import reverse

from accounts.models import AssumableAccount, MasterAccount
from accounts.services import account_update
from audit.models import AuditEvent
from tests.factories import AccountFactory, MasterAccountFactory, MembershipFactory, RoleFactory
from tests.page_access import PageAccessTests, queries_for
from tests.state import desired_state

pytestmark = pytest.mark.django_db


READ_PAGES = ["accounts:list", "accounts:detail"]
WRITE_PAGES = ["accounts:create", "accounts:edit", "accounts:delete", "accounts:master_edit"]
NEEDS_ACCOUNT = {"accounts:detail", "accounts:edit", "accounts:delete"}


def page(name, account):
    return reverse(name, kwargs={"pk": account.pk} if name in NEEDS_ACCOUNT else {})


def account_data(**overrides):
    data = {
        "name": "prod",
        "account_id": "123456789012",
        "description": "Production",
        "profile": "prod",
        "role_arn": "",
        "external_id": "",
        "enabled": "on",
        "reason": "",
    }
    data.update(overrides)
    return data


def master_data(**overrides):
    data = {"account_id": "111111111111", "profile": "master", "region": "us-east-1", "stack_name": "RoleModel"}
    data.update(group_quota="300", reason="")
    data.update(overrides)
    return data


def field_errors(response, field="__all__"):
    return " ".join(response.context["form"].errors.get(field, []))


@pytest.fixture
def account(db):
    MasterAccountFactory()
    return AccountFactory(name="staging", account_id="222222222222", profile="staging")


# --- who may do what -------------------------------------------------------------------------


class TestAccountPageAccess(PageAccessTests):
    read_pages, write_pages, target_fixture = READ_PAGES, WRITE_PAGES, "account"
    url = staticmethod(page)

    def refused_post_data(self):
        return account_data(reason="sneaky")


def test_it_answers_404_for_an_unknown_account(people, client_for):
    assert client_for(people.viewer).get(reverse("accounts:detail", kwargs={"pk": 999})).status_code == 404


# --- list and detail -------------------------------------------------------------------------


def test_the_list_shows_how_each_account_is_reached_and_its_counts(people, client_for, account):
    by_role = AccountFactory(name="prod", profile="", role_arn="arn:aws:iam::333333333333:role/RoleModelAccess")
    everywhere, restricted = RoleFactory(logical_name="ReadOnly"), RoleFactory(logical_name="Admin", applies_to_all_accounts=False)
    restricted.accounts.add(by_role)
    MembershipFactory(account=by_role, role=everywhere)
    MembershipFactory(account=by_role, role=restricted)

    response = client_for(people.viewer).get(reverse("accounts:list"))

    rows = {row.name: row for row in response.context["accounts"]}
    assert rows["prod"].restricted_role_count + response.context["roles_for_all"] == 2
    assert rows["staging"].restricted_role_count + response.context["roles_for_all"] == 1
    assert rows["prod"].member_count == 2 and rows["staging"].member_count == 0
    content = response.content.decode()
    assert "arn:aws:iam::333333333333:role/RoleModelAccess" in content
    assert "profile <code>staging</code>" in content


def test_the_list_makes_as_many_queries_for_many_accounts_as_for_one(people, client_for, account):
    client = client_for(people.viewer)
    role = RoleFactory(applies_to_all_accounts=False)
    role.accounts.add(account)
    MembershipFactory(account=account, role=role)
    few = queries_for(client, reverse("accounts:list"))
    for _ in range(5):
        other = AccountFactory()
        role.accounts.add(other)
        MembershipFactory(account=other, role=role)
    assert queries_for(client, reverse("accounts:list")) == few


def test_the_detail_shows_the_roles_that_apply_and_their_members(people, client_for, account):
    everywhere = RoleFactory(logical_name="ReadOnly")
    elsewhere = RoleFactory(logical_name="Billing", applies_to_all_accounts=False)
    elsewhere.accounts.add(AccountFactory(name="finance"))
    membership = MembershipFactory(account=account, role=everywhere)

    response = client_for(people.viewer).get(reverse("accounts:detail", kwargs={"pk": account.pk}))

    assert [role.logical_name for role, _ in response.context["roles_with_members"]] == ["ReadOnly"]
    content = response.content.decode()
    assert "staging.ReadOnly" in content
    assert reverse("memberships:iam_user_detail", kwargs={"pk": membership.iam_user.pk}) in content
    assert "Billing" not in content


def test_the_history_tab_shows_who_changed_the_account_and_why(people, client_for, account, eddie):
    account_update(actor=eddie, account=account, description="Staging, shared", reason="Clarify ownership")
    response = client_for(people.viewer).get(reverse("accounts:detail", kwargs={"pk": account.pk}) + "?tab=history")
    assert [event.reason for event in response.context["history"]] == ["Clarify ownership"]
    assert "Clarify ownership" in response.content.decode()


# --- create, edit, delete ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["editor", "admin"])
def test_an_editor_or_admin_creates_an_account_and_it_is_audited(people, client_for, who):
    response = client_for(getattr(people, who)).post(reverse("accounts:create"), account_data(reason="New production account"))
    created = AssumableAccount.objects.get(name="prod")
    assert response.status_code == 302 and response.url == reverse("accounts:detail", kwargs={"pk": created.pk})
    assert created.account_id == "123456789012" and created.profile == "prod" and created.enabled
    event = AuditEvent.objects.get(object_type="account", action="create")
    assert event.actor_name == getattr(people, who).username and event.reason == "New production account"


def test_an_account_can_be_reached_through_a_role_arn_with_an_external_id(people, client_for):
    data = account_data(profile="", role_arn="arn:aws:iam::123456789012:role/RoleModelAccess", external_id="rolemodel-7")
    assert client_for(people.editor).post(reverse("accounts:create"), data).status_code == 302
    assert AssumableAccount.objects.get(name="prod").external_id == "rolemodel-7"


def test_an_editor_edits_an_account_and_the_change_is_audited(people, client_for, account):
    data = account_data(name="staging", account_id="222222222222", profile="staging-admin", enabled="", reason="New profile")
    response = client_for(people.editor).post(reverse("accounts:edit", kwargs={"pk": account.pk}), data)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.profile == "staging-admin" and not account.enabled
    event = AuditEvent.objects.get(object_type="account", action="update")
    assert event.before["profile"] == "staging" and event.after["profile"] == "staging-admin"
    assert event.reason == "New profile"


def test_the_edit_form_starts_from_the_saved_values(people, client_for, account):
    response = client_for(people.editor).get(reverse("accounts:edit", kwargs={"pk": account.pk}))
    assert response.context["form"].initial["account_id"] == "222222222222"


def test_the_delete_page_says_how_many_memberships_will_be_revoked(people, client_for, account):
    role = RoleFactory()
    MembershipFactory(account=account, role=role)
    MembershipFactory(account=account, role=role)
    response = client_for(people.editor).get(reverse("accounts:delete", kwargs={"pk": account.pk}))
    assert "2 memberships in this account will be revoked" in response.content.decode()


def test_deleting_an_account_needs_a_reason(people, client_for, account):
    MembershipFactory(account=account, role=RoleFactory())
    before = desired_state()
    response = client_for(people.editor).post(reverse("accounts:delete", kwargs={"pk": account.pk}), {"reason": "  "})
    assert response.status_code == 200
    assert field_errors(response, "reason")
    assert desired_state() == before


def test_deleting_an_account_revokes_its_memberships_and_audits_each(people, client_for, account):
    MembershipFactory(account=account, role=RoleFactory())
    response = client_for(people.editor).post(
        reverse("accounts:delete", kwargs={"pk": account.pk}), {"reason": "Account closed"}
    )
    assert response.status_code == 302 and response.url == reverse("accounts:list")
    assert not AssumableAccount.objects.filter(pk=account.pk).exists()
    events = AuditEvent.objects.filter(reason="Account closed")
    assert sorted(events.values_list("object_type", "action")) == [("account", "delete"), ("membership", "delete")]


def test_an_editor_edits_the_master_account_and_it_is_audited(people, client_for, account):
    data = master_data(account_id="999999999999", profile="", region="eu-west-1", stack_name="RoleModel-v2")
    data.update(group_quota="500", reason="Quota raised")
    response = client_for(people.editor).post(reverse("accounts:master_edit"), data)
    assert response.status_code == 302
    master = MasterAccount.load()
    saved = (master.account_id, master.region, master.stack_name, master.group_quota)
    assert saved == ("999999999999", "eu-west-1", "RoleModel-v2", 500)
    event = AuditEvent.objects.get(object_type="master account")
    assert event.before["group_quota"] == 300 and event.after["group_quota"] == 500 and event.reason == "Quota raised"


# --- bad input changes nothing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"name": "prod account"}, "name", "may use only letters"),
        ({"name": "prod/eu"}, "name", "'/'"),
        ({"name": "a" * 127}, "name", "at most 126"),
        ({"name": "prod.eu"}, "name", "cannot contain “.”"),
        ({"account_id": "12345678901"}, "account_id", "exactly 12 digits"),
        ({"account_id": "1234567890123"}, "account_id", "exactly 12 digits"),
        ({"account_id": "12345678901x"}, "account_id", "exactly 12 digits"),
        ({"profile": "prod", "role_arn": "arn:aws:iam::123456789012:role/Access"}, "role_arn", "not both"),
        ({"profile": "", "role_arn": ""}, "profile", "named profile or a role ARN"),
        ({"profile": "", "role_arn": "arn:aws:iam::1234:role/Access"}, "role_arn", "not an IAM role ARN"),
        ({"profile": "", "role_arn": "arn:aws:s3:::bucket"}, "role_arn", "not an IAM role ARN"),
        ({"external_id": "abc123"}, "external_id", "only with a role ARN"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_it_refuses_a_bad_account_and_changes_nothing(people, client_for, account, overrides, field, message):
    before = desired_state()
    response = client_for(people.editor).post(reverse("accounts:create"), account_data(**overrides))
    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert desired_state() == before


def test_it_refuses_an_account_name_that_differs_from_another_only_in_case(people, client_for, account):
    before = desired_state()
    response = client_for(people.editor).post(reverse("accounts:create"), account_data(name="STAGING"))
    assert "already exists" in field_errors(response, "name")
    assert desired_state() == before


def test_it_refuses_renaming_an_account_onto_another_account_name(people, client_for, account):
    other = AccountFactory(name="prod")
    before = desired_state()
    data = account_data(name="Staging", account_id=other.account_id, profile=other.profile)
    response = client_for(people.editor).post(reverse("accounts:edit", kwargs={"pk": other.pk}), data)
    assert "already exists" in field_errors(response, "name")
    assert desired_state() == before


def test_it_refuses_an_account_id_another_account_has(people, client_for, account):
    before = desired_state()
    response = client_for(people.editor).post(reverse("accounts:create"), account_data(account_id="222222222222"))
    assert "already has this account id" in response.content.decode()
    assert desired_state() == before


def test_it_refuses_an_account_whose_group_names_would_pass_128_characters(people, client_for, account):
    RoleFactory(logical_name="R" * 60)
    before = desired_state()
    response = client_for(people.editor).post(reverse("accounts:create"), account_data(name="a" * 70))
    assert response.status_code == 200
    assert "IAM group names are at most 128" in field_errors(response)
    assert desired_state() == before


def test_it_refuses_an_account_that_would_exceed_the_group_quota(people, client_for, account):
    MasterAccount.objects.filter(pk=1).update(group_quota=2)
    RoleFactory.create_batch(2)
    before = desired_state()
    response = client_for(people.editor).post(reverse("accounts:create"), account_data())
    assert "its quota is 2" in field_errors(response)
    assert desired_state() == before


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"group_quota": "501"}, "group_quota", "between 1 and 500"),
        ({"group_quota": "0"}, "group_quota", "between 1 and 500"),
        ({"group_quota": "many"}, "group_quota", "whole number"),
        ({"account_id": "11111111111"}, "account_id", "exactly 12 digits"),
        ({"stack_name": "1-Stack"}, "stack_name", "starts with a letter"),
        ({"stack_name": "Role_Model"}, "stack_name", "letters, digits and hyphens"),
    ],
)
def test_it_refuses_bad_master_account_settings_and_changes_nothing(people, client_for, account, overrides, field, message):
    data = master_data(**overrides)
    before = desired_state()
    response = client_for(people.editor).post(reverse("accounts:master_edit"), data)
    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert desired_state() == before


def test_it_refuses_a_group_quota_below_the_groups_already_needed(people, client_for, account):
    AccountFactory()
    RoleFactory.create_batch(2)
    data = master_data(group_quota="3")
    before = desired_state()
    response = client_for(people.editor).post(reverse("accounts:master_edit"), data)
    assert "need 4 IAM groups" in field_errors(response) and "its quota is 3" in field_errors(response)
    assert desired_state() == before


# --- Django admin: look, never touch ---------------------------------------------------------


@pytest.mark.parametrize("model", ["assumableaccount", "masteraccount"])
def test_the_django_admin_shows_accounts_but_refuses_every_change(people, client_for, account, model):
    client = client_for(people.superuser)
    obj = account if model == "assumableaccount" else MasterAccount.load()
    before = desired_state()
    assert client.get(reverse(f"admin:accounts_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:accounts_{model}_change", args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"admin:accounts_{model}_add")).status_code == 403
    assert client.post(reverse(f"admin:accounts_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse(f"admin:accounts_{model}_change", args=[obj.pk]), {"name": "changed"}).status_code == 403
    assert desired_state() == before
