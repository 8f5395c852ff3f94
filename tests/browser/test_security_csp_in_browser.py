"""The Content-Security-Policy in a real browser: Chromium reports no violation on the pages, and
htmx still refreshes the job page while the job runs (and stops when it ends)."""
import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from plans.models import Job, JobStep, Plan
from tests.browser.test_workflow_in_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _csp_violations(page: Page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    # The browser's own report of each violation, whether or not it also logs one.
    page.add_init_script("document.addEventListener('securitypolicyviolation', event => "
                         "console.error('Refused to load: CSP violation of ' + event.violatedDirective));")
    return violations


def test_pages_break_no_rule_of_the_policy_and_the_job_page_refreshes_itself(page: Page, live_server, people):
    violations = _csp_violations(page)
    plan = Plan.objects.create(requested_by_name="eddie", status=Plan.Status.APPLYING, fingerprint="x")
    job = Job.objects.create(kind=Job.Kind.APPLY, plan=plan, requested_by_name="eddie", status=Job.Status.RUNNING)
    JobStep.objects.create(job=job, target="prod", position=0, status=JobStep.Status.RUNNING, total=4, done=1)

    log_in(page, live_server.url, people.viewer.username)
    for name in ("console:dashboard", "plans:list", "audit:list", "memberships:matrix"):
        response = page.goto(live_server.url + reverse(name))
        assert "default-src 'self'" in response.headers["content-security-policy"]

    page.goto(live_server.url + reverse("plans:job_detail", args=[job.pk]))
    expect(page.locator("#job-status")).to_have_text("Running")
    with page.expect_request(lambda request: request.headers.get("hx-request") == "true", timeout=5000):
        pass  # htmx polls every second

    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    JobStep.objects.filter(job=job).update(status=JobStep.Status.SUCCEEDED, done=4)

    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=5000)
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if request.headers.get("hx-request") else None)
    page.wait_for_timeout(2500)
    assert polls == [], "the finished job's page must stop refreshing"
    assert violations == []
