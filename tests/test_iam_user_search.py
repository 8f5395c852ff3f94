"""Choosing an IAM user among thousands: a search box with at most 20 server-side suggestions (htmx),
a plain text input for names without JavaScript, and pages whose weight does not grow with the users."""
import random

import pytest
from django.urls import reverse

from memberships.models import IAMUser, Membership
from tests.factories import AccountFactory, IAMUserFactory, MembershipFactory, RoleFactory

pytestmark = pytest.mark.django_db

SUGGESTIONS = reverse("memberships:iam_user_suggestions")


def suggested(client, **params) -> list[str]:
    return suggested_at(client, SUGGESTIONS, **params)


@pytest.fixture
def many_users():
    IAMUser.objects.bulk_create(IAMUser(user_name=f"user{index:04d}", display_name=f"Person {index:04d}")
                                for index in range(60))
    return [IAMUserFactory(user_name="ada", display_name="Ada Lovelace"),
            IAMUserFactory(user_name="grace", display_name="Grace Hopper, admiral of the adage")]


def test_it_suggests_at_most_20_users_whose_name_starts_with_the_text_first(client_for, people, many_users):
    client = client_for(people.viewer)
    assert suggested(client, q="user") == [f"user{index:04d}" for index in range(20)]
    assert suggested(client, q="USER005") == [f"user{index:04d}" for index in range(50, 60)]
    # "ada" starts one user name; a display name contains it too.
    assert suggested(client, q="ada") == ["ada", "grace"]
    assert suggested(client, q="lovelace") == ["ada"]


def test_it_suggests_for_the_name_being_typed_into_a_field_of_several_names(client_for, people, many_users):
    client = client_for(people.editor)
    assert suggested(client, field="users", users="grace, ad") == ["ada", "grace"]
    assert suggested(client, field="users", users="grace,user0059") == ["user0059"]
    assert suggested(client, field="users", users="grace, ") == []
    assert suggested(client, field="user", user="gra") == ["grace"]


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 70}, {"q": "x" * 50_000}, {"q": "ad\x00a"},
                                    {"field": "nonsense", "q": "ada"}, {"q": "%"}, {"q": "_"}, {"q": "' OR 1=1 --"}])
def test_bad_or_empty_text_gets_an_empty_list_not_an_error(client_for, people, many_users, params):
    response = client_for(people.viewer).get(SUGGESTIONS, params)
    assert response.status_code == 200
    assert b"data-suggestion=" not in response.content


def test_a_text_nobody_matches_says_so(client_for, people, many_users):
    body = client_for(people.viewer).get(SUGGESTIONS, {"q": "zed"}).content.decode()
    assert "No IAM user matches “zed”." in body and "data-suggestion" not in body


def test_suggestions_are_escaped(client_for, people):
    IAMUserFactory(user_name="eve", display_name='<script>alert("x")</script>')
    body = client_for(people.viewer).get(SUGGESTIONS, {"q": "eve"}).content.decode()
    assert "<script>" not in body and "&lt;script&gt;" in body
    body = client_for(people.viewer).get(SUGGESTIONS, {"q": '<b>"'}).content.decode()
    assert "<b>" not in body and "&lt;b&gt;" in body


def test_the_grant_form_is_a_search_box_not_a_list_of_every_user(client_for, people, many_users):
    body = client_for(people.editor).get(reverse("memberships:add")).content.decode()
    assert "user0042" not in body
    assert f'hx-get="{SUGGESTIONS}?field=users"' in body and 'data-multiple="true"' in body
    body = client_for(people.viewer).get(reverse("memberships:list")).content.decode()
    assert "user0042" not in body and f'hx-get="{SUGGESTIONS}?field=user"' in body


