"""The plan and job pages: who may see and do what, what the pages show, and how they refresh.

Plans are computed and applied against the fake AWS by calling the worker's functions directly
(``planning.plan_compute``, ``applying.apply_account`` / ``apply_master``): in these tests the
transaction never commits, so the tasks queued with ``on_commit`` never run by themselves.
"""
import re
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from accounts.models import AssumableAccount
from audit.models import AuditEvent
from audit.services import Actor
from integrations import aws
from memberships.models import IAMUser, Membership
from memberships.services import iam_user_create, membership_revoke, memberships_grant
from plans import applying, planning, services, tasks
from plans.links import block_link
from plans.models import Job, JobStep, Plan
from roles.models import InlinePolicy, RoleDefinition
from roles.services import policy_update
from tests.aws_world import SAMPLE_ACCOUNTS, pending_plan, sample_world  # noqa: F401 - fixtures
from tests.workflow import plan_now, run_apply_job

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("login")
POLLING = re.compile(r'hx-trigger="every \d+s"')


# ---- helpers -----------------------------------------------------------------------------------


def page(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def texts(html: str, css_class: str) -> list[str]:
    """The text of every <li> inside the first <ul class="css_class">."""
    match = re.search(rf'<ul class="{css_class}">(.*?)</ul>', html, re.S)
    if not match:
        return []
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def plan_row(requested_by, *, status=Plan.Status.PENDING, editors=(), **fields) -> Plan:
    """A plan as the planner stores it, without AWS: for pages whose behaviour depends only on the row.

    ``editors`` are console users (recorded by name and by id, as the planner does) or bare names (a
    system actor, which has no id).
    """
    defaults = {"requested_by_name": requested_by.get_username(), "summary": {"add": 1, "change": 0, "remove": 0},
                "accounts": [], "master": {}, "blocks": [], "warnings": []}
    defaults.update(fields)
    names = [editor if isinstance(editor, str) else editor.get_username() for editor in editors]
    ids = [editor.pk for editor in editors if not isinstance(editor, str)]
    plan = Plan.objects.create(status=status, requested_by=requested_by, editors=names, editor_ids=ids, **defaults)
    Job.objects.create(kind=Job.Kind.PLAN, plan=plan, status=Job.Status.SUCCEEDED,
                       requested_by_name=plan.requested_by_name)
    return plan


def decision_state(plan: Plan) -> tuple:
    plan.refresh_from_db()
    plan_events = AuditEvent.objects.filter(object_type="plan").count()
    return plan.status, plan.decided_by_name, plan.decision_comment, plan_events


@contextmanager
def leaves_alone(plan: Plan, *counted):
    """The block must leave the plan's decision (and the number of rows of each model in ``counted``) as it was."""
    def state():
        return (*(model.objects.count() for model in counted), decision_state(plan))
    before = state()
    yield
    assert state() == before


@pytest.fixture
def rows(people):
    """A pending plan by eddie (who also edited the desired state) and one of its jobs, without AWS."""
    plan = plan_row(people.editor, editors=[people.editor])
    return plan, plan.jobs.get()


# ---- who may do what ---------------------------------------------------------------------------

GET_PAGES = ["list", "detail", "job_list", "job_detail", "live_roles"]
POST_ACTIONS = ["create", "approve", "reject", "apply"]


def url_of(name: str, plan: Plan, job: Job) -> str:
    if name in ("detail", "approve", "reject", "apply"):
        return reverse(f"plans:{name}", args=[plan.pk])
    if name == "job_detail":
        return reverse("plans:job_detail", args=[job.pk])
    return reverse(f"plans:{name}")


@pytest.mark.parametrize("name", GET_PAGES + ["teardown"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, rows, name):
    url = url_of(name, *rows)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


@pytest.mark.parametrize("name", POST_ACTIONS)
def test_anonymous_posts_are_sent_to_the_login_page_and_change_nothing(client, rows, name):
    with leaves_alone(rows[0], Plan):
        response = client.post(url_of(name, *rows), {"comment": "x"})
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)


@pytest.mark.parametrize("name", GET_PAGES + ["teardown"])
@pytest.mark.parametrize("who, method, status", [("nobody", "get", 403), ("editor", "post", 405)],
                         ids=["a user without a console role is refused", "posting is not allowed"])
def test_every_page_refuses(client_for, people, rows, name, who, method, status):
    assert getattr(client_for(getattr(people, who)), method)(url_of(name, *rows)).status_code == status


@pytest.mark.parametrize("name", POST_ACTIONS)
@pytest.mark.parametrize("who, method, status", [("nobody", "post", 403), ("approver", "get", 405)],
                         ids=["a user without a console role is refused", "getting is not allowed"])
def test_every_action_refuses_and_changes_nothing(client_for, people, rows, name, who, method, status):
    data = {"comment": "x"} if method == "post" else None
    with leaves_alone(rows[0], Plan):
        assert getattr(client_for(getattr(people, who)), method)(url_of(name, *rows), data).status_code == status


@pytest.mark.parametrize("name, title", [
    ("list", "Plans"), ("detail", "Plan #{plan}"), ("job_list", "Jobs"), ("job_detail", "Job #{job}"),
    ("live_roles", "Live roles"),
])
def test_a_viewer_reads_every_page(client_for, people, rows, name, title):
    plan, job = rows
    html = page(client_for(people.viewer), url_of(name, plan, job))
    assert f"<title>{title.format(plan=plan.pk, job=job.pk)} · Rolemodel Console</title>" in html


@pytest.mark.parametrize("name", POST_ACTIONS)
def test_a_viewer_may_not_request_decide_or_apply(client_for, people, rows, name):
    with leaves_alone(rows[0], Plan, Job):
        assert client_for(people.viewer).post(url_of(name, *rows), {"comment": "looks fine"}).status_code == 403


def test_a_viewer_does_not_get_the_teardown_page(client_for, people):
    assert client_for(people.viewer).get(reverse("plans:teardown")).status_code == 403


def test_an_editor_may_not_approve_or_reject(client_for, people, rows):
    plan, _ = rows
    client = client_for(people.other_editor)
    with leaves_alone(plan):
        assert client.post(reverse("plans:approve", args=[plan.pk])).status_code == 403
        assert client.post(reverse("plans:reject", args=[plan.pk]), {"comment": "no"}).status_code == 403


def test_a_superuser_is_not_an_approver(client_for, people, rows):
    plan, _ = rows
    client = client_for(people.superuser)
    html = page(client, reverse("plans:detail", args=[plan.pk]))
    assert 'id="approve-button"' not in html
    assert "Only members of the Approver group approve plans." in html
    assert client.post(reverse("plans:approve", args=[plan.pk])).status_code == 403
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.PENDING


@pytest.mark.parametrize("name", ["detail", "approve", "reject", "apply", "job_detail"])
@pytest.mark.parametrize("missing_id", [999999, 10**30])
def test_an_unknown_id_is_not_found(client_for, people, rows, name, missing_id):
    client = client_for(people.approver)
    url = reverse(f"plans:{name}", args=[missing_id])
    response = client.get(url) if name in ("detail", "job_detail") else client.post(url, {"comment": "why not"})
    assert response.status_code == 404


# ---- requesting a plan -------------------------------------------------------------------------


def test_an_editor_requests_a_plan_and_the_worker_is_asked_to_compute_it(
    sample_world, client_for, people, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(tasks.compute_plan_task, "delay", queued.append)
    client = client_for(people.editor)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("plans:create"))

    plan = Plan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:detail", args=[plan.pk])
    assert (plan.kind, plan.status, plan.requested_by, plan.requested_by_name) == (
        Plan.Kind.CONVERGE, Plan.Status.PLANNING, people.editor, "eddie")
    job = plan.jobs.get()
    assert (job.kind, job.status) == (Job.Kind.PLAN, Job.Status.QUEUED)
    assert sorted(job.steps.values_list("target", flat=True)) == sorted([*SAMPLE_ACCOUNTS, JobStep.MASTER])
    assert AuditEvent.objects.filter(action="plan_requested", object_id=str(plan.pk), actor_name="eddie").exists()
    assert len(callbacks) == 1
    callbacks[0]()
    assert queued == [plan.pk]

    waiting = page(client, response["Location"])
    assert "Planning…" in waiting
    assert POLLING.search(waiting), "the page must refresh itself while the worker computes the plan"
    assert 'id="approve-button"' not in waiting and 'id="apply-button"' not in waiting

    planning.plan_compute(plan_id=plan.pk)  # what the worker does with the queued task

    done = page(client, response["Location"])
    assert not POLLING.search(done)
    assert "Waiting for approval" in done


def test_the_plan_list_offers_a_plan_to_editors_only(client_for, people, rows):
    plan, _ = rows
    as_editor = page(client_for(people.editor), reverse("plans:list"))
    assert f'action="{reverse("plans:create")}"' in as_editor
    assert reverse("plans:detail", args=[plan.pk]) in as_editor and plan.summary_line in as_editor
    as_viewer = page(client_for(people.viewer), reverse("plans:list"))
    assert f'action="{reverse("plans:create")}"' not in as_viewer
    assert plan.summary_line in as_viewer


def test_a_teardown_is_requested_from_its_confirmation_page(client_for, people, django_capture_on_commit_callbacks):
    client = client_for(people.admin)
    confirm = page(client, reverse("plans:teardown"))
    assert 'name="teardown" value="on"' in confirm

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("plans:create"), {"teardown": "on"})

    plan = Plan.objects.get()
    assert response["Location"] == reverse("plans:detail", args=[plan.pk])
    assert plan.kind == Plan.Kind.TEARDOWN and plan.requested_by == people.admin
    assert len(callbacks) == 1


