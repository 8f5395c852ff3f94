"""Bad input to every form of the console: a clear message, nothing changed, never a server error.

Every POST form gets, in each of its text fields, a NUL (PostgreSQL cannot store one), an escape
sequence, a megabyte and five thousand digits; then wrong types, empty bodies, repeated fields, bodies
that are not a form, requests too large to read, and markup that must come back escaped on every page.
The console's own tests of each form (tests/test_*_views.py, test_roles_forms.py) cover the domain
rules; this module covers what no form should let through.
"""
import json
from dataclasses import dataclass

import pytest
from django import forms
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import AssumableAccount
from audit.models import AuditEvent
from memberships.models import IAMUser, Membership
from memberships.selectors import pair_value
from plans.models import Job, Plan
from roles.models import InlinePolicy, RoleDefinition
from tests.factories import (
    READ_ONLY,
    AccountFactory,
    IAMUserFactory,
    MasterAccountFactory,
    MembershipFactory,
    PolicyFactory,
    RoleFactory,
    role_form_data,
)
from tests.state import desired_state

pytestmark = pytest.mark.django_db

# Signing in to try a form is recorded in the audit history too; it is no change.
SIGNING_IN = (AuditEvent.Action.LOGIN, AuditEvent.Action.LOGIN_FAILED, AuditEvent.Action.LOGOUT)
MARKUP = '<script>alert("owned")</script><img src=x onerror=alert(1)>'
ESCAPED_MARKUP = "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


# ---- the world every form is tried against ----------------------------------------------------


@dataclass
class World:
    prod: AssumableAccount
    dev: AssumableAccount
    admin_role: RoleDefinition
    policy: InlinePolicy
    alice: IAMUser
    bob: IAMUser
    grant: Membership
    plan: Plan


@pytest.fixture
def world(people) -> World:
    MasterAccountFactory()
    prod = AccountFactory(name="prod", account_id="222222222222", profile="prod")
    dev = AccountFactory(name="dev", account_id="333333333333", profile="dev")
    admin_role = RoleFactory(logical_name="Admin")
    policy = PolicyFactory(role=admin_role, name="S3Read")
    alice, bob = IAMUserFactory(user_name="alice"), IAMUserFactory(user_name="bob")
    grant = MembershipFactory(iam_user=alice, account=prod, role=admin_role, reason="on call")
    plan = Plan.objects.create(
        status=Plan.Status.PENDING, requested_by=people.editor, requested_by_name="eddie", editors=["eddie"],
        summary={"add": 1, "change": 0, "remove": 0}, accounts=[], master={}, blocks=[], warnings=[],
    )
    Job.objects.create(kind=Job.Kind.PLAN, plan=plan, status=Job.Status.SUCCEEDED, requested_by_name="eddie")
    return World(prod, dev, admin_role, policy, alice, bob, grant, plan)


