"""Sudo mode: every change that removes access or a definition asks for the password again unless it
was given recently: a teardown plan, removing an account, a role, a policy, an IAM user or a membership,
disabling an account, narrowing the accounts a role applies to, and creating or changing a console user.

Signing in counts as giving it (``confirm_on_login``, connected in ``core/apps.py``); so does the
confirmation page (``core:sudo``). The time is kept in the session and is good for
``ROLEMODEL_SUDO_SECONDS`` (10 minutes by default).
"""
import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
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


def require_recent_password(view=None, *, back=None):
    """View decorator, inside ``require(...)``: without a recent confirmation, ask for the password first.

    The confirmation page then comes back to this page. A POST-only action (a remove button on another
    page) cannot be come back to with a GET: ``back(request, *args, **kwargs)`` names the page to return to
    instead, where the person presses the button again. Nothing is changed before the confirmation.
    """
    if view is None:
        return lambda view: require_recent_password(view, back=back)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not password_recently_confirmed(request):
            return redirect_to_confirmation(request, next_url=back(request, *args, **kwargs) if back else "")
        return view(request, *args, **kwargs)

    return wrapper


def confirmation_needed(request, *, what: str, next_url: str = ""):
    """For an edit that only sometimes removes access (disabling an account, narrowing a role): the redirect
    to the confirmation page when the password was not given recently, else None. Nothing was saved."""
    if password_recently_confirmed(request):
        return None
    messages.warning(request, f"{what} removes access, so it asks for your password first. Nothing was saved: "
                              "confirm your password, then save again.")
    return redirect_to_confirmation(request, next_url=next_url)