def test_a_grant_typed_by_hand_without_javascript_is_validated_and_made(client_for, people, many_users):
    account, role = AccountFactory(name="prod"), RoleFactory(logical_name="Admin")
    client = client_for(people.editor)
    refused = client.post(reverse("memberships:add"), {"users": "ada, adam", "groups": [f"{account.pk}:{role.pk}"],
                                                       "reason": "on call"})
    assert refused.status_code == 200
    assert "No IAM user is named “adam”: pick a name from the suggestions" in refused.content.decode()
    assert 'value="ada, adam"' in refused.content.decode()  # what was typed stays
    assert not Membership.objects.exists()

    granted = client.post(reverse("memberships:add"), {"users": "ADA grace,ada", "groups": [f"{account.pk}:{role.pk}"],
                                                       "reason": "on call"})
    assert granted.status_code == 302
    assert sorted(Membership.objects.values_list("iam_user__user_name", flat=True)) == ["ada", "grace"]


def test_the_memberships_filter_explains_an_unknown_or_second_name(client_for, people, many_users):
    client = client_for(people.viewer)
    for name, message in [("adam", "No IAM user is named “adam”"), ("ada grace", "Type one IAM user name.")]:
        response = client.get(reverse("memberships:list"), {"user": name})
        assert response.status_code == 200
        assert message in response.content.decode() and "Fix the filters above" in response.content.decode()


def test_the_memberships_list_weighs_at_most_40_kb_with_2000_users_and_5000_memberships(client_for, people):
    accounts = AccountFactory.create_batch(50)
    roles = RoleFactory.create_batch(10)
    iam_users = IAMUser.objects.bulk_create(
        IAMUser(user_name=f"user{index:04d}", display_name=f"User {index:04d}", email=f"user{index:04d}@example.com")
        for index in range(2_000)
    )
    rng = random.Random(11)
    groups = [(account, role) for account in accounts for role in roles]
    memberships = [
        Membership(iam_user=iam_user, account=account, role=role, reason="Benchmark access", requested_by_name="eddie")
        for position, iam_user in enumerate(iam_users)
        for account, role in rng.sample(groups, 3 if position < 1_000 else 2)
    ]
    Membership.objects.bulk_create(memberships)
    assert Membership.objects.count() == 5_000
    client = client_for(people.editor)
    for params in [{}, {"page": 50}, {"account": accounts[7].pk, "role": roles[3].pk}, {"user": "user0042"}]:
        response = client.get(reverse("memberships:list"), params)
        assert response.status_code == 200
        assert len(response.content) <= 40 * 1024, (params, len(response.content))
    assert len(client.get(reverse("memberships:add")).content) <= 40 * 1024


def test_the_add_grants_link_of_an_iam_user_preselects_them_by_name(client_for, people):
    iam_user = IAMUserFactory(user_name="lee.support")
    MembershipFactory(iam_user=iam_user)
    body = client_for(people.editor).get(reverse("memberships:iam_user_detail", args=[iam_user.pk])).content.decode()
    link = f'{reverse("memberships:add")}?user=lee.support'
    assert link in body
    response = client_for(people.editor).get(link)
    assert 'value="lee.support"' in response.content.decode()


def test_accounts_are_a_search_box_too_on_the_memberships_list(client_for, people):
    prod = AccountFactory(name="prod", account_id="123456789012")
    AccountFactory(name="preprod", account_id="210987654321")
    AccountFactory(name="sandbox", account_id="999999999999")
    client = client_for(people.viewer)
    suggestions = reverse("accounts:suggestions")
    assert suggested_at(client, suggestions, field="account", account="pr") == ["preprod", "prod"]
    assert suggested_at(client, suggestions, field="account", account="prod") == ["prod", "preprod"]
    assert suggested_at(client, suggestions, q="1234") == ["prod"]  # by account id
    for bad in ["", "x" * 500, "pr\x07od"]:
        assert suggested_at(client, suggestions, q=bad) == []

    body = client.get(reverse("memberships:list")).content.decode()
    assert f'hx-get="{suggestions}?field=account"' in body and "sandbox" not in body
    MembershipFactory(account=prod)
    assert len(client.get(reverse("memberships:list"), {"account": "PROD"}).context["page_obj"]) == 1
    refused = client.get(reverse("memberships:list"), {"account": "prodd"}).content.decode()
    assert "No account is named “prodd”" in refused


def suggested_at(client, url, **params) -> list[str]:
    response = client.get(url, params)
    assert response.status_code == 200
    return [button.split('"', 1)[0] for button in response.content.decode().split('data-suggestion="')[1:]]
