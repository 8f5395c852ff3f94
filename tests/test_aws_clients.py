"""integrations/aws.py keeps one client per account and service for a job step, and counts every call."""
import pytest

from integrations import aws

pytestmark = pytest.mark.usefixtures("fake_aws")


def test_a_step_reuses_its_client_per_account_and_service_and_counts_every_call():
    aws.reset_session_cache()  # no credentials yet: each profile's AssumeRole is one of the step's calls
    prod, cdn = aws.AccountAccess(label="prod", profile="prod"), aws.AccountAccess(label="cdn", profile="cdn")
    step = aws.CallCounter()

    assert aws.client(prod, "sts", step) is aws.client(prod, "sts", step)
    assert aws.client(prod, "sts", step) is not aws.client(prod, "iam", step)
    assert aws.client(prod, "sts", step) is not aws.client(cdn, "sts", step)
    assert aws.caller_account_id(prod, step) == "222222222222"
    assert aws.caller_account_id(prod, step) == "222222222222"
    assert aws.caller_account_id(cdn, step) == "333333333333"
    assert step.as_dict()["operations"] == {"AssumeRole": 2, "GetCallerIdentity": 3}
    assert (step.reads, step.writes) == (5, 0)  # fetching credentials changes nothing in AWS


def test_another_step_gets_its_own_client_and_its_own_count():
    aws.reset_session_cache()
    prod = aws.AccountAccess(label="prod", profile="prod")
    first, second = aws.CallCounter(), aws.CallCounter()

    assert aws.client(prod, "sts", first) is not aws.client(prod, "sts", second)
    aws.caller_account_id(prod, first)
    aws.caller_account_id(prod, second)
    aws.caller_account_id(prod, second)
    # The credentials are the session's: fetched once, for the call that first needed them.
    assert first.as_dict()["operations"] == {"AssumeRole": 1, "GetCallerIdentity": 1}
    assert second.as_dict()["operations"] == {"GetCallerIdentity": 2}
