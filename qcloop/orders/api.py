"""API routes for suppliers, factories, products and purchase orders.

Reads go through the tenancy gate; writes only through `qcloop.orders.services`. A related
object is given by its id under the field's own name (`"supplier": 12`) and comes back the
same way, with its name beside it (`"supplier_name": "..."`), so what a GET returns can be
sent back in a PATCH."""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from ninja import Field, File, FilterLookup, FilterSchema, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict

from qcloop.accounts.api import PayloadIds, errors, own_organisation
from qcloop.accounts.models import Organisation, OrganisationKind, User
from qcloop.core.reference import ProductCategory, QuantityUnit
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.inspections.models import Milestone, MilestoneKind

from . import services
from .models import Factory, POLine, POStatus, Product, PurchaseOrder, Supplier
from .services import LineDraft, PODraft

OWN_BUYER = "Defaults to your own organisation, if you are a buyer."


class Input(Schema):
    """A request body: a field the API does not know is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def _changes(payload: Input) -> dict:
    """The fields a PATCH actually sent."""
    return payload.model_dump(exclude_unset=True)


# --- suppliers -----------------------------------------------------------------------------


class SupplierOut(Schema):
    id: int
    buyer: int
    buyer_name: str
    organisation: int | None
    code: str
    name: str
    country: str
    contact_name: str
    contact_email: str
    contact_phone: str
    created_at: datetime

    @staticmethod
    def resolve_buyer(supplier):
        return supplier.buyer_id

    @staticmethod
    def resolve_buyer_name(supplier):
        return supplier.buyer.name

    @staticmethod
    def resolve_organisation(supplier):
        return supplier.organisation_id


class SupplierPatch(Input):
    organisation: int | None = None
    code: str = None
    name: str = None
    country: str = None
    contact_name: str = None
    contact_email: str = None
    contact_phone: str = None


class SupplierIn(SupplierPatch):
    buyer: int | None = Field(None, description=OWN_BUYER)
    code: str
    name: str
    country: str
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""


class SupplierFilters(FilterSchema):
    buyer: Annotated[int | None, FilterLookup("buyer_id")] = None
    q: Annotated[str | None, FilterLookup(["name__icontains", "code__icontains"])] = None


suppliers = Router(tags=["suppliers"])


def _suppliers(user):
    return for_user(Supplier, user).select_related("buyer")


@suppliers.get("", response={200: list[SupplierOut], **errors(401, 422)})
@paginate
def list_suppliers(request, filters: Query[SupplierFilters]):
    return filters.filter(_suppliers(request.user))


@suppliers.get("/{int:supplier_id}", response={200: SupplierOut, **errors(401, 404)})
def get_supplier(request, supplier_id: int):
    return get_for_user(Supplier, request.user, pk=supplier_id)


def _write_supplier(request, supplier: Supplier, payload: Input) -> Supplier:
    changes = _changes(payload)
    ids = PayloadIds(request.user)
    if "buyer" in changes:
        supplier.buyer = ids.pick(Organisation, changes.pop("buyer"), "buyer")
    if "organisation" in changes:
        supplier.organisation = ids.pick(Organisation, changes.pop("organisation"), "organisation")
    if supplier.buyer_id is None:
        ids.errors.setdefault("buyer", "Choose the buyer whose supply base this is.")
    ids.check()
    for name, value in changes.items():
        setattr(supplier, name, value)
    return services.save_supplier(by=request.user, supplier=supplier)


@suppliers.post("", response={201: SupplierOut, **errors(401, 403, 422)})
def add_supplier(request, payload: SupplierIn):
    supplier = Supplier(buyer=own_organisation(request.user, OrganisationKind.BUYER))
    return Status(201, _write_supplier(request, supplier, payload))


@suppliers.patch("/{int:supplier_id}", response={200: SupplierOut, **errors(401, 403, 404, 422)})
def patch_supplier(request, supplier_id: int, payload: SupplierPatch):
    supplier = get_for_user(Supplier, request.user, pk=supplier_id)
    return _write_supplier(request, supplier, payload)


# --- factories -----------------------------------------------------------------------------


class FactoryOut(Schema):
    id: int
    supplier: int
    supplier_name: str
    name: str
    address: str
    city: str
    region: str
    country: str
    cluster: str
    latitude: Decimal
    longitude: Decimal
    timezone: str

    @staticmethod
    def resolve_supplier(factory):
        return factory.supplier_id

    @staticmethod
    def resolve_supplier_name(factory):
        return factory.supplier.name


class FactoryPatch(Input):
    name: str = None
    address: str = None
    city: str = None
    region: str = None
    country: str = None
    cluster: str = None
    latitude: Decimal = None
    longitude: Decimal = None
    timezone: str = None


class FactoryIn(FactoryPatch):
    supplier: int
    name: str
    address: str
    city: str
    region: str = ""
    country: str
    cluster: str = ""
    latitude: Decimal
    longitude: Decimal
    timezone: str


class FactoryFilters(FilterSchema):
    supplier: Annotated[int | None, FilterLookup("supplier_id")] = None


factories = Router(tags=["factories"])


def _factories(user):
    return for_user(Factory, user).select_related("supplier")


@factories.get("", response={200: list[FactoryOut], **errors(401, 422)})
@paginate
def list_factories(request, filters: Query[FactoryFilters]):
    return filters.filter(_factories(request.user))


@factories.get("/{int:factory_id}", response={200: FactoryOut, **errors(401, 404)})
def get_factory(request, factory_id: int):
    return get_for_user(Factory, request.user, pk=factory_id)


def _write_factory(request, factory: Factory, payload: Input) -> Factory:
    changes = _changes(payload)
    if "supplier" in changes:
        ids = PayloadIds(request.user)
        factory.supplier = ids.pick(Supplier, changes.pop("supplier"), "supplier")
        ids.check()
    for name, value in changes.items():
        setattr(factory, name, value)
    return services.save_factory(by=request.user, factory=factory)


@factories.post("", response={201: FactoryOut, **errors(401, 403, 422)})
def add_factory(request, payload: FactoryIn):
    return Status(201, _write_factory(request, Factory(), payload))


@factories.patch("/{int:factory_id}", response={200: FactoryOut, **errors(401, 403, 404, 422)})
def patch_factory(request, factory_id: int, payload: FactoryPatch):
    factory = get_for_user(Factory, request.user, pk=factory_id)
    return _write_factory(request, factory, payload)


# --- products ------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    buyer: int
    buyer_name: str
    sku: str
    name: str
    category: str
    target_markets: list[str]
    compliance_regimes: list[str]
    description: str
    created_at: datetime

    @staticmethod
    def resolve_buyer(product):
        return product.buyer_id

    @staticmethod
    def resolve_buyer_name(product):
        return product.buyer.name


class ProductPatch(Input):
    sku: str = None
    name: str = None
    category: ProductCategory = None
    target_markets: list[str] = None
    compliance_regimes: list[str] = None
    description: str = None


class ProductIn(ProductPatch):
    buyer: int | None = Field(None, description=OWN_BUYER)
    sku: str
    name: str
    category: ProductCategory
    target_markets: list[str] = []
    compliance_regimes: list[str] = []
    description: str = ""


class ProductFilters(FilterSchema):
    category: Annotated[ProductCategory | None, FilterLookup("category")] = None
    buyer: Annotated[int | None, FilterLookup("buyer_id")] = None
    q: Annotated[str | None, FilterLookup(["sku__icontains", "name__icontains"])] = None


products = Router(tags=["products"])


def _products(user):
    return for_user(Product, user).select_related("buyer")


@products.get("", response={200: list[ProductOut], **errors(401, 422)})
@paginate
def list_products(request, filters: Query[ProductFilters]):
    return filters.filter(_products(request.user))


@products.get("/{int:product_id}", response={200: ProductOut, **errors(401, 404)})
def get_product(request, product_id: int):
    return get_for_user(Product, request.user, pk=product_id)


def _write_product(request, product: Product, payload: Input) -> Product:
    changes = _changes(payload)
    ids = PayloadIds(request.user)
    if "buyer" in changes:
        product.buyer = ids.pick(Organisation, changes.pop("buyer"), "buyer")
    if product.buyer_id is None:
        ids.errors.setdefault("buyer", "Choose the buyer whose catalogue this is.")
    ids.check()
    for name, value in changes.items():
        setattr(product, name, value)
    return services.save_product(by=request.user, product=product)


@products.post("", response={201: ProductOut, **errors(401, 403, 422)})
def add_product(request, payload: ProductIn):
    product = Product(buyer=own_organisation(request.user, OrganisationKind.BUYER))
    return Status(201, _write_product(request, product, payload))


@products.patch("/{int:product_id}", response={200: ProductOut, **errors(401, 403, 404, 422)})
def patch_product(request, product_id: int, payload: ProductPatch):
    product = get_for_user(Product, request.user, pk=product_id)
    return _write_product(request, product, payload)


# --- purchase orders -----------------------------------------------------------------------


class LineIn(Input):
    product: int
    quantity: int
    variant: str = ""


class LineOut(Schema):
    product: int
    sku: str
    variant: str
    quantity: int

    @staticmethod
    def resolve_product(line):
        return line.product_id

    @staticmethod
    def resolve_sku(line):
        return line.product.sku


class POMilestoneOut(Schema):
    id: int
    kind: str
    sequence: int
    status: str
    window_start: date
    window_end: date
    inspection_date: date | None
    inspector: int | None

    @staticmethod
    def resolve_inspector(milestone):
        return milestone.inspector_id


class POOut(Schema):
    id: int
    number: str
    status: str
    buyer: int
    buyer_name: str
    agency: int | None
    agency_name: str | None
    supplier: int
    supplier_name: str
    factory: int
    factory_name: str
    qc_lead: int | None
    qc_lead_name: str | None
    currency: str
    fob_value: str
    quantity: int
    unit: str
    carton_count: int
    production_start: date | None
    ex_factory_date: date
    ship_date: date
    destination_market: str
    retailer_compliance: str
    new_material_or_tooling: bool
    hero_sku: bool
    complex_product: bool
    notes: str
    lines: list[LineOut]
    milestones: list[POMilestoneOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_buyer(po):
        return po.buyer_id

    @staticmethod
    def resolve_buyer_name(po):
        return po.buyer.name

    @staticmethod
    def resolve_agency(po):
        return po.agency_id

    @staticmethod
    def resolve_agency_name(po):
        return po.agency.name if po.agency else None

    @staticmethod
    def resolve_supplier(po):
        return po.supplier_id

    @staticmethod
    def resolve_supplier_name(po):
        return po.supplier.name

    @staticmethod
    def resolve_factory(po):
        return po.factory_id

    @staticmethod
    def resolve_factory_name(po):
        return po.factory.name

    @staticmethod
    def resolve_qc_lead(po):
        return po.qc_lead_id

    @staticmethod
    def resolve_qc_lead_name(po):
        return po.qc_lead.full_name if po.qc_lead else None

    @staticmethod
    def resolve_fob_value(po):
        # A string, so no client turns money into a binary float; always two places.
        return str(Decimal(po.fob_value).quantize(Decimal("0.01")))


class POPatch(Input):
    number: str = None
    agency: int | None = None
    supplier: int = None
    factory: int = None
    qc_lead: int | None = None
    currency: str = None
    fob_value: Decimal = None
    unit: QuantityUnit = None
    carton_count: int = None
    production_start: date | None = None
    ex_factory_date: date = None
    ship_date: date = None
    destination_market: str = None
    retailer_compliance: str = None
    new_material_or_tooling: bool = None
    hero_sku: bool = None
    complex_product: bool = None
    status: POStatus = None
    notes: str = None
    lines: list[LineIn] = Field(None, description="When given, replaces every line of the PO.")


class POIn(Input):
    number: str
    buyer: int | None = Field(None, description=OWN_BUYER)
    agency: int | None = Field(None, description="Defaults to your own agency, if you are in one.")
    supplier: int
    factory: int
    qc_lead: int | None = None
    currency: str
    fob_value: Decimal
    unit: QuantityUnit = QuantityUnit.PIECES
    carton_count: int
    production_start: date | None = None
    ex_factory_date: date
    ship_date: date
    destination_market: str
    retailer_compliance: str = ""
    new_material_or_tooling: bool = False
    hero_sku: bool = False
    complex_product: bool = False
    notes: str = ""
    lines: list[LineIn]
    milestones: list[MilestoneKind] | None = Field(
        None, description="The milestones to plan; all four unless told."
    )


class POFilters(FilterSchema):
    status: Annotated[POStatus | None, FilterLookup("status")] = None
    supplier: Annotated[int | None, FilterLookup("supplier_id")] = None
    buyer: Annotated[int | None, FilterLookup("buyer_id")] = None
    qc_lead: Annotated[int | None, FilterLookup("qc_lead_id")] = None
    destination_market: Annotated[str | None, FilterLookup("destination_market")] = None
    ex_factory_from: Annotated[date | None, FilterLookup("ex_factory_date__gte")] = None
    ex_factory_to: Annotated[date | None, FilterLookup("ex_factory_date__lte")] = None
    q: str | None = Field(None, description="Search the PO number, supplier name and SKUs.")

    def filter_q(self, value: str | None) -> Q:
        if not value:
            return Q()
        on_lines = POLine.objects.filter(product__sku__icontains=value).values("po")
        return Q(number__icontains=value) | Q(supplier__name__icontains=value) | Q(pk__in=on_lines)


# Related objects a PO payload names by id, and the model each id is looked up in.
PO_REFERENCES = {
    "buyer": Organisation,
    "agency": Organisation,
    "supplier": Supplier,
    "factory": Factory,
    "qc_lead": User,
}

purchase_orders = Router(tags=["purchase orders"])


def _purchase_orders(user):
    return (
        for_user(PurchaseOrder, user)
        .select_related("buyer", "agency", "supplier", "factory", "qc_lead")
        .prefetch_related(
            Prefetch("lines", queryset=for_user(POLine, user).select_related("product")),
            # Through the milestone gate too: an inspector sees only their own milestones.
            Prefetch("milestones", queryset=for_user(Milestone, user).order_by("window_start")),
        )
    )


def _resolve(ids: PayloadIds, fields: dict) -> dict:
    """The payload's fields with every id turned into its object, through the gate."""
    return {
        name: ids.pick(PO_REFERENCES[name], value, name) if name in PO_REFERENCES else value
        for name, value in fields.items()
    }


