"""The audit history is tamper-evident: edits, removals and out-of-order rows are named."""
import pytest
from django.core.management import CommandError, call_command

from audit.chain import verify_chain
from audit.models import AuditChainHead, AuditEvent
from tests.audit_history import history  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def verify_output() -> str:
    from io import StringIO

    out = StringIO()
    call_command("rolemodel", "audit", "verify", stdout=out)
    return out.getvalue()


def test_an_untouched_history_verifies(history):
    report = verify_chain()
    assert report.ok and report.rows == 5
    assert "All 5 audit rows verify" in verify_output()
    assert [e.sequence for e in history] == [1, 2, 3, 4, 5]
    assert history[1].previous_hash == history[0].row_hash


def test_an_edited_row_is_named(history):
    AuditEvent.objects.filter(pk=history[2].pk).update(reason="nothing to see here")
    report = verify_chain()
    assert not report.ok and report.first_bad_sequence == 3
    with pytest.raises(CommandError, match=r"row 3 \(id \d+\) was edited"):
        verify_output()


def test_a_removed_row_is_named(history):
    AuditEvent.objects.filter(pk=history[1].pk)._raw_delete(AuditEvent.objects.db)
    report = verify_chain()
    assert not report.ok and report.first_bad_sequence == 2
    assert "row 2 removed" in report.message


def test_removing_the_newest_rows_is_noticed(history):
    AuditEvent.objects.filter(pk__in=[history[3].pk, history[4].pk])._raw_delete(AuditEvent.objects.db)
    report = verify_chain()
    assert not report.ok and "newest rows were removed" in report.message


def test_a_row_inserted_out_of_order_is_named(history):
    forged = AuditEvent.objects.get(pk=history[4].pk)
    AuditEvent.objects.filter(pk=forged.pk)._raw_delete(AuditEvent.objects.db)
    # Re-insert the same content one place earlier: the hashes no longer link.
    AuditEvent.objects.filter(pk=history[3].pk).update(sequence=99)
    AuditEvent.objects.bulk_create([AuditEvent(**{**{f.attname: getattr(forged, f.attname) for f in AuditEvent._meta.concrete_fields},
                                                  "id": None, "sequence": 4})])
    AuditEvent.objects.filter(sequence=99).update(sequence=5)
    assert not verify_chain().ok


def test_a_row_added_behind_the_consoles_back_is_named(history):
    AuditEvent.objects.bulk_create([AuditEvent(actor_name="mallory", action="create", object_type="account")])
    report = verify_chain()
    assert not report.ok and "inserted outside the console" in report.message


def test_the_audit_page_shows_whether_the_chain_verifies(client_for, people, history):
    page = client_for(people.viewer).get("/audit/?verify=1").content.decode()
    assert "chain verifies" in page
    AuditEvent.objects.filter(pk=history[0].pk).update(actor_name="someone else")
    page = client_for(people.viewer).get("/audit/?verify=1").content.decode()
    assert "chain broken" in page and "row 1" in page


def test_the_chain_head_follows_the_newest_row(history):
    head = AuditChainHead.objects.get()
    assert head.sequence == 5 and head.row_hash == history[-1].row_hash


def test_a_deleted_chain_head_is_noticed(history):
    # Without it, the newest rows could be cut off unseen (published heads catch that too: test_audit_heads.py).
    AuditEvent.objects.filter(pk=history[4].pk)._raw_delete(AuditEvent.objects.db)
    AuditChainHead.objects.all().delete()
    report = verify_chain()
    assert not report.ok and "head record is missing" in report.message
