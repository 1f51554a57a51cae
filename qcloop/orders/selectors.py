"""Reads of suppliers, factories, products and POs, each through its tenancy gate.

Who sees a PO: its buyer; the agency monitoring it (coordinators, QC leads and admins see all
of the agency's POs, an inspector only those with a milestone assigned to them); the supplier.
A buyer's supply base and catalogue are seen by the buyer and by the agencies serving it."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from qcloop.accounts.models import Role
from qcloop.accounts.selectors import engaged_buyers, is_agency_staff
from qcloop.core.tenancy import for_user, gate

from .models import Factory, POLine, POStatus, Product, PurchaseOrder, Supplier


@gate(PurchaseOrder)
def purchase_orders(user) -> QuerySet:
    from qcloop.inspections.models import Milestone

    membership = user.membership
    orders = PurchaseOrder.objects.all()
    if membership is None:
        return orders.none()
    org = membership.organisation
    if membership.is_buyer:
        return orders.filter(buyer=org)
    if membership.is_supplier:
        return orders.filter(supplier__organisation=org)
    if membership.role == Role.INSPECTOR:
        assigned = Milestone.objects.filter(po=OuterRef("pk"), inspector=user)
        return orders.filter(Exists(assigned), agency=org)
    return orders.filter(agency=org)


@gate(POLine)
def po_lines(user) -> QuerySet:
    return POLine.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))


@gate(Supplier)
def suppliers(user) -> QuerySet:
    membership = user.membership
    if membership is None:
        return Supplier.objects.none()
    org = membership.organisation
    if membership.is_buyer:
        return Supplier.objects.filter(buyer=org)
    if membership.is_supplier:
        return Supplier.objects.filter(organisation=org)
    on_visible_orders = Q(pk__in=for_user(PurchaseOrder, user).values("supplier"))
    if is_agency_staff(user):
        return Supplier.objects.filter(on_visible_orders | Q(buyer__in=engaged_buyers(org)))
    return Supplier.objects.filter(on_visible_orders)


@gate(Factory)
def factories(user) -> QuerySet:
    return Factory.objects.filter(supplier__in=for_user(Supplier, user).values("pk"))


@gate(Product)
def products(user) -> QuerySet:
    membership = user.membership
    if membership is None:
        return Product.objects.none()
    org = membership.organisation
    if membership.is_buyer:
        return Product.objects.filter(buyer=org)
    on_visible_orders = Q(pk__in=for_user(POLine, user).values("product"))
    if is_agency_staff(user):
        return Product.objects.filter(on_visible_orders | Q(buyer__in=engaged_buyers(org)))
    return Product.objects.filter(on_visible_orders)


# --- the PO list: filters and search -------------------------------------------------------


@dataclass
class POFilters:
    """What the PO list is narrowed to; every field optional."""

    q: str = ""
    status: str = ""
    stage: str = ""
    supplier: str = ""
    buyer: str = ""
    category: str = ""
    market: str = ""
    mine: bool = False
    sort: str = "ex_factory_date"

    SORTS = {
        "ex_factory_date": ("ex_factory_date", "number"),
        "-ex_factory_date": ("-ex_factory_date", "number"),
        "number": ("number",),
        "-created_at": ("-created_at",),
    }

    @classmethod
    def from_query(cls, query) -> "POFilters":
        sort = query.get("sort", "")
        return cls(
            q=query.get("q", "").strip()[:100],
            status=query.get("status", ""),
            stage=query.get("stage", ""),
            supplier=query.get("supplier", ""),
            buyer=query.get("buyer", ""),
            category=query.get("category", ""),
            market=query.get("market", ""),
            mine=query.get("mine") in {"1", "on", "true"},
            sort=sort if sort in cls.SORTS else "ex_factory_date",
        )


def current_stage():
    """The kind of a PO's first milestone that is neither published nor cancelled."""
    from qcloop.inspections.models import Milestone, MilestoneStatus

    pending = Milestone.objects.filter(po=OuterRef("pk")).exclude(
        status__in=[MilestoneStatus.PUBLISHED, MilestoneStatus.CANCELLED]
    )
    return Subquery(pending.order_by("window_start", "id").values("kind")[:1])


def filtered_purchase_orders(user, filters: POFilters) -> QuerySet:
    orders = for_user(PurchaseOrder, user).annotate(stage=current_stage())
    if filters.q:
        q = filters.q
        orders = orders.filter(
            Q(number__icontains=q)
            | Q(supplier__name__icontains=q)
            | Q(factory__city__icontains=q)
            | Q(
                pk__in=POLine.objects.filter(
                    Q(product__sku__icontains=q) | Q(product__name__icontains=q)
                ).values("po")
            )
        )
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.stage == "done":
        orders = orders.filter(stage__isnull=True)
    elif filters.stage:
        orders = orders.filter(stage=filters.stage)
    if filters.supplier.isdigit():
        orders = orders.filter(supplier_id=int(filters.supplier))
    if filters.buyer.isdigit():
        orders = orders.filter(buyer_id=int(filters.buyer))
    if filters.category:
        orders = orders.filter(
            pk__in=POLine.objects.filter(product__category=filters.category).values("po")
        )
    if filters.market:
        orders = orders.filter(destination_market=filters.market)
    if filters.mine:
        orders = orders.filter(qc_lead=user)
    return (
        orders.select_related("buyer", "supplier", "factory", "qc_lead")
        .prefetch_related("milestones")
        .order_by(*POFilters.SORTS[filters.sort])
    )


def po_filter_choices(user) -> dict:
    from qcloop.accounts.models import Organisation, OrganisationKind
    from qcloop.core.reference import ProductCategory, markets
    from qcloop.inspections.models import MILESTONE_ORDER

    orders = for_user(PurchaseOrder, user)
    market_codes = sorted(set(orders.values_list("destination_market", flat=True)))
    return {
        "statuses": POStatus.choices,
        "stages": [(k.value, k.value) for k in MILESTONE_ORDER] + [("done", "All done")],
        "suppliers": for_user(Supplier, user).filter(pk__in=orders.values("supplier")),
        "buyers": for_user(Organisation, user).filter(
            kind=OrganisationKind.BUYER, pk__in=orders.values("buyer")
        ),
        "categories": ProductCategory.choices,
        "markets": [(code, markets().get(code, code)) for code in market_codes],
        "sorts": [
            ("ex_factory_date", "Ex-factory, soonest first"),
            ("-ex_factory_date", "Ex-factory, latest first"),
            ("number", "PO number"),
            ("-created_at", "Newest entered"),
        ],
    }


def query_without_page(query) -> str:
    """The current filters as a query string, for pagination links."""
    params = query.copy()
    params.pop("page", None)
    return params.urlencode()


def timeline(po: PurchaseOrder) -> list:
    """The PO's milestones in the order they happen."""
    from qcloop.inspections.models import MILESTONE_ORDER

    rank = {kind: i for i, kind in enumerate(MILESTONE_ORDER)}
    milestones = list(po.milestones.select_related("inspector"))
    return sorted(milestones, key=lambda m: (rank.get(m.kind, 9), m.sequence))
