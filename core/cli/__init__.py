"""The ``rolemodel`` management command's subcommands, one module each.

To add one: write a ``Subcommand`` in its own module and list it in ``SUBCOMMANDS``.
"""
from core.cli.apply import ApplySubcommand
from core.cli.audit import AuditSubcommand
from core.cli.decide import ApproveSubcommand, RejectSubcommand
from core.cli.export_files import ExportSubcommand
from core.cli.import_files import ImportSubcommand
from core.cli.list_roles import ListSubcommand
from core.cli.plan import PlanSubcommand
from core.cli.sync_users import SyncUsersSubcommand

SUBCOMMANDS = (
    ImportSubcommand(),
    ExportSubcommand(),
    PlanSubcommand(),
    ApproveSubcommand(),
    RejectSubcommand(),
    ApplySubcommand(),
    ListSubcommand(),
    SyncUsersSubcommand(),
    AuditSubcommand(),
)
