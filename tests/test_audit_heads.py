"""The chain's head is published, signed, to the log, a file and a webhook: a history truncated and written
again from scratch, even with the key, is caught against the last published head."""
import json
import logging
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit.chain import GENESIS, verify_chain
from audit.heads import head_digest, head_signature, publish_head
from audit.keys import audit_key
from audit.models import AuditChainHead, AuditEvent, AuditHeadPublication
from audit.services import audit_record
from audit.tasks import publish_audit_head_task
from tests.audit_history import history  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def heads_file(settings, tmp_path) -> Path:
    settings.ROLEMODEL_AUDIT_HEAD_FILE = str(tmp_path / "published" / "audit-heads.jsonl")
    settings.ROLEMODEL_AUDIT_HEAD_WEBHOOK_URL = ""
    return Path(settings.ROLEMODEL_AUDIT_HEAD_FILE)


def heads_in(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def audit_command(*args) -> str:
    out = StringIO()
    call_command("rolemodel", "audit", *args, stdout=out)
    return out.getvalue()


def truncate_and_rewrite(eddie, *, rows: int) -> None:
    """The attack: empty the table and write a clean-looking history through the console's own code (key included)."""
    AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
    AuditChainHead.objects.all().delete()
    AuditHeadPublication.objects.all().delete()
    for number in range(rows):
        audit_record(actor=eddie, action="create", object_type="account", object_id=str(number), object_repr=f"acct{number}")


def test_the_head_task_writes_a_signed_head_to_the_file_and_the_log(history, heads_file, caplog):
    caplog.set_level(logging.INFO, logger="audit.heads")
    record = publish_audit_head_task()
    (written,) = heads_in(heads_file)
    assert written == record
    assert (written["last_id"], written["last_sequence"], written["last_hash"], written["rows"]) == (
        history[-1].pk, 5, history[-1].row_hash, 5)
    assert written["previous_digest"] == "" and written["published_at"]
    assert written["signature"] == head_signature(written, key=audit_key())
    assert written["digest"] == head_digest(written, written["signature"])
    assert any("Audit chain head" in message and written["digest"] in message for message in caplog.messages)
    assert audit_key().decode() not in heads_file.read_text() + " ".join(caplog.messages)


def test_each_head_names_the_digest_of_the_one_before(history, heads_file, eddie):
    first = publish_head().record
    audit_record(actor=eddie, action="create", object_type="account", object_id="9")
    second = publish_head().record
    assert second["previous_digest"] == first["digest"] and second["last_sequence"] == 6
    assert [head["digest"] for head in heads_in(heads_file)] == [first["digest"], second["digest"]]
    assert verify_chain(heads_file=heads_file).ok


def test_an_empty_history_has_a_head_too(db, heads_file):
    record = publish_head().record
    assert (record["last_id"], record["last_sequence"], record["last_hash"], record["rows"]) == (None, 0, GENESIS, 0)
    assert verify_chain(heads_file=heads_file).ok


def test_truncating_and_rewriting_the_history_with_the_key_is_caught_against_the_published_head(history, heads_file, eddie):
    publish_head()
    truncate_and_rewrite(eddie, rows=7)
    assert verify_chain().ok, "without the published heads, the rewritten history looks genuine"
    report = verify_chain(heads_file=heads_file)
    assert (report.ok, report.problem, report.first_bad_sequence) == (False, "rewritten", 5)
    assert "truncated and written again" in report.message
    with pytest.raises(CommandError, match="truncated and written again"):
        audit_command("verify", "--heads", str(heads_file))


def test_a_rewritten_history_shorter_than_the_published_head_is_caught(history, heads_file, eddie):
    publish_head()
    truncate_and_rewrite(eddie, rows=2)
    report = verify_chain(heads_file=heads_file)
    assert (report.ok, report.problem) == (False, "rewritten")
    assert "names row 5, but the chain ends at row 2" in report.message


def test_verify_with_heads_says_how_many_heads_it_checked(history, heads_file):
    publish_head()
    publish_head()
    assert "contains each of the 2 published heads" in audit_command("verify", "--heads", str(heads_file))


def test_a_published_head_that_was_altered_is_refused(history, heads_file):
    publish_head()
    head = heads_in(heads_file)[0]
    heads_file.write_text(json.dumps({**head, "last_hash": "f" * 64}) + "\n")
    report = verify_chain(heads_file=heads_file)
    assert (report.ok, report.problem) == (False, "heads") and "not signed with this console's audit key" in report.message


def test_a_head_removed_from_the_file_is_noticed(history, heads_file):
    for _ in range(3):
        publish_head()
    lines = heads_file.read_text().splitlines()
    heads_file.write_text(lines[0] + "\n" + lines[2] + "\n")
    report = verify_chain(heads_file=heads_file)
    assert not report.ok and "Line 2" in report.message and "does not follow the line before it" in report.message


@pytest.mark.parametrize("content, message", [
    ("not json\n", "is not a JSON object"),
    ('{"format": "something else"}\n', "is not a rolemodel-audit-head/1 head"),
    ('{"format": "rolemodel-audit-head/1", "last_sequence": "5"}\n', "lacks a valid"),
])
def test_a_heads_file_that_is_not_a_heads_file_gets_a_message(history, heads_file, content, message):
    heads_file.parent.mkdir(parents=True)
    heads_file.write_text(content)
    with pytest.raises(CommandError, match=message):
        audit_command("verify", "--heads", str(heads_file))


def test_a_missing_heads_file_gets_a_message(history, tmp_path):
    with pytest.raises(CommandError, match="Cannot read the heads file"):
        audit_command("verify", "--heads", str(tmp_path / "nowhere.jsonl"))


def test_publish_head_on_demand_prints_the_head(history, heads_file):
    line = audit_command("publish-head").strip()
    assert json.loads(line) == heads_in(heads_file)[0]


def test_a_head_is_not_signed_over_a_newest_row_that_does_not_verify(history, heads_file):
    AuditEvent.objects.filter(pk=history[-1].pk).update(reason="edited")
    with pytest.raises(CommandError, match="Audit head not published"):
        audit_command("publish-head")
    assert not heads_file.exists()


def test_a_heads_file_that_cannot_be_written_is_reported_and_not_counted(history, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.ROLEMODEL_AUDIT_HEAD_FILE = str(blocker / "audit-heads.jsonl")
    result = publish_head()
    assert result.record is not None and "Could not append the audit head" in result.file_error
    assert not AuditHeadPublication.objects.exists()


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], body.decode()))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Receiver.received
    server.shutdown()
    server.server_close()


