"""Where to send a person next: only ever a page of this site (never an open redirect)."""
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request, candidate: str | None, *, default: str | None = None) -> str:
    """``candidate`` when it points into this site, else ``default`` (the dashboard when not given)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or reverse("core:dashboard")
