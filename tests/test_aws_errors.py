"""integrations/aws.py tells AWS errors apart by their code, not by words in the message, and never
drops one without saying why. Faults come from the fault proxy in front of the moto server."""
import logging

import pytest

from integrations import aws
from plans import live
from tests.faults_world import STACK, fault_proxy, fault_proxy_server, small_world  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

# An answer that is not "no such stack" although its words say "does not exist": refused access
# through a role whose policy is gone (IAM's words), as AWS may answer any read.
DENIED = ("User: arn:aws:sts::222222222222:assumed-role/RoleModelConsole/rolemodel-console is not authorized to "
          "perform this operation: the policy that allowed it does not exist")


def prod() -> aws.AccountAccess:
    return aws.AccountAccess(label="prod", profile="prod")


def test_a_missing_stack_is_told_by_the_code_aws_and_moto_send(fault_proxy):
    with pytest.raises(aws.AwsError) as missing:
        aws._call(aws.client(prod(), "cloudformation", None), "describe_stacks", "prod", StackName="No-Such-Stack")

    assert (missing.value.code, missing.value.aws_message) == ("ValidationError", "Stack with id No-Such-Stack does not exist")
    assert aws.is_missing_stack(missing.value)
    assert aws.stack_status(prod(), aws.CallCounter(), stack_name="No-Such-Stack") is None


def test_a_refused_stack_read_is_an_error_not_a_missing_stack(fault_proxy):
    fault_proxy.fail("DescribeStacks", code="AccessDenied", message=DENIED, status=403)

    with pytest.raises(aws.AwsError) as refused:
        aws.stack_status(prod(), aws.CallCounter(), stack_name=STACK)

    assert refused.value.code == "AccessDenied"
    assert not aws.is_missing_stack(refused.value)


def test_a_validation_error_about_something_else_is_not_a_missing_stack(fault_proxy):
    fault_proxy.fail("DescribeStacks", code="ValidationError", message="1 validation error detected: StackName")

    with pytest.raises(aws.AwsError, match="1 validation error"):
        aws.stack_status(prod(), aws.CallCounter(), stack_name=STACK)


def test_the_live_roles_page_shows_a_refused_read_as_an_error_and_a_missing_stack_as_a_note(small_world):
    report = live.live_roles()
    assert [(entry["name"], entry["note"], entry["error"]) for entry in report["accounts"]] == [
        ("prod", "No stack yet.", ""), ("cdn", "No stack yet.", "")]

    small_world.fail("ListStackResources", code="AccessDenied", message=DENIED, status=403, account="222222222222")
    report = live.live_roles()

    prod_entry, cdn_entry = report["accounts"]
    assert prod_entry["note"] == "" and "AccessDenied" in prod_entry["error"] and DENIED in prod_entry["error"]
    assert (cdn_entry["note"], cdn_entry["error"]) == ("No stack yet.", "")


def test_unreadable_stack_events_are_logged_with_the_reason_and_give_no_reasons(fault_proxy, caplog):
    fault_proxy.fail("DescribeStackEvents", code="AccessDenied", message=DENIED, status=403)

    with caplog.at_level(logging.WARNING, logger="integrations.aws"):
        assert aws.stack_failure_reasons(prod(), aws.CallCounter(), stack_name=STACK) == []

    [record] = [r for r in caplog.records if r.name == "integrations.aws"]
    assert record.levelno == logging.WARNING
    assert f"the events of stack {STACK} could not be read" in record.getMessage()
    assert "AccessDenied" in record.getMessage() and DENIED in record.getMessage()


def test_the_events_of_a_stack_that_is_gone_give_no_reasons_and_no_warning(fault_proxy, caplog):
    with caplog.at_level(logging.WARNING, logger="integrations.aws"):
        assert aws.stack_failure_reasons(prod(), aws.CallCounter(), stack_name="No-Such-Stack") == []

    assert [r for r in caplog.records if r.name == "integrations.aws"] == []
