"""``rolemodel plan [--teardown] [--wait] [--json]``: request a plan of what would change in AWS."""

from django.core.management.base import CommandError

from cli.actors import add_actor_argument, resolve_actor
from cli.base import Subcommand
from cli.workflow import (
    add_output_arguments,
    emit_json,
    plan_payload,
    progress,
    wait_for_job,
)
from plans import presenting, services
from plans.models import Job, Plan


class PlanSubcommand(Subcommand):
    name = "plan"
    help = "Plan the changes that would bring AWS to the desired state (--teardown: remove everything)."

    def add_arguments(self, parser):
        parser.add_argument("--teardown", action="store_true",
                            help="Plan the original tool's delete: every stack and every /RoleModel/ group.")
        add_actor_argument(parser)
        add_output_arguments(parser)

    def handle(self, command, *, teardown=False, actor_username=None, wait=False, timeout=3600, json=False, **options):
        actor = resolve_actor(actor_username)
        plan = services.plan_request(actor=actor, teardown=teardown)
        progress(command, f"Plan #{plan.pk} requested{' (teardown)' if teardown else ''}.", as_json=json)
        if wait:
            wait_for_job(command, plan.jobs.get(kind=Job.Kind.PLAN), timeout=timeout, as_json=json)
            # The job row finishes in the same transaction as the plan; re-read both.
            plan.refresh_from_db()
        if json:
            emit_json(command, plan_payload(plan))
        else:
            write_plan(command, plan)
        if plan.status == Plan.Status.FAILED:
            raise CommandError(f"Planning failed: {plan.error}")
        if plan.status == Plan.Status.BLOCKED:
            raise CommandError(f"Plan #{plan.pk} is blocked and cannot be approved: fix what it lists, then plan again.")


def write_plan(command, plan: Plan) -> None:
    """The plan for a person at a terminal: the counts, then every change named (plans/presenting.py)."""
    write = command.stdout.write
    report = presenting.plan_report(plan)
    write(f"Plan #{plan.pk}: {plan.get_status_display()}")
    write(f"  {plan.summary_line}")
    for account in plan.accounts:
        if account["action"] not in ("none", "skip"):
            write(f"  {account['name']}: stack {account['action']} ({len(account['resources'])} resource changes)")
            for change in (c for c in report["resources"] if c["account"] == account["name"]):
                write(f"    {change['action']} {change['logical_id']} ({change['type']}), "
                      f"replacement: {change['replacement']}")
        repairs = [repair for repair in report["role_repairs"] if repair["account"] == account["name"]]
        if repairs:
            write(f"  {account['name']}: {len(repairs)} role repair(s), roles edited in IAM outside CloudFormation")
            for repair in repairs:
                write(f"    {repair['operation']} on {repair['role']}: {repair['description']}")
    for note in report["stacks"]:
        write(f"  stack: {note['message']}")
    master = plan.master or {}
    members = report["members"]
    for key, label in (("groups_create", "groups to create"), ("policies_put", "group policies to put"),
                       ("members_add", "members to add"), ("members_remove", "members to remove"),
                       ("groups_remove", "groups to remove")):
        if not master.get(key):
            continue
        write(f"  master: {len(master[key])} {label}")
        if key == "members_add":
            for member in members["add"]:
                write(f"    add {member['user']} to {member['group']}")
        elif key == "members_remove":
            for member in (m for m in members["remove"] if not m["with_group"]):
                write(f"    remove {member['user']} from {member['group']} ({_whose(member)})")
        elif key == "groups_remove":
            unknown = {group["group"] for group in report["unknown_groups"]}
            for group in master["groups_remove"]:
                known = "unknown to the console" if group["group"] in unknown else "known to the console"
                who = f"; its members go with it: {', '.join(group['members'])}" if group["members"] else ""
                write(f"    remove group {group['group']} ({known}{who})")
    for block in plan.blocks:
        write(f"  BLOCKED: {block['message']}")
    for warning in plan.warnings:
        write(f"  warning: {warning}")
    if plan.status == Plan.Status.PENDING:
        write(f"  Waiting for approval: rolemodel approve {plan.pk} --as <approver>")


def _whose(member: dict) -> str:
    if member["not_in_console"]:
        return "not in the console"
    reason = f": {member['reason']}" if member["reason"] else ""
    return f"removed in the console by {member['removed_by']}{reason}"
