"""Bad files handed to ``rolemodel import`` and ``rolemodel sync_users``: refused as a whole, with the
file and the place in it named, nothing changed, no traceback.

tests/test_cli_import.py covers the common cases (missing, binary, Latin-1, too large, malformed,
an alias bomb, a key given twice, the domain rules) and tests/test_safe_yaml.py the YAML loader; this
module adds encodings, line endings, tabs, escapes that put control characters in a value (which
PostgreSQL cannot store), numbers too long to read, oversized policies, deep nesting and more
expansion bombs. Files that are fine in an unusual way (CRLF, a byte order mark, tabs in text) import.
"""
import codecs
import json

import pytest
import yaml

from accounts.models import AssumableAccount
from core.safe_yaml import MAX_CHARACTERS, MAX_NODES
from memberships.models import Membership
from roles.models import RoleDefinition
from tests.commands import command_refused, rolemodel
from tests.test_bad_input_forms import everything
from tests.test_cli_import import ImportFiles, base_config, base_template, base_users, role_resource, trust

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(tmp_path) -> ImportFiles:
    return ImportFiles(tmp_path)


def refused(*args) -> str:
    return command_refused(*args, unchanged=everything)


def import_refused(files: ImportFiles, **texts) -> str:
    config_path, users_path = files.write(**texts)
    return refused("import", config_path, "--users", users_path)


def write_bytes(path, data: bytes):
    path.write_bytes(data)
    return path


def imported() -> tuple:
    return (
        sorted(AssumableAccount.objects.values_list("name", "description")),
        sorted(RoleDefinition.objects.values_list("logical_name", "description")),
        sorted(Membership.objects.values_list("account__name", "role__logical_name", "iam_user__user_name")),
    )


# ---- encodings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding, name",
    [("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32-le", "UTF-32"), ("utf-32-be", "UTF-32")],
)
@pytest.mark.parametrize("which", ["config", "template", "users"])
def test_utf16_or_utf32_with_a_byte_order_mark_is_refused_naming_the_encoding(files, which, encoding, name):
    config_path, users_path = files.write()
    path = {"config": config_path, "template": files.directory / "roles.cf", "users": users_path}[which]
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
           "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}[encoding]
    write_bytes(path, bom + path.read_text().encode(encoding))

    message = refused("import", config_path, "--users", users_path)

    assert f"{path}: this is {name} text; save the file as UTF-8." in message


def test_utf16_without_a_byte_order_mark_is_refused_as_not_text(files):
    config_path, users_path = files.write()
    write_bytes(users_path, users_path.read_text().encode("utf-16-le"))

    assert f"{users_path}, line 1: this is a binary file, not text (it contains NUL bytes)." in refused(
        "import", config_path, "--users", users_path
    )


def test_utf8_with_a_byte_order_mark_imports(files):
    config_path, users_path = files.write()
    for path in (config_path, files.directory / "roles.cf", users_path):
        write_bytes(path, codecs.BOM_UTF8 + path.read_bytes())

    rolemodel("import", config_path, "--users", users_path)

    assert ("prod", "AdminRole", "carol") in imported()[2]


def test_a_nul_byte_in_the_template_is_refused_with_its_line(files):
    config_path, users_path = files.write()
    template = files.directory / "roles.cf"
    lines = template.read_bytes().split(b"\n")
    lines[4] += b"\x00"
    write_bytes(template, b"\n".join(lines))

    assert f"{template}, line 5: this is a binary file" in refused("import", config_path, "--users", users_path)


# ---- line endings and tabs ----------------------------------------------------------------------------


