"""Reads of fee schedules, retainers and quotes through their tenancy gates, and the facts a
PO's service recommendation is made from.

Prices are between an agency and its clients: a fee schedule is seen by its agency's staff;
a retainer and a quote by the agency's staff and the buyer's people. Supplier users and
inspectors see none of them."""

from django.db.models import Q, QuerySet
from django.http import Http404

from qcloop.accounts.selectors import is_agency_staff
from qcloop.core.tenancy import for_user, gate, get_for_user
from qcloop.orders.models import POStatus, PurchaseOrder

from . import pricing, risk
from .models import FeeSchedule, Quote, Retainer


def _buyer_org(user):
    membership = user.membership
    return membership.organisation if membership and membership.is_buyer else None


def _agency_org(user):
    return user.membership.organisation if is_agency_staff(user) else None


@gate(FeeSchedule)
def fee_schedules(user) -> QuerySet:
    agency = _agency_org(user)
    return FeeSchedule.objects.filter(agency=agency) if agency else FeeSchedule.objects.none()


@gate(Retainer)
def retainers(user) -> QuerySet:
    if agency := _agency_org(user):
        return Retainer.objects.filter(agency=agency)
    if buyer := _buyer_org(user):
        return Retainer.objects.filter(buyer=buyer)
    return Retainer.objects.none()


@gate(Quote)
def quotes(user) -> QuerySet:
    visible = Quote.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))
    if agency := _agency_org(user):
        return visible.filter(agency=agency)
    if buyer := _buyer_org(user):
        return visible.filter(buyer=buyer)
    return Quote.objects.none()


def sees_commercial(user, po: PurchaseOrder) -> bool:
    """The buyer's people and the monitoring agency's staff; not suppliers, not inspectors."""
    if (buyer := _buyer_org(user)) is not None:
        return buyer.pk == po.buyer_id
    agency = _agency_org(user)
    return agency is not None and agency.pk == po.agency_id


def commercial_po(user, pk) -> PurchaseOrder:
    """A PO whose recommendation and quotes the user may see, or 404."""
    po = get_for_user(PurchaseOrder, user, pk=pk)
    if not sees_commercial(user, po):
        raise Http404("No purchase order matches the given query.")
    return po


def schedule_for(agency, country: str) -> FeeSchedule | None:
    """The agency's fee schedule for a factory country, else its default, else None."""
    if agency is None:
        return None
    found = {
        s.country: s for s in FeeSchedule.objects.filter(agency=agency, country__in=[country, ""])
    }
    return found.get(country) or found.get("")


def fee_table_for(po: PurchaseOrder) -> tuple[pricing.FeeTable, FeeSchedule | None]:
    schedule = schedule_for(po.agency, po.factory.country)
    return (schedule.table() if schedule else pricing.FeeTable()), schedule


def _earlier_po_exists(po: PurchaseOrder) -> bool:
    earlier = Q(created_at__lt=po.created_at) | Q(created_at=po.created_at, pk__lt=po.pk)
    return (
        PurchaseOrder.objects.filter(earlier, buyer=po.buyer_id, supplier=po.supplier_id)
        .exclude(status=POStatus.CANCELLED)
        .exists()
    )


def _failed_milestones(user, po: PurchaseOrder) -> tuple[str, ...]:
    from qcloop.inspections.models import InspectionOutcome, Milestone, MilestoneStatus

    # Published results only, through the reader's gate: a result still in review is not
    # yet a fact the buyer has, and another agency's work is not this agency's to see.
    failed = (
        for_user(Milestone, user)
        .filter(
            po__supplier=po.supplier_id,
            result=InspectionOutcome.FAIL,
            status=MilestoneStatus.PUBLISHED,
        )
        .exclude(po=po)
        .select_related("po")
        .order_by("-published_at")
    )
    return tuple(f"{m.label} of PO {m.po.number}" for m in failed)


def _open_capas(user, po: PurchaseOrder) -> tuple[str, ...]:
    from qcloop.capa.models import OPEN_STATUSES, CorrectiveAction

    capas = (
        for_user(CorrectiveAction, user)
        .filter(supplier=po.supplier_id, status__in=OPEN_STATUSES)
        .exclude(po=po)  # the PO's own findings are its inspections' outcome, not its risk
        .select_related("po")
        .order_by("opened_at")
    )
    return tuple(capa.reference for capa in capas)


def risk_facts(user, po: PurchaseOrder) -> risk.RiskFacts:
    """What qcloop knows of the PO's risk, as `user` may see it."""
    table, schedule = fee_table_for(po)
    threshold_currency = table.currency
    threshold = schedule.fob_threshold if schedule else pricing.DEFAULT_FOB_THRESHOLD
    products = {
        line.product.sku: (
            line.product.sku,
            line.product.category,
            tuple(line.product.compliance_regimes),
        )
        for line in po.lines.select_related("product")
    }
    return risk.RiskFacts(
        fob=risk.Money(po.fob_value, po.currency),
        first_po_with_supplier=not _earlier_po_exists(po),
        new_material_or_tooling=po.new_material_or_tooling,
        products=tuple(products.values()),
        destination_market=po.destination_market,
        retailer_compliance=po.retailer_compliance,
        fob_threshold=risk.Money(threshold, threshold_currency),
        rate_to_threshold_currency=table.rates.get(po.currency),
        hero_sku=po.hero_sku,
        failed_milestones=_failed_milestones(user, po),
        open_capas=_open_capas(user, po),
        complex_product=po.complex_product,
        supplier_name=po.supplier.name,
    )


def retainer_for(po: PurchaseOrder) -> Retainer | None:
    if po.agency_id is None:
        return None
    return Retainer.objects.filter(agency=po.agency_id, buyer=po.buyer_id, active=True).first()