# ---- the plan page -----------------------------------------------------------------------------


def test_the_plan_page_shows_the_summary_each_account_and_the_master_account(client_for, people, pending_plan):
    html = page(client_for(people.viewer), reverse("plans:detail", args=[pending_plan.pk]))

    summary = pending_plan.summary
    assert summary["add"] > 0
    assert f'{summary["add"]} to add, {summary["change"]} to change, {summary["remove"]} to remove' in html
    assert "Waiting for approval" in html
    assert "Requested by <b>eddie</b>" in html
    assert "Edits carried by this plan: <b>eddie</b>" in html
    for account in pending_plan.accounts:
        section = re.search(rf"<summary><b>{account['name']}</b>.*?</details>", html, re.S).group(0)
        assert "stack create" in section
        assert f"{len(account['resources'])} resource changes" in section
        for resource in account["resources"]:
            assert f"<code>{resource['logical_id']}</code>" in section
        assert '<span class="diff-add">+  &quot;Type&quot;: &quot;AWS::IAM::Role&quot;</span>' in section
    master = re.search(r"<summary><b>Master account</b>.*?</details>", html, re.S).group(0)
    assert "<code>/RoleModel/prod.AdminRole</code>" in master
    assert "<code>prod.AdminRole-Policy</code> on prod.AdminRole" in master
    reason = next(member["reason"] for member in pending_plan.master["members_add"]
                  if (member["user"], member["group"]) == ("maria.admin", "prod.AdminRole"))
    assert reason.startswith("Imported from ")
    assert f"<td>maria.admin</td><td>prod.AdminRole</td><td>eddie</td><td>{reason}</td>" in master
    warnings = texts(html, "warnings")
    assert warnings == pending_plan.warnings
    assert any("allows every action (*) on every resource (*)" in warning for warning in warnings)
    assert '<h2 class="warning">' in html  # amber