def everything() -> dict:
    """Every row a form could change, and how long the audit history is."""
    return {
        **desired_state(),
        "iam_users": list(IAMUser.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "console_users": list(User.objects.order_by("pk").values("username", "email", "is_active", "password")),
        "console_groups": list(User.groups.through.objects.order_by("pk").values_list("user_id", "group_id")),
        "plans": list(Plan.objects.order_by("pk").values("pk", "status", "decided_by_name", "decision_comment")),
        "jobs": Job.objects.count(),
        "audit": AuditEvent.objects.exclude(action__in=SIGNING_IN).count(),
    }


@dataclass
class FormCase:
    who: str  # attribute of ``people``
    url: object  # World -> str
    data: object  # World -> a valid form body
    text_fields: tuple  # fields whose value is text (booleans and passwords take anything)
    refused_status: int = 200  # the form shown again with its errors
    accepted_status: int = 302


DOCUMENT = json.dumps(READ_ONLY, indent=2)

FORMS = {
    "account create": FormCase(
        "editor",
        lambda w: reverse("accounts:create"),
        lambda w: {"name": "staging", "account_id": "444444444444", "description": "Staging", "profile": "staging",
                   "role_arn": "", "external_id": "", "enabled": "on", "reason": "new account"},
        ("name", "account_id", "description", "profile", "role_arn", "external_id", "reason"),
    ),
    "account edit": FormCase(
        "editor",
        lambda w: reverse("accounts:edit", args=[w.prod.pk]),
        lambda w: {"name": "prod", "account_id": "222222222222", "description": "Production", "profile": "prod",
                   "role_arn": "", "external_id": "", "enabled": "on", "reason": "describe it"},
        ("name", "account_id", "description", "profile", "role_arn", "external_id", "reason"),
    ),
    "account delete": FormCase(
        "editor", lambda w: reverse("accounts:delete", args=[w.dev.pk]), lambda w: {"reason": "closed"}, ("reason",)
    ),
    "master account": FormCase(
        "editor",
        lambda w: reverse("accounts:master_edit"),
        lambda w: {"account_id": "111111111111", "profile": "master", "region": "eu-west-1", "stack_name": "RoleModel",
                   "group_quota": "300", "reason": "moved"},
        ("account_id", "profile", "region", "stack_name", "group_quota", "reason"),
    ),
    "role create": FormCase(
        "editor",
        lambda w: reverse("roles:create"),
        lambda w: role_form_data(logical_name="ReadOnly", description="Read only", tags="team=security",
                                 managed_policy_arns="arn:aws:iam::aws:policy/ReadOnlyAccess", reason="auditors"),
        ("logical_name", "role_name", "path", "description", "max_session_duration", "permissions_boundary_arn",
         "managed_policy_arns", "tags", "accounts", "reason"),
    ),
    "role edit": FormCase(
        "editor",
        lambda w: reverse("roles:edit", args=[w.admin_role.pk]),
        lambda w: {"logical_name": "Admin", "role_name": "", "path": "/", "description": "Everything",
                   "require_mfa": "on", "max_session_duration": "7200", "permissions_boundary_arn": "",
                   "managed_policy_arns": "", "tags": "", "applies_to_all_accounts": "on", "reason": "longer"},
        ("logical_name", "role_name", "path", "description", "max_session_duration", "permissions_boundary_arn",
         "managed_policy_arns", "tags", "accounts", "reason"),
    ),
    "role delete": FormCase(
        "editor", lambda w: reverse("roles:delete", args=[w.admin_role.pk]), lambda w: {"reason": "unused"}, ("reason",)
    ),
    "policy create": FormCase(
        "editor",
        lambda w: reverse("roles:policy_create", args=[w.admin_role.pk]),
        lambda w: {"name": "S3Write", "document": DOCUMENT, "reason": "uploads"},
        ("name", "document", "reason"),
    ),
    "policy edit": FormCase(
        "editor",
        lambda w: reverse("roles:policy_edit", args=[w.admin_role.pk, w.policy.pk]),
        lambda w: {"name": "S3ReadAll", "document": DOCUMENT, "reason": "rename"},
        ("name", "document", "reason"),
    ),
    "policy delete": FormCase(
        "editor",
        lambda w: reverse("roles:policy_delete", args=[w.admin_role.pk, w.policy.pk]),
        lambda w: {"reason": "unused"},
        ("reason",),
    ),
    "membership grant": FormCase(
        "editor",
        lambda w: reverse("memberships:add"),
        lambda w: {"users": "bob", "groups": [pair_value(w.dev, w.admin_role)], "reason": "on call",
                   "expires_at": ""},
        ("users", "groups", "reason", "expires_at"),
    ),
    "membership remove": FormCase(
        "editor",
        lambda w: reverse("memberships:remove", args=[w.grant.pk]),
        lambda w: {"reason": "left the team"},
        ("reason",),
        refused_status=302,  # back to the list, with the reason it was refused
    ),
    "IAM user create": FormCase(
        "editor",
        lambda w: reverse("memberships:iam_user_create"),
        lambda w: {"user_name": "carol", "display_name": "Carol", "email": "carol@example.com", "reason": "joined"},
        ("user_name", "display_name", "email", "reason"),
    ),
    "IAM user edit": FormCase(
        "editor",
        lambda w: reverse("memberships:iam_user_edit", args=[w.bob.pk]),
        lambda w: {"user_name": "bob", "display_name": "Bob", "email": "bob@example.com", "reason": "name"},
        ("user_name", "display_name", "email", "reason"),
    ),
    "IAM user delete": FormCase(
        "editor",
        lambda w: reverse("memberships:iam_user_delete", args=[w.bob.pk]),
        lambda w: {"reason": "left"},
        ("reason",),
        refused_status=302,
    ),
    "console user create": FormCase(
        "admin",
        lambda w: reverse("console:console_user_create"),
        lambda w: {"username": "victor", "email": "victor@example.com", "groups": ["Viewer"],
                   "password": "a long enough passphrase", "is_active": "on"},
        ("username", "email", "groups"),
    ),
    "console user edit": FormCase(
        "admin",
        lambda w: reverse("console:console_user_edit", args=[User.objects.get(username="vera").pk]),
        lambda w: {"username": "vera", "email": "vera@example.org", "groups": ["Viewer"], "password": "",
                   "is_active": "on"},
        ("username", "email", "groups"),
    ),
    "plan approve": FormCase(
        "approver",
        lambda w: reverse("plans:approve", args=[w.plan.pk]),
        lambda w: {"comment": "looks right"},
        ("comment",),
        refused_status=400,
    ),
    "plan reject": FormCase(
        "approver",
        lambda w: reverse("plans:reject", args=[w.plan.pk]),
        lambda w: {"comment": "not now"},
        ("comment",),
        refused_status=400,
    ),
}

# A value that no text field of the console may accept, whatever the field means.
HOSTILE = {
    "a NUL": "ab\x00cd",
    "an escape sequence": "ab\x1b[2Jcd",
    "a bell and a backspace": "ab\x07\x08cd",
    "a C1 control character": "ab\x85cd",
    "a megabyte": "x" * 1_000_000,
    "five thousand digits": "9" * 5_000,
}


def bound_forms(response) -> list:
    if response.context is None:
        return []
    contexts = response.context if isinstance(response.context, list) else [response.context]
    found = []
    for context in contexts:
        for value in context.flatten().values():
            if isinstance(value, forms.BaseForm) and value.is_bound and value not in found:
                found.append(value)
    return found


def errors_of(response) -> dict:
    errors = {}
    for form in bound_forms(response):
        for field, messages in form.errors.items():
            errors.setdefault(field, []).extend(messages)
    return errors


def flashed(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def post(client, case: FormCase, world: World, data: dict):
    response = client.post(case.url(world), data)
    assert response.status_code != 500
    return response


@pytest.fixture
def client_as(client_for, people):
    def login(who: str):
        client = client_for(getattr(people, who))
        client.raise_request_exception = False  # a server error must show as a 500 to the assertions
        return client

    return login


# ---- the valid bodies are accepted (so the refusals below are about the bad value) -----------


@pytest.mark.parametrize("name", list(FORMS))
def test_each_forms_valid_body_is_accepted(world, client_as, name):
    case = FORMS[name]
    before = everything()

    response = post(client_as(case.who), case, world, case.data(world))

    assert response.status_code == case.accepted_status, errors_of(response) or flashed(response)
    assert everything() != before


# ---- hostile values in every text field ----------------------------------------------------


@pytest.mark.parametrize("hostile", list(HOSTILE))
@pytest.mark.parametrize("name", list(FORMS))
def test_no_text_field_accepts_control_characters_or_oversized_values(world, client_as, name, hostile):
    case = FORMS[name]
    client = client_as(case.who)
    for field in case.text_fields:
        before = everything()
        data = case.data(world)
        data[field] = [HOSTILE[hostile]] if isinstance(data.get(field), list) else HOSTILE[hostile]

        response = post(client, case, world, data)

        assert response.status_code == case.refused_status, (field, response.status_code)
        if case.refused_status == 302:
            assert "Nothing was removed" in flashed(response), field
        else:
            assert errors_of(response), field
        assert everything() == before, field


@pytest.mark.parametrize("name", list(FORMS))
def test_a_field_given_twice_is_read_as_one_value_and_the_bad_one_is_refused(world, client_as, name):
    case = FORMS[name]
    field = case.text_fields[0]
    data = case.data(world)
    good = data[field] if isinstance(data[field], list) else [data[field]]
    data[field] = good + ["ab\x1bcd"]
    before = everything()

    response = post(client_as(case.who), case, world, data)

    assert response.status_code == case.refused_status
    assert everything() == before


@pytest.mark.parametrize(
    "name", [name for name, case in FORMS.items() if name not in ("policy delete", "membership remove",
                                                                   "IAM user delete", "plan approve")]
)
@pytest.mark.parametrize("body", ["empty", "blank", "json"])
def test_an_empty_or_unreadable_body_is_refused_with_the_required_fields_named(world, client_as, name, body):
    """The forms whose fields are all optional (a delete's reason, an approval's comment) are left out."""
    case = FORMS[name]
    client = client_as(case.who)
    before = everything()
    if body == "json":  # a JSON body is not a form: request.POST stays empty
        response = client.post(case.url(world), json.dumps(case.data(world)), content_type="application/json")
    else:
        blank = {field: "   " for field in case.text_fields} if body == "blank" else {}
        response = client.post(case.url(world), blank)

    assert response.status_code == case.refused_status
    assert any("required" in message or "Say why" in message or "Choose" in message
               for messages in errors_of(response).values() for message in messages), errors_of(response)
    assert everything() == before


# ---- wrong types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, field, value, message",
    [
        ("master account", "group_quota", "many", "Enter a whole number."),
        ("master account", "group_quota", "1.5", "Enter a whole number."),
        ("master account", "group_quota", "1e3", "Enter a whole number."),
        ("master account", "group_quota", "-1", "between 1 and 500"),
        ("master account", "group_quota", "0", "between 1 and 500"),
        ("master account", "group_quota", "99999999999999999999", "between 1 and 500"),
        ("role create", "max_session_duration", "1h", "Enter a whole number."),
        ("role create", "max_session_duration", "", "This field is required."),
        ("role create", "max_session_duration", "-3600", "between 3600 and 43200"),
        ("role create", "max_session_duration", "99999999999999999999", "between 3600 and 43200"),
        ("role create", "accounts", ["abc"], "“abc” is not a valid value."),
        ("role create", "accounts", ["99999999999999999999"], "99999999999999999999 is not one of the available"),
        ("role create", "accounts", ["-1"], "-1 is not one of the available choices"),
        ("membership grant", "users", ["99999999999999999999"], "No IAM user is named “99999999999999999999”"),
        ("membership grant", "users", ["1.5"], "No IAM user is named “1.5”"),
        ("membership grant", "groups", ["99999999999999999999:1"], "is not a group of this console"),
        ("membership grant", "groups", ["1:2:3"], "is not a group of this console"),
        ("membership grant", "expires_at", "tomorrow", "Enter a valid date/time."),
        ("membership grant", "expires_at", "2030-13-45T99:99", "Enter a valid date/time."),
        ("membership grant", "expires_at", "0001-01-01T00:00", "The expiry must be in the future."),
        ("membership grant", "expires_at", "99999-01-01T00:00", "Enter a valid date/time."),
        ("console user create", "groups", ["Root"], "Root is not one of the available choices"),
        ("IAM user create", "email", "carol@", "Enter a valid email address."),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_on_its_field(world, client_as, name, field, value, message):
    case = FORMS[name]
    data = case.data(world)
    data[field] = value
    if field == "accounts":
        data["applies_to_all_accounts"] = ""
    before = everything()

    response = post(client_as(case.who), case, world, data)

    assert response.status_code == case.refused_status
    assert message in " ".join(errors_of(response).get(field, [])), errors_of(response)
    assert everything() == before


# ---- control characters: refused in names, line breaks allowed in reasons ----------------------


def test_a_name_with_a_line_break_inside_is_refused_naming_the_character(world, client_as):
    case = FORMS["IAM user create"]
    data = {**case.data(world), "display_name": "Carol\nOps"}

    response = post(client_as("editor"), case, world, data)

    message = " ".join(errors_of(response)["display_name"])
    assert "contains the control character U+000A (line break); remove it" in message
    assert not IAMUser.objects.filter(user_name="carol").exists()


def test_a_control_character_is_named_by_its_code_not_printed(world, client_as):
    case = FORMS["account create"]
    response = post(client_as("editor"), case, world, {**case.data(world), "description": "prod\x1b[31m\x00"})

    message = " ".join(errors_of(response)["description"])
    assert "This text contains the control characters U+001B (escape), U+0000 (NUL); remove them" in message
    assert "\x1b" not in message


def test_a_reason_keeps_its_line_breaks_and_tabs(world, client_as):
    case = FORMS["account create"]
    reason = "Line one\r\n\tindented line two"

    response = post(client_as("editor"), case, world, {**case.data(world), "reason": reason})

    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="account", action="create")
    assert event.reason == reason


@pytest.mark.parametrize(
    "escape, character",
    [("\\u0000", "U+0000 (NUL)"), ("\\ud800", "U+D800 (unpaired surrogate)"), ("\\u001b", "U+001B (escape)")],
)
@pytest.mark.parametrize("name", ["policy create", "policy edit"])
def test_a_json_escape_for_a_control_character_in_a_policy_is_refused(world, client_as, name, escape, character):
    """``\\u0000`` is valid JSON, but PostgreSQL's jsonb cannot store it: the form must refuse it first."""
    case = FORMS[name]
    document = DOCUMENT.replace('"s3:Get*"', f'"s3:Get{escape}*"')
    before = everything()

    response = post(client_as("editor"), case, world, {**case.data(world), "document": document})

    message = " ".join(errors_of(response)["document"])
    assert f"The policy document at Statement → 1 → Action → 1 contains the control character {character}" in message
    assert everything() == before


def test_a_control_character_in_a_policy_key_is_refused(world, client_as):
    case = FORMS["policy create"]
    document = DOCUMENT.replace('"Resource"', '"Resource\\u0000"')

    response = post(client_as("editor"), case, world, {**case.data(world), "document": document})

    message = " ".join(errors_of(response)["document"])
    assert "The policy document, a key under Statement → 1, contains the control character U+0000" in message


# ---- oversized values ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["policy create", "policy edit"])
def test_a_one_megabyte_policy_is_refused_as_too_large_and_the_old_one_kept(world, client_as, name):
    case = FORMS[name]
    statement = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement] * 20_000})
    assert len(document) > 1_000_000
    before = everything()

    response = post(client_as("editor"), case, world, {**case.data(world), "document": document})

    assert response.status_code == 200
    message = " ".join(errors_of(response)["document"])
    assert f"The policy document is {len(document):,} characters long" in message
    assert "no IAM policy can be larger than 10,240 characters" in message
    assert everything() == before


