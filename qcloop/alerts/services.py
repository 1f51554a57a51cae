"""Raising escalations and acknowledging them.

`escalate_*` are called inside the transaction that records the finding: the escalation and its
notifications commit with the finding or not at all, and the send is queued on commit. Each is
idempotent by the escalation's `source`: a phone's retried upload or a resubmitted inspection
raises nothing new."""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from qcloop.accounts.models import Organisation, Role, User

from .models import (
    Channel,
    ChannelKind,
    ChatStyle,
    Escalation,
    EscalationContact,
    EscalationKind,
    EscalationPolicy,
    Notification,
)

log = logging.getLogger("qcloop.alerts")


def policy_of(buyer: Organisation) -> EscalationPolicy:
    """The buyer's policy; the defaults until the buyer changes them (not saved until then)."""
    try:
        return buyer.escalation_policy
    except EscalationPolicy.DoesNotExist:
        return EscalationPolicy(buyer=buyer)


@dataclass(frozen=True)
class Target:
    channel_kind: str
    target: str
    name: str
    level: int
    channel: Channel | None = None


def contacts_of(buyer: Organisation) -> list[EscalationContact]:
    """The buyer's escalation contacts; until it names any, its managers and admins at level 1,
    so that a critical finding never reaches nobody."""
    named = list(buyer.escalation_contacts.all())
    if named:
        return named
    people = buyer.memberships.select_related("user").filter(
        user__is_active=True, role__in=[Role.BUYER_MANAGER, Role.ADMIN]
    )
    return [
        EscalationContact(buyer=buyer, level=1, name=m.user.full_name, email=m.user.email)
        for m in people
    ]


def top_level(buyer: Organisation) -> int:
    return max((c.level for c in contacts_of(buyer)), default=1)


def targets_for(escalation: Escalation) -> list[Target]:
    """Who is told in the escalation's current round: the contacts of levels 1..level on every
    channel the buyer has, and the PO's QC lead by email. Each target once."""
    buyer = escalation.buyer
    contacts = [c for c in contacts_of(buyer) if c.level <= escalation.level]
    targets: list[Target] = []
    if policy_of(buyer).email:
        targets += [Target("email", c.email, c.name, c.level) for c in contacts if c.email]
    qc_lead = escalation.po.qc_lead
    if qc_lead is not None and qc_lead.is_active and qc_lead.email:
        targets.append(Target("email", qc_lead.email, qc_lead.full_name, 0))
    for channel in buyer.alert_channels.filter(active=True):
        if channel.kind == ChannelKind.WEBHOOK:
            targets.append(Target("webhook", channel.url, channel.name, 0, channel))
        elif channel.chat_style == ChatStyle.TEAMS:
            targets.append(Target("chat", channel.url, channel.name, 0, channel))
        else:
            targets += [
                Target("chat", c.phone, c.name, c.level, channel) for c in contacts if c.phone
            ]
    unique: dict[tuple[str, str], Target] = {}
    for target in targets:
        unique.setdefault((target.channel_kind, target.target.lower()), target)
    return list(unique.values())


def _queue_round(escalation: Escalation) -> list[Notification]:
    """One pending notification per target of the escalation's current round, due now."""
    now = timezone.now()
    made = []
    for target in targets_for(escalation):
        notification, created = Notification.objects.get_or_create(
            escalation=escalation,
            channel_kind=target.channel_kind,
            target=target.target,
            round=escalation.round,
            defaults={
                "channel": target.channel,
                "target_name": target.name,
                "level": target.level,
                "next_attempt_at": now,
            },
        )
        if created:
            made.append(notification)
    escalation_id = escalation.pk
    transaction.on_commit(lambda: _queue_send(escalation_id))
    return made


def _queue_send(escalation_id: int) -> None:
    from .tasks import send_escalation

    try:
        send_escalation.enqueue(escalation_id)
    except Exception:  # the sweeper sends it anyway: a queue hiccup must not fail the request
        log.exception("could not queue escalation %s; the sweeper will send it", escalation_id)


def _raise(*, po, milestone, kind: str, source: str, title: str, detail: dict) -> Escalation:
    existing = Escalation.objects.filter(source=source).first()
    if existing is not None:
        return existing
    now = timezone.now()
    policy = policy_of(po.buyer)
    try:
        with transaction.atomic():  # a savepoint: a racing twin must not spoil the caller's
            escalation = Escalation.objects.create(
                buyer=po.buyer,
                po=po,
                supplier=po.supplier,
                milestone=milestone,
                kind=kind,
                source=source,
                title=title[:300],
                detail=detail,
                raised_at=now,
                ack_due_at=now + timedelta(minutes=policy.ack_minutes),
            )
    except IntegrityError:
        return Escalation.objects.get(source=source)
    _queue_round(escalation)
    return escalation


