"""``python manage.py rolemodel <subcommand>``: the original tool's work from the command line."""
import argparse

from django.core.management.base import BaseCommand

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
        {sub.name: sub for sub in SUBCOMMANDS}[subcommand].handle(self, **options)