def test_a_policy_nested_too_deeply_or_with_an_endless_number_is_refused(world, client_as):
    case = FORMS["policy create"]
    client = client_as("editor")
    nested = DOCUMENT.replace('"Resource": "*"', '"Resource": "*", "Condition": ' + "[" * 30_000 + "]" * 30_000)
    endless = DOCUMENT.replace('"Resource": "*"', '"Resource": "*", "Condition": ' + "9" * 5_000)
    before = everything()

    nested_errors = errors_of(post(client, case, world, {**case.data(world), "document": nested}))
    endless_errors = errors_of(post(client, case, world, {**case.data(world), "document": endless}))

    assert nested_errors["document"] == ["The policy document is nested too deeply to be a policy."]
    assert endless_errors["document"] == ["The policy document holds a number with more digits than any policy needs."]
    assert everything() == before


@pytest.mark.parametrize(
    "name, field, length, message",
    [
        ("account create", "name", 127, "at most 126"),
        ("account create", "description", 301, "at most 300 characters (it has 301)"),
        ("account create", "profile", 129, "at most 128 characters (it has 129)"),
        ("account create", "reason", 2001, "at most 2000 characters (it has 2001)"),
        ("master account", "region", 33, "at most 32 characters (it has 33)"),
        ("role create", "description", 1001, "at most 1000 characters (it has 1001)"),
        ("role create", "role_name", 65, "IAM allows at most 64"),
        ("policy create", "name", 129, "IAM allows at most 128"),
        ("membership grant", "reason", 501, "at most 500 characters (it has 501)"),
        ("IAM user create", "user_name", 65, "at most 64 characters (it has 65)"),
        ("IAM user create", "display_name", 201, "at most 200 characters (it has 201)"),
        ("console user create", "username", 151, "at most 150 characters (it has 151)"),
        ("plan reject", "comment", 2001, "at most 2000 characters (it has 2001)"),
    ],
)
def test_one_character_over_a_fields_limit_is_refused(world, client_as, name, field, length, message):
    case = FORMS[name]
    before = everything()

    response = post(client_as(case.who), case, world, {**case.data(world), field: "a" * length})

    assert response.status_code == case.refused_status
    assert message in " ".join(errors_of(response).get(field, []) + errors_of(response).get("__all__", []))
    assert everything() == before


