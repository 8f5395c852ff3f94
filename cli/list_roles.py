"""``rolemodel list``: every account's roles and ARNs, read from AWS (the original tool's output)."""
from django.core.management.base import CommandError

from cli.base import Subcommand
from cli.workflow import emit_json
from plans.live import live_roles


class ListSubcommand(Subcommand):
    name = "list"
    help = "List the roles and their ARNs in every enabled account, read from AWS now."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object (account ids, logical ids, errors).")

    def handle(self, command, *, json=False, **options):
        report = live_roles()
        if json:
            emit_json(command, report)
        else:
            write_listing(command, report)
        unreadable = [account for account in report["accounts"] if account["error"]]
        if unreadable:
            raise CommandError(f"Could not read {len(unreadable)} account(s): "
                               + "; ".join(account["error"] for account in unreadable))


def write_listing(command, report: dict) -> None:
    """Exactly the original tool's lines, so scripts that read them keep working.

    The original printed an account only when its stack existed (``if stack.exists()``), then one
    unindented ``<physical role name> (<arn>)`` line per role. An account that could not be read
    is left out of stdout too; its error ends the command (a non-zero status and the message).
    """
    for account in report["accounts"]:
        if account["error"] or not account["stack"]:
            continue
        command.stdout.write(f"Account: {account['name']}")
        for role in account["roles"]:
            command.stdout.write(f"{role['role_name']} ({role['arn']})")
