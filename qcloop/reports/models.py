"""Reports: the milestone report and the PO summary, their review by the QC lead, their
published versions (immutable, each with the SHA-256 of its content and of its PDF) and their
distribution to the buyer's recipients."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from qcloop.accounts.models import Organisation
from qcloop.inspections.models import Milestone
from qcloop.orders.models import PurchaseOrder


class ReportKind(models.TextChoices):
    MILESTONE = "milestone", "Milestone report"
    PO_SUMMARY = "po_summary", "PO summary"


class Report(models.Model):
    """The report of one milestone, or the summary of a PO after its CLI: its review, its
    turnaround against the SLA and its versions. The clock starts when the inspection ends (the
    inspector's first submission; for the PO summary, the CLI's publication) and stops at the
    first publication."""

    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="reports")
    milestone = models.OneToOneField(
        Milestone, on_delete=models.CASCADE, null=True, blank=True, related_name="report"
    )
    kind = models.CharField(max_length=12, choices=ReportKind.choices)
    clock_started_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)  # the first publication
    deadline_warned_at = models.DateTimeField(null=True, blank=True)
    # The QC lead's word on page one: what the buyer should do, in a sentence or two.
    lead_summary = models.TextField(blank=True)
    # PO summary only: the QC lead's recommendation for the supplier's next PO,
    # {"code", "title", "reasons": [...], "note", "chosen_by"}; empty means the computed one.
    recommendation = models.JSONField(null=True, blank=True)
    # While a correction of a published report is open: why, and since when.
    correction_reason = models.TextField(blank=True)
    correction_opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-clock_started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["po"], condition=Q(kind="po_summary"), name="one_summary_per_po"
            ),
            models.CheckConstraint(
                condition=Q(kind="po_summary", milestone__isnull=True)
                | Q(kind="milestone", milestone__isnull=False),
                name="report_kind_matches_milestone",
            ),
        ]
        indexes = [
            models.Index(fields=["published_at", "due_at"]),
            # Reports still to publish, by deadline (the dashboard's overdue list).
            models.Index(
                fields=["due_at", "id", "po"],
                condition=Q(published_at__isnull=True),
                name="reports_unpublished_by_due",
            ),
        ]

    def __str__(self):
        if self.kind == ReportKind.PO_SUMMARY:
            return f"PO summary · PO {self.po.number}"
        return f"{self.milestone.label} report · PO {self.po.number}"

    @property
    def title(self) -> str:
        if self.kind == ReportKind.PO_SUMMARY:
            return "PO summary"
        return f"{self.milestone.label} report"

    @property
    def current(self) -> "ReportVersion | None":
        return self.versions.filter(superseded_at__isnull=True).order_by("-number").first()

    @property
    def turnaround(self):
        return (self.published_at - self.clock_started_at) if self.published_at else None

    @property
    def on_time(self) -> bool | None:
        return None if self.published_at is None else self.published_at <= self.due_at


def verification_code() -> str:
    # 60 bits from an alphabet without look-alikes, printed on every page of the PDF.
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


class ReportVersion(models.Model):
    """One published version of a report. Never changed once made: `content` is everything the
    report shows, frozen at publication, and `content_sha256` its hash; the PDF is rendered from
    it and `pdf_sha256` is the hash of those exact bytes. A correction is the next version,
    and the one it supersedes is kept."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    content_sha256 = models.CharField(max_length=64)
    code = models.CharField(max_length=14, unique=True, default=verification_code)
    pdf = models.CharField(max_length=200, blank=True)  # storage name, once rendered
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    pdf_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    pdf_pages = models.PositiveIntegerField(null=True, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    correction_reason = models.TextField(blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["report", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="unique_report_version")
        ]

    def __str__(self):
        return f"{self.report} v{self.number}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def filename(self) -> str:
        report = self.report
        what = "PO-summary" if report.kind == ReportKind.PO_SUMMARY else report.milestone.label
        number = "".join(c if c.isalnum() or c in "-_" else "-" for c in report.po.number)
        return f"qcloop-{number}-{what.replace(' #', '-')}-v{self.number}.pdf"


class NoteKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    SENT_BACK = "sent_back", "Sent back for changes"
    APPROVED = "approved", "Approved and published"
    CORRECTION = "correction", "Correction opened"
    CORRECTED = "corrected", "Correction published"


class ReviewNote(models.Model):
    """One step of a report's review: a comment of the QC lead (or the inspector's answer),
    a send-back with what to change, an approval, a correction."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=NoteKind.choices, default=NoteKind.COMMENT)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.author}"


class ReportRecipient(models.Model):
    """Someone on the buyer's side who receives published reports by email. The PDF is attached
    when `attach_pdf` and it fits under QCLOOP_REPORT_ATTACH_MAX_BYTES; otherwise linked."""

    buyer = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="report_recipients"
    )
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    attach_pdf = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["buyer", "email"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "email"], name="unique_report_recipient")
        ]

    def __str__(self):
        return self.email


class DeliveryStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One email of one report version to one address, as it went.

    The row is also the claim that makes the mail go out once: whoever moves it to `sending`
    (by inserting it, or by a conditional update of a failed or abandoned one) sends; everyone
    else leaves it alone. `claimed_at` says since when, so a claim left by a crashed worker can
    be taken over after a while (see qcloop.reports.distribution). A failed delivery is tried
    again at `next_attempt_at`; when that is empty on a failed one, qcloop has given up."""

    version = models.ForeignKey(ReportVersion, on_delete=models.CASCADE, related_name="deliveries")
    email = models.EmailField()
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices)
    attached = models.BooleanField(default=False)  # the PDF attached rather than linked
    error = models.TextField(blank=True)  # the last attempt's, as the mail server put it
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)  # the current or last attempt
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)  # when the last attempt ended

    class Meta:
        ordering = ["version", "email"]
        constraints = [
            # Case-insensitive: the claim must hold whatever case a list spells an address in.
            models.UniqueConstraint(Lower("email"), "version", name="unique_delivery_address")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self):
        return f"{self.version} to {self.email}: {self.status}"

    @property
    def given_up(self) -> bool:
        return self.status == DeliveryStatus.FAILED and self.next_attempt_at is None
