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
    for account_name, roles, where in _named_entries(accounts, where=source, kind="account", problems=problems):
        roles = expect_mapping(roles, where=where, problems=problems, empty_allowed=True)
        for role_name, users, role_where in _named_entries(roles or {}, where=where, kind="role", problems=problems,
                                                           within=" in this account"):
            user_names = _user_names(users, where=role_where, problems=problems)
            groups.append(
                GroupSpec(account_name=account_name, role_name=role_name, user_names=user_names, where=role_where)
            )
    return groups


def _named_entries(mapping: dict, *, where: str, kind: str, problems: Problems, within: str = ""):
    """``(name, value, where)`` for each key of ``mapping`` that names a ``kind`` (an account, a role):
    a key that is not text, or that repeats an earlier one ignoring case, is a problem and is passed over."""
    seen = {}
    for key, value in mapping.items():
        name = expect_text(key, where=f"{where}, {kind} key {key!r}", problems=problems)
        if name is None:
            continue
        entry_where = f"{where}, {kind} {name}"
        if name.lower() in seen:
            problems.add(
                f"{entry_where}: the {kind} is listed twice{within} (also as {seen[name.lower()]}); "
                f"{kind} names are compared without case."
            )
            continue
        seen[name.lower()] = name
        yield name, value, entry_where


def _user_names(users, *, where: str, problems: Problems) -> list[str]:
    names, seen = [], set()
    for user in expect_list(users, where=where, problems=problems, empty_allowed=True) or []:
        name = expect_text(user, where=where, problems=problems)
        if name is None:
            continue
        try:
            limits.validate_iam_name(name, kind="user", max_length=limits.USER_NAME_MAX)
        except ValidationError as error:
            problems.add_validation_error(where, error)
            continue
        if name.lower() in seen:
            problems.add(f"{where}: the user {name} is listed twice (user names are compared without case).")
            continue
        seen.add(name.lower())
        names.append(name)
    return names
