"""The console app's scheduled work."""
from celery import shared_task

from console.login_audit import close_failed_login_windows


@shared_task
def close_failed_login_windows_task() -> int:
    """Once a minute: the closing audit row of each minute of repeated failed sign-ins (console/login_audit.py)."""
    return close_failed_login_windows()
