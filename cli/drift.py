"""``rolemodel drift [--wait] [--json]``: start a drift check (read-only) and show the open findings."""
import time

from django.core.management.base import CommandError

from cli.actors import add_actor_argument, resolve_actor
from cli.base import Subcommand
from cli.workflow import POLL_SECONDS, add_output_arguments, emit_json, progress
from drift import selectors, services
from drift.models import DriftCheck


class DriftSubcommand(Subcommand):
    name = "drift"
    help = "Compare live AWS with what the console applied and wants; list what changed behind its back."

    def add_arguments(self, parser):
        add_actor_argument(parser)
        add_output_arguments(parser)

    def handle(self, command, *, actor_username=None, wait=False, timeout=3600, json=False, **options):
        check, created = services.drift_check_request(actor=resolve_actor(actor_username))
        progress(command, f"Drift check #{check.pk} {'queued' if created else 'already ' + check.status}.", as_json=json)
        if wait:
            deadline = time.monotonic() + timeout
            while check.status not in (DriftCheck.Status.SUCCEEDED, DriftCheck.Status.FAILED):
                if time.monotonic() > deadline:
                    raise CommandError(f"Drift check #{check.pk} has not finished after {timeout:g} s; it goes on in the background.")
                time.sleep(POLL_SECONDS)
                check.refresh_from_db()
        payload = selectors.check_payload(check)
        if json:
            emit_json(command, payload)
        else:
            command.stdout.write(f"Drift check #{check.pk}: {check.get_status_display()}")
            for finding in payload["findings"]:
                command.stdout.write(f"  {'widens' if finding['widens'] else 'narrows'}: {finding['kind']} "
                                     f"{finding['account']} {finding['target']}: {finding['detail']}")
            if check.status == DriftCheck.Status.SUCCEEDED and not payload["findings"]:
                command.stdout.write("  No drift: AWS holds what the console applied or wants.")
        if check.status == DriftCheck.Status.FAILED:
            raise CommandError(f"The drift check failed: {check.error}")
