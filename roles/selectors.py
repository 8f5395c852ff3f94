from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import AssumableAccount, LiveStackRecord
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
    """For a role with its ``accounts`` prefetched (``roles_with_policies``): no query."""
    return role.applies_to_all_accounts or any(applied.pk == account.pk for applied in role.accounts.all())


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
    """The role's own audit rows and those of its inline policies (linked to it as their parent), newest first."""
    ROLE = AuditEvent.ObjectType.ROLE
    rows = AuditEvent.objects.filter(
        Q(object_type=ROLE, object_id=str(role.pk)) | Q(parent_type=ROLE, parent_id=str(role.pk))
    )
    return list(rows.order_by("-created_at", "-id")[:limit])


def role_deployments(role, *, stack_name: str) -> list[dict]:
    """Per enabled account the role applies to: the role's live name and ARN there, as the console last
    read the account's stack (no AWS call); an empty name where it is not deployed yet."""
    accounts = AssumableAccount.objects.filter(enabled=True).order_by("name")
    if not role.applies_to_all_accounts:
        accounts = accounts.filter(pk__in=[account.pk for account in role.accounts.all()])
    accounts = list(accounts)
    records = {
        record.account_id: record
        for record in LiveStackRecord.objects.filter(account__in=accounts, stack_name=stack_name).select_related("account")
    }
    rows = []
    for account in accounts:
        record = records.get(account.pk)
        physical = (record.role_names or {}).get(role.logical_name, "") if record else ""
        rows.append({
            "account": account,
            "physical_name": physical,
            "arn": record.role_arn(role.logical_name) if physical else "",
            "named_by_cloudformation": bool(physical) and role.logical_name in record.names_given_by_cloudformation(),
            "read_at": record.read_at if record else None,
        })
    return rows


def kept_role_names(accounts, roles, *, stack_name: str) -> dict:
    """Per account name: the roles that keep the name CloudFormation gave them there, logical id ->
    physical name. That is a role imported without RoleName that lives in the account's stack under
    such a name, with the path it has there: another path makes CloudFormation replace the role
    under a new random name, which no plan could approve, so the template then names it instead."""
    records = {record.account_id: record
               for record in LiveStackRecord.objects.filter(account__in=list(accounts), stack_name=stack_name)}
    adopted = [role for role in roles if role.name_from_cloudformation]
    kept = {}
    for account in accounts:
        record = records.get(account.pk)
        given = record.names_given_by_cloudformation() if record is not None else {}
        kept[account.name] = {
            role.logical_name: given[role.logical_name]
            for role in adopted
            if role.logical_name in given and record.role_path(role.logical_name) == role.path
        }
    return kept
