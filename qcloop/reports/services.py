"""State changes of reports: the review by the QC lead, publication as immutable versions,
corrections that supersede, the PO summary after the CLI, and the PDF of each version.

The inspector submits (qcloop.inspections.recording.submit_inspection), which opens the
report and starts its clock; the QC lead comments, sends back or approves; approval publishes
version 1 to the buyer. A correction is opened with its reason, recorded by the QC lead and
published as the next version; the one it supersedes is kept and says so."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from qcloop.accounts.models import User
from qcloop.inspections.models import Milestone, MilestoneKind, MilestoneStatus

from . import summary_logic
from .content import content_sha256, milestone_content
from .models import NoteKind, Report, ReportKind, ReportVersion, ReviewNote
from .rendering import render_pdf, stamp_for, store_pdf
from .summary import summary_content


def report_sla(kind: str = ReportKind.MILESTONE) -> timedelta:
    """24 hours from the end of an inspection to its report; 48 from the CLI to the summary."""
    if kind == ReportKind.PO_SUMMARY:
        return timedelta(hours=settings.QCLOOP_SUMMARY_SLA_HOURS)
    return timedelta(hours=settings.QCLOOP_REPORT_SLA_HOURS)


# --- the review ------------------------------------------------------------------------------


def open_report(milestone: Milestone) -> Report:
    """At the inspector's first submission: the report exists and its 24-hour clock runs.
    A resubmission after a send-back keeps the clock: the buyer waits either way."""
    started = milestone.submitted_at or timezone.now()
    report, _ = Report.objects.get_or_create(
        milestone=milestone,
        defaults={
            "po_id": milestone.po_id,
            "kind": ReportKind.MILESTONE,
            "clock_started_at": started,
            "due_at": started + report_sla(),
        },
    )
    return report


def _require_reviewer(by: User, report: Report) -> None:
    if report.po.qc_lead_id != by.pk:
        raise PermissionDenied("Only the PO's QC lead reviews and publishes its reports.")


def _may_comment(by: User, report: Report) -> bool:
    membership = by.membership
    if membership is None or membership.organisation_id != report.po.agency_id:
        return False
    inspector = report.milestone.inspector_id if report.milestone else None
    return by.pk in {report.po.qc_lead_id, inspector} or membership.role in {
        "coordinator",
        "admin",
    }


def _text(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": f"Write {what}."})
    if len(text) > 5000:
        raise ValidationError({"text": "Keep it under 5,000 characters."})
    return text


@transaction.atomic
def comment(*, by: User, report: Report, text: str) -> ReviewNote:
    """A remark in the review: the QC lead's question, the inspector's answer."""
    if not _may_comment(by, report):
        raise PermissionDenied("Only the agency's people on this PO comment on its review.")
    return ReviewNote.objects.create(
        report=report, author=by, kind=NoteKind.COMMENT, text=_text(text, "your comment")
    )


def _locked_milestone(report: Report) -> Milestone:
    return Milestone.objects.select_for_update(of=("self",)).get(pk=report.milestone_id)


@transaction.atomic
def send_back(*, by: User, report: Report, text: str) -> ReviewNote:
    """Back to the inspector, with what to change: the milestone is open for recording again."""
    from qcloop.inspections.services import transition_milestone

    _require_reviewer(by, report)
    text = _text(text, "what the inspector should change")
    milestone = _locked_milestone(report)
    if milestone.status != MilestoneStatus.SUBMITTED:
        raise ValidationError({"status": f"The {milestone.label} is not waiting for review."})
    transition_milestone(by=by, milestone=milestone, to=MilestoneStatus.IN_PROGRESS)
    return ReviewNote.objects.create(report=report, author=by, kind=NoteKind.SENT_BACK, text=text)


@transaction.atomic
def approve(
    *, by: User, report: Report, lead_summary: str = "", recommendation: dict | None = None
) -> ReportVersion:
    """The QC lead approves: the report is published to the buyer as version 1. For the PO
    summary, `recommendation` ({"code", "note"}) is the QC lead's own word on the next PO."""
    from qcloop.inspections.services import transition_milestone

    _require_reviewer(by, report)
    if report.kind == ReportKind.PO_SUMMARY:
        return _approve_summary(by, report, lead_summary, recommendation)
    milestone = _locked_milestone(report)
    if milestone.status != MilestoneStatus.SUBMITTED:
        raise ValidationError({"status": f"The {milestone.label} is not waiting for review."})
    Report.objects.filter(pk=report.pk).update(lead_summary=(lead_summary or "").strip())
    transition_milestone(by=by, milestone=milestone, to=MilestoneStatus.PUBLISHED)
    return Report.objects.get(pk=report.pk).current


