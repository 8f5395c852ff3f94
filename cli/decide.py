"""``rolemodel approve PLAN_ID`` and ``rolemodel reject PLAN_ID --comment TEXT`` (four eyes, as in the UI)."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from cli.actors import add_actor_argument, resolve_actor
from cli.arguments import text_argument
from cli.base import Subcommand
from cli.workflow import add_output_arguments, emit_json, get_plan, plan_payload
from plans import services


class _Decision(Subcommand):
    """Approve and reject differ only in their service, their word for it and whether --comment is required."""

    past_tense = ""
    comment_required = False
    comment_help = ""

    @staticmethod
    def decision(*, actor, plan, comment):
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("plan_id", type=int, metavar="PLAN_ID")
        add_actor_argument(parser)
        add_output_arguments(parser, wait=False)
        if self.comment_required:
            parser.add_argument("--comment", type=text_argument, required=True, help=self.comment_help)
        else:
            parser.add_argument("--comment", type=text_argument, default="", help=self.comment_help)

    def handle(self, command, *, plan_id, actor_username=None, json=False, comment="", **options):
        actor = resolve_actor(actor_username)
        if actor.user is None:
            raise CommandError(f"Name the approver with --as USERNAME: a plan is {self.past_tense} by a person.")
        plan = get_plan(plan_id)
        try:
            plan = self.decision(actor=actor, plan=plan, comment=comment)
        except (ValidationError, PermissionDenied) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError(f"Plan #{plan_id} was not {self.past_tense}: {' '.join(messages)}") from None
        if json:
            emit_json(command, plan_payload(plan))
        else:
            command.stdout.write(f"Plan #{plan.pk} {plan.get_status_display().lower()} by {actor.name}.")


class ApproveSubcommand(_Decision):
    name = "approve"
    past_tense = "approved"
    help = "Approve a plan (Approver group; not its requester nor an editor of the state it carries)."
    comment_help = "Optional note kept in the audit history."
    decision = staticmethod(services.plan_approve)


class RejectSubcommand(_Decision):
    name = "reject"
    past_tense = "rejected"
    help = "Reject a plan with a comment; its change sets are deleted."
    comment_required = True
    comment_help = "Why the plan is rejected."
    decision = staticmethod(services.plan_reject)
