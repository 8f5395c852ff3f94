"""Audit rows name the object they belong to (a policy's role), so a role's history is a query; the parent
columns came with chain version 3, and rows sealed as version 2 before them keep verifying unchanged."""
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.chain import GENESIS, KEYED, KEYED_V2, keyed_link_hash, verify_chain
from audit.keys import audit_key
from audit.models import AuditEvent
from audit.services import Actor, audit_record
from roles import selectors
from roles.services import policy_create, policy_delete, policy_update, role_create, role_delete, role_update
from tests.factories import RoleFactory

pytestmark = pytest.mark.django_db

DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


@pytest.fixture(autouse=True)
def _heads_elsewhere(settings, tmp_path):
    settings.ROLEMODEL_AUDIT_HEAD_FILE = str(tmp_path / "audit-heads.jsonl")


def test_a_policys_rows_name_its_role_as_their_parent(eddie):
    role = RoleFactory(logical_name="Admin")
    policy = policy_create(actor=eddie, role=role, name="read", document=DOCUMENT)
    policy_update(actor=eddie, policy=policy, name="read-more", document=DOCUMENT)
    policy_delete(actor=eddie, policy=policy)
    rows = AuditEvent.objects.filter(object_type=AuditEvent.ObjectType.POLICY)
    assert set(rows.values_list("parent_type", "parent_id", "chain_version")) == {("role", str(role.pk), KEYED)}
    assert verify_chain().ok


def test_a_role_history_is_its_rows_and_its_policies_rows_even_after_a_rename(eddie):
    role = RoleFactory(logical_name="Admin")
    policy_create(actor=eddie, role=role, name="read", document=DOCUMENT)
    role_update(actor=eddie, role=role, logical_name="Ops")
    history = selectors.role_history(role)
    assert [(row.object_type, row.object_repr) for row in history] == [("role", "Ops"), ("policy", "Admin/read")]


def test_a_new_role_under_a_removed_roles_name_does_not_inherit_its_policies_history(eddie):
    """Before: the history matched policy rows by the "<logical name>/" prefix of their name."""
    old = RoleFactory(logical_name="Admin")
    policy_create(actor=eddie, role=old, name="read", document=DOCUMENT)
    role_delete(actor=eddie, role=old)
    new = role_create(actor=eddie, logical_name="Admin")
    assert [(row.object_type, row.action) for row in selectors.role_history(new)] == [("role", "create")]


def test_a_changed_parent_is_caught_by_the_chain(eddie):
    role = RoleFactory(logical_name="Admin")
    policy_create(actor=eddie, role=role, name="read", document=DOCUMENT)
    AuditEvent.objects.filter(object_type="policy").update(parent_id="999")
    report = verify_chain()
    assert not report.ok and report.problem == "edited"


@pytest.mark.django_db(transaction=True)
def test_upgrading_links_old_policy_rows_without_touching_their_hashes():
    """Rows sealed as version 2 by the previous release, then ``migrate``: they gain their parent, keep
    their hash and verify; the next row is version 3."""
    call_command("migrate", "audit", "0006", verbosity=0)
    try:
        old_apps = MigrationExecutor(connection).loader.project_state(("audit", "0006_audit_object_type_choices")).apps
        OldEvent, OldHead = old_apps.get_model("audit", "AuditEvent"), old_apps.get_model("audit", "AuditChainHead")
        previous, key = GENESIS, audit_key()
        rows = [("role", "7", "Admin", None, {"logical_name": "Admin"}),
                ("policy", "3", "Admin/read", None, {"role": "Admin", "name": "read", "document": DOCUMENT}),
                ("role", "7", "Ops", {"logical_name": "Admin"}, {"logical_name": "Ops"}),
                ("policy", "3", "Ops/read", {"role": "Ops", "name": "read", "document": DOCUMENT}, None)]
        for sequence, (object_type, object_id, name, before, after) in enumerate(rows, start=1):
            event = OldEvent.objects.create(
                sequence=sequence, created_at=timezone.now(), actor_name="eddie", source="web",
                action="create" if before is None else ("delete" if after is None else "update"),
                object_type=object_type, object_id=object_id, object_repr=name, before=before, after=after, reason="",
                chain_version=KEYED_V2, previous_hash=previous)
            values = {field.attname: getattr(event, field.attname) for field in OldEvent._meta.concrete_fields}
            previous = keyed_link_hash(values, key=key)
            OldEvent.objects.filter(pk=event.pk).update(row_hash=previous)
        OldHead.objects.create(pk=1, sequence=len(rows), row_hash=previous)
        hashes = list(OldEvent.objects.order_by("sequence").values_list("row_hash", flat=True))
    finally:
        call_command("migrate", verbosity=0)
    assert list(AuditEvent.objects.order_by("sequence").values_list("row_hash", flat=True)) == hashes
    assert list(AuditEvent.objects.filter(object_type="policy").values_list("parent_type", "parent_id")) == [
        ("role", "7"), ("role", "7")]
    assert verify_chain().ok
    audit_record(actor=Actor.system("system:test"), action="update", object_type="role", object_id="7", object_repr="Ops")
    assert AuditEvent.objects.order_by("sequence").last().chain_version == KEYED == 3
    assert verify_chain().ok
