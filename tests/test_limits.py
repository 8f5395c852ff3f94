"""The AWS limits the console checks while editing, one function at a time."""
import pytest
from django.core.exceptions import ValidationError

from core import limits

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def refusal(check, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        check(*args, **kwargs)
    return raised.value


# --- names and ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["prod", "Admin+Ops", "a=b,c.d@e_f-g", "x" * 64])
def test_an_iam_name_of_allowed_characters_and_length_passes(name):
    limits.validate_iam_name(name, kind="role", max_length=64)


def test_an_iam_name_names_the_characters_it_may_not_contain():
    error = refusal(limits.validate_iam_name, "ops team/eu", kind="role", max_length=64)
    assert error.code == "invalid_characters"
    assert "' ', '/'" in error.messages[0]


def test_an_iam_name_one_character_too_long_is_refused_with_its_length():
    error = refusal(limits.validate_iam_name, "x" * 65, kind="role", max_length=64)
    assert error.code == "too_long"
    assert "is 65 characters long; IAM allows at most 64" in error.messages[0]


def test_an_empty_iam_name_is_refused():
    assert refusal(limits.validate_iam_name, "", kind="policy", max_length=128).code == "empty"


@pytest.mark.parametrize("account_id", ["123456789012", "000000000000"])
def test_a_twelve_digit_account_id_passes(account_id):
    limits.validate_account_id(account_id)


@pytest.mark.parametrize("account_id", ["12345678901", "1234567890123", "12345678901a", "", " 123456789012", "１２３４５６７８９０１２"])
def test_anything_but_twelve_ascii_digits_is_not_an_account_id(account_id):
    assert "exactly 12 digits" in refusal(limits.validate_account_id, account_id).messages[0]


def test_a_logical_id_is_letters_and_digits_only():
    limits.validate_logical_id("ReadOnly2")
    assert refusal(limits.validate_logical_id, "Read_Only").code == "logical_id"
    assert refusal(limits.validate_logical_id, "").code == "empty"
    limits.validate_logical_id("A" * 255)
    assert refusal(limits.validate_logical_id, "A" * 256).code == "too_long"


@pytest.mark.parametrize("path", ["/", "/team/", "/team/sub-team/"])
def test_an_iam_path_that_starts_and_ends_with_a_slash_passes(path):
    limits.validate_iam_path(path)


@pytest.mark.parametrize("path", ["", "team", "/team", "team/", "/te am/", "/" + "p" * 511 + "/"])
def test_a_malformed_or_overlong_iam_path_is_refused(path):
    assert refusal(limits.validate_iam_path, path).code == "path"


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:iam::123456789012:role/Access", "arn:aws:iam::123456789012:role/path/Access", "arn:aws-cn:iam::123456789012:role/A"],
)
def test_a_role_arn_passes(arn):
    limits.validate_role_arn(arn)


@pytest.mark.parametrize(
    "arn",
    ["", "arn:aws:iam::12345:role/A", "arn:aws:iam::123456789012:user/A", "arn:aws:iam::123456789012:role/", "arn:aws:s3:::b"],
)
def test_anything_else_is_not_a_role_arn(arn):
    assert refusal(limits.validate_role_arn, arn).code == "role_arn"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        "arn:aws:iam::123456789012:policy/Mine",
    ],
)
def test_aws_managed_and_customer_policy_arns_pass(arn):
    limits.validate_policy_arn(arn)


@pytest.mark.parametrize(
    "arn", ["ReadOnlyAccess", "arn:aws:iam::aws:role/X", "arn:aws:iam::1234:policy/X", "arn:aws:iam::aws:policy/"]
)
def test_anything_else_is_not_a_policy_arn(arn):
    assert refusal(limits.validate_policy_arn, arn).code == "policy_arn"


@pytest.mark.parametrize("seconds", [3600, 7200, 43200])
def test_a_session_of_one_to_twelve_hours_passes(seconds):
    limits.validate_session_duration(seconds)


@pytest.mark.parametrize("seconds", [3599, 43201, 0, None])
def test_a_session_outside_one_to_twelve_hours_is_refused(seconds):
    assert "between 3600 and 43200 seconds" in refusal(limits.validate_session_duration, seconds).messages[0]


# --- group names ---------------------------------------------------------------------------------


def test_a_group_is_named_account_dot_role_as_in_the_original_tool():
    assert limits.group_name("prod", "Admin") == "prod.Admin"