def test_changes_and_removals_show_as_minus_and_plus_lines_with_who_asked(client_for, people, sample_world, eddie):
    first = plan_now(eddie)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=first)
    assert run_apply_job(services.apply_request(actor=eddie, plan=first)).status == Job.Status.SUCCEEDED
    policy = InlinePolicy.objects.get(role__logical_name="BillingRole")
    narrowed, *others = policy.document["Statement"]
    document = dict(policy.document, Statement=[dict(narrowed, Action=["aws-portal:View*"]), *others])
    policy_update(actor=Actor.from_user(people.other_editor), policy=policy, name=policy.name, document=document)
    gone = Membership.objects.select_related("iam_user", "account", "role").get(
        iam_user__user_name="support.lee", account__name="cdn")
    membership_revoke(actor=eddie, membership=gone, reason="moved to the prod team")
    grants = [(IAMUser.objects.get(user_name="dev.jones"), AssumableAccount.objects.get(name="staging"),
               RoleDefinition.objects.get(logical_name="PowerUserRole"))]
    memberships_grant(actor=Actor.from_user(people.other_editor), grants=grants, reason="release week")

    plan = plan_now(eddie)
    html = page(client_for(people.approver), reverse("plans:detail", args=[plan.pk]))

    assert plan.summary == {"add": 1, "change": 3, "remove": 1}
    assert "1 to add, 3 to change, 1 to remove" in html
    assert "Edits carried by this plan: <b>eddie</b>, <b>erin</b>" in html
    assert "stack update" in html
    assert '<span class="diff-remove">-            &quot;budgets:View*&quot;,</span>' in html
    assert '<span class="diff-add">+            &quot;aws-portal:View*&quot;</span>' in html
    assert "<td>dev.jones</td><td>staging.PowerUserRole</td><td>erin</td><td>release week</td>" in html
    assert "<td>support.lee</td><td>cdn.ReadOnlyRole</td><td>eddie</td><td>moved to the prod team</td>" in html
    assert 'id="approve-button"' in html  # april neither requested nor edited


