"""The whole-state check as the lower layers see it: a function that plans hands down.

The services of accounts and roles save an edit, then call :func:`check_desired_state` inside the
same transaction and let it roll back when the desired state as a whole is no longer valid (one
more account pushes a group name past 128 characters, or the master account past its group quota).
The check itself reads accounts, roles and the generated templates together and lives in
``plans/desired.py``, a layer above them, which registers it in ``PlansConfig.ready()``.

A registered function rather than a parameter of each service: the check must run on every edit,
whoever calls the service (a page, the import, the command line, a test), and a parameter could be
left out. Rather than a signal: a signal nobody listens to passes silently; this refuses instead.
"""
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

_check: Callable[[], None] | None = None
_document: Callable[[], dict] | None = None


def register_desired_state_check(check: Callable[[], None]) -> None:
    """Called once at start-up by the app that owns the desired state (plans)."""
    global _check
    _check = check


def check_desired_state() -> None:
    """Raise ``ValidationError`` listing every problem when the desired state as a whole is not valid."""
    if _check is None:
        raise ImproperlyConfigured("No whole-state check is registered: the plans app must be installed.")
    _check()


def register_desired_state_document(document: Callable[[], dict]) -> None:
    """Called once at start-up by plans, with the function that writes the desired state as one document
    (what a plan is computed from); drift compares live AWS with it and may not import plans."""
    global _document
    _document = document


def desired_state_document() -> dict:
    """The desired state as plans would plan it: accounts with their templates, groups with members."""
    if _document is None:
        raise ImproperlyConfigured("No desired-state document is registered: the plans app must be installed.")
    return _document()