def test_a_thousand_tag_or_arn_lines_get_one_message_not_a_thousand(world, client_as):
    case = FORMS["role create"]
    client = client_as("editor")
    tags = "\n".join(f"not a tag {n}" for n in range(1000))
    arns = "\n".join(f"not an arn {n}" for n in range(1000))

    tag_errors = errors_of(post(client, case, world, {**case.data(world), "tags": tags}))["tags"]
    arn_errors = errors_of(post(client, case, world, {**case.data(world), "managed_policy_arns": arns}))

    assert tag_errors == ["A role can carry at most 50 tags; this has 1000."]
    assert arn_errors["managed_policy_arns"] == [
        "A role can have at most 10 managed policies by default; this has 1000."
    ]


# ---- requests too large or too odd to read ---------------------------------------------------------


@pytest.mark.parametrize("name", ["account create", "policy create", "membership grant", "plan reject"])
def test_a_ten_megabyte_request_gets_a_clear_400_page_and_saves_nothing(world, client_as, name):
    case = FORMS[name]
    data = case.data(world)
    data[case.text_fields[-1] if name != "policy create" else "document"] = "x" * (10 * 1024 * 1024)
    before = everything()

    response = client_as(case.who).post(case.url(world), data)

    assert response.status_code == 400
    page = response.content.decode()
    assert "The console could not accept this request" in page
    assert "it was too large" in page and "Nothing was saved." in page
    assert "Traceback" not in page
    assert everything() == before


