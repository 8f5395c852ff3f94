import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit import selectors
from audit.chain import recent_chain_report
from audit.exports import EXPORT_FORMATS, export_response
from audit.forms import AuditFilterForm
from audit.models import AuditEvent
from core.permissions import require
from core.throttle import CHAIN_WALK, throttled


def _pretty_json(value) -> str:
    return "" if value is None else json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)


@require_GET
@require("view")
@throttled(CHAIN_WALK, when=lambda request: request.GET.get("verify") == "1")
def audit_list(request):
    filters = AuditFilterForm(request.GET)
    events = selectors.audit_events(**filters.selector_filters()) if filters.is_valid() else AuditEvent.objects.none()
    page_obj = selectors.audit_page(events, after=request.GET.get("after", ""), before=request.GET.get("before", ""))
    for event in page_obj:
        event.before_json, event.after_json = _pretty_json(event.before), _pretty_json(event.after)
    chain_report, verified_at = recent_chain_report(fresh=request.GET.get("verify") == "1")
    return render(
        request,
        "audit/audit_list.html",
        {"filters": filters, "page_obj": page_obj, "chain_report": chain_report, "chain_verified_at": verified_at},
    )


@require_GET
@require("view")
def audit_export(request):
    export_format = request.GET.get("format", "csv")
    if export_format not in EXPORT_FORMATS:
        return HttpResponseBadRequest(
            f"Unknown export format {export_format!r}: use format=csv or format=json.", content_type="text/plain; charset=utf-8"
        )
    filters = AuditFilterForm(request.GET)
    if not filters.is_valid():
        return HttpResponseBadRequest(
            f"The filters are not valid, nothing was exported. {filters.error_text()}", content_type="text/plain; charset=utf-8"
        )
    return export_response(selectors.audit_events(**filters.selector_filters()), export_format=export_format)
