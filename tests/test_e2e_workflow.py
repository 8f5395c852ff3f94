"""End to end, as people use it: the command line and a real Celery worker on a real broker, against
the moto server. Import the samples, plan, approve as another person, apply, read AWS back, and the
follow-ups (no-op plan, one policy change, one membership removed, teardown).

Runs on the server-less file broker always, and on Redis when the settings use it (CI).
"""
import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from devtools.fake_aws import create_iam_users
from devtools.processes import PROJECT_ROOT
from tests.aws_world import SAMPLE_ACCOUNTS, SAMPLE_ROLES, SAMPLES, live_groups, live_role_names, live_stack_status, sample_user_names

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROKERS = ["filesystem://"] + ([settings.CELERY_BROKER_URL] if settings.CELERY_BROKER_URL.startswith("redis") else [])
STACK = "Sample-RoleModel"


class Cli:
    """``manage.py rolemodel …`` in its own process, with the worker's settings (database, broker, AWS)."""

    def __init__(self, env):
        self.env = env

    def run(self, *args, expect_ok=True):
        result = subprocess.run(
            [sys.executable, "manage.py", "rolemodel", *args], cwd=PROJECT_ROOT, env=self.env,
            capture_output=True, text=True, timeout=300,
        )
        if expect_ok:
            assert result.returncode == 0, f"rolemodel {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def json(self, *args, expect_ok=True):
        result = self.run(*args, "--json", expect_ok=expect_ok)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"stdout must hold exactly one JSON object, got:\n{result.stdout}"
        return json.loads(lines[0]), result


@pytest.fixture(params=BROKERS, ids=lambda url: url.split("://")[0])
def cli(request, celery_worker_factory, fake_aws, people):
    worker = celery_worker_factory(request.param)
    create_iam_users(fake_aws.session("master"), sample_user_names())
    return Cli(worker.env)


def test_the_whole_workflow_through_the_worker(cli, fake_aws, people, tmp_path):
    # eddie may approve in general, but not the plan he requested: four eyes.
    people.editor.groups.add(Group.objects.get(name="Approver"))
    cli.run("import", str(SAMPLES / "config.yml"), "--users", str(SAMPLES / "users.yml"), "--as", people.editor.username)

    plan, _ = cli.json("plan", "--wait", "--as", people.editor.username)
    assert plan["status"] == "pending" and not plan["blocked"], plan
    assert plan["changes"]["add"] > 0 and plan["api_calls"]["writes"] == len(SAMPLE_ACCOUNTS)  # one change set each

    refused = cli.run("approve", str(plan["id"]), "--as", people.editor.username, expect_ok=False)
    assert refused.returncode != 0 and "four eyes" in refused.stderr
    cli.run("approve", str(plan["id"]), "--as", people.approver.username)

    applied, _ = cli.json("apply", str(plan["id"]), "--wait", "--as", people.editor.username)
    assert applied["status"] == "succeeded", applied
    assert applied["api_calls"]["writes"] > 0

    groups = live_groups(fake_aws)
    assert set(groups) == {f"{account}.{role}" for account in SAMPLE_ACCOUNTS for role in SAMPLE_ROLES}
    for name, group in groups.items():
        account, role = name.split(".")
        assert group["path"] == "/RoleModel/"
        document = group["policies"][f"{name}-Policy"]
        assert document["Statement"][0]["Resource"] == f"arn:aws:iam::{fake_aws.account_id(account)}:role/{role}"
    assert groups["prod.AdminRole"]["members"] == {"maria.admin"}
    assert groups["prod.PowerUserRole"]["members"] == {"dev.jones", "dev.okafor"}
    for account in SAMPLE_ACCOUNTS:
        assert set(SAMPLE_ROLES) <= live_role_names(fake_aws, account)

    listing = cli.run("list").stdout
    assert "Account: prod" in listing and "AdminRole (arn:aws:iam::222222222222:role/AdminRole)" in listing

    again, _ = cli.json("plan", "--wait")
    assert again["status"] == "no_changes" and again["api_calls"]["writes"] == 0
    # DescribeStacks and GetTemplate per account, the master's two reads, and (now counted too) at most
    # one AssumeRole per account and for the master, in a worker child that had no credentials yet.
    assert again["api_calls"]["total"] <= 2 * len(SAMPLE_ACCOUNTS) + 2 + len(SAMPLE_ACCOUNTS) + 1

    users_file = tmp_path / "users-without-okafor.yml"
    users_file.write_text("prod:\n  PowerUserRole:\n    - dev.jones\n")
    cli.run("sync_users", str(users_file), "--as", people.other_editor.username)
    removal, _ = cli.json("plan", "--wait", "--as", people.other_editor.username)
    assert removal["changes"] == {"add": 0, "change": 0, "remove": 1}
    cli.run("approve", str(removal["id"]), "--as", people.approver.username)
    cli.json("apply", str(removal["id"]), "--wait")
    assert live_groups(fake_aws)["prod.PowerUserRole"]["members"] == {"dev.jones"}

    teardown, _ = cli.json("plan", "--teardown", "--wait", "--as", people.editor.username)
    cli.run("approve", str(teardown["id"]), "--as", people.other_approver.username)
    done, _ = cli.json("apply", str(teardown["id"]), "--wait")
    assert done["status"] == "succeeded", done
    assert live_groups(fake_aws) == {}
    for account in SAMPLE_ACCOUNTS:
        assert live_stack_status(fake_aws, account, STACK) in (None, "DELETE_COMPLETE")
        assert not set(SAMPLE_ROLES) & live_role_names(fake_aws, account)
