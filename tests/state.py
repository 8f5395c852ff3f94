"""What the tests compare before and after a refused edit: it must have changed nothing."""
from accounts.models import AssumableAccount, MasterAccount
from audit.models import AuditEvent
from memberships.models import Membership
from roles.models import RoleDefinition
from roles.services import role_snapshot


SIGN_IN_ACTIONS = (AuditEvent.Action.LOGIN, AuditEvent.Action.LOGIN_FAILED, AuditEvent.Action.LOGOUT)


def desired_state() -> dict:
    """Every row of the desired state, and how long the audit history is (signing in to try is no edit)."""
    return {
        "master": MasterAccount.load().snapshot(),
        "accounts": [account.snapshot() for account in AssumableAccount.objects.order_by("pk")],
        "roles": [role_snapshot(role) for role in RoleDefinition.objects.order_by("pk")],
        "memberships": list(Membership.objects.order_by("pk").values_list("pk", flat=True)),
        "audit_rows": AuditEvent.objects.exclude(action__in=SIGN_IN_ACTIONS).count(),
    }