def test_a_removed_member_shows_who_asked_for_the_removal_and_why(client_for, people, sample_world, eddie):
    first = plan_now(eddie)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=first)
    run_apply_job(services.apply_request(actor=eddie, plan=first))
    gone = Membership.objects.select_related("iam_user", "account", "role").get(
        iam_user__user_name="support.lee", account__name="cdn")
    membership_revoke(actor=Actor.from_user(people.other_editor), membership=gone, reason="moved to the prod team")

    html = page(client_for(people.approver), reverse("plans:detail", args=[plan_now(eddie).pk]))

    removal = re.search(r"Members to remove.*?</table>", html, re.S).group(0)
    assert "moved to the prod team" in removal and "erin" in removal


def test_a_blocked_plan_lists_each_block_in_red_linking_to_the_thing_to_fix(client_for, people, sample_world, eddie):
    sample_world.session("master").client("iam").delete_user(UserName="finance.ng")
    plan = plan_now(eddie)
    assert plan.status == Plan.Status.BLOCKED

    client = client_for(people.approver)
    html = page(client, reverse("plans:detail", args=[plan.pk]))

    assert '<h2 class="error">Blocked' in html
    link = reverse("memberships:iam_user_list") + "?q=finance.ng"
    assert (f'<li><a class="error" href="{link}">IAM user finance.ng does not exist in the master account.</a></li>'
            in html)
    assert 'id="approve-button"' not in html
    assert 'id="reject-button"' in html
    assert "finance.ng" in page(client, link)


def test_a_block_link_finds_a_user_whose_name_has_a_plus(client_for, people, sample_world, eddie):
    grants = [(iam_user_create(actor=eddie, user_name="ops+oncall"), AssumableAccount.objects.get(name="prod"),
               RoleDefinition.objects.get(logical_name="ReadOnlyRole"))]
    memberships_grant(actor=eddie, grants=grants, reason="pager rota")
    plan = plan_now(eddie)
    block = next(b for b in plan.blocks if "ops+oncall" in b["message"])

    assert parse_qs(urlsplit(block_link(block)).query)["q"] == ["ops+oncall"]


def test_the_approve_button_shows_only_to_an_approver_who_neither_requested_nor_edited(client_for, people):
    people.approver.groups.add(people.editor.groups.get())
    requested_by_april = plan_row(people.approver)
    edited_by_arthur = plan_row(people.editor, editors=[people.editor, people.other_approver])

    def decision(user, plan) -> str:
        return page(client_for(user), reverse("plans:detail", args=[plan.pk]))

    html = decision(people.other_approver, requested_by_april)
    assert 'id="approve-button"' in html and 'id="reject-button"' in html
    assert 'id="approval-refusal"' not in html
    refusals = {
        (people.approver, requested_by_april): "You requested this plan; another person must approve it (four eyes).",
        (people.other_approver, edited_by_arthur):
            "You edited the desired state this plan carries; another person must approve it (four eyes).",
        (people.editor, edited_by_arthur): "Only members of the Approver group approve plans.",
        (people.viewer, edited_by_arthur): "Only members of the Approver group approve plans.",
    }
    for (user, plan), refusal in refusals.items():
        html = decision(user, plan)
        assert 'id="approve-button"' not in html, user
        assert f'<p class="muted" id="approval-refusal">{refusal}</p>' in html, user


