"""Reads for the drift page, the dashboard and the command line."""
from drift.models import DriftCheck, DriftFinding


def open_findings():
    return DriftFinding.objects.filter(closed_at__isnull=True).order_by("-widens", "-last_seen", "id")


def closed_findings():
    return DriftFinding.objects.filter(closed_at__isnull=False).order_by("-closed_at", "-id")


def open_finding_count() -> int:
    return DriftFinding.objects.filter(closed_at__isnull=True).count()


def latest_check() -> DriftCheck | None:
    return DriftCheck.objects.first()


def finding_payload(finding: DriftFinding) -> dict:
    return {"kind": finding.kind, "account": finding.account_name, "target": finding.target, "detail": finding.detail,
            "widens": finding.widens}


def check_payload(check: DriftCheck) -> dict:
    """A check for ``rolemodel drift --json``: the findings open after it (all open ones while it has not finished)."""
    return {
        "id": check.pk,
        "status": check.status,
        "error": check.error,
        "api_calls": check.api_calls,
        "findings": [finding_payload(finding) for finding in open_findings()],
    }
