"""Every ``rolemodel`` subcommand run ``--as`` a console user checks the capability its page checks:
refused with a non-zero exit, a clear message, and nothing read from AWS or written anywhere.

Before: ``import``, ``export``, ``list`` and ``audit`` did not check at all (``import --as vera`` wrote
changes under a Viewer's name).
"""
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from cli.capabilities import REQUIRED
from cli.subcommands import SUBCOMMANDS
from integrations import aws
from plans.models import Job, Plan
from tests.commands import command_refused
from tests.factories import pending_plan
from tests.test_bad_input_forms import everything
from tests.test_cli_import import ORIGINAL

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(people) -> Plan:
    return pending_plan(people.editor)


@pytest.fixture
def approved_plan(plan) -> Plan:
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.APPROVED, decided_by_name="april")
    return plan


@pytest.fixture
def no_aws(monkeypatch):
    """Any AWS client made during a refused command fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a refused command reached for AWS")

    monkeypatch.setattr(aws, "client", refuse)


def refused(*args) -> str:
    return command_refused(*args, unchanged=everything)


def test_import_as_a_viewer_is_refused_and_imports_nothing(people, no_aws):
    message = refused("import", ORIGINAL / "config.yml", "--users", ORIGINAL / "users.yml", "--as", "vera")
    assert message == "--as vera: only members of the Editor or Admin group import files into the desired state."


def test_import_dry_run_as_a_viewer_is_refused_too(people):
    assert "--as vera: only members of the Editor or Admin group" in refused(
        "import", ORIGINAL / "config.yml", "--dry-run", "--as", "vera"
    )


def test_import_as_an_approver_is_refused(people):
    assert refused("import", ORIGINAL / "config.yml", "--as", "april").startswith("--as april: only members")


def test_import_as_an_editor_still_works(people):
    call_command("rolemodel", "import", str(ORIGINAL / "config.yml"), "--as", "eddie", stdout=StringIO())


def test_export_as_a_user_without_a_console_role_is_refused_and_writes_no_file(people, tmp_path):
    target = tmp_path / "out"
    message = refused("export", target, "--as", "noel")
    assert message == "--as noel: only console users with a console role (Viewer or above) export the desired state."
    assert not target.exists()


def test_export_as_a_viewer_works(people, tmp_path):
    call_command("rolemodel", "export", str(tmp_path / "out"), "--as", "vera", stdout=StringIO())
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["config.yml", "roles.cf", "users.yml"]


def test_plan_as_a_viewer_is_refused_and_plans_nothing(people, no_aws):
    assert refused("plan", "--as", "vera") == "--as vera: only members of the Editor or Admin group request plans."
    assert not Plan.objects.exists()


@pytest.mark.parametrize("who", ["eddie", "vera", "ada", "root"])
def test_approve_as_a_non_approver_is_refused(plan, who):
    assert refused("approve", plan.pk, "--as", who) == f"--as {who}: Only members of the Approver group approve plans."


@pytest.mark.parametrize("who", ["eddie", "vera"])
def test_reject_as_a_non_approver_is_refused(plan, who):
    message = refused("reject", plan.pk, "--as", who, "--comment", "no")
    assert message == f"--as {who}: Only members of the Approver group reject plans."


@pytest.mark.parametrize("who", ["vera", "noel"])
def test_apply_as_a_viewer_is_refused_and_starts_nothing(approved_plan, who, no_aws):
    message = refused("apply", approved_plan.pk, "--as", who)
    assert message == f"--as {who}: only members of the Editor, Admin or Approver group start applies."
    assert not Job.objects.filter(kind=Job.Kind.APPLY).exists()


def test_list_as_a_user_without_a_console_role_is_refused_before_reading_aws(people, no_aws):
    message = refused("list", "--as", "noel")
    assert message == "--as noel: only console users with a console role (Viewer or above) read the live roles."


def test_sync_users_as_a_viewer_is_refused_and_changes_nothing(people, tmp_path):
    users = tmp_path / "users.yml"
    users.write_text(yaml.safe_dump({"prod": {"Admin": ["alice"]}}))
    message = refused("sync_users", users, "--as", "vera")
    assert message == "--as vera: only members of the Editor or Admin group change memberships."


def test_audit_verify_as_a_user_without_a_console_role_is_refused(people):
    message = refused("audit", "verify", "--as", "noel")
    assert message == "--as noel: only console users with a console role (Viewer or above) verify the audit history."


def test_audit_verify_as_a_viewer_works(people):
    out = StringIO()
    call_command("rolemodel", "audit", "verify", "--as", "vera", stdout=out)
    assert out.getvalue()


def test_every_subcommand_declares_its_capability_and_takes_as():
    assert sorted(REQUIRED) == sorted(sub.name for sub in SUBCOMMANDS)


def test_a_subcommand_missing_from_the_table_is_refused_for_every_user(people, monkeypatch):
    monkeypatch.delitem(REQUIRED, "export")
    assert "is not open to console users" in refused("export", "/tmp/never-written", "--as", "ada")


def test_the_real_command_exits_non_zero_for_import_as_a_viewer(tmp_path):
    """Through manage.py, on a database of its own: status 1, the message on stderr, no traceback, nothing imported."""
    env = {"PATH": "/usr/bin:/bin", "ROLEMODEL_VAR_DIR": str(tmp_path), "HOME": str(tmp_path)}

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=300, env=env)

    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    made = manage("shell", "-c", "from django.contrib.auth.models import Group, User; "
                  "User.objects.create_user('vera').groups.add(Group.objects.get(name='Viewer'))")
    assert made.returncode == 0, made.stderr

    result = manage("rolemodel", "import", str(ORIGINAL / "config.yml"), "--as", "vera")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "CommandError: --as vera: only members of the Editor or Admin group import files into the desired state."
    )
    counted = manage("shell", "-c", "from roles.models import RoleDefinition; print(RoleDefinition.objects.count())")
    assert counted.stdout.strip().splitlines()[-1] == "0"
