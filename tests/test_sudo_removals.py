"""Sudo mode for every change that removes access or a definition: deleting a policy or an IAM user,
removing a membership, disabling an account and narrowing the accounts a role applies to ask for the
password again unless it was given in the last ten minutes; nothing changes (and no audit row is
written) until it is, and the same request works once it is.
"""
import pytest
from django.urls import reverse

from accounts.models import AssumableAccount
from audit.models import AuditEvent
from memberships.models import IAMUser, Membership
from roles.models import InlinePolicy, RoleDefinition
from tests.factories import AccountFactory, IAMUserFactory, MasterAccountFactory, MembershipFactory, PolicyFactory, RoleFactory, role_form_data
from tests.sudo_mode import confirm, sent_to_confirmation

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    MasterAccountFactory()
    prod, dev = AccountFactory(name="prod"), AccountFactory(name="dev")
    role = RoleFactory(logical_name="Admin")
    return {"prod": prod, "dev": dev, "role": role}


def _audit_rows() -> int:
    return AuditEvent.objects.exclude(action__in=("login", "login_failed", "logout")).count()


def test_deleting_a_policy_asks_first_then_works(stale_editor, world):
    policy = PolicyFactory(role=world["role"])
    url = reverse("roles:policy_delete", args=[world["role"].pk, policy.pk])
    rows = _audit_rows()

    assert sent_to_confirmation(stale_editor.get(url), url)
    assert sent_to_confirmation(stale_editor.post(url, {"reason": "unused"}), url)
    assert InlinePolicy.objects.filter(pk=policy.pk).exists() and _audit_rows() == rows

    confirm(stale_editor, url)
    assert stale_editor.post(url, {"reason": "unused"}).status_code == 302
    assert not InlinePolicy.objects.filter(pk=policy.pk).exists()


def test_deleting_an_iam_user_asks_first_then_works(stale_editor, world):
    iam_user = IAMUserFactory(user_name="alice")
    MembershipFactory(iam_user=iam_user, account=world["prod"], role=world["role"])
    url = reverse("memberships:iam_user_delete", args=[iam_user.pk])
    back = reverse("memberships:iam_user_detail", args=[iam_user.pk])
    rows = _audit_rows()

    assert sent_to_confirmation(stale_editor.post(url, {"reason": "left"}), back)
    assert IAMUser.objects.filter(pk=iam_user.pk).exists() and Membership.objects.count() == 1
    assert _audit_rows() == rows

    confirm(stale_editor, back)
    assert stale_editor.post(url, {"reason": "left"}).status_code == 302
    assert not IAMUser.objects.filter(pk=iam_user.pk).exists()


def test_removing_a_membership_asks_first_and_comes_back_to_the_page_of_the_button(stale_editor, world):
    grant = MembershipFactory(account=world["prod"], role=world["role"])
    url = reverse("memberships:remove", args=[grant.pk])
    page = reverse("memberships:iam_user_detail", args=[grant.iam_user.pk])
    rows = _audit_rows()

    assert sent_to_confirmation(stale_editor.post(url, {"reason": "left", "next": page}), page)
    assert sent_to_confirmation(stale_editor.post(url, {"reason": "left", "next": "foo"}), reverse("memberships:list"))
    assert Membership.objects.filter(pk=grant.pk).exists() and _audit_rows() == rows

    confirm(stale_editor, page)
    assert stale_editor.post(url, {"reason": "left", "next": page})["Location"] == page
    assert not Membership.objects.filter(pk=grant.pk).exists()


def _account_data(account: AssumableAccount, **changes) -> dict:
    data = {"name": account.name, "account_id": account.account_id, "description": "", "profile": account.profile,
            "role_arn": "", "external_id": "", "enabled": "on", "reason": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_disabling_an_account_asks_first_then_works(stale_editor, world):
    account = world["prod"]
    url = reverse("accounts:edit", args=[account.pk])
    rows = _audit_rows()

    response = stale_editor.post(url, _account_data(account, enabled=None))

    assert sent_to_confirmation(response, url)
    assert AssumableAccount.objects.get(pk=account.pk).enabled and _audit_rows() == rows
    confirm(stale_editor, url)
    assert stale_editor.post(url, _account_data(account, enabled=None)).status_code == 302
    assert not AssumableAccount.objects.get(pk=account.pk).enabled


def test_other_account_edits_and_enabling_do_not_ask(stale_editor, world):
    account = world["prod"]
    url = reverse("accounts:edit", args=[account.pk])
    assert stale_editor.post(url, _account_data(account, description="Production")).status_code == 302
    AssumableAccount.objects.filter(pk=account.pk).update(enabled=False)
    assert stale_editor.post(url, _account_data(account)).status_code == 302
    assert AssumableAccount.objects.get(pk=account.pk).enabled


def test_narrowing_a_role_from_all_accounts_asks_first_then_works(stale_editor, world):
    role = world["role"]
    url = reverse("roles:edit", args=[role.pk])
    narrowed = role_form_data(applies_to_all_accounts=None, accounts=[world["prod"].pk])
    rows = _audit_rows()

    assert sent_to_confirmation(stale_editor.post(url, narrowed), url)
    assert RoleDefinition.objects.get(pk=role.pk).applies_to_all_accounts and _audit_rows() == rows

    confirm(stale_editor, url)
    assert stale_editor.post(url, narrowed).status_code == 302
    assert not RoleDefinition.objects.get(pk=role.pk).applies_to_all_accounts


def test_taking_one_account_away_from_a_role_asks_but_adding_one_does_not(stale_editor, world):
    role = world["role"]
    role.applies_to_all_accounts = False
    role.save()
    role.accounts.set([world["prod"]])
    url = reverse("roles:edit", args=[role.pk])

    widened = role_form_data(applies_to_all_accounts=None, accounts=[world["prod"].pk, world["dev"].pk])
    assert stale_editor.post(url, widened).status_code == 302
    assert set(RoleDefinition.objects.get(pk=role.pk).accounts.all()) == {world["prod"], world["dev"]}

    swapped = role_form_data(applies_to_all_accounts=None, accounts=[world["dev"].pk])
    assert sent_to_confirmation(stale_editor.post(url, swapped), url)
    assert set(RoleDefinition.objects.get(pk=role.pk).accounts.all()) == {world["prod"], world["dev"]}

    assert stale_editor.post(url, role_form_data()).status_code == 302  # back to all accounts: widening
    assert RoleDefinition.objects.get(pk=role.pk).applies_to_all_accounts
