"""The fake AWS: a moto server process whose accounts are reached through named profiles."""
import os
import subprocess
import sys

import boto3
import pytest

from devtools.fake_aws import DEFAULT_ACCOUNTS, aws_environment, boto3_session, create_iam_users, write_aws_profiles
from devtools.processes import PROJECT_ROOT

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("profile", sorted(DEFAULT_ACCOUNTS))
def test_each_profile_lands_in_its_own_account(fake_aws, profile):
    identity = fake_aws.session(profile).client("sts").get_caller_identity()

    assert identity["Account"] == DEFAULT_ACCOUNTS[profile]
    assert identity["Arn"].startswith(f"arn:aws:sts::{DEFAULT_ACCOUNTS[profile]}:assumed-role/admin/")


def test_the_fake_aws_fixture_points_plain_boto3_here_and_drops_real_settings(monkeypatch, request):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKINGKEY00")
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "https://sts.amazonaws.com")
    request.getfixturevalue("fake_aws")

    # What the product's AWS module will do: a named profile, everything else from the environment.
    identity = boto3.Session(profile_name="prod").client("sts").get_caller_identity()

    assert identity["Account"] == "222222222222"
    assert not {"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_ENDPOINT_URL_STS"} & set(os.environ)


def test_a_child_process_with_the_environment_reaches_the_same_accounts(fake_aws_server):
    env = aws_environment(
        endpoint_url=fake_aws_server.endpoint_url,
        profiles=fake_aws_server.profiles,
        base={"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "AKIAREALLOOKINGKEY00", "AWS_PROFILE": "production"},
    )
    code = "import boto3; print(boto3.Session(profile_name='cdn').client('sts').get_caller_identity()['Account'])"

    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "333333333333"
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_PROFILE" not in env
    assert env["AWS_ENDPOINT_URL"] == fake_aws_server.endpoint_url


def test_iam_users_are_created_once_in_the_master_account_only(fake_aws):
    master = fake_aws.session("master")

    assert create_iam_users(master, ["carol@foobar.com", "bob@foobar.com"]) == ["carol@foobar.com", "bob@foobar.com"]
    assert create_iam_users(master, ["bob@foobar.com", "ted@foobar.com"]) == ["ted@foobar.com"]

    def user_names(profile):
        return sorted(user["UserName"] for user in fake_aws.session(profile).client("iam").list_users()["Users"])

    assert user_names("master") == ["bob@foobar.com", "carol@foobar.com", "ted@foobar.com"]
    assert user_names("prod") == []


def test_reset_forgets_everything(fake_aws):
    create_iam_users(fake_aws.session("master"), ["alice@foobar.com"])

    fake_aws.reset()

    # New session after a reset: credentials assumed before it would land in moto's default account.
    assert fake_aws.session("master").client("iam").list_users()["Users"] == []


def test_the_account_map_is_a_parameter(tmp_path, fake_aws_server):
    profiles = write_aws_profiles(
        tmp_path, accounts={"dev": "555555555555"}, endpoint_url=fake_aws_server.endpoint_url, role_name="deployer"
    )
    identity = boto3_session(profiles, "dev").client("sts").get_caller_identity()

    assert identity["Account"] == "555555555555"
    assert profiles.role_arn("dev") == "arn:aws:iam::555555555555:role/deployer"
    assert "aws_secret_access_key" not in profiles.config_file.read_text()
    assert oct(profiles.credentials_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    "accounts, message",
    [
        ({"prod": "22222222222"}, "must be 12 digits"),
        ({"prod": "22222222222x"}, "must be 12 digits"),
        ({"base": "222222222222"}, "reserved"),
    ],
)
def test_it_refuses_a_bad_account_map(tmp_path, accounts, message):
    with pytest.raises(ValueError, match=message):
        write_aws_profiles(tmp_path, accounts=accounts)

    assert list(tmp_path.iterdir()) == []
