"""The log scrubber also finds secrets inside escaped JSON: a JSON document logged as a string value."""
import logging

import pytest

from core.log_redaction import redact

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY"
TOKEN = "FQoGZXIvYXdzEBYaD/O4+Au//6D98=="


@pytest.mark.parametrize(
    "line, secrets",
    [
        ('{\\"SecretAccessKey\\": \\"' + SECRET + '\\"}', [SECRET]),
        ('\\"SessionToken\\":\\"' + TOKEN + '\\"', [TOKEN]),
        ('"body": "{\\"Credentials\\": {\\"SecretAccessKey\\": \\"' + SECRET + '\\", \\"SessionToken\\": \\"'
         + TOKEN + '\\"}}"', [SECRET, TOKEN]),
        # escaped twice (a string inside a string inside JSON)
        ('{\\\\\\"SessionToken\\\\\\": \\\\\\"' + TOKEN + '\\\\\\"}', [TOKEN]),
        ("{\\'SecretAccessKey\\': \\'" + SECRET + "\\'}", [SECRET]),
    ],
)
def test_secrets_in_escaped_json_are_redacted(caplog, line, secrets):
    caplog.set_level(logging.DEBUG, logger="botocore.test")
    logging.getLogger("botocore.test").debug("Response body:\n%s", line)
    for secret in secrets:
        assert secret not in caplog.text
    assert caplog.text.count("[redacted]") == len(secrets)


def test_the_escaped_quotes_around_a_redacted_value_are_kept():
    assert redact('{\\"SecretAccessKey\\": \\"abc\\"}') == '{\\"SecretAccessKey\\": \\"[redacted]\\"}'


def test_a_backslash_inside_a_plain_value_does_not_stop_the_redaction():
    assert redact("password=abc\\def rest") == "password=[redacted] rest"
