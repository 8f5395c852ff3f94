"""Bad input in URLs: ids that do not exist, that no database column can hold, or that belong to
another object, and query parameters of the wrong type, on every page of the console.

The URL patterns are read from the resolver, so a page added later is covered without a change here.
The answer is always a page (200 with the filter's error, or 404, 405, 400), never a server error.
"""
from itertools import product

import pytest
from django.contrib.auth.models import Group, User
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.permissions import CONSOLE_GROUPS
from roles.models import InlinePolicy
from tests.factories import PolicyFactory, RoleFactory
from audit.services import Actor, audit_record
from tests.test_bad_input_forms import MARKUP, errors_of, everything, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

NOT_THERE = 999_999
BEYOND_BIGINT = 2**63  # one past PostgreSQL's bigint and SQLite's integer
HUGE = 10**20
# The pages of other tools mounted in the console: Django's admin has its own tests.
FOREIGN_NAMESPACES = ("admin",)


def console_patterns(resolver=None, namespace="", prefix=""):
    """(url name, route, converters) for every pattern of the console."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in FOREIGN_NAMESPACES:
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from console_patterns(entry, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern), entry.pattern.converters


INT_PAGES = sorted(name for name, _, converters in console_patterns() if converters)
PLAIN_PAGES = sorted(
    name for name, _, converters in console_patterns() if not converters and name not in ("logout", "login")
)


def test_the_console_has_pages_with_ids_and_without():
    # Guards the reading of the resolver: an empty list would make the tests below pass vacuously.
    assert {"accounts:detail", "roles:policy_edit", "memberships:remove", "plans:job_detail"} <= set(INT_PAGES)
    assert {"console:dashboard", "audit:list", "memberships:matrix"} <= set(PLAIN_PAGES)


@pytest.fixture
def everyone(db) -> User:
    """One person holding every console role, so no answer is a 403 that hides what the page would do."""
    user = User.objects.create_user("omni", password="not-used-in-these-tests")
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in CONSOLE_GROUPS])
    return user


@pytest.fixture
def visitor(client, everyone):
    client.force_login(everyone)
    client.raise_request_exception = False
    return client


# ---- ids in the path -----------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [NOT_THERE, BEYOND_BIGINT, HUGE], ids=["not there", "2**63", "10**20"])
@pytest.mark.parametrize("name", INT_PAGES)
def test_an_id_that_does_not_exist_is_404_for_every_method(world, visitor, name, missing):
    route_args = [missing] * len(dict(console_patterns_by_name()[name]))
    url = reverse(name, args=route_args)
    before = everything()

    answers = {method: getattr(visitor, method)(url).status_code for method in ("get", "post")}

    assert set(answers.values()) <= {404, 405} and 404 in answers.values(), answers
    assert everything() == before


def console_patterns_by_name() -> dict:
    return {name: converters for name, _, converters in console_patterns()}


@pytest.mark.parametrize("name", ["roles:policy_edit", "roles:policy_delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_policy_of_another_role_is_404_and_left_alone(world, visitor, name, method):
    other_role = RoleFactory(logical_name="Other")
    other_policy = PolicyFactory(role=other_role, name="Elsewhere")
    url = reverse(name, args=[world.admin_role.pk, other_policy.pk])
    before = everything()

    response = getattr(visitor, method)(url, {"name": "Renamed", "document": "{}", "reason": "x"})

    assert response.status_code == 404
    assert InlinePolicy.objects.get(pk=other_policy.pk).name == "Elsewhere"
    assert everything() == before


@pytest.mark.parametrize("name", ["roles:policy_edit", "roles:policy_delete"])
def test_a_real_policy_under_a_role_that_does_not_exist_is_404(world, visitor, name):
    url = reverse(name, args=[NOT_THERE, world.policy.pk])
    assert visitor.get(url).status_code == 404
    assert visitor.post(url, {"reason": "x"}).status_code == 404
    assert InlinePolicy.objects.filter(pk=world.policy.pk).exists()


def test_a_path_with_bytes_that_are_not_utf8_or_not_a_number_is_404(world, visitor):
    for path in ("/accounts/%FF/", "/accounts/%00/", "/accounts/-1/", "/accounts/1.5/", "/accounts/%C2%B2/",
                 "/roles/1/policies/%FF%FE/edit/", "/plans/jobs/abc/"):
        assert visitor.get(path).status_code == 404, path


# ---- query parameters ---------------------------------------------------------------------------------

# Every query parameter a page of the console reads, each with values of the wrong type.
PARAMETERS = ["page", "account", "role", "user", "tab", "q", "person", "object_type", "object_id", "action",
              "date_from", "date_to", "account_name", "format", "verify"]
WRONG_VALUES = {
    "text": "xyz",
    "negative": "-1",
    "huge": str(HUGE),
    "beyond bigint": str(BEYOND_BIGINT),
    "5000 digits": "9" * 5000,
    "not a date": "2024-02-30",
    "a NUL": "a\x00b",
    "a superscript digit": "²",
    "markup": MARKUP,
    "long": "x" * 20_000,
}


def plain_pages_to_read(world) -> list[str]:
    urls = [reverse(name) for name in PLAIN_PAGES if name not in ("plans:create", "plans:live_roles", "drift:check")]
    urls += [
        reverse("accounts:detail", args=[world.prod.pk]),
        reverse("roles:detail", args=[world.admin_role.pk]),
        reverse("memberships:iam_user_detail", args=[world.alice.pk]),
        reverse("plans:detail", args=[world.plan.pk]),
        reverse("plans:job_detail", args=[world.plan.jobs.get().pk]),
        reverse("plans:live_roles"),  # without read=1 it does not call AWS
    ]
    return urls


# Every parameter at once, then without the two that decide what else is read: ``tab`` (the role page
# reads ``account`` only on its CloudFormation tab) and ``format`` (the export refuses it before the filters).
PARAMETER_SETS = [PARAMETERS, [p for p in PARAMETERS if p != "tab"], [p for p in PARAMETERS if p != "format"]]


@pytest.mark.parametrize("kind", list(WRONG_VALUES))
def test_every_page_answers_query_parameters_of_the_wrong_type_without_a_server_error(world, visitor, kind):
    value = WRONG_VALUES[kind]
    before = everything()
    for url, parameters in product(plain_pages_to_read(world), PARAMETER_SETS):
        response = visitor.get(url, {parameter: value for parameter in parameters})
        assert response.status_code in (200, 400), (url, parameters, response.status_code)
        if response.get("Content-Type", "").startswith("text/html"):
            html = response.content.decode()
            assert "<script>alert" not in html and "<img src=x" not in html, (url, parameters)
    assert everything() == before


@pytest.mark.parametrize(
    "url_name, params, field",
    [
        ("memberships:list", {"account": "xyz"}, "account"),
        ("memberships:list", {"account": str(BEYOND_BIGINT)}, "account"),
        ("memberships:list", {"role": "a\x00b"}, "role"),
        ("memberships:list", {"user": "-1"}, "user"),
        ("memberships:matrix", {"role": str(HUGE)}, "role"),
        ("audit:list", {"date_from": "notadate"}, "date_from"),
        ("audit:list", {"date_to": "0000-00-00"}, "date_to"),
        ("audit:list", {"object_type": "a\x00b"}, "object_type"),
        ("audit:list", {"person": "x" * 151}, "person"),
        ("memberships:iam_user_list", {"q": "a\x00b"}, "q"),
    ],
)
def test_a_filter_of_the_wrong_type_is_explained_on_the_page(world, visitor, url_name, params, field):
    response = visitor.get(reverse(url_name), params)

    assert response.status_code == 200
    assert errors_of(response)[field]


def test_the_cloudformation_preview_explains_an_account_id_no_database_can_hold(world, visitor):
    url = reverse("roles:detail", args=[world.admin_role.pk])

    response = visitor.get(url, {"tab": "cloudformation", "account": str(BEYOND_BIGINT)})

    assert response.status_code == 200
    assert response.context["preview_form"].errors["account"]


@pytest.mark.parametrize("export_format", ["exe", "", "CSV", "json\x00", MARKUP])
def test_an_export_in_an_unknown_format_is_a_400_that_names_the_choices(world, visitor, export_format):
    response = visitor.get(reverse("audit:export"), {"format": export_format})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "use format=csv or format=json" in response.content.decode()


@pytest.mark.parametrize("direction", ["after", "before"])
@pytest.mark.parametrize("cursor", ["abc", "-1", "0", str(HUGE), "9" * 5000, "1e3", "", "\x00", "1-" + str(HUGE)])
def test_a_page_cursor_that_is_not_one_shows_the_newest_page(world, visitor, direction, cursor):
    for number in range(60):  # two pages of audit history
        audit_record(actor=Actor.system("system:test"), action="update", object_type="account", object_repr=str(number))
    response = visitor.get(reverse("audit:list"), {direction: cursor})

    assert response.status_code == 200
    page_obj = response.context["page_obj"]
    assert [event.object_repr for event in page_obj][:1] == ["59"] and len(page_obj) == 50
    assert page_obj.bad_cursor == (cursor != "")


@pytest.mark.parametrize(
    "query", ["account=%C2%B2", "user=%C2%B2", "role=99999999999999999999", "user=" + "9" * 5000, "account=%00"]
)
def test_the_grant_page_ignores_a_preselection_that_is_not_an_id(world, visitor, query):
    response = visitor.get(f"{reverse('memberships:add')}?{query}")

    assert response.status_code == 200
    assert not response.context["form"].initial.get("users") and not response.context["form"].initial.get("groups")


def test_more_query_parameters_than_allowed_get_the_400_page(world, visitor):
    query = "&".join(f"p{n}=1" for n in range(2_100))

    response = visitor.get(f"{reverse('memberships:list')}?{query}")

    assert response.status_code == 400
    assert "The console could not accept this request" in response.content.decode()


def test_a_next_address_elsewhere_is_not_followed_after_a_removal(world, visitor):
    url = reverse("memberships:remove", args=[world.grant.pk])

    response = visitor.post(url, {"reason": "left", "next": "javascript:alert(1)"})

    assert response.status_code == 302
    assert response["Location"] == reverse("memberships:list")
