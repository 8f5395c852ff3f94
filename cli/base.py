"""What every ``rolemodel`` subcommand provides; see cli/subcommands.py for the list of them."""
from django.core.management.base import BaseCommand, CommandParser


class Subcommand:
    name: str = ""
    help: str = ""

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the subcommand's own arguments."""

    def handle(self, command: BaseCommand, **options) -> None:
        """Do the work, writing through ``command.stdout``; raise ``CommandError`` to fail with a message."""
        raise NotImplementedError
