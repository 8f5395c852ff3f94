"""``rolemodel audit verify|reseal|publish-head``: the audit history's keyed hash chain and its published heads."""
import argparse
import time

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

from audit.chain import default_heads_file, verify_chain
from audit.heads import publish_head
from audit.reseal import reseal_legacy_chain
from cli.actors import add_actor_argument, resolve_actor
from cli.arguments import path_argument
from cli.base import Subcommand


# How often `audit verify` says how far it got, on stderr (a million rows take a minute or more).
PROGRESS_SECONDS = 5.0


def _progress_printer(stderr):
    """A ``verify_chain`` progress callback that writes "verified N of M rows…" at most every PROGRESS_SECONDS."""
    last = time.monotonic()

    def progress(rows: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_SECONDS:
            last = now
            stderr.write(f"verified {rows:,} of {total:,} rows…")
            stderr.flush()

    return progress


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class AuditSubcommand(Subcommand):
    name = "audit"
    help = ("The audit history's hash chain: `audit verify [--heads FILE]` walks it and names the first row that does "
            "not fit; `audit publish-head` publishes its signed head now; `audit reseal` seals legacy rows with the key.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "reseal", "publish-head"])
        parser.add_argument("--heads", type=path_argument, metavar="FILE",
                            help="verify: also check the chain against every head in this file of published heads "
                                 "(default: ROLEMODEL_AUDIT_HEAD_FILE, when heads were published there).")
        parser.add_argument("--chunk-size", type=_positive, default=2000, help="verify: rows read per query.")
        add_actor_argument(parser)

    def handle(self, command, *, action, heads=None, chunk_size=2000, actor_username=None, **options):
        if action != "verify" and heads is not None:
            raise CommandError("--heads belongs to `audit verify`.")
        try:
            self._run(command, action=action, heads=heads, chunk_size=chunk_size, actor_username=actor_username)
        except ImproperlyConfigured as error:  # the audit key is missing, unreadable or too short
            raise CommandError(str(error)) from None

    def _run(self, command, *, action, heads, chunk_size, actor_username):
        if action == "verify":
            report = verify_chain(heads_file=heads if heads is not None else default_heads_file(), chunk_size=chunk_size,
                                  progress=_progress_printer(command.stderr))
            if not report.ok:
                raise CommandError(report.message)
            command.stdout.write(report.message)
        elif action == "reseal":
            actor = resolve_actor(actor_username)
            result = reseal_legacy_chain(actor=actor)
            if not result.ok:
                raise CommandError(result.message)
            command.stdout.write(result.message)
        else:
            result = publish_head()
            if result.record is None:
                raise CommandError(result.refused)
            command.stdout.write(result.line)
            problems = [problem for problem in (result.file_error, result.webhook_error) if problem]
            if problems:
                raise CommandError(" ".join(problems))
