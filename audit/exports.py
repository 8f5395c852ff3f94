"""Audit history as CSV or JSON downloads, streamed row by row so a large export stays small in memory."""
import csv
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import iter_audit_events

EXPORT_FORMATS = ("csv", "json")
EXPORT_ROWS_MAX = 100_000
CSV_COLUMNS = (
    "created_at",
    "actor",
    "source",
    "action",
    "object_type",
    "object_id",
    "object",
    "reason",
    "changed_fields",
    "before",
    "after",
)
# A spreadsheet runs a cell that starts with one of these as a formula; names and reasons are typed by people.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def event_record(event: AuditEvent) -> dict:
    return {
        "created_at": event.created_at.isoformat(),
        "actor": event.actor_name,
        "source": event.source,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object": event.object_repr,
        "reason": event.reason,
        "changed_fields": event.changed_fields,
        "before": event.before,
        "after": event.after,
    }


def _spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _csv_cells(record: dict) -> list[str]:
    cells = []
    for column in CSV_COLUMNS:
        value = record[column]
        if column in ("before", "after"):
            value = "" if value is None else json.dumps(value, sort_keys=True, cls=DjangoJSONEncoder)
        elif column == "changed_fields":
            value = " ".join(value)
        cells.append(_spreadsheet_safe(str(value)))
    return cells


class _Line:
    """A file-like object whose write() hands back the line, so csv.writer can feed a generator."""

    def write(self, text: str) -> str:
        return text


def csv_lines(events):
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for event in events:
        yield writer.writerow(_csv_cells(event_record(event)))


def json_chunks(events):
    yield "["
    for index, event in enumerate(events):
        yield ("," if index else "") + "\n" + json.dumps(event_record(event), cls=DjangoJSONEncoder)
    yield "\n]\n"


def export_response(events, *, export_format: str) -> StreamingHttpResponse:
    """The newest ``EXPORT_ROWS_MAX`` rows of ``events`` (already filtered and ordered) as a download."""
    rows = iter_audit_events(events, limit=EXPORT_ROWS_MAX)
    if export_format == "csv":
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(json_chunks(rows), content_type="application/json")
    filename = f"audit-{timezone.now():%Y%m%d-%H%M%S}.{export_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Export-Row-Limit"] = str(EXPORT_ROWS_MAX)
    return response
