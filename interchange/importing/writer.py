"""Writing checked import files through the services, so every change is validated and audited."""
from contextlib import contextmanager

from django.core.exceptions import ValidationError

from accounts.models import AssumableAccount, MasterAccount
from accounts.services import account_create, account_update, master_account_update
from audit.models import AuditEvent
from audit.services import Actor, audit_record
from interchange.importing.problems import ImportRefused
from interchange.importing.report import ImportReport
from interchange.importing.spec import ImportSpec
from memberships.models import IAMUser, Membership
from memberships.services import iam_user_create, memberships_grant
from roles.models import RoleDefinition
from roles.services import policy_create, policy_update, role_create, role_snapshot, role_update


def imported_from(source: str) -> str:
    return f"Imported from {source}"


@contextmanager
def _saving(where: str):
    try:
        yield
    except ValidationError as error:
        raise ImportRefused([f"{where}: {message}" for message in error.messages]) from None


def write_import(spec: ImportSpec, *, actor: Actor, report: ImportReport) -> None:
    """Create or update everything the files describe; never delete.

    1. The master account, then the accounts (roles may be limited to them).
    2. The roles with their inline policies.
    3. The IAM users and memberships of the user map, granted in one call (the 10-group limit is checked there).
    4. List what the console holds that the files do not mention, and record one audit row for the import.
    """
    _write_master(spec, actor=actor, report=report)
    accounts = _write_accounts(spec, actor=actor, report=report)
    roles = _write_roles(spec, accounts, actor=actor, report=report)
    if spec.groups is not None:
        _write_user_map(spec, accounts, roles, actor=actor, report=report)
    _list_left_in_place(spec, accounts, roles, report=report)
    if report.has_changes:
        sources = [spec.config_source, spec.template_source] + ([spec.users_source] if spec.users_source else [])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.IMPORT,
            object_type="import",
            object_repr=spec.config_source,
            after={"files": sources, **report.summary()},
            reason=imported_from(", ".join(sources)),
        )


def _write_master(spec: ImportSpec, *, actor: Actor, report: ImportReport) -> None:
    master = MasterAccount.load()
    before = master.snapshot()
    with _saving(spec.config_source):
        master = master_account_update(actor=actor, reason=imported_from(spec.config_source), **spec.config.master_fields)
    report.record("master account", master.account_id or "(id not set)", before, master.snapshot())


def _write_accounts(spec: ImportSpec, *, actor: Actor, report: ImportReport) -> dict:
    reason = imported_from(spec.config_source)
    for account_spec in spec.config.accounts:
        existing = AssumableAccount.objects.filter(name__iexact=account_spec.name).first()
        with _saving(account_spec.where):
            if existing is None:
                account = account_create(actor=actor, reason=reason, **account_spec.fields)
                report.record("account", account.name, None, account.snapshot())
            else:
                before = existing.snapshot()
                account = account_update(actor=actor, account=existing, reason=reason, **account_spec.fields)
                report.record("account", account.name, before, account.snapshot())
    return {account.name.lower(): account for account in AssumableAccount.objects.all()}


def _write_roles(spec: ImportSpec, accounts: dict, *, actor: Actor, report: ImportReport) -> dict:
    reason = imported_from(spec.template_source)
    for role_spec in spec.template.roles:
        where = f"{spec.template_source}, role {role_spec.logical_name}"
        fields = dict(role_spec.fields)
        scope = None if role_spec.account_names is None else [accounts[name.lower()] for name in role_spec.account_names]
        existing = RoleDefinition.objects.filter(logical_name__iexact=role_spec.logical_name).first()
        with _saving(where):
            if existing is None:
                policies = [{"name": policy.name, "document": policy.document, "logical_id": policy.logical_id}
                            for policy in role_spec.policies]
                role = role_create(actor=actor, accounts=scope, policies=policies, reason=reason, **fields)
                report.record("role", role.logical_name, None, role_snapshot(role))
                continue
            if not fields["role_name"] and existing.role_name == role_spec.logical_name:
                fields["role_name"] = existing.role_name  # spelled out or derived: the same IAM name
            before = role_snapshot(existing)
            role = role_update(actor=actor, role=existing, accounts=scope, reason=reason, **fields)
            current = {policy.name.lower(): policy for policy in role.policies.all()}
            for policy_spec in role_spec.policies:
                policy = current.pop(policy_spec.name.lower(), None)
                content = {"name": policy_spec.name, "document": policy_spec.document, "reason": reason,
                           "logical_id": policy_spec.logical_id}
                if policy is None:
                    policy_create(actor=actor, role=role, **content)
                else:
                    policy_update(actor=actor, policy=policy, **content)
            for policy in current.values():
                report.left_in_place.append(f"policy {policy.name} of role {role.logical_name}")
            report.record("role", role.logical_name, before, role_snapshot(role))
    return {role.logical_name.lower(): role for role in RoleDefinition.objects.all()}


def _write_user_map(spec: ImportSpec, accounts: dict, roles: dict, *, actor: Actor, report: ImportReport) -> None:
    reason = imported_from(spec.users_source)
    users = {}
    grants, granted_names = [], []
    for group in spec.groups:
        account, role = accounts[group.account_name.lower()], roles[group.role_name.lower()]
        for user_name in group.user_names:
            key = user_name.lower()
            if key not in users:
                existing = IAMUser.objects.filter(user_name__iexact=user_name).first()
                if existing is None:
                    with _saving(group.where):
                        users[key] = iam_user_create(actor=actor, reason=reason, user_name=user_name)
                    report.record("IAM user", user_name, None, users[key].snapshot())
                else:
                    users[key] = existing
                    report.record("IAM user", existing.user_name, existing.snapshot(), existing.snapshot())
            name = f"{users[key].user_name} in {account.name}.{role.logical_name}"
            if Membership.objects.filter(iam_user=users[key], account=account, role=role).exists():
                report.record("membership", name, {}, {})
            else:
                grants.append((users[key], account, role))
                granted_names.append(name)
    if grants:
        with _saving(spec.users_source):
            memberships_grant(actor=actor, grants=grants, reason=reason)
        for name in granted_names:
            report.record("membership", name, None, {})


def _list_left_in_place(spec: ImportSpec, accounts: dict, roles: dict, *, report: ImportReport) -> None:
    in_config = {account.name.lower() for account in spec.config.accounts}
    in_template = {role.logical_name.lower() for role in spec.template.roles}
    for key, account in sorted(accounts.items()):
        if key not in in_config:
            report.left_in_place.append(f"account {account.name}")
    for key, role in sorted(roles.items()):
        if key not in in_template:
            report.left_in_place.append(f"role {role.logical_name}")
    if spec.groups is None:
        return
    in_map = {
        (group.account_name.lower(), group.role_name.lower(), user.lower())
        for group in spec.groups
        for user in group.user_names
    }
    for membership in Membership.objects.select_related("iam_user", "account", "role"):
        key = (membership.account.name.lower(), membership.role.logical_name.lower(), membership.iam_user.user_name.lower())
        if key not in in_map and f"membership {membership}" not in report.left_in_place:  # one line per group
            report.left_in_place.append(f"membership {membership}")
