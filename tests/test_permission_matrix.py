"""Every URL, for every console role: anonymous → login, missing capability → 403, wrong method → 405.

A new URL without an entry in ``EXPECTED`` fails ``test_every_url_has_an_entry``.
"""
import pytest
from django.urls import URLResolver, get_resolver, reverse

from drift.models import DriftCheck, DriftFinding
from plans.models import Job, Plan
from tests.factories import AccountFactory, IAMUserFactory, MasterAccountFactory, MembershipFactory, PolicyFactory, RoleFactory

# url name → (allowed methods, capabilities any one of which grants access)
EXPECTED = {
    "console:dashboard": ({"GET"}, {"view"}),
    # Sudo mode's password confirmation: any console role may be asked for it.
    "core:sudo": ({"GET", "POST"}, {"view"}),
    "console:console_user_list": ({"GET"}, {"manage_users"}),
    "console:console_user_create": ({"GET", "POST"}, {"manage_users"}),
    "console:console_user_edit": ({"GET", "POST"}, {"manage_users"}),
    "accounts:list": ({"GET"}, {"view"}),
    "accounts:create": ({"GET", "POST"}, {"edit"}),
    "accounts:master_edit": ({"GET", "POST"}, {"edit"}),
    "accounts:detail": ({"GET"}, {"view"}),
    "accounts:suggestions": ({"GET"}, {"view"}),
    "accounts:edit": ({"GET", "POST"}, {"edit"}),
    "accounts:delete": ({"GET", "POST"}, {"edit"}),
    "roles:list": ({"GET"}, {"view"}),
    "roles:create": ({"GET", "POST"}, {"edit"}),
    "roles:detail": ({"GET"}, {"view"}),
    "roles:edit": ({"GET", "POST"}, {"edit"}),
    "roles:delete": ({"GET", "POST"}, {"edit"}),
    "roles:policy_create": ({"GET", "POST"}, {"edit"}),
    "roles:policy_edit": ({"GET", "POST"}, {"edit"}),
    "roles:policy_delete": ({"GET", "POST"}, {"edit"}),
    "memberships:list": ({"GET"}, {"view"}),
    "memberships:add": ({"GET", "POST"}, {"edit"}),
    "memberships:remove": ({"POST"}, {"edit"}),
    "memberships:matrix": ({"GET"}, {"view"}),
    "memberships:iam_user_list": ({"GET"}, {"view"}),
    "memberships:iam_user_suggestions": ({"GET"}, {"view"}),
    "memberships:iam_user_create": ({"GET", "POST"}, {"edit"}),
    "memberships:iam_user_detail": ({"GET"}, {"view"}),
    "memberships:iam_user_edit": ({"GET", "POST"}, {"edit"}),
    "memberships:iam_user_delete": ({"POST"}, {"edit"}),
    "audit:list": ({"GET"}, {"view"}),
    "audit:export": ({"GET"}, {"view"}),
    "plans:list": ({"GET"}, {"view"}),
    "plans:create": ({"POST"}, {"edit"}),
    "plans:teardown": ({"GET"}, {"edit"}),
    "plans:detail": ({"GET"}, {"view"}),
    "plans:approve": ({"POST"}, {"approve"}),
    "plans:reject": ({"POST"}, {"approve"}),
    "plans:apply": ({"POST"}, {"edit", "approve"}),
    "plans:job_list": ({"GET"}, {"view"}),
    "plans:job_detail": ({"GET"}, {"view"}),
    "plans:live_roles": ({"GET"}, {"view"}),
    "drift:page": ({"GET"}, {"view"}),
    # A drift check only reads AWS: whoever may request or approve plans starts one (core/permissions.py).
    "drift:check": ({"POST"}, {"edit", "approve"}),
    "drift:adopt": ({"POST"}, {"edit"}),
    "plans:offboard": ({"GET", "POST"}, {"edit"}),
    "notifications:delivery_list": ({"GET"}, {"manage_users"}),
    # Each person's own email settings.
    "notifications:preferences": ({"GET", "POST"}, {"view"}),
}
# The OIDC URLs exist only with single sign-on configured (console/sso.py); they are its sign-in steps.
PUBLIC = {"login", "logout", "oidc_authentication_init", "oidc_authentication_callback", "oidc_logout"}
ROLE_CAPABILITIES = {
    "viewer": {"view"},
    "editor": {"view", "edit"},
    "approver": {"view", "approve"},
    "admin": {"view", "edit", "manage_users"},
    "nobody": set(),
}


def _url_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            yield from _url_names(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else namespace)
        elif pattern.name:
            yield namespace + pattern.name


