"""``rolemodel sync_users USERS.yml``: each listed group gets exactly the listed users (desired state only)."""
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from cli.actors import add_actor_argument, resolve_actor
from cli.arguments import path_argument
from cli.base import Subcommand
from cli.import_files import refusal_message
from interchange.importing.files import InputFileError, load_file
from interchange.importing.problems import Problems
from interchange.importing.user_map import parse_user_map
from memberships.services import memberships_sync

NOTHING_CHANGED = "No membership was changed"


class SyncUsersSubcommand(Subcommand):
    name = "sync_users"
    help = "Set the members of every (account, role) group listed in USERS.yml to exactly the listed users."

    def add_arguments(self, parser):
        parser.add_argument("users", type=path_argument, metavar="USERS.yml")
        add_actor_argument(parser)

    def handle(self, command, *, users, actor_username=None, **options):
        actor = resolve_actor(actor_username)
        path = Path(users)
        try:
            data = load_file(path)
        except InputFileError as error:
            raise CommandError(str(error)) from None
        problems = Problems()
        groups = parse_user_map(data, source=str(path), problems=problems)
        if problems.messages:
            raise CommandError(refusal_message(problems.messages, nothing_done=NOTHING_CHANGED))
        user_map = {}
        for group in groups:
            user_map.setdefault(group.account_name, {})[group.role_name] = group.user_names
        try:
            result = memberships_sync(actor=actor, user_map=user_map, reason=f"sync_users {path.name}")
        except ValidationError as error:
            raise CommandError(refusal_message(error.messages, nothing_done=NOTHING_CHANGED)) from None
        for membership in result.granted:
            command.stdout.write(f"  + {membership.iam_user.user_name} → {membership.group_name}")
        for revoked in result.revoked:
            command.stdout.write(f"  - {revoked}")
        command.stdout.write(
            f"{len(result.granted)} granted, {len(result.revoked)} revoked, {len(result.users_created)} IAM users added. "
            "Run `rolemodel plan` to carry this to AWS."
        )
