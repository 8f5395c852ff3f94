"""Every bad input on the role and policy forms gets a clear message on the right field and changes nothing."""
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import MasterAccount
from core.form_errors import add_service_error
from roles.forms import PolicyForm, format_tags, parse_tags
from tests.factories import AccountFactory, PolicyFactory, RoleFactory, role_form_data
from tests.state import desired_state

pytestmark = pytest.mark.django_db

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


@pytest.fixture
def role(db):
    role = RoleFactory(logical_name="ReadOnly")
    PolicyFactory(role=role, name="S3Read")
    return role


def policy_of_size(characters: int) -> dict:
    """An Allow policy whose IAM size (JSON without whitespace) is exactly ``characters``."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ""}]}
    padding = characters - len(json.dumps(document, separators=(",", ":")))
    document["Statement"][0]["Resource"] = "arn:aws:s3:::" + "b" * (padding - len("arn:aws:s3:::"))
    return document


def errors_on(response, field="__all__") -> str:
    assert response.status_code == 200, "a refused form is shown again, not redirected"
    return " ".join(response.context["form"].errors.get(field, []))


# --- role form -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"logical_name": "Read-Only"}, "logical_name", "not a CloudFormation logical name"),
        ({"logical_name": "Read Only"}, "logical_name", "letters A–Z, a–z and digits 0–9"),
        ({"logical_name": "A" * 256}, "logical_name", "longer than 255"),
        ({"logical_name": "A" * 65}, "logical_name", "IAM allows at most 64"),
        ({"logical_name": ""}, "logical_name", "required"),
        ({"role_name": "Admin Role"}, "role_name", "IAM names may use only letters"),
        ({"role_name": "Admin#1"}, "role_name", "'#'"),
        ({"role_name": "r" * 65}, "role_name", "IAM allows at most 64"),
        ({"path": "team"}, "path", "not an IAM path"),
        ({"path": "/team"}, "path", "not an IAM path"),
        ({"path": "/" + "p" * 40 + "/", "role_name": "r" * 30}, "path", "Switch Role accepts at most 64"),
        ({"max_session_duration": "3599"}, "max_session_duration", "between 3600 and 43200"),
        ({"max_session_duration": "43201"}, "max_session_duration", "between 3600 and 43200"),
        ({"max_session_duration": "an hour"}, "max_session_duration", "whole number"),
        ({"permissions_boundary_arn": "arn:aws:iam::aws:role/Boundary"}, "permissions_boundary_arn", "not an IAM policy ARN"),
        ({"permissions_boundary_arn": "Boundary"}, "permissions_boundary_arn", "not an IAM policy ARN"),
        ({"managed_policy_arns": "ReadOnlyAccess"}, "managed_policy_arns", "“ReadOnlyAccess” is not an IAM policy ARN"),
        ({"managed_policy_arns": "arn:aws:iam::12345:policy/P"}, "managed_policy_arns", "not an IAM policy ARN"),
        (
            {"managed_policy_arns": "arn:aws:iam::aws:policy/ReadOnlyAccess\narn:aws:iam::aws:policy/ReadOnlyAccess"},
            "managed_policy_arns",
            "listed twice",
        ),
        (
            {"managed_policy_arns": "\n".join(f"arn:aws:iam::123456789012:policy/P{n}" for n in range(11))},
            "managed_policy_arns",
            "at most 10 managed policies",
        ),
        ({"tags": "team"}, "tags", "Line 1 (“team”) is not key=value"),
        ({"tags": "team=a\n=b"}, "tags", "Line 2"),
        ({"tags": "team=a\nteam=b"}, "tags", "“team” is given twice"),
        ({"tags": "aws:owner=me"}, "tags", "reserved prefix"),
        ({"tags": "k" * 129 + "=v"}, "tags", "1–128 characters"),
        ({"tags": "team=" + "v" * 257}, "tags", "at most 256 characters"),
        ({"tags": "\n".join(f"k{n}=v" for n in range(51))}, "tags", "at most 50 tags"),
        ({"description": "d" * 1001}, "description", "at most 1000 characters"),
        ({"applies_to_all_accounts": None}, "accounts", "Choose the accounts"),
        ({"applies_to_all_accounts": None, "accounts": ["9999"]}, "accounts", "Select a valid choice"),
    ],
)
def test_it_refuses_a_bad_role_and_changes_nothing(editor, role, overrides, field, message):
    before = desired_state()
    response = editor.post(reverse("roles:create"), role_form_data(**overrides))
    assert message in errors_on(response, field)
    assert desired_state() == before


def test_it_refuses_a_logical_name_that_differs_from_another_only_in_case(editor, role):
    before = desired_state()
    response = editor.post(reverse("roles:create"), role_form_data(logical_name="READONLY"))
    assert "A role named “ReadOnly” already exists" in errors_on(response, "logical_name")
    assert desired_state() == before


def test_it_refuses_a_role_name_that_another_role_already_uses_in_another_case(editor, role):
    before = desired_state()
    response = editor.post(reverse("roles:create"), role_form_data(logical_name="Reader", role_name="readonly"))
    assert "would create IAM roles with the same name" in errors_on(response)
    assert desired_state() == before


def test_it_refuses_a_role_whose_group_names_would_pass_128_characters(editor, role):
    AccountFactory(name="a" * 70)
    before = desired_state()
    response = editor.post(reverse("roles:create"), role_form_data(logical_name="R" * 60))
    assert "IAM group names are at most 128" in errors_on(response)
    assert desired_state() == before


def test_it_refuses_a_role_that_would_exceed_the_master_accounts_group_quota(editor, role):
    AccountFactory.create_batch(2)
    MasterAccount.objects.filter(pk=1).update(group_quota=3)
    before = desired_state()
    response = editor.post(reverse("roles:create"), role_form_data())
    assert "need 4 IAM groups in the master account; its quota is 3" in errors_on(response)
    assert desired_state() == before


def test_a_refused_edit_keeps_the_role_and_its_accounts_as_they_were(editor, role):
    prod = AccountFactory(name="prod")
    before = desired_state()
    data = role_form_data(logical_name="ReadOnly", max_session_duration="43201", applies_to_all_accounts=None, accounts=[prod.pk])
    response = editor.post(reverse("roles:edit", kwargs={"pk": role.pk}), data)
    assert "between 3600 and 43200" in errors_on(response, "max_session_duration")
    assert desired_state() == before


def test_a_refused_edit_that_fails_only_the_whole_state_check_changes_nothing(editor, role):
    AccountFactory(name="a" * 70)
    before = desired_state()
    # The rename changes the role's ARN, so the editor confirms it; the whole-state check still refuses it.
    response = editor.post(reverse("roles:edit", kwargs={"pk": role.pk}),
                           role_form_data(logical_name="R" * 60, confirm_replacement="on"))
    assert "IAM group names are at most 128" in errors_on(response)
    assert desired_state() == before


# --- policy form -----------------------------------------------------------------------------


def post_policy(editor, role, name="Logs", document="", policy=None):
    if policy is None:
        url = reverse("roles:policy_create", kwargs={"pk": role.pk})
    else:
        url = reverse("roles:policy_edit", kwargs={"pk": role.pk, "policy_pk": policy.pk})
    text = document if isinstance(document, str) else json.dumps(document)
    return editor.post(url, {"name": name, "document": text, "reason": ""})


def test_it_shows_the_json_error_line_and_column(editor, role):
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow", "Action": "s3:*",}\n  ]\n}'
    before = desired_state()
    response = post_policy(editor, role, document=text)
    assert errors_on(response, "document") == (
        "The policy document is not valid JSON: Expecting property name enclosed in double quotes at line 4, column 42."
    )
    assert desired_state() == before


def test_it_keeps_the_typed_text_when_the_json_is_invalid(editor, role):
    text = '{"Version": "2012-10-17", "Statement": ['
    response = post_policy(editor, role, document=text)
    assert response.context["form"]["document"].value() == text


@pytest.mark.parametrize(
    "document, message",
    [
        ({"Version": "2012-10-17"}, "has no “Statement” key"),
        ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "has no “Version” key"),
        ({"Version": "2020-01-01", "Statement": []}, "use “2012-10-17”"),
        ({"Version": "2012-10-17", "Statement": []}, "non-empty list"),
        ({"Version": "2012-10-17", "Statement": ["Allow"]}, "statement 1 is not a JSON object"),
        ({"Version": "2012-10-17", "Statement": [{"Action": "s3:*", "Resource": "*"}]}, "needs “Effect”"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}, "no “Action” or “NotAction”"),
        ([{"Effect": "Allow"}], "must be a JSON object"),
        ("", "required"),
        ("  \n ", "The policy document is empty"),
        ("x" * (64 * 1024 + 1), "no IAM policy can be larger than 10,240 characters"),
    ],
)
def test_it_refuses_a_policy_document_that_is_not_a_policy(editor, role, document, message):
    before = desired_state()
    response = post_policy(editor, role, document=document)
    assert message in errors_on(response, "document")
    assert desired_state() == before


@pytest.mark.parametrize(
    "name, message",
    [
        ("Read logs", "IAM names may use only letters"),
        ("Logs!", "'!'"),
        ("P" * 129, "IAM allows at most 128"),
        ("s3read", "already has a policy named “S3Read”"),
        ("", "required"),
    ],
)
def test_it_refuses_a_bad_policy_name(editor, role, name, message):
    before = desired_state()
    response = post_policy(editor, role, name=name, document=policy_of_size(200))
    assert message in errors_on(response, "name")
    assert desired_state() == before


def test_it_refuses_a_policy_that_takes_the_role_past_10240_characters(editor, role):
    role.policies.update(document=policy_of_size(6_000))
    before = desired_state()
    response = post_policy(editor, role, document=policy_of_size(4_241))
    assert "add up to 10,241 characters; IAM allows 10,240 per role" in errors_on(response)
    assert desired_state() == before


def test_it_accepts_policies_that_fill_the_role_to_exactly_10240_characters(editor, role):
    role.policies.update(document=policy_of_size(6_000))
    assert post_policy(editor, role, document=policy_of_size(4_240)).status_code == 302


def test_whitespace_does_not_count_towards_the_policy_size(editor, role):
    role.policies.update(document=policy_of_size(6_000))
    spacious = json.dumps(policy_of_size(4_240), indent=8)
    assert len(spacious) > 4_300
    assert post_policy(editor, role, document=spacious).status_code == 302


def test_it_refuses_growing_a_policy_past_the_role_limit_and_keeps_the_old_document(editor, role):
    policy = role.policies.get()
    PolicyFactory(role=role, name="Other", document=policy_of_size(5_000))
    before = desired_state()
    response = post_policy(editor, role, name="S3Read", document=policy_of_size(6_000), policy=policy)
    assert "add up to 11,000 characters" in errors_on(response)
    assert desired_state() == before


def test_it_refuses_renaming_a_policy_onto_another_policy_of_the_role_in_another_case(editor, role):
    other = PolicyFactory(role=role, name="Logs")
    before = desired_state()
    response = post_policy(editor, role, name="s3READ", document=other.document, policy=other)
    assert "already has a policy named “S3Read”" in errors_on(response, "name")
    assert desired_state() == before


def test_another_role_may_use_the_same_policy_name(editor, role):
    other_role = RoleFactory(logical_name="Auditor")
    assert post_policy(editor, other_role, name="S3Read", document=policy_of_size(200)).status_code == 302


# --- tags text -------------------------------------------------------------------------------


def test_tags_text_reads_one_key_value_pair_per_line_ignoring_blank_lines():
    assert parse_tags("team = platform\n\n  env=prod=eu \nempty=") == {"team": "platform", "env": "prod=eu", "empty": ""}


def test_tags_text_names_every_bad_line():
    with pytest.raises(ValidationError) as raised:
        parse_tags("ok=1\nnope\n=x\nok=2")
    assert raised.value.messages == [
        "Line 2 (“nope”) is not key=value.",
        "Line 3 (“=x”) is not key=value.",
        "Line 4: the tag “ok” is given twice.",
    ]


def test_tags_written_out_read_back_the_same():
    tags = {"b": "2", "a": "x=y"}
    assert parse_tags(format_tags(tags)) == tags


# --- service errors back on the form --------------------------------------------------------------


def test_a_service_error_about_a_field_lands_on_that_field_and_a_list_above_the_form(role):
    form = PolicyForm({"name": "Logs", "document": json.dumps(POLICY)}, role=role)
    assert form.is_valid()
    add_service_error(form, ValidationError({"name": ["Bad name."], "__all__": ["Bad state."]}))
    add_service_error(form, ValidationError(["Too many groups.", "Too large."]))
    assert form.errors["name"] == ["Bad name."]
    assert form.non_field_errors() == ["Bad state.", "Too many groups.", "Too large."]


def test_a_service_error_about_a_field_the_form_lacks_is_shown_above_the_form_with_its_name(role):
    form = PolicyForm({"name": "Logs", "document": json.dumps(POLICY)}, role=role)
    assert form.is_valid()
    add_service_error(form, ValidationError({"external_id": ["Must be set."]}))
    assert form.non_field_errors() == ["External id: Must be set."]
