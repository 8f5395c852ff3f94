"""A plan names what it finds and what it will do, the same in the CLI, in --json and on the plan page:
each resource change and whether it is a replacement, each member by user name (marked when AWS has
a member the console does not), each /RoleModel/ group the console does not know, and each stack
whose status is not a plain *_COMPLETE with what the plan does about it."""
import json
import re
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management.base import OutputWrapper
from django.urls import reverse

from audit.services import Actor
from cli.plan import write_plan
from cli.workflow import plan_payload
from plans.models import Job, Plan
from roles.models import InlinePolicy
from roles.services import policy_update
from tests.faults_world import (  # noqa: F401 - fixtures
    ACCOUNTS,
    actions,
    apply_now,
    fault_proxy,
    fault_proxy_server,
    small_world,
)
from tests.workflow import plan_now

pytestmark = pytest.mark.django_db


def resource(logical_id, kind, action, **extra):
    return {"logical_id": logical_id, "type": kind, "action": action, "diff": "", **extra}


def account(name, action, status, resources=(), **extra):
    return {"name": name, "account_id": "", "action": action, "stack_status": status, "resources": list(resources),
            "change_set_id": "", "blocks": [], **extra}


def group(account_name, role):
    return {"account": account_name, "role": role, "members": [], "policy_name": f"{account_name}.{role}-Policy"}


@pytest.fixture
def stored_plan(people) -> Plan:
    """A plan as the planner stores it (no AWS behind it) with one of each thing worth naming."""
    plan = Plan.objects.create(
        status=Plan.Status.PENDING, requested_by=people.editor, requested_by_name="eddie",
        summary={"add": 2, "change": 3, "remove": 4},
        desired_state={"kind": "converge", "groups": {"prod.AdminRole": group("prod", "AdminRole"),
                                                      "cdn.AdminRole": group("cdn", "AdminRole")}},
        accounts=[
            account("prod", "update", "UPDATE_ROLLBACK_COMPLETE", [
                resource("AdminRole", "AWS::IAM::Role", "change", replacement=True),
                resource("AdminRolePolicies", "AWS::IAM::Policy", "change", replacement=False),
                resource("ReadOnlyRole", "AWS::IAM::Role", "change", replacement="Conditional"),
                resource("BillingRole", "AWS::IAM::Role", "add"),
                resource("PowerUserRole", "AWS::IAM::Role", "change"),  # only AWS's change set says
            ], change_set_id="arn:cs", aws_changes=[
                {"action": "Modify", "logical_id": "PowerUserRole", "type": "AWS::IAM::Role", "replacement": "True"},
                {"action": "Modify", "logical_id": "AdminRolePolicies", "type": "AWS::IAM::Policy", "replacement": "True"},
            ]),
            account("cdn", "recreate", "ROLLBACK_COMPLETE", recovering_from="ROLLBACK_COMPLETE"),
            account("staging", "none", "UPDATE_COMPLETE"),
        ],
        master={
            "groups_create": [], "policies_put": [], "policies_remove": [],
            "members_add": [{"group": "prod.AdminRole", "user": "dev.jones", "reason": "release week",
                             "requested_by": "erin"}],
            "members_remove": [
                {"group": "prod.AdminRole", "user": "mallory"},
                {"group": "cdn.AdminRole", "user": "support.lee", "removed_by": "eddie", "reason": "moved teams"},
            ],
            "groups_remove": [{"group": "legacy.OldRole", "members": ["old.timer"], "policies": ["legacy.OldRole-Policy"],
                               "unknown_to_console": True}],
        },
    )
    Job.objects.create(kind=Job.Kind.PLAN, plan=plan, status=Job.Status.SUCCEEDED, requested_by_name="eddie")
    return plan


def printed(plan: Plan) -> list[str]:
    out = StringIO()
    write_plan(SimpleNamespace(stdout=OutputWrapper(out)), plan)
    return out.getvalue().splitlines()


def test_the_cli_names_every_change_member_unknown_group_and_stack(stored_plan):
    lines = printed(stored_plan)

    assert lines[:8] == [
        f"Plan #{stored_plan.pk}: Waiting for approval",
        "  2 to add, 3 to change, 4 to remove",
        "  prod: stack update (5 resource changes)",
        "    change AdminRole (AWS::IAM::Role), replacement: yes",
        "    change AdminRolePolicies (AWS::IAM::Policy), replacement: no",  # the plan's word wins
        "    change ReadOnlyRole (AWS::IAM::Role), replacement: conditional",
        "    add BillingRole (AWS::IAM::Role), replacement: no",
        "    change PowerUserRole (AWS::IAM::Role), replacement: yes",
    ]
    assert "  stack: Stack in prod is UPDATE_ROLLBACK_COMPLETE: its last update failed and was rolled back; it still " \
           "holds the template from before; the plan updates it again (AWS allows an update from " \
           "UPDATE_ROLLBACK_COMPLETE); look at why the last update failed before approving." in lines
    assert any(line.startswith("  stack: Stack in cdn is ROLLBACK_COMPLETE: its creation failed and was rolled back")
               and line.endswith("the plan deletes it and creates it again.") for line in lines)
    assert not any("staging" in line for line in lines)  # UPDATE_COMPLETE and nothing to do: nothing to say
    assert "    add dev.jones to prod.AdminRole" in lines
    assert "    remove mallory from prod.AdminRole (not in the console)" in lines
    assert "    remove support.lee from cdn.AdminRole (removed in the console by eddie: moved teams)" in lines
    assert "    remove group legacy.OldRole (unknown to the console; its members go with it: old.timer)" in lines


