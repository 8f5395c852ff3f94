from django import template

from core import json_diff

register = template.Library()
register.filter("diff_lines", json_diff.diff_lines)


@register.filter
def finding_diff(finding) -> str:
    """The expected value → the live one, as a unified diff of their JSON."""
    return json_diff.unified_diff(finding.expected, finding.live, name=finding.target, before_label="expected",
                                  after_label="live")


@register.filter
def pretty_json(value) -> str:
    return "(absent)" if value is None else json_diff.pretty(value)
