"""Reads of suppliers, factories, products and POs, each through its tenancy gate.

Who sees a PO: its buyer; the agency monitoring it (coordinators, QC leads and admins see all
of the agency's POs, an inspector only those with a milestone assigned to them); the supplier.
A buyer's supply base and catalogue are seen by the buyer and by the agencies serving it."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from qcloop.accounts.models import Role
from qcloop.accounts.selectors import engaged_buyers, is_agency_staff
from qcloop.core.tenancy import for_user, gate

from .models import Factory, POLine, Product, PurchaseOrder, Supplier


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
