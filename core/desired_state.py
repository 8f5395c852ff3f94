"""Checks on the desired state as a whole, run inside the transaction of every edit.

A single row can be valid while the state it produces is not (one more account pushes a
group name past 128 characters, or the master account past its group quota); the services
save the change, call :func:`check_desired_state` and let the transaction roll back if it fails.
"""
from django.core.exceptions import ValidationError

from accounts.models import AssumableAccount, MasterAccount
from core import limits
from roles import cloudformation
from roles.selectors import account_role_pairs, roles_with_policies


def desired_state_problems() -> list[str]:
    master = MasterAccount.load()
    accounts = list(AssumableAccount.objects.order_by("name"))
    roles = list(roles_with_policies())
    problems = []

    pairs = account_role_pairs(accounts, roles)
    for account, role in pairs:
        try:
            limits.validate_group_name(account.name, role.logical_name)
        except ValidationError as error:
            problems.extend(error.messages)
    if len(pairs) > master.group_quota:
        problems.append(
            f"{len(accounts)} accounts × their roles need {len(pairs)} IAM groups in the master account; "
            f"its quota is {master.group_quota}. Remove roles or accounts, or raise the quota (at most "
            f"{limits.GROUPS_PER_ACCOUNT_MAX})."
        )

    role_names = {}
    for role in roles:
        role_names.setdefault(role.effective_role_name.lower(), []).append(role.logical_name)
        inline_total = sum(policy.size for policy in role.policies.all())
        if inline_total > limits.ROLE_INLINE_POLICIES_CHARS_MAX:
            problems.append(
                f"Role {role.logical_name}: its inline policies add up to {inline_total:,} characters; IAM allows "
                f"{limits.ROLE_INLINE_POLICIES_CHARS_MAX:,} per role (whitespace not counted)."
            )
        trust_size = cloudformation.trust_policy_size(role, master.account_id or "123456789012")
        if trust_size > limits.TRUST_POLICY_CHARS_MAX:
            problems.append(
                f"Role {role.logical_name}: its trust policy is {trust_size:,} characters; IAM allows "
                f"{limits.TRUST_POLICY_CHARS_MAX:,}."
            )
    for logical_names in role_names.values():
        if len(logical_names) > 1:
            problems.append(
                f"Roles {', '.join(logical_names)} would create IAM roles with the same name "
                "(IAM role names are unique regardless of case)."
            )

    seen_subsets = set()
    for account in accounts:
        subset = tuple(role.pk for a, role in pairs if a.pk == account.pk)
        if subset in seen_subsets:
            continue
        seen_subsets.add(subset)
        template = cloudformation.build_template([role for role in roles if role.pk in subset])
        for problem in cloudformation.template_problems(template):
            problems.append(f"Account {account.name}: {problem}")
    return problems


def check_desired_state() -> None:
    problems = desired_state_problems()
    if problems:
        raise ValidationError(problems)

