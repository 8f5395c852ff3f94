"""``python manage.py rolemodel <subcommand>``: the original tool's work from the command line."""
import argparse

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from cli.actors import add_actor_argument
from cli.capabilities import check_capability
from cli.subcommands import SUBCOMMANDS


class Command(BaseCommand):
    help = "Work with the original rolemodel tool's files and the desired state. See each subcommand's --help."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for subcommand in SUBCOMMANDS:
            subparser = subparsers.add_parser(subcommand.name, help=subcommand.help, description=subcommand.help)
            subcommand.add_arguments(subparser)
            try:  # every subcommand takes --as, so that each can be checked like its page (cli/capabilities.py)
                add_actor_argument(subparser)
            except argparse.ArgumentError:  # the subcommand declared it itself
                pass

    def handle(self, *args, subcommand, **options):
        check_capability(subcommand, options.get("actor_username"))
        try:
            {sub.name: sub for sub in SUBCOMMANDS}[subcommand].handle(self, **options)
        except PermissionDenied as refused:
            # The services check the actor themselves (core/permissions.py check_actor): their refusal
            # is the command's, with a non-zero exit, as the table's above is.
            # the table's style: "--as vera: only members of …".
            who, message = options.get("actor_username"), str(refused)
            raise CommandError(f"--as {who}: {message[:1].lower()}{message[1:]}" if who is not None else message) from None
