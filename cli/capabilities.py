"""Which console capability each ``rolemodel`` subcommand needs when it runs ``--as`` a console user.

The same capability as the page that does the same thing (core/permissions.py): a Viewer can no more
import files from the command line than edit a role in the console. The check runs in the management
command before the subcommand starts, so a refused command reads and writes nothing. A subcommand
missing from this table is refused for every ``--as`` user (fail closed) and fails
tests/test_cli_capabilities.py.

Without ``--as`` the actor is the operator's own system name, trusted as any shell on the server is.
"""
from django.core.management.base import CommandError

from cli.actors import resolve_actor
from core.permissions import has_capability

# subcommand → (capabilities, any one of which allows it; what the refusal says)
REQUIRED = {
    "import": (("edit",), "only members of the Editor or Admin group import files into the desired state."),
    "export": (("view",), "only console users with a console role (Viewer or above) export the desired state."),
    "plan": (("edit",), "only members of the Editor or Admin group request plans."),
    "approve": (("approve",), "Only members of the Approver group approve plans."),
    "reject": (("approve",), "Only members of the Approver group reject plans."),
    "apply": (("apply",), "only members of the Editor, Admin or Approver group start applies."),
    "list": (("view",), "only console users with a console role (Viewer or above) read the live roles."),
    "sync_users": (("edit",), "only members of the Editor or Admin group change memberships."),
    "drift": (("check_drift",), "only members of the Editor, Admin or Approver group start drift checks."),
    "offboard": (("edit",), "only members of the Editor or Admin group offboard people."),
    "audit": (("view",), "only console users with a console role (Viewer or above) verify the audit history."),
}


def check_capability(subcommand: str, actor_username: str | None) -> None:
    """Refuse (``CommandError``, exit status 1) when ``--as`` names a user the console would refuse."""
    if actor_username is None:
        return
    actor = resolve_actor(actor_username)
    capabilities, refusal = REQUIRED.get(subcommand, ((), f"the {subcommand} command is not open to console users."))
    if not any(has_capability(actor.user, capability) for capability in capabilities):
        raise CommandError(f"--as {actor.name}: {refusal}")