def test_approving_as_the_requester_is_refused_with_the_reason(client_for, people):
    people.approver.groups.add(people.editor.groups.get())
    plan = plan_row(people.approver)
    before = decision_state(plan)

    response = client_for(people.approver).post(reverse("plans:approve", args=[plan.pk]), {"comment": "mine"})

    assert response.status_code == 400
    assert "You requested this plan; another person must approve it (four eyes)." in response.content.decode()
    assert decision_state(plan) == before


def test_approving_as_an_editor_of_the_carried_state_is_refused(client_for, people, rows):
    plan, _ = rows
    people.editor.groups.add(people.approver.groups.get())
    before = decision_state(plan)

    response = client_for(people.editor).post(reverse("plans:approve", args=[plan.pk]))

    assert response.status_code == 400
    assert "You requested this plan" in response.content.decode()
    other = plan_row(people.other_editor, editors=[people.editor])
    response = client_for(people.editor).post(reverse("plans:approve", args=[other.pk]))
    assert "You edited the desired state this plan carries" in response.content.decode()
    assert decision_state(plan) == before and Plan.objects.get(pk=other.pk).status == Plan.Status.PENDING


def test_an_approver_approves_and_the_apply_button_appears(client_for, people, rows):
    plan, _ = rows
    client = client_for(people.approver)
    assert 'id="apply-button"' not in page(client, reverse("plans:detail", args=[plan.pk]))

    response = client.post(reverse("plans:approve", args=[plan.pk]), {"comment": "checked with the team"})

    assert response.status_code == 302 and response["Location"] == reverse("plans:detail", args=[plan.pk])
    plan.refresh_from_db()
    assert (plan.status, plan.decided_by_name, plan.decision_comment) == (
        Plan.Status.APPROVED, "april", "checked with the team")
    assert AuditEvent.objects.filter(action="plan_approved", object_id=str(plan.pk), actor_name="april").exists()
    html = page(client, reverse("plans:detail", args=[plan.pk]))
    assert "Approved by <b>april</b>" in html and "checked with the team" in html
    assert 'id="approve-button"' not in html and 'id="reject-button"' not in html
    for user in (people.editor, people.approver, people.admin):
        assert 'id="apply-button"' in page(client_for(user), reverse("plans:detail", args=[plan.pk])), user
    assert 'id="apply-button"' not in page(client_for(people.viewer), reverse("plans:detail", args=[plan.pk]))


def test_rejecting_needs_a_comment(client_for, people, rows):
    plan, _ = rows
    before = decision_state(plan)
    client = client_for(people.approver)

    for comment in ("", "   "):
        response = client.post(reverse("plans:reject", args=[plan.pk]), {"comment": comment})
        assert response.status_code == 400
        assert "Say why you reject this plan." in response.content.decode()
    assert decision_state(plan) == before


def test_rejecting_with_a_comment_closes_the_plan_and_discards_its_change_sets(
    client_for, people, rows, django_capture_on_commit_callbacks, monkeypatch
):
    plan, _ = rows
    discarded = []
    monkeypatch.setattr(tasks.discard_change_sets_task, "delay", discarded.append)
    client = client_for(people.approver)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("plans:reject", args=[plan.pk]), {"comment": "not during the freeze"})

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.decided_by_name, plan.decision_comment) == (
        Plan.Status.REJECTED, "april", "not during the freeze")
    assert discarded == [plan.pk]
    html = page(client, reverse("plans:detail", args=[plan.pk]))
    assert "Rejected by <b>april</b>" in html and "not during the freeze" in html
    assert not any(f'id="{button}"' in html for button in ("approve-button", "reject-button", "apply-button"))


def test_the_approve_and_reject_comments_have_their_own_labels(client_for, people, rows):
    plan, _ = rows
    html = page(client_for(people.approver), reverse("plans:detail", args=[plan.pk]))
    ids = re.findall(r'<textarea[^>]* id="([^"]+)"', html)
    assert len(ids) == 2 and len(set(ids)) == 2
    for element_id in ids:
        assert f'<label for="{element_id}">' in html


