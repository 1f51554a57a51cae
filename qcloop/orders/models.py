"""What is being made, by whom, where: suppliers, factories, products and purchase orders."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from qcloop.accounts.models import Organisation
from qcloop.core.reference import (
    ProductCategory,
    QuantityUnit,
    validate_country,
    validate_currency,
    validate_market,
    validate_markets,
    validate_regimes,
    validate_timezone,
)


class Supplier(models.Model):
    """A company that makes goods for a buyer. Each buyer keeps its own supplier records
    (a supply base is confidential); the supplier's own staff reach them through `organisation`
    once they have a portal login."""

    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="suppliers")
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supplier_records",
        help_text="The supplier's own organisation in qcloop, for its portal users.",
    )
    code = models.CharField(max_length=32, help_text="The buyer's vendor code.")
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, validators=[validate_country])
    contact_name = models.CharField(max_length=150, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "code"], name="unique_supplier_code_per_buyer")
        ]

    def __str__(self):
        return self.name


class Factory(models.Model):
    """A production site of a supplier. Its coordinates and time zone are what photo
    evidence is checked against (taken on site, on the inspection day)."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="factories")
    name = models.CharField(max_length=200)
    address = models.TextField()
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True, help_text="Province or state.")
    country = models.CharField(max_length=2, validators=[validate_country])
    cluster = models.CharField(
        max_length=120, blank=True, help_text="Manufacturing cluster, e.g. Guzhen lighting."
    )
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    timezone = models.CharField(max_length=64, validators=[validate_timezone])

    class Meta:
        ordering = ["supplier__name", "name"]
        verbose_name_plural = "factories"

    def __str__(self):
        return f"{self.name}, {self.city}"


class Product(models.Model):
    """A buyer's SKU: what is inspected, under which category and compliance regimes."""

    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="products")
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=ProductCategory.choices)
    target_markets = models.JSONField(default=list, blank=True, validators=[validate_markets])
    compliance_regimes = models.JSONField(default=list, blank=True, validators=[validate_regimes])
    description = models.TextField(blank=True)
    packaging_spec = models.JSONField(
        default=dict,
        blank=True,
        help_text='e.g. {"units_per_carton": 24, "gtin": "0614141000012", "carton": '
        '{"length_cm": 60, "width_cm": 40, "height_cm": 35, "gross_weight_kg": 12.5}}',
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "sku"], name="unique_sku_per_buyer")
        ]

    def __str__(self):
        return f"{self.sku} · {self.name}"


class POStatus(models.TextChoices):
    OPEN = "open", "Open"
    SHIPPED = "shipped", "Shipped"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class PurchaseOrder(models.Model):
    """A buyer's order with a supplier, monitored across its milestones by one QC lead.

    `quantity` is the sum of the lines, kept by the services; money is `fob_value` in
    `currency`."""

    number = models.CharField("PO number", max_length=40)
    buyer = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="purchase_orders_as_buyer"
    )
    agency = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchase_orders_as_agency",
        help_text="The QC agency that monitors this PO.",
    )
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    factory = models.ForeignKey(Factory, on_delete=models.PROTECT, related_name="purchase_orders")
    qc_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_purchase_orders",
        verbose_name="QC lead",
    )
    currency = models.CharField(max_length=3, validators=[validate_currency])
    fob_value = models.DecimalField("FOB value", max_digits=14, decimal_places=2)
    quantity = models.PositiveIntegerField()
    unit = models.CharField(max_length=8, choices=QuantityUnit.choices, default=QuantityUnit.PIECES)
    carton_count = models.PositiveIntegerField()
    production_start = models.DateField(null=True, blank=True)
    ex_factory_date = models.DateField("ex-factory date")
    ship_date = models.DateField()
    destination_market = models.CharField(max_length=8, validators=[validate_market])
    retailer_compliance = models.CharField(
        max_length=120,
        blank=True,
        help_text="A retailer's compliance programme the PO must meet, e.g. Walmart, IKEA IWAY.",
    )
    # Risk triggers only the people entering the PO know; the service recommendation
    # (qcloop/commercial/risk.py) weighs them with what qcloop can see for itself.
    new_material_or_tooling = models.BooleanField(
        "new material or tooling",
        default=False,
        help_text="A new material spec or new tooling for this PO.",
    )
    hero_sku = models.BooleanField(
        "hero or launch SKU",
        default=False,
        help_text="A high-visibility SKU: hero product, launch programme, PR-heavy launch.",
    )
    complex_product = models.BooleanField(
        default=False,
        help_text="Many components, tight tolerances or functions to test.",
    )
    status = models.CharField(max_length=12, choices=POStatus.choices, default=POStatus.OPEN)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "purchase order"
        constraints = [
            models.UniqueConstraint(fields=["buyer", "number"], name="unique_po_number_per_buyer"),
            models.CheckConstraint(
                condition=Q(ship_date__gte=F("ex_factory_date")), name="po_ships_after_ex_factory"
            ),
            models.CheckConstraint(condition=Q(fob_value__gte=0), name="po_fob_not_negative"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="po_quantity_positive"),
            models.CheckConstraint(condition=Q(carton_count__gt=0), name="po_cartons_positive"),
        ]
        indexes = [
            models.Index(fields=["agency", "status"]),
            models.Index(fields=["ex_factory_date"]),
        ]

    def __str__(self):
        return f"PO {self.number}"


class POLine(models.Model):
    """One SKU (and variant: colour, size run) on a PO, with its ordered quantity."""

    po = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="po_lines")
    variant = models.CharField(max_length=80, blank=True, help_text="Colour, size run, version.")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        verbose_name = "PO line"
        constraints = [
            models.UniqueConstraint(fields=["po", "product", "variant"], name="unique_po_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="po_line_quantity_positive"),
        ]

    def __str__(self):
        variant = f" ({self.variant})" if self.variant else ""
        return f"{self.product.sku}{variant} x {self.quantity}"
