"""``rolemodel audit verify``: check the audit history's hash chain; exit non-zero when it is broken."""
from django.core.management.base import CommandError

from audit.chain import verify_chain
from core.cli.base import Subcommand


class AuditSubcommand(Subcommand):
    name = "audit"
    help = "Check the audit history: `audit verify` walks the hash chain and names the first row that does not fit."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, command, *, action, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(report.message)
        command.stdout.write(report.message)
