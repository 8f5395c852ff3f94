"""Control characters in text people type, paste or import.

A NUL cannot be stored by PostgreSQL (text or jsonb) and an unpaired surrogate (from a ``\\ud800``
escape in JSON or YAML, or a file name that is not UTF-8) cannot be encoded for any database, so
either would end in a server error instead of a message. Other control characters (escape
sequences, bell, backspace) have no business in a name and can rewrite what a terminal shows, so
they are refused as well. Multi-line text (reasons, comments, descriptions) may hold line breaks
and tabs.
"""
import re
import unicodedata

from django.core.exceptions import ValidationError

from core.safe_json import first_non_finite, non_finite_message

LINE_BREAKS_AND_TABS = frozenset("\t\n\r")
_NAMES = {"\0": "NUL", "\t": "tab", "\n": "line break", "\r": "carriage return", "\x1b": "escape", "\x7f": "delete"}


# Unicode's control characters (category Cc: C0, DEL and C1) and surrogates (Cs), as regular expressions:
# a policy pasted or imported may be megabytes long, and a loop over its characters in Python is slow.
_CONTROL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ud800-\\udfff"
_ANY_CONTROL = re.compile(f"[\\t\\n\\r{_CONTROL}]")
_CONTROL_EXCEPT_LINE_BREAKS = re.compile(f"[{_CONTROL}]")


def is_control_character(character: str) -> bool:
    """True for C0/C1 control characters (NUL, escape, DEL …) and unpaired surrogates."""
    return bool(_ANY_CONTROL.fullmatch(character))


def control_characters(text: str, *, allowed: frozenset = frozenset()) -> list[str]:
    """The distinct control characters in ``text`` (except ``allowed``), in the order they appear."""
    pattern = _CONTROL_EXCEPT_LINE_BREAKS if allowed >= LINE_BREAKS_AND_TABS else _ANY_CONTROL
    return sorted(set(pattern.findall(text)) - allowed, key=text.index)


def shown_safely(text: str, *, limit: int = 40) -> str:
    """``text`` for a message: control characters as escapes (``\\u001b``), cut after ``limit`` characters."""
    shown = "".join(
        f"\\u{ord(character):04x}" if is_control_character(character) else character for character in text[:limit]
    )
    return shown + ("…" if len(text) > limit else "")


def describe_characters(characters: list[str]) -> str:
    """``U+0000 (NUL), U+001B (escape)``: how a message names characters that cannot be shown."""
    parts = []
    for character in characters:
        name = _NAMES.get(character) or ("unpaired surrogate" if unicodedata.category(character) == "Cs" else "")
        parts.append(f"U+{ord(character):04X}" + (f" ({name})" if name else ""))
    return ", ".join(parts)


def control_characters_message(characters: list[str], *, subject: str = "This text") -> str:
    several = len(characters) > 1
    return (
        f"{subject} contains the control character{'s' if several else ''} {describe_characters(characters)}; "
        f"remove {'them' if several else 'it'} (such characters usually come along when pasting from a terminal)."
    )


def no_control_characters(value) -> None:
    """For names and other one-line values: no control characters at all, not even a line break."""
    if isinstance(value, str):
        found = control_characters(value)
        if found:
            raise ValidationError(control_characters_message(found), code="control_characters")


def no_control_characters_except_line_breaks(value) -> None:
    """For reasons, comments and descriptions: line breaks and tabs are fine, other control characters are not."""
    if isinstance(value, str):
        found = control_characters(value, allowed=LINE_BREAKS_AND_TABS)
        if found:
            raise ValidationError(control_characters_message(found), code="control_characters")


def control_characters_in_document(document, *, allowed: frozenset = LINE_BREAKS_AND_TABS):
    """Where a JSON/YAML document holds control characters: ``(path, characters, in_key)`` or None.

    ``path`` lists the keys and list positions (from 1) that lead to the first offending value, or to
    the mapping whose key is offending (``in_key``); the offending text itself is never part of it.
    The walk uses a stack, not recursion, so any depth the parser accepted is walked.
    """
    stack = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            found = control_characters(value, allowed=allowed)
            if found:
                return path, found, False
        elif isinstance(value, dict):
            for key in value:
                found = control_characters(key, allowed=allowed) if isinstance(key, str) else []
                if found:
                    return path, found, True
            stack.extend((item, path + (key,)) for key, item in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((item, path + (index,)) for index, item in reversed(list(enumerate(value, start=1))))
    return None


def describe_path(path: tuple) -> str:
    """``Statement → 1 → Action``: where in a document a value is, for people."""
    return " → ".join(str(part) for part in path)


def validate_document_text(document, *, label: str = "The document") -> None:
    """Refuse a parsed JSON/YAML document whose keys or values hold control characters other than line breaks."""
    problem = control_characters_in_document(document)
    if problem is not None:
        path, found, in_key = problem
        subject = label
        if in_key:
            subject += f", a key {'under ' + describe_path(path) if path else 'at the top level'},"
        elif path:
            subject += f" at {describe_path(path)}"
        raise ValidationError(control_characters_message(found, subject=subject), code="control_characters")


def validate_finite_numbers(document, *, label: str = "The document") -> None:
    """Refuse a parsed document holding an infinite or NaN number, naming where (see core/safe_json.py)."""
    problem = first_non_finite(document)
    if problem is not None:
        path, value = problem
        subject = f"{label} at {describe_path(path)}" if path else label
        raise ValidationError(non_finite_message(repr(value), subject=subject), code="non_finite")
