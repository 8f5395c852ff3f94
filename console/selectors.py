from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import AssumableAccount
from core import limits
from memberships.models import IAMUser, Membership
from memberships.services import distinct_group_count
from roles.models import RoleDefinition

DESIRED_STATE_MODELS = {"account_count": AssumableAccount, "role_count": RoleDefinition, "iam_user_count": IAMUser,
                        "membership_count": Membership}


def desired_state_counts() -> dict[str, int]:
    """``{"account_count": …, "role_count": …, "iam_user_count": …, "membership_count": …}`` in one query."""
    counts = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)})"
                       for model in DESIRED_STATE_MODELS.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        return dict(zip(DESIRED_STATE_MODELS, cursor.fetchone()))


def iam_users_near_group_limit(threshold: int = limits.GROUPS_PER_USER_MAX - 2):
    return (
        IAMUser.objects.annotate(group_count=distinct_group_count("memberships__"))
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
