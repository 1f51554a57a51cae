"""Handing notifications to their channels: email (SMTP), webhooks (JSON signed with
HMAC-SHA256 under the endpoint's secret) and chat gateways (HTTP with a bearer token).

Each Notification row is its own claim, as with report mails (reports/distribution.py): a
worker or sweeper moves it to `sending` with a conditional UPDATE whose WHERE names the
claimable states, so one caller wins whatever runs at once; only the winner sends, and it
records the outcome only while the claim is still its own. A failed try is due again after a
growing delay. A claim older than CLAIM_EXPIRES is a dead worker's and may be taken over: the
one case where a receiver can get a notification twice, which is why webhooks carry
`X-Qcloop-Delivery` (the notification's id) for the receiver to drop a repeat.

Call outside any transaction: a claim must be committed before its notification goes out."""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone

from . import links
from .models import (
    ChatStyle,
    Notification,
    NotificationAttempt,
    NotificationChannel,
    NotificationStatus,
)

log = logging.getLogger("qcloop.alerts")

CLAIM_EXPIRES = timedelta(minutes=5)
HTTP_TIMEOUT_SECONDS = 10
RETRY_DELAYS = (
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


class ChannelDown(Exception):
    """The endpoint itself did not answer (refused, timed out): its other notifications wait."""


class Refused(Exception):
    """The endpoint answered, but not with a 2xx."""

    def __init__(self, status: int, reply: str):
        super().__init__(f"{status} {reply}".strip())
        self.status = status


# --- signing -----------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Qcloop-Signature of a webhook: HMAC-SHA256 of "<timestamp>.<body>"."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """For receivers (and tests): is the signature ours under this secret?"""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


# --- the loop ------------------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return (
        Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=NotificationStatus.FAILED, next_attempt_at__lte=now)
        | Q(status=NotificationStatus.SENDING, claimed_at__lt=now - CLAIM_EXPIRES)
    )


def send_due(escalation_id: int | None = None, now: datetime | None = None, batch=200) -> int:
    """Send every notification that is due (of one escalation, or all). Returns how many this
    call handed over. Safe with any number of callers at once."""
    now = now or timezone.now()
    due = Notification.objects.filter(_claimable(now))
    if escalation_id is not None:
        due = due.filter(escalation_id=escalation_id)
    down: set[str] = set()
    sent = 0
    for pk in due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:batch]:
        notification = _claim(pk, now)
        if notification is None:
            continue
        key = _endpoint(notification)
        if key in down:
            _release(notification)  # its endpoint just failed: wait for the next pass
            continue
        try:
            sent += _send(notification)
        except ChannelDown:
            down.add(key)
    return sent


def _endpoint(notification: Notification) -> str:
    if notification.channel_kind == NotificationChannel.EMAIL:
        return "smtp"
    return notification.channel.url if notification.channel else notification.target


def _claim(pk: int, now: datetime) -> Notification | None:
    claimed_at = timezone.now()
    won = Notification.objects.filter(_claimable(now), pk=pk).update(
        status=NotificationStatus.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1
    )
    if not won:
        return None
    return Notification.objects.select_related(
        "escalation__po__supplier", "escalation__milestone", "channel"
    ).get(pk=pk)


def _ours(notification: Notification):
    return Notification.objects.filter(
        pk=notification.pk,
        status=NotificationStatus.SENDING,
        claimed_at=notification.claimed_at,
    )


def _release(notification: Notification) -> None:
    _ours(notification).update(
        status=NotificationStatus.FAILED,
        attempts=F("attempts") - 1,
        next_attempt_at=timezone.now() + RETRY_DELAYS[0],
    )


def _send(notification: Notification) -> int:
    attempt = NotificationAttempt.objects.create(
        notification=notification,
        replay=bool(notification.error == REPLAY_MARK),
    )
    status, error, down = None, "", False
    try:
        status = SENDERS[notification.channel_kind](notification)
    except ChannelDown as failure:
        error, down = str(failure), True
    except Refused as failure:
        status, error = failure.status, str(failure)
    except Exception as failure:  # this one notification failed; the loop goes on
        error = f"{type(failure).__name__}: {failure}"[:500]
    _finish(notification, attempt, status=status, error=error)
    if down:
        raise ChannelDown(error)
    return 0 if error else 1


