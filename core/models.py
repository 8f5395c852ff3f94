"""The console app's own tables (console users and groups are Django's)."""
from django.db import models


class FailedLoginWindow(models.Model):
    """How many sign-ins failed for one user name from one address in one minute (console/login_audit.py).

    A counter, not history: the audit history gets at most two rows per window (its first failure, and
    the total once the minute is over); this row is deleted an hour after its window closed.
    """

    username = models.CharField(max_length=150)
    address = models.CharField(max_length=45, blank=True)
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)
    locked_out = models.BooleanField(default=False)
    closed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username", "address", "window_start"], name="one_failed_login_window"),
        ]
        indexes = [models.Index(fields=["closed", "window_start"], name="failed_login_open_windows")]

    def __str__(self) -> str:
        return f"{self.failures} failed sign-ins for {self.username} from {self.address or '?'} at {self.window_start:%H:%M}"
