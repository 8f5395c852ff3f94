"""``rolemodel import CONFIG.yml [--users USERS.yml] [--as USERNAME] [--dry-run]``."""
from pathlib import Path

from django.core.management.base import CommandError

from cli.actors import add_actor_argument, resolve_actor
from cli.arguments import path_argument
from cli.base import Subcommand
from interchange.importing import ImportRefused, import_files

MAX_PROBLEMS_SHOWN = 100


class ImportSubcommand(Subcommand):
    name = "import"
    help = "Import the original tool's config, roles template and user map (creates or updates, never deletes)."

    def add_arguments(self, parser):
        parser.add_argument("config", type=path_argument, metavar="CONFIG.yml", help="The original tool's config file.")
        parser.add_argument(
            "--users", type=path_argument, metavar="USERS.yml", help="The user map: account → role → IAM user names."
        )
        add_actor_argument(parser)
        parser.add_argument("--dry-run", action="store_true", help="Show what would change, then save nothing.")

    def handle(self, command, *, config, users=None, actor_username=None, dry_run=False, **options):
        actor = resolve_actor(actor_username)
        try:
            report = import_files(
                config_path=Path(config),
                users_path=Path(users) if users else None,
                actor=actor,
                dry_run=dry_run,
            )
        except ImportRefused as refused:
            raise CommandError(refusal_message(refused.problems)) from None
        for line in report.lines():
            command.stdout.write(line)


def refusal_message(problems: list[str], *, nothing_done: str = "Nothing was imported") -> str:
    shown = problems[:MAX_PROBLEMS_SHOWN]
    lines = [f"{nothing_done}; {len(problems)} problem{'s' if len(problems) != 1 else ''} to fix:"]
    lines.extend(f"  - {problem}" for problem in shown)
    if len(problems) > len(shown):
        lines.append(f"  … and {len(problems) - len(shown)} more.")
    return "\n".join(lines)
