"""Drift in a real browser: an Editor starts a check from the Drift page, the worker finds a member added
in the fake AWS behind the console's back, and the Editor adopts it (the membership is granted)."""
import pytest
from playwright.sync_api import Page, expect

from drift.models import DriftCheck
from memberships.models import Membership
from tests.browser.test_workflow_in_browser import log_in, open_nav
from tests.e2e_fixtures import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_editor_checks_for_drift_and_adopts_a_hand_added_member(page: Page, live_server, live_server_worker,
                                                                    sample_world, people, screenshot):
    iam = sample_world.session("master").client("iam")
    iam.create_group(GroupName="prod.AdminRole", Path="/RoleModel/")  # not applied yet: the console wants it
    iam.add_user_to_group(GroupName="prod.AdminRole", UserName="dev.jones")  # nobody asked for this one

    log_in(page, live_server.url, people.editor.username)
    expect(page.locator("#drift-stat b")).to_have_text("0")
    open_nav(page, "Drift")
    page.get_by_role("button", name="Check for drift now").click()
    expect(page.locator(".message.success")).to_contain_text("queued")
    wait_for(lambda: DriftCheck.objects.filter(status=DriftCheck.Status.SUCCEEDED).exists(), timeout=30,
             what="the worker to finish the drift check")
    page.reload()
    finding = page.locator("details.finding", has_text="Member added by hand")
    expect(finding).to_have_count(1)
    expect(finding.locator(".badge").first).to_have_text("widens")
    expect(finding.locator("pre.diff .diff-add", has_text='"user": "dev.jones"')).to_have_count(1)
    screenshot("drift-finding")

    finding.get_by_label("Why the live value is right").fill("On call this week")
    finding.get_by_role("button", name="Adopt").click()
    expect(page.locator(".message.success")).to_contain_text("Adopted")
    expect(page.locator("details.finding", has_text="Member added by hand")).to_contain_text("adopted by eddie")
    screenshot("drift-adopted")
    membership = Membership.objects.get(iam_user__user_name="dev.jones", account__name="prod", role__logical_name="AdminRole")
    assert "On call this week" in membership.reason
