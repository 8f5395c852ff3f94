"""docker-compose.yml and the Dockerfile agree with each other and with the project.

No Docker engine runs here, so these check what can go wrong without one: a service that
depends on a missing one, a URL naming the wrong host, a module that does not exist.
"""
import importlib.util
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
APP_SERVICES = ["migrate", "web", "worker", "beat"]


def command_text(service: str) -> str:
    command = SERVICES[service]["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_it_has_every_service_with_a_health_check_where_others_wait_on_it():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat", "fake-aws"}
    for name, service in SERVICES.items():
        for dependency, how in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, f"{name} depends on unknown service {dependency}"
            if how["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], f"{name} waits for {dependency} to be healthy"
            if how["condition"] == "service_completed_successfully":
                assert SERVICES[dependency].get("restart") == "no", f"{dependency} must be one-shot"


def test_the_images_and_health_checks_are_the_ones_asked_for():
    assert SERVICES["postgres"]["image"] == "postgres:16"
    assert "pg_isready" in SERVICES["postgres"]["healthcheck"]["test"]
    assert SERVICES["redis"]["image"] == "redis:7"
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/login/" in " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "/moto-api/" in " ".join(SERVICES["fake-aws"]["healthcheck"]["test"])


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_app_service_runs_the_project_image_with_the_same_settings(service):
    config = SERVICES[service]
    environment = config["environment"]

    assert config["build"] == "."
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS"} <= set(environment)
    assert environment == SERVICES["web"]["environment"]
    # Hosts are service names; the database is the one postgres creates.
    postgres = SERVICES["postgres"]["environment"]
    assert re.fullmatch(
        rf"postgres://{postgres['POSTGRES_USER']}:\$\{{POSTGRES_PASSWORD:\?[^}}]+\}}@postgres:5432/{postgres['POSTGRES_DB']}",
        environment["DATABASE_URL"],
    )
    assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    # No default secret: compose refuses to start without one.
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_the_commands_name_modules_that_exist():
    assert "gunicorn rolemodel_site.wsgi" in command_text("web")
    assert "collectstatic --noinput" in command_text("web")
    assert command_text("migrate") == "python manage.py migrate --noinput"
    assert command_text("worker").startswith("celery -A rolemodel_site worker")
    assert command_text("beat").startswith("celery -A rolemodel_site beat")
    for module in ("rolemodel_site.wsgi", "rolemodel_site.celery"):
        assert importlib.util.find_spec(module) is not None


def test_the_fake_aws_is_only_in_the_demo_profile_and_never_forces_one_account():
    assert SERVICES["fake-aws"]["profiles"] == ["demo"]
    assert all("profiles" not in config for name, config in SERVICES.items() if name != "fake-aws")
    assert "MOTO_ACCOUNT_ID" not in yaml.safe_dump(SERVICES["fake-aws"])
    assert "-p 5000" in command_text("fake-aws")


def test_the_dockerfile_installs_the_requirements_and_runs_as_a_user():
    instructions = [line.split(None, 1) for line in DOCKERFILE.splitlines() if line and not line.startswith((" ", "#"))]
    keywords = [keyword for keyword, _ in instructions]

    assert instructions[0] == ["FROM", "python:3.11-slim"]
    assert "pip install -r requirements.txt" in DOCKERFILE
    assert keywords.index("COPY") < keywords.index("USER") < keywords.index("CMD")
    user = dict(instructions)["USER"]
    assert user not in ("root", "0")
    assert (ROOT / "requirements.txt").exists()


def test_the_image_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".venv", "var", ".env", ".git", "staticfiles"} <= ignored
