"""Escalations: a critical finding, a failed milestone or production late beyond the buyer's
threshold, pushed at once to the buyer's escalation contacts and the PO's QC lead over the
channels the buyer configures (email, signed webhooks, a chat gateway).

Nothing is sent from a request. Raising an escalation writes the escalation and one
Notification row per (channel, target) in the same transaction as the finding; the rows carry
their deadline (`next_attempt_at`), and whoever gets there first (the task queued on commit,
or the sweeper) claims a row with a conditional update and hands it to its channel. A channel
that is down leaves rows failed and due again later: nothing is lost, nothing goes twice."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from qcloop.accounts.models import Organisation
from qcloop.inspections.models import Milestone
from qcloop.orders.models import PurchaseOrder, Supplier

DEFAULT_ACK_MINUTES = 120  # the seed's promise: the buyer hears of it within 2 hours


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class EscalationPolicy(models.Model):
    """A buyer's escalation rules: how long a contact has to acknowledge before the next one is
    called, how late production may be projected before it escalates, and whether mail goes."""

    buyer = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="escalation_policy"
    )
    ack_minutes = models.PositiveIntegerField(
        "acknowledge within (minutes)", default=DEFAULT_ACK_MINUTES
    )
    late_days = models.PositiveIntegerField(
        "escalate production projected late by more than (days)", default=3
    )
    email = models.BooleanField("send escalations by email", default=True)

    def __str__(self):
        return f"Escalation policy of {self.buyer}"


class EscalationContact(models.Model):
    """Someone at the buyer told of escalations. Level 1 is told at once; when nobody
    acknowledges within the policy's time, the escalation is re-sent and raised to level 2, and
    so on."""

    buyer = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="escalation_contacts"
    )
    level = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="For the chat gateway.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["buyer", "level", "name"]

    def __str__(self):
        return f"{self.name} (level {self.level})"


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (JSON, signed with HMAC-SHA256)"
    CHAT = "chat", "Chat gateway (WhatsApp- or Teams-style)"


class ChatStyle(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp-style: one message per contact's phone"
    TEAMS = "teams", "Teams-style: one message to the channel"


class Channel(models.Model):
    """A buyer's HTTP channel. A webhook gets the escalation as JSON signed under its own
    secret; a chat gateway gets a text message, authenticated by its bearer token."""

    buyer = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="alert_channels")
    kind = models.CharField(max_length=8, choices=ChannelKind.choices)
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, default=new_secret)  # HMAC key or bearer token
    chat_style = models.CharField(max_length=10, choices=ChatStyle.choices, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["buyer", "name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"


class EscalationKind(models.TextChoices):
    CRITICAL = "critical", "Critical finding"
    FAILED = "failed", "Milestone failed"
    LATE = "late", "Production late"


class Escalation(models.Model):
    """One thing the buyer must hear of now. `source` names what raised it ("defect:<uuid>",
    "milestone:<id>:failed", "production:<milestone id>"), so the same finding raised twice (a
    phone's retry, a resubmission) is one escalation."""

    buyer = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="escalations")
    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="escalations")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="escalations")
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, null=True, blank=True, related_name="escalations"
    )
    kind = models.CharField(max_length=10, choices=EscalationKind.choices)
    source = models.CharField(max_length=120, unique=True)
    title = models.CharField(max_length=300)
    detail = models.JSONField(default=dict)  # what the notification says, frozen when raised
    raised_at = models.DateTimeField(default=timezone.now, db_index=True)
    level = models.PositiveSmallIntegerField(default=1)  # the contacts told so far: 1..level
    round = models.PositiveSmallIntegerField(default=1)  # 1, then +1 at each re-send
    ack_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_via = models.CharField(max_length=200, blank=True)  # "page", "link: a@b.c"

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"
    CHAT = "chat", "Chat"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Handed to the channel"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One escalation to one target (an address, a webhook, a chat recipient) in one round. The
    row is the outbox entry and the claim: see the module docstring and alerts/delivery.py."""

    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, related_name="notifications"
    )
    channel_kind = models.CharField(max_length=8, choices=NotificationChannel.choices)
    channel = models.ForeignKey(
        Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    target = models.CharField(max_length=500)  # email address, webhook URL or phone
    target_name = models.CharField(max_length=150, blank=True)
    level = models.PositiveSmallIntegerField(default=1)
    round = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # handed to SMTP or answered 2xx
    error = models.TextField(blank=True)
    uuid = models.UUIDField(unique=True, default=uuid.uuid4)  # the receiver's idempotency key
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["escalation", "round", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "channel_kind", "target", "round"],
                name="one_notification_per_target_and_round",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.get_channel_kind_display()} to {self.target} ({self.get_status_display()})"


class NotificationAttempt(models.Model):
    """One try at handing a notification to its channel, kept for the delivery history."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="attempt_log"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    replay = models.BooleanField(default=False)  # asked for again by a person

    class Meta:
        ordering = ["notification", "started_at", "pk"]

    def __str__(self):
        return f"Attempt on {self.notification} at {self.started_at:%Y-%m-%d %H:%M:%S}"
