"""What a search box offers while someone types (the IAM user and account pickers)."""
from django.db.models import QuerySet

SUGGESTIONS_MAX = 20


def suggestions(matching: QuerySet, *, text: str, name_field: str) -> list:
    """At most 20 rows of ``matching`` (the rows that contain ``text`` somewhere), those whose
    ``name_field`` starts with ``text`` first, each part in name order."""
    if not text:
        return []
    starting = list(matching.filter(**{f"{name_field}__istartswith": text}).order_by(name_field)[:SUGGESTIONS_MAX])
    if len(starting) == SUGGESTIONS_MAX:
        return starting
    rest = matching.exclude(pk__in=[row.pk for row in starting]).order_by(name_field)
    return starting + list(rest[: SUGGESTIONS_MAX - len(starting)])
