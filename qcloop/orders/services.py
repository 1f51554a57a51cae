"""State changes for suppliers, factories, products and purchase orders.

Views and the API call only these. Each runs in one transaction and either saves everything
or raises `ValidationError` (a dict of field path -> messages) and saves nothing; a user who
may see an object but not change it gets `PermissionDenied` with the reason."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from qcloop.accounts.models import Engagement, Organisation, OrganisationKind, Role, User
from qcloop.core.reference import (
    QuantityUnit,
    validate_currency,
    validate_market,
)

from .models import Factory, POLine, POStatus, Product, PurchaseOrder, Supplier

BUYER_EDITORS = {Role.BUYER_MANAGER, Role.ADMIN}
AGENCY_EDITORS = {Role.COORDINATOR, Role.QC_LEAD, Role.ADMIN}


# --- who may change what -------------------------------------------------------------------


def can_manage_for_buyer(user: User, buyer: Organisation) -> bool:
    """Buyer managers for their own buyer; coordinators, QC leads and admins of an agency
    that serves the buyer."""
    membership = user.membership
    if membership is None or buyer.kind != OrganisationKind.BUYER:
        return False
    if membership.is_buyer:
        return membership.organisation_id == buyer.pk and membership.role in BUYER_EDITORS
    if membership.is_agency and membership.role in AGENCY_EDITORS:
        return Engagement.objects.filter(agency=membership.organisation, buyer=buyer).exists()
    return False


def can_edit_po(user: User, po: PurchaseOrder) -> bool:
    """The buyer's managers; the monitoring agency's coordinators and admins; the PO's QC lead."""
    membership = user.membership
    if membership is None:
        return False
    if membership.is_buyer:
        return membership.organisation_id == po.buyer_id and membership.role in BUYER_EDITORS
    if membership.is_agency and membership.organisation_id == po.agency_id:
        if membership.role in {Role.COORDINATOR, Role.ADMIN}:
            return True
        return membership.role == Role.QC_LEAD and po.qc_lead_id == user.pk
    return False


def why_cannot_edit_po(user: User) -> str:
    membership = user.membership
    if membership and membership.is_supplier:
        return "Supplier users cannot edit purchase orders; ask the buyer or the QC lead."
    if membership and membership.role == Role.BUYER_VIEWER:
        return "Buyer viewers can read purchase orders but not edit them."
    if membership and membership.role == Role.INSPECTOR:
        return "Inspectors cannot edit purchase orders; ask the PO's QC lead."
    return "Only the buyer's managers, the agency's coordinators and the PO's QC lead can edit it."


def buyers_managed_by(user: User):
    """The buyers for whom `user` may register suppliers and products and enter POs."""
    membership = user.membership
    if membership is None:
        return Organisation.objects.none()
    if membership.is_buyer and membership.role in BUYER_EDITORS:
        return Organisation.objects.filter(pk=membership.organisation_id)
    if membership.is_agency and membership.role in AGENCY_EDITORS:
        return Organisation.objects.filter(agency_engagements__agency=membership.organisation)
    return Organisation.objects.none()


def can_create_po(user: User) -> bool:
    return buyers_managed_by(user).exists()


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


# --- suppliers, factories, products --------------------------------------------------------


def _save(instance, unique_field: str, unique_message: str):
    """full_clean then save; a unique-constraint race still ends as a ValidationError."""
    instance.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError({unique_field: unique_message}) from None
    return instance


def _check_unique(queryset, instance, field_name: str, message: str) -> None:
    if queryset.exclude(pk=instance.pk).exists():
        raise ValidationError({field_name: message})


def _require_buyer(record) -> None:
    if record.buyer_id is None:
        raise ValidationError({"buyer": "Choose the buyer whose record this is."})


@transaction.atomic
def save_supplier(*, by: User, supplier: Supplier) -> Supplier:
    """Create or update a supplier record in its buyer's supply base."""
    _require_buyer(supplier)
    _require(
        can_manage_for_buyer(by, supplier.buyer),
        "You cannot register or edit suppliers for this buyer.",
    )
    if supplier.organisation and supplier.organisation.kind != OrganisationKind.SUPPLIER:
        raise ValidationError({"organisation": "The portal organisation must be a supplier."})
    message = f"Vendor code {supplier.code} is already used by another supplier of this buyer."
    dupes = Supplier.objects.filter(buyer=supplier.buyer, code=supplier.code)
    _check_unique(dupes, supplier, "code", message)
    return _save(supplier, "code", message)


