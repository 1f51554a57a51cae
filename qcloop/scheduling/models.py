"""Scheduling from production progress: the factory's progress reports, the bookings of
inspectors, their calendar (capacity, days off), what moved and why, the ship-date warnings and
the iCalendar feeds. Milestone fields themselves belong to qcloop.inspections and change only
through its services."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from qcloop.orders.models import PurchaseOrder

DEFAULT_LEAD_HOURS = 48
MIN_LEAD_HOURS, MAX_LEAD_HOURS = 48, 72  # the seed: on site "within 48 to 72 hours"


class SchedulingTerms(models.Model):
    """An agency's booking rules: how long before the visit a booking must be made, and how
    many inspections an inspector does a day unless their calendar says otherwise."""

    agency = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="scheduling_terms"
    )
    booking_lead_hours = models.PositiveSmallIntegerField(
        default=DEFAULT_LEAD_HOURS,
        validators=[MinValueValidator(MIN_LEAD_HOURS), MaxValueValidator(MAX_LEAD_HOURS)],
    )
    inspections_per_day = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name_plural = "scheduling terms"
        constraints = [
            models.CheckConstraint(
                condition=Q(booking_lead_hours__gte=MIN_LEAD_HOURS)
                & Q(booking_lead_hours__lte=MAX_LEAD_HOURS),
                name="scheduling_lead_hours_48_to_72",
            )
        ]

    def __str__(self):
        return f"{self.agency}: {self.booking_lead_hours} h lead"


class ReportSource(models.TextChoices):
    SUPPLIER = "supplier", "Factory"
    COORDINATOR = "coordinator", "Agency"


class ProgressReport(models.Model):
    """What the factory (or the agency's coordinator, relaying it) says production stands at
    on a day. An inspector's follow-up count (inspections.ProductionStatus) outranks it."""

    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="progress_reports")
    reported_on = models.DateField()
    produced = models.PositiveIntegerField()
    packed = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=12, choices=ReportSource.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["po", "reported_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(packed__lte=F("produced")), name="progress_packed_within_produced"
            )
        ]

    def __str__(self):
        return f"{self.produced} produced, {self.packed} packed on {self.reported_on}"


class InspectorCalendar(models.Model):
    """An inspector's own capacity, when it differs from the agency's terms."""

    inspector = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inspection_calendar"
    )
    inspections_per_day = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    def __str__(self):
        return f"{self.inspector}: {self.inspections_per_day} a day"


class DayOff(models.Model):
    """A day an inspector does not inspect (leave, training, public holiday)."""

    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="days_off"
    )
    day = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["inspector", "day"]
        constraints = [models.UniqueConstraint(fields=["inspector", "day"], name="unique_day_off")]

    def __str__(self):
        return f"{self.inspector} off on {self.day}"


class Booking(models.Model):
    """A milestone booked with an inspector for a day, and how: the lead time it was made with
    and, when shorter than the agency's rule, the coordinator's reason for overriding it."""

    milestone = models.ForeignKey(
        "inspections.Milestone", on_delete=models.CASCADE, related_name="bookings"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField()
    lead_hours = models.IntegerField(help_text="Hours from booking to the visit's start.")
    rule_hours = models.PositiveSmallIntegerField(help_text="The agency's lead time then.")
    override_reason = models.TextField(blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-booked_at", "-id"]

    def __str__(self):
        return f"{self.milestone} with {self.inspector} on {self.day}"


class ScheduleChange(models.Model):
    """One entry of a PO's schedule log: what moved, from what to what, and why."""

    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="schedule_log")
    milestone = models.ForeignKey(
        "inspections.Milestone", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    what = models.CharField(max_length=40)  # "DUPRO window", "PSI booking", "QC lead"
    before = models.CharField(max_length=200, blank=True)
    after = models.CharField(max_length=200)
    reason = models.TextField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.what}: {self.before} -> {self.after}"


class ScheduleWarning(models.Model):
    """The buyer told that a PO's ship date is at risk: raised when the risk appears or gets
    worse, cleared when a later projection no longer shows it."""

    po = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="schedule_warnings"
    )
    days_late = models.IntegerField(null=True, blank=True, help_text="Empty: production stalled.")
    severity = models.PositiveIntegerField()
    reasons = models.JSONField(default=list)
    raised_at = models.DateTimeField(default=timezone.now)
    emailed_to = models.JSONField(default=list, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]

    def __str__(self):
        return f"PO {self.po.number}: ship date at risk"


class FeedKind(models.TextChoices):
    INSPECTOR = "inspector", "My bookings"
    BUYER = "buyer", "My organisation's milestones"


class CalendarFeed(models.Model):
    """A secret iCalendar URL for one user's calendar app (which cannot sign in). Only the
    token's SHA-256 is kept; rotating it makes the old URL answer 404."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    kind = models.CharField(max_length=12, choices=FeedKind.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=8, help_text="The token's first characters, to tell it.")
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="unique_feed_per_user_kind")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.user}"
