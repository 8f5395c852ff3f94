"""The fault proxy's own measures, used by the AWS-call benchmark: requests counted by operation, and a
latency added to each request."""
import time

from integrations import aws
from tests.faults_world import fault_proxy, fault_proxy_server  # noqa: F401 - fixtures


def test_it_counts_requests_by_operation_since_the_last_count(fault_proxy):
    prod = aws.AccountAccess(label="prod", profile="prod")
    fault_proxy.take_counts()
    aws.caller_account_id(prod, None)
    aws.caller_account_id(prod, None)

    assert fault_proxy.take_counts() == {"AssumeRole": 1, "GetCallerIdentity": 2}
    assert fault_proxy.take_counts() == {}


def test_it_adds_its_latency_to_every_request(fault_proxy):
    prod = aws.AccountAccess(label="prod", profile="prod")
    aws.caller_account_id(prod, None)  # credentials fetched: one request per call from now on

    fault_proxy.delay_seconds = 0.3
    try:
        started = time.monotonic()
        aws.caller_account_id(prod, None)
        aws.caller_account_id(prod, None)
        assert time.monotonic() - started >= 0.6
    finally:
        fault_proxy.delay_seconds = 0.0
