"""Reading the files people hand to the importer, refusing anything that is not small UTF-8 text."""
import json
import stat
from pathlib import Path

from core.safe_yaml import YAMLInputError, load_yaml

MAX_FILE_BYTES = 5 * 1024 * 1024


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
            return json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
        except json.JSONDecodeError as error:
            raise InputFileError(f"{source}, line {error.lineno}, column {error.colno}: {error.msg}.") from None
        except _DuplicateKey as error:
            raise InputFileError(f"{source}: the key “{error.args[0]}” is given twice in one object.") from None
        except RecursionError:
            raise InputFileError(f"{source}: the document is nested too deeply.") from None
    try:
        return load_yaml(text, source=source)
    except YAMLInputError as error:
        raise InputFileError(str(error)) from None


def load_file(path: Path):
    """Read and parse one file; ``None`` when it holds no document at all."""
    return parse_text(read_text_file(path), source=str(path))