def test_json_carries_the_same_names(stored_plan):
    payload = json.loads(json.dumps(plan_payload(stored_plan)))

    assert [(r["account"], r["logical_id"], r["action"], r["replacement"]) for r in payload["resources"]] == [
        ("prod", "AdminRole", "change", "yes"), ("prod", "AdminRolePolicies", "change", "no"),
        ("prod", "ReadOnlyRole", "change", "conditional"), ("prod", "BillingRole", "add", "no"),
        ("prod", "PowerUserRole", "change", "yes"),
    ]
    assert payload["members"]["add"] == [{"user": "dev.jones", "group": "prod.AdminRole", "account": "prod",
                                          "role": "AdminRole", "requested_by": "erin", "reason": "release week"}]
    removed = {(m["user"], m["group"]): m for m in payload["members"]["remove"]}
    assert removed["mallory", "prod.AdminRole"]["not_in_console"] is True
    assert (removed["support.lee", "cdn.AdminRole"]["not_in_console"], removed["support.lee", "cdn.AdminRole"]["removed_by"]) \
        == (False, "eddie")
    assert removed["old.timer", "legacy.OldRole"] | {} == {
        "user": "old.timer", "group": "legacy.OldRole", "account": "legacy", "role": "OldRole", "not_in_console": True,
        "removed_by": "", "reason": "", "with_group": True}
    assert payload["unknown_groups"] == [{"group": "legacy.OldRole", "members": ["old.timer"],
                                          "policies": ["legacy.OldRole-Policy"]}]
    assert [(s["account"], s["status"], s["action"]) for s in payload["stacks"]] == [
        ("prod", "UPDATE_ROLLBACK_COMPLETE", "update"), ("cdn", "ROLLBACK_COMPLETE", "recreate")]
    assert "last update failed and was rolled back" in payload["stacks"][0]["message"]


def test_the_page_names_the_same(client_for, people, stored_plan):
    response = client_for(people.viewer).get(reverse("plans:detail", args=[stored_plan.pk]))
    html = response.content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

    assert response.status_code == 200
    assert "AdminRole AWS::IAM::Role replacement: yes" in text
    assert "AdminRolePolicies AWS::IAM::Policy replacement: no" in text
    assert "ReadOnlyRole AWS::IAM::Role replacement: conditional" in text
    assert "PowerUserRole AWS::IAM::Role replacement: yes" in text
    assert '<span class="badge red replaces" title="CloudFormation makes a new resource: the role gets a new ARN">replacement: yes</span>' in html
    notes = re.search(r'<section class="card" id="stack-notes">.*?</section>', html, re.S).group(0)
    assert "UPDATE_ROLLBACK_COMPLETE" in notes and "its last update failed and was rolled back" in notes
    assert "ROLLBACK_COMPLETE" in notes and "the plan deletes it and creates it again" in notes
    assert "staging" not in notes
    assert "remove mallory prod.AdminRole not in the console (added in AWS by hand?)" in text
    assert "remove support.lee cdn.AdminRole eddie moved teams" in text
    assert "add dev.jones prod.AdminRole erin release week" in text
    assert "/RoleModel/legacy.OldRole unknown to the console (members first: old.timer)" in text


def test_an_update_rolled_back_is_said_so_by_the_next_plan(small_world, people, eddie):
    """A stack left in UPDATE_ROLLBACK_COMPLETE plans an update (AWS allows it) but never silently."""
    first = plan_now(eddie)
    assert apply_now(first, people).status == Job.Status.SUCCEEDED
    policy = InlinePolicy.objects.get(role__logical_name="ReadOnlyRole")
    document = dict(policy.document, Statement=[dict(policy.document["Statement"][0], Action=["iam:Get*"])])
    policy_update(actor=Actor.from_user(people.other_editor), policy=policy, name=policy.name, document=document)
    small_world.stack_status("UPDATE_ROLLBACK_COMPLETE", reason="The following resource(s) failed to update",
                             account=ACCOUNTS["prod"])

    plan = plan_now(eddie)

    assert actions(plan) == {"prod": "update", "cdn": "update"}
    payload = plan_payload(plan)
    assert [(s["account"], s["status"], s["action"]) for s in payload["stacks"]] == [
        ("prod", "UPDATE_ROLLBACK_COMPLETE", "update")]
    assert any(line.startswith("  stack: Stack in prod is UPDATE_ROLLBACK_COMPLETE: its last update failed and was "
                               "rolled back") for line in printed(plan))
    prod_changes = [(r["type"], r["action"], r["replacement"]) for r in payload["resources"] if r["account"] == "prod"]
    assert prod_changes == [("AWS::IAM::Policy", "change", "no")]
