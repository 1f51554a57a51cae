"""The report SLA as measured: each report's turnaround from the end of its inspection to its
publication, and each QC lead's record, with what is due soon."""

from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from django.conf import settings
from django.utils import timezone

from .models import Report


def warn_window() -> timedelta:
    return timedelta(hours=settings.QCLOOP_REPORT_WARN_HOURS)


def state(report: Report, now=None) -> str:
    """published on time / late; or, while unpublished: open, due soon, overdue."""
    now = now or timezone.now()
    if report.published_at is not None:
        return "on time" if report.published_at <= report.due_at else "late"
    if now > report.due_at:
        return "overdue"
    if now >= report.due_at - warn_window():
        return "due soon"
    return "open"


def hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 1)


def report_rows(reports) -> list[dict]:
    now = timezone.now()
    return [
        {
            "report": report,
            "state": state(report, now),
            "turnaround_hours": hours(report.turnaround),
            "left_hours": hours(report.due_at - now) if report.published_at is None else None,
        }
        for report in reports
    ]


@dataclass
class LeadRecord:
    lead: object
    published: int
    on_time: int
    median_hours: float | None
    worst_hours: float | None
    open: int
    due_soon: int
    overdue: int

    @property
    def on_time_share(self) -> float | None:
        return round(100 * self.on_time / self.published, 1) if self.published else None


def lead_turnaround(reports) -> list[LeadRecord]:
    """Per QC lead: how many published, how many within the SLA, median and worst turnaround,
    and the unpublished ones by urgency."""
    now = timezone.now()
    by_lead: dict = {}
    for report in reports:
        by_lead.setdefault(report.po.qc_lead, []).append(report)
    records = []
    for lead, items in by_lead.items():
        done = [r.turnaround for r in items if r.published_at is not None]
        states = [state(r, now) for r in items]
        records.append(
            LeadRecord(
                lead=lead,
                published=len(done),
                on_time=states.count("on time"),
                median_hours=hours(median(done)) if done else None,
                worst_hours=hours(max(done)) if done else None,
                open=states.count("open"),
                due_soon=states.count("due soon"),
                overdue=states.count("overdue"),
            )
        )
    return sorted(records, key=lambda r: (-r.overdue, -r.due_soon, str(r.lead)))