@transaction.atomic
def save_factory(*, by: User, factory: Factory) -> Factory:
    """Create or update a production site of a supplier."""
    _require(
        can_manage_for_buyer(by, factory.supplier.buyer),
        "You cannot edit this supplier's factories.",
    )
    factory.full_clean()
    factory.save()
    return factory


@transaction.atomic
def save_product(*, by: User, product: Product) -> Product:
    """Create or update a SKU in its buyer's catalogue."""
    _require_buyer(product)
    _require(
        can_manage_for_buyer(by, product.buyer), "You cannot add or edit products for this buyer."
    )
    message = f"SKU {product.sku} already exists in this buyer's catalogue."
    _check_unique(
        Product.objects.filter(buyer=product.buyer, sku=product.sku), product, "sku", message
    )
    return _save(product, "sku", message)


# --- purchase orders -----------------------------------------------------------------------


@dataclass
class LineDraft:
    product: Product | None
    quantity: int | None
    variant: str = ""


@dataclass
class PODraft:
    """Everything a PO says, as entered; checked as a whole by `check_po`."""

    number: str = ""
    buyer: Organisation | None = None
    agency: Organisation | None = None
    supplier: Supplier | None = None
    factory: Factory | None = None
    qc_lead: User | None = None
    currency: str = ""
    fob_value: Decimal | None = None
    unit: str = QuantityUnit.PIECES
    carton_count: int | None = None
    production_start: date | None = None
    ex_factory_date: date | None = None
    ship_date: date | None = None
    destination_market: str = ""
    retailer_compliance: str = ""
    new_material_or_tooling: bool = False
    hero_sku: bool = False
    complex_product: bool = False
    status: str = POStatus.OPEN
    notes: str = ""
    lines: list[LineDraft] = field(default_factory=list)

    @classmethod
    def of(cls, po: PurchaseOrder) -> "PODraft":
        names = [f.name for f in fields(cls) if f.name != "lines"]
        lines = [LineDraft(line.product, line.quantity, line.variant) for line in po.lines.all()]
        return cls(**{name: getattr(po, name) for name in names}, lines=lines)


REQUIRED = {
    "number": "Enter the PO number.",
    "buyer": "Choose the buyer.",
    "supplier": "Choose the supplier.",
    "factory": "Choose the factory where the goods are made.",
    "currency": "Choose the currency of the FOB value.",
    "fob_value": "Enter the FOB value.",
    "carton_count": "Enter the number of cartons.",
    "ex_factory_date": "Enter the ex-factory date.",
    "ship_date": "Enter the ship date.",
    "destination_market": "Choose the destination market.",
}


def check_po(draft: PODraft, instance: PurchaseOrder | None = None) -> dict[str, list[str]]:
    """Every rule a PO must meet, as {field path: [messages]}; empty when all is well."""
    errors: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    draft.number = (draft.number or "").strip()
    draft.retailer_compliance = (draft.retailer_compliance or "").strip()
    draft.notes = draft.notes or ""
    for name, message in REQUIRED.items():
        if getattr(draft, name) in (None, ""):
            add(name, message)
    if len(draft.number) > 40:
        add("number", "A PO number has at most 40 characters.")
    if draft.buyer and draft.number:
        same = PurchaseOrder.objects.filter(buyer=draft.buyer, number=draft.number)
        if instance is not None:
            same = same.exclude(pk=instance.pk)
        if same.exists():
            add("number", f"PO {draft.number} already exists for {draft.buyer}.")
    if draft.buyer and draft.buyer.kind != OrganisationKind.BUYER:
        add("buyer", f"{draft.buyer} is not a buyer.")
    _check_parties(draft, add)
    _check_money(draft, add)
    _check_dates(draft, add)
    _check_lines(draft, add)
    if draft.unit not in QuantityUnit.values:
        add("unit", f"Unknown unit {draft.unit!r}: use one of {', '.join(QuantityUnit.values)}.")
    if draft.status not in POStatus.values:
        add("status", f"Unknown status {draft.status!r}: use one of {', '.join(POStatus.values)}.")
    if draft.destination_market:
        _collect(add, "destination_market", validate_market, draft.destination_market)
    return errors


def _collect(add, path, validator, value) -> None:
    try:
        validator(value)
    except ValidationError as error:
        for message in error.messages:
            add(path, message)