def _finish(notification: Notification, attempt, *, status, error: str) -> None:
    now = timezone.now()
    attempt.finished_at, attempt.ok = now, not error
    attempt.response_status, attempt.error = status, error
    attempt.save()
    changes = {"error": error, "sent_at": None if error else now, "next_attempt_at": None}
    changes["status"] = NotificationStatus.FAILED if error else NotificationStatus.SENT
    if error and notification.attempts < MAX_ATTEMPTS:
        changes["next_attempt_at"] = now + RETRY_DELAYS[notification.attempts - 1]
    elif error:
        log.warning("gave up on %s: %s", notification, error)
    if not _ours(notification).update(**changes):
        log.warning("claim on %s was taken over before it finished", notification)


REPLAY_MARK = "Sent again on request."


def replay(notification: Notification, by) -> bool:
    """A person asks for a notification again (a receiver lost it, a gateway was fixed). False
    when it is being sent right now."""
    again = Notification.objects.filter(pk=notification.pk).exclude(
        status=NotificationStatus.SENDING
    )
    if not again.update(
        status=NotificationStatus.PENDING, next_attempt_at=timezone.now(), error=REPLAY_MARK
    ):
        return False
    log.info("%s replays %s", by, notification)
    from .tasks import send_escalation

    try:
        send_escalation.enqueue(notification.escalation_id)
    except Exception:
        log.exception("could not queue the replay; the sweeper sends it")
    return True


# --- the channels ------------------------------------------------------------------------------


def _text(notification: Notification) -> str:
    escalation = notification.escalation
    detail = escalation.detail
    lines = [
        f"ESCALATION: {escalation.title}",
        detail.get("summary", ""),
        f"PO {detail.get('po', '')} · {detail.get('supplier', '')} · {detail.get('factory', '')}"
        + (f" · {detail['milestone']}" if detail.get("milestone") else ""),
        f"QC lead: {detail.get('qc_lead') or '—'}",
        f"Acknowledge: {links.ack_url(notification)}",
        f"Details: {settings.SITE_URL}/escalations/{escalation.pk}/",
    ]
    return "\n".join(line for line in lines if line)


def _email(notification: Notification) -> None:
    message = EmailMessage(
        subject=f"[qcloop] ESCALATION: {notification.escalation.title}",
        body=_text(notification) + "\n",
        to=[notification.target],
        headers={"Auto-Submitted": "auto-generated"},
    )
    try:
        message.send(using="default")
    except OSError as error:  # smtplib's errors; refused recipients fail only this one
        import smtplib

        if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
            raise
        raise ChannelDown(f"The mail server fails: {type(error).__name__}: {error}") from error
    return None


def payload(notification: Notification) -> dict:
    escalation = notification.escalation
    return {
        "id": str(notification.uuid),
        "type": f"escalation.{escalation.kind}",
        "escalation": {
            "id": escalation.pk,
            "kind": escalation.kind,
            "title": escalation.title,
            "raised_at": escalation.raised_at.isoformat(),
            "po": escalation.po.number,
            "supplier": escalation.po.supplier.name,
            "milestone": escalation.milestone.label if escalation.milestone else None,
            "level": escalation.level,
            "round": escalation.round,
            "detail": escalation.detail,
            "acknowledge_url": links.ack_url(notification),
        },
    }


def _post(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        reply = error.read(300).decode(errors="replace")
        raise Refused(error.code, reply) from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise ChannelDown(f"{url} does not answer: {error}") from error


def _webhook(notification: Notification) -> int:
    body = json.dumps(payload(notification), sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(time.time())
    return _post(
        notification.channel.url,
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": "qcloop-webhooks",
            "X-Qcloop-Event": f"escalation.{notification.escalation.kind}",
            "X-Qcloop-Delivery": str(notification.uuid),
            "X-Qcloop-Timestamp": str(timestamp),
            "X-Qcloop-Signature": sign(notification.channel.secret, timestamp, body),
        },
    )


def chat_message(notification: Notification) -> dict:
    """The gateway's request body: WhatsApp-style to one phone, Teams-style to the channel."""
    text = _text(notification)
    if notification.channel.chat_style == ChatStyle.TEAMS:
        return {"type": "message", "text": text}
    return {
        "messaging_product": "whatsapp",
        "to": notification.target,
        "type": "text",
        "text": {"body": text},
    }


def _chat(notification: Notification) -> int:
    body = json.dumps(chat_message(notification)).encode()
    return _post(
        notification.channel.url,
        body,
        {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {notification.channel.secret}",
            "Idempotency-Key": str(notification.uuid),
        },
    )


SENDERS = {
    NotificationChannel.EMAIL: _email,
    NotificationChannel.WEBHOOK: _webhook,
    NotificationChannel.CHAT: _chat,
}
