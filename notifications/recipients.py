"""Who hears about an event, worked out from the console roles as core/permissions.py defines them.

Only active console users are ever addressed: a deactivated person hears nothing.
"""
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from core.permissions import CAPABILITIES, SUPERUSER_LACKS

User = get_user_model()


def holders_of(capability: str) -> QuerySet:
    """The active users who hold ``capability`` through a console group (or as superuser, where that counts)."""
    who = Q(groups__name__in=CAPABILITIES[capability])
    if capability not in SUPERUSER_LACKS:
        who |= Q(is_superuser=True)
    return User.objects.filter(who, is_active=True).distinct().order_by("username")


def active_users(user_ids: Iterable[int | None]) -> list:
    """The active users among ``user_ids`` (None and repeats ignored), in id order."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk")) if ids else []


def approvers_of_plan(*, requester_id: int | None, editor_ids: Iterable[int]) -> list:
    """The Approvers who may approve the plan: not the person who requested it nor those whose edits it carries
    (four eyes), so nobody is asked to approve what they may not."""
    excluded = {requester_id, *editor_ids} - {None}
    return list(holders_of("approve").exclude(pk__in=excluded))


def admins() -> list:
    return list(holders_of("manage_users"))
