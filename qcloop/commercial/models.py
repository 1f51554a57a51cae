"""An agency's prices (fee schedules), its retainer clients, and the quotes it issued."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from qcloop.accounts.models import Organisation
from qcloop.core.reference import validate_currency
from qcloop.orders.models import PurchaseOrder

from . import pricing

MONEY = {"max_digits": 12, "decimal_places": 2}


class FeeSchedule(models.Model):
    """An agency's prices for inspections at factories in one country; the one with a blank
    country is its default. Fees are in `currency`; `exchange_rates` say what one unit of
    another currency is worth in it (for FOB values in other currencies)."""

    agency = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="fee_schedules")
    country = models.CharField(
        max_length=2, blank=True, help_text="Factory country; blank for the agency's default."
    )
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    ipc_fee = models.DecimalField("IPC fee", default=pricing.DEFAULT_FEES["IPC"], **MONEY)
    dupro_fee = models.DecimalField("DUPRO fee", default=pricing.DEFAULT_FEES["DUPRO"], **MONEY)
    psi_fee = models.DecimalField("PSI fee", default=pricing.DEFAULT_FEES["PSI"], **MONEY)
    cli_fee = models.DecimalField("CLI fee", default=pricing.DEFAULT_FEES["CLI"], **MONEY)
    bundle_discount = models.DecimalField(
        "bundle discount (%)",
        max_digits=5,
        decimal_places=2,
        default=pricing.DEFAULT_BUNDLE_DISCOUNT,
    )
    man_day_rate = models.DecimalField(default=pricing.DEFAULT_MAN_DAY_RATE, **MONEY)
    man_day_lot_size = models.PositiveIntegerField(
        default=pricing.DEFAULT_MAN_DAY_LOT_SIZE,
        help_text="Lots larger than this are priced by the man-day at DUPRO and PSI.",
    )
    units_per_man_day = models.PositiveIntegerField(
        default=pricing.DEFAULT_UNITS_PER_MAN_DAY,
        help_text="Sample units an inspector checks in a man-day.",
    )
    fob_threshold = models.DecimalField(
        "FOB threshold",
        max_digits=14,
        decimal_places=2,
        default=pricing.DEFAULT_FOB_THRESHOLD,
        help_text="A PO above this FOB value is a risk trigger.",
    )
    exchange_rates = models.JSONField(
        default=dict, blank=True, help_text='e.g. {"EUR": "1.08"}: 1 EUR = 1.08 of this currency.'
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["agency", "country"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "country"], name="one_fee_schedule_per_country"
            )
        ]

    def __str__(self):
        return f"{self.agency} fees, {self.country or 'default'}"

    def table(self) -> pricing.FeeTable:
        return pricing.FeeTable(
            currency=self.currency,
            fees={
                "IPC": self.ipc_fee,
                "DUPRO": self.dupro_fee,
                "PSI": self.psi_fee,
                "CLI": self.cli_fee,
            },
            bundle_discount=Decimal(self.bundle_discount),
            man_day_rate=self.man_day_rate,
            man_day_lot_size=self.man_day_lot_size,
            units_per_man_day=self.units_per_man_day,
            rates={code: Decimal(str(rate)) for code, rate in (self.exchange_rates or {}).items()},
        )


class RetainerPlan(models.TextChoices):
    BUNDLED = pricing.BUNDLED, "Production monitoring bundled at no extra cost"
    PERCENTAGE = pricing.PERCENTAGE, "A percentage of FOB plus a monthly fee"


class Retainer(models.Model):
    """A buyer on a buying-office retainer with an agency, and how its POs are charged."""

    agency = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    buyer = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="retainers")
    plan = models.CharField(max_length=12, choices=RetainerPlan.choices)
    percentage = models.DecimalField(
        "percentage of FOB", max_digits=5, decimal_places=2, default=Decimal("0")
    )
    monthly_fee = models.DecimalField(default=Decimal("0"), **MONEY)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    pos_per_year = models.PositiveIntegerField("POs a year", default=0)
    active = models.BooleanField(default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "buyer"], name="one_retainer_per_buyer")
        ]

    def __str__(self):
        return f"{self.buyer} retainer with {self.agency}"

    def terms(self) -> pricing.RetainerTerms:
        return pricing.RetainerTerms(
            plan=self.plan,
            percentage=self.percentage,
            monthly_fee=self.monthly_fee,
            pos_per_year=self.pos_per_year,
            currency=self.currency,
        )


class QuoteStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    ACCEPTED = "accepted", "Accepted"


class Quote(models.Model):
    """A quote as issued: its lines, options and totals are copied in, so that later fee
    changes never alter a quote a client has seen or accepted."""

    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="quotes")
    agency = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    milestones = models.JSONField(default=list)
    lot_size = models.PositiveIntegerField()
    service = models.CharField(max_length=12, help_text="The service recommended when issued.")
    lines = models.JSONField(default=list)
    options = models.JSONField(default=list)
    separate_total = models.DecimalField(**MONEY)
    bundle_total = models.DecimalField(null=True, blank=True, **MONEY)
    retainer_total = models.DecimalField(null=True, blank=True, **MONEY)
    fees = models.JSONField(default=dict, help_text="The fee schedule as it was when issued.")
    valid_until = models.DateField()
    status = models.CharField(max_length=10, choices=QuoteStatus.choices, default="issued")
    accepted_option = models.CharField(max_length=12, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["po", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["po", "number"], name="unique_quote_number_per_po"),
            models.CheckConstraint(
                condition=Q(separate_total__gte=0), name="quote_total_not_negative"
            ),
        ]

    def __str__(self):
        return f"Quote {self.reference}"

    @property
    def reference(self) -> str:
        return f"Q-{self.po.number}-{self.number}"
