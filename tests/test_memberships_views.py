from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from memberships.models import IAMUser, Membership
from tests.factories import AccountFactory, IAMUserFactory, MembershipFactory, RoleFactory
from tests.page_access import queries_for

pytestmark = pytest.mark.django_db



@dataclass
class World:
    prod: object
    dev: object
    admin_role: object
    read_only: object
    billing: object  # applies to prod only
    alice: object
    bob: object
    alice_prod_admin: object


@pytest.fixture
def world(people):
    prod, dev = AccountFactory(name="prod"), AccountFactory(name="dev")
    admin_role, read_only = RoleFactory(logical_name="Admin"), RoleFactory(logical_name="ReadOnly")
    billing = RoleFactory(logical_name="Billing", applies_to_all_accounts=False)
    billing.accounts.add(prod)
    alice, bob = IAMUserFactory(user_name="alice"), IAMUserFactory(user_name="bob")
    grant = MembershipFactory(iam_user=alice, account=prod, role=admin_role, reason="on call", requested_by_name="eddie")
    return World(prod, dev, admin_role, read_only, billing, alice, bob, grant)


def pair(account, role) -> str:
    return f"{account.pk}:{role.pk}"


def state() -> tuple:
    """Everything a refused request must leave alone."""
    return (
        sorted(Membership.objects.values_list("iam_user_id", "account_id", "role_id")),
        sorted(IAMUser.objects.values_list("user_name", "display_name", "email")),
        AuditEvent.objects.count(),
    )


# ---- who may do what -------------------------------------------------------------------------

READ_PAGES = [
    ("memberships:list", False),
    ("memberships:matrix", False),
    ("memberships:iam_user_list", False),
    ("memberships:iam_user_detail", True),
]
EDIT_FORMS = [("memberships:add", False), ("memberships:iam_user_create", False), ("memberships:iam_user_edit", True)]
POST_ONLY = [("memberships:remove", "membership"), ("memberships:iam_user_delete", "user")]


def url_for(name, world, with_pk):
    return reverse(name, args=[world.alice.pk]) if with_pk else reverse(name)


def post_only_url(name, target, world):
    return reverse(name, args=[world.alice_prod_admin.pk if target == "membership" else world.alice.pk])