def test_every_url_has_an_entry():
    names = set(_url_names(get_resolver().url_patterns))
    assert names - PUBLIC - set(EXPECTED) == set(), "add the new URL to EXPECTED with its methods and capability"
    assert set(EXPECTED) - names == set(), "EXPECTED names a URL that no longer exists"


@pytest.fixture
def objects(db):
    MasterAccountFactory()
    account = AccountFactory(name="prod")
    role = RoleFactory(logical_name="Admin")
    policy = PolicyFactory(role=role)
    iam_user = IAMUserFactory()
    membership = MembershipFactory(iam_user=iam_user, account=account, role=role)
    plan = Plan.objects.create(requested_by_name="someone", status=Plan.Status.PENDING, fingerprint="x")
    job = Job.objects.create(kind=Job.Kind.PLAN, plan=plan, requested_by_name="someone", status=Job.Status.SUCCEEDED)
    check = DriftCheck.objects.create(requested_by_name="someone", status=DriftCheck.Status.SUCCEEDED)
    finding = DriftFinding.objects.create(
        kind=DriftFinding.Kind.MEMBER_ADDED, account_name="master", target="prod.Admin", key="x", detail="added by hand",
        live={"group": "prod.Admin", "user": iam_user.user_name}, widens=True, first_seen=check.created_at,
        last_seen=check.created_at, first_check=check, last_check=check)
    return {"account": account, "role": role, "policy": policy, "iam_user": iam_user, "membership": membership,
            "plan": plan, "job": job, "finding": finding}


def _url(name: str, objects, people) -> str:
    pk_of = {
        "console:console_user_edit": lambda: {"pk": people.viewer.pk},
        "accounts:detail": lambda: {"pk": objects["account"].pk},
        "accounts:edit": lambda: {"pk": objects["account"].pk},
        "accounts:delete": lambda: {"pk": objects["account"].pk},
        "roles:detail": lambda: {"pk": objects["role"].pk},
        "roles:edit": lambda: {"pk": objects["role"].pk},
        "roles:delete": lambda: {"pk": objects["role"].pk},
        "roles:policy_create": lambda: {"pk": objects["role"].pk},
        "roles:policy_edit": lambda: {"pk": objects["role"].pk, "policy_pk": objects["policy"].pk},
        "roles:policy_delete": lambda: {"pk": objects["role"].pk, "policy_pk": objects["policy"].pk},
        "memberships:remove": lambda: {"pk": objects["membership"].pk},
        "memberships:iam_user_detail": lambda: {"pk": objects["iam_user"].pk},
        "memberships:iam_user_edit": lambda: {"pk": objects["iam_user"].pk},
        "memberships:iam_user_delete": lambda: {"pk": objects["iam_user"].pk},
        "plans:detail": lambda: {"pk": objects["plan"].pk},
        "plans:approve": lambda: {"pk": objects["plan"].pk},
        "plans:reject": lambda: {"pk": objects["plan"].pk},
        "plans:apply": lambda: {"pk": objects["plan"].pk},
        "plans:job_detail": lambda: {"pk": objects["job"].pk},
        "drift:adopt": lambda: {"pk": objects["finding"].pk},
        "plans:offboard": lambda: {"iam_user_pk": objects["iam_user"].pk},
    }
    return reverse(name, kwargs=pk_of[name]() if name in pk_of else None)


def _request(client, method: str, url: str):
    return client.generic(method, url) if method not in ("GET", "POST") else getattr(client, method.lower())(url)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_anonymous_people_are_sent_to_the_login_page(client, people, objects, name):
    methods, _ = EXPECTED[name]
    for method in sorted(methods):
        response = _request(client, method, _url(name, objects, people))
        assert response.status_code == 302, (method, response.status_code)
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", sorted(ROLE_CAPABILITIES))
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_console_role_gets_exactly_its_pages(client, people, objects, name, role):
    methods, capabilities = EXPECTED[name]
    client.force_login(getattr(people, role))
    allowed = bool(ROLE_CAPABILITIES[role] & capabilities)
    method = "GET" if "GET" in methods else "POST"
    response = _request(client, method, _url(name, objects, people))
    if allowed:
        assert response.status_code not in (403, 405, 500), response.status_code
        assert not response.get("Location", "").startswith(reverse("login"))
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_wrong_method_gets_405(client, people, objects, name):
    methods, _ = EXPECTED[name]
    client.force_login(people.admin)
    wrong = "POST" if methods == {"GET"} else "GET" if methods == {"POST"} else "PUT"
    assert _request(client, wrong, _url(name, objects, people)).status_code == 405
