"""``rolemodel list``: every account's roles and ARNs, read from AWS (the original tool's output)."""
from django.core.management.base import CommandError

from core.cli.base import Subcommand
from core.cli.workflow import emit_json
from plans.live import live_roles


class ListSubcommand(Subcommand):
    name = "list"
    help = "List the roles and their ARNs in every enabled account, read from AWS now."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, command, *, json=False, **options):
        report = live_roles()
        if json:
            emit_json(command, report)
        else:
            for account in report["accounts"]:
                command.stdout.write(f"Account: {account['name']}")
                if account["error"] or account["note"]:
                    command.stdout.write(f"    ({account['error'] or account['note']})")
                for role in account["roles"]:
                    command.stdout.write(f"    {role['role_name']} ({role['arn']})")
        unreadable = [account["name"] for account in report["accounts"] if account["error"]]
        if unreadable:
            raise CommandError(f"Could not read {len(unreadable)} account(s): {', '.join(unreadable)}.")
