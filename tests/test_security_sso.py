"""Optional single sign-on (OpenID Connect): off by default; when on, the IdP's group claim decides
the console roles on every sign-in. No identity provider is contacted: the backend's three calls
to it (token, token check, user info) are answered with claims dicts.
"""
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation, ValidationError
from django.test import override_settings
from django.urls import clear_url_caches, reverse

from audit.models import AuditEvent
from console import sso
from console.sso import ConsoleOIDCBackend, console_groups_from_claims, parse_group_map
from core import sudo

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent

GROUP_MAP = "idp-admins=Admin,idp-approvers=Approver,idp-editors=Editor,idp-staff=Viewer,idp-ops=Editor,idp-ops=Approver"
SSO_SETTINGS = {
    "OIDC_RP_CLIENT_ID": "rolemodel-console",
    "OIDC_RP_CLIENT_SECRET": "client-secret-from-the-idp",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://idp.example.com/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://idp.example.com/token",
    "OIDC_OP_USER_ENDPOINT": "https://idp.example.com/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://idp.example.com/jwks",
    "OIDC_RP_SIGN_ALGO": "RS256",
    "OIDC_RP_SCOPES": "openid email profile",
    "OIDC_USE_PKCE": True,
    "OIDC_GROUP_MAP": GROUP_MAP,
    "LOGIN_REDIRECT_URL_FAILURE": "/login/?sso=failed",
    "AUTHENTICATION_BACKENDS": [*settings.AUTHENTICATION_BACKENDS, "console.sso.ConsoleOIDCBackend"],
}


def _reload_urls():
    import rolemodel_site.urls

    importlib.reload(rolemodel_site.urls)
    clear_url_caches()


@pytest.fixture
def sso_on():
    with override_settings(**SSO_SETTINGS):
        _reload_urls()
        yield
    _reload_urls()


@pytest.fixture
def backend(sso_on):
    return ConsoleOIDCBackend()


def _sign_in_claims(backend, claims):
    """What the backend does after the IdP answered: user info → verify → find or create → update."""
    backend.get_userinfo = lambda access_token, id_token, payload: claims
    return backend.get_or_create_user("access-token", "id-token", {})


