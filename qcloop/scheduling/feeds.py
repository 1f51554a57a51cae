"""A calendar feed's events from its owner's milestones (read as the owner: the gate)."""

from django.conf import settings

from qcloop.inspections.models import Milestone, MilestoneStatus

from . import ical, selectors
from .models import CalendarFeed, FeedKind

UID_DOMAIN = "qcloop"


def event_of(milestone: Milestone, kind: str) -> ical.Event:
    po = milestone.po
    booked = milestone.inspection_date is not None and milestone.status != MilestoneStatus.PLANNED
    first = milestone.inspection_date if booked else milestone.window_start
    last = milestone.inspection_date if booked else milestone.window_end
    factory = po.factory
    what = f"{milestone.label} · PO {po.number} · {po.supplier.name}"
    description = [
        f"{milestone.get_kind_display()} of PO {po.number} ({po.quantity} {po.unit}).",
        f"Status: {milestone.get_status_display()}.",
    ]
    if milestone.inspector_id and kind == FeedKind.BUYER:
        description.append(f"Inspector: {milestone.inspector}.")
    if not booked:
        description.append("Planned window; the day is not booked yet.")
    return ical.Event(
        # Stable across fetches and re-bookings: calendar apps update the event in place.
        uid=f"milestone-{milestone.pk}-{kind}@{UID_DOMAIN}",
        stamp=milestone.updated_at,
        first_day=first,
        last_day=last,
        summary=what if booked else f"{what} (window)",
        description="\n".join(description),
        location=f"{factory.name}, {factory.address}, {factory.city}, {factory.country}",
        status="CONFIRMED" if booked else "TENTATIVE",
        url=f"{settings.SITE_URL}/milestones/{milestone.pk}/",
    )


def render(feed: CalendarFeed) -> str:
    milestones = selectors.feed_milestones(feed).order_by("window_start", "id")[:2000]
    name = (
        f"qcloop: bookings of {feed.user}"
        if feed.kind == FeedKind.INSPECTOR
        else f"qcloop: milestones of {feed.user.membership.organisation}"
    )
    return ical.calendar(name, [event_of(m, feed.kind) for m in milestones])
