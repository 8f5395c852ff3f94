"""Audit rows for every sign-in, failed sign-in and sign-out, from Django's auth signals.

Connected in ``core/apps.py``. A failed attempt is recorded under the user name that was typed
(never the password: Django hands receivers the credentials with the password masked, and only
the user name is read here).
"""
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model

from audit.models import AuditEvent
from audit.services import Actor, audit_record

OBJECT_TYPE = "console user"
SSO_BACKEND = "core.sso.ConsoleOIDCBackend"
LOGIN_RECEIVER = "core.login_audit.login"  # dispatch_uid of record_login (core/apps.py)


def record_login(sender, request, user, **kwargs) -> None:
    backend = request.session.get(BACKEND_SESSION_KEY, "") if request is not None else ""
    audit_record(
        actor=Actor.from_user(user),
        action=AuditEvent.Action.LOGIN,
        object_type=OBJECT_TYPE,
        obj=user,
        reason="single sign-on" if backend == SSO_BACKEND else "",
    )


def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    attempted = str(credentials.get("username") or "")
    user = get_user_model().objects.filter(username=attempted).first() if attempted else None
    audit_record(
        actor=Actor(user=None, name=attempted or "(no user name)"),
        action=AuditEvent.Action.LOGIN_FAILED,
        object_type=OBJECT_TYPE,
        obj=user,
        object_repr=attempted,
        reason=_failure_reason(request),
    )


def record_logout(sender, request, user, **kwargs) -> None:
    if user is None:  # a sign-out without a session: nobody to record
        return
    audit_record(actor=Actor.from_user(user), action=AuditEvent.Action.LOGOUT, object_type=OBJECT_TYPE, obj=user)


def _failure_reason(request) -> str:
    # django-axes (whose receiver runs first, see INSTALLED_APPS) marks the request that is or becomes locked out.
    if request is not None and getattr(request, "axes_locked_out", False):
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        return f"locked out for {minutes} minutes after {settings.AXES_FAILURE_LIMIT} failed attempts"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return "password confirmation failed"
    return "wrong user name or password"
