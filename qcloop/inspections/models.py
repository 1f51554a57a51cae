"""Milestones: the four inspections of a PO (IPC, DUPRO, PSI, CLI), their progress, and what
the inspector records at each."""

import uuid

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


class DefectClass(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class CheckResult(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    NOT_APPLICABLE = "na", "Not applicable"


class InspectionOutcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    PENDING = "pending", "Pending"


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
    checklist = models.ForeignKey(
        "ChecklistVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The checklist version current when the milestone was booked.",
    )
    result = models.CharField(max_length=8, choices=InspectionOutcome.choices, blank=True)
    result_detail = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Counts every change recorded at this milestone; a phone's edit made at revision r
    # conflicts with a change to the same record stamped after r (see RecordStamp).
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["po", "window_start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["po", "kind", "sequence"], name="unique_milestone"),
            models.CheckConstraint(
                condition=Q(window_end__gte=F("window_start")), name="milestone_window_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["inspector", "status"]),
            # A CAPA's origin (an IPC or a DUPRO?) and whether a PO's PSI is done, answered
            # from indexes alone: the rows carry the plan's and the result's JSON.
            models.Index(fields=["kind", "id"], name="milestone_kind"),
            models.Index(fields=["po", "kind", "submitted_at"], name="milestone_done"),
        ]

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


# --- what an inspector records ---------------------------------------------------------------


class ChecklistTemplate(models.Model):
    """An agency's checklist for one product category at one kind of milestone. Its items live
    in numbered versions that never change: editing makes a new version, so an inspection
    always shows the checklist it was booked with."""

    agency = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="checklist_templates"
    )
    category = models.CharField(max_length=20, choices=ProductCategory.choices)
    milestone_kind = models.CharField(max_length=8, choices=MilestoneKind.choices)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["category", "milestone_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "category", "milestone_kind"], name="unique_checklist_template"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def current(self) -> "ChecklistVersion | None":
        return self.versions.order_by("-number").first()


class ChecklistVersion(models.Model):
    """One frozen version of a checklist: its items as [{code, section, text, mandatory,
    on_fail, answer}]."""

    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    items = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="unique_checklist_version")
        ]

    def __str__(self):
        return f"{self.template} v{self.number}"

    def item(self, code: str) -> dict | None:
        return next((item for item in self.items if item["code"] == code), None)


class CheckAnswer(models.Model):
    """The inspector's answer to one checklist item of a milestone."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="answers")
    item_code = models.CharField(max_length=40)
    result = models.CharField(max_length=4, choices=CheckResult.choices, blank=True)
    value = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["milestone", "item_code"]
        constraints = [
            models.UniqueConstraint(fields=["milestone", "item_code"], name="unique_check_answer")
        ]

    def __str__(self):
        return f"{self.item_code}: {self.result or 'unanswered'}"


class DefectCode(models.Model):
    """A code of the defect library, grouped in two or three levels, with the class it usually
    has. Codes without an agency are qcloop's shipped library."""

    agency = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="defect_codes",
    )
    code = models.CharField(max_length=20)
    category = models.CharField(max_length=20)  # a ProductCategory value, or "general"
    group = models.CharField(max_length=80)
    subgroup = models.CharField(max_length=80, blank=True)
    name = models.CharField(max_length=200)
    default_class = models.CharField(max_length=10, choices=DefectClass.choices)

    class Meta:
        ordering = ["category", "code"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="unique_agency_defect_code"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(agency__isnull=True), name="unique_shipped_defect_code"
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class DefectClassOverride(models.Model):
    """A buyer's own class for a defect code (one client's minor is another's major)."""

    buyer = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="defect_overrides"
    )
    code = models.ForeignKey(DefectCode, on_delete=models.CASCADE, related_name="overrides")
    defect_class = models.CharField(max_length=10, choices=DefectClass.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["buyer", "code"], name="unique_defect_override")
        ]

    def __str__(self):
        return f"{self.code.code} is {self.defect_class} for {self.buyer}"