def _check_parties(draft: PODraft, add) -> None:
    buyer, agency = draft.buyer, draft.agency
    if draft.supplier and buyer and draft.supplier.buyer_id != buyer.pk:
        add("supplier", f"{draft.supplier} is not in {buyer}'s supply base.")
    if draft.factory and draft.supplier and draft.factory.supplier_id != draft.supplier.pk:
        add("factory", f"{draft.factory} is not a factory of {draft.supplier}.")
    if agency is not None:
        if agency.kind != OrganisationKind.AGENCY:
            add("agency", f"{agency} is not a QC agency.")
        elif buyer and not Engagement.objects.filter(agency=agency, buyer=buyer).exists():
            add("agency", f"{agency} does not serve {buyer}.")
    if draft.qc_lead is not None:
        membership = draft.qc_lead.membership
        if agency is None:
            add("qc_lead", "Choose the agency before naming its QC lead.")
        elif (
            membership is None
            or membership.organisation_id != agency.pk
            or membership.role != Role.QC_LEAD
        ):
            add("qc_lead", f"{draft.qc_lead} is not a QC lead of {agency}.")


def _check_money(draft: PODraft, add) -> None:
    if draft.currency:
        _collect(add, "currency", validate_currency, draft.currency)
    if draft.fob_value is not None:
        try:
            value = Decimal(draft.fob_value)
        except (InvalidOperation, TypeError, ValueError):
            add("fob_value", "The FOB value must be a number.")
            return
        if not value.is_finite():
            add("fob_value", "The FOB value must be a number.")
        elif value < 0:
            add("fob_value", "The FOB value cannot be negative.")
        elif value.as_tuple().exponent < -2:
            add("fob_value", "The FOB value has at most two decimal places.")
        elif value >= Decimal("1e12"):
            add("fob_value", "The FOB value must be below 1,000,000,000,000.")


def _check_dates(draft: PODraft, add) -> None:
    if draft.ex_factory_date and draft.ship_date and draft.ship_date < draft.ex_factory_date:
        add(
            "ship_date",
            f"The ship date ({draft.ship_date:%Y-%m-%d}) cannot be before the ex-factory date "
            f"({draft.ex_factory_date:%Y-%m-%d}).",
        )
    if (
        draft.production_start
        and draft.ex_factory_date
        and draft.production_start > draft.ex_factory_date
    ):
        add("production_start", "Production cannot start after the ex-factory date.")


def _check_lines(draft: PODraft, add) -> None:
    if not draft.lines:
        add("lines", "A PO needs at least one line: which SKU, how many.")
        return
    seen = set()
    for i, line in enumerate(draft.lines):
        if line.product is None:
            add(f"lines.{i}.product", "Choose the product.")
        elif draft.buyer and line.product.buyer_id != draft.buyer.pk:
            add(f"lines.{i}.product", f"{line.product.sku} is not in {draft.buyer}'s catalogue.")
        if line.quantity is None:
            add(f"lines.{i}.quantity", "Enter the quantity.")
        elif line.quantity <= 0:
            add(f"lines.{i}.quantity", f"The quantity must be at least 1, not {line.quantity}.")
        key = (line.product and line.product.pk, (line.variant or "").strip())
        if line.product and key in seen:
            add(f"lines.{i}.variant", f"{line.product.sku} {line.variant} is on the PO twice.")
        seen.add(key)
    total = sum(line.quantity or 0 for line in draft.lines if (line.quantity or 0) > 0)
    if draft.carton_count is not None:
        if draft.carton_count <= 0:
            add("carton_count", f"The carton count must be at least 1, not {draft.carton_count}.")
        elif total and draft.carton_count > total:
            add(
                "carton_count",
                f"{draft.carton_count} cartons for {total} units: a carton holds at least one.",
            )


PO_FIELDS = [f.name for f in fields(PODraft) if f.name != "lines"]


def _write_po(po: PurchaseOrder, draft: PODraft, lines_changed: bool = True) -> PurchaseOrder:
    for name in PO_FIELDS:
        setattr(po, name, getattr(draft, name))
    po.quantity = sum(line.quantity for line in draft.lines)
    try:
        with transaction.atomic():
            po.save()
            if not lines_changed:
                return po  # keep the line rows (and whatever will point at them)
            po.lines.all().delete()
            POLine.objects.bulk_create(
                POLine(
                    po=po,
                    product=line.product,
                    quantity=line.quantity,
                    variant=line.variant.strip(),
                )
                for line in draft.lines
            )
    except IntegrityError:
        # Another request saved the same number between our check and our insert.
        raise ValidationError(
            {"number": f"PO {draft.number} already exists for {draft.buyer}."}
        ) from None
    return po


