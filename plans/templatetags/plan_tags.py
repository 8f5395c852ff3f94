from datetime import datetime
from datetime import timezone as dt_timezone

from django import template
from django.utils import timezone

from core import json_diff
from plans import links, presenting

register = template.Library()


register.filter("diff_lines", json_diff.diff_lines)


ACTION_BADGES = {"add": "green", "create": "green", "change": "amber", "update": "amber", "recreate": "amber",
                 "remove": "red", "delete": "red"}


@register.filter
def action_badge(action: str) -> str:
    return ACTION_BADGES.get(action, "")


@register.filter
def status_badge(status: str) -> str:
    return {"succeeded": "green", "applied": "green", "no_changes": "green", "approved": "green",
            "failed": "red", "blocked": "red", "rejected": "red", "apply_failed": "red",
            "pending": "amber", "planning": "amber", "running": "amber", "applying": "amber", "queued": "amber"}.get(status, "")


@register.filter
def log_time(stamp: str) -> str:
    """A step-log line's time (stored as ISO 8601 in UTC) as HH:MM:SS in the console's time zone."""
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return ""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt_timezone.utc)
    return timezone.localtime(moment).strftime("%H:%M:%S")


@register.filter
def replacement(resource: dict, account: dict | None = None) -> str:
    """"yes", "no" or "conditional": whether CloudFormation replaces this resource of ``account``."""
    return presenting.replacement_label(resource, account)


@register.filter
def stack_notes(plan) -> list[dict]:
    """Stacks whose status is not a plain *_COMPLETE, with what the plan does about them."""
    return presenting.stack_notes(plan)


@register.filter
def unknown_group_names(plan) -> set[str]:
    return {group["group"] for group in presenting.unknown_groups(plan)}


@register.filter
def block_link(block: dict) -> str:
    """Where a block's message leads (``plans.links``): built from its stored target."""
    return links.block_link(block)


@register.filter
def operation_counts(operations: dict | None) -> str:
    """``DeleteStack ×1, DescribeStacks ×2`` by operation name: PostgreSQL's jsonb keeps no key order."""
    return ", ".join(f"{operation} ×{count}" for operation, count in sorted((operations or {}).items()))
