"""``rolemodel apply PLAN_ID [--wait] [--json]``: execute an approved plan."""
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from cli.actors import add_actor_argument, resolve_actor
from cli.base import Subcommand
from cli.workflow import (
    add_output_arguments,
    emit_json,
    get_plan,
    job_payload,
    progress,
    wait_for_job,
)
from plans import services
from plans.models import Job


class ApplySubcommand(Subcommand):
    name = "apply"
    help = "Apply an approved plan: stacks in every account in parallel, then the master account's groups."

    def add_arguments(self, parser):
        parser.add_argument("plan_id", type=int, metavar="PLAN_ID")
        add_actor_argument(parser)
        add_output_arguments(parser)

    def handle(self, command, *, plan_id, actor_username=None, wait=False, timeout=3600, json=False, **options):
        actor = resolve_actor(actor_username)
        plan = get_plan(plan_id)
        try:
            job = services.apply_request(actor=actor, plan=plan)
        except ValidationError as error:
            raise CommandError(f"Plan #{plan_id} was not applied: {' '.join(error.messages)}") from None
        progress(command, f"Apply job #{job.pk} started for plan #{plan.pk}.", as_json=json)
        if wait:
            job = wait_for_job(command, job, timeout=timeout, as_json=json)
        job.plan.refresh_from_db()
        if json:
            emit_json(command, job_payload(job))
        else:
            command.stdout.write(f"Job #{job.pk}: {job.get_status_display()}")
            if job.error:
                command.stdout.write(f"  {job.error}")
        if wait and job.status == Job.Status.FAILED:
            raise CommandError(f"Apply job #{job.pk} failed: {job.error}")
