"""The audit chain is keyed: someone who can write to the database but lacks the key cannot make an
edited history verify, and ``audit verify`` says the rows were forged rather than all is well."""
import os
import stat
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import account_create
from audit import keys
from audit.chain import KEYED, KEYED_FIELDS, NOT_HASHED, keyed_link_hash, verify_chain
from audit.keys import audit_key
from audit.models import AuditChainHead, AuditEvent
from audit.services import Actor, audit_record
from tests.audit_attacks import hmac_with, old_link_hash, rehash_from
from tests.audit_history import heads_in_tmp_path, history  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("heads_in_tmp_path")]


def verify_command(*args) -> str:
    out = StringIO()
    call_command("rolemodel", "audit", "verify", *args, stdout=out)
    return out.getvalue()


def test_the_keyed_hash_covers_every_column_of_the_audit_row():
    # A field added to AuditEvent without being hashed would be a column an attacker may change freely.
    columns = {field.attname for field in AuditEvent._meta.concrete_fields}
    assert columns == set(KEYED_FIELDS) | set(NOT_HASHED), (
        f"Cover {sorted(columns - set(KEYED_FIELDS) - set(NOT_HASHED))} in audit/chain.py KEYED_FIELDS (with a new chain version)")


def test_each_row_carries_an_hmac_under_a_key_that_is_not_in_the_database(history):
    event = AuditEvent.objects.order_by("sequence").values().last()
    message = keyed_link_hash(event, key=audit_key())
    assert event["row_hash"] == message and event["chain_version"] == KEYED
    assert event["row_hash"] != old_link_hash(event["previous_hash"], event)
    key_text = audit_key().decode()
    for model in (AuditEvent, AuditChainHead):
        for row in model.objects.values():
            assert all(key_text not in str(value) for value in row.values())


def test_an_edit_recomputed_with_the_projects_old_hash_is_reported_as_forged(history):
    AuditEvent.objects.filter(pk=history[2].pk).update(reason="nothing to see here")
    rehash_from(3, old_link_hash)
    report = verify_chain()
    assert not report.ok and report.problem == "forged"
    assert (report.first_bad_sequence, report.first_bad_id) == (3, history[2].pk)
    with pytest.raises(CommandError, match=r"row 3 \(id \d+\) was recomputed without the key \(forged\)"):
        verify_command()


def test_an_edit_recomputed_with_another_key_is_reported_as_forged(history):
    AuditEvent.objects.filter(pk=history[1].pk).update(object_repr="innocent")
    rehash_from(2, hmac_with(b"the-forgers-own-key-which-is-long-enough"))
    report = verify_chain()
    assert not report.ok and report.problem == "forged" and report.first_bad_sequence == 2
    assert "recomputed without the key (forged)" in report.message


def test_an_edit_that_leaves_the_hashes_alone_is_reported_as_edited_not_forged(history):
    AuditEvent.objects.filter(pk=history[2].pk).update(reason="nothing to see here")
    report = verify_chain()
    assert (report.ok, report.problem, report.first_bad_sequence) == (False, "edited", 3)
    assert "was edited" in report.message and "forged" not in report.message


def test_a_changed_actor_id_is_detected(history, people):
    AuditEvent.objects.filter(pk=history[3].pk).update(actor_id=people.approver.pk)
    report = verify_chain()
    assert (report.ok, report.first_bad_sequence, report.first_bad_id) == (False, 4, history[3].pk)
    with pytest.raises(CommandError, match=r"row 4 \(id \d+\) was edited"):
        verify_command()


def test_a_changed_actor_id_recomputed_with_the_old_hash_is_forged(history, people):
    # The old hash left actor_id out: before the key, this edit needed no recomputation at all.
    AuditEvent.objects.filter(pk=history[3].pk).update(actor_id=people.approver.pk)
    rehash_from(4, old_link_hash)
    report = verify_chain()
    assert (report.ok, report.problem, report.first_bad_sequence) == (False, "forged", 4)


def test_rows_downgraded_to_the_legacy_hash_after_keyed_rows_are_forged(history):
    AuditEvent.objects.filter(pk=history[2].pk).update(reason="nothing to see here")
    rehash_from(3, old_link_hash, chain_version=1)
    report = verify_chain()
    assert (report.ok, report.problem, report.first_bad_sequence) == (False, "forged", 3)


def test_another_key_in_the_console_makes_no_row_verify(history, settings):
    settings.ROLEMODEL_AUDIT_KEY = "a-different-key-" + "k" * 32
    report = verify_chain()
    assert not report.ok and report.first_bad_sequence == 1
    assert "does not have the key that sealed them" in report.message


