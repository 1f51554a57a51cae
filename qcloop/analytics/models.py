"""What the analytics read: one tally per published milestone (instead of its defect records)
and the trend flags the statistics raised on a PO.

Both are derived data, rewritten from the records whenever a milestone report is published or
corrected (`services.record_published`): they may be rebuilt at any time and are never edited
by hand."""

from django.db import models
from django.utils import timezone

from qcloop.accounts.models import Organisation
from qcloop.inspections.models import DefectClass, Milestone, MilestoneKind
from qcloop.orders.models import Factory, PurchaseOrder, Supplier


class MilestoneTally(models.Model):
    """A published milestone as the dashboard and the scorecards count it: units inspected,
    defects per class and per defect code, verdict, dates. The dashboard of 20,000 POs sums
    80,000 of these rather than two million defect records."""

    milestone = models.OneToOneField(
        Milestone, on_delete=models.CASCADE, primary_key=True, related_name="tally"
    )
    buyer = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="tallies")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="tallies")
    factory = models.ForeignKey(Factory, on_delete=models.CASCADE, related_name="tallies")
    category = models.CharField(max_length=20)  # the PO's (first line's) product category
    market = models.CharField(max_length=8)  # the PO's destination market
    kind = models.CharField(max_length=8, choices=MilestoneKind.choices)
    sequence = models.PositiveSmallIntegerField(default=1)
    inspected_on = models.DateField()  # inspection date (the window's end if none was kept)
    published_at = models.DateTimeField()
    result = models.CharField(max_length=8, blank=True)  # pass / fail / pending
    sampled_units = models.PositiveIntegerField(default=0)  # 0: not sampled for defects
    critical = models.PositiveIntegerField(default=0)
    major = models.PositiveIntegerField(default=0)
    minor = models.PositiveIntegerField(default=0)
    # {"<code>": {"class": "major", "found": 3, "name": "Open seam"}}; uncoded defects are
    # keyed by their lower-cased description.
    codes = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            # Covers the dashboard's sums: a buyer's tallies of a period are read from the
            # index alone, never from the rows (which carry the per-code JSON).
            models.Index(
                fields=[
                    *["buyer", "inspected_on", "supplier", "po", "category", "market", "kind"],
                    *["sequence", "result", "sampled_units", "critical", "major", "minor"],
                ],
                name="tally_of_buyer_covering",
            ),
            models.Index(fields=["supplier", "category", "inspected_on"]),
        ]

    def __str__(self):
        return f"tally of {self.milestone_id}"

    def found(self, defect_class: str) -> int:
        return getattr(self, defect_class)


class TrendFlag(models.Model):
    """A rising defect rate on one PO, for one defect class (code "") or one defect code: the
    latest assessment as of the milestone named, with the strength of the evidence. One row per
    PO, class and code; `raised_at` keeps when it was first raised, `cleared_at` when a later
    milestone no longer supported it."""

    buyer = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="trend_flags")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="trend_flags")
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="+")
    defect_class = models.CharField(max_length=10, choices=DefectClass.choices)
    defect_code = models.CharField(max_length=200, blank=True)
    code_name = models.CharField(max_length=200, blank=True)
    escalating = models.BooleanField(default=False)
    projected = models.BooleanField(default=False)  # projected to exceed the AQL at the next
    p_value = models.FloatField()
    probability = models.FloatField()  # the probability that the rate is rising
    strength = models.CharField(max_length=20)  # the evidence in words: "strong", ...
    explanation = models.TextField()
    series = models.JSONField(default=list)  # [{"label", "n", "found", "history"}]
    history_lots = models.PositiveSmallIntegerField(default=0)
    raised_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["po", "defect_class", "defect_code"], name="one_trend_flag_per_series"
            )
        ]
        indexes = [
            models.Index(fields=["buyer", "raised_at"]),
            # The standing flags, strongest first (the dashboard's list).
            models.Index(
                fields=["p_value", "raised_at", "id", "buyer", "po"],
                condition=models.Q(cleared_at__isnull=True)
                & (models.Q(escalating=True) | models.Q(projected=True)),
                name="trend_flags_standing",
            ),
        ]

    def __str__(self):
        what = self.code_name or self.defect_code or self.defect_class
        return f"{what} on {self.po}"

    @property
    def active(self) -> bool:
        return self.cleared_at is None and (self.escalating or self.projected)


# --- the monthly snapshot email (qcloop/analytics/snapshot.py) ------------------------------


class SnapshotTrigger(models.TextChoices):
    MONTHLY = "monthly", "Monthly (send_monthly_snapshots)"
    MANUAL = "manual", "Sent from the dashboard"


class SnapshotStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class SnapshotSend(models.Model):
    """One email of a buyer's monthly program snapshot. The monthly row is also the claim that
    keeps the daily cron job from sending a month twice: one monthly row per buyer and month
    (the unique constraint lets one insert win), retried while `failed`. `delivered` lists the
    addresses that have had it, so a retry after a mail-server failure mails only the others."""

    buyer = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the calendar month reported
    trigger = models.CharField(max_length=8, choices=SnapshotTrigger.choices)
    status = models.CharField(max_length=8, choices=SnapshotStatus.choices)
    recipients = models.JSONField(default=list)  # the addresses it was meant for
    delivered = models.JSONField(default=list)  # the addresses that accepted it
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "month"],
                condition=models.Q(trigger="monthly"),
                name="one_monthly_snapshot_per_buyer",
            )
        ]

    def __str__(self):
        return f"{self.buyer} snapshot of {self.month:%Y-%m} ({self.status})"
