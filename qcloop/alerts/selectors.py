"""Reads of escalations and their settings through the tenancy gate.

An escalation is the buyer's: its people see it, and so do the agency's staff on the PO (the QC
lead is told of it too). Suppliers do not see escalations. A buyer's channels, contacts and
policy (webhook secrets among them) are seen by the buyer's own people only."""

from django.db.models import QuerySet

from qcloop.accounts.models import Role
from qcloop.core.tenancy import for_user, gate
from qcloop.orders.models import PurchaseOrder

from .models import (
    Channel,
    Escalation,
    EscalationContact,
    EscalationPolicy,
    Notification,
    NotificationAttempt,
)


@gate(Escalation)
def escalations(user) -> QuerySet:
    membership = user.membership
    if membership is None or membership.is_supplier:
        return Escalation.objects.none()
    visible = Escalation.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))
    if membership.is_agency and membership.role == Role.INSPECTOR:
        return visible.filter(milestone__inspector=user)
    return visible


@gate(Notification)
def notifications(user) -> QuerySet:
    return Notification.objects.filter(escalation__in=for_user(Escalation, user).values("pk"))


@gate(NotificationAttempt)
def notification_attempts(user) -> QuerySet:
    visible = for_user(Notification, user).values("pk")
    return NotificationAttempt.objects.filter(notification__in=visible)


def notifications_with_tries(user, escalation: Escalation) -> list[Notification]:
    """The escalation's notifications the user sees, round by round, each with its tries
    (`.tries`, oldest first)."""
    notifications = list(
        for_user(Notification, user).filter(escalation=escalation).order_by("round", "pk")
    )
    tries: dict[int, list] = {}
    attempts = for_user(NotificationAttempt, user).filter(notification__escalation=escalation)
    for attempt in attempts:
        tries.setdefault(attempt.notification_id, []).append(attempt)
    for notification in notifications:
        notification.tries = tries.get(notification.pk, [])
    return notifications


def _buyers_own(model):
    def scope(user) -> QuerySet:
        membership = user.membership
        if membership is None or not membership.is_buyer:
            return model.objects.none()
        return model.objects.filter(buyer=membership.organisation)

    return scope


gate(EscalationPolicy)(_buyers_own(EscalationPolicy))
gate(EscalationContact)(_buyers_own(EscalationContact))
gate(Channel)(_buyers_own(Channel))