@transaction.atomic
def create_purchase_order(
    *, by: User, draft: PODraft, milestone_kinds: list[str] | None = None
) -> PurchaseOrder:
    """Enter a new PO with its lines and plan its milestones (all four unless told)."""
    from qcloop.inspections.services import plan_milestones

    if draft.buyer is not None:
        _require(can_manage_for_buyer(by, draft.buyer), "You cannot enter POs for this buyer.")
    errors = check_po(draft)
    if errors:
        raise ValidationError(errors)
    po = _write_po(PurchaseOrder(created_by=by), draft)
    plan_milestones(po, milestone_kinds)
    if po.qc_lead_id:
        _notify_qc_lead_on_commit(po)
    return po


@transaction.atomic
def update_purchase_order(
    *, by: User, po: PurchaseOrder, changes: dict, lines: list[LineDraft] | None = None
) -> PurchaseOrder:
    """Change a PO. The buyer of a PO never changes; lines, when given, replace the old ones."""
    _require(can_edit_po(by, po), why_cannot_edit_po(by))
    po = PurchaseOrder.objects.select_for_update().get(pk=po.pk)
    draft = PODraft.of(po)
    unknown = set(changes) - set(PO_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if "buyer" in changes and changes["buyer"] != po.buyer:
        raise ValidationError({"buyer": "The buyer of a PO cannot change; enter a new PO."})
    if "agency" in changes and changes["agency"] != po.agency and not by.membership.is_buyer:
        raise PermissionDenied("Only the buyer can change the agency that monitors a PO.")
    previous_lead, previous_status = po.qc_lead_id, po.status
    for name, value in changes.items():
        setattr(draft, name, value)
    if lines is not None:
        draft.lines = lines
    errors = check_po(draft, instance=po)
    if errors:
        raise ValidationError(errors)
    po = _write_po(po, draft, lines_changed=lines is not None)
    if po.status == POStatus.CANCELLED and previous_status != POStatus.CANCELLED:
        _cancel_open_milestones(po)
    if po.qc_lead_id and po.qc_lead_id != previous_lead:
        _notify_qc_lead_on_commit(po)
    return po


def _cancel_open_milestones(po: PurchaseOrder) -> None:
    """A cancelled PO is not inspected: its milestones that have not been carried out stop."""
    from django.utils import timezone

    from qcloop.inspections.models import MilestoneStatus

    open_states = [MilestoneStatus.PLANNED, MilestoneStatus.BOOKED, MilestoneStatus.IN_PROGRESS]
    po.milestones.filter(status__in=open_states).update(
        status=MilestoneStatus.CANCELLED, cancelled_at=timezone.now()
    )


# While POs are entered in bulk (an import), the QC leads' notices are gathered here:
# each lead then hears once, of all the POs the file gave them, not once per PO.
_gathered_notices: ContextVar[list[tuple[int, int]] | None] = ContextVar(
    "gathered_qc_lead_notices", default=None
)


def _notify_qc_lead_on_commit(po: PurchaseOrder) -> None:
    from .tasks import notify_qc_lead_assigned

    gathered = _gathered_notices.get()
    if gathered is not None:
        gathered.append((po.qc_lead_id, po.pk))
        return
    transaction.on_commit(lambda: notify_qc_lead_assigned.enqueue(po.pk))


@contextmanager
def one_notice_per_qc_lead():
    """Within the block, each QC lead named on new or changed POs gets one notice listing
    them, sent once the block's work is committed (nothing when the block fails)."""
    from .tasks import notify_qc_lead_of_pos

    gathered: list[tuple[int, int]] = []
    token = _gathered_notices.set(gathered)
    try:
        yield
    finally:
        _gathered_notices.reset(token)
    by_lead: dict[int, list[int]] = {}
    for lead_id, po_id in gathered:
        by_lead.setdefault(lead_id, []).append(po_id)
    for lead_id, po_ids in by_lead.items():
        transaction.on_commit(
            lambda lead_id=lead_id, po_ids=po_ids: notify_qc_lead_of_pos.enqueue(lead_id, po_ids)
        )
