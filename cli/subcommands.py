"""The ``rolemodel`` management command's subcommands, one module each.

To add one: write a ``Subcommand`` in its own module and list it in ``SUBCOMMANDS``.
"""
from cli.apply import ApplySubcommand
from cli.audit import AuditSubcommand
from cli.decide import ApproveSubcommand, RejectSubcommand
from cli.drift import DriftSubcommand
from cli.export_files import ExportSubcommand
from cli.import_files import ImportSubcommand
from cli.list_roles import ListSubcommand
from cli.offboard import OffboardSubcommand
from cli.plan import PlanSubcommand
from cli.sync_users import SyncUsersSubcommand

SUBCOMMANDS = (
    ImportSubcommand(),
    ExportSubcommand(),
    PlanSubcommand(),
    ApproveSubcommand(),
    RejectSubcommand(),
    ApplySubcommand(),
    ListSubcommand(),
    SyncUsersSubcommand(),
    OffboardSubcommand(),
    AuditSubcommand(),
    DriftSubcommand(),
)
