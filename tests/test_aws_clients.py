"""integrations/aws.py keeps one client per account and service for a job step, and counts every call."""
import pytest

from integrations import aws

pytestmark = pytest.mark.usefixtures("fake_aws")


def test_a_step_reuses_its_client_per_account_and_service_and_counts_every_call():
    prod, cdn = aws.AccountAccess(label="prod", profile="prod"), aws.AccountAccess(label="cdn", profile="cdn")
    step = aws.CallCounter()

    assert aws.client(prod, "sts", step) is aws.client(prod, "sts", step)
    assert aws.client(prod, "sts", step) is not aws.client(prod, "iam", step)
    assert aws.client(prod, "sts", step) is not aws.client(cdn, "sts", step)
    assert aws.caller_account_id(prod, step) == "222222222222"
    assert aws.caller_account_id(prod, step) == "222222222222"
    assert aws.caller_account_id(cdn, step) == "333333333333"
    assert step.as_dict()["operations"] == {"GetCallerIdentity": 3}


def test_another_step_gets_its_own_client_and_its_own_count():
    prod = aws.AccountAccess(label="prod", profile="prod")
    first, second = aws.CallCounter(), aws.CallCounter()

    assert aws.client(prod, "sts", first) is not aws.client(prod, "sts", second)
    aws.caller_account_id(prod, first)
    aws.caller_account_id(prod, second)
    aws.caller_account_id(prod, second)
    assert (first.as_dict()["reads"], second.as_dict()["reads"]) == (1, 2)
