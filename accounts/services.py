from django.db import transaction

from accounts.models import AssumableAccount, MasterAccount
from audit.models import AuditEvent
from audit.services import Actor, audited_save
from core.permissions import check_actor
from core.services import apply_fields
from core.state_check import check_desired_state
from memberships.services import membership_revoke

ACCOUNT_FIELDS = ("name", "account_id", "description", "profile", "role_arn", "external_id", "enabled")
MASTER_FIELDS = ("account_id", "profile", "region", "stack_name", "group_quota")
ACCOUNT, MASTER = AuditEvent.ObjectType.ACCOUNT, AuditEvent.ObjectType.MASTER_ACCOUNT
CREATE, UPDATE, DELETE = AuditEvent.Action.CREATE, AuditEvent.Action.UPDATE, AuditEvent.Action.DELETE


@transaction.atomic
def account_create(*, actor: Actor, reason: str = "", **fields) -> AssumableAccount:
    check_actor(actor, "edit")
    account = AssumableAccount()
    apply_fields(account, fields, allowed=ACCOUNT_FIELDS)
    audited_save(actor=actor, obj=account, action=CREATE, object_type=ACCOUNT, reason=reason,
                 after_change=check_desired_state)
    return account


@transaction.atomic
def account_update(*, actor: Actor, account: AssumableAccount, reason: str = "", **fields) -> AssumableAccount:
    check_actor(actor, "edit")
    account = AssumableAccount.objects.select_for_update().get(pk=account.pk)
    before = account.snapshot()
    apply_fields(account, fields, allowed=ACCOUNT_FIELDS)
    audited_save(actor=actor, obj=account, action=UPDATE, object_type=ACCOUNT, before=before, reason=reason,
                 after_change=check_desired_state)
    return account


@transaction.atomic
def account_delete(*, actor: Actor, account: AssumableAccount, reason: str = "") -> None:
    """Remove an account from the desired state, with its memberships (each audited)."""
    check_actor(actor, "edit")
    account = AssumableAccount.objects.select_for_update().get(pk=account.pk)
    for membership in account.memberships.select_related("iam_user", "role", "account"):
        membership_revoke(actor=actor, membership=membership, reason=reason or f"Account {account.name} removed")
    audited_save(actor=actor, obj=account, action=DELETE, object_type=ACCOUNT, reason=reason)


@transaction.atomic
def master_account_update(*, actor: Actor, reason: str = "", **fields) -> MasterAccount:
    check_actor(actor, "edit")
    master = MasterAccount.objects.select_for_update().get(pk=MasterAccount.load().pk)
    before = master.snapshot()
    apply_fields(master, fields, allowed=MASTER_FIELDS)
    audited_save(actor=actor, obj=master, action=UPDATE, object_type=MASTER, before=before, reason=reason,
                 after_change=check_desired_state)
    return master
