"""On upgrade, the history written before the key existed is verified, then resealed under the key, and
the reseal is itself an audit row; a legacy history that does not verify is left as it is and stays reported."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.services import account_create
from audit.chain import KEYED, verify_chain
from audit.heads import publish_head
from audit.models import AuditChainHead, AuditEvent
from audit.reseal import reseal_legacy_chain
from audit.services import Actor
from tests.audit_attacks import make_legacy, old_link_hash, rehash_from
from tests.audit_history import heads_in_tmp_path, write_history  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("heads_in_tmp_path")]


@pytest.fixture
def legacy_history(eddie):
    """What an existing installation has before the upgrade: rows sealed with the old unkeyed hash."""
    write_history(eddie, rows=4)
    make_legacy()
    return list(AuditEvent.objects.order_by("sequence"))


def migrate_output() -> str:
    out = StringIO()
    call_command("migrate", verbosity=1, stdout=out)
    return out.getvalue()


def test_a_legacy_history_is_reported_until_it_is_resealed(legacy_history):
    assert all(event.chain_version == 1 for event in legacy_history)
    report = verify_chain()
    assert (report.ok, report.problem) == (False, "legacy")
    assert "rows 1–4 still carry the legacy unkeyed hash" in report.message and "audit reseal" in report.message


def test_migrate_reseals_a_legacy_history_that_verifies(legacy_history):
    legacy_hashes = [event.row_hash for event in legacy_history]
    assert "resealed under the audit key" in migrate_output()
    rows = list(AuditEvent.objects.order_by("sequence"))
    assert [row.chain_version for row in rows] == [KEYED] * 5
    assert [row.row_hash for row in rows[:4]] != legacy_hashes
    assert [(row.pk, row.reason) for row in rows[:4]] == [(event.pk, event.reason) for event in legacy_history]
    resealed = rows[-1]
    assert (resealed.action, resealed.actor_name, resealed.source, resealed.object_type) == (
        "chain_resealed", "system:migrate", "cli", "audit_chain")
    assert resealed.before["rows"] == 4 and resealed.before["head_hash"] == legacy_hashes[-1]
    assert resealed.after["head_hash"] == rows[3].row_hash
    assert AuditChainHead.objects.get().row_hash == resealed.row_hash
    report = verify_chain()
    assert report.ok and report.rows == 5
    assert "resealed" not in migrate_output(), "a second migrate has nothing to reseal"


def test_a_resealed_history_then_catches_the_old_attack(legacy_history):
    reseal_legacy_chain(actor=Actor.system("system:test"))
    AuditEvent.objects.filter(sequence=2).update(reason="nothing to see here")
    rehash_from(2, old_link_hash)
    assert verify_chain().problem == "forged"


def test_a_legacy_history_that_does_not_verify_is_not_resealed_and_stays_reported(legacy_history):
    AuditEvent.objects.filter(pk=legacy_history[1].pk).update(reason="edited before the upgrade")
    output = migrate_output()
    assert "Not resealed: the legacy chain does not verify" in output and "row 2" in output
    assert set(AuditEvent.objects.values_list("chain_version", flat=True)) == {1}
    assert not AuditEvent.objects.filter(action="chain_resealed").exists()
    report = verify_chain()
    assert (report.ok, report.first_bad_sequence, report.problem) == (False, 2, "edited")
    with pytest.raises(CommandError, match="legacy chain does not verify"):
        call_command("rolemodel", "audit", "reseal", stdout=StringIO())


def test_rows_added_after_a_refused_reseal_leave_the_break_reported(legacy_history, eddie):
    AuditEvent.objects.filter(pk=legacy_history[1].pk).update(reason="edited before the upgrade")
    reseal_legacy_chain(actor=Actor.system("system:test"))
    account_create(actor=eddie, name="later", account_id="300000000000", profile="p")
    assert verify_chain().first_bad_sequence == 2


def test_a_chain_once_keyed_is_never_resealed(legacy_history):
    """Resealing a history downgraded to the legacy hash by someone with database access would launder it."""
    assert reseal_legacy_chain(actor=Actor.system("system:test")).ok
    publish_head()
    AuditEvent.objects.filter(sequence=2).update(reason="rewritten")
    make_legacy()
    result = reseal_legacy_chain(actor=Actor.system("system:test"))
    assert not result.ok and "already sealed with the audit key" in result.message
    assert not verify_chain().ok


def test_a_downgraded_history_that_contains_the_reseal_row_is_forged(legacy_history):
    reseal_legacy_chain(actor=Actor.system("system:test"))
    make_legacy()
    report = verify_chain()
    assert (report.ok, report.problem, report.first_bad_sequence) == (False, "forged", 5)


def test_reseal_from_the_command_line(legacy_history, people):
    with pytest.raises(CommandError, match="only members of the Admin group reseal"):
        call_command("rolemodel", "audit", "reseal", "--as", "vera", stdout=StringIO())
    out = StringIO()
    call_command("rolemodel", "audit", "reseal", "--as", "ada", stdout=out)
    assert "The legacy chain of 4 rows verified and was resealed" in out.getvalue()
    assert AuditEvent.objects.order_by("sequence").last().actor_name == "ada"
    out = StringIO()
    call_command("rolemodel", "audit", "reseal", stdout=out)
    assert "Nothing to reseal" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_upgrading_a_database_from_before_the_key_reseals_its_history(people):
    """Through the real migrations: rows written by the previous release, then ``migrate``."""
    call_command("migrate", "audit", "0004", verbosity=0)
    try:
        old_apps = MigrationExecutor(connection).loader.project_state(("audit", "0004_workflow_action_labels")).apps
        OldEvent, OldHead = old_apps.get_model("audit", "AuditEvent"), old_apps.get_model("audit", "AuditChainHead")
        previous = "0" * 64
        for number in range(1, 4):
            values = dict(sequence=number, created_at=timezone.now(), actor_id=people.editor.pk, actor_name="eddie",
                          source="web", action="create", object_type="account", object_id=str(number),
                          object_repr=f"acct{number}", before=None, after={"name": f"acct{number}"}, reason="")
            row_hash = old_link_hash(previous, values)
            OldEvent.objects.create(**values, previous_hash=previous, row_hash=row_hash)
            previous = row_hash
        OldHead.objects.create(pk=1, sequence=3, row_hash=previous)
    finally:
        out = StringIO()
        call_command("migrate", verbosity=1, stdout=out)
    assert "The legacy chain of 3 rows verified and was resealed" in out.getvalue()
    report = verify_chain()
    assert report.ok and report.rows == 4
    assert list(AuditEvent.objects.order_by("sequence").values_list("chain_version", "action"))[-1] == (KEYED, "chain_resealed")