def test_a_stale_plan_says_so_and_refuses_to_apply(client_for, people, pending_plan, eddie):
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)
    client = client_for(people.editor)
    assert "it is stale" not in page(client, reverse("plans:detail", args=[pending_plan.pk]))
    gone = Membership.objects.select_related("iam_user", "account", "role").first()
    membership_revoke(actor=eddie, membership=gone, reason="left")

    assert "it is stale and will refuse to apply" in page(client, reverse("plans:detail", args=[pending_plan.pk]))
    response = client.post(reverse("plans:apply", args=[pending_plan.pk]), follow=True)

    assert response.redirect_chain == [(reverse("plans:detail", args=[pending_plan.pk]), 302)]
    assert "The desired state changed after this plan was made, so it is stale." in response.content.decode()
    assert Plan.objects.get(pk=pending_plan.pk).status == Plan.Status.APPROVED
    assert not Job.objects.filter(kind=Job.Kind.APPLY).exists()


def test_applying_an_unapproved_plan_is_refused_with_the_reason(client_for, people, rows):
    plan, _ = rows
    response = client_for(people.editor).post(reverse("plans:apply", args=[plan.pk]), follow=True)
    assert "Only an approved plan can be applied; this one is waiting for approval." in response.content.decode()
    assert not Job.objects.filter(kind=Job.Kind.APPLY).exists()


def test_every_name_reason_and_comment_is_escaped(client_for, people):
    script = '<script>alert("owned")</script>'
    plan = plan_row(
        people.editor, status=Plan.Status.REJECTED, editors=[script],
        requested_by_name=script, decided_by_name=script, decision_comment=script,
        accounts=[{"name": script, "account_id": "", "action": "update", "stack_status": script, "change_set_id": "",
                   "resources": [{"logical_id": script, "type": script, "action": "change", "diff": f"+{script}"}]}],
        master={"groups_create": [{"group": script}], "members_add": [{"user": script, "group": script,
                                                                          "requested_by": script, "reason": script}],
                "members_remove": [{"user": script, "group": script}]},
        blocks=[{"message": script, "link": "/"}], warnings=[script], error=script,
    )

    html = page(client_for(people.viewer), reverse("plans:detail", args=[plan.pk]))

    assert "<script>alert" not in html
    assert html.count("&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;") >= 15


def test_a_membership_reason_with_markup_is_escaped_on_a_computed_plan(client_for, people, sample_world, eddie):
    grants = [(IAMUser.objects.get(user_name="audit.schmidt"), AssumableAccount.objects.get(name="cdn"),
               RoleDefinition.objects.get(logical_name="ReadOnlyRole"))]
    memberships_grant(actor=eddie, grants=grants, reason="<script>document.location='//evil'</script> audit")
    plan = plan_now(eddie)

    html = page(client_for(people.approver), reverse("plans:detail", args=[plan.pk]))

    assert "<script>document" not in html
    assert "<td>&lt;script&gt;document.location=&#x27;//evil&#x27;&lt;/script&gt; audit</td>" in html


def test_an_htmx_request_gets_only_the_plan_body(client_for, people, rows):
    plan, _ = rows
    html = page(client_for(people.viewer), reverse("plans:detail", args=[plan.pk]), HTTP_HX_REQUEST="true")
    assert "<html" not in html and 'class="topbar"' not in html
    assert 'id="plan-status"' in html and plan.summary_line in html


# ---- applying and the job page -----------------------------------------------------------------


def step_sections(html: str) -> dict:
    """Per step target: its progress value and its HTML section."""
    sections = re.findall(r'<section class="card step" data-target="([^"]+)">(.*?)</section>', html, re.S)
    return {target: (int(re.search(r'<progress[^>]* value="(\d+)"', body).group(1)), body) for target, body in sections}


