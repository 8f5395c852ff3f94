"""Sudo mode in tests (core/sudo.py): age the last password confirmation, see a request sent to the
confirmation page, and confirm."""
import time
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from core import sudo
from tests.conftest import PASSWORD


def confirmed_minutes_ago(client, minutes: float) -> None:
    """Make the client's last password confirmation (or sign-in) ``minutes`` old."""
    session = client.session
    session[sudo.SESSION_KEY] = time.time() - minutes * 60
    session.save()


def sent_to_confirmation(response, next_url: str) -> bool:
    """The response sends the browser to the confirmation page, to come back to ``next_url``."""
    location = urlsplit(response["Location"])
    return response.status_code == 302 and location.path == reverse("core:sudo") and \
        parse_qs(location.query) == {"next": [next_url]}


def confirm(client, next_url: str) -> None:
    """Give the password on the confirmation page; it sends the browser back to ``next_url``."""
    response = client.post(reverse("core:sudo"), {"password": PASSWORD, "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
