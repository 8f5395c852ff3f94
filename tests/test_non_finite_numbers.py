"""Infinite and NaN numbers are refused in every JSON and YAML input, with a message naming the value.

Before: ``1e999`` or ``Infinity`` in a policy ended in an IntegrityError (no database stores them), and
``.inf`` in an imported template in a traceback.
"""
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from core import limits, safe_json
from core.safe_yaml import YAMLInputError, load_yaml
from integrations import aws
from interchange.importing.files import InputFileError, parse_text
from memberships.models import Membership
from roles.models import InlinePolicy
from tests.factories import MasterAccountFactory, RoleFactory
from tests.test_cli_import import files, refused  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

JSON_VALUES = ["1e999", "-1e999", "Infinity", "-Infinity", "NaN", "1.5e400"]
YAML_VALUES = [".inf", "-.inf", "+.inf", ".nan", ".NaN", ".Inf", "1.0e999", "-2.5e999", "!!float 1e999"]


def _policy_text(number: str) -> str:
    return (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", '
        '"Condition": {"NumericLessThanEquals": {"s3:max-keys": ' + number + "}}}]}"
    )


@pytest.mark.parametrize("number", JSON_VALUES)
def test_the_policy_form_refuses_a_non_finite_number_naming_it(client_for, people, number):
    MasterAccountFactory()
    role = RoleFactory()

    response = client_for(people.editor).post(
        reverse("roles:policy_create", args=[role.pk]), {"name": "Limits", "document": _policy_text(number)}
    )

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["document"])
    assert f"“{number}” is not a finite number" in errors
    assert not InlinePolicy.objects.exists()


@pytest.mark.parametrize("number", JSON_VALUES)
def test_the_policy_parser_refuses_non_finite_numbers(number):
    with pytest.raises(ValidationError) as error:
        limits.parse_policy_text(_policy_text(number))
    assert error.value.code == "non_finite"


def test_a_document_built_in_code_with_infinity_is_refused_naming_where():
    document = json.loads(_policy_text("1"))
    document["Statement"][0]["Condition"]["NumericLessThanEquals"]["s3:max-keys"] = float("inf")
    with pytest.raises(ValidationError) as error:
        limits.validate_policy_document(document, label="The policy")
    assert "The policy at Statement → 1 → Condition → NumericLessThanEquals → s3:max-keys: “inf”" in error.value.messages[0]


def test_ordinary_numbers_are_read_as_before():
    assert safe_json.loads('{"a": 1.5, "b": -2e10, "c": 3}') == {"a": 1.5, "b": -2e10, "c": 3}
    assert load_yaml("a: 1.5\nb: -2.0e10\nc: 3\n", source="x.yml") == {"a": 1.5, "b": -2e10, "c": 3}


@pytest.mark.parametrize("value", YAML_VALUES)
def test_the_yaml_loader_refuses_non_finite_numbers_with_the_line(value):
    with pytest.raises(YAMLInputError) as error:
        load_yaml(f"first: 1\nsecond: {value}\n", source="roles.yml")
    message = str(error.value)
    assert message.startswith("roles.yml, line 2, column 9: “")
    assert "is not a finite number" in message


@pytest.mark.parametrize("value", JSON_VALUES)
def test_a_json_input_file_refuses_non_finite_numbers(value):
    with pytest.raises(InputFileError) as error:
        parse_text('{"a": [1, ' + value + "]}", source="roles.cf")
    assert str(error.value).startswith(f"roles.cf: “{value}” is not a finite number")


@pytest.mark.parametrize("value", [".inf", "1.0e999", ".nan"])
def test_importing_a_yaml_template_with_a_non_finite_number_is_refused(files, value):  # noqa: F811
    files.config["assumable_roles"] = "roles.yml"
    template = (
        "Resources:\n"
        "  AdminRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        f"      MaxSessionDuration: {value}\n"
        "      AssumeRolePolicyDocument:\n"
        "        Version: '2012-10-17'\n"
        "        Statement: [{Effect: Allow, Principal: {AWS: !Ref AssumingAccountID}, Action: 'sts:AssumeRole'}]\n"
    )
    config, _ = files.write(template_text=template)
    message = refused(config)
    assert f"roles.yml, line 5, column 27: “{value}” is not a finite number" in message


@pytest.mark.parametrize("value", ["Infinity", "1e999", "NaN"])
def test_importing_a_json_template_with_a_non_finite_number_is_refused(files, value):  # noqa: F811
    text = json.dumps(files.template, indent=2).replace('"Type": "String"', f'"Type": "String", "MaxValue": {value}')
    config, _ = files.write(template_text=text)
    assert f"“{value}” is not a finite number" in refused(config)


def test_a_config_with_a_non_finite_number_is_refused(files):  # noqa: F811
    config, _ = files.write(config_text="assumable_roles: roles.cf\nstack_name: RoleModel\nmaster_account_id: .inf\n")
    assert "config.yml, line 3, column 20: “.inf” is not a finite number" in refused(config)


def test_a_json_config_with_a_non_finite_number_is_refused(files):  # noqa: F811
    config, _ = files.write(config_text='{"assumable_roles": "roles.cf", "stack_name": NaN}')
    assert "“NaN” is not a finite number" in refused(config)


def test_a_user_map_with_a_non_finite_number_is_refused_on_import_and_sync(files, people):  # noqa: F811
    config, users = files.write(users_text="prod:\n  AdminRole:\n    - carol\n    - -.inf\n")
    assert "users.yml, line 4, column 7: “-.inf” is not a finite number" in refused(config, "--users", users)

    with pytest.raises(CommandError) as error:
        call_command("rolemodel", "sync_users", str(users), "--as", "eddie")
    assert "“-.inf” is not a finite number" in str(error.value)
    assert not Membership.objects.exists()


def test_a_live_template_with_a_non_finite_number_is_not_taken_as_json():
    assert aws._parse_template_text('{"Resources": {}, "Limit": Infinity}') is None
    assert aws._parse_template_text('{"Resources": {}}') == {"Resources": {}}


def test_every_json_and_yaml_load_goes_through_the_checked_loaders():
    """New code that reads JSON or YAML must use core/safe_json.py or core/safe_yaml.py (a round trip of a
    document the console built itself, ``json.loads(json.dumps(…))``, reads nothing from outside)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    direct = re.compile(r"\bjson\.loads?\((?!json\.dumps\()|\byaml\.(?:safe_)?(?:load|load_all|full_load|unsafe_load)\(")
    allowed = {"core/safe_json.py"}
    found = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.split("/")[0] in {".venv", "tests", "var", "node_modules"} or relative in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if direct.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []
