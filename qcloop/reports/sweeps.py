"""Time-driven work of reports: a QC lead hears of a report nearing its SLA before the buyer
does, and failed mails of published reports are tried again."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from qcloop.core.sweeper import sweep

from .models import Report
from .turnaround import warn_window


@sweep("reports nearing their deadline")
def warn_nearing_deadline() -> int:
    """Mail the QC lead once per report that is unpublished within the warning window of its
    due time (or past it). The row lock keeps two sweepers from warning twice."""
    horizon = timezone.now() + warn_window()
    due = Report.objects.filter(
        published_at__isnull=True, deadline_warned_at__isnull=True, due_at__lte=horizon
    ).values_list("pk", flat=True)
    return sum(_warn(pk) for pk in list(due[:200]))


def _warn(pk: int) -> int:
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(skip_locked=True)
            .select_related("po__qc_lead", "milestone")
            .filter(pk=pk, deadline_warned_at__isnull=True, published_at__isnull=True)
            .first()
        )
        if report is None or report.po.qc_lead is None:
            return 0
        report.deadline_warned_at = timezone.now()
        report.save(update_fields=["deadline_warned_at"])
        lead = report.po.qc_lead
        left = report.due_at - report.deadline_warned_at
        when = (
            f"is due in {max(int(left.total_seconds() // 60), 0)} minutes"
            if left.total_seconds() > 0
            else "is overdue"
        )
        link = settings.SITE_URL + reverse("reports:detail", args=[report.pk])
        transaction.on_commit(
            lambda: send_mail(
                subject=f"[qcloop] {report} {when}",
                message=(
                    f"Hello {lead.get_short_name()},\n\nThe {report} {when} "
                    f"(due {report.due_at:%d %b %Y %H:%M} UTC).\n\n{link}\n"
                ),
                from_email=None,
                recipient_list=[lead.email],
            )
        )
        return 1


@sweep("report deliveries to retry")
def retry_report_deliveries() -> int:
    """Mail again the report deliveries that failed and are due (1, 5, 15, 60 minutes ... after
    the last attempt; given up after eight), and those left half-done by a crashed worker. The
    claim on each delivery keeps several sweepers (and the workers) from mailing twice."""
    from .distribution import retry_due

    return retry_due()
