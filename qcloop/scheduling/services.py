"""State changes for scheduling: progress reports and the re-planning they cause, ship-date
warnings, bookings against the lead time and the inspector calendar, the QC lead's
reassignment, and calendar feeds. Milestones change only through qcloop.inspections.services."""

import hashlib
import logging
import secrets
from contextvars import ContextVar
from datetime import date, datetime, time
from math import floor
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from qcloop.accounts.models import Membership, Role, User
from qcloop.inspections import services as inspections
from qcloop.inspections.models import Milestone, MilestoneStatus, ProductionStatus
from qcloop.orders.models import POStatus, PurchaseOrder

from . import schedule as pure
from . import selectors
from .models import (
    MAX_LEAD_HOURS,
    MIN_LEAD_HOURS,
    Booking,
    CalendarFeed,
    DayOff,
    FeedKind,
    InspectorCalendar,
    ProgressReport,
    ReportSource,
    ScheduleChange,
    ScheduleWarning,
    SchedulingTerms,
)

log = logging.getLogger(__name__)

# The inspector is on site when the factory's working day starts: the lead time runs to then.
VISIT_STARTS = time(8, 0)
OVERRIDERS = {Role.COORDINATOR, Role.ADMIN}


def _role_in_agency(user: User, po: PurchaseOrder) -> str | None:
    membership = user.membership
    if membership is None or membership.organisation_id != po.agency_id:
        return None
    return membership.role


def is_coordinator(user: User, po: PurchaseOrder) -> bool:
    return _role_in_agency(user, po) in OVERRIDERS


def may_report_progress(user: User, po: PurchaseOrder) -> bool:
    """The PO's supplier's own users, and the agency's coordinators, admins and QC lead."""
    membership = user.membership
    if membership is None:
        return False
    if membership.is_supplier:
        return po.supplier.organisation_id == membership.organisation_id
    return inspections.is_agency_planner(user, po)


def factory_today(po: PurchaseOrder) -> date:
    """Today where the goods are made: a report dated after it is in the future."""
    return timezone.now().astimezone(ZoneInfo(po.factory.timezone)).date()


# --- progress reports ------------------------------------------------------------------------


def _whole(name: str, value, errors: dict) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors[name] = f"Give {name} as a whole number of units, 0 or more, not {value!r}."


def check_progress(po: PurchaseOrder, reported_on, produced, packed, note: str) -> None:
    """Every rule of a progress report, each error naming its field."""
    errors: dict[str, str] = {}
    if not isinstance(reported_on, date):
        errors["reported_on"] = "Give the date the counts are of."
    elif reported_on > factory_today(po):
        errors["reported_on"] = (
            f"{reported_on:%d %b %Y} is in the future at the factory: report what is made."
        )
    _whole("produced", produced, errors)
    _whole("packed", packed, errors)
    if errors:
        raise ValidationError(errors)
    if produced > po.quantity:
        errors["produced"] = f"{produced} produced is more than the PO's {po.quantity} units."
    if packed > produced:
        errors["packed"] = f"{packed} packed is more than the {produced} produced."
    earlier = [p for p in selectors.progress_points(po) if p.on <= reported_on]
    if earlier and not note.strip():
        top_made = max(earlier, key=lambda p: p.produced)
        top_packed = max(earlier, key=lambda p: p.packed)
        if produced < top_made.produced:
            errors["note"] = _drop("produced", top_made.produced, top_made)
        elif packed < top_packed.packed:
            errors["note"] = _drop("packed", top_packed.packed, top_packed)
    if errors:
        raise ValidationError(errors)


def _drop(what: str, before: int, point) -> str:
    source = "counted by the inspector" if point.source == pure.COUNT else "reported"
    return (
        f"{before} units were {source} {what} on {point.on:%d %b %Y}: say in the note why "
        "the count is lower now (rework, rejects, a recount)."
    )


