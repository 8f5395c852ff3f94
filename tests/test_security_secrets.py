"""No AWS secret key, session token or console password is ever stored in the database or logged.

A whole day's work runs against the fake AWS with every logger at DEBUG (botocore's included, which
at that level writes signed requests and raw responses): sign-ins through the login form, a failed
sign-in, a password confirmation, a plan, an approval and an apply, one account reached through a
role assumed from the master session. Then every column of every table and every log line are
searched for the secrets the console held: the fake profiles' secret key, every secret key and
session token moto issued to the console's sessions, and the passwords typed.
"""
import logging

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import reverse

from accounts.models import AssumableAccount
from accounts.services import account_update
from audit.services import Actor
from devtools.fake_aws import DUMMY_SECRET_ACCESS_KEY
from integrations import aws
from plans.models import Job, Plan
from tests.aws_world import sample_world  # noqa: F401 (fixture)
from tests.conftest import PASSWORD
from tests.workflow import apply_now, plan_now

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not-the-password-but-still-secret-42"
LOGGERS = ("", "botocore", "boto3", "urllib3", "django", "django.db.backends", "axes", "celery")


@pytest.fixture
def everything_logged(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    # What DEBUG=True would log as well: every SQL statement with its parameters.
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = False


def _credentials_the_console_held() -> list:
    # The console's own session cache: the credentials it actually signed its calls with.
    sessions = list(aws._sessions.values())
    return [session.get_credentials().get_frozen_credentials() for session in sessions]


def _database_text() -> str:
    """Every value of every row of every table, as text; sessions decoded as well."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    chunks.extend(repr(session.get_decoded()) for session in Session.objects.all())
    return "\n".join(chunks)


def test_no_secret_reaches_the_database_or_a_log(sample_world, people, client, everything_logged):
    # One account through a role assumed from the master session, the modern way (with an external id).
    prod = AssumableAccount.objects.get(name="prod")
    account_update(actor=Actor.from_user(people.other_editor), account=prod, profile="",
                   role_arn=f"arn:aws:iam::{prod.account_id}:role/admin", external_id="rolemodel-external-id")
    # Sign-ins as a person does them: a wrong password, then the right one, then a password confirmation.
    client.post(reverse("login"), {"username": people.editor.username, "password": WRONG_PASSWORD})
    assert client.post(reverse("login"), {"username": people.editor.username, "password": PASSWORD}).status_code == 302
    assert client.post(reverse("core:sudo"), {"password": PASSWORD, "next": "/"}).status_code == 302

    plan = plan_now(Actor.from_user(people.editor))
    assert plan.status == Plan.Status.PENDING, plan.blocks or plan.error
    job = apply_now(plan, approver=people.approver, requester=people.editor)
    assert job.status == Job.Status.SUCCEEDED, job.error

    held = _credentials_the_console_held()
    # master and cdn, staging through their profiles, prod through a role from the master session.
    assert len({c.token for c in held if c.token}) == 4, "expected four assumed-role sessions"
    secrets = {"the fake profiles' secret key": DUMMY_SECRET_ACCESS_KEY, "the password": PASSWORD,
               "the wrong password": WRONG_PASSWORD}
    for number, credentials in enumerate(held, start=1):
        secrets[f"secret key {number} issued by STS"] = credentials.secret_key
        secrets[f"session token {number} issued by STS"] = credentials.token

    database = _database_text()
    assert people.editor.username in database and "apply_succeeded" in database
    assert [what for what, secret in secrets.items() if secret in database] == []

    records = [record for phase in ("setup", "call") for record in everything_logged.get_records(phase)]
    assert any(record.name.startswith("botocore") and "AssumeRole" in record.getMessage() for record in records), \
        "botocore's DEBUG lines were not captured"
    logs = everything_logged.text + "\n".join(record.getMessage() for record in records)
    leaks = {(what, record.name) for record in records for what, secret in secrets.items() if secret in record.getMessage()}
    assert leaks == set()
    assert [what for what, secret in secrets.items() if secret in logs] == []



@pytest.mark.parametrize(
    "line, secret",
    [
        ("<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>wJalrXUtnFEMI/K7MDENG+bPxRfiCY</SecretAccessKey>",
         "wJalrXUtnFEMI/K7MDENG+bPxRfiCY"),
        ("<SessionToken>FQoGZXIvYXdzEBYaD/O4+Au//6D98==</SessionToken><Expiration>", "FQoGZXIvYXdzEBYaD/O4+Au//6D98=="),
        ("host:127.0.0.1\nx-amz-date:20261126T023831Z\nx-amz-security-token:FQoGZXIvYXdzE+/token==\n\ncontent-type",
         "FQoGZXIvYXdzE+/token=="),
        ("'X-Amz-Date': b'20261126T023831Z', 'X-Amz-Security-Token': b'FQoGZXIvYXdzE+/token==', 'Authorization'",
         "FQoGZXIvYXdzE+/token=="),
        ('{"Credentials": {"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG", "SessionToken": "FQoGZXIv+/=="}}', "wJalrXUtnFEMI/K7MDENG"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG"),
        ("Signature:\n5d41402abc4b2a76b9719d911017c592", "5d41402abc4b2a76b9719d911017c592"),
    ],
)
def test_log_lines_lose_their_secrets(caplog, line, secret):
    caplog.set_level(logging.DEBUG, logger="botocore.test")
    logging.getLogger("botocore.test").debug("Response body:\n%s", line)
    assert secret not in caplog.text
    assert "[redacted]" in caplog.text


def test_log_lines_without_secrets_are_left_as_they_are(caplog):
    caplog.set_level(logging.INFO, logger="plans.test")
    logging.getLogger("plans.test").info("Put policy %s on %s (password policy unchanged)", "prod.AdminRole-Policy", "prod.AdminRole")
    assert caplog.records[0].getMessage() == "Put policy prod.AdminRole-Policy on prod.AdminRole (password policy unchanged)"