class Defect(models.Model):
    """Defects of one kind found in a milestone's sample: what, how many, where, and whether
    it looks systematic. Out-of-tolerance measurements become defects by rule."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="defects")
    code = models.ForeignKey(DefectCode, on_delete=models.PROTECT, null=True, blank=True)
    description = models.TextField()
    defect_class = models.CharField(max_length=10, choices=DefectClass.choices)
    quantity = models.PositiveIntegerField()
    po_line = models.ForeignKey(
        "orders.POLine", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    carton = models.PositiveIntegerField(null=True, blank=True)
    unit_ref = models.CharField("unit", max_length=40, blank=True)
    systematic = models.BooleanField(default=False)
    from_measurements = models.BooleanField(default=False)
    uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["milestone", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="defect_quantity_positive")
        ]

    def __str__(self):
        return f"{self.quantity} x {self.description} ({self.defect_class})"


class MeasurementChart(models.Model):
    """Points of measure of one SKU and size, versioned: each reading records the version it
    was checked against. Points: [{code, name, spec, minus, plus, unit}]."""

    product = models.ForeignKey(
        "orders.Product", on_delete=models.CASCADE, related_name="measurement_charts"
    )
    size = models.CharField(max_length=40, default="one size")
    version = models.PositiveIntegerField(default=1)
    points = models.JSONField()
    defect_class = models.CharField(
        max_length=10,
        choices=DefectClass.choices,
        default=DefectClass.MAJOR,
        help_text="The class of the defect a unit out of tolerance counts as.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["product", "size", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "size", "version"], name="unique_chart_version"
            )
        ]

    def __str__(self):
        return f"{self.product.sku} {self.size} v{self.version}"

    def point(self, code: str) -> dict | None:
        return next((p for p in self.points if p["code"] == code), None)


class MeasurementReading(models.Model):
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="readings")
    chart = models.ForeignKey(MeasurementChart, on_delete=models.PROTECT, related_name="readings")
    sample_unit = models.PositiveIntegerField()
    point_code = models.CharField(max_length=20)
    value = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=8)
    in_tolerance = models.BooleanField()
    uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["milestone", "sample_unit", "point_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "chart", "sample_unit", "point_code"], name="unique_reading"
            )
        ]

    def __str__(self):
        return f"unit {self.sample_unit} {self.point_code} = {self.value} {self.unit}"


class ProductionStatus(models.Model):
    """Production as counted at a milestone, against what the factory reported."""

    milestone = models.OneToOneField(Milestone, on_delete=models.CASCADE, related_name="production")
    counted_on = models.DateField()
    reported_produced = models.PositiveIntegerField(null=True, blank=True)
    produced = models.PositiveIntegerField()
    finished = models.PositiveIntegerField(default=0)
    packed = models.PositiveIntegerField(default=0)
    materials_on_site = models.BooleanField(default=True)
    packaging_on_site = models.BooleanField(default=True)
    observations = models.TextField(blank=True)
    projected_completion = models.DateField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"{self.produced} produced on {self.counted_on}"


class CartonCheck(models.Model):
    """One opened carton's packaging and labelling against the spec."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="carton_checks")
    carton_number = models.PositiveIntegerField()
    length_cm = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    width_cm = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    gross_weight_kg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    marks = models.JSONField(default=dict, blank=True)  # order_number, destination, carton_of
    barcode = models.CharField(max_length=14, blank=True)
    country_of_origin = models.CharField(max_length=2, blank=True)
    languages = models.JSONField(default=list, blank=True)  # on the labels, e.g. ["en", "fr"]
    problems = models.JSONField(default=list, blank=True)
    uuid = models.UUIDField(unique=True, default=uuid.uuid4)

    class Meta:
        ordering = ["milestone", "carton_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "carton_number"], name="unique_carton_check"
            )
        ]

    def __str__(self):
        return f"carton {self.carton_number}"


class LoadingRecord(models.Model):
    """The container of a CLI: its ISO 6346 number, seal and load pattern."""

    milestone = models.OneToOneField(Milestone, on_delete=models.CASCADE, related_name="loading")
    container_number = models.CharField(max_length=11)
    seal_number = models.CharField(max_length=40)
    load_pattern = models.TextField(blank=True)

    def __str__(self):
        return f"container {self.container_number}, seal {self.seal_number}"


class LoadedCartons(models.Model):
    """Cartons of one PO line counted into the container."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="loaded")
    po_line = models.ForeignKey("orders.POLine", on_delete=models.CASCADE, related_name="+")
    cartons = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["milestone", "po_line"], name="unique_loaded_line")
        ]

    def __str__(self):
        return f"{self.cartons} cartons"


class RecordStamp(models.Model):
    """The last change to one record of a milestone ("answer:PSI-3", "production", ...): at
    which revision, by whom and from which device. It is how a sync from a phone that was
    offline finds out that someone else changed the same record in the meantime."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="stamps")
    key = models.CharField(max_length=120)
    revision = models.PositiveIntegerField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    device = models.CharField(max_length=36, blank=True)  # "" for the web workspace and API
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["milestone", "key"], name="unique_record_stamp")
        ]

    def __str__(self):
        return f"{self.key} at revision {self.revision}"


# --- photo evidence ---------------------------------------------------------------------------


class Photo(models.Model):
    """The bytes of one photo and what they tell, stored once by their SHA-256: the same file
    uploaded twice, to one inspection or to two, is one photo."""

    sha256 = models.CharField(max_length=64, unique=True)
    original = models.CharField(max_length=200)  # storage names
    rendition = models.CharField(max_length=200)
    thumbnail = models.CharField(max_length=200)
    format = models.CharField(max_length=8)
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    has_exif = models.BooleanField(default=False)
    taken_at = models.DateTimeField(null=True, blank=True)
    taken_at_has_offset = models.BooleanField(default=False)
    latitude = models.DecimalField(max_digits=10, decimal_places=7, null=True, blank=True)
    longitude = models.DecimalField(max_digits=10, decimal_places=7, null=True, blank=True)
    camera = models.CharField(max_length=120, blank=True)
    software = models.CharField(max_length=120, blank=True)
    exif = models.JSONField(default=dict, blank=True)  # the facts as read, for the record
    phash = models.BigIntegerField(db_index=True)  # 64-bit perceptual hash, stored signed
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.sha256[:12]