@transaction.atomic
def record_progress(
    *,
    by: User,
    po: PurchaseOrder,
    reported_on: date,
    produced: int,
    packed: int = 0,
    note: str = "",
) -> ProgressReport:
    """The factory's (or the coordinator's) progress report; the schedule follows it."""
    po = (
        PurchaseOrder.objects.select_for_update()
        .select_related("factory", "supplier")
        .get(pk=po.pk)
    )
    if not may_report_progress(by, po):
        raise PermissionDenied(
            "Only the PO's supplier and the agency's coordinators and QC lead report progress."
        )
    if po.status != POStatus.OPEN:
        raise ValidationError({"po": f"PO {po.number} is {po.get_status_display().lower()}."})
    note = (note or "").strip()
    check_progress(po, reported_on, produced, packed, note)
    report = ProgressReport.objects.create(
        po=po,
        reported_on=reported_on,
        produced=produced,
        packed=packed,
        note=note,
        source=ReportSource.SUPPLIER if by.membership.is_supplier else ReportSource.COORDINATOR,
        reported_by=by,
    )
    who = "the factory" if report.source == ReportSource.SUPPLIER else "the agency"
    replan(
        po,
        by=by,
        reason=f"Progress reported by {who} for {reported_on:%d %b}: {produced} produced, "
        f"{packed} packed.",
    )
    return report


def follow_up_counted(status: ProductionStatus) -> None:
    """An inspector's count at a milestone: it outranks the factory's reports. A scheduling
    refusal must not lose the count, so it is logged, not raised."""
    milestone = status.milestone
    po = milestone.po
    reason = (
        f"Follow-up count at {milestone.label} on {status.counted_on:%d %b}: "
        f"{status.produced} produced, {status.packed} packed."
    )
    if status.reported_produced and status.reported_produced > status.produced:
        reason += f" The factory had reported {status.reported_produced} produced."
    try:
        with transaction.atomic():
            replan(po, by=milestone.inspector, reason=reason)
    except (ValidationError, PermissionDenied) as error:
        log.warning("PO %s was not re-planned after a count: %s", po.number, error)


# --- re-planning -----------------------------------------------------------------------------


def planner_for(po: PurchaseOrder, by: User | None) -> User | None:
    """Who the windows are moved as: the person acting if they plan this PO, else its QC lead,
    else one of the agency's coordinators (the schedule follows progress on their behalf)."""
    if by is not None and inspections.is_agency_planner(by, po):
        return by
    if po.qc_lead_id and inspections.is_agency_planner(po.qc_lead, po):
        return po.qc_lead
    membership = (
        Membership.objects.filter(
            organisation_id=po.agency_id, role__in=OVERRIDERS, user__is_active=True
        )
        .select_related("user")
        .order_by("id")
        .first()
    )
    return membership.user if membership else None


def project_po(po: PurchaseOrder, today: date | None = None) -> pure.Schedule:
    return pure.place(
        selectors.order_of(po), selectors.progress_points(po), today or factory_today(po)
    )


def _span(start: date | None, end: date | None) -> str:
    if start is None:
        return "—"
    return f"{start:%d %b %Y}" if start == end else f"{start:%d %b} to {end:%d %b %Y}"


def replan(po: PurchaseOrder, *, reason: str, by: User | None = None, today=None) -> pure.Schedule:
    """Move the windows of the PO's milestones not yet booked to where progress puts them, log
    each move, and warn the buyer if the ship date's risk is new or worse."""
    projected = project_po(po, today)
    planner = planner_for(po, by)
    movable = po.milestones.filter(status=MilestoneStatus.PLANNED, sequence=1)
    for milestone in movable:
        placement = projected.placements.get(milestone.kind)
        if placement is None or planner is None:
            continue
        old = (milestone.window_start, milestone.window_end)
        new = (placement.window_start, placement.window_end)
        if old == new:
            continue
        inspections.update_milestone(
            by=planner,
            milestone=milestone,
            changes={"window_start": new[0], "window_end": new[1]},
        )
        ScheduleChange.objects.create(
            po=po,
            milestone=milestone,
            what=f"{milestone.label} window",
            before=_span(*old),
            after=_span(*new),
            reason=f"{reason} {placement.why}",
            by=by,
        )
    assess_risk(po, projected.risk)
    return projected


def assess_risk(po: PurchaseOrder, risk: pure.Risk) -> ScheduleWarning | None:
    """Raise a warning when the risk appears or worsens; clear the open one when it is gone.
    Returns the new warning, if one was raised."""
    open_warning = ScheduleWarning.objects.filter(po=po, cleared_at__isnull=True).first()
    now = timezone.now()
    if not risk.at_risk:
        if open_warning is not None:
            open_warning.cleared_at = now
            open_warning.save(update_fields=["cleared_at"])
        return None
    if open_warning is not None and risk.severity <= open_warning.severity:
        return None
    if open_warning is not None:
        open_warning.cleared_at = now  # superseded by the worse one
        open_warning.save(update_fields=["cleared_at"])
    warning = ScheduleWarning.objects.create(
        po=po, days_late=risk.days_late, severity=risk.severity, reasons=list(risk.reasons)
    )
    transaction.on_commit(lambda: send_warning(warning.pk))
    return warning


