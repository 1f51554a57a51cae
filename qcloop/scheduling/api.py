"""API routes for scheduling: a PO's progress reports, its projected schedule, its bookings,
and booking a milestone. Reads through the tenancy gate; writes only through the services."""

from datetime import date, datetime

from ninja import Router, Schema, Status
from pydantic import ConfigDict

from qcloop.accounts.api import PayloadIds, errors
from qcloop.accounts.models import User
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.inspections.models import Milestone
from qcloop.orders.models import PurchaseOrder

from . import selectors, services
from .models import Booking, ProgressReport

router = Router(tags=["scheduling"])


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class ProgressIn(Input):
    reported_on: date
    produced: int
    packed: int = 0
    note: str = ""


class ProgressOut(Schema):
    id: int
    po: int
    reported_on: date
    produced: int
    packed: int
    note: str
    source: str
    reported_by: str
    created_at: datetime

    @staticmethod
    def resolve_po(report):
        return report.po_id

    @staticmethod
    def resolve_reported_by(report):
        return str(report.reported_by)


class PlacementOut(Schema):
    kind: str
    window_start: date
    window_end: date
    why: str


class RiskOut(Schema):
    at_risk: bool
    days_late: int | None
    reasons: list[str]


class ScheduleOut(Schema):
    po: int
    method: str
    placements: list[PlacementOut]
    psi_ready: date | None
    loading_day: date | None
    risk: RiskOut
    warning_raised_at: datetime | None
    notes: list[str]


class BookingIn(Input):
    inspector: int
    day: date
    override_reason: str = ""


class BookingOut(Schema):
    id: int
    milestone: int
    kind: str
    inspector: int
    inspector_name: str
    day: date
    lead_hours: int
    rule_hours: int
    override_reason: str
    booked_by: str
    booked_at: datetime
    superseded_at: datetime | None

    @staticmethod
    def resolve_milestone(booking):
        return booking.milestone_id

    @staticmethod
    def resolve_kind(booking):
        return booking.milestone.label

    @staticmethod
    def resolve_inspector(booking):
        return booking.inspector_id

    @staticmethod
    def resolve_inspector_name(booking):
        return str(booking.inspector)

    @staticmethod
    def resolve_booked_by(booking):
        return str(booking.booked_by)


def _po(request, po_id: int) -> PurchaseOrder:
    return get_for_user(PurchaseOrder, request.user, pk=po_id)


@router.get(
    "/purchase-orders/{int:po_id}/progress-reports",
    response={200: list[ProgressOut], **errors(401, 404)},
)
def list_progress(request, po_id: int):
    po = _po(request, po_id)
    return for_user(ProgressReport, request.user).filter(po=po).select_related("reported_by")


@router.post(
    "/purchase-orders/{int:po_id}/progress-reports",
    response={201: ProgressOut, **errors(401, 403, 404, 422)},
)
def create_progress(request, po_id: int, payload: ProgressIn):
    """The factory's (or the coordinator's) progress: the milestones not yet booked move with
    it, and the buyer is warned if the ship date's risk is new or worse."""
    report = services.record_progress(by=request.user, po=_po(request, po_id), **payload.dict())
    return Status(201, report)


@router.get(
    "/purchase-orders/{int:po_id}/schedule", response={200: ScheduleOut, **errors(401, 404)}
)
def get_schedule(request, po_id: int):
    po = _po(request, po_id)
    projected = services.project_po(po)
    warning = selectors.visible_warning(request.user, po)
    return {
        "po": po.pk,
        "method": projected.projection.method,
        "placements": list(projected.placements.values()),
        "psi_ready": projected.psi_ready,
        "loading_day": projected.loading_day,
        "risk": {
            "at_risk": projected.risk.at_risk,
            "days_late": projected.risk.days_late,
            "reasons": list(projected.risk.reasons),
        },
        "warning_raised_at": warning.raised_at if warning else None,
        "notes": projected.notes,
    }


@router.get(
    "/purchase-orders/{int:po_id}/bookings", response={200: list[BookingOut], **errors(401, 404)}
)
def list_bookings(request, po_id: int):
    po = _po(request, po_id)
    return (
        for_user(Booking, request.user)
        .filter(milestone__po=po)
        .select_related("milestone", "inspector", "booked_by")
    )


@router.post(
    "/milestones/{int:milestone_id}/booking",
    response={201: BookingOut, **errors(401, 403, 404, 422)},
)
def create_booking(request, milestone_id: int, payload: BookingIn):
    """Book a milestone with an inspector for a day: within the agency's lead time (48-72 h)
    unless a coordinator overrides it with a reason, and within the inspector's capacity."""
    milestone = get_for_user(Milestone, request.user, pk=milestone_id)
    ids = PayloadIds(request.user)
    inspector = ids.pick(User, payload.inspector, "inspector")
    ids.check()
    booking = services.book_milestone(
        by=request.user,
        milestone=milestone,
        inspector=inspector,
        day=payload.day,
        override_reason=payload.override_reason,
    )
    return Status(201, booking)