def test_a_group_name_of_exactly_128_characters_passes_and_129_does_not():
    limits.validate_group_name("a" * 63, "R" * 64)
    error = refusal(limits.validate_group_name, "a" * 64, "R" * 64)
    assert error.code == "group_name_too_long"
    assert "would be 129 characters" in error.messages[0]


def test_the_longest_account_name_leaves_room_for_a_dot_and_a_one_letter_role():
    limits.validate_group_name("a" * limits.ACCOUNT_NAME_MAX, "R")


# --- policies ------------------------------------------------------------------------------------


def test_policy_size_counts_the_json_without_whitespace():
    compact = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    assert limits.policy_size(POLICY) == len(compact)


def test_policy_size_counts_characters_not_bytes():
    document = {"Version": "2012-10-17", "Statement": [{"Sid": "é", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
    compact = '{"Version":"2012-10-17","Statement":[{"Sid":"é","Effect":"Allow","Action":"*","Resource":"*"}]}'
    assert limits.policy_size(document) == len(compact)


def test_a_policy_typed_with_any_layout_parses():
    text = '{\n\t"Version" : "2012-10-17",\n  "Statement": {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}\n}\n'
    assert limits.parse_policy_text(text)["Statement"]["Effect"] == "Deny"


def test_a_json_error_names_its_line_and_column():
    error = refusal(limits.parse_policy_text, '{\n  "Version": "2012-10-17"\n  "Statement": []\n}')
    assert error.code == "json"
    assert error.params == {"line": 3, "column": 3}
    assert error.messages == ["The policy is not valid JSON: Expecting ',' delimiter at line 3, column 3."]


def test_the_label_names_the_document_in_every_message():
    message = refusal(limits.parse_policy_text, "[", label="The trust policy").messages[0]
    assert message.startswith("The trust policy is not valid JSON")


@pytest.mark.parametrize("text", ["", "   \n", None])
def test_an_empty_policy_text_is_refused(text):
    assert refusal(limits.parse_policy_text, text).code == "empty"


def test_a_huge_policy_text_is_refused_before_parsing():
    assert refusal(limits.parse_policy_text, "{" + " " * limits.POLICY_TEXT_MAX).code == "too_long"


@pytest.mark.parametrize(
    "document, code",
    [
        ([], "shape"),
        ({"Version": "2012-10-17"}, "shape"),
        ({"Statement": []}, "shape"),
        ({"Version": "2011-01-01", "Statement": [{}]}, "version"),
        ({"Version": "2012-10-17", "Statement": "Allow"}, "shape"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "*"}]}, "effect"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}, "action"),
    ],
)
def test_a_document_without_version_statement_effect_or_action_is_refused(document, code):
    assert refusal(limits.validate_policy_document, document).code == code


def test_the_2008_policy_version_is_still_accepted():
    limits.validate_policy_document({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]})


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:*", "*"], "Resource": ["*"]},
        {"Effect": "Allow", "Action": "*"},
    ],
)
def test_allow_everything_on_everything_is_recognised(statement):
    assert limits.allows_everything({"Version": "2012-10-17", "Statement": statement})


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ],
)
def test_narrower_statements_are_not_allow_everything(statement):
    assert not limits.allows_everything({"Version": "2012-10-17", "Statement": [statement]})


def test_allows_everything_tolerates_a_malformed_document():
    assert not limits.allows_everything(["not", "a", "policy"])
    assert not limits.allows_everything({"Statement": ["Allow"]})


# --- tags ----------------------------------------------------------------------------------------


def test_fifty_tags_of_the_longest_keys_and_values_pass():
    limits.validate_tags({f"{n:03d}" + "k" * 125: "v" * 256 for n in range(50)})


@pytest.mark.parametrize(
    "tags, message",
    [
        ({f"k{n}": "v" for n in range(51)}, "at most 50 tags"),
        ({"": "v"}, "1–128 characters"),
        ({"k" * 129: "v"}, "1–128 characters"),
        ({"AWS:owner": "me"}, "reserved prefix"),
        ({"team": "v" * 257}, "at most 256 characters"),
        ({"team": 7}, "text value"),
        (["team=a"], "key/value pairs"),
    ],
)
def test_bad_tags_are_refused(tags, message):
    assert message in refusal(limits.validate_tags, tags).messages[0]
