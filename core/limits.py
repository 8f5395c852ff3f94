"""AWS limits that AWS (and the fake AWS in tests) only enforce when a call fails.

Each check raises ``django.core.exceptions.ValidationError`` with a message a person can act on;
forms, the importer and the planner all call these same functions.
"""
import json
import re

from django.core.exceptions import ValidationError

from core import safe_json
from core.validators import validate_finite_numbers

IAM_NAME_CHARACTERS = re.compile(r"^[A-Za-z0-9+=,.@_-]+$")
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
LOGICAL_ID = re.compile(r"^[A-Za-z0-9]+$")
IAM_PATH = re.compile(r"^/([\x21-\x7e]+/)?$")
ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}|aws)?:.+$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$")
POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[\w+=,.@/-]+$")

GROUP_PATH = "/RoleModel/"
GROUP_NAME_MAX = 128
ROLE_NAME_MAX = 64
POLICY_NAME_MAX = 128
USER_NAME_MAX = 64
SWITCH_ROLE_PATH_AND_NAME_MAX = 64
ACCOUNT_NAME_MAX = GROUP_NAME_MAX - 2  # leaves room for ".<role>"
LOGICAL_ID_MAX = 255

GROUPS_PER_USER_MAX = 10
GROUPS_PER_ACCOUNT_DEFAULT = 300
GROUPS_PER_ACCOUNT_MAX = 500
ROLE_INLINE_POLICIES_CHARS_MAX = 10_240
GROUP_INLINE_POLICIES_CHARS_MAX = 5_120
TRUST_POLICY_CHARS_MAX = 2_048
MANAGED_POLICIES_PER_ROLE_DEFAULT = 10
MANAGED_POLICIES_PER_ROLE_MAX = 25
MANAGED_POLICIES_PER_GROUP_MAX = 10
SESSION_DURATION_MIN = 3_600
SESSION_DURATION_MAX = 43_200
STACK_RESOURCES_MAX = 500
TEMPLATE_BODY_BYTES_MAX = 51_200
TAGS_PER_ROLE_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256

# A policy document a person pastes is capped well above any legal size so parsing stays cheap.
POLICY_TEXT_MAX = 64 * 1024


def validate_iam_name(value: str, *, kind: str, max_length: int) -> None:
    if not value:
        raise ValidationError(f"The {kind} name is empty.", code="empty")
    if len(value) > max_length:
        raise ValidationError(
            f"The {kind} name “{value[:40]}…” is {len(value)} characters long; IAM allows at most {max_length}.",
            code="too_long",
        )
    if not IAM_NAME_CHARACTERS.match(value):
        bad = sorted({ch for ch in value if not IAM_NAME_CHARACTERS.match(ch)})
        raise ValidationError(
            f"The {kind} name “{value}” contains {', '.join(repr(ch) for ch in bad)}; "
            "IAM names may use only letters, digits and + = , . @ _ -",
            code="invalid_characters",
        )


def validate_account_id(value: str) -> None:
    if not ACCOUNT_ID.match(value or ""):
        raise ValidationError(
            f"“{value}” is not an AWS account id: an account id is exactly 12 digits.", code="account_id"
        )


def validate_logical_id(value: str) -> None:
    if not value:
        raise ValidationError("The role's logical name is empty.", code="empty")
    if len(value) > LOGICAL_ID_MAX:
        raise ValidationError(f"The logical name is longer than {LOGICAL_ID_MAX} characters.", code="too_long")
    if not LOGICAL_ID.match(value):
        raise ValidationError(
            f"“{value}” is not a CloudFormation logical name: use only letters A–Z, a–z and digits 0–9.",
            code="logical_id",
        )


def validate_iam_path(value: str) -> None:
    if len(value) > 512 or not IAM_PATH.match(value):
        raise ValidationError(
            f"“{value}” is not an IAM path: it starts and ends with “/”, e.g. “/” or “/team/”.", code="path"
        )


def validate_role_arn(value: str) -> None:
    if not ROLE_ARN.match(value or ""):
        raise ValidationError(
            f"“{value}” is not an IAM role ARN (arn:aws:iam::123456789012:role/Name).", code="role_arn"
        )


def validate_policy_arn(value: str) -> None:
    if not POLICY_ARN.match(value or ""):
        raise ValidationError(
            f"“{value}” is not an IAM policy ARN (arn:aws:iam::aws:policy/ReadOnlyAccess or "
            "arn:aws:iam::123456789012:policy/Name).",
            code="policy_arn",
        )


def validate_session_duration(seconds: int) -> None:
    if seconds is None or not SESSION_DURATION_MIN <= seconds <= SESSION_DURATION_MAX:
        raise ValidationError(
            f"The maximum session duration must be between {SESSION_DURATION_MIN} and "
            f"{SESSION_DURATION_MAX} seconds (1 to 12 hours); {seconds} is not.",
            code="session_duration",
        )


