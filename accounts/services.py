from django.db import transaction

from accounts.models import AssumableAccount, MasterAccount
from audit.services import Actor, audit_record
from core.services import apply_fields
from core.state_check import check_desired_state
from memberships.services import membership_revoke

ACCOUNT_FIELDS = ("name", "account_id", "description", "profile", "role_arn", "external_id", "enabled")
MASTER_FIELDS = ("account_id", "profile", "region", "stack_name", "group_quota")


@transaction.atomic
def account_create(*, actor: Actor, reason: str = "", **fields) -> AssumableAccount:
    account = AssumableAccount()
    apply_fields(account, fields, allowed=ACCOUNT_FIELDS)
    account.full_clean()
    account.save()
    check_desired_state()
    audit_record(actor=actor, action="create", object_type="account", obj=account, after=account.snapshot(), reason=reason)
    return account


@transaction.atomic
def account_update(*, actor: Actor, account: AssumableAccount, reason: str = "", **fields) -> AssumableAccount:
    account = AssumableAccount.objects.select_for_update().get(pk=account.pk)
    before = account.snapshot()
    apply_fields(account, fields, allowed=ACCOUNT_FIELDS)
    account.full_clean()
    if account.snapshot() == before:
        return account
    account.save()
    check_desired_state()
    audit_record(
        actor=actor, action="update", object_type="account", obj=account, before=before, after=account.snapshot(), reason=reason
    )
    return account


@transaction.atomic
def account_delete(*, actor: Actor, account: AssumableAccount, reason: str = "") -> None:
    """Remove an account from the desired state, with its memberships (each audited)."""
    account = AssumableAccount.objects.select_for_update().get(pk=account.pk)
    for membership in account.memberships.select_related("iam_user", "role", "account"):
        membership_revoke(actor=actor, membership=membership, reason=reason or f"Account {account.name} removed")
    before = account.snapshot()
    audit_record(actor=actor, action="delete", object_type="account", obj=account, before=before, reason=reason)
    account.delete()


@transaction.atomic
def master_account_update(*, actor: Actor, reason: str = "", **fields) -> MasterAccount:
    master = MasterAccount.objects.select_for_update().get(pk=MasterAccount.load().pk)
    before = master.snapshot()
    apply_fields(master, fields, allowed=MASTER_FIELDS)
    master.full_clean()
    if master.snapshot() == before:
        return master
    master.save()
    check_desired_state()
    audit_record(
        actor=actor,
        action="update",
        object_type="master account",
        obj=master,
        before=before,
        after=master.snapshot(),
        reason=reason,
    )
    return master
