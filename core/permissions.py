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
    # Starting an apply: whoever changes the desired state or approves plans (the page and the command
    # line have always let both); a Viewer never.
    "apply": {EDITOR, APPROVER, ADMIN},
    # Starting a drift check (it only reads AWS): whoever may request plans or approve them; a Viewer
    # only looks at the findings, as a Viewer only looks at plans.
    "check_drift": {EDITOR, APPROVER, ADMIN},
}
# A system actor (the worker, migrations, the command line run without --as by the operator, who is
# trusted as any shell on the server is) does what the system does; it never approves, because the
# second pair of eyes of the four-eyes rule is a person. The one exception: under the revocation rule
# (ROLEMODEL_AUTO_APPLY_REVOCATIONS) the system approves a plan that only removes members from groups
# (plans.revocation checks the plan); no person holds that capability, a person approves with "approve".
SYSTEM_ONLY_CAPABILITIES = frozenset({"approve_removals"})
SYSTEM_CAPABILITIES = (frozenset(CAPABILITIES) - {"approve"}) | SYSTEM_ONLY_CAPABILITIES
# A superuser does everything but approve, for the same reason.
SUPERUSER_LACKS = frozenset({"approve"})


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
    if not user.is_authenticated or not user.is_active or capability in SYSTEM_ONLY_CAPABILITIES:
        return False
    if user.is_superuser and capability not in SUPERUSER_LACKS:
        return True
    return bool(console_groups(user) & CAPABILITIES[capability])


def actor_may(actor, capability: str) -> bool:
    """Whether an actor (``audit.services.Actor``: a console user, or a system actor whose user is None)
    holds ``capability``."""
    if actor.user is None:
        return capability in SYSTEM_CAPABILITIES
    return has_capability(actor.user, capability)


def check_actor(actor, capability: str, refusal: str = "") -> None:
    """The check every state-changing service makes first: refuse (``PermissionDenied``) an actor
    without ``capability``, before anything is read or written. Views turn the refusal into a 403, the
    command line into its message and a non-zero exit."""
    if not actor_may(actor, capability):
        raise PermissionDenied(refusal or REFUSALS[capability])


REFUSALS = {
    "view": "Only console users with a console role (Viewer or above) do this.",
    "edit": "Only members of the Editor or Admin group change the desired state.",
    "approve": "Only members of the Approver group approve plans.",
    "manage_users": "Only members of the Admin group manage console users.",
    "apply": "Only members of the Editor, Admin or Approver group start applies.",
    "check_drift": "Only members of the Editor, Admin or Approver group start drift checks.",
    "approve_removals": "Only the system approves under the revocation rule; a person approves with the Approver role.",
}


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
