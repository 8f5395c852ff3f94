"""Shared by the plan / approve / reject / apply subcommands: waiting, printing, JSON output."""
import argparse
import json
import time

from django.core.management.base import CommandError

from plans import presenting
from plans.models import Job, Plan
from plans.targets import plan_targets

POLL_SECONDS = 0.5


def add_output_arguments(parser, *, wait: bool = True) -> None:
    parser.add_argument("--json", action="store_true", help="Print one JSON object on stdout; progress goes to stderr.")
    if wait:
        parser.add_argument("--wait", action="store_true", help="Wait until the background job has finished.")
        parser.add_argument("--timeout", type=_positive_seconds, default=3600, metavar="SECONDS",
                            help="Give up waiting after this many seconds (default 3600).")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a number of seconds.") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError("the timeout must be between 0 and 86400 seconds.")
    return value


def get_plan(plan_id: int) -> Plan:
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None:
        raise CommandError(f"There is no plan #{plan_id}.")
    return plan


def progress(command, message: str, *, as_json: bool) -> None:
    """Progress lines: stderr with --json (stdout holds only the JSON object), stdout otherwise."""
    (command.stderr if as_json else command.stdout).write(message)


def wait_for_job(command, job: Job, *, timeout: float, as_json: bool) -> Job:
    deadline = time.monotonic() + timeout
    seen = {}
    while True:
        job.refresh_from_db()
        for step in job.steps.all():
            for line in step.log[seen.get(step.pk, 0):]:
                progress(command, f"[{step.target}] {line['message']}", as_json=as_json)
            seen[step.pk] = len(step.log)
        if job.is_finished:
            return job
        if time.monotonic() > deadline:
            raise CommandError(f"Job #{job.pk} has not finished after {timeout:g} s; it goes on in the background.")
        time.sleep(POLL_SECONDS)


def plan_payload(plan: Plan) -> dict:
    job = plan.jobs.filter(kind=Job.Kind.PLAN).first()
    return {
        "id": plan.pk,
        "kind": plan.kind,
        "status": plan.status,
        "summary": plan.summary_line,
        **_changes(plan),
        "blocks": [block["message"] for block in plan.blocks],
        "warnings": plan.warnings,
        "error": plan.error,
        "api_calls": _calls(job),
        "targets": plan_targets(plan),
        # What the plan names one by one (plans/presenting.py): resources, role repairs, members, unknown groups, stacks.
        **presenting.plan_report(plan),
    }


def job_payload(job: Job) -> dict:
    plan = job.plan
    return {
        "id": job.pk,
        "plan": plan.pk,
        "status": job.status,
        "plan_status": plan.status,
        **_changes(plan),
        "error": job.error,
        "steps": [{"target": s.target, "status": s.status, "error": s.error} for s in job.steps.all()],
        "api_calls": _calls(job),
    }


def _changes(plan: Plan) -> dict:
    """What a plan would add, change and remove, and whether anything blocks it: in both payloads."""
    return {
        "changes": {key: plan.summary.get(key, 0) for key in ("add", "change", "remove")},
        "blocked": bool(plan.blocks),
    }


def _calls(job: Job | None) -> dict:
    totals = job.api_call_totals() if job else {"total": 0, "reads": 0, "writes": 0, "retries": 0}
    return {key: totals[key] for key in ("total", "reads", "writes", "retries")}


def emit_json(command, payload: dict) -> None:
    command.stdout.write(json.dumps(payload, sort_keys=True))
