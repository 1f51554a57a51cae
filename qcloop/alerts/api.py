"""Escalations in the API: the history (per PO, per supplier, not acknowledged), one escalation
with every notification and each try, acknowledging it, and sending a notification again."""

from datetime import datetime

from ninja import Router, Schema, Status

from qcloop.accounts.api import ErrorOut, errors
from qcloop.core.tenancy import for_user, get_for_user

from . import services
from .models import Escalation, Notification
from .selectors import notifications_with_tries

router = Router(tags=["escalations"])


class AttemptOut(Schema):
    started_at: datetime
    finished_at: datetime | None
    ok: bool
    response_status: int | None
    error: str
    replay: bool


class NotificationOut(Schema):
    id: int
    channel: str
    target: str
    target_name: str
    level: int
    round: int
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    error: str
    tries: list[AttemptOut] = []

    @staticmethod
    def resolve_channel(notification) -> str:
        return notification.channel_kind


class EscalationOut(Schema):
    id: int
    kind: str
    title: str
    po_id: int
    po_number: str
    supplier_id: int
    milestone_id: int | None
    raised_at: datetime
    level: int
    round: int
    ack_due_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_via: str
    detail: dict

    @staticmethod
    def resolve_po_number(escalation) -> str:
        return escalation.po.number


class EscalationDetailOut(EscalationOut):
    notifications: list[NotificationOut]

    @staticmethod
    def resolve_notifications(escalation) -> list:
        return escalation.notifications_seen  # through the Notification gate (_detail)


@router.get("/escalations", response={200: list[EscalationOut], **errors(401)})
def list_escalations(
    request, po: int | None = None, supplier: int | None = None, open: bool = False
):
    """The escalations the caller sees, newest first: a buyer's own, the agency's on its POs
    (suppliers see none). `open`: not acknowledged yet."""
    rows = for_user(Escalation, request.user).select_related("po")
    if po is not None:
        rows = rows.filter(po_id=po)
    if supplier is not None:
        rows = rows.filter(supplier_id=supplier)
    if open:
        rows = rows.filter(acknowledged_at__isnull=True)
    return list(rows.order_by("-raised_at", "-pk")[:500])


def _detail(request, escalation_id: int) -> Escalation:
    escalation = get_for_user(Escalation, request.user, pk=escalation_id)
    escalation.notifications_seen = notifications_with_tries(request.user, escalation)
    return escalation


@router.get(
    "/escalations/{int:escalation_id}", response={200: EscalationDetailOut, **errors(401, 404)}
)
def get_escalation(request, escalation_id: int):
    return _detail(request, escalation_id)


@router.post(
    "/escalations/{int:escalation_id}/acknowledge",
    response={200: EscalationDetailOut, **errors(401, 403, 404)},
)
def acknowledge(request, escalation_id: int):
    """Stop the clock: nobody further is called. Acknowledging twice keeps the first."""
    escalation = get_for_user(Escalation, request.user, pk=escalation_id)
    services.acknowledge(escalation, by=request.user, via="api")
    return _detail(request, escalation_id)


@router.post(
    "/escalations/{int:escalation_id}/notifications/{int:notification_id}/replay",
    response={202: NotificationOut, 409: ErrorOut, **errors(401, 403, 404)},
)
def replay(request, escalation_id: int, notification_id: int):
    """Send one notification again (a receiver lost it). 409 while it is being sent."""
    escalation = get_for_user(Escalation, request.user, pk=escalation_id)
    notification = get_for_user(
        Notification, request.user, pk=notification_id, escalation=escalation
    )
    if not services.replay(notification, by=request.user):
        return Status(409, {"detail": "It is being sent right now."})
    notification.refresh_from_db()
    return Status(202, notification)
