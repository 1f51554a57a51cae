"""Reads of the scheduling records through their tenancy gates, and the views' read helpers.

A PO's progress reports, schedule log and warnings are seen by whoever sees the PO; a booking by
whoever sees its milestone; an inspector's calendar by the inspector and their agency's staff;
an agency's terms by its members; a calendar feed by its owner alone."""

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet

from qcloop.accounts.models import Role, User
from qcloop.accounts.selectors import is_agency_staff
from qcloop.core.tenancy import for_user, gate
from qcloop.inspections.models import Milestone, MilestoneStatus, ProductionStatus
from qcloop.orders.models import PurchaseOrder

from .models import (
    Booking,
    CalendarFeed,
    DayOff,
    InspectorCalendar,
    ProgressReport,
    ScheduleChange,
    ScheduleWarning,
    SchedulingTerms,
)
from .schedule import COUNT, REPORT, Order, Point

# A milestone holds its inspector's day from booking on, done or not: capacity is of visits.
HOLDS_A_DAY = [
    MilestoneStatus.BOOKED,
    MilestoneStatus.IN_PROGRESS,
    MilestoneStatus.SUBMITTED,
    MilestoneStatus.PUBLISHED,
]


def _of_visible_pos(model):
    def scope(user) -> QuerySet:
        return model.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))

    return scope


gate(ProgressReport)(_of_visible_pos(ProgressReport))
gate(ScheduleChange)(_of_visible_pos(ScheduleChange))
gate(ScheduleWarning)(_of_visible_pos(ScheduleWarning))


@gate(Booking)
def bookings(user) -> QuerySet:
    return Booking.objects.filter(milestone__in=for_user(Milestone, user).values("pk"))


def agency_inspectors(user) -> QuerySet:
    """The inspectors (and QC leads, who inspect too) whose calendar `user` may see."""
    if is_agency_staff(user):
        return User.objects.filter(
            membership_record__organisation=user.membership.organisation_id,
            membership_record__role__in=[Role.INSPECTOR, Role.QC_LEAD],
            is_active=True,
        )
    return User.objects.filter(pk=user.pk, membership_record__role=Role.INSPECTOR)


def agency_qc_leads(po: PurchaseOrder) -> QuerySet:
    """The QC leads of the PO's agency a coordinator may hand the PO to."""
    return User.objects.filter(
        membership_record__organisation=po.agency_id,
        membership_record__role=Role.QC_LEAD,
        is_active=True,
    ).order_by("full_name", "pk")


def _of_visible_inspectors(model):
    def scope(user) -> QuerySet:
        return model.objects.filter(inspector__in=agency_inspectors(user).values("pk"))

    return scope


gate(InspectorCalendar)(_of_visible_inspectors(InspectorCalendar))
gate(DayOff)(_of_visible_inspectors(DayOff))


@gate(SchedulingTerms)
def scheduling_terms(user) -> QuerySet:
    membership = user.membership
    if membership is None or not membership.is_agency:
        return SchedulingTerms.objects.none()
    return SchedulingTerms.objects.filter(agency=membership.organisation_id)


@gate(CalendarFeed)
def calendar_feeds(user) -> QuerySet:
    return CalendarFeed.objects.filter(user=user)


# --- what the services and pages read --------------------------------------------------------


def terms_of(agency_id: int | None) -> SchedulingTerms:
    """The agency's terms, or the defaults (48 h, one inspection a day) unsaved."""
    found = SchedulingTerms.objects.filter(agency_id=agency_id).first() if agency_id else None
    return found or SchedulingTerms(agency_id=agency_id)


def order_of(po: PurchaseOrder) -> Order:
    return Order(po.quantity, po.production_start, po.ex_factory_date, po.ship_date)


