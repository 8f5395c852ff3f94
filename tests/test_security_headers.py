"""Production settings pass Django's deployment checks; every page carries a strict
Content-Security-Policy, refuses framing, and contains nothing inline that the policy would block.
"""
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.test_permission_matrix import EXPECTED, _url
from tests.test_permission_matrix import objects  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)


def _inline_code(html: str) -> list[str]:
    found = []
    for name, pattern in (("inline <script>", INLINE_SCRIPT), ("<style>", STYLE_ELEMENT), ("style attribute", STYLE_ATTRIBUTE),
                          ("event handler attribute", EVENT_ATTRIBUTE), ("javascript: URL", JAVASCRIPT_URL)):
        found += [f"{name}: {match.group(0).strip()}" for match in pattern.finditer(html)]
    return found


def _production_environment(tmp_path) -> dict:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="console.example.com",
        CSRF_TRUSTED_ORIGINS="https://console.example.com",
        DATABASE_URL="postgres://rolemodel:not-used@db.example.com:5432/rolemodel",
        CELERY_BROKER_URL="redis://redis.example.com:6379/0",
        USE_X_FORWARDED_PROTO="true",
        ROLEMODEL_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="rolemodel_site.settings",
    )
    return env


# ---- deployment ---------------------------------------------------------------------------


def test_production_settings_pass_the_deployment_checks(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=_production_environment(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_what_the_readme_promises(tmp_path):
    script = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({name: getattr(s, name, None) for name in ["
        "'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY',"
        "'SESSION_EXPIRE_AT_BROWSER_CLOSE', 'SESSION_COOKIE_AGE', 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT',"
        "'SECURE_PROXY_SSL_HEADER', 'X_FRAME_OPTIONS']}))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=_production_environment(tmp_path),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["CSRF_COOKIE_SECURE"] and values["CSRF_COOKIE_HTTPONLY"]
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] and values["SESSION_COOKIE_AGE"] <= 8 * 3600
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["X_FRAME_OPTIONS"] == "DENY"


def test_the_deployment_checks_catch_a_weak_secret_key(tmp_path):
    env = {**_production_environment(tmp_path), "SECRET_KEY": "short"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


# ---- headers ------------------------------------------------------------------------------


def test_pages_carry_a_strict_content_security_policy(client_for, people):
    response = client_for(people.viewer).get(reverse("console:dashboard"))
    assert response.status_code == 200
    policy = dict(directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_login_page_carries_the_policy_too(client):
    response = client.get(reverse("login"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_https_responses_carry_hsts_and_secure_cookies(client, people, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = True
    response = client.post(reverse("login"), {"username": people.viewer.username, "password": "correct-horse-battery-staple"},
                           secure=True)
    assert response.status_code == 302
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["secure"] and session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"


# ---- nothing inline -----------------------------------------------------------------------


def _template_files() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [ROOT / app / "templates" for app in ("core", "accounts", "roles", "memberships", "audit", "plans")]
    return sorted(path for folder in folders if folder.exists() for path in folder.rglob("*.html"))


def test_no_template_has_inline_scripts_or_styles():
    templates = _template_files()
    assert len(templates) > 20
    found = {str(path.relative_to(ROOT)): _inline_code(path.read_text()) for path in templates}
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_no_template_tag_writes_inline_styles_or_scripts():
    sources = sorted(ROOT.glob("*/templatetags/*.py"))
    assert sources
    found = {str(path.relative_to(ROOT)): _inline_code(path.read_text()) for path in sources}
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_htmx_is_told_not_to_inject_styles_nor_evaluate_code(client_for, people):
    html = client_for(people.viewer).get(reverse("console:dashboard")).content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert config, "base.html must configure htmx"
    assert json.loads(config.group(1)) == {"includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False}


@pytest.mark.parametrize("name", sorted(name for name, (methods, _) in EXPECTED.items() if "GET" in methods))
def test_every_page_renders_without_inline_code(client_for, people, objects, name):  # noqa: F811
    response = client_for(people.admin).get(_url(name, objects, people))
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        assert _inline_code(response.content.decode()) == []
        assert "default-src 'self'" in response["Content-Security-Policy"]


def test_the_polling_fragments_render_without_inline_code(client_for, people, objects):  # noqa: F811
    client = client_for(people.viewer)
    for name in ("plans:detail", "plans:job_detail"):
        response = client.get(_url(name, objects, people), HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert _inline_code(response.content.decode()) == []
