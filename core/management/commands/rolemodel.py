"""``python manage.py rolemodel <subcommand>``: the original tool's work from the command line."""
from django.core.management.base import BaseCommand

from core.cli import SUBCOMMANDS


class Command(BaseCommand):
    help = "Work with the original rolemodel tool's files and the desired state. See each subcommand's --help."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for subcommand in SUBCOMMANDS:
            subparser = subparsers.add_parser(subcommand.name, help=subcommand.help, description=subcommand.help)
            subcommand.add_arguments(subparser)

    def handle(self, *args, subcommand, **options):
        {sub.name: sub for sub in SUBCOMMANDS}[subcommand].handle(self, **options)
