"""Sending one recorded delivery: an email through Django's email backend, or a signed POST to the webhook.

Each attempt's outcome is written on the delivery row (attempts, last error; sent, or failed for good after
the last retry). The webhook's secret and full URL are read from the settings at the moment of sending and
never written anywhere: a row and a log line name only the receiver's host.

What is signed: the exact bytes of the request body (compact JSON, sorted keys). The header is
``X-Rolemodel-Signature: sha256=<hex HMAC-SHA256 of the body under ROLEMODEL_WEBHOOK_SECRET>``; the body
carries no timestamp, so a receiver that wants to refuse replays keeps the ``X-Rolemodel-Delivery`` ids it saw.
"""
import hashlib
import hmac
import logging
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from core import webhooks
from notifications.models import Delivery
from notifications.services import webhook_body, webhook_setting_problem

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Rolemodel-Signature"
BACKOFF_CAP_SECONDS = 3600.0


class PermanentFailure(Exception):
    """Trying again cannot help (the settings are wrong): fail the delivery at once."""


def signature(body: bytes, *, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_seconds(retries_so_far: int) -> float:
    """How long to wait before retry number ``retries_so_far + 1``: BACKOFF × 2^n, at most an hour."""
    return min(settings.ROLEMODEL_NOTIFY_BACKOFF_SECONDS * 2 ** retries_so_far, BACKOFF_CAP_SECONDS)


def attempt(*, delivery_id: int, retries_so_far: int) -> bool:
    """Try to send the delivery once and record the outcome. Returns whether to try again later.

    A delivery no longer queued (sent or failed by an earlier message for it) is left alone. A failure
    after ``ROLEMODEL_NOTIFY_MAX_RETRIES`` retries, or one that cannot succeed, fails it for good.
    """
    delivery = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.QUEUED).first()
    if delivery is None:
        return False
    try:
        _send(delivery)
    except PermanentFailure as failure:
        _record(delivery, error=str(failure), final=True)
        return False
    except (webhooks.WebhookError, SMTPException, OSError) as failure:
        final = retries_so_far >= settings.ROLEMODEL_NOTIFY_MAX_RETRIES
        error = str(failure) or failure.__class__.__name__
        if final:
            error = f"Gave up after {retries_so_far + 1} attempts: {error}"
        _record(delivery, error=error, final=final)
        # An email address is personal data the log does not need: the user's id says who.
        to = delivery.recipient if delivery.channel == Delivery.Channel.WEBHOOK else f"user #{delivery.recipient_user_id}"
        logger.warning("notification delivery %s (%s to %s), attempt %s: %s", delivery.pk, delivery.channel, to,
                       retries_so_far + 1, error)
        return not final
    except Exception as failure:  # a bug: fail the delivery with the reason rather than leave it queued for ever
        logger.exception("notification delivery %s failed", delivery.pk)
        _record(delivery, error=f"Internal error: {failure.__class__.__name__}", final=True)
        return False
    _record(delivery, error="", final=True)
    return False


def give_up(delivery_id: int, *, reason: str) -> None:
    Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.QUEUED).update(
        status=Delivery.Status.FAILED, last_error=reason, updated_at=timezone.now())


def _record(delivery: Delivery, *, error: str, final: bool) -> None:
    now = timezone.now()
    fields = {"attempts": F("attempts") + 1, "last_error": error, "updated_at": now}
    if final:
        fields["status"] = Delivery.Status.FAILED if error else Delivery.Status.SENT
    if final and not error:
        fields["sent_at"] = now
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(**fields)


def _send(delivery: Delivery) -> None:
    if delivery.channel == Delivery.Channel.EMAIL:
        send_mail(delivery.summary, delivery.body, settings.DEFAULT_FROM_EMAIL, [delivery.recipient])
        return
    url = settings.ROLEMODEL_WEBHOOK_URL
    if not url:
        raise PermanentFailure("Not sent: ROLEMODEL_WEBHOOK_URL is no longer set.")
    problem = webhook_setting_problem()
    if problem:
        raise PermanentFailure(f"Not sent: {problem}")
    body = webhook_body(delivery.payload)
    webhooks.post(url, body, timeout=settings.ROLEMODEL_WEBHOOK_TIMEOUT, headers={
        "Content-Type": "application/json",
        "X-Rolemodel-Event": delivery.event,
        "X-Rolemodel-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: signature(body, secret=settings.ROLEMODEL_WEBHOOK_SECRET),
    })
