"""The audit history stays fast when it is long: keyset pages, indexed queries, a chain walked in chunks.

Times are measured by bench/audit_scale.py; these tests check what makes them hold: every page
is one query from a cursor, the queries can use an index, and verify reads a chunk at a time.
"""
import importlib
import re
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import selectors
from audit.chain import verify_chain
from audit.models import AuditEvent
from audit.selectors import Cursor, audit_events, audit_page, iter_audit_events
from tests.audit_history import write_history
from tests.page_access import queries_for
from tests.test_audit_views import record

pytestmark = pytest.mark.django_db

NOON = datetime(2024, 5, 1, 12, tzinfo=dt_timezone.utc)


def history_with_ties(count: int = 14, **fields) -> list[int]:
    """``count`` rows, three at a time sharing one timestamp; their ids newest first (the list's order)."""
    for index in range(count):
        record(object_repr=f"row {index}", at=NOON + timedelta(minutes=index // 3), **fields)
    return list(AuditEvent.objects.order_by("-created_at", "-id").values_list("id", flat=True))


def ids(page) -> list[int]:
    return [event.pk for event in page]


def walk_older(events, size):
    pages, page = [], audit_page(events, size=size)
    while True:
        pages.append(ids(page))
        if not page.older:
            return pages
        page = audit_page(events, after=page.older, size=size)


# ---- keyset pages ---------------------------------------------------------------------------


def test_older_pages_list_every_row_once_in_order_through_equal_timestamps():
    expected = history_with_ties(14)
    pages = walk_older(audit_events(), size=4)
    assert [len(page) for page in pages] == [4, 4, 4, 2]
    assert [row for page in pages for row in page] == expected


def test_newer_pages_walk_back_to_the_same_pages():
    history_with_ties(14)
    forward = walk_older(audit_events(), size=4)
    page = audit_page(audit_events(), after=Cursor(*AuditEvent.objects.filter(pk=forward[2][-1])
                                                   .values_list("created_at", "id").get()).token, size=4)
    assert ids(page) == forward[3]
    page = audit_page(audit_events(), before=page.newer, size=4)
    assert ids(page) == forward[2]
    page = audit_page(audit_events(), before=page.newer, size=4)
    assert ids(page) == forward[1]
    page = audit_page(audit_events(), before=page.newer, size=4)
    assert ids(page) == forward[0]
    assert page.newer == ""  # back on the newest page, which has no newer link


def test_a_newer_page_short_of_a_full_page_is_the_newest_page():
    expected = history_with_ties(10)
    one_row_in = Cursor(*AuditEvent.objects.filter(pk=expected[1]).values_list("created_at", "id").get()).token
    page = audit_page(audit_events(), before=one_row_in, size=4)
    assert ids(page) == expected[:4] and page.newer == ""
    assert page.older == audit_page(audit_events(), size=4).older


def test_the_cursor_keeps_the_filters():
    history_with_ties(9, object_type="role")
    history_with_ties(9, object_type="account")
    roles = audit_events(object_type="role")
    pages = walk_older(roles, size=4)
    listed = [row for page in pages for row in page]
    assert listed == list(roles.values_list("id", flat=True))
    assert set(AuditEvent.objects.filter(pk__in=listed).values_list("object_type", flat=True)) == {"role"}


def test_the_cursor_reads_back_what_it_wrote():
    cursor = Cursor(datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt_timezone.utc), 42)
    assert Cursor.parse(cursor.token) == cursor
    assert re.fullmatch(r"\d+-42", cursor.token)
    before_1970 = Cursor(datetime(1960, 1, 1, tzinfo=dt_timezone.utc), 1)
    assert Cursor.parse(before_1970.token) is None  # no row is that old: a link to it is not one of ours


@pytest.mark.parametrize("token", ["abc", "1-", "-1", "12-34-56", "1.5-3", "9" * 19 + "-1", "9" * 18 + "-1",
                                   "1714564800000000-" + "9" * 19, "<script>", " 1-1", "１-1"])
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_forged_cursor_shows_the_newest_page_and_says_so(client_for, people, token, direction):
    expected = history_with_ties(4)
    response = client_for(people.viewer).get(reverse("audit:list"), {direction: token})
    assert response.status_code == 200
    assert response.context["page_obj"].bad_cursor
    assert ids(response.context["page_obj"]) == expected
    assert b"That page link is not valid" in response.content


def test_a_cursor_past_the_oldest_row_is_an_empty_page_not_an_error(client_for, people):
    history_with_ties(3)
    response = client_for(people.viewer).get(reverse("audit:list"), {"after": Cursor(NOON - timedelta(days=1), 1).token})
    assert response.status_code == 200 and list(response.context["page_obj"]) == []
    assert b"No audit rows match" in response.content and b"newest" in response.content


def test_the_page_links_carry_the_cursor_and_the_filters(client_for, people):
    for index in range(53):
        record(object_repr=f"row {index}", action="update")
    record(object_repr="not an update", action="delete")
    client = client_for(people.viewer)
    first = client.get(reverse("audit:list"), {"action": "update"})
    assert len(first.context["page_obj"]) == 50 and not first.context["page_obj"].newer
    older = first.context["page_obj"].older
    assert f"action=update&amp;after={older}" in first.content.decode()
    second = client.get(reverse("audit:list"), {"action": "update", "after": older})
    assert [event.object_repr for event in second.context["page_obj"]] == ["row 2", "row 1", "row 0"]
    assert f"action=update&amp;before={second.context['page_obj'].newer}" in second.content.decode()
    assert "after=" not in re.search(r'href="([^"]*)">CSV', second.content.decode())[1]  # the export takes every page


def test_page_1000_makes_as_many_queries_as_page_1(client_for, people):
    expected = history_with_ties(60)  # more than a page newer than the deep cursor: "newer" is one query too
    client = client_for(people.viewer)
    client.get(reverse("audit:list"))  # the chain badge is cached for a minute: not part of what is measured
    deep = Cursor(*AuditEvent.objects.filter(pk=expected[-2]).values_list("created_at", "id").get()).token
    first = queries_for(client, reverse("audit:list"), {"q": "row"})
    assert queries_for(client, reverse("audit:list"), {"q": "row", "after": deep}) == first
    assert queries_for(client, reverse("audit:list"), {"q": "row", "before": deep}) == first


def test_the_export_walks_every_keyset_chunk():
    expected = history_with_ties(11)
    assert [event.pk for event in iter_audit_events(audit_events(), limit=100, chunk_size=3, first_chunk_size=2)] == expected
    assert [event.pk for event in iter_audit_events(audit_events(), limit=5, chunk_size=3, first_chunk_size=2)] == expected[:5]


def test_the_filter_choices_are_each_value_once_in_order():
    for object_type, action in [("role", "update"), ("account", "create"), ("role", "create"), ("plan", "plan_approved")]:
        record(object_type=object_type, action=action)
    assert selectors.audit_object_types() == sorted({"role", "account", "plan"})
    assert selectors.audit_actions() == sorted({"update", "create", "plan_approved"})


def test_no_rows_means_no_choices():
    assert selectors.audit_object_types() == [] and selectors.audit_actions() == []


# ---- the queries can use an index ---------------------------------------------------------


def _deep_cursor() -> Cursor:
    return Cursor(NOON, 10**6)


INDEXED_QUERIES = {
    "list": lambda: audit_page_query(audit_events()),
    "list from a cursor": lambda: audit_page_query(audit_events(), after=_deep_cursor()),
    "newer than a cursor": lambda: audit_page_query(audit_events(), before=_deep_cursor()),
    "by type": lambda: audit_page_query(audit_events(object_type="role")),
    "by action": lambda: audit_page_query(audit_events(action="update")),
    "by dates": lambda: audit_page_query(audit_events(date_from=NOON.date(), date_to=NOON.date())),
    "one object": lambda: audit_page_query(audit_events(object_type="role", object_id="7")),
}


def audit_page_query(events, *, after: Cursor | None = None, before: Cursor | None = None) -> str:
    """The (first) query ``audit_page`` runs for a page of ``events`` from a cursor, if any."""
    with CaptureQueriesContext(connection) as captured:
        audit_page(events, after=after.token if after else "", before=before.token if before else "")
    return captured.captured_queries[0]["sql"]


def query_plan(sql: str, *, by_condition: bool = False) -> str:
    """The plan of ``sql``; on PostgreSQL, asking whether an index *can* serve it (a table of a few rows
    is read fastest whole) and, ``by_condition``, one whose condition does the narrowing (bitmap scans)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            if by_condition:
                cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(f"EXPLAIN {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize("name", INDEXED_QUERIES)
def test_the_list_and_its_filters_read_an_index(name):
    history_with_ties(6)
    plan = query_plan(INDEXED_QUERIES[name]())
    if connection.vendor == "postgresql":
        assert "Seq Scan" not in plan and "Index" in plan, plan
    else:
        scans = [line for line in plan.splitlines() if re.match(r"(SCAN|SEARCH) audit_auditevent", line)]
        assert scans and all("INDEX" in line for line in scans), plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan  # the order comes from the index, not a sort


def test_the_text_and_person_searches_use_the_trigram_indexes_on_postgresql():
    history_with_ties(6)
    text = query_plan(audit_page_query(audit_events(text="OPS-4242")), by_condition=True)
    person = query_plan(audit_page_query(audit_events(person="erin")), by_condition=True)
    if connection.vendor == "postgresql":
        assert "Seq Scan" not in text + person
        for index in ("audit_repr_trgm_idx", "audit_reason_trgm_idx", "audit_actor_trgm_idx"):
            assert index in text, text
        assert "audit_actor_trgm_idx" in person, person
    else:
        # SQLite has no index for LIKE '%…%': it reads the newest-first index and stops at a full page.
        assert "USING INDEX audit_newest_idx" in text and "USING INDEX audit_newest_idx" in person, text + person


def test_the_filter_choices_probe_an_index():
    record(object_type="role")
    with CaptureQueriesContext(connection) as captured:
        selectors.audit_object_types()
        selectors.audit_actions()
    for query in captured.captured_queries:
        plan = query_plan(query["sql"])
        if connection.vendor == "postgresql":
            assert "Seq Scan" not in plan, plan
        else:
            assert "SCAN audit_auditevent\n" not in plan + "\n" and "INDEX" in plan, plan


# ---- the migration ----------------------------------------------------------------------


def test_the_trigram_migration_runs_on_this_database_and_only_postgresql_gets_trigram_indexes():
    migration = importlib.import_module("audit.migrations.0009_audit_scale_indexes")
    # What the function uses of a schema editor (SQLite's own refuses to open inside the test's transaction).
    editor = SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name)
    migration.create_trigram_indexes(None, editor)  # after migrate made them: a second run changes nothing
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_auditevent'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_auditevent'")
        names = {name for (name,) in cursor.fetchall()}
    assert {"audit_newest_idx", "audit_type_newest_idx", "audit_action_newest_idx"} <= names
    trigram = {"audit_repr_trgm_idx", "audit_reason_trgm_idx", "audit_actor_trgm_idx"}
    assert (trigram <= names) if connection.vendor == "postgresql" else not (trigram & names)


# ---- verify: chunks and progress --------------------------------------------------------


def test_verify_reads_the_chain_a_chunk_at_a_time(eddie):
    write_history(eddie, rows=7)
    with CaptureQueriesContext(connection) as captured:
        report = verify_chain(chunk_size=2)
    assert report.ok and report.rows == 7
    chunks = [query["sql"] for query in captured.captured_queries if '"sequence" >' in query["sql"]]
    assert len(chunks) == 4 and all("LIMIT 2" in sql for sql in chunks)


def test_verify_finds_a_tampered_row_in_a_later_chunk(eddie):
    history = write_history(eddie, rows=7)
    AuditEvent.objects.filter(pk=history[5].pk).update(object_repr="someone else")
    report = verify_chain(chunk_size=2)
    assert not report.ok and report.first_bad_sequence == 6 and report.problem == "edited"


def test_verify_reports_its_progress_on_stderr(eddie, monkeypatch):
    write_history(eddie, rows=7)
    monkeypatch.setattr("cli.audit.PROGRESS_SECONDS", 0)
    out, err = StringIO(), StringIO()
    call_command("rolemodel", "audit", "verify", "--chunk-size", "2", stdout=out, stderr=err)
    assert "All 7 audit rows verify" in out.getvalue()
    assert err.getvalue().splitlines() == ["verified 2 of 7 rows…", "verified 4 of 7 rows…", "verified 6 of 7 rows…",
                                           "verified 7 of 7 rows…"]


def test_verify_progress_stops_at_the_bad_row(eddie, monkeypatch):
    history = write_history(eddie, rows=7)
    AuditEvent.objects.filter(pk=history[4].pk).update(reason="edited")
    monkeypatch.setattr("cli.audit.PROGRESS_SECONDS", 0)
    err = StringIO()
    with pytest.raises(CommandError, match=r"row 5 \(id \d+\) was edited"):
        call_command("rolemodel", "audit", "verify", "--chunk-size", "2", stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == ["verified 2 of 7 rows…", "verified 4 of 7 rows…"]


def test_verify_is_quiet_when_it_is_quick(eddie):
    write_history(eddie, rows=3)
    err = StringIO()
    call_command("rolemodel", "audit", "verify", stdout=StringIO(), stderr=err)
    assert err.getvalue() == ""


# ---- the page's badge: a full walk now and then, the newest rows in between ---------------------


def test_between_full_walks_the_page_checks_only_the_rows_written_since(eddie):
    from django.core.cache import cache

    from audit.chain import recent_chain_report

    write_history(eddie, rows=4)
    full, _ = recent_chain_report()
    assert full.ok and full.resumed_after == 0 and full.rows == 4
    record()
    record()
    cache.delete("audit-chain-report")  # the minute is over
    with CaptureQueriesContext(connection) as captured:
        report, _ = recent_chain_report()
    assert report.ok and report.rows == 6 and report.resumed_after == 4
    assert "rows 1–4 at the last full check, the 2 since then now" in report.message
    chunks = [query["sql"] for query in captured.captured_queries if '"sequence" >' in query["sql"]]
    assert chunks and all('"sequence" > 4' in sql for sql in chunks)

    newest = AuditEvent.objects.order_by("-sequence").first()
    AuditEvent.objects.filter(pk=newest.pk).update(reason="edited")
    cache.delete("audit-chain-report")
    report, _ = recent_chain_report()
    assert not report.ok and report.first_bad_sequence == 6


def test_a_changed_resume_row_makes_the_page_walk_the_whole_chain(eddie):
    from django.core.cache import cache

    from audit.chain import recent_chain_report

    history = write_history(eddie, rows=3)
    recent_chain_report()
    AuditEvent.objects.filter(pk=history[2].pk).update(row_hash="0" * 64)  # the row the next check would start from
    cache.delete("audit-chain-report")
    report, _ = recent_chain_report()
    assert not report.ok and report.first_bad_sequence == 3 and report.resumed_after == 0


def test_verify_now_walks_the_whole_chain(eddie, client_for, people):
    history = write_history(eddie, rows=3)
    client = client_for(people.viewer)
    assert "chain verifies" in client.get(reverse("audit:list")).content.decode()
    AuditEvent.objects.filter(pk=history[0].pk).update(reason="edited")
    page = client.get(reverse("audit:list"), {"verify": "1"}).content.decode()
    assert "chain broken" in page and "row 1" in page
