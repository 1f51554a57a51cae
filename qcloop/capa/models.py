"""Corrective and preventive actions (CAPA): a finding at one milestone, the supplier's answer
(root cause by five whys, correction of the units already made, prevention in the process),
the QC lead's acceptance, and the verification at a later milestone that closes it.

The life of a CAPA: open (waiting for the supplier) -> answered (waiting for the QC lead) ->
accepted (waiting for a later milestone to verify it) -> closed (verified effective). An answer
sent back returns it to open; a verification that finds it not effective reopens it."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from qcloop.inspections.models import DefectClass, Milestone
from qcloop.orders.models import PurchaseOrder, Supplier


class CapaStatus(models.TextChoices):
    OPEN = "open", "Open: waiting for the supplier's answer"
    ANSWERED = "answered", "Answered: waiting for the QC lead"
    ACCEPTED = "accepted", "Accepted: to verify at a later milestone"
    CLOSED = "closed", "Closed: verified effective"


# Not yet closed: the states in which a CAPA is still owed something.
OPEN_STATUSES = (CapaStatus.OPEN, CapaStatus.ANSWERED, CapaStatus.ACCEPTED)


class FindingKind(models.TextChoices):
    DEFECT = "defect", "Defect"
    CHECK = "check", "Failed check"
    PRODUCTION = "production", "Production late"
    LAB = "lab", "Failed lab test"


class CorrectiveAction(models.Model):
    """One corrective action asked of the supplier for one finding of a PO. The finding is kept
    as it was when the CAPA opened (`finding`), so that a later edit of the inspection does not
    rewrite what the supplier was asked to answer."""

    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="capas")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="capas")
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, related_name="capas_opened", help_text="Opened at."
    )
    number = models.PositiveIntegerField()  # 1, 2, ... within the PO
    finding_kind = models.CharField(max_length=12, choices=FindingKind.choices)
    # What the finding is, whatever milestone it is seen at: "defect:LT-WRK-03", "check:PK-02",
    # "production:late". Recurrences are the same key coming back for the same supplier.
    finding_key = models.CharField(max_length=80)
    defect = models.ForeignKey(
        "inspections.Defect", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    severity = models.CharField(max_length=10, choices=DefectClass.choices)
    title = models.CharField(max_length=300)
    finding = models.JSONField(default=dict)  # the finding as it stood when the CAPA opened
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="capas_owned",
        help_text="The person at the supplier who answers.",
    )
    due_on = models.DateField("answer due")
    status = models.CharField(max_length=10, choices=CapaStatus.choices, default=CapaStatus.OPEN)
    opened_automatically = models.BooleanField(default=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the QC lead was told it is overdue (once per due date).
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    recurrence_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="recurrences"
    )

    class Meta:
        ordering = ["po", "number"]
        constraints = [
            models.UniqueConstraint(fields=["po", "number"], name="unique_capa_number_per_po")
        ]
        indexes = [
            models.Index(fields=["status", "due_on"]),
            # The dashboard's open CAPAs (counted, and listed by due date) and the scorecards'
            # CAPAs of a period are read from these alone: the rows themselves carry the
            # finding's JSON and are several times larger than what these queries need.
            models.Index(
                fields=["due_on", "id", "po", "milestone"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="capa_open_by_due",
            ),
            models.Index(fields=["closed_at", "opened_at", "po", "milestone"], name="capa_closing"),
            models.Index(
                fields=[
                    "opened_at",
                    "supplier",
                    "status",
                    "closed_at",
                    "due_on",
                    "recurrence_of",
                    "po",
                ],
                name="capa_opened_in_period",
            ),
        ]

    def __str__(self):
        return f"{self.reference}: {self.title}"

    @property
    def reference(self) -> str:
        return f"CAPA-{self.po.number}-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, today=None) -> bool:
        """Still waiting for the supplier's answer after its due date."""
        today = today or timezone.localdate()
        return self.status == CapaStatus.OPEN and self.due_on < today


class AnswerDecision(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    RETURNED = "returned", "Sent back"


class CapaAnswer(models.Model):
    """The supplier's answer: why it happened (up to five whys, ending in the root cause), what
    was done about the units already made, and what changes in the process so it does not
    happen again. The QC lead accepts it or sends it back with a note; every answer is kept."""

    capa = models.ForeignKey(CorrectiveAction, on_delete=models.CASCADE, related_name="answers")
    whys = models.JSONField(default=list)  # ["why 1", "why 2", ...], 1 to 5
    root_cause = models.TextField()
    correction = models.TextField(help_text="What was done with the units already made.")
    prevention = models.TextField(help_text="What changes in the process.")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=10, choices=AnswerDecision.choices, blank=True)
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["capa", "submitted_at", "pk"]

    def __str__(self):
        return f"Answer to {self.capa.reference} of {self.submitted_at:%Y-%m-%d}"


class CapaEvidence(models.Model):
    """A photo the supplier sends with an answer (the corrected jig, the new work instruction)."""

    capa = models.ForeignKey(CorrectiveAction, on_delete=models.CASCADE, related_name="evidence")
    answer = models.ForeignKey(
        CapaAnswer, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence"
    )
    photo = models.ForeignKey("inspections.Photo", on_delete=models.PROTECT, related_name="+")
    original_name = models.CharField(max_length=200, blank=True)
    caption = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["capa", "uploaded_at", "pk"]

    def __str__(self):
        return f"Evidence for {self.capa.reference}"


class CapaVerification(models.Model):
    """The inspector's finding, at a later milestone, that the corrective action works (closes
    the CAPA) or does not (reopens it for a new answer), with the photos that show it."""

    capa = models.ForeignKey(
        CorrectiveAction, on_delete=models.CASCADE, related_name="verifications"
    )
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, related_name="capa_verifications"
    )
    effective = models.BooleanField()
    note = models.TextField(blank=True)
    # The milestone's photos that show it, by the uuid the phone gave them: a phone sends the
    # verification before its photos have finished uploading, so the photos may come later.
    photo_uuids = models.JSONField(default=list, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(default=timezone.now)
    uuid = models.UUIDField(unique=True, default=uuid.uuid4)  # made by the phone, for retries

    class Meta:
        ordering = ["capa", "verified_at", "pk"]

    def __str__(self):
        word = "effective" if self.effective else "not effective"
        return f"{self.capa.reference} {word} at {self.milestone.label}"

    @property
    def evidence(self):
        """The photos named that have arrived (a phone's may still be on the way)."""
        from qcloop.inspections.models import PhotoAttachment

        return PhotoAttachment.objects.filter(
            milestone=self.milestone_id, uuid__in=self.photo_uuids
        )