def _lines(ids: PayloadIds, lines: list[dict]) -> list[LineDraft]:
    return [
        LineDraft(
            product=ids.pick(Product, line["product"], f"lines.{i}.product"),
            quantity=line["quantity"],
            variant=line.get("variant", ""),
        )
        for i, line in enumerate(lines)
    ]


@purchase_orders.get("", response={200: list[POOut], **errors(401, 422)})
@paginate
def list_purchase_orders(request, filters: Query[POFilters]):
    return filters.filter(_purchase_orders(request.user))


@purchase_orders.get("/{int:po_id}", response={200: POOut, **errors(401, 404)})
def get_purchase_order(request, po_id: int):
    return get_object_or_404(_purchase_orders(request.user), pk=po_id)


@purchase_orders.post("", response={201: POOut, **errors(401, 403, 422)})
def add_purchase_order(request, payload: POIn):
    user = request.user
    fields = payload.model_dump()
    kinds = fields.pop("milestones")
    ids = PayloadIds(user)
    lines = _lines(ids, fields.pop("lines"))
    draft = PODraft(**_resolve(ids, fields), lines=lines)
    if payload.buyer is None:
        draft.buyer = own_organisation(user, OrganisationKind.BUYER)
    if payload.agency is None:
        draft.agency = own_organisation(user, OrganisationKind.AGENCY)
    ids.check()
    po = services.create_purchase_order(by=user, draft=draft, milestone_kinds=kinds)
    return Status(201, _purchase_orders(user).get(pk=po.pk))