@pytest.mark.parametrize("line_end", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_windows_and_old_mac_line_endings_import_like_unix_ones(files, line_end):
    config_path, users_path = files.write(
        config_text=yaml.safe_dump(base_config()).replace("\n", line_end),
        template_text=json.dumps(base_template(), indent=2).replace("\n", line_end),
        users_text=yaml.safe_dump(base_users()).replace("\n", line_end),
    )

    rolemodel("import", config_path, "--users", users_path)

    assert imported() == (
        [("cdn", ""), ("prod", "")],
        [("AdminRole", ""), ("ReadOnlyRole", "")],
        [("cdn", "AdminRole", "carol"), ("prod", "AdminRole", "carol"), ("prod", "ReadOnlyRole", "alice"),
         ("prod", "ReadOnlyRole", "bob")],
    )


def test_tabs_inside_text_and_json_indented_with_tabs_import(files):
    files.config["assumable_accounts"][0]["description"] = "Production\tEU\nsecond line"
    files.template["Resources"]["AdminRole"]["Properties"]["Description"] = "Admin\taccess"
    config_path, users_path = files.write(template_text=json.dumps(files.template, indent="\t"))

    rolemodel("import", config_path, "--users", users_path)

    assert ("prod", "Production\tEU\nsecond line") in imported()[0]
    assert ("AdminRole", "Admin\taccess") in imported()[1]


def test_yaml_indented_with_tabs_is_refused_with_the_line_and_column(files):
    users = "prod:\n\tAdminRole: [carol]\n"

    message = import_refused(files, users_text=users)

    where = f"{files.directory / 'users.yml'}, line 2, column 1"
    assert f"{where}: found character '\\t' that cannot start any token" in message


# ---- escapes that put control characters into values ----------------------------------------------------


@pytest.mark.parametrize(
    "escape, character",
    [("\\0", "U+0000 (NUL)"), ("\\e", "U+001B (escape)"), ("\\ud800", "U+D800 (unpaired surrogate)"),
     ("\\x07", "U+0007"), ("\\x85", "U+0085")],
)
def test_a_yaml_escape_for_a_control_character_in_the_config_is_refused_naming_the_key(files, escape, character):
    config = yaml.safe_dump(files.config).replace("name: prod", f'name: prod\n  description: "Prod{escape}"')

    message = import_refused(files, config_text=config)

    assert (f"{files.directory / 'config.yml'}: the value at assumable_accounts → 1 → description contains the "
            f"control character {character}") in message


@pytest.mark.parametrize("escape, character", [("\\u0000", "U+0000 (NUL)"), ("\\udfff", "U+DFFF (unpaired surrogate)"),
                                               ("\\u001b", "U+001B (escape)"), ("\\u007f", "U+007F (delete)")])
def test_a_json_escape_for_a_control_character_in_a_policy_is_refused_naming_the_place(files, escape, character):
    text = json.dumps(files.template).replace('"s3:Get*"', f'"s3:Get{escape}*"', 1)

    message = import_refused(files, template_text=text)

    assert (f"{files.directory / 'roles.cf'}: the value at Resources → AdminRolePolicies → Properties → "
            f"PolicyDocument → Statement → 1 → Action → 1 contains the control character {character}") in message


def test_raw_control_characters_json_allows_in_strings_are_refused_too(files):
    text = json.dumps(files.template, ensure_ascii=False).replace('"s3:Get*"', '"s3:Get\x7f\x9b*"', 1)

    message = import_refused(files, template_text=text)

    assert "contains the control characters U+007F (delete), U+009B" in message


def test_a_control_character_in_a_key_is_refused_without_printing_the_key(files):
    users = 'prod:\n  "Admin\\eRole": [carol]\n'

    message = import_refused(files, users_text=users)

    assert f"{files.directory / 'users.yml'}: a key under prod contains the control character U+001B" in message
    assert "\x1b" not in message


def test_a_control_character_in_a_user_map_is_refused_by_sync_users_as_well(people, files):
    _, users_path = files.write(users_text='prod:\n  AdminRole: ["carol\\0"]\n')

    message = refused("sync_users", users_path, "--as", "eddie")

    assert f"{users_path}: the value at prod → AdminRole → 1 contains the control character U+0000 (NUL)" in message


def test_a_template_path_in_the_config_with_a_control_character_is_refused(files):
    config = yaml.safe_dump(files.config).replace("assumable_roles: roles.cf", 'assumable_roles: "roles\\0.cf"')

    message = import_refused(files, config_text=config)

    assert "the value at assumable_roles contains the control character U+0000 (NUL)" in message


# ---- numbers and values that cannot be read ---------------------------------------------------------------


def test_a_json_number_of_five_thousand_digits_is_refused(files):
    text = json.dumps(files.template).replace('"2010-09-09"', "9" * 5000)

    assert f"{files.directory / 'roles.cf'}: a number has too many digits to be read." in import_refused(
        files, template_text=text
    )


@pytest.mark.parametrize(
    "value, expected",
    [
        ("9" * 5000, "cannot be read as a whole number"),
        ("!!int twelve", "“twelve” cannot be read as a whole number"),
        ("!!float fast", "“fast” cannot be read as a number"),
        ("!!bool maybe", "“maybe” cannot be read as true or false"),
        ("!!int", "“” cannot be read as a whole number"),
    ],
)
def test_a_yaml_value_that_cannot_be_read_as_its_type_is_refused_with_its_line(files, value, expected):
    config = yaml.safe_dump(files.config) + f"master_account_region: {value}\n"

    message = import_refused(files, config_text=config)

    assert f"{files.directory / 'config.yml'}, line" in message
    assert expected in message


@pytest.mark.parametrize("seconds", ["²", "9" * 5000, "٣٦٠٠", "3600.5", ".nan"])
def test_a_session_duration_that_is_no_whole_number_of_seconds_is_refused(files, seconds):
    files.template["Resources"]["AdminRole"]["Properties"]["MaxSessionDuration"] = "@@"
    text = json.dumps(files.template).replace('"@@"', json.dumps(seconds))

    message = import_refused(files, template_text=text)

    assert "roles.cf, role AdminRole, MaxSessionDuration: expected a number of seconds, found text." in message


# ---- size and depth -----------------------------------------------------------------------------------------


def test_a_one_megabyte_policy_is_refused_as_too_large_for_iam(files):
    statement = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}
    document = {"Version": "2012-10-17", "Statement": [statement] * 20_000}
    files.template["Resources"]["AdminRolePolicies"]["Properties"]["PolicyDocument"] = document

    message = import_refused(files)

    assert "characters; IAM allows 10,240 for all of a role's inline policies together" in message


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_json_nested_deeper_than_can_be_read_is_refused(files, depth):
    text = json.dumps(files.template).replace('"2010-09-09"', "[" * depth + "]" * depth)

    assert f"{files.directory / 'roles.cf'}: the document is nested too deeply." in import_refused(
        files, template_text=text
    )


