"""A short audit history for the tests of the chain, its key, its reseal and its published heads."""
import pytest

from accounts.services import account_create
from audit.models import AuditEvent


def write_history(actor, *, rows: int) -> list[AuditEvent]:
    """``rows`` audit rows (one account created each) written by ``actor``, oldest first."""
    for number in range(rows):
        account_create(actor=actor, name=f"acct{number}", account_id=f"20000000000{number}", profile="p")
    return list(AuditEvent.objects.order_by("sequence"))


@pytest.fixture
def history(eddie) -> list[AuditEvent]:
    return write_history(eddie, rows=5)


@pytest.fixture
def heads_in_tmp_path(settings, tmp_path):
    """Heads published during the test go to its own folder, not to the checkout's var/."""
    settings.ROLEMODEL_AUDIT_HEAD_FILE = str(tmp_path / "audit-heads.jsonl")
