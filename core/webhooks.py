"""POSTing to a webhook: the one HTTP client the console has besides AWS's (standard library, bounded).

Webhook URLs often carry a token in their path or query, so only ``scheme://host`` of one is ever shown
(:func:`shown_url`): in messages, logs and the rows that record a delivery.
"""
import urllib.error
import urllib.parse
import urllib.request


class WebhookError(Exception):
    """The receiver could not be reached, or answered with an error; the message names only its host."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


def shown_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme or '?'}://{parts.hostname or '?'}"


def url_problem(url: str, *, setting: str) -> str:
    """Why ``url`` (the value of ``setting``) cannot be posted to, or "" when it can."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"{setting} is not a valid URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{setting} must be an http(s) URL (it starts {parts.scheme or '?'}:)."
    return ""


def post(url: str, body: bytes, *, headers: dict[str, str], timeout: float) -> int:
    """POST ``body``; return the HTTP status of a 2xx answer, else raise :class:`WebhookError`."""
    shown = shown_url(url)
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"User-Agent": "rolemodel-console", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(1024)
            return response.status
    except urllib.error.HTTPError as error:
        raise WebhookError(f"{shown} answered {error.code}", status=error.code) from None
    except Exception as error:  # noqa: BLE001 - whatever went wrong, the caller gets one kind of failure
        reason = getattr(error, "reason", None) or error.__class__.__name__
        raise WebhookError(f"{shown} could not be reached ({reason})") from None
