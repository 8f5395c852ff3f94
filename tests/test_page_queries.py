"""Every page of the console makes at most 15 SQL queries, and as many with three times the data.

The pages are those of the permission matrix (``tests/test_permission_matrix.py``), so a new page is
measured as soon as it is given its entry there; its objects come from the matrix's own ``objects``
fixture, and the world around them grows: accounts, roles with policies, IAM users, memberships (some
of them on the pages' own objects), audit rows naming those objects, plans and jobs with steps.
"""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.services import Actor, audit_record
from memberships.models import Membership
from plans.models import Job, JobStep, Plan
from tests.factories import AccountFactory, IAMUserFactory, MembershipFactory, PolicyFactory, RoleFactory
from tests.test_permission_matrix import EXPECTED, _url, objects  # noqa: F401  (objects is the matrix's fixture)

MAX_QUERIES = 15
GET_PAGES = sorted(name for name, (methods, _) in EXPECTED.items() if "GET" in methods)
# Tabs and filters of the pages above that read other rows than the page itself.
PAGE_VARIANTS = {
    "memberships:iam_user_detail": ["?tab=history"],
    "roles:detail": ["?tab=history", "?tab=cloudformation"],
    "accounts:detail": ["?tab=history"],
    "memberships:list": ["?page=2", "?user=user-1-0", "?account={account}&role={role}"],
    "audit:list": ["?q=grew", "?object_type=membership&action=create"],
}


def grow(objects, people, round_number: int) -> None:
    """One more helping of every kind of row the pages list or count."""
    actor = Actor.from_user(people.editor)
    accounts = AccountFactory.create_batch(3)
    roles = RoleFactory.create_batch(2)
    for role in roles:
        PolicyFactory(role=role)
    PolicyFactory(role=objects["role"], name=f"Grown{round_number}-Policy")
    users = [IAMUserFactory(user_name=f"user-{round_number}-{index}") for index in range(12)]
    for index, iam_user in enumerate(users):
        for account, role in [(accounts[index % 3], roles[index % 2]), (objects["account"], objects["role"])]:
            MembershipFactory(iam_user=iam_user, account=account, role=role)
    # The page's own IAM user gains grants too (at most the 10-group limit in all).
    MembershipFactory(iam_user=objects["iam_user"], account=accounts[0], role=objects["role"])
    for target, object_type in [(objects["iam_user"], "IAM user"), (objects["role"], "role"), (objects["account"], "account")]:
        for _ in range(3):
            audit_record(actor=actor, action="update", object_type=object_type, obj=target, before={"a": 1},
                         after={"a": 2}, reason="grew")
    for membership in Membership.objects.filter(iam_user__in=users)[:6]:
        audit_record(actor=actor, action="create", object_type="membership", obj=membership, reason="grew")
    for _ in range(3):
        plan = Plan.objects.create(requested_by=people.editor, requested_by_name="eddie", status=Plan.Status.APPLIED,
                                   summary={"add": 1, "change": 0, "remove": 0})
        job = Job.objects.create(kind=Job.Kind.APPLY, plan=plan, requested_by=people.editor, requested_by_name="eddie",
                                 status=Job.Status.SUCCEEDED)
        for position, account in enumerate(accounts):
            JobStep.objects.create(job=job, target=account.name, position=position, status=JobStep.Status.SUCCEEDED)
    for position, account in enumerate(accounts):
        JobStep.objects.create(job=objects["job"], target=account.name, position=position + round_number * 10,
                               status=JobStep.Status.SUCCEEDED, log=[{"at": "2024-01-01T00:00:00", "message": "done"}])


def queries_and_status(client, url: str) -> tuple[int, int]:
    """Counted on a second request: what a page keeps in the cache for a while (the audit chain's
    report) is not what every request costs."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    return len(captured.captured_queries), response.status_code


def page_urls(objects, people) -> list[str]:
    urls = []
    for name in GET_PAGES:
        url = _url(name, objects, people)
        urls.append(url)
        urls += [url + variant.format(account=objects["account"].name, role=objects["role"].pk)
                 for variant in PAGE_VARIANTS.get(name, [])]
    return urls


def test_every_page_makes_at_most_15_queries_and_no_more_with_three_times_the_data(client_for, people, objects):
    """One test for every page, so the world is built twice, not twice per page."""
    client = client_for(people.admin)
    grow(objects, people, 1)
    before = {url: queries_and_status(client, url) for url in page_urls(objects, people)}
    grow(objects, people, 2)
    grow(objects, people, 3)
    after = {url: queries_and_status(client, url) for url in page_urls(objects, people)}

    failed_pages = {url: status for url, (_, status) in after.items() if status >= 400}
    assert failed_pages == {}
    over_the_limit = {url: count for url, (count, _) in after.items() if count > MAX_QUERIES}
    assert over_the_limit == {}, f"more than {MAX_QUERIES} queries"
    grown = {url: (before[url][0], count) for url, (count, _) in after.items() if count != before[url][0]}
    assert grown == {}, "(queries with the data, with three times the data)"

