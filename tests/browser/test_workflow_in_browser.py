"""The console's whole workflow in a real browser, as two people do it: an Editor edits, grants and
requests a plan; an Approver approves and applies it; the job page follows the worker live.

Runs against pytest-django's live server, a real Celery worker and the fake AWS (moto server).
"""
import json
import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from memberships.models import Membership
from roles.models import InlinePolicy
from tests.aws_world import live_groups
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A comma missing between two members on line 4: the error must point there.
BROKEN_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow" "Action": "*", "Resource": "*"}
  ]
}"""
GRANT_REASON = "Reads staging logs for support tickets"
# Installed in the job page: notes each status the page shows; a reload would lose the list.
RECORD_JOB_STATUSES = """() => {
  const statuses = [document.querySelector("#job-status").textContent.trim()];
  window.browserTestJobStatuses = statuses;
  new MutationObserver(() => {
    const shown = document.querySelector("#job-status");
    if (shown && shown.textContent.trim() !== statuses[statuses.length - 1]) statuses.push(shown.textContent.trim());
  }).observe(document.querySelector("#job-body"), {childList: true, subtree: true, characterData: true});
}"""


def _json_error_position(text: str) -> tuple[int, int]:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return error.lineno, error.colno
    raise AssertionError("the broken policy parses")


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".whoami")).to_contain_text(username)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def log_out(page: Page) -> None:
    page.locator(".whoami").get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator(".whoami")).to_have_count(0)


def open_nav(page: Page, name: str) -> None:
    page.locator("nav.mainnav").get_by_role("link", name=name, exact=True).click()


def test_edit_grant_plan_approve_apply_and_audit(page: Page, live_server, live_server_worker, sample_world, people, screenshot):
    base_url = live_server.url
    # eddie may approve in general, so what stops him below is the four-eyes rule, not his group.
    people.editor.groups.add(Group.objects.get(name="Approver"))

    log_in(page, base_url, people.editor.username)
    screenshot("editor-dashboard")

    # A policy edit with broken JSON: the error names the line and column, and nothing is saved.
    policy = InlinePolicy.objects.get(role__logical_name="AdminRole")
    document_before = policy.document
    open_nav(page, "Roles")
    page.get_by_role("link", name="AdminRole", exact=True).click()
    page.locator("article", has=page.locator("code", has_text=policy.name)).get_by_role("link", name="Edit").click()
    page.get_by_label("Document").fill(BROKEN_POLICY)
    page.get_by_role("button", name="Save").click()
    line, column = _json_error_position(BROKEN_POLICY)
    assert line == 4
    error = page.locator(".field.has-error p.error")
    expect(error).to_contain_text(f"not valid JSON: Expecting ',' delimiter at line {line}, column {column}.")
    screenshot("policy-json-error")
    policy.refresh_from_db()
    assert policy.document == document_before

    # A grant through the form.
    open_nav(page, "Memberships")
    page.get_by_role("link", name="Grant access").click()
    page.get_by_label("IAM users").press_sequentially("support", delay=20)
    page.locator(".suggestions").get_by_role("button", name="support.lee").click()
    page.get_by_label("Groups (account.role)").select_option(label="staging.ReadOnlyRole")
    page.get_by_label("Reason").fill(GRANT_REASON)
    page.get_by_role("button", name="Grant").click()
    expect(page.locator(".message.success")).to_have_text("Granted 1: support.lee in staging.ReadOnlyRole.")
    screenshot("granted")
    assert Membership.objects.filter(iam_user__user_name="support.lee", account__name="staging", role__logical_name="ReadOnlyRole").exists()

    # A plan: the worker computes it while the page refreshes itself; then read its diff.
    open_nav(page, "Plans")
    page.get_by_role("button", name="Plan changes").click()
    expect(page.locator("#plan-status")).not_to_have_text("Planning", timeout=30_000)
    plan_status = page.locator("#plan-status").inner_text().strip()
    assert plan_status == "Waiting for approval", (plan_status, page.locator("#plan-body .error, .blocks li").all_inner_texts())
    plan_url = page.url
    expect(page.locator("#plan-summary")).to_have_text(re.compile(r"^\d+ to add, 0 to change, 0 to remove$"))
    staging = page.locator("details.card", has=page.locator("summary", has_text="staging"))
    expect(staging.locator("summary")).to_contain_text("stack create")
    read_only_role = staging.locator(".resource", has=page.locator("code", has_text=re.compile(r"^ReadOnlyRole$")))
    expect(read_only_role.locator(".badge")).to_have_text("add")
    diff = read_only_role.locator("pre.diff")
    expect(diff.locator(".diff-file")).to_have_text(["--- ReadOnlyRole (live)", "+++ ReadOnlyRole (planned)"])
    expect(diff.locator(".diff-add", has_text='"Type": "AWS::IAM::Role"')).to_have_count(1)
    expect(diff.locator(".diff-remove")).to_have_count(0)
    members_to_add = page.locator("details.card", has_text="Master account").locator("table tr", has_text="support.lee")
    expect(members_to_add.filter(has_text="staging.ReadOnlyRole")).to_contain_text(GRANT_REASON)
    screenshot("plan-pending")

    # Its requester may not approve it: the refusal says why and there is no button.
    expect(page.locator("#approval-refusal")).to_have_text(
        "You requested this plan; another person must approve it (four eyes)."
    )
    expect(page.locator("#approve-button")).to_have_count(0)
    log_out(page)
    screenshot("logged-out-editor")

    # Another person approves and applies.
    log_in(page, base_url, people.approver.username)
    page.goto(plan_url)
    expect(page.locator("#approval-refusal")).to_have_count(0)
    page.locator("#id_approve_comment").fill("Looks right")
    page.locator("#approve-button").click()
    expect(page.locator("#plan-status")).to_have_text("Approved")
    expect(page.locator("#plan-body")).to_contain_text(f"Approved by {people.approver.username}")
    screenshot("plan-approved")

    page.locator("#apply-button").click()
    expect(page).to_have_url(re.compile(r"/plans/jobs/\d+/$"))
    job_url = page.url
    # From here on the page must update itself: no navigation, and what this page's scripts record survives.
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.evaluate(RECORD_JOB_STATUSES)
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=45_000)
    statuses = page.evaluate("window.browserTestJobStatuses")
    assert statuses[0] in ("Queued", "Running"), f"the job had already finished when its page loaded: {statuses}"
    assert statuses[-1] == "Succeeded", statuses
    assert page.url == job_url and navigations == []
    expect(page.locator("#job-error")).to_have_count(0)
    for badge in page.locator("section.step h2 .badge").all():
        expect(badge).to_have_text(re.compile(r"^(Succeeded|Skipped)$"))
    expect(page.locator("#job-live")).to_have_attribute("data-status", "succeeded")
    screenshot("job-succeeded")
    assert live_groups(sample_world)["staging.ReadOnlyRole"]["members"] == {"support.lee"}

    # All of it is in the audit history.
    open_nav(page, "Audit")
    page.get_by_label("Object type").select_option("plan")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr")
    plan_number = plan_url.rstrip("/").rsplit("/", 1)[1]
    for who, what in [
        (people.editor.username, "Requested plan"),
        (people.approver.username, "Approved plan"),
        (people.approver.username, "Apply requested for plan"),
        ("system:apply", "Applied plan"),
    ]:
        expect(rows.filter(has_text=what).filter(has_text=who).filter(has_text=f"plan #{plan_number}")).not_to_have_count(0)
    screenshot("audit")

    log_out(page)
    page.goto(f"{base_url}/plans/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/plans/$"))
    screenshot("logged-out")
