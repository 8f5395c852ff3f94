"""``rolemodel plan / approve / reject / apply / list / sync_users`` against the fake AWS.

No worker runs here: the transaction never commits, so tasks queued with ``on_commit`` never
start. Where a test uses ``--wait``, a stand-in for the worker runs the queued job between two
polls of the wait loop, calling the same functions the Celery tasks call.
"""
import json
import time
from io import StringIO
from types import SimpleNamespace

import pytest
import yaml
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AssumableAccount
from audit.models import AuditEvent
from audit.services import Actor
from cli import workflow
from integrations import aws
from memberships.models import IAMUser, Membership
from memberships.services import membership_revoke
from plans import planning, services, tasks
from plans.models import Job, JobStep, Plan
from tests.aws_world import SAMPLE_ACCOUNTS, SAMPLE_ROLES, pending_plan, sample_world  # noqa: F401 - fixtures
from tests.workflow import plan_now, run_apply_job

pytestmark = pytest.mark.django_db

ACCOUNT_IDS = {"prod": "222222222222", "cdn": "333333333333", "staging": "444444444444"}


# ---- helpers -----------------------------------------------------------------------------------


def rolemodel(*args) -> tuple[str, str]:
    """Run ``manage.py rolemodel ARGS``; (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command("rolemodel", *[str(arg) for arg in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args) -> str:
    """Run a command that must fail; its message (manage.py prints it and exits with status 1)."""
    with pytest.raises(CommandError) as raised:
        rolemodel(*args)
    assert raised.value.returncode != 0
    return str(raised.value)


def one_json_object(stdout: str) -> dict:
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout must hold exactly one JSON object, not:\n{stdout}"
    payload = json.loads(lines[0])
    assert isinstance(payload, dict)
    return payload


class StandInWorker:
    """Takes the place of ``time.sleep`` in the ``--wait`` loop: runs the queued jobs as the worker would."""

    def __init__(self):
        self.polls = 0

    def sleep(self, seconds):
        self.polls += 1
        for job in Job.objects.filter(status=Job.Status.QUEUED):
            if job.kind == Job.Kind.PLAN:
                planning.plan_compute(plan_id=job.plan_id)
            else:
                run_apply_job(job)


@pytest.fixture
def worker(monkeypatch) -> StandInWorker:
    stand_in = StandInWorker()
    monkeypatch.setattr(workflow, "time", SimpleNamespace(monotonic=time.monotonic, sleep=stand_in.sleep))
    return stand_in


@pytest.fixture
def plan_row(people) -> Plan:
    """A plan waiting for approval as the planner stores it, requested and edited by eddie; no AWS behind it."""
    return Plan.objects.create(status=Plan.Status.PENDING, requested_by=people.editor, requested_by_name="eddie",
                               editors=["eddie"], summary={"add": 1, "change": 0, "remove": 0})


def database_state() -> tuple:
    """Everything a refused command must leave as it was."""
    return (
        sorted(Plan.objects.values_list("pk", "status", "decided_by_name", "decision_comment")),
        sorted(Job.objects.values_list("pk", "kind", "status")),
        sorted(Membership.objects.values_list("iam_user__user_name", "account__name", "role__logical_name")),
        sorted(IAMUser.objects.values_list("user_name", flat=True)),
        AuditEvent.objects.count(),
    )


def members(account: str, role: str) -> set[str]:
    return set(Membership.objects.filter(account__name=account, role__logical_name=role)
               .values_list("iam_user__user_name", flat=True))


# ---- plan ---------------------------------------------------------------------------------------


def test_plan_json_prints_one_object_and_queues_the_worker(
    sample_world, people, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(tasks.compute_plan_task, "delay", queued.append)

    with django_capture_on_commit_callbacks(execute=True):
        stdout, stderr = rolemodel("plan", "--json", "--as", "eddie")

    payload = one_json_object(stdout)
    plan = Plan.objects.get()
    assert payload == {
        "id": plan.pk, "kind": "converge", "status": "planning", "summary": "Planning…",
        "changes": {"add": 0, "change": 0, "remove": 0}, "blocked": False, "blocks": [], "warnings": [], "error": "",
        "api_calls": {"total": 0, "reads": 0, "writes": 0, "retries": 0},
        "targets": {"master": None, "accounts": []},  # known once the worker has computed the plan
        "resources": [], "role_repairs": [], "members": {"add": [], "remove": []}, "unknown_groups": [], "stacks": [],
    }
    assert f"Plan #{plan.pk} requested." in stderr
    assert queued == [plan.pk]
    assert plan.requested_by == people.editor

    planning.plan_compute(plan_id=plan.pk)  # the worker's part

    plan.refresh_from_db()
    assert plan.status == Plan.Status.PENDING and plan.summary["add"] > 0


def test_plan_wait_json_reports_the_computed_plan_and_its_aws_calls(sample_world, worker):
    stdout, stderr = rolemodel("plan", "--wait", "--json", "--as", "eddie")

    payload = one_json_object(stdout)
    plan = Plan.objects.get()
    calls = plan.jobs.get().api_call_totals()
    assert worker.polls >= 1
    assert payload["id"] == plan.pk and payload["status"] == "pending"
    assert payload["changes"] == plan.summary and plan.summary["add"] > 0
    assert payload["blocked"] is False
    assert payload["api_calls"]["total"] == payload["api_calls"]["reads"] + payload["api_calls"]["writes"]
    assert payload["api_calls"] == {key: calls[key] for key in ("total", "reads", "writes", "retries")}
    assert payload["api_calls"]["writes"] == len(SAMPLE_ACCOUNTS)  # one change set per account, nothing else
    assert "[prod] Read the stack and its template" in stderr


def test_plan_wait_prints_the_plan_and_what_to_do_next(sample_world, worker):
    stdout, _ = rolemodel("plan", "--wait", "--as", "eddie")

    plan = Plan.objects.get()
    lines = stdout.splitlines()
    assert f"Plan #{plan.pk}: Waiting for approval" in lines
    assert f"  {plan.summary_line}" in lines
    assert "  prod: stack create (8 resource changes)" in lines
    assert f"  master: {len(SAMPLE_ACCOUNTS) * len(SAMPLE_ROLES)} groups to create" in lines
    assert f"  Waiting for approval: rolemodel approve {plan.pk} --as <approver>" in lines


def test_plan_names_each_change_member_and_unknown_group_in_text_and_json(sample_world, pending_plan, people, worker):
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)
    rolemodel("apply", pending_plan.pk, "--wait", "--as", "eddie")
    iam = sample_world.session("master").client("iam")
    iam.add_user_to_group(GroupName="prod.AdminRole", UserName="finance.ng")  # by hand, behind the console's back
    iam.create_group(GroupName="legacy.OldRole", Path="/RoleModel/")
    iam.add_user_to_group(GroupName="legacy.OldRole", UserName="dev.jones")
    gone = Membership.objects.get(iam_user__user_name="support.lee", account__name="cdn")
    membership_revoke(actor=Actor.from_user(people.other_editor), membership=gone, reason="moved to the prod team")

    # A group the console never knew that still has members blocks the plan (plans/guards.py); the
    # plan still names everything it found.
    out = StringIO()
    with pytest.raises(CommandError, match="is blocked"):
        call_command("rolemodel", "plan", "--wait", "--as", "eddie", stdout=out)

    lines = out.getvalue().splitlines()
    assert "  master: 2 members to remove" in lines  # the counts stay, and now the names follow them
    assert "    remove finance.ng from prod.AdminRole (not in the console)" in lines
    assert "    remove support.lee from cdn.ReadOnlyRole (removed in the console by erin: moved to the prod team)" in lines
    assert "    remove group legacy.OldRole (unknown to the console; its members go with it: dev.jones)" in lines

    out = StringIO()
    with pytest.raises(CommandError, match="is blocked"):
        call_command("rolemodel", "plan", "--wait", "--json", "--as", "eddie", stdout=out)
    payload = one_json_object(out.getvalue())
    assert any("legacy.OldRole" in block for block in payload["blocks"])
    removed = {(m["user"], m["group"]): m["not_in_console"] for m in payload["members"]["remove"]}
    assert removed == {("finance.ng", "prod.AdminRole"): True, ("support.lee", "cdn.ReadOnlyRole"): False,
                       ("dev.jones", "legacy.OldRole"): True}
    assert [g["group"] for g in payload["unknown_groups"]] == ["legacy.OldRole"]
    assert payload["resources"] == [] and payload["stacks"] == []  # the stacks are as applied


def test_a_blocked_plan_says_what_blocks_it(sample_world, worker):
    sample_world.session("master").client("iam").delete_user(UserName="finance.ng")

    out = StringIO()
    with pytest.raises(CommandError, match="is blocked and cannot be approved"):
        call_command("rolemodel", "plan", "--wait", "--json", "--as", "eddie", stdout=out)
    payload = one_json_object(out.getvalue())

    assert payload["status"] == "blocked" and payload["blocked"] is True
    assert "IAM user finance.ng does not exist in the master account." in payload["blocks"]
    assert payload["api_calls"]["writes"] == 0
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("rolemodel", "plan", "--wait", "--as", "eddie", stdout=out)
    assert "  BLOCKED: IAM user finance.ng does not exist in the master account." in out.getvalue().splitlines()


def test_planning_that_fails_exits_with_the_reason(sample_world, worker, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    aws.reset_session_cache()

    message = refused("plan", "--wait", "--as", "eddie")

    assert message.startswith("Planning failed: ")
    assert Plan.objects.get().status == Plan.Status.FAILED


def test_plan_refuses_an_unknown_or_deactivated_actor_and_creates_nothing(people):
    before = database_state()
    assert "--as nobody-here: there is no console user with this username." in refused("plan", "--as", "nobody-here")
    people.other_editor.is_active = False
    people.other_editor.save()
    assert "--as erin: this console user is deactivated." in refused("plan", "--json", "--as", "erin")
    assert database_state() == before


def test_plan_as_a_viewer_is_refused_as_in_the_console(people):
    before = database_state()
    message = refused("plan", "--as", "vera")
    assert message == "--as vera: only members of the Editor or Admin group request plans."
    assert database_state() == before


# ---- approve and reject -------------------------------------------------------------------------


def test_approve_records_the_approver(pending_plan, people):
    stdout, _ = rolemodel("approve", pending_plan.pk, "--as", "april", "--comment", "checked")

    assert stdout.strip() == f"Plan #{pending_plan.pk} approved by april."
    pending_plan.refresh_from_db()
    assert (pending_plan.status, pending_plan.decided_by, pending_plan.decision_comment) == (
        Plan.Status.APPROVED, people.approver, "checked")
    event = AuditEvent.objects.get(action="plan_approved")
    assert (event.actor_name, event.source) == ("april", AuditEvent.Source.CLI)


def test_approve_json_prints_the_plan(plan_row):
    payload = one_json_object(rolemodel("approve", plan_row.pk, "--as", "april", "--json")[0])
    assert (payload["id"], payload["status"]) == (plan_row.pk, "approved")


def test_approve_is_refused_to_the_requester(sample_world, people, worker):
    people.approver.groups.add(people.editor.groups.get())
    plan_id = one_json_object(rolemodel("plan", "--wait", "--json", "--as", "april")[0])["id"]
    before = database_state()

    message = refused("approve", plan_id, "--as", "april")

    assert message == (f"Plan #{plan_id} was not approved: "
                       "You requested this plan; another person must approve it (four eyes).")
    assert database_state() == before


def test_approve_is_refused_to_an_editor_of_the_carried_state(sample_world, people, eddie):
    gone = Membership.objects.select_related("iam_user", "account", "role").first()
    # Arthur edits while he is an Editor, then moves to the Approver group (the service checks the capability).
    editors = Group.objects.get(name="Editor")
    people.other_approver.groups.add(editors)
    arthur = User.objects.get(pk=people.other_approver.pk)
    membership_revoke(actor=Actor.from_user(arthur), membership=gone, reason="left the company")
    people.other_approver.groups.remove(editors)
    plan = plan_now(eddie)
    assert "arthur" in plan.editors
    before = database_state()

    message = refused("approve", plan.pk, "--as", "arthur")

    assert message == (f"Plan #{plan.pk} was not approved: "
                       "You edited the desired state this plan carries; another person must approve it (four eyes).")
    assert database_state() == before


@pytest.mark.parametrize("as_user, reason", [
    (None, "Name the approver with --as USERNAME: a plan is approved by a person."),
    ("eddie", "Only members of the Approver group approve plans."),
    ("root", "Only members of the Approver group approve plans."),
    ("ghost", "--as ghost: there is no console user with this username."),
])
def test_approve_needs_a_named_approver(plan_row, as_user, reason):
    before = database_state()
    message = refused("approve", plan_row.pk, *(["--as", as_user] if as_user else []))
    assert reason in message
    assert database_state() == before


def test_reject_needs_a_comment(plan_row):
    before = database_state()
    assert "the following arguments are required: --comment" in refused("reject", plan_row.pk, "--as", "april")
    assert "Say why you reject this plan" in refused("reject", plan_row.pk, "--as", "april", "--comment", "  ")
    assert database_state() == before


def test_reject_with_a_comment_closes_the_plan(pending_plan, django_capture_on_commit_callbacks, monkeypatch):
    discarded = []
    monkeypatch.setattr(tasks.discard_change_sets_task, "delay", discarded.append)

    with django_capture_on_commit_callbacks(execute=True):
        stdout, _ = rolemodel("reject", pending_plan.pk, "--as", "april", "--comment", "not during the freeze")

    assert stdout.strip() == f"Plan #{pending_plan.pk} rejected by april."
    pending_plan.refresh_from_db()
    assert (pending_plan.status, pending_plan.decision_comment) == (Plan.Status.REJECTED, "not during the freeze")
    assert discarded == [pending_plan.pk]
    assert "Only a plan waiting for approval" in refused("reject", pending_plan.pk, "--as", "arthur", "--comment", "x")


def test_reject_is_refused_to_an_editor(plan_row):
    before = database_state()
    message = refused("reject", plan_row.pk, "--as", "erin", "--comment", "no")
    # refused before the plan is even looked up, like the console's 403 (cli/capabilities.py)
    assert message == "--as erin: Only members of the Approver group reject plans."
    assert database_state() == before


# ---- apply --------------------------------------------------------------------------------------


def test_apply_refuses_a_plan_that_is_not_approved(plan_row):
    before = database_state()
    message = refused("apply", plan_row.pk, "--as", "eddie")
    assert message == (f"Plan #{plan_row.pk} was not applied: "
                       "Only an approved plan can be applied; this one is waiting for approval.")
    assert database_state() == before


def test_apply_refuses_a_stale_plan(pending_plan, people, eddie):
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)
    membership_revoke(actor=eddie, membership=Membership.objects.select_related("iam_user", "account", "role").first(),
                      reason="left")
    before = database_state()

    message = refused("apply", pending_plan.pk, "--wait", "--as", "eddie")

    assert message == (f"Plan #{pending_plan.pk} was not applied: "
                       "The desired state changed after this plan was made, so it is stale. Request a new plan.")
    assert database_state() == before


def test_apply_as_a_viewer_is_refused_as_in_the_console(pending_plan, people):
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)
    before = database_state()
    message = refused("apply", pending_plan.pk, "--as", "vera")
    assert message == "--as vera: only members of the Editor, Admin or Approver group start applies."
    assert database_state() == before


def test_apply_without_wait_reports_the_queued_job(
    pending_plan, people, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(tasks.apply_account_task, "delay", sent.append)
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)

    with django_capture_on_commit_callbacks(execute=True):
        stdout, stderr = rolemodel("apply", pending_plan.pk, "--json", "--as", "eddie")

    payload = one_json_object(stdout)
    job = Job.objects.get(kind=Job.Kind.APPLY)
    assert (payload["id"], payload["plan"], payload["status"], payload["plan_status"]) == (
        job.pk, pending_plan.pk, "queued", "applying")
    assert f"Apply job #{job.pk} started for plan #{pending_plan.pk}." in stderr
    assert len(sent) == len(SAMPLE_ACCOUNTS)


def test_apply_wait_json_exits_non_zero_when_the_job_fails(sample_world, pending_plan, people, worker):
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)
    # finance.ng leaves the company after the plan was approved: the master step cannot add them to their group.
    sample_world.session("master").client("iam").delete_user(UserName="finance.ng")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("rolemodel", "apply", str(pending_plan.pk), "--wait", "--json", "--as", "eddie",
                     stdout=out, stderr=err)

    job = Job.objects.get(kind=Job.Kind.APPLY)
    reason = "master: AddUserToGroup failed: NoSuchEntity: The user with name finance.ng cannot be found."
    assert str(raised.value) == f"Apply job #{job.pk} failed: {reason}"
    payload = one_json_object(out.getvalue())
    assert (payload["status"], payload["plan_status"], payload["error"]) == ("failed", "apply_failed", reason)
    steps = {step["target"]: step for step in payload["steps"]}
    assert all(steps[name]["status"] == "succeeded" for name in SAMPLE_ACCOUNTS)
    assert steps[JobStep.MASTER]["status"] == "failed" and steps[JobStep.MASTER]["error"] == reason
    assert payload["api_calls"]["writes"] > 0
    assert "[(master)] Create group prod.AdminRole" in err.getvalue()


CONFIG_ORDER = ("prod", "cdn", "staging")  # samples/config.yml; not the alphabetical order


def test_list_before_any_stack_prints_nothing_as_the_original_does(sample_world):
    stdout, stderr = rolemodel("list")
    assert (stdout, stderr) == ("", "")
    as_json = one_json_object(rolemodel("list", "--json")[0])
    assert [(a["name"], a["stack"], a["note"]) for a in as_json["accounts"]] == [
        (name, False, "No stack yet.") for name in CONFIG_ORDER
    ]


def test_apply_wait_then_list_prints_each_account_and_its_roles(sample_world, pending_plan, people, worker):
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)

    stdout, _ = rolemodel("apply", pending_plan.pk, "--wait", "--as", "eddie")

    job = Job.objects.get(kind=Job.Kind.APPLY)
    assert f"Job #{job.pk}: Succeeded" in stdout.splitlines()
    assert Plan.objects.get(pk=pending_plan.pk).status == Plan.Status.APPLIED
    listing, _ = rolemodel("list")
    expected = []
    for name in CONFIG_ORDER:  # the original's format: "Account: <name>", then "<role> (<arn>)" unindented
        expected.append(f"Account: {name}")
        expected += [f"{role} (arn:aws:iam::{ACCOUNT_IDS[name]}:role/{role})" for role in sorted(SAMPLE_ROLES)]
    assert listing.splitlines() == expected
    as_json = one_json_object(rolemodel("list", "--json")[0])
    assert [account["name"] for account in as_json["accounts"]] == list(CONFIG_ORDER)
    prod = as_json["accounts"][0]
    assert (prod["account_id"], prod["stack"], prod["error"]) == (ACCOUNT_IDS["prod"], True, "")
    assert {role["logical_id"] for role in prod["roles"]} == set(SAMPLE_ROLES)


def test_list_leaves_out_an_account_without_a_stack_and_fails_naming_one_it_cannot_read(
    sample_world, pending_plan, people, worker
):
    services.plan_approve(actor=Actor.from_user(people.approver), plan=pending_plan)
    rolemodel("apply", pending_plan.pk, "--wait", "--as", "eddie")
    sample_world.session("cdn").client("cloudformation").delete_stack(StackName="Sample-RoleModel")
    AssumableAccount.objects.filter(name="staging").update(profile="no-such-profile")
    aws.reset_session_cache()

    out = StringIO()
    with pytest.raises(CommandError, match="Could not read 1 account"):
        call_command("rolemodel", "list", stdout=out)

    assert out.getvalue().splitlines() == ["Account: prod"] + [
        f"{role} (arn:aws:iam::{ACCOUNT_IDS['prod']}:role/{role})" for role in sorted(SAMPLE_ROLES)
    ]


# ---- bad plan ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["approve", "--as", "april"], ["reject", "--as", "april", "--comment", "no"], ["apply", "--as", "eddie"],
])
@pytest.mark.parametrize("plan_id, reason", [
    ("999", "There is no plan #999."),
    ("0", "There is no plan #0."),
    (str(10**30), f"There is no plan #{10**30}."),
    ("abc", "argument PLAN_ID: invalid int value: 'abc'"),
    ("3.5", "argument PLAN_ID: invalid int value: '3.5'"),
])
def test_an_unknown_or_malformed_plan_id_is_refused(people, command, plan_id, reason):
    before = database_state()
    name, *options = command
    assert reason in refused(name, plan_id, *options)
    assert database_state() == before


def test_waiting_gives_up_after_the_timeout_and_the_job_goes_on(sample_world, monkeypatch):
    no_worker = SimpleNamespace(monotonic=time.monotonic, sleep=lambda seconds: time.sleep(0.02))
    monkeypatch.setattr(workflow, "time", no_worker)

    message = refused("plan", "--wait", "--timeout", "0.01", "--json", "--as", "eddie")

    plan = Plan.objects.get()
    assert message == f"Job #{plan.jobs.get().pk} has not finished after 0.01 s; it goes on in the background."
    assert plan.status == Plan.Status.PLANNING


def test_a_bad_wait_timeout_is_refused(people):
    before = database_state()
    message = refused("plan", "--wait", "--timeout", "0", "--as", "eddie")
    assert "the timeout must be between 0 and 86400 seconds" in message
    assert "is not a number of seconds" in refused("apply", "1", "--wait", "--timeout", "soon")
    assert database_state() == before


# ---- sync_users ---------------------------------------------------------------------------------


def write_user_map(tmp_path, user_map) -> str:
    path = tmp_path / "users.yml"
    path.write_text(user_map if isinstance(user_map, str) else yaml.safe_dump(user_map))
    return str(path)


def test_sync_users_sets_each_listed_group_to_exactly_the_listed_users(sample_world, tmp_path):
    untouched = {(account, role): members(account, role) for account in SAMPLE_ACCOUNTS for role in SAMPLE_ROLES
                 if (account, role) not in {("prod", "AdminRole"), ("prod", "PowerUserRole"), ("cdn", "ReadOnlyRole")}}
    assert members("prod", "PowerUserRole") == {"dev.jones", "dev.okafor"}
    assert members("cdn", "ReadOnlyRole") == {"support.lee"}
    user_map = {"prod": {"AdminRole": ["maria.admin", "dev.jones", "new.hire"], "PowerUserRole": ["dev.okafor"]},
                "cdn": {"ReadOnlyRole": []}}

    stdout, _ = rolemodel("sync_users", write_user_map(tmp_path, user_map), "--as", "erin")

    assert members("prod", "AdminRole") == {"maria.admin", "dev.jones", "new.hire"}
    assert members("prod", "PowerUserRole") == {"dev.okafor"}
    assert members("cdn", "ReadOnlyRole") == set()
    assert {pair: members(*pair) for pair in untouched} == untouched
    lines = stdout.splitlines()
    assert "  + dev.jones → prod.AdminRole" in lines and "  + new.hire → prod.AdminRole" in lines
    assert lines[-1] == "2 granted, 2 revoked, 1 IAM users added. Run `rolemodel plan` to carry this to AWS."
    events = AuditEvent.objects.filter(actor_name="erin", source=AuditEvent.Source.CLI)
    assert events.filter(action="create", object_type="membership").count() == 2
    assert events.filter(action="delete", object_type="membership").count() == 2
    assert events.filter(action="create", object_type="IAM user").count() == 1
    assert set(events.values_list("reason", flat=True)) == {"sync_users users.yml"}


def test_sync_users_twice_changes_nothing_the_second_time(sample_world, tmp_path):
    path = write_user_map(tmp_path, {"prod": {"AdminRole": ["dev.jones"]}})
    rolemodel("sync_users", path, "--as", "erin")
    before = database_state()

    stdout, _ = rolemodel("sync_users", path, "--as", "erin")

    assert stdout.splitlines()[-1].startswith("0 granted, 0 revoked, 0 IAM users added.")
    assert database_state() == before


def eleven_groups() -> dict:
    pairs = [(account, role) for account in sorted(SAMPLE_ACCOUNTS) for role in SAMPLE_ROLES][:11]
    user_map = {}
    for account, role in pairs:
        user_map.setdefault(account, {})[role] = ["dev.jones"]
    return user_map


@pytest.mark.parametrize("user_map, reason", [
    ({"nowhere": {"AdminRole": ["dev.jones"]}}, "Unknown account “nowhere”."),
    ({"prod": {"NoSuchRole": ["dev.jones"]}}, "Unknown role “NoSuchRole” (under account prod)."),
    (eleven_groups(), "dev.jones would be in 11 groups; an IAM user can be in at most 10 groups"),
    ({"prod": {"AdminRole": ["has space"]}}, "users.yml, account prod, role AdminRole"),
    ({"prod": {"AdminRole": "dev.jones"}}, "users.yml, account prod, role AdminRole"),
    ("prod: [unclosed", "users.yml"),
])
def test_sync_users_refuses_a_bad_user_map_and_changes_nothing(sample_world, tmp_path, user_map, reason):
    before = database_state()
    message = refused("sync_users", write_user_map(tmp_path, user_map), "--as", "erin")
    assert reason in message
    assert database_state() == before


def test_sync_users_says_nothing_was_changed_and_lists_every_problem(sample_world, tmp_path):
    user_map = {"nowhere": {"AdminRole": ["dev.jones"]}, "prod": {"NoSuchRole": [], "AdminRole": ["dev.jones"]}}
    message = refused("sync_users", write_user_map(tmp_path, user_map), "--as", "erin")
    assert message.splitlines() == [
        "No membership was changed; 2 problems to fix:",
        "  - Unknown account “nowhere”.",
        "  - Unknown role “NoSuchRole” (under account prod).",
    ]
    assert members("prod", "AdminRole") == {"maria.admin"}


def test_sync_users_refuses_a_missing_file_or_a_directory(people, tmp_path):
    before = database_state()
    missing = tmp_path / "missing.yml"
    assert refused("sync_users", missing, "--as", "erin") == f"{missing}: no such file."
    assert "is a directory" in refused("sync_users", tmp_path, "--as", "erin")
    assert database_state() == before


def test_sync_users_refuses_an_unknown_actor_or_a_viewer(sample_world, tmp_path):
    path = write_user_map(tmp_path, {"prod": {"AdminRole": ["dev.jones"]}})
    before = database_state()
    assert "--as ghost: there is no console user" in refused("sync_users", path, "--as", "ghost")
    assert refused("sync_users", path, "--as", "vera") == (
        "--as vera: only members of the Editor or Admin group change memberships.")
    assert database_state() == before