class AttachmentStatus(models.TextChoices):
    PENDING = "pending", "Processing"
    READY = "ready", "Ready"
    REJECTED = "rejected", "Rejected"


class PhotoAttachment(models.Model):
    """A photo used as evidence at one milestone, with what it shows (a defect, a checklist
    item, a measurement, the loading) and the integrity flags of that use."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="photos")
    photo = models.ForeignKey(
        Photo, on_delete=models.PROTECT, null=True, blank=True, related_name="uses"
    )
    status = models.CharField(
        max_length=10, choices=AttachmentStatus.choices, default=AttachmentStatus.PENDING
    )
    error = models.TextField(blank=True)
    staged = models.CharField(max_length=200, blank=True)  # the upload, until processed
    original_name = models.CharField(max_length=200, blank=True)
    caption = models.CharField(max_length=300, blank=True)
    defect = models.ForeignKey(
        Defect, on_delete=models.SET_NULL, null=True, blank=True, related_name="photos"
    )
    item_code = models.CharField(max_length=40, blank=True)
    reading = models.ForeignKey(
        MeasurementReading, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    loading_step = models.CharField(max_length=60, blank=True)
    flags = models.JSONField(default=list, blank=True)  # [{kind, message}]
    justification = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    # A phone sends a rendition it made first and the original after: until the original
    # arrives, `photo` is the rendition; then `photo` is the original and the rendition is kept.
    awaiting_original = models.BooleanField(default=False)
    original_staged = models.CharField(max_length=200, blank=True)
    field_rendition = models.ForeignKey(
        Photo, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["milestone", "uploaded_at", "id"]
        indexes = [models.Index(fields=["milestone", "status"])]

    def __str__(self):
        return self.caption or self.original_name or f"photo {self.pk}"

    @property
    def finding(self) -> str:
        if self.defect_id:
            return "defect"
        if self.item_code:
            return "checklist"
        if self.reading_id:
            return "measurement"
        if self.loading_step:
            return "loading"
        return "general"


# --- accredited lab tests ---------------------------------------------------------------------


class LabResult(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    PENDING = "pending", "Pending"


class LabTest(models.Model):
    """An accredited lab's test at a milestone, in place of some of its checklist items (an
    LM-79 photometric report instead of the lux-meter check at the IPC): who tested, to which
    standard, on which sample, when, with what result, and the certificate PDF. A failed test
    is a major finding, critical for a safety standard; a pending one keeps the milestone's
    result pending (qcloop.inspections.rules.judge_lab_tests)."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="lab_tests")
    lab = models.CharField(max_length=20)  # a key of lab_rules.LABS
    lab_name = models.CharField("lab name", max_length=200, blank=True)  # "other" labs only
    accreditation_number = models.CharField(max_length=80, blank=True)
    standard = models.CharField(max_length=120)  # a code of lab_rules.STANDARDS, or free text
    safety = models.BooleanField(
        default=False, help_text="For a standard off the list: it is a safety standard."
    )
    finding_class = models.CharField(max_length=10, choices=DefectClass.choices)
    replaces = models.JSONField(default=list, blank=True)  # checklist item codes
    sample_units = models.PositiveIntegerField()
    sample_drawn = models.CharField("how the sample was drawn", max_length=300)
    sample_id = models.CharField("sample id", max_length=80)
    sent_on = models.DateField(null=True, blank=True)
    reported_on = models.DateField(null=True, blank=True)
    report_number = models.CharField(max_length=80, blank=True)
    result = models.CharField(max_length=8, choices=LabResult.choices, default=LabResult.PENDING)
    measured = models.JSONField(default=list, blank=True)  # [{name, value, unit}]
    note = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # The certificate PDF, content-addressed like photos: stored once by its SHA-256.
    certificate = models.CharField(max_length=200, blank=True)  # storage name
    certificate_sha256 = models.CharField(max_length=64, blank=True)
    certificate_name = models.CharField(max_length=200, blank=True)
    certificate_pages = models.PositiveIntegerField(null=True, blank=True)
    certificate_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["milestone", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(result="pending") | ~Q(certificate=""),
                name="lab_test_certificate_for_result",
            ),
            models.CheckConstraint(
                condition=Q(sample_units__gt=0), name="lab_test_sample_positive"
            ),
        ]

    def __str__(self):
        return f"{self.standard} · {self.lab_display}"

    @property
    def lab_display(self) -> str:
        from .lab_rules import lab_display

        return lab_display(self.lab, self.lab_name, self.accreditation_number)

    @property
    def name(self) -> str:
        """As sentences name it: "LM-79 at SGS, report SGS-1234"."""
        report = f", report {self.report_number}" if self.report_number else ""
        return f"{self.standard} at {self.lab_display}{report}"
