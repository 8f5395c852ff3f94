"""A small world for the fault tests: two accounts, one role, one member, all AWS traffic through
the fault proxy (devtools/fault_proxy.py) in front of the moto server. Small, so that each plan
and apply takes a second or two and the fault tests stay fast.
"""
from pathlib import Path

import pytest

from audit.services import Actor
from devtools.fake_aws import create_iam_users
from devtools.fault_proxy import FaultProxy
from integrations import aws
from interchange.importing import import_files
from plans import services
from plans.models import Job, JobStep, Plan
from tests import one_role_world
from tests.workflow import run_apply_job

STACK = "Faults-RoleModel"
ACCOUNTS = {"prod": "222222222222", "cdn": "333333333333"}
MASTER_ID = "111111111111"
MEMBER = "support.lee"


@pytest.fixture(scope="session")
def fault_proxy_server(fake_aws_server):
    fake_aws_server.server.warm_up_cloudformation()
    proxy = FaultProxy(fake_aws_server.endpoint_url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def fault_proxy(fault_proxy_server, fake_aws, monkeypatch) -> FaultProxy:
    """The proxy with no rules, and this process's AWS traffic going through it."""
    fault_proxy_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy_server.url)
    aws.reset_session_cache()
    yield fault_proxy_server
    fault_proxy_server.clear()
    aws.reset_session_cache()


def write_world_files(directory: Path) -> tuple[Path, Path]:
    return one_role_world.write_world_files(directory, stack=STACK, master_id=MASTER_ID, accounts=ACCOUNTS, member=MEMBER)


@pytest.fixture
def small_world(fault_proxy, fake_aws, people, tmp_path):
    """Two accounts, one role, one member imported by eddie (an Editor); the member exists in AWS."""
    create_iam_users(fake_aws.session("master"), [MEMBER])
    config, users = write_world_files(tmp_path)
    import_files(config_path=config, users_path=users, actor=Actor.from_user(people.editor), dry_run=False)
    return fault_proxy


@pytest.fixture
def fast_failing_aws(settings):
    """AWS calls give up after two attempts of one second each, so "AWS stopped answering" shows quickly."""
    settings.ROLEMODEL_AWS_CONNECT_TIMEOUT = 1
    settings.ROLEMODEL_AWS_READ_TIMEOUT = 1
    settings.ROLEMODEL_AWS_MAX_ATTEMPTS = 2
    aws.reset_session_cache()  # sessions hold STS clients built with the old limits


def approve(plan: Plan, people) -> None:
    services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)


def apply_now(plan: Plan, people) -> Job:
    approve(plan, people)
    return run_apply_job(services.apply_request(actor=Actor.from_user(people.editor), plan=plan))


def steps_by_target(job: Job) -> dict[str, JobStep]:
    return {step.target: step for step in job.steps.all()}


def actions(plan: Plan) -> dict[str, str]:
    return {account["name"]: account["action"] for account in plan.accounts}
