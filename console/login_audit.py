"""Audit rows for every sign-in, failed sign-in and sign-out, from Django's auth signals.

Connected in ``console/apps.py``. A failed attempt is recorded under the user name that was typed
(never the password: Django hands receivers the credentials with the password masked, and only
the user name is read here).

Failed sign-ins by visitors who are not signed in are counted in full, but they cannot flood the
audit history (which is append-only and hash-chained, so a row cannot be updated with a new count):

1. Each failure adds one to a counter for (user name, address, minute): a ``FailedLoginWindow`` row,
   updated with ``F() + 1`` so that concurrent requests and web processes all count.
2. The first failure of a window writes its audit row at once (``failures: 1``), so a single failed
   sign-in is in the history immediately, as before.
3. Once the minute is over, a window that counted more than one failure gets one closing row with the
   total (and whether the pair was locked out). Closing happens at the next anonymous failure (of any
   name), and every minute in the beat task ``console.tasks.close_failed_login_windows_task``; a
   conditional update claims each window, so two processes never both close it.

So 50 failures in one minute make two rows: the first failure, then "50 failed sign-ins". A signed-in
person failing the password confirmation (core/sudo.py) is still recorded attempt by attempt: they
are known, and django-axes locks them out after a few tries.
"""
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from core.models import FailedLoginWindow

OBJECT_TYPE = "console user"
SSO_BACKEND = "console.sso.ConsoleOIDCBackend"
LOGIN_RECEIVER = "console.login_audit.login"  # dispatch_uid of record_login (console/apps.py)


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
    signed_in = getattr(getattr(request, "user", None), "is_authenticated", False)
    if signed_in:
        _record_failure(attempted, reason=_failure_reason(request))
        return
    _count_anonymous_failure(attempted, address=_address(request), locked_out=_locked_out(request),
                             reason=_failure_reason(request))


def _record_failure(attempted: str, *, reason: str, after=None) -> None:
    user = get_user_model().objects.filter(username=attempted).first() if attempted else None
    audit_record(
        actor=Actor(user=None, name=attempted or "(no user name)"),
        action=AuditEvent.Action.LOGIN_FAILED,
        object_type=OBJECT_TYPE,
        obj=user,
        object_repr=attempted,
        reason=reason,
        after=after,
    )


def _now():
    return timezone.now()


def _count_anonymous_failure(attempted: str, *, address: str, locked_out: bool, reason: str) -> None:
    now = _now()
    close_failed_login_windows(now=now)
    window_start = now.replace(second=0, microsecond=0)
    with transaction.atomic():
        window, created = FailedLoginWindow.objects.get_or_create(
            username=attempted[:150], address=address, window_start=window_start
        )
        changes = {"failures": F("failures") + 1}
        if locked_out:
            changes["locked_out"] = True
        FailedLoginWindow.objects.filter(pk=window.pk).update(**changes)
        if created:
            _record_failure(attempted, reason=reason, after=_window_summary(window, failures=1))


def close_failed_login_windows(*, now=None) -> int:
    """Write the closing row of every window whose minute is over and that counted more than one failure.

    Returns how many rows were written. Windows closed more than an hour ago are deleted.
    """
    now = now or _now()
    current = now.replace(second=0, microsecond=0)
    written = 0
    for window in FailedLoginWindow.objects.filter(closed=False, window_start__lt=current).order_by("window_start"):
        with transaction.atomic():
            if not FailedLoginWindow.objects.filter(pk=window.pk, closed=False).update(closed=True):
                continue  # another process closed it a moment ago
            window.refresh_from_db()
            if window.failures > 1:
                reason = f"{window.failures} failed sign-ins in the minute from {window.window_start:%H:%M} UTC"
                if window.locked_out:
                    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
                    reason += f"; locked out for {minutes} minutes after {settings.AXES_FAILURE_LIMIT} failed attempts"
                _record_failure(window.username, reason=reason, after=_window_summary(window, failures=window.failures))
                written += 1
    FailedLoginWindow.objects.filter(closed=True, window_start__lt=current - timedelta(hours=1)).delete()
    return written


def _window_summary(window: FailedLoginWindow, *, failures: int) -> dict:
    return {"address": window.address, "window_start": window.window_start.isoformat(), "failures": failures}


def _address(request) -> str:
    if request is None:
        return ""
    # django-axes has already worked out the client's address (honouring its proxy settings).
    address = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR") or ""
    return str(address)[:45]


def _locked_out(request) -> bool:
    return request is not None and bool(getattr(request, "axes_locked_out", False))


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
