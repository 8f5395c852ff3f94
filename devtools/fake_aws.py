"""A fake AWS with several accounts: the moto server as a real process on loopback.

Each account is reached the way production reaches it: named profiles whose ``role_arn``
points into that account, assumed from one ``base`` profile with dummy keys. moto hands out
credentials that belong to the account in the role ARN, so ``master`` lands in 111111111111,
``prod`` in 222222222222 and so on (see shared/notes/moto.md).

Never set ``MOTO_ACCOUNT_ID``: it forces every request into one account.
"""
from __future__ import annotations

import configparser
import os
import re
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.session
from botocore.exceptions import ClientError

from devtools.processes import (
    VENV_BIN,
    ManagedProcess,
    http_answers,
    start_process,
    wait_until_ready,
)

MOTO_SERVER_COMMAND = (str(VENV_BIN / "python"), str(Path(__file__).resolve().parent / "moto_server.py"))
DEFAULT_ACCOUNTS = {
    "master": "111111111111",
    "prod": "222222222222",
    "cdn": "333333333333",
    "staging": "444444444444",
}
SOURCE_PROFILE = "base"
DEFAULT_REGION = "us-east-1"
DEFAULT_ROLE_NAME = "admin"
# Any key pair works against moto; these name themselves so nobody mistakes them for real ones.
DUMMY_ACCESS_KEY_ID = "AKIAFAKEFORMOTOONLY0"
DUMMY_SECRET_ACCESS_KEY = "fake-secret-for-the-moto-server-only"


@dataclass(frozen=True)
class AwsProfiles:
    """The AWS config and credentials files written for the fake accounts."""

    config_file: Path
    credentials_file: Path
    accounts: Mapping[str, str]  # profile name -> 12-digit account id
    region: str
    role_name: str

    def role_arn(self, profile: str) -> str:
        return f"arn:aws:iam::{self.accounts[profile]}:role/{self.role_name}"


def write_aws_profiles(
    directory: Path,
    *,
    accounts: Mapping[str, str] = DEFAULT_ACCOUNTS,
    endpoint_url: str = "",
    region: str = DEFAULT_REGION,
    role_name: str = DEFAULT_ROLE_NAME,
) -> AwsProfiles:
    """Write ``config`` and ``credentials`` into ``directory``: one profile per account plus ``base``.

    With ``endpoint_url`` every profile also names the fake endpoint, so a process that loses
    ``AWS_ENDPOINT_URL`` still cannot reach real AWS with these files.
    """
    for profile, account_id in accounts.items():
        if profile == SOURCE_PROFILE:
            raise ValueError(f"The profile name {SOURCE_PROFILE!r} is reserved for the dummy source credentials.")
        if not (len(account_id) == 12 and account_id.isdigit()):
            raise ValueError(f"Account id for profile {profile!r} must be 12 digits, not {account_id!r}.")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    config = configparser.ConfigParser(interpolation=None)
    config[f"profile {SOURCE_PROFILE}"] = {"region": region}
    for profile, account_id in accounts.items():
        config[f"profile {profile}"] = {
            "role_arn": f"arn:aws:iam::{account_id}:role/{role_name}",
            "source_profile": SOURCE_PROFILE,
            "region": region,
        }
    if endpoint_url:
        for section in config.sections():
            config[section]["endpoint_url"] = endpoint_url
    credentials = configparser.ConfigParser(interpolation=None)
    credentials[SOURCE_PROFILE] = {
        "aws_access_key_id": DUMMY_ACCESS_KEY_ID,
        "aws_secret_access_key": DUMMY_SECRET_ACCESS_KEY,
    }

    config_file, credentials_file = directory / "config", directory / "credentials"
    for path, parser in ((config_file, config), (credentials_file, credentials)):
        with open(path, "w") as handle:
            parser.write(handle)
        path.chmod(0o600)
    return AwsProfiles(
        config_file=config_file,
        credentials_file=credentials_file,
        accounts=dict(accounts),
        region=region,
        role_name=role_name,
    )


def aws_variables(*, endpoint_url: str, profiles: AwsProfiles) -> dict[str, str]:
    """The AWS_* variables a process needs to use the fake AWS through the profiles."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_CONFIG_FILE": str(profiles.config_file),
        "AWS_SHARED_CREDENTIALS_FILE": str(profiles.credentials_file),
        "AWS_DEFAULT_REGION": profiles.region,
        # No instance metadata lookups: there is no EC2 here, and waiting for one is slow.
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def without_aws_settings(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` minus every AWS_* variable (real keys, profiles, per-service endpoints) and MOTO_ACCOUNT_ID."""
    return {key: value for key, value in env.items() if not key.startswith("AWS_") and key != "MOTO_ACCOUNT_ID"}


