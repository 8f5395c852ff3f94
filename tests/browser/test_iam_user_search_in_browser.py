"""The IAM user search box in a real browser: typing asks the server for suggestions (htmx, under the
Content-Security-Policy), a click puts the name into the box, and the grant is made for the names picked;
on the memberships list the same box filters, and a row's Remove submits the list's one removal form."""
import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from memberships.models import IAMUser, Membership
from tests.browser.test_security_csp_in_browser import _csp_violations
from tests.browser.test_workflow_in_browser import log_in
from tests.factories import AccountFactory, RoleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_types_picks_two_suggestions_and_grants_them(page: Page, live_server, people, screenshot):
    violations = _csp_violations(page)
    IAMUser.objects.bulk_create(IAMUser(user_name=f"user{index:04d}", display_name=f"Person {index}") for index in range(300))
    IAMUser.objects.create(user_name="grace.hopper", display_name="Grace Hopper")
    account, role = AccountFactory(name="prod"), RoleFactory(logical_name="ReadOnly")

    log_in(page, live_server.url, people.editor.username)
    page.goto(live_server.url + reverse("memberships:add"))
    box = page.get_by_label("IAM users")
    box.press_sequentially("user01", delay=20)
    suggestions = page.locator(".suggestions").get_by_role("button")
    expect(suggestions).to_have_count(20)  # of the 100 that match, the first 20
    expect(suggestions.first).to_contain_text("user0100")
    box.press_sequentially("4", delay=20)
    expect(suggestions).to_have_count(10)
    page.locator(".suggestions").get_by_role("button", name="user0142").click()
    expect(box).to_have_value("user0142, ")
    expect(suggestions).to_have_count(0)

    box.press_sequentially("hopp", delay=20)  # a display name matches too
    page.locator(".suggestions").get_by_role("button", name="grace.hopper").click()
    expect(box).to_have_value("user0142, grace.hopper, ")
    screenshot("iam-user-search-picked")

    page.get_by_label("Groups (account.role)").select_option(label="prod.ReadOnly")
    page.get_by_label("Reason").fill("Reads prod for the audit")
    page.get_by_role("button", name="Grant").click()
    expect(page.locator(".message.success")).to_contain_text("Granted 2:")
    granted = Membership.objects.filter(account=account, role=role).values_list("iam_user__user_name", flat=True)
    assert sorted(granted) == ["grace.hopper", "user0142"]

    # The memberships list: filtered by a name typed and picked, one removal form for every row's button.
    page.goto(live_server.url + reverse("memberships:list"))
    page.get_by_label("IAM user").press_sequentially("grace", delay=20)
    page.locator(".suggestions").get_by_role("button", name="grace.hopper").click()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.get_by_label("Reason for a removal").fill("Audit finished")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("table").get_by_role("button", name="Remove").click()
    expect(page.locator(".message.success")).to_have_text("Removed grace.hopper from prod.ReadOnly.")
    assert list(Membership.objects.values_list("iam_user__user_name", flat=True)) == ["user0142"]
    assert AuditEvent.objects.filter(object_type="membership", reason="Audit finished").count() == 1
    assert violations == []
