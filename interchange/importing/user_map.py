"""The original tool's user map (``users.yml``): account → role → IAM user names."""
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from core import limits
from interchange.importing.problems import Problems
from interchange.importing.values import expect_list, expect_mapping, expect_text


@dataclass
class GroupSpec:
    """The users the map puts in one (account, role) group."""

    account_name: str
    role_name: str
    user_names: list[str]
    where: str


def parse_user_map(data, *, source: str, problems: Problems) -> list[GroupSpec]:
    accounts = expect_mapping(data, where=source, problems=problems, empty_allowed=True)
    if accounts is None:
        return []
    groups = []
    seen_accounts = {}
    for account_name, roles in accounts.items():
        account_name = expect_text(account_name, where=f"{source}, account key {account_name!r}", problems=problems)
        if account_name is None:
            continue
        where = f"{source}, account {account_name}"
        if _listed_before(account_name, seen_accounts, problems=problems,
                          problem=lambda earlier: f"{where}: the account is listed twice (also as {earlier}); "
                                                  "account names are compared without case."):
            continue
        roles = expect_mapping(roles, where=where, problems=problems, empty_allowed=True)
        seen_roles = {}
        for role_name, users in (roles or {}).items():
            role_name = expect_text(role_name, where=f"{where}, role key {role_name!r}", problems=problems)
            if role_name is None:
                continue
            role_where = f"{where}, role {role_name}"
            if _listed_before(role_name, seen_roles, problems=problems,
                              problem=lambda earlier: f"{role_where}: the role is listed twice in this account "
                                                      f"(also as {earlier}); role names are compared without case."):
                continue
            user_names = _user_names(users, where=role_where, problems=problems)
            groups.append(
                GroupSpec(account_name=account_name, role_name=role_name, user_names=user_names, where=role_where)
            )
    return groups


def _listed_before(name: str, seen: dict[str, str], *, problems: Problems, problem) -> bool:
    """True, after recording ``problem(earlier spelling)``, when ``seen`` already holds ``name`` ignoring case;
    else False, and ``name`` is now in ``seen``."""
    earlier = seen.get(name.lower())
    if earlier is not None:
        problems.add(problem(earlier))
        return True
    seen[name.lower()] = name
    return False


def _user_names(users, *, where: str, problems: Problems) -> list[str]:
    names, seen = [], {}
    for user in expect_list(users, where=where, problems=problems, empty_allowed=True) or []:
        name = expect_text(user, where=where, problems=problems)
        if name is None:
            continue
        try:
            limits.validate_iam_name(name, kind="user", max_length=limits.USER_NAME_MAX)
        except ValidationError as error:
            problems.add_validation_error(where, error)
            continue
        if _listed_before(name, seen, problems=problems,
                          problem=lambda _: f"{where}: the user {name} is listed twice (user names are compared without case)."):
            continue
        names.append(name)
    return names
