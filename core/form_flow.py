"""The flow most edit pages share: a valid form → one service call → a message → a redirect.

A service's ``ValidationError`` lands back on the form (core/form_errors.py) and the page shows the
form again. The view builds the actor inside ``save``, so this module needs nothing above Django.
"""
from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from core.form_errors import add_service_error

T = TypeVar("T")


def submit(
    request,
    form,
    save: Callable[[], T],
    *,
    success: str | Callable[[T], str],
    then: Callable[[T], HttpResponse],
    ask: Callable[[], HttpResponse | None] | None = None,
) -> HttpResponse | None:
    """The response that ends a successful submission, or None when the page is to show ``form`` again.

    1. An invalid form (or a GET, whose form is unbound) returns None.
    2. ``ask()``, when given, may answer first (sudo mode's password confirmation, say).
    3. ``save()`` calls the service; a ``ValidationError`` goes onto the form and returns None.
    4. Otherwise the success message (text, or made from the result) and ``then(result)``.
    """
    if not form.is_valid():
        return None
    if ask is not None:
        asked = ask()
        if asked is not None:
            return asked
    try:
        result = save()
    except ValidationError as error:
        add_service_error(form, error)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return then(result)
