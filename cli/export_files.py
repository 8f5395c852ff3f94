"""``rolemodel export DIR [--force]``."""
from pathlib import Path

from django.core.management.base import CommandError

from cli.arguments import path_argument
from cli.base import Subcommand
from interchange.exporting import ExportRefused, export_files


class ExportSubcommand(Subcommand):
    name = "export"
    help = "Write config.yml, roles.cf and users.yml in the original tool's formats."

    def add_arguments(self, parser):
        parser.add_argument(
            "directory", type=path_argument, metavar="DIR", help="Directory for the three files (created if missing)."
        )
        parser.add_argument("--force", action="store_true", help="Replace files of the same names in DIR.")

    def handle(self, command, *, directory, force=False, **options):
        try:
            result = export_files(Path(directory), overwrite=force)
        except ExportRefused as refused:
            raise CommandError(str(refused)) from None
        for path in result.paths:
            command.stdout.write(f"Wrote {path}")
        for note in result.notes:
            command.stdout.write(f"Note: {note}")
