"""A world for the tests of what an approval pins: a master, `prod` and `sandbox`, each reached through
a named profile of the console's own AWS config file, which a test can repoint behind the console's
back (the profile `sandbox` then reaches prod's account), as an operator with shell access could.

Two copies of the profiles: the console's (the environment points at it; tests tamper with it) and
the truth (never changed), through which tests read what each account really holds.
"""
from dataclasses import dataclass
from pathlib import Path

import pytest

from accounts.models import AssumableAccount
from audit.services import Actor
from devtools.fake_aws import AwsProfiles, FakeAwsAccounts, boto3_session, create_iam_users, write_aws_profiles
from integrations import aws
from interchange.importing import import_files
from plans import services
from plans.models import Job, Plan
from roles.models import RoleDefinition
from roles.services import role_update
from tests import one_role_world
from tests.aws_world import describe_stack
from tests.workflow import apply_now, plan_now

STACK = "Pinned-RoleModel"
ACCOUNTS = {"master": "111111111111", "prod": "222222222222", "sandbox": "555555555555"}
MEMBER = "support.lee"


@dataclass
class PinnedWorld:
    fake_aws: FakeAwsAccounts
    console_profiles: AwsProfiles  # what the console reads; tests repoint profiles here
    truth: AwsProfiles  # never changed: what each account really is

    def session(self, account: str):
        """A boto3 session really in ``account`` (master, prod or sandbox)."""
        return boto3_session(self.truth, account)

    def repoint(self, profile: str, *, to: str) -> None:
        """Make the console's ``profile`` reach the account ``to`` (in the AWS config file only)."""
        accounts = dict(self.console_profiles.accounts)
        accounts[profile] = ACCOUNTS[to]
        self.console_profiles = write_aws_profiles(
            self.console_profiles.config_file.parent, accounts=accounts, endpoint_url=self.fake_aws.endpoint_url
        )
        aws.reset_session_cache()  # this process reads the file again, as a restarted worker would

    def aws_variables(self) -> dict:
        """The AWS_* settings of a process (CLI, worker) that reads the console's profiles."""
        return {"AWS_CONFIG_FILE": str(self.console_profiles.config_file),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.console_profiles.credentials_file)}

    def stack(self, account: str) -> dict | None:
        """The stack as that account really holds it (status, id, last update), or None."""
        stack = describe_stack(self.session(account), STACK)
        if stack is None:
            return None
        return {key: stack.get(key) for key in ("StackId", "StackStatus", "LastUpdatedTime")}

    def gone(self, account: str) -> bool:
        stack = self.stack(account)
        return stack is None or stack["StackStatus"] == "DELETE_COMPLETE"

    def role_names(self, account: str) -> set[str]:
        return {role["RoleName"] for role in self.session(account).client("iam").list_roles()["Roles"]}

    def groups(self, account: str) -> set[str]:
        return {group["GroupName"] for group in self.session(account).client("iam").list_groups()["Groups"]}


def approved_plan_deleting_the_sandbox_stack(world, people) -> Plan:
    """Both stacks and groups in AWS; then the role is kept for prod only, planned and approved: the
    plan deletes the sandbox stack and the sandbox group, and leaves prod alone."""
    eddie = Actor.from_user(people.editor)
    job = apply_now(plan_now(eddie), approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    role_update(actor=eddie, role=RoleDefinition.objects.get(logical_name="ReadOnlyRole"), applies_to_all_accounts=False,
                accounts=[AssumableAccount.objects.get(name="prod")], reason="sandbox is being retired")
    plan = plan_now(eddie)
    assert {a["name"]: a["action"] for a in plan.accounts} == {"prod": "none", "sandbox": "delete"}, plan.error
    assert [g["group"] for g in plan.master["groups_remove"]] == ["sandbox.ReadOnlyRole"]
    services.plan_approve(actor=Actor.from_user(people.approver), plan=plan)
    return Plan.objects.get(pk=plan.pk)


def write_world_files(directory: Path) -> tuple[Path, Path]:
    assumable = {name: account_id for name, account_id in ACCOUNTS.items() if name != "master"}
    return one_role_world.write_world_files(directory, stack=STACK, master_id=ACCOUNTS["master"], accounts=assumable,
                                            member=MEMBER)


@pytest.fixture
def pinned_world(fake_aws, people, tmp_path, monkeypatch):
    """prod and sandbox with one role and one member, imported by eddie (an Editor); nothing in AWS yet
    but the member, in the master account."""
    truth = write_aws_profiles(tmp_path / "truth", accounts=ACCOUNTS, endpoint_url=fake_aws.endpoint_url)
    console = write_aws_profiles(tmp_path / "console", accounts=ACCOUNTS, endpoint_url=fake_aws.endpoint_url)
    world = PinnedWorld(fake_aws=fake_aws, console_profiles=console, truth=truth)
    for name, value in world.aws_variables().items():
        monkeypatch.setenv(name, value)
    aws.reset_session_cache()
    create_iam_users(world.session("master"), [MEMBER])
    files = tmp_path / "files"
    files.mkdir()
    config, users = write_world_files(files)
    import_files(config_path=config, users_path=users, actor=Actor.from_user(people.editor), dry_run=False)
    yield world
    aws.reset_session_cache()
