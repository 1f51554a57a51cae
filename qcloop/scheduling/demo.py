"""The demo's production progress: each open PO in production has the factory's latest report,
one factory's reports fall far behind, and the buyer of that PO is warned its ship date is at
risk. Called by qcloop.demo once the program is loaded; deterministic for a given `today`."""

from datetime import date, timedelta

from qcloop.accounts.models import Membership, Role
from qcloop.inspections.models import MilestoneStatus
from qcloop.orders.models import POStatus, PurchaseOrder

from . import selectors, services
from .models import ScheduleWarning

DONE = [MilestoneStatus.SUBMITTED, MilestoneStatus.PUBLISHED]
# How far each factory says it is against an even run, by the last digit of the PO number:
# factories report optimistically (the seed), so most are a little ahead.
PACE = [1.05, 0.95, 1.1, 1.0, 1.02, 0.98, 1.08, 1.0, 0.97, 1.04]
BEHIND = 0.7  # the factory whose reports fall behind: 70 % of the pace it needs


def load_demo_scheduling(*, today: date) -> None:
    day = today - timedelta(days=1)
    candidates = [po for po in _in_production(day) if _reporter(po) is not None]
    behind = _pick_behind(candidates, day)
    for po in candidates:
        _report(po, day, BEHIND if po == behind else PACE[int(po.number[-1:] or 0) % 10])


def _in_production(day: date) -> list[PurchaseOrder]:
    orders = PurchaseOrder.objects.filter(
        status=POStatus.OPEN, production_start__lte=day
    ).select_related("supplier", "factory", "agency")
    return [
        po
        for po in orders.order_by("number")
        if not po.milestones.filter(kind="PSI", status__in=DONE).exists()
    ]


def _reporter(po: PurchaseOrder):
    """The supplier's own user where the supplier has a login; else the agency's coordinator."""
    for org, roles in (
        (po.supplier.organisation_id, [Role.SUPPLIER_USER]),
        (po.agency_id, [Role.COORDINATOR]),
    ):
        membership = (
            Membership.objects.filter(organisation_id=org, role__in=roles)
            .select_related("user")
            .first()
        )
        if membership is not None:
            return membership.user
    return None


def _pick_behind(orders: list[PurchaseOrder], day: date) -> PurchaseOrder | None:
    """The PO whose factory falls behind: the longest in production without a DUPRO count."""
    early = [
        po
        for po in orders
        if not po.milestones.filter(
            kind="DUPRO", status__in=[*DONE, MilestoneStatus.IN_PROGRESS]
        ).exists()
    ]
    return max(early, key=lambda po: (day - po.production_start).days, default=None)


def _report(po: PurchaseOrder, day: date, pace: float) -> None:
    order = selectors.order_of(po)
    run = max((order.psi_deadline - order.start).days, 1)
    share = min(0.97, max(0.02, (day - order.start).days / run * pace))
    earlier = selectors.progress_points(po)
    made = max([round(po.quantity * share)] + [p.produced for p in earlier if p.on <= day])
    made = min(made, po.quantity)
    packed = max(
        [round(made * (share - 0.6) * 2) if share > 0.6 else 0]
        + [p.packed for p in earlier if p.on <= day]
    )
    services.record_progress(
        by=_reporter(po),
        po=po,
        reported_on=day,
        produced=made,
        packed=min(packed, made),
        note="" if pace != BEHIND else "Two lines stopped: a moulding tool is being repaired.",
    )


def at_risk_orders() -> list[str]:
    return list(
        ScheduleWarning.objects.filter(cleared_at__isnull=True).values_list("po__number", flat=True)
    )