def milestone_published(milestone: Milestone, by: User) -> ReportVersion:
    """Called in the transaction that publishes the milestone, whichever way it was asked
    (report page, milestone page, API): the report's first version."""
    from qcloop.analytics.services import record_published

    report = Report.objects.select_for_update().filter(milestone=milestone).first()
    if report is None:
        report = open_report(milestone)
    # Tally and trend first: the report states the trend as of its own milestone.
    trend = record_published(milestone)
    content = milestone_content(milestone, report.lead_summary, trend)
    version = _issue_version(report, by, content)
    _note_approval(report, by)
    if milestone.kind == MilestoneKind.CLI:
        open_summary(milestone.po, since=milestone.published_at)
    return version


# --- the PO summary --------------------------------------------------------------------------


def open_summary(po, since=None) -> Report:
    """At the CLI's publication: the PO summary exists and its 48-hour clock runs. A second
    CLI (a re-loading) keeps the first clock: the buyer has been waiting since then."""
    started = since or timezone.now()
    report, _ = Report.objects.get_or_create(
        po=po,
        kind=ReportKind.PO_SUMMARY,
        defaults={
            "clock_started_at": started,
            "due_at": started + report_sla(ReportKind.PO_SUMMARY),
        },
    )
    return report


def _chosen(by: User, recommendation: dict | None) -> dict | None:
    """The QC lead's own recommendation as kept on the report: a known code (or none: qcloop's
    stands) and their words, at most 2,000 characters."""
    if not recommendation or not recommendation.get("code"):
        note = ((recommendation or {}).get("note") or "").strip()
        return {"code": "", "note": note, "chosen_by": by.full_name} if note else None
    code = recommendation["code"]
    if code not in summary_logic.TITLES:
        raise ValidationError({"recommendation": f"{code!r} is not a recommendation qcloop knows."})
    note = (recommendation.get("note") or "").strip()
    if len(note) > 2000:
        raise ValidationError({"recommendation_note": "Keep it under 2,000 characters."})
    return {"code": code, "note": note, "chosen_by": by.full_name}


def _require_note_when_overruled(content: dict) -> None:
    """Overruling the rules takes words: the buyer sees both recommendations and must see why."""
    recommendation = content["recommendation"]
    if recommendation["overridden"] and not recommendation["lead_note"]:
        computed = recommendation["computed"]["title"]
        raise ValidationError(
            {
                "recommendation_note": f"Say why you recommend otherwise than qcloop "
                f"({computed}): the buyer sees both."
            }
        )


def _approve_summary(by, report, lead_summary: str, recommendation) -> ReportVersion:
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.published_at is not None:
        raise ValidationError({"status": "The PO summary is published: correct it instead."})
    report.lead_summary = (lead_summary or "").strip()
    report.recommendation = _chosen(by, recommendation)
    content = summary_content(report.po, report.lead_summary, report.recommendation)
    _require_note_when_overruled(content)
    report.save(update_fields=["lead_summary", "recommendation"])
    version = _issue_version(report, by, content)
    _note_approval(report, by)
    return version


def _note_approval(report: Report, by: User) -> ReviewNote:
    return ReviewNote.objects.create(
        report=report,
        author=by,
        kind=NoteKind.APPROVED,
        text=report.lead_summary or "Approved and published.",
    )


def _issue_version(report: Report, by: User, content: dict, reason: str = "") -> ReportVersion:
    now = timezone.now()
    previous = report.versions.select_for_update().filter(superseded_at__isnull=True)
    number = (report.versions.order_by("-number").values_list("number", flat=True).first()) or 0
    previous.update(superseded_at=now)
    version = ReportVersion.objects.create(
        report=report,
        number=number + 1,
        content=content,
        content_sha256=content_sha256(content),
        published_at=now,
        published_by=by,
        correction_reason=reason,
    )
    if report.published_at is None:
        report.published_at = now
        report.save(update_fields=["published_at"])
    transaction.on_commit(lambda: _queue_rendering(version.pk))
    return version


def _queue_rendering(version_id: int) -> None:
    from .tasks import render_report_pdf

    render_report_pdf.enqueue(version_id)


# --- corrections ---------------------------------------------------------------------------


