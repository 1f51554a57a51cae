"""Milestones: the four inspections of a PO (IPC, DUPRO, PSI, CLI) and their progress."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from qcloop.core.reference import ProductCategory
from qcloop.orders.models import PurchaseOrder, Supplier


class MilestoneKind(models.TextChoices):
    IPC = "IPC", "Initial production check"
    DUPRO = "DUPRO", "During-production inspection"
    PSI = "PSI", "Pre-shipment inspection"
    CLI = "CLI", "Container loading inspection"


MILESTONE_ORDER = [MilestoneKind.IPC, MilestoneKind.DUPRO, MilestoneKind.PSI, MilestoneKind.CLI]


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    BOOKED = "booked", "Booked"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    PUBLISHED = "published", "Published"
    CANCELLED = "cancelled", "Cancelled"


class Milestone(models.Model):
    """One inspection of a PO. Planned in a window, booked for a date with an inspector,
    carried out, submitted by the inspector and published by the PO's QC lead.

    A re-inspection of the same kind is the next `sequence` (PSI #2 after a failed PSI)."""

    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=8, choices=MilestoneKind.choices)
    sequence = models.PositiveSmallIntegerField(default=1)
    window_start = models.DateField("planned window start")
    window_end = models.DateField("planned window end")
    inspection_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_milestones",
    )
    # The ISO 2859-1 plan the milestone inspects with, and the cartons and units drawn for it,
    # kept as they were when planned so that the report can show (and anyone re-derive) them.
    lot_size = models.PositiveIntegerField(null=True, blank=True)
    sampling = models.JSONField(null=True, blank=True)
    sample_draw = models.JSONField(null=True, blank=True)
    sampling_planned_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["po", "window_start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["po", "kind", "sequence"], name="unique_milestone"),
            models.CheckConstraint(
                condition=Q(window_end__gte=F("window_start")), name="milestone_window_ordered"
            ),
        ]
        indexes = [models.Index(fields=["inspector", "status"])]

    def __str__(self):
        suffix = f" #{self.sequence}" if self.sequence > 1 else ""
        return f"{self.kind}{suffix} · PO {self.po.number}"

    @property
    def qc_lead(self):
        """The PO's QC lead: one accountable person across all milestones."""
        return self.po.qc_lead

    @property
    def label(self) -> str:
        return f"{self.kind} #{self.sequence}" if self.sequence > 1 else self.kind


class DefectClass(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class SwitchingStream(models.Model):
    """Where one stream of lots stands under the ISO 2859-1 switching rules: one supplier's
    lots of one product category, judged for one defect class. Its state decides the severity
    (normal, tightened, reduced, discontinued) of that supplier's next inspection."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="switching_streams"
    )
    category = models.CharField(max_length=20, choices=ProductCategory.choices)
    defect_class = models.CharField(max_length=10, choices=DefectClass.choices)
    state = models.JSONField(default=dict)  # qcloop.sampling.SwitchingState.to_dict()
    reduced_approved = models.BooleanField(
        default=False,
        help_text="The responsible authority allows reduced inspection for this stream.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["supplier", "category", "defect_class"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "category", "defect_class"], name="unique_switching_stream"
            )
        ]

    def __str__(self):
        return f"{self.supplier} · {self.get_category_display()} · {self.defect_class}"