def buyer_recipients(po: PurchaseOrder) -> list[str]:
    members = Membership.objects.filter(
        organisation_id=po.buyer_id, user__is_active=True
    ).select_related("user")
    return sorted({m.user.email for m in members if m.user.email})


def send_warning(warning_id: int) -> None:
    """Mail the buyer's people about a warning, once (the first sender claims it)."""
    warning = ScheduleWarning.objects.select_related("po__supplier").get(pk=warning_id)
    won = ScheduleWarning.objects.filter(pk=warning.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    to = buyer_recipients(warning.po)
    if not won or not to:
        return
    po = warning.po
    late = "by an unknown margin" if warning.days_late is None else f"by {warning.days_late} days"
    body = "\n".join(
        [
            f"PO {po.number} ({po.supplier.name}): the ship date {po.ship_date:%d %b %Y} is at "
            f"risk, {late}.",
            "",
            *warning.reasons,
            "",
            f"Schedule: {settings.SITE_URL}/pos/{po.pk}/",
        ]
    )
    EmailMessage(
        subject=f"[qcloop] Ship date at risk: PO {po.number}",
        body=body + "\n",
        to=to,
        headers={"Auto-Submitted": "auto-generated"},
    ).send(using="default")
    ScheduleWarning.objects.filter(pk=warning.pk).update(emailed_to=to)


# --- the agency's terms and the inspector calendar --------------------------------------------


def _require_agency_staff(by: User, agency_id: int) -> None:
    membership = by.membership
    if (
        membership is None
        or membership.organisation_id != agency_id
        or membership.role not in OVERRIDERS
    ):
        raise PermissionDenied("Only the agency's coordinators and admins set its calendar.")


@transaction.atomic
def save_terms(*, by: User, booking_lead_hours, inspections_per_day) -> SchedulingTerms:
    agency_id = by.membership.organisation_id if by.membership else None
    _require_agency_staff(by, agency_id)
    errors = {}
    if not isinstance(booking_lead_hours, int) or not (
        MIN_LEAD_HOURS <= booking_lead_hours <= MAX_LEAD_HOURS
    ):
        errors["booking_lead_hours"] = (
            f"The booking lead time is {MIN_LEAD_HOURS} to {MAX_LEAD_HOURS} hours."
        )
    if not isinstance(inspections_per_day, int) or not 1 <= inspections_per_day <= 10:
        errors["inspections_per_day"] = "An inspector does 1 to 10 inspections a day."
    if errors:
        raise ValidationError(errors)
    terms, _ = SchedulingTerms.objects.update_or_create(
        agency_id=agency_id,
        defaults={
            "booking_lead_hours": booking_lead_hours,
            "inspections_per_day": inspections_per_day,
        },
    )
    return terms


def _inspector_of_agency(by: User, inspector: User) -> None:
    _require_agency_staff(by, by.membership.organisation_id if by.membership else None)
    membership = inspector.membership
    if (
        membership is None
        or membership.organisation_id != by.membership.organisation_id
        or membership.role not in {Role.INSPECTOR, Role.QC_LEAD}
    ):
        raise ValidationError({"inspector": f"{inspector} is not an inspector of your agency."})


@transaction.atomic
def set_capacity(*, by: User, inspector: User, inspections_per_day) -> InspectorCalendar:
    _inspector_of_agency(by, inspector)
    if not isinstance(inspections_per_day, int) or not 1 <= inspections_per_day <= 10:
        raise ValidationError(
            {"inspections_per_day": "An inspector does 1 to 10 inspections a day."}
        )
    calendar, _ = InspectorCalendar.objects.update_or_create(
        inspector=inspector, defaults={"inspections_per_day": inspections_per_day}
    )
    return calendar


@transaction.atomic
def add_day_off(*, by: User, inspector: User, day: date, reason: str = "") -> DayOff:
    """A day off; refused while the inspector has a visit booked that day."""
    _inspector_of_agency(by, inspector)
    if not isinstance(day, date):
        raise ValidationError({"day": "Give the day off."})
    visits = selectors.booked_on(inspector, day).select_related("po")
    if visits:
        names = ", ".join(str(m) for m in visits)
        raise ValidationError({"day": f"{inspector} is booked on {day:%d %b %Y} ({names})."})
    day_off, _ = DayOff.objects.update_or_create(
        inspector=inspector, day=day, defaults={"reason": reason.strip()[:200]}
    )
    return day_off


@transaction.atomic
def remove_day_off(*, by: User, day_off: DayOff) -> None:
    _inspector_of_agency(by, day_off.inspector)
    day_off.delete()


# --- bookings --------------------------------------------------------------------------------


def lead_hours(po: PurchaseOrder, day: date, now: datetime) -> int:
    """Whole hours from `now` to the visit's start (08:00 at the factory on `day`)."""
    start = datetime.combine(day, VISIT_STARTS, tzinfo=ZoneInfo(po.factory.timezone))
    return floor((start - now).total_seconds() / 3600)


@transaction.atomic
def book_milestone(
    *,
    by: User,
    milestone: Milestone,
    inspector: User,
    day: date,
    override_reason: str = "",
    now: datetime | None = None,
) -> Booking:
    """Book (or re-book) a milestone with an inspector for a day, within the agency's lead
    time (or a coordinator's override with a reason) and the inspector's capacity."""
    now = now or timezone.now()
    milestone = Milestone.objects.select_related("po__factory").get(pk=milestone.pk)
    po = milestone.po
    if not inspections.is_agency_planner(by, po):
        raise PermissionDenied("Only the agency's coordinators and the QC lead book milestones.")
    if milestone.status not in {MilestoneStatus.PLANNED, MilestoneStatus.BOOKED}:
        state = milestone.get_status_display().lower()
        raise ValidationError({"status": f"A {state} milestone is not booked again."})
    if not isinstance(day, date):
        raise ValidationError({"day": "Give the inspection day."})
    inspections._check_inspector(milestone, inspector)
    # One booking at a time per inspector: the capacity check and the booking are one step.
    User.objects.select_for_update().filter(pk=inspector.pk).first()
    terms = selectors.terms_of(po.agency_id)
    hours = lead_hours(po, day, now)
    reason = (override_reason or "").strip()
    _check_lead(by, po, day, hours, terms.booking_lead_hours, reason)
    _check_capacity(milestone, inspector, day, terms)
    before = (
        f"{milestone.inspector} on {milestone.inspection_date:%d %b %Y}"
        if milestone.status == MilestoneStatus.BOOKED and milestone.inspection_date
        else ""
    )
    changes = {"inspection_date": day, "inspector": inspector}
    if milestone.status == MilestoneStatus.PLANNED:
        changes["status"] = MilestoneStatus.BOOKED
    inspections.update_milestone(by=by, milestone=milestone, changes=changes)
    Booking.objects.filter(milestone=milestone, superseded_at__isnull=True).update(
        superseded_at=now
    )
    booking = Booking.objects.create(
        milestone=milestone,
        inspector=inspector,
        day=day,
        lead_hours=hours,
        rule_hours=terms.booking_lead_hours,
        override_reason=reason if hours < terms.booking_lead_hours else "",
        booked_by=by,
        booked_at=now,
    )
    outside = not (milestone.window_start <= day <= milestone.window_end)
    ScheduleChange.objects.create(
        po=po,
        milestone=milestone,
        what=f"{milestone.label} booking",
        before=before,
        after=f"{inspector} on {day:%d %b %Y}",
        reason=(
            f"Booked {hours} h ahead (rule: {terms.booking_lead_hours} h)"
            + (
                f"; lead time overridden: {booking.override_reason}"
                if booking.override_reason
                else ""
            )
            + ("; outside the projected window" if outside else "")
            + "."
        ),
        by=by,
    )
    return booking


def _check_lead(by, po, day: date, hours: int, rule: int, reason: str) -> None:
    if day < factory_today(po):
        raise ValidationError({"day": f"{day:%d %b %Y} has passed at the factory."})
    if hours >= rule:
        return
    message = (
        f"The booking lead time is {rule} hours: {day:%d %b %Y} is {max(hours, 0)} hours away "
        f"(the visit starts at {VISIT_STARTS:%H:%M} factory time)."
    )
    if not reason:
        raise ValidationError(
            {"day": message + " A coordinator may override it, giving the reason."}
        )
    if not is_coordinator(by, po):
        raise PermissionDenied(message + " Only a coordinator may override it.")


def _check_capacity(milestone: Milestone, inspector: User, day: date, terms) -> None:
    off = DayOff.objects.filter(inspector=inspector, day=day).first()
    if off is not None:
        why = f" ({off.reason})" if off.reason else ""
        raise ValidationError({"day": f"{inspector} is off on {day:%d %b %Y}{why}."})
    capacity = selectors.capacity_of(inspector, day, terms)
    taken = selectors.booked_on(inspector, day).exclude(pk=milestone.pk).count()
    if taken >= capacity:
        raise ValidationError(
            {
                "day": f"{inspector} is fully booked on {day:%d %b %Y}: {taken} of "
                f"{capacity} inspection{'s' * (capacity != 1)} a day."
            }
        )


# --- the QC lead -----------------------------------------------------------------------------

# Set while a coordinator reassigns the lead with a reason: the guard on PO saves lets it pass.
reassigning: ContextVar[bool] = ContextVar("reassigning_qc_lead", default=False)


def guard_qc_lead(po: PurchaseOrder) -> None:
    """One accountable QC lead per PO: once a milestone is booked or done, the lead changes
    only by a coordinator's reassignment of all its milestones, with a reason."""
    if po.pk is None or reassigning.get():
        return
    old = PurchaseOrder.objects.filter(pk=po.pk).values_list("qc_lead_id", flat=True).first()
    if old is None or old == po.qc_lead_id:
        return
    if Milestone.objects.filter(po_id=po.pk, status__in=selectors.HOLDS_A_DAY).exists():
        raise ValidationError(
            {
                "qc_lead": "The QC lead stays the same across a PO's milestones: once one is "
                "booked, only a coordinator reassigns the lead of all of them, with a reason."
            }
        )


@transaction.atomic
def reassign_qc_lead(*, by: User, po: PurchaseOrder, lead: User, reason: str) -> PurchaseOrder:
    from qcloop.orders.services import update_purchase_order

    if not is_coordinator(by, po):
        raise PermissionDenied("Only the agency's coordinators reassign a PO's QC lead.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the QC lead of every milestone changes."})
    before = str(po.qc_lead) if po.qc_lead_id else ""
    token = reassigning.set(True)
    try:
        po = update_purchase_order(by=by, po=po, changes={"qc_lead": lead})
    finally:
        reassigning.reset(token)
    ScheduleChange.objects.create(
        po=po,
        what="QC lead",
        before=before,
        after=str(lead),
        reason=f"All milestones reassigned: {reason}",
        by=by,
    )
    return po