def test_the_webhook_receives_the_head(history, heads_file, settings, webhook):
    url, received = webhook
    settings.ROLEMODEL_AUDIT_HEAD_WEBHOOK_URL = url + "/heads/secret-token"
    record = publish_audit_head_task()
    assert received == [("/heads/secret-token", "application/json", json.dumps(record, sort_keys=True, separators=(",", ":")))]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_webhook_that_cannot_be_reached_is_logged_and_never_raises(history, heads_file, settings, caplog):
    settings.ROLEMODEL_AUDIT_HEAD_WEBHOOK_URL = f"http://127.0.0.1:{_closed_port()}/hook/secret-token"
    settings.ROLEMODEL_AUDIT_HEAD_WEBHOOK_TIMEOUT = 2.0
    caplog.set_level(logging.INFO, logger="audit.heads")
    record = publish_audit_head_task()
    assert record is not None and heads_in(heads_file) == [record]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("could not be reached" in message for message in warnings)
    assert "secret-token" not in " ".join(caplog.messages)
    with pytest.raises(CommandError, match="could not be reached"):
        audit_command("publish-head")


def test_a_webhook_url_that_is_not_http_is_refused_with_a_message(history, heads_file, settings):
    settings.ROLEMODEL_AUDIT_HEAD_WEBHOOK_URL = "file:///etc/passwd"
    result = publish_head()
    assert result.record is not None and "must be an http(s) URL" in result.webhook_error


def test_the_audit_page_checks_the_chain_against_the_published_heads(client_for, people, history, heads_file, eddie):
    publish_head()
    page = client_for(people.viewer).get("/audit/?verify=1").content.decode()
    assert "chain verifies" in page and "against 1 published head" in page
    truncate_and_rewrite(eddie, rows=6)
    page = client_for(people.viewer).get("/audit/?verify=1").content.decode()
    assert "chain broken" in page and "truncated and written again" in page


def _beat_schedule(**environment) -> dict:
    code = ("import django, json; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CELERY_BEAT_SCHEDULE.get('publish-audit-head')))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rolemodel_site.settings", **environment}
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parent.parent).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_beat_publishes_the_head_hourly_by_default_and_not_at_all_when_set_to_zero():
    assert _beat_schedule() == {"task": "audit.tasks.publish_audit_head_task", "schedule": 3600}
    assert _beat_schedule(ROLEMODEL_AUDIT_HEAD_MINUTES="15")["schedule"] == 900
    assert _beat_schedule(ROLEMODEL_AUDIT_HEAD_MINUTES="0") is None


def test_the_beat_task_name_is_a_registered_task():
    from rolemodel_site.celery import app

    app.loader.import_default_modules()
    assert publish_audit_head_task.name == "audit.tasks.publish_audit_head_task" and publish_audit_head_task.name in app.tasks


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_seals_rows_and_publishes_heads_that_verify_here(celery_worker):
    """The worker, the web and the command line share one key: rows the worker writes verify in this process."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.e2e_fixtures import wait_for
    from tests.factories import MembershipFactory

    MembershipFactory(expires_at=timezone.now() - timedelta(minutes=1))
    expiry = celery_worker.send_task("memberships.tasks.expire_due_memberships_task")
    wait_for(lambda: f"[{expiry.id}] succeeded" in celery_worker.log_text(),
             what=lambda: f"the expiry task; worker log:\n{celery_worker.log_text()[-3000:]}")
    published = Path(celery_worker.env["ROLEMODEL_VAR_DIR"]) / "audit-heads.jsonl"
    before = len(heads_in(published)) if published.exists() else 0
    head = celery_worker.send_task("audit.tasks.publish_audit_head_task")
    wait_for(lambda: f"[{head.id}] succeeded" in celery_worker.log_text(),
             what=lambda: f"the head task; worker log:\n{celery_worker.log_text()[-3000:]}")
    newest = AuditEvent.objects.order_by("-sequence").first()
    assert newest.actor_name == "system:expiry"
    (record,) = heads_in(published)[before:]
    assert (record["last_sequence"], record["last_hash"]) == (newest.sequence, newest.row_hash)
    assert "Audit chain head" in celery_worker.log_text()
    report = verify_chain(heads_file=published)
    assert report.ok, report.message