# ---- expansion bombs and duplicate keys -----------------------------------------------------------------------


def test_a_megabyte_of_text_aliased_many_times_is_refused(files):
    big = "x" * 1_000_000
    users = f"anchor: &big {big}\nprod:\n  AdminRole: [" + ", ".join(["*big"] * 12) + "]\n"

    message = import_refused(files, users_text=users)

    assert f"the document expands to more than {MAX_CHARACTERS:,} characters of text" in message


def test_an_alias_bomb_through_merge_keys_is_refused(files):
    lines = ["a: &a {" + ", ".join(f"k{n}: lol" for n in range(10)) + "}"]
    for previous, current in zip("abcdefg", "bcdefgh"):
        copies = ", ".join(f"m{n}: *{previous}" for n in range(10))
        lines.append(f"{current}: &{current} {{<<: *{previous}, {copies}}}")

    message = import_refused(files, config_text="\n".join(lines) + "\n")

    assert f"the document expands to more than {MAX_NODES:,} values" in message


def test_an_alias_bomb_in_the_template_is_refused(files):
    lines = ["Metadata:", "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, current in zip("abcdef", "bcdefg"):
        lines.append(f"  {current}: &{current} [" + ", ".join([f"*{previous}"] * 10) + "]")
    lines.append("Resources: {}")

    assert "expands to more than" in import_refused(files, template_text="\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "which, text, expected",
    [
        ("config", "assumable_roles: roles.cf\n'assumable_roles': other.cf\n", "“assumable_roles” is given twice"),
        ("config", "assumable_accounts:\n  - {name: prod, profile: prod, name: cdn}\n", "“name” is given twice"),
        ("template", '{"Resources": {"AdminRole": {}, "AdminRole": {}}}', "“AdminRole” is given twice in one object"),
        ("users", "prod:\n  AdminRole: [carol]\n  \"AdminRole\": [bob]\n", "“AdminRole” is given twice"),
    ],
)
def test_a_key_given_twice_in_any_file_is_refused(files, which, text, expected):
    assert expected in import_refused(files, **{f"{which}_text": text})


# ---- documents of the wrong shape ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "config.yml: the file is empty"),
        ("   \n\n# only a comment\n", "config.yml: the file is empty"),
        ("\ufeff", "config.yml: the file is empty"),
        ("- a\n- b\n", "config.yml: expected a mapping (key: value lines), found a list."),
        ("just text\n", "config.yml: expected a mapping (key: value lines), found text."),
        ("42\n", "config.yml: expected a mapping (key: value lines), found a number."),
        ("a: 1\n---\nb: 2\n", "config.yml, line 2, column 1: but found another document (expected a single document"),
    ],
)
def test_a_config_of_the_wrong_shape_is_refused(files, text, expected):
    assert expected in import_refused(files, config_text=text)


@pytest.mark.parametrize(
    "target, expected", [("/dev/zero", "/dev/zero is not a regular file."), (".", "is a directory; give the path")]
)
def test_a_template_path_that_points_at_a_device_or_a_directory_is_refused(files, target, expected):
    config = yaml.safe_dump({**files.config, "assumable_roles": target})
    config_path = files.directory / "config.yml"
    config_path.write_text(config)

    assert expected in refused("import", config_path)


def test_a_png_given_as_the_template_is_refused_as_binary(files):
    config_path, users_path = files.write()
    write_bytes(files.directory / "roles.cf", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    assert "roles.cf, line 3: this is a binary file" in refused("import", config_path, "--users", users_path)


def test_markup_where_an_account_is_expected_is_refused_and_reported_as_text(files):
    files.template["Resources"]["AdminRole"] = role_resource(
        Description="<script>alert(1)</script>",
        AssumeRolePolicyDocument=trust(principal="<script>alert(1)</script>"),
    )

    message = import_refused(files)

    assert "as arn:aws:iam::<id>:root or the id; found <script>alert(1)</script>." in message
