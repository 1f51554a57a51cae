"""What each role's home page shows, read through the tenancy gates."""

from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import Coalesce
from django.utils import timezone

from qcloop.core.tenancy import for_user
from qcloop.inspections.models import Milestone, MilestoneStatus
from qcloop.orders.models import POStatus
from qcloop.orders.selectors import POFilters, filtered_purchase_orders

ACTIVE = [POStatus.OPEN]
OPEN_MILESTONE = [MilestoneStatus.PLANNED, MilestoneStatus.BOOKED, MilestoneStatus.IN_PROGRESS]


def _active_orders(user):
    return filtered_purchase_orders(user, POFilters()).filter(status__in=ACTIVE)


def _stage_counts(orders) -> list[tuple[str, int]]:
    counts = dict(orders.order_by().values_list("stage").annotate(n=Count("pk")))
    return [
        (label, counts.get(kind, 0))
        for kind, label in [
            ("IPC", "IPC"),
            ("DUPRO", "DUPRO"),
            ("PSI", "PSI"),
            ("CLI", "CLI"),
            (None, "All done"),
        ]
    ]


def _milestones(user):
    return for_user(Milestone, user).select_related("po__supplier", "po__factory", "inspector")


def buyer_home(user) -> dict:
    orders = _active_orders(user)
    return {
        "orders": orders[:25],
        "order_count": orders.count(),
        "stage_counts": _stage_counts(orders),
        "awaiting_publication": _milestones(user).filter(status=MilestoneStatus.SUBMITTED)[:10],
    }


def _reports_due(user):
    """The QC lead's unpublished reports, the nearest deadline first, with their SLA state."""
    from qcloop.reports.models import Report
    from qcloop.reports.turnaround import report_rows

    due = (
        for_user(Report, user)
        .filter(po__qc_lead=user, published_at__isnull=True)
        .select_related("po__supplier", "po__qc_lead", "milestone")
        .order_by("due_at")
    )
    return report_rows(due[:50])


def qc_lead_home(user) -> dict:
    orders = _active_orders(user).filter(qc_lead=user)
    return {
        "orders": orders,
        "reports_due": _reports_due(user),
        "to_review": _milestones(user)
        .filter(po__qc_lead=user, status=MilestoneStatus.SUBMITTED)
        .order_by("submitted_at"),
        "upcoming": _milestones(user)
        .filter(po__qc_lead=user, status__in=OPEN_MILESTONE, window_start__lte=_soon())
        .order_by(Coalesce("inspection_date", "window_start"), "id")[:20],
    }


def inspector_home(user) -> dict:
    mine = _milestones(user).filter(inspector=user)
    return {
        "current": mine.filter(status__in=OPEN_MILESTONE).order_by(
            Coalesce("inspection_date", "window_start"), "id"
        ),
        "sent_back_or_submitted": mine.filter(status=MilestoneStatus.SUBMITTED),
        "recent": mine.filter(status=MilestoneStatus.PUBLISHED).order_by("-published_at")[:10],
    }


def coordinator_home(user) -> dict:
    orders = _active_orders(user)
    milestones = _milestones(user)
    return {
        "order_count": orders.count(),
        "stage_counts": _stage_counts(orders),
        "to_book": milestones.filter(status=MilestoneStatus.PLANNED, window_start__lte=_soon())
        .select_related("po__qc_lead")
        .order_by("window_start")[:25],
        "booked": milestones.filter(status=MilestoneStatus.BOOKED).order_by("inspection_date")[:25],
    }


def supplier_home(user) -> dict:
    return {
        "orders": filtered_purchase_orders(user, POFilters()).exclude(status=POStatus.CANCELLED)
    }


def _soon():
    return timezone.localdate() + timedelta(days=14)
