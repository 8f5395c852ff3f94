"""Bad arguments to every ``rolemodel`` subcommand: a non-zero exit with a clear message, nothing
changed, no traceback.

Argument errors are checked twice: through ``call_command`` (which turns them into ``CommandError``)
and through the real ``manage.py`` in a subprocess, where argparse exits with status 2 and prints
usage. The file contents themselves are tests/test_bad_input_files.py's subject.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from interchange.importing.files import MAX_FILE_BYTES
from plans.models import Plan
from tests.commands import command_refused, rolemodel
from tests.factories import pending_plan
from tests.test_bad_input_forms import everything

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def refused(*args) -> str:
    """Run a command that must fail and change nothing; its message."""
    return command_refused(*args, unchanged=everything)


@pytest.fixture
def plan(people) -> Plan:
    """A pending plan requested by eddie, as the planner stores it (no AWS needed to decide on it)."""
    return pending_plan(people.editor)


@pytest.fixture
def users_file(tmp_path) -> Path:
    path = tmp_path / "users.yml"
    path.write_text(yaml.safe_dump({"prod": {"Admin": ["alice"]}}))
    return path


@pytest.fixture
def config_file(tmp_path) -> Path:
    (tmp_path / "roles.cf").write_text('{"Resources": {}}')
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"assumable_roles": "roles.cf", "master_account_id": "111111111111",
                                    "assumable_accounts": []}))
    return path


# ---- the real command line: argparse's own refusals ------------------------------------------------


def manage_py(*args, tmp_path) -> subprocess.CompletedProcess:
    """``manage.py rolemodel ARGS`` with a database of its own that is never reached (argparse refuses first)."""
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment["ROLEMODEL_VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "manage.py", "rolemodel", *args], cwd=ROOT, env=environment, capture_output=True, timeout=120
    )


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "the following arguments are required: SUBCOMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["import"], "the following arguments are required: CONFIG.yml"),
        (["import", ""], "argument CONFIG.yml: give a path; an empty one would mean the current directory."),
        (["export", " "], "argument DIR: give a path"),
        (["sync_users"], "the following arguments are required: USERS.yml"),
        (["approve"], "the following arguments are required: PLAN_ID"),
        (["approve", "abc"], "argument PLAN_ID: invalid int value: 'abc'"),
        (["approve", "1", "--comment", "\x1b[2Jcleared"], "argument --comment: This text contains the control "
                                                          "character U+001B (escape)"),
        (["reject", "1", "--as", "april"], "the following arguments are required: --comment"),
        (["plan", "--wait", "--timeout", "-5"], "the timeout must be between 0 and 86400 seconds"),
        (["plan", "--wait", "--timeout=nan"], "the timeout must be between 0 and 86400 seconds"),
        (["apply", "1", "--wait", "--timeout", "soon"], "“soon” is not a number of seconds"),
        (["audit"], "the following arguments are required: action"),
        (["audit", "erase"], "invalid choice: 'erase'"),
        (["list", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_the_command_line_refuses_bad_arguments_with_usage_and_no_traceback(tmp_path, args, message):
    result = manage_py(*args, tmp_path=tmp_path)

    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    assert message in stderr
    assert "usage: manage.py rolemodel" in stderr
    assert "Traceback" not in stderr


def test_a_file_name_that_is_not_utf8_is_refused_before_it_is_read(tmp_path):
    name = os.fsencode(tmp_path) + b"/caf\xe9.yml"
    Path(os.fsdecode(name)).write_text("assumable_roles: roles.cf\n")

    result = manage_py("import", name, tmp_path=tmp_path)

    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2
    assert "caf\\xe9.yml” is not UTF-8; rename the file or directory." in stderr
    assert "Traceback" not in stderr


# ---- plan ids, --as, --comment, --timeout through call_command ----------------------------------------


@pytest.mark.parametrize(
    "plan_id, message",
    [
        ("-1", "There is no plan #-1."),
        ("1_000", "There is no plan #1000."),
        (str(2**63), f"There is no plan #{2**63}."),
        ("", "argument PLAN_ID: invalid int value: ''"),
        ("0x10", "argument PLAN_ID: invalid int value: '0x10'"),
        ("1e3", "argument PLAN_ID: invalid int value: '1e3'"),
    ],
)
@pytest.mark.parametrize("command", [["approve", "--as", "april"], ["reject", "--as", "april", "--comment", "no"],
                                     ["apply", "--as", "eddie"]])
def test_a_plan_id_that_is_negative_odd_or_missing_is_refused(people, command, plan_id, message):
    name, *options = command
    assert message in refused(name, plan_id, *options)


@pytest.mark.parametrize(
    "username, message",
    [
        ("", "--as needs the username of a console user; leave --as out to act as yourself."),
        ("   ", "--as needs the username of a console user"),
        ("april\x00", "--as 'april\\x00': there is no console user with this username."),
        ("caf\udce9", "--as 'caf\\udce9': there is no console user with this username."),
        ("april\x1b[2J", "--as 'april\\x1b[2J': there is no console user with this username."),
        ("a" * 10_000, "there is no console user with this username."),
    ],
)
@pytest.mark.parametrize("command", [["plan"], ["approve", "1"], ["apply", "1"], ["import", "config.yml"],
                                     ["sync_users", "users.yml"]])
def test_an_as_that_names_nobody_is_refused_before_anything_is_read(people, plan, command, username, message):
    assert message in refused(*command, "--as", username)


@pytest.mark.parametrize(
    "comment, character",
    [
        ("stop\x00", "U+0000 (NUL)"),
        ("\x1b[31mred\x1b[0m", "U+001B (escape)"),
        ("ring\x07", "U+0007"),
        ("caf\udce9", "U+DCE9 (unpaired surrogate)"),
        ("next\x85line", "U+0085"),
    ],
)
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_comment_with_control_characters_is_refused(plan, decision, comment, character):
    message = refused(decision, plan.pk, "--as", "april", "--comment", comment)

    assert f"argument --comment: This text contains the control character {character}" in message
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.PENDING


def test_a_comment_keeps_its_line_breaks_and_tabs(plan):
    rolemodel("reject", plan.pk, "--as", "april", "--comment", "Not now:\n\tthe change window is closed.")

    plan.refresh_from_db()
    assert plan.status == Plan.Status.REJECTED
    assert plan.decision_comment == "Not now:\n\tthe change window is closed."


@pytest.mark.parametrize(
    "timeout, message",
    [
        ("-5", "the timeout must be between 0 and 86400 seconds."),
        ("-1e9", "the timeout must be between 0 and 86400 seconds."),
        ("inf", "the timeout must be between 0 and 86400 seconds."),
        ("1e400", "the timeout must be between 0 and 86400 seconds."),
        ("nan", "the timeout must be between 0 and 86400 seconds."),
        ("86401", "the timeout must be between 0 and 86400 seconds."),
        ("0x10", "“0x10” is not a number of seconds."),
        ("", "“” is not a number of seconds."),
        ("10s", "“10s” is not a number of seconds."),
    ],
)
@pytest.mark.parametrize("command", [["plan", "--as", "eddie"], ["apply", "1", "--as", "eddie"]])
def test_a_wait_timeout_that_is_not_a_sensible_number_of_seconds_is_refused(people, command, timeout, message):
    # "--timeout=-1e9": argparse would read a separate "-1e9" as an option, not a negative number.
    assert f"argument --timeout: {message}" in refused(*command, "--wait", f"--timeout={timeout}")


def test_an_unknown_subcommand_or_action_is_refused(people):
    assert "invalid choice: 'frobnicate'" in refused("frobnicate")
    assert "invalid choice: 'erase'" in refused("audit", "erase")


# ---- paths ------------------------------------------------------------------------------------------


def special_paths(tmp_path) -> dict:
    """Paths of things that are not a readable small UTF-8 file, made in ``tmp_path``."""
    fifo = tmp_path / "fifo.yml"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.yml"
    loop.symlink_to(loop)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    utf16 = tmp_path / "utf16.yml"
    utf16.write_text("prod:\n  Admin: [alice]\n", encoding="utf-16")
    huge = tmp_path / "huge.yml"
    huge.write_text("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    return {
        "a directory": (tmp_path, "is a directory; give the path of a file."),
        "a device": (Path("/dev/null"), "/dev/null is not a regular file."),
        "a named pipe": (fifo, "fifo.yml is not a regular file."),
        "a symbolic link to itself": (loop, "loop.yml: cannot be read (Too many levels of symbolic links)."),
        "a name too long": (tmp_path / ("n" * 300 + ".yml"), "cannot be read (File name too long)."),
        "a path through a file": (a_file / "users.yml", "a-file/users.yml: no such file."),
        "UTF-16 text": (utf16, "utf16.yml: this is UTF-16 text; save the file as UTF-8."),
        "over 5 MB": (huge, "huge.yml is larger than 5 MB; files this large are refused."),
        "a NUL in the name": (f"{tmp_path}/users\x00.yml", "no path can contain a NUL character."),
        "a name that is not UTF-8": (f"{tmp_path}/caf\udce9.yml", "caf\\xe9.yml” is not UTF-8; rename the file"),
    }


KINDS_OF_PATH = ["a directory", "a device", "a named pipe", "a symbolic link to itself", "a name too long",
                 "a path through a file", "UTF-16 text", "over 5 MB", "a NUL in the name", "a name that is not UTF-8"]


@pytest.mark.parametrize("kind", KINDS_OF_PATH)
def test_import_refuses_a_config_path_that_is_not_a_readable_file(people, tmp_path, kind):
    path, message = special_paths(tmp_path)[kind]
    assert message in refused("import", path, "--as", "eddie")


@pytest.mark.parametrize("kind", KINDS_OF_PATH)
def test_import_refuses_a_users_path_that_is_not_a_readable_file(people, tmp_path, config_file, kind):
    path, message = special_paths(tmp_path)[kind]
    assert message in refused("import", config_file, "--users", path, "--as", "eddie")


@pytest.mark.parametrize("kind", KINDS_OF_PATH)
def test_sync_users_refuses_a_path_that_is_not_a_readable_file(people, tmp_path, kind):
    path, message = special_paths(tmp_path)[kind]
    assert message in refused("sync_users", path, "--as", "eddie")


@pytest.mark.parametrize(
    "target, message",
    [
        (lambda tmp: "", "argument DIR: give a path"),
        (lambda tmp: "/dev/null", "/dev/null exists and is not a directory."),
        (lambda tmp: tmp / "a-file" / "sub", "Cannot write to"),
        (lambda tmp: tmp / ("n" * 300), "File name too long"),
        (lambda tmp: f"{tmp}/out\x00", "argument DIR: no path can contain a NUL character."),
        (lambda tmp: f"{tmp}/caf\udce9", "caf\\xe9” is not UTF-8; rename the file or directory."),
    ],
)
def test_export_refuses_a_directory_it_cannot_write_to(tmp_path, target, message):
    (tmp_path / "a-file").write_text("not a directory")
    before = sorted(path.name for path in tmp_path.iterdir())

    assert message in refused("export", target(tmp_path))

    assert sorted(path.name for path in tmp_path.iterdir()) == before


def test_export_over_a_directory_named_like_one_of_its_files_is_refused_before_writing_any(tmp_path):
    (tmp_path / "users.yml").mkdir()

    message = refused("export", tmp_path, "--force")

    assert f"{tmp_path / 'users.yml'} is a directory" in message
    assert sorted(path.name for path in tmp_path.iterdir()) == ["users.yml"]
