"""``manage.py rolemodel`` run in the test process, for the tests of the command line."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def rolemodel(*args) -> str:
    """Run ``manage.py rolemodel ARGS``; what it printed."""
    out = StringIO()
    call_command("rolemodel", *[str(arg) for arg in args], stdout=out, stderr=StringIO())
    return out.getvalue()


def command_refused(*args, unchanged) -> str:
    """Run ``manage.py rolemodel ARGS``, which must fail (a non-zero exit) and leave what ``unchanged()``
    returns as it was; its message."""
    before = unchanged()
    with pytest.raises(CommandError) as raised:
        rolemodel(*args)
    assert raised.value.returncode != 0
    assert unchanged() == before
    return str(raised.value)
