from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.db.models import Count, Prefetch
from django.utils import timezone

from core import limits
from memberships.models import IAMUser, Membership


def iam_users_near_group_limit(threshold: int = limits.GROUPS_PER_USER_MAX - 2):
    return (
        IAMUser.objects.annotate(group_count=Count("memberships"))
        .filter(group_count__gte=threshold)
        .order_by("-group_count", "user_name")[:20]
    )


def memberships_expiring_soon(days: int = 7):
    now = timezone.now()
    return (
        Membership.objects.filter(expires_at__gt=now, expires_at__lte=now + timedelta(days=days))
        .select_related("iam_user", "account", "role")
        .order_by("expires_at")[:20]
    )


def console_users():
    return User.objects.order_by("username").prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