def test_the_audit_page_says_the_chain_was_forged(client_for, people, history):
    AuditEvent.objects.filter(pk=history[2].pk).update(reason="nothing to see here")
    rehash_from(3, old_link_hash)
    page = client_for(people.viewer).get("/audit/?verify=1").content.decode()
    assert "chain forged" in page and "recomputed without the key (forged)" in page
    assert "chain verifies" not in page


def test_the_key_file_is_created_private_on_first_use(settings, tmp_path, eddie):
    settings.ROLEMODEL_AUDIT_KEY = ""
    settings.ROLEMODEL_AUDIT_KEY_FILE = str(tmp_path / "keys" / "audit_key")
    event = audit_record(actor=eddie, action="create", object_type="account", object_id="1", object_repr="acct")
    key_file = tmp_path / "keys" / "audit_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_bytes().strip()
    assert len(key) >= 32 and audit_key() == key
    stored = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert stored["row_hash"] == keyed_link_hash(stored, key=key) and verify_chain().ok
    assert not list(tmp_path.joinpath("keys").glob(".*")), "no temporary key file is left behind"


def test_a_key_that_is_too_short_is_refused_with_a_message(settings, eddie):
    settings.ROLEMODEL_AUDIT_KEY = "short"
    with pytest.raises(ImproperlyConfigured, match="ROLEMODEL_AUDIT_KEY must hold at least 32 characters"):
        audit_record(actor=eddie, action="create", object_type="account", object_id="1")
    assert not AuditEvent.objects.exists()


def test_an_unreadable_key_file_is_a_clear_error(settings, tmp_path):
    settings.ROLEMODEL_AUDIT_KEY = ""
    settings.ROLEMODEL_AUDIT_KEY_FILE = str(tmp_path)  # a directory: it exists but cannot be read as a key
    keys._key_from_file.cache_clear()
    with pytest.raises(ImproperlyConfigured, match="Cannot read the audit key file"):
        audit_key()


def test_verify_reads_the_history_in_chunks_not_all_at_once(people, django_assert_max_num_queries):
    actor = Actor.from_user(people.editor)
    for number in range(40):
        audit_record(actor=actor, action="create", object_type="account", object_id=str(number))
    with CaptureQueriesContext(connection) as queries:
        report = verify_chain(chunk_size=5)
    assert report.ok and report.rows == 40
    row_reads = [query["sql"] for query in queries.captured_queries if "LIMIT 5" in query["sql"]]
    assert len(row_reads) == 40 // 5 + 1  # eight full chunks, then an empty one
    with django_assert_max_num_queries(40 // 5 + 4):
        assert verify_chain(chunk_size=5).ok
    assert verify_command("--chunk-size", "7").startswith("All 40 audit rows verify")
    with pytest.raises(CommandError, match="must be at least 1"):
        verify_command("--chunk-size", "0")


def test_verify_names_the_first_bad_row_beyond_the_first_chunk(people):
    actor = Actor.from_user(people.editor)
    for number in range(12):
        audit_record(actor=actor, action="create", object_type="account", object_id=str(number))
    AuditEvent.objects.filter(sequence=11).update(object_id="tampered")
    report = verify_chain(chunk_size=4)
    assert (report.ok, report.first_bad_sequence, report.rows) == (False, 11, 10)


def test_a_bad_key_is_a_message_on_the_page_the_command_line_and_the_system_check(history, settings, client_for, people):
    from audit.apps import audit_key_check

    settings.ROLEMODEL_AUDIT_KEY = "short"
    page = client_for(people.viewer).get("/audit/?verify=1")
    assert page.status_code == 200 and "chain cannot be verified" in page.content.decode()
    with pytest.raises(CommandError, match="at least 32 characters"):
        verify_command()
    with pytest.raises(CommandError, match="at least 32 characters"):
        call_command("rolemodel", "audit", "publish-head", stdout=StringIO())
    assert [error.id for error in audit_key_check()] == ["audit.E001"]
    settings.ROLEMODEL_AUDIT_KEY = "long-enough-" + "k" * 32
    assert audit_key_check() == []


def test_verify_checks_the_configured_heads_file_by_default(history, settings, eddie):
    from audit.heads import publish_head

    publish_head()
    AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
    AuditChainHead.objects.all().delete()
    account_create(actor=eddie, name="fresh", account_id="300000000000", profile="p")
    with pytest.raises(CommandError, match="names row 5, but the chain ends at row 1"):
        verify_command()