@transaction.atomic
def open_correction(*, by: User, report: Report, reason: str) -> Report:
    """The QC lead reopens a published milestone report to correct it: they alone may record
    on the milestone until the correction is published (or dropped). The published version
    stays what it is and stays current until then."""
    _require_reviewer(by, report)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.published_at is None:
        raise ValidationError({"reason": "Only a published report is corrected."})
    if report.correction_opened_at is not None:
        raise ValidationError({"reason": "A correction of this report is already open."})
    report.correction_reason = _text(reason, "why the report is corrected")
    report.correction_opened_at = timezone.now()
    report.save(update_fields=["correction_reason", "correction_opened_at"])
    ReviewNote.objects.create(
        report=report, author=by, kind=NoteKind.CORRECTION, text=report.correction_reason
    )
    return report


@transaction.atomic
def drop_correction(*, by: User, report: Report) -> Report:
    """Nothing to correct after all. Anything recorded meanwhile stays recorded but is not
    published until a correction is."""
    _require_reviewer(by, report)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.correction_opened_at is None:
        raise ValidationError({"reason": "No correction is open."})
    report.correction_reason, report.correction_opened_at = "", None
    report.save(update_fields=["correction_reason", "correction_opened_at"])
    return report


@transaction.atomic
def publish_correction(
    *,
    by: User,
    report: Report,
    lead_summary: str | None = None,
    recommendation: dict | None = None,
):
    """The corrected report, re-judged from the records (a summary re-read from the current
    milestone reports), as the next version."""
    from qcloop.analytics.services import record_published
    from qcloop.inspections.recording import assess

    _require_reviewer(by, report)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.correction_opened_at is None:
        raise ValidationError({"reason": "Open a correction first, with its reason."})
    if lead_summary is not None:
        report.lead_summary = lead_summary.strip()
    reason = report.correction_reason
    if report.kind == ReportKind.PO_SUMMARY:
        if recommendation is not None:
            report.recommendation = _chosen(by, recommendation)
        content = summary_content(report.po, report.lead_summary, report.recommendation)
        _require_note_when_overruled(content)
    else:
        milestone = _locked_milestone(report)
        result, observations = assess(milestone)
        milestone.result = result.outcome
        milestone.result_detail = {**result.to_dict(), "observations": observations}
        milestone.save(update_fields=["result", "result_detail", "updated_at"])
        trend = record_published(milestone)
        content = milestone_content(milestone, report.lead_summary, trend)
    report.correction_reason, report.correction_opened_at = "", None
    report.save(
        update_fields=[
            "lead_summary",
            "recommendation",
            "correction_reason",
            "correction_opened_at",
        ]
    )
    version = _issue_version(report, by, content, reason=reason)
    ReviewNote.objects.create(report=report, author=by, kind=NoteKind.CORRECTED, text=reason)
    return version


def correction_open(milestone: Milestone) -> bool:
    return Report.objects.filter(milestone=milestone, correction_opened_at__isnull=False).exists()


# --- the PDF of a version ------------------------------------------------------------------


def ensure_pdf(version: ReportVersion) -> ReportVersion:
    """The version's PDF, rendered once from its frozen content. Two workers asking at once
    render once: the row lock makes the second find it done."""
    if version.pdf:
        return version
    with transaction.atomic():
        locked = ReportVersion.objects.select_for_update().get(pk=version.pk)
        if not locked.pdf:
            store_pdf(locked, *render_pdf(locked.content, stamp_for(locked)))
    version.refresh_from_db()
    return version


def draft_pdf(report: Report) -> bytes:
    """The PDF as it would be published now, marked as a draft (for the QC lead's review)."""
    return render_pdf(draft_content(report), stamp_for(None))[0]


def draft_content(report: Report) -> dict:
    if report.kind == ReportKind.PO_SUMMARY:
        return summary_content(report.po, report.lead_summary, report.recommendation)
    return milestone_content(report.milestone, report.lead_summary)


# --- the buyer's distribution ----------------------------------------------------------------


@transaction.atomic
def add_recipient(buyer, data: dict):
    from .models import ReportRecipient

    email = data["email"].strip().lower()
    if ReportRecipient.objects.filter(buyer=buyer, email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is on the list already."})
    return ReportRecipient.objects.create(
        buyer=buyer, email=email, name=data.get("name", ""), attach_pdf=data.get("attach_pdf", True)
    )


@transaction.atomic
def remove_recipient(buyer, recipient_id) -> None:
    from .models import ReportRecipient

    if str(recipient_id).isdigit():
        ReportRecipient.objects.filter(buyer=buyer, pk=int(recipient_id)).delete()


@transaction.atomic
def share_with_suppliers(buyer, share: bool) -> None:
    """The buyer's choice: its suppliers see (and are sent) the published reports."""
    type(buyer).objects.filter(pk=buyer.pk).update(shares_reports_with_suppliers=share)