def progress_points(po: PurchaseOrder) -> list[Point]:
    """The PO's progress history: the factory's reports and the inspectors' counts."""
    points = [
        Point(r.reported_on, r.produced, r.packed, REPORT)
        for r in ProgressReport.objects.filter(po=po).order_by("reported_on", "id")
    ]
    counts = ProductionStatus.objects.filter(milestone__po=po).order_by("counted_on", "id")
    points += [Point(c.counted_on, c.produced, min(c.packed, c.produced), COUNT) for c in counts]
    return sorted(points, key=lambda p: (p.on, p.source == COUNT))


def capacity_of(inspector: User, day: date, terms: SchedulingTerms | None = None) -> int:
    """Inspections the inspector can do on `day`: 0 on a day off."""
    if DayOff.objects.filter(inspector=inspector, day=day).exists():
        return 0
    own = InspectorCalendar.objects.filter(inspector=inspector).first()
    if own is not None:
        return own.inspections_per_day
    terms = terms or terms_of(getattr(inspector.membership, "organisation_id", None))
    return terms.inspections_per_day


def booked_on(inspector: User, day: date) -> QuerySet:
    return Milestone.objects.filter(
        inspector=inspector, inspection_date=day, status__in=HOLDS_A_DAY
    )


def month_grid(user, first: date, inspectors: list[User]) -> dict:
    """The inspector calendar for the month starting at `first`: per inspector, per day, the
    capacity, the visits booked (those `user` may see, and a count of the rest) and days off."""
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    ids = [i.pk for i in inspectors]
    visible = (
        for_user(Milestone, user)
        .filter(inspector__in=ids, inspection_date__range=(first, last), status__in=HOLDS_A_DAY)
        .select_related("po")
    )
    totals = dict(
        (
            (row["inspector"], row["inspection_date"]),
            row["n"],
        )
        for row in Milestone.objects.filter(
            inspector__in=ids, inspection_date__range=(first, last), status__in=HOLDS_A_DAY
        )
        .values("inspector", "inspection_date")
        .annotate(n=Count("id"))
    )
    off = set(
        DayOff.objects.filter(inspector__in=ids, day__range=(first, last)).values_list(
            "inspector", "day"
        )
    )
    own = dict(
        InspectorCalendar.objects.filter(inspector__in=ids).values_list(
            "inspector", "inspections_per_day"
        )
    )
    default = terms_of(user.membership.organisation_id if user.membership else None)
    rows = []
    for inspector in inspectors:
        cells = []
        for day in days:
            capacity = (
                0
                if (inspector.pk, day) in off
                else own.get(inspector.pk, default.inspections_per_day)
            )
            shown = [
                m for m in visible if m.inspector_id == inspector.pk and m.inspection_date == day
            ]
            total = totals.get((inspector.pk, day), 0)
            cells.append(
                {
                    "day": day,
                    "capacity": capacity,
                    "off": (inspector.pk, day) in off,
                    "milestones": shown,
                    "others": total - len(shown),
                    "full": total >= capacity,
                    "over": total > capacity,
                }
            )
        rows.append({"inspector": inspector, "cells": cells})
    return {"days": days, "rows": rows, "first": first, "last": last}


def visible_warning(user, po: PurchaseOrder) -> ScheduleWarning | None:
    return for_user(ScheduleWarning, user).filter(po=po, cleared_at__isnull=True).first()


def schedule_log(user, po: PurchaseOrder, limit: int = 20) -> list[ScheduleChange]:
    return list(for_user(ScheduleChange, user).filter(po=po).select_related("by")[:limit])


def feed_milestones(feed: CalendarFeed) -> QuerySet:
    """What a feed shows: never more than its owner may see today."""
    seen = for_user(Milestone, feed.user).select_related("po__factory", "po__supplier", "inspector")
    if feed.kind == "inspector":
        return seen.filter(
            inspector=feed.user, status__in=HOLDS_A_DAY, inspection_date__isnull=False
        )
    return seen.exclude(status=MilestoneStatus.CANCELLED).filter(
        Q(po__buyer=feed.user.membership.organisation_id) if feed.user.membership else Q(pk__in=[])
    )
