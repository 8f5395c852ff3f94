"""Who the command line acts as, for the audit history: ``--as USERNAME`` or a named system actor."""
import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from audit.models import AuditEvent
from audit.services import Actor


def add_actor_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--as",
        dest="actor_username",
        metavar="USERNAME",
        help="Console user to record in the audit history (default: system:<your login name>).",
    )


def resolve_actor(username: str | None) -> Actor:
    if username is None:
        return Actor.system(f"system:{_login_name()}", source=AuditEvent.Source.CLI)
    if not username.strip():
        raise CommandError("--as needs the username of a console user; leave --as out to act as yourself.")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        # No console user can have this name; asking the database could fail on a NUL or a non-UTF-8 name.
        raise CommandError(f"--as {username!r}: there is no console user with this username.") from None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--as {username}: there is no console user with this username.")
    if not user.is_active:
        raise CommandError(f"--as {username}: this console user is deactivated.")
    return Actor.from_user(user, source=AuditEvent.Source.CLI)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No login name in the environment and no passwd entry (some containers).
        return "unknown"