@purchase_orders.patch("/{int:po_id}", response={200: POOut, **errors(401, 403, 404, 422)})
def patch_purchase_order(request, po_id: int, payload: POPatch):
    user = request.user
    po = get_for_user(PurchaseOrder, user, pk=po_id)
    changes = _changes(payload)
    ids = PayloadIds(user)
    lines = _lines(ids, changes.pop("lines")) if "lines" in changes else None
    changes = _resolve(ids, changes)
    ids.check()
    services.update_purchase_order(by=user, po=po, changes=changes, lines=lines)
    # 404 rather than a crash if the change took the PO out of the caller's own scope.
    return get_object_or_404(_purchase_orders(user), pk=po.pk)


class POImportIn(Schema):
    buyer: int | None = Field(None, description="Needed if you enter POs for several buyers.")
    mapping: str = Field(
        "{}",
        description='JSON: field -> column title ({"sku": "Article"}); the rest is guessed.',
    )
    day_first: bool = Field(True, description="04/03/2026 is 4 March (false: 3 April).")
    decimal_comma: bool | None = Field(None, description="Unset: told from each value.")
    skip_invalid: bool = Field(False, description="Import the valid POs, skip the others.")
    dry_run: bool = Field(False, description="Check every row; create nothing.")


class POImportIssueOut(Schema):
    row: int
    field: str
    message: str


