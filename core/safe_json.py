"""The one JSON loader for everything the console reads: non-finite numbers are refused.

Python's ``json`` reads ``Infinity``, ``-Infinity`` and ``NaN`` (which are not JSON) and turns
``1e999`` into ``inf``. None of them can be stored: PostgreSQL's jsonb refuses them and SQLite's JSON
check fails with an ``IntegrityError``; AWS refuses them in a policy. So the loader refuses them at
once, naming the value, and every caller turns :class:`NonFiniteNumber` into its own clear message
(it is a ``ValueError``, so a caller that already catches those still refuses instead of failing).

Only the standard library is used here, so ``integrations/aws.py`` can use it too.
"""
import json
import math


class NonFiniteNumber(ValueError):
    """A number that is infinite or not a number; ``text`` is the value as written."""

    def __init__(self, text: str):
        self.text = text
        super().__init__(non_finite_message(text))


def non_finite_message(text: str, *, subject: str = "") -> str:
    shown = text if len(text) <= 40 else text[:40] + "…"
    where = f"{subject}: " if subject else ""
    return (
        f"{where}“{shown}” is not a finite number (infinity and NaN cannot be stored or sent to AWS); "
        "write an ordinary number, or put the value in quotes if it is meant as text."
    )


def _refuse_constant(name: str):
    raise NonFiniteNumber(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NonFiniteNumber(text)
    return value


def loads(text: str, **kwargs):
    """``json.loads`` that raises :class:`NonFiniteNumber` for ``Infinity``, ``NaN`` and ``1e999``."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, **kwargs)


def first_non_finite(document):
    """``(path, value)`` of the first infinite or NaN float in a parsed document, or None.

    For documents that did not come through :func:`loads` (built in code, or read by another parser).
    The walk uses a stack, so any depth a parser accepted is walked.
    """
    stack = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                return path, value
        elif isinstance(value, dict):
            stack.extend((item, path + (key,)) for key, item in reversed(list(value.items())))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, path + (index,)) for index, item in reversed(list(enumerate(value, start=1))))
    return None