def group_name(account_name: str, role_logical_name: str) -> str:
    """The master-account IAM group for one (account, role) pair, as the original tool names it."""
    return f"{account_name}.{role_logical_name}"


def group_parts(group: str) -> tuple[str, str]:
    """(account name, role logical name) of a group named by :func:`group_name`. A logical id has no
    dot (it is alphanumeric) but an account name may: split at the last one."""
    account, _, role = group.rpartition(".")
    return account, role


def validate_group_name(account_name: str, role_logical_name: str) -> None:
    name = group_name(account_name, role_logical_name)
    if len(name) > GROUP_NAME_MAX:
        raise ValidationError(
            f"The group “{name[:50]}…” for account “{account_name}” and role “{role_logical_name}” would be "
            f"{len(name)} characters; IAM group names are at most {GROUP_NAME_MAX}. Shorten the account or role name.",
            code="group_name_too_long",
        )


def policy_size(document) -> int:
    """Characters IAM counts for a policy: the JSON without insignificant whitespace."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))


def parse_policy_text(text: str, *, label: str = "The policy") -> dict:
    """Parse a policy document typed by a person; errors name the line and column."""
    if text is None or not text.strip():
        raise ValidationError(f"{label} is empty: paste a JSON policy document.", code="empty")
    if len(text) > POLICY_TEXT_MAX:
        raise ValidationError(
            f"{label} is {len(text):,} characters long; no IAM policy can be larger than "
            f"{ROLE_INLINE_POLICIES_CHARS_MAX:,} characters.",
            code="too_long",
        )
    try:
        document = safe_json.loads(text)
    except safe_json.NonFiniteNumber as error:
        raise ValidationError(f"{label}: {error}", code="non_finite") from None
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"{label} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.",
            code="json",
            params={"line": error.lineno, "column": error.colno},
        ) from None
    except RecursionError:
        raise ValidationError(f"{label} is nested too deeply to be a policy.", code="json") from None
    except ValueError:  # an integer of more than 4,300 digits, which Python refuses to read
        raise ValidationError(f"{label} holds a number with more digits than any policy needs.", code="json") from None
    validate_policy_document(document, label=label)
    return document


def validate_policy_document(document, *, label: str = "The policy") -> None:
    if not isinstance(document, dict):
        raise ValidationError(f"{label} must be a JSON object with “Version” and “Statement”.", code="shape")
    validate_finite_numbers(document, label=label)
    missing = [key for key in ("Version", "Statement") if key not in document]
    if missing:
        raise ValidationError(f"{label} has no “{missing[0]}” key.", code="shape")
    if document["Version"] not in ("2012-10-17", "2008-10-17"):
        raise ValidationError(
            f"{label} has Version “{document['Version']}”; use “2012-10-17”.", code="version"
        )
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ValidationError(f"{label}: “Statement” must be a statement or a non-empty list of them.", code="shape")
    for number, statement in enumerate(statements, start=1):
        if not isinstance(statement, dict):
            raise ValidationError(f"{label}: statement {number} is not a JSON object.", code="shape")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValidationError(f"{label}: statement {number} needs “Effect”: “Allow” or “Deny”.", code="effect")
        if "Action" not in statement and "NotAction" not in statement:
            raise ValidationError(f"{label}: statement {number} has no “Action” or “NotAction”.", code="action")


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def allows_everything(document) -> bool:
    """True when a statement allows every action on every resource (``Allow *`` on ``*``)."""
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in _as_list(statements):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "*" in _as_list(statement.get("Action")) and "*" in _as_list(statement.get("Resource", "*")):
            if not statement.get("Condition"):
                return True
    return False


def validate_tags(tags) -> None:
    if not isinstance(tags, dict):
        raise ValidationError("Tags must be key/value pairs.", code="tags")
    if len(tags) > TAGS_PER_ROLE_MAX:
        raise ValidationError(f"A role can carry at most {TAGS_PER_ROLE_MAX} tags; this has {len(tags)}.", code="tags")
    for key, value in tags.items():
        if not isinstance(key, str) or not key or len(key) > TAG_KEY_MAX:
            raise ValidationError(f"Tag key “{key}” must be 1–{TAG_KEY_MAX} characters.", code="tags")
        if key.lower().startswith("aws:"):
            raise ValidationError(f"Tag key “{key}” uses the reserved prefix “aws:”.", code="tags")
        if not isinstance(value, str) or len(value) > TAG_VALUE_MAX:
            raise ValidationError(f"Tag “{key}” needs a text value of at most {TAG_VALUE_MAX} characters.", code="tags")
