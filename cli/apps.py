from django.apps import AppConfig


class CliConfig(AppConfig):
    """``python manage.py rolemodel``: the command line (cli/management/commands/rolemodel.py)."""

    name = "cli"
    verbose_name = "Command line"
