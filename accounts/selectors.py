from django.db.models import Count, Q, QuerySet

from accounts.models import AssumableAccount
from core.suggestions import suggestions
from memberships.models import Membership
from roles.models import RoleDefinition
from roles.selectors import roles_for_account


def account_suggestions(text: str) -> list[AssumableAccount]:
    """At most 20 accounts whose name or 12-digit id contains ``text``, names that start with it first."""
    matching = AssumableAccount.objects.filter(Q(name__icontains=text) | Q(account_id__icontains=text))
    return suggestions(matching, text=text, name_field="name")


def accounts_for_list() -> QuerySet:
    """Accounts with how many roles apply to each and how many memberships each holds, in one query.

    ``roles_applying`` is the restricted roles naming the account plus the roles that apply to
    every account (counted once, by the caller, see :func:`roles_applying_to_all_count`).
    """
    return AssumableAccount.objects.annotate(
        restricted_role_count=Count(
            "restricted_roles", filter=Q(restricted_roles__applies_to_all_accounts=False), distinct=True
        ),
        member_count=Count("memberships", distinct=True),
    ).order_by("name")


def roles_applying_to_all_count() -> int:
    return RoleDefinition.objects.filter(applies_to_all_accounts=True).count()


def account_roles_with_members(account: AssumableAccount) -> list[tuple[RoleDefinition, list[Membership]]]:
    """Each role that applies to the account, with the memberships of its group, in two queries."""
    roles = list(roles_for_account(account).order_by("logical_name"))
    by_role = {role.pk: [] for role in roles}
    memberships = account.memberships.select_related("iam_user", "role", "account").order_by("iam_user__user_name")
    for membership in memberships:
        by_role.setdefault(membership.role_id, []).append(membership)
    return [(role, by_role[role.pk]) for role in roles]
