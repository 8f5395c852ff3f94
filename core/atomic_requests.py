"""A request that changes something changes everything or nothing: POST, PUT, PATCH and DELETE views
run in one transaction that rolls back when the view raises.

Why not Django's ``ATOMIC_REQUESTS`` (left off in settings.py): it wraps every request, reads too, and
on SQLite (``transaction_mode: IMMEDIATE``) every page view would then hold the write lock for its whole
duration (the live-roles page for as long as AWS takes to answer), making the worker's writes wait. Here
only mutating methods are wrapped, which is where a half-done change can happen: a service that commits
and then a failure later in the view (building a message, a redirect) used to leave the change behind
after a server error.

A view that must see its own after-commit callbacks run before it answers (``plan_create`` reports a
broker that could not be reached, which ``send_tasks`` notes after commit) opts out with Django's
``transaction.non_atomic_requests``; its one write is a service that is atomic on its own.

Applied to every URL pattern in ``rolemodel_site/urls.py`` (``wrap_url_patterns``), so no view can be
forgotten; ``tests/test_atomic_requests.py`` checks that every pattern is wrapped.
"""
from functools import wraps

from django.db import DEFAULT_DB_ALIAS, transaction
from django.urls import URLPattern, URLResolver

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def atomic_when_mutating(view):
    if getattr(view, "atomic_when_mutating", False):
        return view
    if DEFAULT_DB_ALIAS in getattr(view, "_non_atomic_requests", set()):
        return view

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in MUTATING_METHODS:
            return view(request, *args, **kwargs)
        with transaction.atomic():
            return view(request, *args, **kwargs)

    wrapper.atomic_when_mutating = True
    return wrapper


def wrap_url_patterns(patterns) -> list:
    """Wrap the view of every pattern, included ones too (in place; returns ``patterns``)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            wrap_url_patterns(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback = atomic_when_mutating(pattern.callback)
    return patterns