class POImportOut(Schema):
    pos: int
    valid: int
    created: list[str]
    skipped_rows: list[int]
    issues: list[POImportIssueOut]


@purchase_orders.post("/import", response={200: POImportOut, **errors(401, 403, 422)})
def import_purchase_orders(request, payload: Form[POImportIn], file: File[UploadedFile]):
    """POs from an .xlsx or CSV `file` (one row per line; see docs/po-import.md), checked row
    by row like the PO form; all or nothing unless `skip_invalid`. A refusal is a 422 whose
    messages name the row and the column."""
    from . import import_services
    from .importing import Options

    try:
        titles = json.loads(payload.mapping or "{}")
    except ValueError:
        titles = None
    if not isinstance(titles, dict):
        raise ValidationError({"mapping": "A JSON object of field -> column title."})
    plan, result = import_services.import_file(
        by=request.user,
        buyer=import_services.import_buyer(request.user, payload.buyer),
        data=file.read(),
        filename=file.name or "",
        titles=titles,
        options=Options(payload.day_first, payload.decimal_comma),
        skip_invalid=payload.skip_invalid,
        dry_run=payload.dry_run,
    )
    return {
        "pos": len(plan.candidates),
        "valid": len(plan.valid),
        "created": [po.number for po in result.created] if result else [],
        "skipped_rows": plan.rejected_rows if result else [],
        "issues": [vars(issue) for issue in plan.issues],
    }


router = Router()
router.add_router("/suppliers", suppliers)
router.add_router("/factories", factories)
router.add_router("/products", products)
router.add_router("/purchase-orders", purchase_orders)
