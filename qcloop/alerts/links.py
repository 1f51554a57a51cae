"""The acknowledgement link in a notification: an escalation contact need not have an account
to say "seen". The token is signed (Django's signing, keyed by SECRET_KEY) and names the
notification, so the acknowledgement records who was told through which channel."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "qcloop.alerts.acknowledge"
MAX_AGE_SECONDS = 14 * 24 * 3600  # long after any escalation stops mattering


def ack_token(notification) -> str:
    return signing.dumps({"n": notification.pk, "e": notification.escalation_id}, salt=SALT)


def ack_url(notification) -> str:
    return settings.SITE_URL + reverse("alerts:ack_link", args=[ack_token(notification)])


def read_ack_token(token: str) -> dict | None:
    """The token's content, or None when it is forged, damaged or too old."""
    try:
        return signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
