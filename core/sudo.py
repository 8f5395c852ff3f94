"""Sudo mode: destructive actions ask for the password again unless it was given recently.

Signing in counts as giving it (``confirm_on_login``, connected in ``core/apps.py``); so does the
confirmation page (``core:sudo``). The time is kept in the session and is good for
``ROLEMODEL_SUDO_SECONDS`` (10 minutes by default).
"""
import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

SESSION_KEY = "rolemodel_password_confirmed_at"


def password_recently_confirmed(request) -> bool:
    confirmed_at = request.session.get(SESSION_KEY)
    if not isinstance(confirmed_at, (int, float)):
        return False
    return 0 <= time.time() - confirmed_at <= settings.ROLEMODEL_SUDO_SECONDS


def mark_password_confirmed(request) -> None:
    request.session[SESSION_KEY] = time.time()


def confirm_on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        mark_password_confirmed(request)


def redirect_to_confirmation(request, *, next_url: str = ""):
    """To the confirmation page, which comes back to ``next_url`` (default: this page)."""
    query = urlencode({"next": next_url or request.get_full_path()})
    return redirect(f"{reverse('core:sudo')}?{query}")


def require_recent_password(view):
    """View decorator, inside ``require(...)``: without a recent confirmation, ask for the password first."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not password_recently_confirmed(request):
            return redirect_to_confirmation(request)
        return view(request, *args, **kwargs)

    return wrapper
