"""Where to send a person next: only ever a page of this site (never an open redirect, never a 500).

A ``next`` value is used only when it is a local absolute path: one leading "/", no scheme or host,
no backslash (browsers read ``/\\evil.example`` as ``//evil.example``), no control characters or
spaces, and Django's own ``url_has_allowed_host_and_scheme`` agrees. Anything else (``foo``,
``//evil.example``, ``https://evil.example/``, ``javascript:…``) is ignored in favour of the default.
The answer is always a path, so callers hand it to ``HttpResponseRedirect``: Django's ``redirect()``
would try to read ``foo`` as a view name and fail with ``NoReverseMatch``.
"""
import re

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

MAX_NEXT_LENGTH = 2000
_UNSAFE_CHARACTERS = re.compile(r"[\\\s\x00-\x1f\x7f]")


def is_safe_local_path(request, candidate) -> bool:
    if not isinstance(candidate, str) or not candidate or len(candidate) > MAX_NEXT_LENGTH:
        return False
    if not candidate.startswith("/") or candidate.startswith("//"):
        return False
    if _UNSAFE_CHARACTERS.search(candidate):
        return False
    return url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next_url(request, candidate: str | None, *, default: str | None = None) -> str:
    """``candidate`` when it is a safe path of this site, else ``default`` (the site's home page, the
    dashboard, when not given: ``LOGIN_REDIRECT_URL``, so that the ground floor names no page above it)."""
    if is_safe_local_path(request, candidate):
        return candidate
    return default or resolve_url(settings.LOGIN_REDIRECT_URL)


def redirect_next(request, candidate: str | None, *, default: str | None = None) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next_url(request, candidate, default=default))


class LocalNextMixin:
    """For Django's login and logout views: their ``next`` follows the same rule as ours (a local path only)."""

    def get_redirect_url(self):
        candidate = super().get_redirect_url()
        return candidate if is_safe_local_path(self.request, candidate) else ""


class LoginView(LocalNextMixin, auth_views.LoginView):
    pass


class LogoutView(LocalNextMixin, auth_views.LogoutView):
    pass