def _base_detail(po, milestone) -> dict:
    return {
        "po": po.number,
        "supplier": po.supplier.name,
        "factory": po.factory.name,
        "milestone": milestone.label if milestone else "",
        "qc_lead": po.qc_lead.full_name if po.qc_lead else "",
    }


def escalate_critical(defect) -> Escalation:
    """A critical defect reached the server: the buyer hears of it now, not with the report."""
    milestone = defect.milestone
    po = milestone.po
    code = defect.code.code if defect.code else ""
    title = f"Critical defect at {milestone.label} of PO {po.number}: {defect.description}"
    detail = {
        **_base_detail(po, milestone),
        "defect": {
            "code": code,
            "description": defect.description,
            "quantity": defect.quantity,
            "class": defect.defect_class,
            "systematic": defect.systematic,
        },
        "summary": (
            f"{defect.quantity} unit(s) with a critical defect{f' ({code})' if code else ''}: "
            f"{defect.description}."
        ),
    }
    return _raise(
        po=po,
        milestone=milestone,
        kind=EscalationKind.CRITICAL,
        source=f"defect:{defect.uuid}",
        title=title,
        detail=detail,
    )


def escalate_lab_failure(lab_test) -> Escalation:
    """An accredited lab failed a sample against a safety standard: a critical finding."""
    milestone = lab_test.milestone
    po = milestone.po
    detail = {
        **_base_detail(po, milestone),
        "lab_test": {
            "standard": lab_test.standard,
            "lab": lab_test.lab_display,
            "report_number": lab_test.report_number,
            "sample_id": lab_test.sample_id,
        },
        "summary": f"The sample {lab_test.sample_id} failed {lab_test.name}, a safety standard.",
    }
    return _raise(
        po=po,
        milestone=milestone,
        kind=EscalationKind.CRITICAL,
        source=f"lab:{lab_test.uuid}",
        title=f"Lab test failed at {milestone.label} of PO {po.number}: {lab_test.standard}",
        detail=detail,
    )


def escalate_failed(milestone) -> Escalation:
    """A milestone's inspection was submitted with the result FAIL."""
    po = milestone.po
    reasons = list((milestone.result_detail or {}).get("reasons", []))[:10]
    detail = {
        **_base_detail(po, milestone),
        "reasons": reasons,
        "summary": f"The {milestone.label} of PO {po.number} failed."
        + (f" {' '.join(reasons[:3])}" if reasons else ""),
    }
    return _raise(
        po=po,
        milestone=milestone,
        kind=EscalationKind.FAILED,
        source=f"milestone:{milestone.pk}:failed",
        title=f"{milestone.label} of PO {po.number} failed",
        detail=detail,
    )


def escalate_late(milestone, *, late_by_days: int, projected_completion) -> Escalation | None:
    """Production counted at a milestone projects completion later than the ex-factory date by
    more than the buyer's threshold. None when within the threshold."""
    po = milestone.po
    if late_by_days <= policy_of(po.buyer).late_days:
        return None
    detail = {
        **_base_detail(po, milestone),
        "late_by_days": late_by_days,
        "projected_completion": projected_completion.isoformat(),
        "ex_factory_date": po.ex_factory_date.isoformat(),
        "summary": (
            f"At the pace counted at {milestone.label}, production completes on "
            f"{projected_completion:%d %b %Y}, {late_by_days} days after the ex-factory date "
            f"({po.ex_factory_date:%d %b %Y})."
        ),
    }
    return _raise(
        po=po,
        milestone=milestone,
        kind=EscalationKind.LATE,
        source=f"production:{milestone.pk}",
        title=f"Production of PO {po.number} late by {late_by_days} days",
        detail=detail,
    )


# --- acknowledgement and the SLA ---------------------------------------------------------------


def may_acknowledge(user: User, escalation: Escalation) -> bool:
    membership = user.membership
    if membership is None:
        return False
    if membership.is_buyer:
        return membership.organisation_id == escalation.buyer_id
    return membership.is_agency and membership.role != Role.INSPECTOR


def acknowledge(escalation: Escalation, *, by: User | None = None, via: str = "page") -> bool:
    """Someone has seen it: stop the clock. True when this call acknowledged it, False when it
    was acknowledged already (the first acknowledgement is the one kept)."""
    if by is not None and not may_acknowledge(by, escalation):
        raise PermissionDenied("Only the buyer's people and the QC agency acknowledge escalations.")
    done = Escalation.objects.filter(pk=escalation.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=by, acknowledged_via=via[:200]
    )
    escalation.refresh_from_db()
    return bool(done)


def replay(notification: Notification, *, by: User) -> bool:
    """Send one notification again, for the buyer's people and the QC agency. False when it is
    being sent right now."""
    if not may_acknowledge(by, notification.escalation):
        raise PermissionDenied("Only the buyer's people and the QC agency replay notifications.")
    from .delivery import replay as replay_now

    return replay_now(notification, by=by)