def aws_environment(*, endpoint_url: str, profiles: AwsProfiles, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A whole environment for a child process: ``base`` (default: ours) with only the fake AWS in it."""
    env = without_aws_settings(os.environ if base is None else base)
    env.update(aws_variables(endpoint_url=endpoint_url, profiles=profiles))
    return env


def boto3_session(profiles: AwsProfiles, profile: str) -> boto3.Session:
    """A boto3 session for one profile, reading our files without touching os.environ.

    After ``FakeAWS.reset()`` build new sessions: one holding assumed credentials from before
    the reset silently lands in moto's default account.
    """
    core = botocore.session.Session()
    core.set_config_variable("config_file", str(profiles.config_file))
    core.set_config_variable("credentials_file", str(profiles.credentials_file))
    # An explicit profile also keeps real keys in this process's environment out of the chain.
    core.set_config_variable("profile", profile)
    core.set_config_variable("region", profiles.region)
    return boto3.Session(botocore_session=core)


def create_iam_users(session: boto3.Session, user_names: Iterable[str]) -> list[str]:
    """Create each IAM user that does not exist yet; returns the names created."""
    iam = session.client("iam")
    created = []
    for user_name in user_names:
        try:
            iam.create_user(UserName=user_name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "EntityAlreadyExists":
                raise
        else:
            created.append(user_name)
    return created


@dataclass
class FakeAWS:
    process: ManagedProcess
    endpoint_url: str

    def reset(self) -> None:
        """Forget every resource in every account (about 20 ms)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def warm_up_cloudformation(self) -> None:
        """The first CloudFormation call on a fresh server imports a lot (~3-4 s); pay it now."""
        client = boto3.client(
            "cloudformation",
            endpoint_url=self.endpoint_url,
            region_name=DEFAULT_REGION,
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        )
        client.list_stacks()

    def stop(self) -> None:
        self.process.stop(grace_seconds=5)


def start_fake_aws(
    *, log_path: Path, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0,
    server_command: Sequence[str] | None = None,
) -> FakeAWS:
    """Start moto's server (``devtools/moto_server.py``: ``moto_server`` that also replaces an IAM role
    whose RoleName or Path a stack update changes, as AWS does), or ``server_command``, which takes
    moto_server's ``-H``/``-p``, on loopback and wait until it answers.

    With port 0 the OS picks a free port as the server binds it, and we read it from the
    server's log: no window in which another process could take a port we found free.
    """
    log_path = Path(log_path)
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    argv = [*(server_command or MOTO_SERVER_COMMAND), "-H", host, "-p", str(port)]
    process = start_process("moto server", argv, env=without_aws_settings(os.environ), log_path=log_path)
    listening = re.compile(rf"Running on http://{re.escape(host)}:(\d+)")
    endpoint: list[str] = []

    def answers() -> bool:
        if not endpoint:
            with open(log_path, errors="replace") as log:
                log.seek(log_offset)
                match = listening.search(log.read())
            if not match:
                return False
            endpoint.append(f"http://{host}:{match.group(1)}")
        return http_answers(f"{endpoint[0]}/moto-api/")

    wait_until_ready(process, answers, timeout=timeout)
    return FakeAWS(process=process, endpoint_url=endpoint[0])


@dataclass
class FakeAwsAccounts:
    """A running fake AWS together with the profiles that reach its accounts."""

    server: FakeAWS
    profiles: AwsProfiles

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    @property
    def variables(self) -> dict[str, str]:
        return aws_variables(endpoint_url=self.server.endpoint_url, profiles=self.profiles)

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        return aws_environment(endpoint_url=self.server.endpoint_url, profiles=self.profiles, base=base)

    def session(self, profile: str) -> boto3.Session:
        return boto3_session(self.profiles, profile)

    def account_id(self, profile: str) -> str:
        return self.profiles.accounts[profile]

    def reset(self) -> None:
        self.server.reset()

    def stop(self) -> None:
        self.server.stop()


def start_fake_accounts(
    directory: Path,
    *,
    accounts: Mapping[str, str] = DEFAULT_ACCOUNTS,
    port: int = 0,
    log_path: Path | None = None,
) -> FakeAwsAccounts:
    """Start the server (its log in ``directory`` unless given) and write its profiles to ``directory``/aws."""
    directory = Path(directory)
    server = start_fake_aws(log_path=log_path or directory / "moto.log", port=port)
    try:
        profiles = write_aws_profiles(directory / "aws", accounts=accounts, endpoint_url=server.endpoint_url)
    except BaseException:
        server.process.kill()
        raise
    return FakeAwsAccounts(server=server, profiles=profiles)
