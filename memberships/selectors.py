"""Reads behind the membership pages; each runs a fixed number of queries whatever the row count."""
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower

from accounts.models import AssumableAccount
from core import limits
from core.suggestions import suggestions
from memberships.models import IAMUser, Membership
from memberships.services import distinct_group_count
from roles.models import RoleDefinition
from roles.selectors import account_role_pairs

# Upper bounds of the member counts shaded 0..4 in the access matrix (the last shade is open-ended).
MATRIX_SHADE_BOUNDS = (0, 2, 5, 10)


def grants_of_same_group() -> Subquery:
    """How many grants the membership's user holds of its group (two overlapping grants: 2 each)."""
    return Subquery(
        Membership.objects.filter(iam_user=OuterRef("iam_user"), account=OuterRef("account"), role=OuterRef("role"))
        .order_by().values("iam_user").annotate(grants=Count("pk")).values("grants")
    )


def memberships_filtered(*, account=None, role=None, iam_user=None) -> QuerySet:
    memberships = Membership.objects.select_related("iam_user", "account", "role").annotate(
        group_grants=grants_of_same_group()
    )
    if account is not None:
        memberships = memberships.filter(account=account)
    if role is not None:
        memberships = memberships.filter(role=role)
    if iam_user is not None:
        memberships = memberships.filter(iam_user=iam_user)
    return memberships


def iam_users_with_group_counts(*, search: str = "") -> QuerySet:
    iam_users = IAMUser.objects.annotate(group_count=distinct_group_count("memberships__"))
    if search:
        iam_users = iam_users.filter(
            Q(user_name__icontains=search) | Q(display_name__icontains=search) | Q(email__icontains=search)
        )
    return iam_users.order_by("user_name")


def iam_user_suggestions(text: str) -> list[IAMUser]:
    """At most 20 IAM users whose user name or display name contains ``text``, user names that start
    with it first: what a search box offers while someone types."""
    matching = IAMUser.objects.filter(Q(user_name__icontains=text) | Q(display_name__icontains=text))
    return suggestions(matching, text=text, name_field="user_name")


def iam_users_named(names: list[str]) -> dict[str, IAMUser]:
    """The IAM users with these names (IAM names are unique regardless of case), by lower-cased name.
    A text that cannot be an IAM user name (a NUL, a space, too long) names nobody, and is not sent to the
    database (PostgreSQL refuses a NUL in a query)."""
    lowered = {name.lower() for name in names
               if len(name) <= limits.USER_NAME_MAX and limits.IAM_NAME_CHARACTERS.match(name)}
    return {
        iam_user.user_name.lower(): iam_user
        for iam_user in IAMUser.objects.annotate(lower_name=Lower("user_name")).filter(lower_name__in=lowered)
    }


def iam_user_grants(iam_user: IAMUser) -> list[Membership]:
    """The user's grants by group, each with ``group_grants``: how many grants of its group they hold."""
    grants = list(
        iam_user.memberships.select_related("iam_user", "account", "role")
        .order_by("account__name", "role__logical_name", "expires_at", "pk")
    )
    per_group = {}
    for grant in grants:
        per_group[(grant.account_id, grant.role_id)] = per_group.get((grant.account_id, grant.role_id), 0) + 1
    for grant in grants:
        grant.group_grants = per_group[(grant.account_id, grant.role_id)]
    return grants


def group_count(grants: list[Membership]) -> int:
    """The groups these grants put a user in (IAM's 10-group limit counts groups, not grants)."""
    return len({(grant.account_id, grant.role_id) for grant in grants})


def grantable_pairs() -> list[tuple[AssumableAccount, RoleDefinition]]:
    """Every (account, role) pair that has a group in the master account, ordered by group name."""
    accounts = list(AssumableAccount.objects.order_by("name"))
    roles = list(RoleDefinition.objects.prefetch_related("accounts").order_by("logical_name"))
    return account_role_pairs(accounts, roles)


def pair_value(account, role) -> str:
    """How an (account, role) pair travels in a form: ``"<account id>:<role id>"`` (database ids)."""
    return f"{account.pk}:{role.pk}"


def matrix_shade(count: int) -> int:
    for shade, upper_bound in enumerate(MATRIX_SHADE_BOUNDS):
        if count <= upper_bound:
            return shade
    return len(MATRIX_SHADE_BOUNDS)


def matrix_shade_legend() -> list[tuple[int, str]]:
    """``[(shade, "1–2"), ...]`` describing what each shade of the matrix means."""
    legend, lower = [], 0
    for shade, upper in enumerate(MATRIX_SHADE_BOUNDS):
        legend.append((shade, str(upper) if lower == upper else f"{lower}–{upper}"))
        lower = upper + 1
    legend.append((len(MATRIX_SHADE_BOUNDS), f"more than {MATRIX_SHADE_BOUNDS[-1]}"))
    return legend


@dataclass
class MatrixCell:
    account: AssumableAccount
    role: RoleDefinition
    applies: bool
    count: int

    @property
    def shade(self) -> int:
        return matrix_shade(self.count)


@dataclass
class MatrixRow:
    account: AssumableAccount
    cells: list[MatrixCell]

    @property
    def total(self) -> int:
        return sum(cell.count for cell in self.cells if cell.applies)


@dataclass
class AccessMatrix:
    roles: list[RoleDefinition]
    rows: list[MatrixRow] = field(default_factory=list)

    @property
    def column_totals(self) -> list[int]:
        return [sum(row.cells[index].count for row in self.rows if row.cells[index].applies) for index in range(len(self.roles))]

    @property
    def column_totals_by_role(self) -> list[tuple[RoleDefinition, int]]:
        return list(zip(self.roles, self.column_totals))

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)


def access_matrix(*, account_name: str = "", role: RoleDefinition | None = None) -> AccessMatrix:
    """Accounts × roles with the member count of each group, from one aggregate query.

    A pair whose role does not apply to the account has no group; its cell says so
    (``applies`` is False) instead of showing a misleading zero.
    """
    account_rows = AssumableAccount.objects.order_by("name")
    if account_name:
        account_rows = account_rows.filter(name__icontains=account_name)
    role_columns = RoleDefinition.objects.order_by("logical_name")
    if role is not None:
        role_columns = role_columns.filter(pk=role.pk)
    accounts = list(account_rows)
    roles = list(role_columns.prefetch_related("accounts"))

    counts = {
        (row["account_id"], row["role_id"]): row["members"]
        for row in Membership.objects.filter(account__in=account_rows.values("pk"), role__in=role_columns.values("pk"))
        .order_by()
        .values("account_id", "role_id")
        .annotate(members=Count("iam_user", distinct=True))
    }
    applicable = {(account.pk, role.pk) for account, role in account_role_pairs(accounts, roles)}
    matrix = AccessMatrix(roles=roles)
    for account in accounts:
        cells = [
            MatrixCell(
                account=account,
                role=role,
                applies=(account.pk, role.pk) in applicable,
                count=counts.get((account.pk, role.pk), 0),
            )
            for role in roles
        ]
        matrix.rows.append(MatrixRow(account=account, cells=cells))
    return matrix
