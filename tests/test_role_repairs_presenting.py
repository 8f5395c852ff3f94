"""Role repairs are named one by one, the same in the CLI, in --json and on the plan page: the write, the
role, what it puts back, that the role was edited in IAM outside CloudFormation, and the diff."""
import json
import re

import pytest
from django.urls import reverse

from cli.workflow import plan_payload
from plans.models import Job, Plan
from tests.test_plan_presenting import account, printed
from tests.test_role_repairs import ADMIN, EVERYTHING, iam_role, repairs_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_with_repairs(people) -> Plan:
    """A plan as the planner stores it: prod's stack unchanged, two of its role's edits to undo."""
    repairs = repairs_for(iam_role(inline={"ReadAccess": iam_role()["inline"]["ReadAccess"], "Extra": EVERYTHING},
                                   managed=[ADMIN]))
    plan = Plan.objects.create(
        status=Plan.Status.PENDING, requested_by=people.editor, requested_by_name="eddie",
        summary={"add": 0, "change": 2, "remove": 0}, desired_state={"kind": "converge", "groups": {}},
        accounts=[account("prod", "none", "UPDATE_COMPLETE", role_repairs=repairs),
                  account("staging", "none", "UPDATE_COMPLETE")],
        master={"groups_create": [], "policies_put": [], "policies_remove": [], "members_add": [],
                "members_remove": [], "groups_remove": []},
    )
    Job.objects.create(kind=Job.Kind.PLAN, plan=plan, status=Job.Status.SUCCEEDED, requested_by_name="eddie")
    return plan


def test_the_cli_names_each_repair(plan_with_repairs):
    lines = printed(plan_with_repairs)

    assert lines[1:5] == [
        "  0 to add, 2 to change, 0 to remove",
        "  prod: 2 role repair(s), roles edited in IAM outside CloudFormation",
        f"    DetachRolePolicy on ReadOnlyRole: Detach managed policy {ADMIN}, which the template does not attach "
        "(edited in IAM outside CloudFormation)",
        "    DeleteRolePolicy on ReadOnlyRole: Delete inline policy Extra, which the template does not have "
        "(edited in IAM outside CloudFormation)",
    ]
    assert not any("staging" in line for line in lines)


def test_json_carries_each_repair_with_live_and_wanted(plan_with_repairs):
    payload = json.loads(json.dumps(plan_payload(plan_with_repairs)))

    assert payload["changes"] == {"add": 0, "change": 2, "remove": 0}
    assert [(r["account"], r["role"], r["operation"], r["subject"], r["kind"]) for r in payload["role_repairs"]] == [
        ("prod", "ReadOnlyRole", "DetachRolePolicy", ADMIN, "role_managed_policy"),
        ("prod", "ReadOnlyRole", "DeleteRolePolicy", "Extra", "role_inline_policy"),
    ]
    extra = payload["role_repairs"][1]
    assert (extra["live"], extra["wanted"], extra["logical_id"]) == (EVERYTHING, None, "ReadOnly")
    assert extra["diff"].startswith("--- ReadOnlyRole Extra (live)\n+++ ReadOnlyRole Extra (planned)")


def test_the_page_shows_each_repair_with_its_diff(client_for, people, plan_with_repairs):
    response = client_for(people.viewer).get(reverse("plans:detail", args=[plan_with_repairs.pk]))
    html = response.content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

    assert response.status_code == 200
    assert "prod — no change (live: UPDATE_COMPLETE) · 2 role repairs" in text
    assert "Roles edited in IAM outside CloudFormation — put back as the template has them" in text
    assert (f"remove DetachRolePolicy on role ReadOnlyRole ReadOnly : Detach managed policy {ADMIN}, which the template "
            "does not attach (edited in IAM outside CloudFormation)") in text
    assert "remove DeleteRolePolicy on role ReadOnlyRole ReadOnly : Delete inline policy Extra" in text
    assert '<span class="diff-remove">-      &quot;Action&quot;: &quot;*&quot;,</span>' in html
    assert text.count("role repair") == 1  # staging has none
    assert html.count('class="code diff"') == 1  # the detached policy's ARN is in its sentence, not in a diff
