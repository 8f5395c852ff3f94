"""``rolemodel offboard USER --reason TEXT``: remove an IAM user from every group, in one action.

Revokes each of the user's grants (audited with the reason) and requests a revocation plan, which
removes them from every group AWS still has them in: applied at once under the revocation rule
(``ROLEMODEL_AUTO_APPLY_REVOCATIONS``), or waiting for an Approver when the rule is off.
"""
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from cli.actors import add_actor_argument, resolve_actor
from cli.arguments import text_argument
from cli.base import Subcommand
from cli.workflow import emit_json
from plans import revocation


class OffboardSubcommand(Subcommand):
    name = "offboard"
    help = "Remove an IAM user from every group: revoke all their grants and request a revocation plan."

    def add_arguments(self, parser):
        parser.add_argument("user_name", type=text_argument, metavar="USER", help="the IAM user's name")
        parser.add_argument("--reason", type=text_argument, required=True, help="why (kept in the audit history)")
        parser.add_argument("--json", action="store_true", help="Print one JSON object on stdout.")
        add_actor_argument(parser)

    def handle(self, command, *, user_name, reason, actor_username=None, json=False, **options):
        actor = resolve_actor(actor_username)
        try:
            done = revocation.offboard(actor=actor, user_name=user_name, reason=reason)
        except (ValidationError, PermissionDenied) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError(" ".join(messages) + " Nothing was changed.") from None
        then = ("the system approves and applies it at once (ROLEMODEL_AUTO_APPLY_REVOCATIONS)"
                if settings.ROLEMODEL_AUTO_APPLY_REVOCATIONS else "it waits for an Approver")
        if json:
            emit_json(command, {"id": done.plan.pk, "kind": done.plan.kind, "status": done.plan.status,
                                "user": done.iam_user.user_name, "revoked": done.revoked})
            return
        for revoked in done.revoked:
            command.stdout.write(f"  - {revoked}")
        command.stdout.write(f"{done.iam_user.user_name}: {len(done.revoked)} grant(s) revoked. Revocation plan "
                             f"#{done.plan.pk} removes them from every group in AWS; {then}.")
