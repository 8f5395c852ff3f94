import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEvent


def history_for(*, object_type: str, object_id, limit: int = 50):
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("-created_at", "-id")[:limit]


def history_context(*, object_type: str, obj, rows=None, limit: int = 50) -> dict:
    """What ``partials/history.html`` needs: ``rows`` when the caller gathered them (a role's include
    its policies'), else the object's own audit rows."""
    if rows is None:
        rows = history_for(object_type=object_type, object_id=obj.pk, limit=limit)
    return {
        "history": list(rows),
        "history_object_type": object_type,
        "history_object_id": obj.pk,
    }


def audit_events(
    *,
    person: str = "",
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    text: str = "",
) -> QuerySet:
    """Audit rows newest first, narrowed by whichever filters are given (dates inclusive, in the site's time zone)."""
    events = AuditEvent.objects.order_by("-created_at", "-id")
    if person:
        events = events.filter(actor_name__icontains=person)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if action:
        events = events.filter(action=action)
    if date_from:
        events = events.filter(created_at__gte=_start_of(date_from))
    if date_to:
        events = events.filter(created_at__lt=_start_of(date_to + timedelta(days=1)))
    if text:
        events = events.filter(Q(object_repr__icontains=text) | Q(reason__icontains=text) | Q(actor_name__icontains=text))
    return events


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- keyset pages: the list's order is (created_at, id) descending, and a page starts after a row --

PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)
_CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,18})")


@dataclass(frozen=True)
class Cursor:
    """A position in the list: the row a page starts after (older pages) or before (newer pages)."""

    created_at: datetime
    id: int

    @classmethod
    def of(cls, event: AuditEvent) -> "Cursor":
        return cls(event.created_at, event.pk)

    @property
    def token(self) -> str:
        """As it travels in links: microseconds since 1970 (UTC), a dash, the row's id."""
        delta = self.created_at - _EPOCH
        return f"{(delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds}-{self.id}"

    @classmethod
    def parse(cls, token: str) -> "Cursor | None":
        """The cursor a link carries, or None when it is not one (cut short, edited, from elsewhere)."""
        match = _CURSOR.fullmatch(token or "")
        if match is None:
            return None
        try:
            created_at = _EPOCH + timedelta(microseconds=int(match[1]))
        except OverflowError:
            return None
        return cls(created_at, int(match[2]))


@dataclass
class AuditPage:
    events: list[AuditEvent]
    newer: str = ""  # the token of a link to the page before this one, "" on the newest page
    older: str = ""  # the token of a link to the page after this one, "" on the oldest page
    bad_cursor: bool = False  # the link's cursor was not one: this is the newest page instead

    def __iter__(self):
        return iter(self.events)

    def __len__(self):
        return len(self.events)


def audit_page(events: QuerySet, *, after: str = "", before: str = "", size: int = PAGE_SIZE) -> AuditPage:
    """One page of ``events`` (newest first, as ``audit_events`` orders them) by keyset, not offset.

    ``after`` gives the rows older than a cursor, ``before`` the rows newer than one. Each is one
    query that starts from the cursor in the newest-first index, so the thousandth page costs what
    the first does. A cursor that cannot be read gives the newest page, marked ``bad_cursor``.
    """
    token = after or before
    cursor = Cursor.parse(token) if token else None
    if token and cursor is None:
        page = audit_page(events, size=size)
        page.bad_cursor = True
        return page
    if cursor is not None and not after:
        newer_rows = list(_newer_than(events, cursor)[:size + 1])
        if len(newer_rows) > size:
            rows = newer_rows[:size][::-1]
            return AuditPage(rows, newer=Cursor.of(rows[0]).token, older=Cursor.of(rows[-1]).token)
        return audit_page(events, size=size)  # fewer than a page is newer: the newest page, full
    if cursor is not None:
        # "created_at <= t" too: it is the part an index range can start from, the OR alone is not.
        events = events.filter(created_at__lte=cursor.created_at).filter(
            Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, id__lt=cursor.id))
    rows = list(events[:size + 1])
    older = Cursor.of(rows[size - 1]).token if len(rows) > size else ""
    rows = rows[:size]
    newer = "" if cursor is None else Cursor.of(rows[0]).token if rows else after  # past the oldest row: back from there
    return AuditPage(rows, newer=newer, older=older)


def iter_audit_events(events: QuerySet, *, limit: int, chunk_size: int = 1000, first_chunk_size: int = 100):
    """The first ``limit`` rows of ``events`` (newest first), read a keyset page at a time: each query
    starts from an index, so a long export starts as fast on a large history as on a small one (and,
    with a small first page, sends its first lines before a whole chunk is read)."""
    after, sent = "", 0
    while sent < limit:
        page = audit_page(events, after=after, size=min(first_chunk_size if not sent else chunk_size, limit - sent))
        yield from page.events
        sent += len(page.events)
        if not page.older:
            return
        after = page.older


def _newer_than(events: QuerySet, cursor: Cursor) -> QuerySet:
    return events.filter(created_at__gte=cursor.created_at).filter(
        Q(created_at__gt=cursor.created_at) | Q(created_at=cursor.created_at, id__gt=cursor.id)
    ).order_by("created_at", "id")


# --- the filter's choices ---------------------------------------------------------------------


def audit_object_types() -> list[str]:
    return _distinct_values("object_type")


def audit_actions() -> list[str]:
    return _distinct_values("action")


def _distinct_values(column: str) -> list[str]:
    """The distinct values of an indexed column, in order, one index probe each (a "loose index scan").

    ``SELECT DISTINCT`` would read the whole table, or the whole index; this reads one entry per
    value, so a dozen object types cost the same among a hundred rows or millions.
    """
    quote = connection.ops.quote_name
    table, name = quote(AuditEvent._meta.db_table), quote(column)
    sql = (f"WITH RECURSIVE found(value) AS (SELECT MIN({name}) FROM {table} UNION ALL "
           f"SELECT (SELECT MIN({name}) FROM {table} WHERE {name} > found.value) FROM found WHERE found.value IS NOT NULL) "
           f"SELECT value FROM found WHERE value IS NOT NULL")
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [value for (value,) in cursor.fetchall()]


def membership_removals(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], AuditEvent]:
    """The latest audit row removing each (IAM user name, group name) membership, where there is one."""
    if not pairs:
        return {}
    found = {}
    rows = (
        AuditEvent.objects.filter(object_type="membership", action="delete",
                                  before__user__in={user for user, _ in pairs},
                                  before__group__in={group for _, group in pairs})
        .order_by("-pk")
        .only("actor_name", "reason", "created_at", "before")
    )
    for row in rows.iterator():
        key = (row.before.get("user"), row.before.get("group"))
        if key in pairs and key not in found:
            found[key] = row
            if len(found) == len(pairs):
                break
    return found