def test_more_fields_than_allowed_get_the_400_page(world, client_as):
    case = FORMS["account create"]
    data = {**case.data(world), **{f"extra{n}": "1" for n in range(2_100)}}

    response = client_as("editor").post(case.url(world), data)

    assert response.status_code == 400
    assert "had too many" in response.content.decode()
    assert not AssumableAccount.objects.filter(name="staging").exists()


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data", b"no boundary at all"),
        ("multipart/form-data; boundary=", b"--\r\n"),
        ("application/x-www-form-urlencoded; charset=utf-16", "name=staging&profile=staging".encode("utf-16")),
    ],
)
def test_a_body_that_cannot_be_parsed_gets_the_400_page(world, client_as, content_type, body):
    before = everything()

    response = client_as("editor").generic("POST", reverse("accounts:create"), body, content_type=content_type)

    assert response.status_code == 400
    assert "could not be understood" in response.content.decode()
    assert everything() == before


def test_bytes_that_are_not_utf8_become_replacement_characters_and_names_are_refused(world, client_as):
    body = b"name=st%FFaging&profile=staging&reason=caf%E9+\xff"

    response = client_as("editor").generic(
        "POST", reverse("accounts:create"), body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "contains '\ufffd'" in " ".join(errors_of(response)["name"])
    assert not AssumableAccount.objects.filter(name__startswith="st").exists()


def test_a_reason_with_bytes_that_are_not_utf8_is_kept_with_replacement_characters(world, client_as):
    body = b"name=staging&profile=staging&reason=caf%E9"

    response = client_as("editor").generic(
        "POST", reverse("accounts:create"), body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 302
    assert AuditEvent.objects.get(object_type="account", action="create").reason == "caf\ufffd"


def test_a_login_form_with_hostile_values_answers_with_the_form(world, client):
    client.raise_request_exception = False
    for value in HOSTILE.values():
        response = client.post(reverse("login"), {"username": value, "password": value})
        assert response.status_code == 200
        assert response.context["form"].errors


# ---- markup is text: stored as typed, escaped on every page ----------------------------------------


@pytest.mark.parametrize(
    "name, field",
    [
        ("account create", "name"),
        ("role create", "logical_name"),
        ("role create", "path"),
        ("policy create", "name"),
        ("IAM user create", "user_name"),
        ("console user create", "username"),
    ],
)
def test_markup_in_a_name_is_refused_and_the_message_that_repeats_it_is_escaped(world, client_as, name, field):
    case = FORMS[name]
    before = everything()

    response = post(client_as(case.who), case, world, {**case.data(world), field: MARKUP})

    assert response.status_code == 200
    assert errors_of(response)[field]
    html = response.content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert everything() == before


@pytest.fixture
def marked_up(world, client_as) -> World:
    """Markup in every free-text field, entered through the forms as people would."""
    client = client_as("editor")
    forms_and_markup = [
        ("account edit", {"description": MARKUP[:300], "reason": MARKUP}),
        ("role edit", {"description": MARKUP, "tags": f"owner={MARKUP[:200]}", "reason": MARKUP}),
        ("policy edit", {"document": DOCUMENT.replace('"s3:Get*"', json.dumps(MARKUP)), "reason": MARKUP}),
        ("IAM user edit", {"display_name": MARKUP[:200], "reason": MARKUP}),
        ("membership grant", {"reason": MARKUP}),
    ]
    for name, markup in forms_and_markup:
        case = FORMS[name]
        response = post(client, case, world, {**case.data(world), **markup})
        assert response.status_code == 302, (name, errors_of(response))
    role = RoleDefinition.objects.get(pk=world.admin_role.pk)
    assert role.description == MARKUP and role.tags == {"owner": MARKUP[:200]}
    return world


def pages_showing_markup(w: World) -> list[str]:
    return [
        reverse("accounts:list"),
        reverse("accounts:detail", args=[w.prod.pk]),
        reverse("accounts:detail", args=[w.prod.pk]) + "?tab=history",
        reverse("roles:detail", args=[w.admin_role.pk]),
        reverse("roles:detail", args=[w.admin_role.pk]) + "?tab=history",
        reverse("memberships:list"),
        reverse("memberships:iam_user_list"),
        reverse("memberships:iam_user_detail", args=[w.bob.pk]),
        reverse("memberships:iam_user_detail", args=[w.bob.pk]) + "?tab=history",
        reverse("audit:list"),
    ]


def pages_without_free_text(w: World) -> list[str]:
    return [
        reverse("roles:list"),
        reverse("roles:detail", args=[w.admin_role.pk]) + "?tab=cloudformation",
        reverse("memberships:matrix"),
        reverse("roles:policy_edit", args=[w.admin_role.pk, w.policy.pk]),
        reverse("accounts:edit", args=[w.prod.pk]),
        reverse("roles:edit", args=[w.admin_role.pk]),
        reverse("memberships:iam_user_edit", args=[w.bob.pk]),
        reverse("plans:detail", args=[w.plan.pk]),
        reverse("console:dashboard"),
    ]


def test_markup_in_free_text_is_escaped_on_every_page_that_shows_it(marked_up, client_as):
    client = client_as("viewer")
    for url in pages_showing_markup(marked_up):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(" in html, url


def test_markup_is_escaped_on_the_pages_that_only_edit_or_summarise_it(marked_up, client_as):
    client = client_as("admin")
    for url in pages_without_free_text(marked_up):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url


def test_markup_comes_back_exactly_as_typed_in_the_exports(marked_up, client_as):
    response = client_as("viewer").get(reverse("audit:export") + "?format=json")
    rows = json.loads(b"".join(response.streaming_content))
    assert MARKUP in {row["reason"] for row in rows}
