"""Argument types shared by the subcommands: argparse refuses a bad value naming the argument and the reason."""
import argparse

from django.core.exceptions import ValidationError

from core.validators import no_control_characters_except_line_breaks


def path_argument(text: str) -> str:
    """A file or directory name that can be opened, shown and recorded in the audit history.

    Python hands over a name that is not UTF-8 with unpaired surrogates in it: the file could be read,
    but printing the name would fail, and so would storing the audit row that names it.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("give a path; an empty one would mean the current directory.")
    if "\0" in text:
        raise argparse.ArgumentTypeError("no path can contain a NUL character.")
    if any(0xD800 <= ord(character) <= 0xDFFF for character in text):
        try:
            shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            shown = text.encode("utf-8", "backslashreplace").decode()
        raise argparse.ArgumentTypeError(f"the name “{shown}” is not UTF-8; rename the file or directory.")
    return text


def text_argument(text: str) -> str:
    """A comment kept in the audit history: line breaks and tabs are fine, other control characters are not."""
    try:
        no_control_characters_except_line_breaks(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(error.messages[0]) from None
    return text