def raise_unacknowledged(now=None) -> int:
    """The sweeper's part: escalations nobody acknowledged in time are re-sent and raised to the
    next level of contacts. Each is moved on by a conditional update on its deadline, so with
    several sweepers running each round is queued once."""
    now = now or timezone.now()
    overdue = Escalation.objects.filter(acknowledged_at__isnull=True, ack_due_at__lte=now)
    raised = 0
    for escalation in overdue.select_related("buyer", "po__qc_lead")[:200]:
        policy = policy_of(escalation.buyer)
        level = min(escalation.level + 1, top_level(escalation.buyer))
        with transaction.atomic():
            won = Escalation.objects.filter(
                Q(pk=escalation.pk), Q(ack_due_at=escalation.ack_due_at)
            ).update(
                level=level,
                round=escalation.round + 1,
                ack_due_at=now + timedelta(minutes=policy.ack_minutes),
            )
            if not won:
                continue  # another sweeper moved it on a moment ago
            escalation.refresh_from_db()
            _queue_round(escalation)
        raised += 1
    return raised


# --- the buyer's settings --------------------------------------------------------------------


def _require_buyer_manager(user: User) -> Organisation:
    membership = user.membership
    if membership is None or not membership.is_buyer:
        raise PermissionDenied("Escalation settings are the buyer's.")
    if membership.role not in (Role.BUYER_MANAGER, Role.ADMIN):
        raise PermissionDenied("Only the buyer's managers change escalation settings.")
    return membership.organisation


@transaction.atomic
def save_policy(*, by: User, ack_minutes, late_days, email: bool) -> EscalationPolicy:
    buyer = _require_buyer_manager(by)
    errors = {}
    if not isinstance(ack_minutes, int) or not 5 <= ack_minutes <= 7 * 24 * 60:
        errors["ack_minutes"] = "Give the acknowledgement time in minutes, 5 to 10080 (a week)."
    if not isinstance(late_days, int) or not 0 <= late_days <= 90:
        errors["late_days"] = "Give the lateness threshold in days, 0 to 90."
    if errors:
        raise ValidationError(errors)
    policy, _ = EscalationPolicy.objects.update_or_create(
        buyer=buyer, defaults={"ack_minutes": ack_minutes, "late_days": late_days, "email": email}
    )
    return policy


@transaction.atomic
def add_contact(*, by: User, name: str, email: str = "", phone: str = "", level: int = 1):
    buyer = _require_buyer_manager(by)
    name, email, phone = name.strip(), email.strip().lower(), phone.strip()
    errors = {}
    if not name:
        errors["name"] = "Name the contact."
    if not email and not phone:
        errors["email"] = "Give an email address or a phone number (for the chat gateway)."
    if phone and not re.fullmatch(r"\+[1-9]\d{6,14}", phone.replace(" ", "")):
        errors["phone"] = f"{phone!r} is not a phone number in international form (+852...)."
    if not isinstance(level, int) or not 1 <= level <= 5:
        errors["level"] = "The level is 1 (told first) to 5."
    if errors:
        raise ValidationError(errors)
    return EscalationContact.objects.create(
        buyer=buyer, name=name, email=email, phone=phone.replace(" ", ""), level=level
    )


@transaction.atomic
def remove_contact(*, by: User, contact_id) -> None:
    buyer = _require_buyer_manager(by)
    EscalationContact.objects.filter(buyer=buyer, pk=contact_id).delete()


@transaction.atomic
def add_channel(*, by: User, kind: str, name: str, url: str, chat_style: str = "", secret=""):
    """A webhook (its signing secret made here, shown to the buyer to configure the receiver)
    or a chat gateway (its bearer token given by the gateway)."""
    buyer = _require_buyer_manager(by)
    errors = {}
    if kind not in ChannelKind.values:
        errors["kind"] = "Choose a webhook or a chat gateway."
    if not name.strip():
        errors["name"] = "Name the channel."
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url.strip()):
        errors["url"] = f"{url!r} is not an http(s) address."
    if kind == ChannelKind.CHAT:
        if chat_style not in ChatStyle.values:
            errors["chat_style"] = "Choose the gateway's style: WhatsApp or Teams."
        if not secret.strip():
            errors["secret"] = "Give the gateway's access token."
    if errors:
        raise ValidationError(errors)
    channel = Channel(buyer=buyer, kind=kind, name=name.strip(), url=url.strip())
    if kind == ChannelKind.CHAT:
        channel.chat_style, channel.secret = chat_style, secret.strip()
    channel.save()
    return channel


@transaction.atomic
def set_channel_active(*, by: User, channel_id, active: bool) -> None:
    buyer = _require_buyer_manager(by)
    Channel.objects.filter(buyer=buyer, pk=channel_id).update(active=active)
