import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core import limits
from roles.models import InlinePolicy, RoleDefinition
from roles.services import policy_create, policy_delete, role_update
from tests.factories import READ_ONLY, AccountFactory, MasterAccountFactory, MembershipFactory, PolicyFactory, RoleFactory, role_form_data
from tests.page_access import PageAccessTests, queries_for
from tests.state import desired_state

pytestmark = pytest.mark.django_db

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}



@pytest.fixture
def role(db):
    MasterAccountFactory()
    role = RoleFactory(logical_name="ReadOnly", managed_policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"])
    PolicyFactory(role=role, name="S3Read")
    return role


READ_PAGES = ["roles:list", "roles:detail"]
WRITE_PAGES = ["roles:create", "roles:edit", "roles:delete", "roles:policy_create", "roles:policy_edit", "roles:policy_delete"]


def page(name, role):
    if name in ("roles:list", "roles:create"):
        return reverse(name)
    if name in ("roles:policy_edit", "roles:policy_delete"):
        return reverse(name, kwargs={"pk": role.pk, "policy_pk": role.policies.get().pk})
    return reverse(name, kwargs={"pk": role.pk})


def role_data(**overrides):
    return role_form_data(**{"description": "Full access", **overrides})


# --- who may do what -------------------------------------------------------------------------


class TestRolePageAccess(PageAccessTests):
    read_pages, write_pages, target_fixture = READ_PAGES, WRITE_PAGES, "role"
    url = staticmethod(page)

    def refused_post_data(self):
        return {**role_data(), "name": "X", "document": json.dumps(READ_ONLY), "reason": "r"}


def test_it_answers_404_for_a_policy_of_another_role(people, client_for, role):
    stranger = PolicyFactory()
    url = reverse("roles:policy_edit", kwargs={"pk": role.pk, "policy_pk": stranger.pk})
    assert client_for(people.editor).get(url).status_code == 404


# --- list and detail -------------------------------------------------------------------------


def test_the_list_shows_each_roles_settings_and_counts(people, client_for, role):
    prod = AccountFactory(name="prod")
    admin = RoleFactory(logical_name="Admin", require_mfa=False, max_session_duration=7200, applies_to_all_accounts=False)
    admin.accounts.add(prod)
    MembershipFactory(account=prod, role=admin)

    response = client_for(people.viewer).get(reverse("roles:list"))

    rows = {row.logical_name: row for row in response.context["roles"]}
    assert (rows["ReadOnly"].policy_count, rows["ReadOnly"].member_count) == (1, 0)
    assert (rows["Admin"].policy_count, rows["Admin"].member_count) == (0, 1)
    content = response.content.decode()
    assert "All accounts" in content and "prod" in content
    assert "not required" in content and "7200 s" in content


def test_the_list_makes_as_many_queries_for_many_roles_as_for_one(people, client_for, role):
    client = client_for(people.viewer)
    few = queries_for(client, reverse("roles:list"))
    account = AccountFactory()
    for _ in range(5):
        restricted = RoleFactory(applies_to_all_accounts=False)
        restricted.accounts.add(account, AccountFactory())
        PolicyFactory(role=restricted)
        MembershipFactory(account=account, role=restricted)
    assert queries_for(client, reverse("roles:list")) == few


def test_the_detail_shows_policies_as_json_with_their_size(people, client_for, role):
    response = client_for(people.viewer).get(reverse("roles:detail", kwargs={"pk": role.pk}))
    content = response.content.decode()
    policy = role.policies.get()
    assert json.dumps(policy.document, indent=2).replace('"', "&quot;") in content
    assert f"{policy.size} of 10240 characters" in content
    assert "arn:aws:iam::aws:policy/ReadOnlyAccess" in content
    assert "only sessions signed in with MFA" in content
    assert "arn:aws:iam::111111111111:root" in content


def test_the_detail_shows_warnings_for_a_role_without_mfa_allowing_everything(people, client_for, role):
    risky = RoleFactory(logical_name="Break", require_mfa=False)
    PolicyFactory(role=risky, name="Everything", document=ALLOW_ALL)
    response = client_for(people.viewer).get(reverse("roles:detail", kwargs={"pk": risky.pk}))
    assert response.context["warnings"] == [
        "The trust policy does not require MFA.",
        "Policy Everything allows every action (*) on every resource (*).",
    ]
    assert 'class="warning">The trust policy does not require MFA.' in response.content.decode()


def test_the_history_tab_shows_the_role_and_its_policies_changes(people, client_for, role, eddie):
    role_update(actor=eddie, role=role, description="Read everything", reason="Describe it")
    added = policy_create(actor=eddie, role=role, name="Logs", document=READ_ONLY, reason="Read logs")
    policy_delete(actor=eddie, policy=added, reason="Not needed")
    similar = RoleFactory(logical_name="ReadOnlyToo")
    policy_create(actor=eddie, role=similar, name="Other", document=READ_ONLY, reason="Elsewhere")

    response = client_for(people.viewer).get(reverse("roles:detail", kwargs={"pk": role.pk}) + "?tab=history")

    assert [event.reason for event in response.context["history"]] == ["Not needed", "Read logs", "Describe it"]
    assert "ReadOnly/Logs" in response.content.decode()


def test_the_history_keeps_policy_rows_after_the_role_is_renamed(people, client_for, role, eddie):
    policy_create(actor=eddie, role=role, name="Logs", document=READ_ONLY, reason="Read logs")
    role_update(actor=eddie, role=role, logical_name="Reader", reason="Rename")
    response = client_for(people.viewer).get(reverse("roles:detail", kwargs={"pk": role.pk}) + "?tab=history")
    assert [event.reason for event in response.context["history"]] == ["Rename", "Read logs"]


def test_the_cloudformation_preview_renders_the_chosen_accounts_template(people, client_for, role):
    prod, dev = AccountFactory(name="prod"), AccountFactory(name="dev")
    prod_only = RoleFactory(logical_name="ProdAdmin", applies_to_all_accounts=False)
    prod_only.accounts.add(prod)
    url = reverse("roles:detail", kwargs={"pk": role.pk})
    client = client_for(people.viewer)

    for account, expected in ((prod, {"ProdAdmin", "ReadOnly", "ReadOnlyS3ReadPolicy"}), (dev, {"ReadOnly", "ReadOnlyS3ReadPolicy"})):
        response = client.get(url, {"account": account.pk})
        assert response.context["tab"] == "cloudformation"
        template = json.loads(response.context["preview_json"])
        assert set(template["Resources"]) == expected
        assert response.context["preview_problems"] == []
        assert "Within the stack limits" in response.content.decode()


def test_the_cloudformation_preview_starts_with_an_account_the_role_applies_to(people, client_for, role):
    AccountFactory(name="alpha")
    beta = AccountFactory(name="beta")
    restricted = RoleFactory(logical_name="BetaOnly", applies_to_all_accounts=False)
    restricted.accounts.add(beta)
    response = client_for(people.viewer).get(reverse("roles:detail", kwargs={"pk": restricted.pk}), {"tab": "cloudformation"})
    assert response.context["preview_account"] == beta
    assert "BetaOnly" in json.loads(response.context["preview_json"])["Resources"]


def test_the_cloudformation_preview_says_when_the_role_is_not_in_that_account(people, client_for, role):
    alpha, beta = AccountFactory(name="alpha"), AccountFactory(name="beta")
    restricted = RoleFactory(logical_name="BetaOnly", applies_to_all_accounts=False)
    restricted.accounts.add(beta)
    response = client_for(people.viewer).get(reverse("roles:detail", kwargs={"pk": restricted.pk}), {"account": alpha.pk})
    assert "BetaOnly does not apply to alpha" in response.content.decode()


@pytest.mark.parametrize("value", ["999999", "prod", "1 OR 1=1"])
def test_the_cloudformation_preview_explains_an_unknown_account(people, client_for, role, value):
    AccountFactory()
    response = client_for(people.viewer).get(reverse("roles:detail", kwargs={"pk": role.pk}), {"account": value})
    assert response.status_code == 200
    assert response.context["preview_account"] is None
    assert "Select a valid choice" in response.content.decode()


def test_the_cloudformation_preview_lists_template_problems(people, client_for, role, monkeypatch):
    account = AccountFactory()
    RoleFactory.create_batch(3, description="x" * 1000)
    # Reaching the real 51,200-byte limit takes many roles; a lower limit shows the same message.
    monkeypatch.setattr(limits, "TEMPLATE_BODY_BYTES_MAX", 2_000)
    response = client_for(people.viewer).get(reverse("roles:detail", kwargs={"pk": role.pk}), {"account": account.pk})
    assert any("CloudFormation accepts at most 2,000 bytes" in problem for problem in response.context["preview_problems"])
    assert "CloudFormation accepts at most 2,000 bytes" in response.content.decode()


# --- create, edit, delete ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["editor", "admin"])
def test_an_editor_or_admin_creates_a_role_and_it_is_audited(people, client_for, role, who):
    data = role_data(
        managed_policy_arns="arn:aws:iam::aws:policy/AdministratorAccess\n\n",
        tags="team=platform\ncost-center = 42",
        permissions_boundary_arn="arn:aws:iam::123456789012:policy/Boundary",
        reason="Admins need a role",
    )
    response = client_for(getattr(people, who)).post(reverse("roles:create"), data)
    created = RoleDefinition.objects.get(logical_name="Admin")
    assert response.status_code == 302 and response.url == reverse("roles:detail", kwargs={"pk": created.pk})
    assert created.managed_policy_arns == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert created.tags == {"team": "platform", "cost-center": "42"}
    assert created.require_mfa and created.applies_to_all_accounts
    event = AuditEvent.objects.get(object_type="role", action="create")
    assert event.actor_name == getattr(people, who).username and event.reason == "Admins need a role"


def test_a_new_role_can_be_restricted_to_some_accounts(people, client_for, role):
    prod, _ = AccountFactory(name="prod"), AccountFactory(name="dev")
    data = role_data(applies_to_all_accounts=None, accounts=[prod.pk], require_mfa=None)
    assert client_for(people.editor).post(reverse("roles:create"), data).status_code == 302
    created = RoleDefinition.objects.get(logical_name="Admin")
    assert not created.applies_to_all_accounts and not created.require_mfa
    assert list(created.accounts.all()) == [prod]


def test_the_new_role_form_requires_mfa_and_all_accounts_by_default(people, client_for, role):
    form = client_for(people.editor).get(reverse("roles:create")).context["form"]
    assert form["require_mfa"].value() is True
    assert form["applies_to_all_accounts"].value() is True
    assert form["max_session_duration"].value() == 3600


def test_the_edit_form_starts_from_the_saved_values(people, client_for, role):
    RoleDefinition.objects.filter(pk=role.pk).update(tags={"b": "2", "a": "1"})
    form = client_for(people.editor).get(reverse("roles:edit", kwargs={"pk": role.pk})).context["form"]
    assert form.initial["managed_policy_arns"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert form.initial["tags"] == "a=1\nb=2"


def test_an_editor_edits_a_role_and_the_change_is_audited(people, client_for, role):
    data = role_data(logical_name="ReadOnly", max_session_duration="7200", reason="Longer sessions",
                     managed_policy_arns="arn:aws:iam::aws:policy/ReadOnlyAccess")
    response = client_for(people.editor).post(reverse("roles:edit", kwargs={"pk": role.pk}), data)
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.max_session_duration == 7200
    event = AuditEvent.objects.get(object_type="role", action="update")
    assert (event.before["max_session_duration"], event.after["max_session_duration"]) == (3600, 7200)
    assert event.reason == "Longer sessions"


def test_restricting_a_role_revokes_memberships_in_other_accounts(people, client_for, role):
    prod, dev = AccountFactory(name="prod"), AccountFactory(name="dev")
    MembershipFactory(account=prod, role=role)
    stranded = MembershipFactory(account=dev, role=role)
    data = role_data(logical_name="ReadOnly", applies_to_all_accounts=None, accounts=[prod.pk], reason="Prod only",
                     managed_policy_arns="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert client_for(people.editor).post(reverse("roles:edit", kwargs={"pk": role.pk}), data).status_code == 302
    assert list(role.memberships.values_list("account__name", flat=True)) == ["prod"]
    assert AuditEvent.objects.filter(object_type="membership", action="delete", object_id=str(stranded.pk)).exists()


def test_the_delete_page_says_how_many_memberships_will_be_revoked(people, client_for, role):
    MembershipFactory(role=role)
    response = client_for(people.editor).get(reverse("roles:delete", kwargs={"pk": role.pk}))
    assert "1 membership of this role will be revoked" in response.content.decode()


def test_deleting_a_role_needs_a_reason(people, client_for, role):
    before = desired_state()
    response = client_for(people.editor).post(reverse("roles:delete", kwargs={"pk": role.pk}), {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert desired_state() == before


def test_deleting_a_role_revokes_its_memberships_and_audits_each(people, client_for, role):
    MembershipFactory(role=role)
    response = client_for(people.editor).post(reverse("roles:delete", kwargs={"pk": role.pk}), {"reason": "Retired"})
    assert response.status_code == 302 and response.url == reverse("roles:list")
    assert not RoleDefinition.objects.filter(pk=role.pk).exists()
    events = AuditEvent.objects.filter(reason="Retired")
    assert sorted(events.values_list("object_type", "action")) == [("membership", "delete"), ("role", "delete")]


def test_an_editor_adds_a_policy_and_it_is_audited(people, client_for, role):
    text = '{"Version": "2012-10-17",\n "Statement": {"Effect": "Allow", "Action": "logs:Get*", "Resource": "*"}}'
    data = {"name": "Logs", "document": text, "reason": "Read logs"}
    response = client_for(people.editor).post(reverse("roles:policy_create", kwargs={"pk": role.pk}), data)
    assert response.status_code == 302 and response.url == reverse("roles:detail", kwargs={"pk": role.pk})
    policy = role.policies.get(name="Logs")
    assert policy.document["Statement"]["Action"] == "logs:Get*"
    event = AuditEvent.objects.get(object_type="policy", action="create")
    assert event.object_repr == "ReadOnly/Logs" and event.reason == "Read logs" and event.actor_name == "eddie"


def test_the_policy_form_shows_the_saved_document_pretty_printed(people, client_for, role):
    policy = role.policies.get()
    form = client_for(people.editor).get(page("roles:policy_edit", role)).context["form"]
    assert form.initial["document"] == json.dumps(policy.document, indent=2)


def test_an_editor_edits_a_policy_and_it_is_audited(people, client_for, role):
    policy = role.policies.get()
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    data = {"name": "S3Read", "document": json.dumps(document), "reason": "Narrower"}
    assert client_for(people.editor).post(page("roles:policy_edit", role), data).status_code == 302
    policy.refresh_from_db()
    assert policy.document == document
    event = AuditEvent.objects.get(object_type="policy", action="update")
    assert event.before["document"] == READ_ONLY and event.after["document"] == document


def test_an_editor_removes_a_policy_and_it_is_audited(people, client_for, role):
    policy = role.policies.get()
    response = client_for(people.editor).post(page("roles:policy_delete", role), {"reason": "Unused"})
    assert response.status_code == 302
    assert not InlinePolicy.objects.filter(pk=policy.pk).exists()
    event = AuditEvent.objects.get(object_type="policy", action="delete")
    assert event.before["name"] == "S3Read" and event.reason == "Unused"


# --- Django admin: look, never touch ---------------------------------------------------------


@pytest.mark.parametrize("model", ["roledefinition", "inlinepolicy"])
def test_the_django_admin_shows_roles_but_refuses_every_change(people, client_for, role, model):
    client = client_for(people.superuser)
    obj = role if model == "roledefinition" else role.policies.get()
    before = desired_state()
    assert client.get(reverse(f"admin:roles_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:roles_{model}_change", args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"admin:roles_{model}_add")).status_code == 403
    assert client.post(reverse(f"admin:roles_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert desired_state() == before