# --- calendar feeds --------------------------------------------------------------------------


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_have_feed(user: User, kind: str) -> bool:
    membership = user.membership
    if membership is None:
        return False
    if kind == FeedKind.INSPECTOR:
        return membership.is_agency and membership.role in {Role.INSPECTOR, Role.QC_LEAD}
    if kind == FeedKind.BUYER:
        return membership.is_buyer
    return False


@transaction.atomic
def rotate_feed(*, by: User, kind: str) -> tuple[CalendarFeed, str]:
    """Make the user's feed of this kind, or give it a new secret: the old URL stops working.
    The token is returned once; only its hash is stored."""
    if kind not in FeedKind.values:
        raise ValidationError({"kind": f"Unknown feed {kind!r}: use inspector or buyer."})
    if not may_have_feed(by, kind):
        raise PermissionDenied(
            "Inspectors have a feed of their bookings; buyers one of their milestones."
        )
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.filter(user=by, kind=kind).select_for_update().first()
    if feed is None:
        feed = CalendarFeed(user=by, kind=kind)
    else:
        feed.rotated_at = timezone.now()
    feed.token_sha256, feed.hint = token_sha256(token), token[:6]
    feed.save()
    return feed, token


def feed_for_token(token: str) -> CalendarFeed | None:
    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.filter(token_sha256=token_sha256(token)).select_related(
        "user__membership_record"
    )
    found = feed.first()
    return found if found and found.user.is_active else None