def test_applying_shows_the_job_refreshing_until_it_ends(
    client_for, people, pending_plan, eddie, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(tasks.apply_account_task, "delay", sent.append)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)
    client = client_for(people.editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("plans:apply", args=[pending_plan.pk]))

    job = Job.objects.get(kind=Job.Kind.APPLY)
    assert response.status_code == 302 and response["Location"] == reverse("plans:job_detail", args=[job.pk])
    assert sorted(sent) == sorted(job.steps.exclude(target=JobStep.MASTER).values_list("pk", flat=True))
    assert Plan.objects.get(pk=pending_plan.pk).status == Plan.Status.APPLYING

    queued = page(client, response["Location"])
    assert POLLING.search(queued)
    assert list(step_sections(queued)) == [*sorted(SAMPLE_ACCOUNTS), JobStep.MASTER]
    assert "<h2>Master account" in queued

    first = job.steps.get(target=sorted(SAMPLE_ACCOUNTS)[0])
    applying.apply_account(step_id=first.pk)
    running = page(client, response["Location"])
    assert 'data-status="running"' in running and POLLING.search(running)
    progress = step_sections(running)
    assert progress[first.target][0] == 100 and "Executed the change set" in progress[first.target][1]
    assert progress[JobStep.MASTER][0] == 0
    partial = page(client, response["Location"], HTTP_HX_REQUEST="true")
    assert "<html" not in partial and 'class="topbar"' not in partial and POLLING.search(partial)

    job = run_apply_job(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    done = page(client, response["Location"])
    assert not POLLING.search(done)
    assert not POLLING.search(page(client, response["Location"], HTTP_HX_REQUEST="true"))
    totals = job.api_call_totals()
    assert totals["writes"] > 0
    assert f"AWS calls: <b>{totals['total']}</b> ({totals['reads']} reads, {totals['writes']} writes)" in done
    assert all(value == 100 for value, _ in step_sections(done).values())
    master = step_sections(done)[JobStep.MASTER][1]
    assert "Create group prod.AdminRole" in master and "Add maria.admin to prod.AdminRole" in master
    assert "CreateGroup ×12" in master
    assert "Applied" in page(client, reverse("plans:detail", args=[pending_plan.pk]))
    live = page(client, reverse("plans:live_roles") + "?read=1")
    assert "<li>AdminRole (<code>arn:aws:iam::222222222222:role/AdminRole</code>)</li>" in live


def test_a_failed_job_shows_the_error_and_stops_refreshing(client_for, people, sample_world, pending_plan, eddie):
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)
    sample_world.session("master").client("iam").delete_user(UserName="finance.ng")
    job = run_apply_job(services.apply_request(actor=eddie, plan=pending_plan))
    assert job.status == Job.Status.FAILED

    html = page(client_for(people.viewer), reverse("plans:job_detail", args=[job.pk]))

    assert not POLLING.search(html)
    assert re.search(r'<p class="error" id="job-error">master: AddUserToGroup failed: NoSuchEntity: '
                     r"The user with name finance.ng cannot be found.</p>", html)
    value, master = step_sections(html)[JobStep.MASTER]
    assert 0 < value < 100 and "Failed" in master and "finance.ng cannot be found" in master
    jobs = page(client_for(people.viewer), reverse("plans:job_list"))
    assert reverse("plans:job_detail", args=[job.pk]) in jobs and "cannot be found" in jobs


# ---- live roles ---------------------------------------------------------------------------------


def test_a_viewer_reads_the_live_roles_from_aws(client_for, people, sample_world):
    client = client_for(people.viewer)
    assert "Account:" not in page(client, reverse("plans:live_roles"))

    html = page(client, reverse("plans:live_roles") + "?read=1")

    for name in SAMPLE_ACCOUNTS:
        assert f"<h2>Account: {name}" in html
    assert html.count("No stack yet.") == len(SAMPLE_ACCOUNTS)


def test_an_unreachable_aws_shows_the_reason_per_account(client_for, people, sample_world, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    aws.reset_session_cache()

    html = page(client_for(people.viewer), reverse("plans:live_roles") + "?read=1")

    errors = re.findall(r'<p class="error">([^<]*)</p>', html)
    assert [error.split(":", 1)[0] for error in errors] == ["prod", "cdn", "staging"]  # as imported
    assert all("Could not connect to the endpoint URL" in error for error in errors), errors


def test_the_step_log_shows_times_in_the_console_time_zone(client_for, people, settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    plan = plan_row(people.editor)
    job = plan.jobs.get()
    JobStep.objects.create(job=job, target="prod", status=JobStep.Status.SUCCEEDED,
                           log=[{"at": "2026-07-01T10:15:30+00:00", "message": "Stack UPDATE_COMPLETE"},
                                {"at": "not a time", "message": "a line from an older release"}])

    html = page(client_for(people.viewer), reverse("plans:job_detail", args=[job.pk]))

    assert '<span class="muted">12:15:30</span> Stack UPDATE_COMPLETE' in html
    assert '<span class="muted"></span> a line from an older release' in html
