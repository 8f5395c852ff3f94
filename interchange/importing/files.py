"""Reading the files people hand to the importer, refusing anything that is not small UTF-8 text."""
import codecs
import json
import stat
from pathlib import Path

from core import safe_json
from core.safe_yaml import YAMLInputError, load_yaml
from core.validators import control_characters_in_document, control_characters_message, describe_path

MAX_FILE_BYTES = 5 * 1024 * 1024


# Windows editors save "Unicode" text this way; UTF-32 first, as its little-endian mark starts like UTF-16's.
_OTHER_UNICODE_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


class InputFileError(ValueError):
    """A file that cannot be read or parsed; the message names the file (and the line when known)."""


def read_text_file(path: Path) -> str:
    label = str(path)
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise InputFileError(f"{label}: no such file.") from None
    except PermissionError:
        raise InputFileError(f"{label}: permission denied.") from None
    except OSError as error:
        raise InputFileError(f"{label}: cannot be read ({error.strerror}).") from None
    except ValueError:  # a NUL in the path, which no file name can hold
        raise InputFileError(f"{label!r}: no file name can contain a NUL character.") from None
    if stat.S_ISDIR(status.st_mode):
        raise InputFileError(f"{label} is a directory; give the path of a file.")
    if not stat.S_ISREG(status.st_mode):
        raise InputFileError(f"{label} is not a regular file.")
    too_large = InputFileError(
        f"{label} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; files this large are refused."
    )
    if status.st_size > MAX_FILE_BYTES:
        raise too_large
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise InputFileError(f"{label}: cannot be read ({error.strerror}).") from None
    if len(data) > MAX_FILE_BYTES:
        raise too_large
    for byte_order_mark, encoding in _OTHER_UNICODE_ENCODINGS:
        if data.startswith(byte_order_mark):
            raise InputFileError(f"{label}: this is {encoding} text; save the file as UTF-8.")
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise InputFileError(f"{label}, line {line}: this is a binary file, not text (it contains NUL bytes).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputFileError(
            f"{label}, line {line}: not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8."
        ) from None


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def parse_text(text: str, *, source: str):
    """A JSON document when the text starts with ``{``, otherwise YAML (CloudFormation short forms allowed)."""
    if text.lstrip().startswith("{"):
        try:
            return safe_json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
        except safe_json.NonFiniteNumber as error:
            raise InputFileError(f"{source}: {error}") from None
        except json.JSONDecodeError as error:
            raise InputFileError(f"{source}, line {error.lineno}, column {error.colno}: {error.msg}.") from None
        except _DuplicateKey as error:
            raise InputFileError(f"{source}: the key “{error.args[0]}” is given twice in one object.") from None
        except RecursionError:
            raise InputFileError(f"{source}: the document is nested too deeply.") from None
        except ValueError:  # Python refuses to read an integer of more than 4,300 digits
            raise InputFileError(f"{source}: a number has too many digits to be read.") from None
    try:
        return load_yaml(text, source=source)
    except YAMLInputError as error:
        raise InputFileError(str(error)) from None


def load_file(path: Path):
    """Read and parse one file; ``None`` when it holds no document at all."""
    data = parse_text(read_text_file(path), source=str(path))
    refuse_control_characters(data, source=str(path))
    return data


def refuse_control_characters(data, *, source: str) -> None:
    """Refuse control characters other than line breaks and tabs in any key or value.

    The parsers let them in through escapes (``"\\0"``, ``"\\e"``, ``"\\ud800"``) and, in JSON, as raw DEL
    and C1 characters. A NUL or an unpaired surrogate cannot even be stored by the database.
    """
    problem = control_characters_in_document(data)
    if problem is None:
        return
    path, found, in_key = problem
    where = describe_path(path)
    if in_key:
        subject = f"{source}: a key {'under ' + where if where else 'at the top level'}"
    else:
        subject = f"{source}: the value {'at ' + where if where else 'of the document'}"
    raise InputFileError(control_characters_message(found, subject=subject))