def _console_groups(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


# ---- the group map ------------------------------------------------------------------------


def test_the_group_map_reads_pairs_and_lets_one_idp_group_give_several_roles():
    assert parse_group_map(" idp-admins = Admin , idp-ops=Editor,idp-ops=Approver,, ") == {
        "idp-admins": frozenset({"Admin"}),
        "idp-ops": frozenset({"Editor", "Approver"}),
    }
    assert parse_group_map("") == {}
    assert parse_group_map("cn=admins=Admin") == {"cn=admins": frozenset({"Admin"})}


@pytest.mark.parametrize("text", ["idp-admins", "idp-admins=Superuser", "=Admin", "idp-admins=admin", "idp-admins=Admin,oops"])
def test_a_bad_group_map_names_the_bad_entry(text):
    with pytest.raises(ImproperlyConfigured, match="OIDC_GROUP_MAP entry"):
        parse_group_map(text)


@pytest.mark.parametrize(
    "groups, expected",
    [
        (["idp-admins", "idp-approvers"], {"Admin", "Approver"}),
        (["idp-ops"], {"Editor", "Approver"}),
        ("idp-staff", {"Viewer"}),
        (["someone-elses-group", 42, None], set()),
        (None, set()),
        ({"idp-admins": True}, set()),
    ],
)
def test_the_claim_is_mapped_to_console_groups(groups, expected):
    claims = {"preferred_username": "sam", "groups": groups}
    assert console_groups_from_claims(claims, claim="groups", group_map=parse_group_map(GROUP_MAP)) == expected


def test_the_group_claim_name_is_configurable():
    claims = {"roles": ["idp-admins"], "groups": ["idp-staff"]}
    assert console_groups_from_claims(claims, claim="roles", group_map=parse_group_map(GROUP_MAP)) == {"Admin"}


# ---- the backend --------------------------------------------------------------------------


def test_a_first_sign_in_creates_the_console_user_with_its_roles(backend, people):
    user = _sign_in_claims(backend, {"preferred_username": "sam", "email": "sam@example.com", "groups": ["idp-approvers"]})

    assert (user.username, user.email) == ("sam", "sam@example.com")
    assert _console_groups(user) == {"Approver"}
    assert not user.has_usable_password() and not user.is_superuser and not user.is_staff
    event = AuditEvent.objects.get(object_type="console user", action="create", object_id=str(user.pk))
    assert event.after["groups"] == ["Approver"]
    assert "Single sign-on" in event.reason


def test_every_sign_in_sets_the_roles_to_what_the_claim_gives(backend, people):
    interns = Group.objects.create(name="Interns")  # not a console group: left alone
    people.viewer.groups.add(interns)

    user = _sign_in_claims(backend, {"preferred_username": "vera", "groups": ["idp-ops"]})

    assert user.pk == people.viewer.pk
    assert _console_groups(user) == {"Editor", "Approver", "Interns"}
    event = AuditEvent.objects.get(object_type="console user", action="update")
    assert (event.before["groups"], event.after["groups"]) == (["Interns", "Viewer"], ["Approver", "Editor", "Interns"])


def test_a_person_removed_from_every_idp_group_loses_every_console_role(backend, people):
    user = _sign_in_claims(backend, {"preferred_username": "ada", "groups": []})
    assert user.pk == people.admin.pk and _console_groups(user) == set()


def test_the_same_claims_again_change_nothing_and_write_no_row(backend, people):
    claims = {"preferred_username": "sam", "email": "sam@example.com", "groups": ["idp-staff"]}
    _sign_in_claims(backend, claims)
    rows = AuditEvent.objects.count()

    _sign_in_claims(backend, claims)

    assert AuditEvent.objects.count() == rows
    assert User.objects.filter(username="sam").count() == 1


def test_names_are_matched_exactly_and_one_differing_only_in_case_is_refused(backend, people):
    # Until issue 8 "Vera" signed in as vera: names are now matched exactly, after NFKC.
    assert _sign_in_claims(backend, {"preferred_username": "ｖera", "groups": ["idp-staff"]}).pk == people.viewer.pk
    users = User.objects.count()

    with pytest.raises(SuspiciousOperation, match="looks too much like the existing console user vera"):
        _sign_in_claims(backend, {"preferred_username": "Vera", "groups": ["idp-staff"]})

    assert User.objects.count() == users


@pytest.mark.parametrize("name", ["root", "stan"])
def test_a_superuser_or_staff_account_is_never_signed_in_by_the_idp(backend, people, name):
    User.objects.create_user("stan", is_staff=True)
    before = list(User.objects.order_by("pk").values_list("username", "is_superuser", "is_staff", "password"))

    with pytest.raises(SuspiciousOperation, match=f"A console user named {name} already exists"):
        _sign_in_claims(backend, {"preferred_username": name, "groups": ["idp-admins"]})

    assert list(User.objects.order_by("pk").values_list("username", "is_superuser", "is_staff", "password")) == before
    assert not User.objects.get(username=name).groups.exists()
    assert not AuditEvent.objects.filter(object_type="console user").exists()


def test_the_sync_service_refuses_a_superuser_whoever_calls_it(people):
    from console.services_users import console_user_sync_from_sso

    with pytest.raises(ValidationError, match="never signs in a superuser or staff account"):
        console_user_sync_from_sso(console_user=people.superuser, username="root", email="", groups=["Admin"])
    assert not people.superuser.groups.exists()


@pytest.mark.parametrize("name", ["\u0430pril", "apriI", "APRIL"])
def test_a_look_alike_name_from_the_idp_is_refused(backend, people, name):
    users = User.objects.count()

    with pytest.raises(SuspiciousOperation, match="looks too much like the existing console user april"):
        _sign_in_claims(backend, {"preferred_username": name, "groups": ["idp-approvers"]})

    assert User.objects.count() == users


@pytest.mark.parametrize("username", [None, "", "has space", "x" * 151, 42])
def test_claims_without_a_usable_user_name_are_refused(backend, people, username):
    users = User.objects.count()
    with pytest.raises(SuspiciousOperation):
        _sign_in_claims(backend, {"preferred_username": username, "groups": ["idp-admins"]})
    assert User.objects.count() == users


def test_a_bad_group_map_stops_the_backend_and_fails_the_system_check(sso_on):
    with override_settings(OIDC_GROUP_MAP="idp-admins=Root"):
        with pytest.raises(ImproperlyConfigured):
            ConsoleOIDCBackend()
        assert [message.id for message in sso.check_sso_settings(None)] == ["rolemodel.E001"]
    with override_settings(OIDC_GROUP_MAP=""):
        assert [message.id for message in sso.check_sso_settings(None)] == ["rolemodel.W001"]
    assert sso.check_sso_settings(None) == []


# ---- on: the whole sign-in, the IdP's answers stubbed ---------------------------------------


def test_with_a_client_id_the_login_page_offers_single_sign_on(client, sso_on):
    page = client.get(reverse("login"), {"next": "/plans/"}).content.decode()
    assert 'id="sso-login"' in page and "/oidc/authenticate/?next=/plans/" in page


def test_the_sign_on_link_sends_people_to_the_idp_with_state_nonce_and_pkce(client, sso_on):
    response = client.get("/oidc/authenticate/")

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://idp.example.com/authorize"
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert query["client_id"] == "rolemodel-console" and query["response_type"] == "code"
    assert query["state"] and query["nonce"] and query["code_challenge_method"] == "S256"
    assert "client-secret-from-the-idp" not in response["Location"]


def test_a_sign_in_through_the_idp_logs_in_maps_roles_and_is_recorded(client, people, sso_on, monkeypatch):
    state = parse_qs(urlsplit(client.get("/oidc/authenticate/", {"next": "/plans/"})["Location"]).query)["state"][0]
    monkeypatch.setattr(ConsoleOIDCBackend, "get_token", lambda self, payload: {"id_token": "id", "access_token": "access"})
    monkeypatch.setattr(ConsoleOIDCBackend, "verify_token", lambda self, token, **kwargs: {"sub": "1234"})
    monkeypatch.setattr(ConsoleOIDCBackend, "get_userinfo", lambda self, access, id_token, payload: {
        "preferred_username": "sam", "email": "sam@example.com", "groups": ["idp-editors"]})

    response = client.get("/oidc/callback/", {"code": "authorization-code", "state": state})

    assert response.status_code == 302 and response["Location"] == "/plans/"
    sam = User.objects.get(username="sam")
    assert client.session[SESSION_KEY] == str(sam.pk)
    assert _console_groups(sam) == {"Editor"}
    login = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert (login.actor, login.reason) == (sam, "single sign-on")
    assert 0 <= time.time() - client.session[sudo.SESSION_KEY] < 60
    assert client.get(reverse("plans:list")).status_code == 200


def test_a_refused_sign_in_comes_back_to_the_login_page_with_a_message(client, people, sso_on, monkeypatch):
    state = parse_qs(urlsplit(client.get("/oidc/authenticate/")["Location"]).query)["state"][0]
    monkeypatch.setattr(ConsoleOIDCBackend, "get_token", lambda self, payload: {"id_token": "id", "access_token": "access"})
    monkeypatch.setattr(ConsoleOIDCBackend, "verify_token", lambda self, token, **kwargs: {"sub": "1234"})
    monkeypatch.setattr(ConsoleOIDCBackend, "get_userinfo", lambda self, access, id_token, payload: {"groups": ["idp-admins"]})

    response = client.get("/oidc/callback/", {"code": "authorization-code", "state": state})

    assert response.status_code == 302 and response["Location"] == "/login/?sso=failed"
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Single sign-on did not sign you in" in page


def test_the_idp_naming_a_superuser_signs_nobody_in(client, people, sso_on, monkeypatch):
    state = parse_qs(urlsplit(client.get("/oidc/authenticate/")["Location"]).query)["state"][0]
    monkeypatch.setattr(ConsoleOIDCBackend, "get_token", lambda self, payload: {"id_token": "id", "access_token": "access"})
    monkeypatch.setattr(ConsoleOIDCBackend, "verify_token", lambda self, token, **kwargs: {"sub": "1234"})
    monkeypatch.setattr(ConsoleOIDCBackend, "get_userinfo", lambda self, access, id_token, payload: {
        "preferred_username": "root", "groups": ["idp-admins"]})

    response = client.get("/oidc/callback/", {"code": "authorization-code", "state": state})

    assert response.status_code == 302 and response["Location"] == "/login/?sso=failed"
    assert SESSION_KEY not in client.session
    assert not people.superuser.groups.exists()


# ---- off by default (after the tests above switched it on and back off) -------------------


def test_without_a_client_id_there_is_no_single_sign_on(client):
    assert not sso.enabled()
    assert "console.sso.ConsoleOIDCBackend" not in settings.AUTHENTICATION_BACKENDS
    assert sso.check_sso_settings(None) == []
    page = client.get(reverse("login")).content.decode()
    assert "single sign-on" not in page.lower() and 'id="sso-login"' not in page
    for path in ("/oidc/authenticate/", "/oidc/callback/?code=x&state=y", "/oidc/logout/"):
        assert client.get(path).status_code == 404


# ---- the settings, as a deployment sets them ---------------------------------------------------


def _manage(tmp_path, *args, **variables):
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env.update(ROLEMODEL_VAR_DIR=str(tmp_path), SECRET_KEY="x" * 60, DJANGO_SETTINGS_MODULE="rolemodel_site.settings",
               **variables)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def _sso_variables(**changes):
    variables = {name: str(value) for name, value in SSO_SETTINGS.items()
                 if name.startswith("OIDC_") and name != "OIDC_USE_PKCE"}
    return {**variables, **changes}


def test_the_environment_switches_single_sign_on_on(tmp_path):
    script = ("from django.conf import settings; from django.urls import reverse;"
              "print(settings.AUTHENTICATION_BACKENDS[-1], reverse('oidc_authentication_init'))")
    result = _manage(tmp_path, "shell", "-c", script, **_sso_variables())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["console.sso.ConsoleOIDCBackend", "/oidc/authenticate/"]
    assert _manage(tmp_path, "check", **_sso_variables()).returncode == 0


def test_a_half_configured_single_sign_on_stops_the_start(tmp_path):
    variables = _sso_variables()
    del variables["OIDC_RP_CLIENT_SECRET"]
    result = _manage(tmp_path, "check", **variables)
    assert result.returncode != 0 and "OIDC_RP_CLIENT_SECRET" in result.stderr

    result = _manage(tmp_path, "check", **_sso_variables(OIDC_GROUP_MAP="idp-admins=Root"))
    assert result.returncode != 0 and "rolemodel.E001" in result.stderr + result.stdout
