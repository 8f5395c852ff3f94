from django.db import transaction

from accounts.models import AssumableAccount, MasterAccount
from audit.models import AuditEvent
from audit.services import Actor, audited_create, audited_update
from core.permissions import check_actor
from core.state_check import check_desired_state
from memberships.services import audited_delete_with_memberships

ACCOUNT_FIELDS = ("name", "account_id", "description", "profile", "role_arn", "external_id", "enabled")
MASTER_FIELDS = ("account_id", "profile", "region", "stack_name", "group_quota")
ACCOUNT, MASTER = AuditEvent.ObjectType.ACCOUNT, AuditEvent.ObjectType.MASTER_ACCOUNT


@transaction.atomic
def account_create(*, actor: Actor, reason: str = "", **fields) -> AssumableAccount:
    check_actor(actor, "edit")
    return audited_create(actor=actor, obj=AssumableAccount(), fields=fields, allowed=ACCOUNT_FIELDS, object_type=ACCOUNT,
                          reason=reason, after_change=check_desired_state)


@transaction.atomic
def account_update(*, actor: Actor, account: AssumableAccount, reason: str = "", **fields) -> AssumableAccount:
    check_actor(actor, "edit")
    return audited_update(actor=actor, obj=account, fields=fields, allowed=ACCOUNT_FIELDS, object_type=ACCOUNT,
                          reason=reason, after_change=check_desired_state)


@transaction.atomic
def account_delete(*, actor: Actor, account: AssumableAccount, reason: str = "") -> None:
    """Remove an account from the desired state, with its memberships (each audited)."""
    check_actor(actor, "edit")
    account = AssumableAccount.objects.select_for_update().get(pk=account.pk)
    audited_delete_with_memberships(actor=actor, obj=account, object_type=ACCOUNT, reason=reason,
                                    removed=f"Account {account.name} removed")


@transaction.atomic
def master_account_update(*, actor: Actor, reason: str = "", **fields) -> MasterAccount:
    check_actor(actor, "edit")
    return audited_update(actor=actor, obj=MasterAccount.load(), fields=fields, allowed=MASTER_FIELDS, object_type=MASTER,
                          reason=reason, after_change=check_desired_state)
