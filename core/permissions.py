"""Every permission decision of the console, in one place.

Four Django auth groups (created by a migration): Viewers read everything, Editors change the
desired state, Approvers approve plans, Admins edit and also manage console users.
"""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

VIEWER, EDITOR, APPROVER, ADMIN = "Viewer", "Editor", "Approver", "Admin"
CONSOLE_GROUPS = (VIEWER, EDITOR, APPROVER, ADMIN)

CAPABILITIES = {
    "view": {VIEWER, EDITOR, APPROVER, ADMIN},
    "edit": {EDITOR, ADMIN},
    "approve": {APPROVER},
    "manage_users": {ADMIN},
}


def group_capabilities(group: str) -> frozenset[str]:
    """What holding this console group lets a person do."""
    return frozenset(capability for capability, groups in CAPABILITIES.items() if group in groups)


def can_grant(user, group: str) -> bool:
    """Whether ``user`` may give ``group`` to someone: only what they could do themselves.

    An Admin who cannot approve must not make an Approver (say, a second account of their own);
    Viewer and Editor add nothing an Admin cannot already do.
    """
    if user.is_superuser:
        return True
    held = console_groups(user)
    return group in held or group_capabilities(group) <= frozenset().union(*map(group_capabilities, held))


def console_groups(user) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_console_groups"):
        user._console_groups = frozenset(user.groups.values_list("name", flat=True))
    return user._console_groups


def has_capability(user, capability: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser and capability != "approve":
        return True
    return bool(console_groups(user) & CAPABILITIES[capability])


def require(capability: str):
    """View decorator: login first, then the capability, else 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_capability(request.user, capability):
                raise PermissionDenied(f"Your console role does not allow this ({capability}).")
            return view(request, *args, **kwargs)

        wrapper.required_capability = capability
        return wrapper

    return decorator
