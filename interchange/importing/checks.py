"""Checks of the files against each other and against what the console already holds.

They run inside the import's transaction, before the first write, so that every problem is
reported at once; the services check the same rules again when they write.
"""
from collections import defaultdict

from django.core.exceptions import ValidationError

from accounts.models import AssumableAccount
from core import limits
from interchange.importing.problems import Problems
from interchange.importing.spec import ImportSpec
from memberships.models import Membership
from roles.selectors import roles_with_policies


def check_against_console(spec: ImportSpec, problems: Problems) -> None:
    existing_accounts = {account.name.lower(): account for account in AssumableAccount.objects.all()}
    account_names = {name: account.name for name, account in existing_accounts.items()}
    account_names.update({account.name.lower(): account.name for account in spec.config.accounts})
    _check_account_ids(spec, existing_accounts, problems)

    existing_roles = {role.logical_name.lower(): role for role in roles_with_policies()}
    # Each role's accounts after the import, by lower-case name; None means every account.
    scopes = {
        key: None if role.applies_to_all_accounts else {account.name.lower() for account in role.accounts.all()}
        for key, role in existing_roles.items()
    }
    role_names = {key: role.logical_name for key, role in existing_roles.items()}
    for role in spec.template.roles:
        where = f"{spec.template_source}, role {role.logical_name}"
        key = role.logical_name.lower()
        role_names[key] = role.logical_name
        if role.account_names is None:
            scopes[key] = None
            continue
        unknown = [name for name in role.account_names if name.lower() not in account_names]
        if unknown:
            problems.add(
                f"{where}, Metadata: the account(s) {', '.join(unknown)} are neither in {spec.config_source} "
                "nor in the console."
            )
        scopes[key] = {name.lower() for name in role.account_names}
        if key in existing_roles:
            _check_no_stranded_members(existing_roles[key], scopes[key], where=where, problems=problems)
    _check_iam_role_names(spec, existing_roles, problems)

    def applies(role_key: str, account_key: str) -> bool:
        return scopes[role_key] is None or account_key in scopes[role_key]

    for account_key, account_name in sorted(account_names.items()):
        for role_key, role_name in sorted(role_names.items()):
            if applies(role_key, account_key):
                try:
                    limits.validate_group_name(account_name, role_name)
                except ValidationError as error:
                    problems.add_validation_error(spec.config_source, error)

    if spec.groups is not None:
        _check_user_map(spec, account_names, role_names, applies, problems)


def _check_account_ids(spec: ImportSpec, existing_accounts: dict, problems: Problems) -> None:
    owners = {account.account_id: account.name for account in existing_accounts.values() if account.account_id}
    renamed_ids = {account.name.lower(): account.fields.get("account_id") for account in spec.config.accounts}
    for account in spec.config.accounts:
        account_id = account.fields.get("account_id")
        owner = owners.get(account_id)
        if not account_id or owner is None or owner.lower() == account.name.lower():
            continue
        if renamed_ids.get(owner.lower()) not in (None, account_id):
            continue  # the file gives the other account a new id, freeing this one
        problems.add(f"{account.where}: the account id {account_id} already belongs to the console's account {owner}.")


def _check_no_stranded_members(role, scope: set, *, where: str, problems: Problems) -> None:
    stranded = sorted(
        f"{membership.iam_user.user_name} in {membership.group_name}"
        for membership in role.memberships.select_related("iam_user", "account", "role")
        if membership.account.name.lower() not in scope
    )
    if stranded:
        problems.add(
            f"{where}, Metadata: the role would no longer apply to accounts where people hold it "
            f"({', '.join(stranded)}); an import never removes access. Revoke those memberships first, "
            "or add the accounts to the role's Metadata."
        )


def _check_iam_role_names(spec: ImportSpec, existing_roles: dict, problems: Problems) -> None:
    imported = {role.logical_name.lower() for role in spec.template.roles}
    names = {
        role.effective_role_name.lower(): role.logical_name for key, role in existing_roles.items() if key not in imported
    }
    for role in spec.template.roles:
        name = role.fields["role_name"] or role.logical_name
        other = names.get(name.lower())
        if other is not None:
            problems.add(
                f"{spec.template_source}, role {role.logical_name}: the IAM role name {name} is already used by the "
                f"console's role {other} (IAM role names are unique regardless of case)."
            )


def _check_user_map(spec: ImportSpec, account_names: dict, role_names: dict, applies, problems: Problems) -> None:
    groups_per_user = defaultdict(set)
    for membership in Membership.objects.select_related("iam_user", "account", "role"):
        groups_per_user[membership.iam_user.user_name.lower()].add(
            (membership.account.name.lower(), membership.role.logical_name.lower())
        )
    shown_names = {}
    for group in spec.groups:
        account_key, role_key = group.account_name.lower(), group.role_name.lower()
        if account_key not in account_names:
            problems.add(
                f"{spec.users_source}, account {group.account_name}: there is no account {group.account_name} "
                f"in {spec.config_source} or in the console."
            )
            continue
        if role_key not in role_names:
            problems.add(f"{group.where}: there is no role {group.role_name} in {spec.template_source} or in the console.")
            continue
        if not applies(role_key, account_key):
            problems.add(
                f"{group.where}: the role {role_names[role_key]} does not apply to the account "
                f"{account_names[account_key]}, so there is no group {account_names[account_key]}.{role_names[role_key]}."
            )
            continue
        for user_name in group.user_names:
            groups_per_user[user_name.lower()].add((account_key, role_key))
            shown_names.setdefault(user_name.lower(), user_name)
    for user_key, user_name in shown_names.items():
        count = len(groups_per_user[user_key])
        if count > limits.GROUPS_PER_USER_MAX:
            problems.add(
                f"{spec.users_source}: {user_name} would be in {count} groups; an IAM user can be in at most "
                f"{limits.GROUPS_PER_USER_MAX} groups (an AWS limit that cannot be raised)."
            )