@pytest.mark.parametrize("name,with_pk", READ_PAGES + EDIT_FORMS)
def test_anonymous_is_sent_to_login(client, world, name, with_pk):
    response = client.get(url_for(name, world, with_pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name,target", POST_ONLY)
def test_anonymous_post_is_sent_to_login_and_changes_nothing(client, world, name, target):
    before = state()
    response = client.post(post_only_url(name, target, world), {"reason": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert state() == before


@pytest.mark.parametrize("name,with_pk", READ_PAGES)
@pytest.mark.parametrize("who, method, status", [("viewer", "get", 200), ("nobody", "get", 403), ("editor", "post", 405)],
                         ids=["a viewer reads", "a console user without a role cannot read", "POST is refused"])
def test_read_pages(client_for, people, world, name, with_pk, who, method, status):
    assert getattr(client_for(getattr(people, who)), method)(url_for(name, world, with_pk)).status_code == status


@pytest.mark.parametrize("name,with_pk", EDIT_FORMS)
def test_viewer_cannot_open_or_submit_edit_forms(client_for, people, world, name, with_pk):
    client = client_for(people.viewer)
    before = state()
    assert client.get(url_for(name, world, with_pk)).status_code == 403
    payload = {"users": "bob", "groups": [pair(world.dev, world.admin_role)], "reason": "x", "user_name": "mallory"}
    assert client.post(url_for(name, world, with_pk), payload).status_code == 403
    assert state() == before


@pytest.mark.parametrize("name,target", POST_ONLY)
@pytest.mark.parametrize("who, method, status", [("viewer", "post", 403), ("editor", "get", 405)],
                         ids=["a viewer cannot remove", "GET is refused"])
def test_removals_refuse_and_change_nothing(client_for, people, world, name, target, who, method, status):
    before = state()
    data = {"reason": "x"} if method == "post" else None
    assert getattr(client_for(getattr(people, who)), method)(post_only_url(name, target, world), data).status_code == status
    assert state() == before


@pytest.mark.parametrize("name,with_pk", EDIT_FORMS)
def test_edit_forms_refuse_put(client_for, people, world, name, with_pk):
    assert client_for(people.editor).put(url_for(name, world, with_pk)).status_code == 405


def test_missing_objects_are_404(client_for, people, world):
    client = client_for(people.editor)
    assert client.get(reverse("memberships:iam_user_detail", args=[99999])).status_code == 404
    assert client.post(reverse("memberships:remove", args=[99999])).status_code == 404
    assert client.post(reverse("memberships:iam_user_delete", args=[99999])).status_code == 404


# ---- membership list ------------------------------------------------------------------------


def test_list_shows_every_column(client_for, people, world):
    response = client_for(people.viewer).get(reverse("memberships:list"))
    body = response.content.decode()
    for text in ("alice", "prod", "Admin", "prod.Admin", "on call", "eddie"):
        assert text in body


def test_list_filters_by_account_role_and_user(client_for, people, world):
    MembershipFactory(iam_user=world.bob, account=world.dev, role=world.read_only)
    MembershipFactory(iam_user=world.bob, account=world.prod, role=world.billing)
    client = client_for(people.viewer)

    def shown(**params):
        page = client.get(reverse("memberships:list"), params).context["page_obj"]
        return sorted(m.group_name + "/" + m.iam_user.user_name for m in page)

    assert shown(account="prod") == ["prod.Admin/alice", "prod.Billing/bob"]
    assert shown(role=world.read_only.pk) == ["dev.ReadOnly/bob"]
    assert shown(user="bob") == ["dev.ReadOnly/bob", "prod.Billing/bob"]
    assert shown(user="BOB") == ["dev.ReadOnly/bob", "prod.Billing/bob"]
    assert shown(account="PROD", role=world.admin_role.pk) == ["prod.Admin/alice"]


@pytest.mark.parametrize("params", [{"account": "999999"}, {"role": "abc"}, {"user": "<script>"}])
def test_list_with_a_bad_filter_explains_it_and_lists_nothing(client_for, people, world, params):
    response = client_for(people.viewer).get(reverse("memberships:list"), params)
    assert response.status_code == 200
    assert response.context["filters"].errors
    assert list(response.context["page_obj"]) == []
    assert b"<script>" not in response.content


def test_list_is_paginated_by_fifty_and_keeps_the_filters(client_for, people, world):
    role = RoleFactory(logical_name="Ops")
    for _ in range(55):
        MembershipFactory(account=world.dev, role=role)
    client = client_for(people.viewer)
    first = client.get(reverse("memberships:list"), {"role": role.pk})
    assert len(first.context["page_obj"]) == 50
    assert f"role={role.pk}&amp;page=2" in first.content.decode()
    second = client.get(reverse("memberships:list"), {"role": role.pk, "page": 2})
    assert len(second.context["page_obj"]) == 5
    assert client.get(reverse("memberships:list"), {"page": "nonsense"}).status_code == 200


def test_editors_see_a_remove_button_and_viewers_do_not(client_for, people, world):
    remove_url = reverse("memberships:remove", args=[world.alice_prod_admin.pk])
    assert remove_url in client_for(people.editor).get(reverse("memberships:list")).content.decode()
    assert remove_url not in client_for(people.viewer).get(reverse("memberships:list")).content.decode()


# ---- grant form -----------------------------------------------------------------------------


def test_editor_grants_one_user_several_groups(client_for, people, world):
    response = client_for(people.editor).post(
        reverse("memberships:add"),
        {"users": "bob", "groups": [pair(world.prod, world.billing), pair(world.dev, world.read_only)], "reason": "audit week"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("memberships:iam_user_detail", args=[world.bob.pk])
    granted = Membership.objects.filter(iam_user=world.bob).select_related("account", "role")
    assert sorted(m.group_name for m in granted) == ["dev.ReadOnly", "prod.Billing"]
    assert all(m.requested_by == people.editor and m.reason == "audit week" for m in granted)
    events = AuditEvent.objects.filter(object_type="membership", action="create")
    assert sorted(e.after["group"] for e in events) == ["dev.ReadOnly", "prod.Billing"]
    assert {(e.actor_name, e.reason) for e in events} == {("eddie", "audit week")}


def test_editor_grants_several_users_one_group_with_an_expiry(client_for, people, world):
    carol = IAMUserFactory(user_name="carol")
    expires = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    response = client_for(people.editor).post(
        reverse("memberships:add"),
        {
            "users": "bob, carol",
            "groups": [pair(world.dev, world.admin_role)],
            "reason": "incident 42",
            "expires_at": timezone.localtime(expires).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("memberships:list")
    granted = Membership.objects.filter(account=world.dev, role=world.admin_role)
    assert sorted(m.iam_user.user_name for m in granted) == ["bob", "carol"]
    assert {m.expires_at for m in granted} == {expires}
    assert AuditEvent.objects.filter(object_type="membership", action="create").count() == 2


def test_existing_grants_are_reported_not_duplicated(client_for, people, world):
    client = client_for(people.editor)
    response = client.post(
        reverse("memberships:add"),
        {"users": "alice", "groups": [pair(world.prod, world.admin_role), pair(world.dev, world.admin_role)], "reason": "more"},
        follow=True,
    )
    texts = [str(message) for message in response.context["messages"]]
    assert any("Granted 1: alice in dev.Admin" in text for text in texts)
    assert any("Already granted" in text and "alice in prod.Admin" in text for text in texts)
    assert Membership.objects.filter(iam_user=world.alice).count() == 2
    assert AuditEvent.objects.filter(object_type="membership").count() == 1


def test_add_page_preselects_from_the_query_string(client_for, people, world):
    response = client_for(people.editor).get(
        reverse("memberships:add"), {"user": "bob", "account": world.prod.pk, "role": world.billing.pk}
    )
    form = response.context["form"]
    assert form.initial["users"] == "bob"
    assert form.initial["groups"] == [pair(world.prod, world.billing)]
    body = response.content.decode()
    assert f'<option value="{pair(world.prod, world.billing)}" selected>' in body


def test_add_page_lists_only_pairs_whose_role_applies(client_for, people, world):
    form = client_for(people.editor).get(reverse("memberships:add")).context["form"]
    labels = sorted(label for _, label in form.fields["groups"].choices)
    assert labels == ["dev.Admin", "dev.ReadOnly", "prod.Admin", "prod.Billing", "prod.ReadOnly"]


@pytest.mark.parametrize("query", [{"user": "abc", "account": "x", "role": "-1"}, {"user": "999999"}, {"user": "x" * 5000}])
def test_add_page_ignores_nonsense_preselection(client_for, people, world, query):
    assert client_for(people.editor).get(reverse("memberships:add"), query).status_code == 200


BAD_GRANTS = {
    "no reason": (lambda w: {"users": "bob", "groups": [pair(w.dev, w.admin_role)], "reason": ""}, "reason"),
    "blank reason": (lambda w: {"users": "bob", "groups": [pair(w.dev, w.admin_role)], "reason": "   "}, "reason"),
    "past expiry": (
        lambda w: {"users": "bob", "groups": [pair(w.dev, w.admin_role)], "reason": "x", "expires_at": "2001-01-01T10:00"},
        "expires_at",
    ),
    "unreadable expiry": (
        lambda w: {"users": "bob", "groups": [pair(w.dev, w.admin_role)], "reason": "x", "expires_at": "tomorrow"},
        "expires_at",
    ),
    "role not applying to account": (
        lambda w: {"users": "bob", "groups": [pair(w.dev, w.billing)], "reason": "x"},
        "groups",
    ),
    "unknown pair": (lambda w: {"users": "bob", "groups": ["999:999"], "reason": "x"}, "groups"),
    "garbage pair": (lambda w: {"users": "bob", "groups": ["abc"], "reason": "x"}, "groups"),
    "unknown user": (lambda w: {"users": "bobby", "groups": [pair(w.dev, w.admin_role)], "reason": "x"}, "users"),
    "an id, not a name": (lambda w: {"users": str(w.bob.pk), "groups": [pair(w.dev, w.admin_role)], "reason": "x"}, "users"),
    "one known, one unknown": (lambda w: {"users": "bob, mallory", "groups": [pair(w.dev, w.admin_role)], "reason": "x"},
                               "users"),
    "only separators": (lambda w: {"users": " , ,", "groups": [pair(w.dev, w.admin_role)], "reason": "x"}, "users"),
    "a control character": (lambda w: {"users": "bob\x00", "groups": [pair(w.dev, w.admin_role)], "reason": "x"}, "users"),
    "an overlong name": (lambda w: {"users": "b" * 20_000, "groups": [pair(w.dev, w.admin_role)], "reason": "x"}, "users"),
    "no user": (lambda w: {"groups": [pair(w.dev, w.admin_role)], "reason": "x"}, "users"),
    "no group": (lambda w: {"users": "bob", "reason": "x"}, "groups"),
    "nothing at all": (lambda w: {}, "users"),
}


@pytest.mark.parametrize("case", list(BAD_GRANTS))
def test_bad_grant_requests_explain_themselves_and_change_nothing(client_for, people, world, case):
    payload, field = BAD_GRANTS[case]
    before = state()
    response = client_for(people.editor).post(reverse("memberships:add"), payload(world))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert b'class="error"' in response.content
    assert state() == before


def test_an_eleventh_group_is_refused_with_the_limit_explained(client_for, people, world):
    accounts = AccountFactory.create_batch(10)
    for account in accounts:
        MembershipFactory(iam_user=world.bob, account=account, role=world.admin_role)
    before = state()
    response = client_for(people.editor).post(
        reverse("memberships:add"), {"users": "bob", "groups": [pair(world.dev, world.admin_role)], "reason": "x"}
    )
    assert response.status_code == 200
    assert "at most 10 groups" in " ".join(response.context["form"].non_field_errors())
    assert state() == before


def test_more_than_ten_groups_in_one_request_grant_none(client_for, people, world):
    accounts = AccountFactory.create_batch(11)
    before = state()
    response = client_for(people.editor).post(
        reverse("memberships:add"),
        {"users": "bob alice", "groups": [pair(a, world.read_only) for a in accounts], "reason": "x"},
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "bob would be in 11 groups" in errors and "alice would be in 12 groups" in errors
    assert state() == before


# ---- remove ---------------------------------------------------------------------------------


def test_editor_removes_a_membership_with_a_reason(client_for, people, world):
    response = client_for(people.editor).post(
        reverse("memberships:remove", args=[world.alice_prod_admin.pk]), {"reason": "left the team"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("memberships:list")
    assert not Membership.objects.exists()
    event = AuditEvent.objects.get(object_type="membership")
    assert (event.action, event.actor_name, event.reason, event.before["group"], event.after) == (
        "delete",
        "eddie",
        "left the team",
        "prod.Admin",
        None,
    )


def test_remove_returns_to_a_local_next_page_only(client_for, people, world):
    client = client_for(people.editor)
    other = MembershipFactory(iam_user=world.bob, account=world.dev, role=world.admin_role)
    local = reverse("memberships:iam_user_detail", args=[world.alice.pk])
    response = client.post(reverse("memberships:remove", args=[world.alice_prod_admin.pk]), {"next": local})
    assert response["Location"] == local
    response = client.post(reverse("memberships:remove", args=[other.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("memberships:list")


def test_remove_refuses_an_overlong_reason_and_keeps_the_membership(client_for, people, world):
    before = state()
    client_for(people.editor).post(reverse("memberships:remove", args=[world.alice_prod_admin.pk]), {"reason": "x" * 501})
    assert state() == before


# ---- IAM users ------------------------------------------------------------------------------


def test_iam_user_list_shows_group_counts_and_searches(client_for, people, world):
    IAMUserFactory(user_name="carol", display_name="Carol Ops")
    client = client_for(people.viewer)
    response = client.get(reverse("memberships:iam_user_list"))
    counts = {u.user_name: u.group_count for u in response.context["page_obj"]}
    assert counts == {"alice": 1, "bob": 0, "carol": 0}
    assert "1 of 10" in response.content.decode()
    assert '<meter min="0" max="10"' in response.content.decode()
    found = client.get(reverse("memberships:iam_user_list"), {"q": "ops"}).context["page_obj"]
    assert [u.user_name for u in found] == ["carol"]


def test_iam_user_list_is_paginated(client_for, people, world):
    IAMUserFactory.create_batch(60)
    client = client_for(people.viewer)
    assert len(client.get(reverse("memberships:iam_user_list")).context["page_obj"]) == 50
    assert len(client.get(reverse("memberships:iam_user_list"), {"page": 2}).context["page_obj"]) == 12


def test_editor_creates_an_iam_user(client_for, people, world):
    response = client_for(people.editor).post(
        reverse("memberships:iam_user_create"),
        {"user_name": "dave@example.com", "display_name": "Dave", "email": "dave@example.com", "reason": "new hire"},
    )
    dave = IAMUser.objects.get(user_name="dave@example.com")
    assert response["Location"] == reverse("memberships:iam_user_detail", args=[dave.pk])
    event = AuditEvent.objects.get(object_type="IAM user")
    assert (event.action, event.actor_name, event.reason, event.object_id) == ("create", "eddie", "new hire", str(dave.pk))
    assert event.after == {"user_name": "dave@example.com", "display_name": "Dave", "email": "dave@example.com"}


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"user_name": "ALICE"}, None),  # names are unique regardless of case
        ({"user_name": "has space"}, "user_name"),
        ({"user_name": ""}, "user_name"),
        ({"user_name": "x" * 65}, "user_name"),
        ({"user_name": "ok", "email": "not-an-email"}, "email"),
    ],
)
def test_bad_iam_users_are_refused(client_for, people, world, payload, field):
    before = state()
    response = client_for(people.editor).post(reverse("memberships:iam_user_create"), payload)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] if field else form.non_field_errors()
    assert state() == before


def test_editor_renames_an_iam_user(client_for, people, world):
    response = client_for(people.editor).post(
        reverse("memberships:iam_user_edit", args=[world.bob.pk]), {"user_name": "robert", "display_name": "Bob", "reason": "legal name"}
    )
    assert response["Location"] == reverse("memberships:iam_user_detail", args=[world.bob.pk])
    world.bob.refresh_from_db()
    assert world.bob.user_name == "robert"
    event = AuditEvent.objects.get(object_type="IAM user")
    assert (event.action, event.before["user_name"], event.after["user_name"], event.reason) == ("update", "bob", "robert", "legal name")


def test_edit_form_starts_with_the_current_values(client_for, people, world):
    form = client_for(people.editor).get(reverse("memberships:iam_user_edit", args=[world.alice.pk])).context["form"]
    assert form["user_name"].value() == "alice"


def test_renaming_onto_another_users_name_is_refused(client_for, people, world):
    before = state()
    response = client_for(people.editor).post(reverse("memberships:iam_user_edit", args=[world.bob.pk]), {"user_name": "Alice"})
    assert response.status_code == 200
    assert "already known" in " ".join(response.context["form"].non_field_errors())
    assert state() == before


def test_editor_deletes_an_iam_user_and_their_grants(client_for, people, world):
    response = client_for(people.editor).post(reverse("memberships:iam_user_delete", args=[world.alice.pk]), {"reason": "left"})
    assert response["Location"] == reverse("memberships:iam_user_list")
    assert not IAMUser.objects.filter(user_name="alice").exists()
    assert not Membership.objects.exists()
    actions = sorted(AuditEvent.objects.values_list("object_type", "action", "reason"))
    assert actions == [("IAM user", "delete", "left"), ("membership", "delete", "left")]


def test_iam_user_detail_shows_grants_limit_and_add_link(client_for, people, world):
    response = client_for(people.editor).get(reverse("memberships:iam_user_detail", args=[world.alice.pk]))
    body = response.content.decode()
    assert "Uses <b>1 of 10</b> groups" in body
    assert "prod.Admin" in body and "on call" in body and "eddie" in body
    assert f'{reverse("memberships:add")}?user=alice' in body


def test_iam_user_detail_hides_edit_buttons_from_viewers(client_for, people, world):
    body = client_for(people.viewer).get(reverse("memberships:iam_user_detail", args=[world.alice.pk])).content.decode()
    assert reverse("memberships:iam_user_delete", args=[world.alice.pk]) not in body
    assert reverse("memberships:add") not in body


def test_iam_user_detail_has_a_history_tab(client_for, people, world):
    client = client_for(people.editor)
    client.post(reverse("memberships:iam_user_edit", args=[world.alice.pk]), {"user_name": "alice", "display_name": "Alice A."})
    response = client.get(reverse("memberships:iam_user_detail", args=[world.alice.pk]), {"tab": "history"})
    assert [event.action for event in response.context["history"]] == ["update"]
    assert "display_name" in response.content.decode()


# ---- matrix ---------------------------------------------------------------------------------


def test_matrix_counts_members_and_marks_missing_groups(client_for, people, world):
    MembershipFactory(iam_user=world.bob, account=world.prod, role=world.admin_role)
    MembershipFactory(iam_user=world.bob, account=world.dev, role=world.read_only)
    response = client_for(people.viewer).get(reverse("memberships:matrix"))
    matrix = response.context["matrix"]
    assert [role.logical_name for role in matrix.roles] == ["Admin", "Billing", "ReadOnly"]
    cells = {(c.account.name, c.role.logical_name): (c.applies, c.count) for row in matrix.rows for c in row.cells}
    assert cells == {
        ("dev", "Admin"): (True, 0),
        ("dev", "Billing"): (False, 0),
        ("dev", "ReadOnly"): (True, 1),
        ("prod", "Admin"): (True, 2),
        ("prod", "Billing"): (True, 0),
        ("prod", "ReadOnly"): (True, 0),
    }
    assert [row.total for row in matrix.rows] == [1, 2]
    assert matrix.column_totals == [2, 0, 1]
    assert matrix.total == 3
    body = response.content.decode()
    assert "—" in body
    assert f'{reverse("memberships:list")}?account=prod&amp;role={world.admin_role.pk}' in body


@pytest.mark.parametrize("count,shade", [(0, 0), (1, 1), (2, 1), (3, 2), (5, 2), (6, 3), (10, 3), (11, 4), (300, 4)])
def test_matrix_shades_cells_by_count(count, shade):
    from memberships.selectors import matrix_shade

    assert matrix_shade(count) == shade


def test_matrix_cells_carry_their_shade_class(client_for, people, world):
    for _ in range(3):
        MembershipFactory(account=world.dev, role=world.admin_role)
    body = client_for(people.viewer).get(reverse("memberships:matrix")).content.decode()
    assert 'class="cell shade-2"' in body and 'class="cell shade-1"' in body and 'class="cell shade-0"' in body


def test_matrix_filters_by_account_name_and_role(client_for, people, world):
    client = client_for(people.viewer)
    matrix = client.get(reverse("memberships:matrix"), {"account_name": "PRO", "role": world.admin_role.pk}).context["matrix"]
    assert [row.account.name for row in matrix.rows] == ["prod"]
    assert [role.logical_name for role in matrix.roles] == ["Admin"]
    assert matrix.total == 1


def test_matrix_with_a_bad_role_filter_explains_it(client_for, people, world):
    response = client_for(people.viewer).get(reverse("memberships:matrix"), {"role": "999999"})
    assert response.status_code == 200
    assert response.context["matrix"] is None
    assert response.context["filters"].errors["role"]


# ---- SQL queries do not grow with the data --------------------------------------------------


def grow(world, *, accounts: int, roles: int, users: int):
    new_accounts = AccountFactory.create_batch(accounts)
    new_roles = RoleFactory.create_batch(roles)
    restricted = RoleFactory(applies_to_all_accounts=False)
    restricted.accounts.add(*new_accounts[:2])
    iam_users = IAMUserFactory.create_batch(users)
    for index, iam_user in enumerate(iam_users):
        MembershipFactory(
            iam_user=iam_user,
            account=new_accounts[index % accounts],
            role=new_roles[index % roles],
            expires_at=timezone.now() + timedelta(days=1),
        )
        MembershipFactory(iam_user=iam_user, account=new_accounts[0], role=restricted)


@pytest.mark.parametrize(
    "name,params",
    [
        ("memberships:list", {}),
        ("memberships:list", {"account": "__prod__"}),
        ("memberships:iam_user_list", {}),
        ("memberships:iam_user_list", {"q": "user"}),
        ("memberships:matrix", {}),
        ("memberships:matrix", {"account_name": "acct"}),
    ],
)
def test_pages_make_the_same_number_of_queries_for_more_data(client_for, people, world, name, params):
    client = client_for(people.editor)
    params = {key: (world.prod.pk if value == "__prod__" else value) for key, value in params.items()}
    url = reverse(name)
    grow(world, accounts=2, roles=1, users=2)
    small = queries_for(client, url, params)
    grow(world, accounts=8, roles=5, users=30)
    assert queries_for(client, url, params) == small


def test_iam_user_detail_queries_do_not_grow_with_grants(client_for, people, world):
    client = client_for(people.editor)
    url = reverse("memberships:iam_user_detail", args=[world.bob.pk])
    MembershipFactory(iam_user=world.bob, account=world.dev, role=world.admin_role)
    small = queries_for(client, url)
    for account in AccountFactory.create_batch(8):
        MembershipFactory(iam_user=world.bob, account=account, role=world.admin_role)
    assert queries_for(client, url) == small
