from django.db.models import Prefetch, Q, QuerySet

from roles.models import InlinePolicy, RoleDefinition


def roles_with_policies() -> QuerySet:
    return RoleDefinition.objects.prefetch_related(
        Prefetch("policies", queryset=InlinePolicy.objects.order_by("name")), "accounts"
    )


def roles_for_account(account) -> QuerySet:
    """Roles whose stack resources belong in this account."""
    return roles_with_policies().filter(Q(applies_to_all_accounts=True) | Q(accounts=account)).distinct()


def role_applies_to(role, account) -> bool:
    return role.applies_to_all_accounts or role.accounts.filter(pk=account.pk).exists()


def account_role_pairs(accounts, roles) -> list[tuple]:
    """Every (account, role) pair that has a group, for prefetched ``roles``."""
    pairs = []
    for account in accounts:
        for role in roles:
            if role.applies_to_all_accounts or any(a.pk == account.pk for a in role.accounts.all()):
                pairs.append((account, role))
    return pairs
