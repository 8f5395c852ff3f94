from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import AssumableAccount
from audit.models import AuditEvent
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


def roles_for_list() -> QuerySet:
    """Roles with their policy and member counts and the accounts they are restricted to."""
    return (
        RoleDefinition.objects.annotate(
            policy_count=Count("policies", distinct=True),
            member_count=Count("memberships", distinct=True),
        )
        .prefetch_related(Prefetch("accounts", queryset=AssumableAccount.objects.order_by("name")))
        .order_by("logical_name")
    )


def role_history(role, *, limit: int = 50) -> list:
    """The role's own audit rows and those of its inline policies, newest first.

    Policy rows are written with object type ``policy`` and named ``<logical name>/<policy>``;
    a policy that was deleted, or belonged to the role under an earlier logical name, is found
    through every logical name the role's own history records.
    """
    role_rows = AuditEvent.objects.filter(object_type="role", object_id=str(role.pk))
    logical_names = {role.logical_name}
    for before, after in role_rows.values_list("before", "after"):
        for snapshot in (before, after):
            if isinstance(snapshot, dict) and snapshot.get("logical_name"):
                logical_names.add(snapshot["logical_name"])
    policy_rows = Q(object_id__in=[str(pk) for pk in role.policies.values_list("pk", flat=True)])
    for name in logical_names:
        policy_rows |= Q(object_repr__startswith=f"{name}/")
    rows = AuditEvent.objects.filter(
        Q(object_type="role", object_id=str(role.pk)) | (Q(object_type="policy") & policy_rows)
    )
    return list(rows.order_by("-created_at", "-id")[:limit])
