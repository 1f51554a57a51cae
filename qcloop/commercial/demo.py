"""The demo's commercial side: Lion Rock's fee schedules (default, Vietnam, India), Harbor
Lane on a retainer, the risk flags the demo POs' notes describe, and quotes on the POs that
have not started inspections yet. Called by `qcloop.demo` once the orders exist."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from qcloop.accounts.models import Membership, Organisation, Role
from qcloop.inspections.models import MilestoneStatus
from qcloop.orders.models import POStatus, PurchaseOrder
from qcloop.orders.services import update_purchase_order

from .models import Quote
from .services import accept_quote, issue_quote, save_fee_schedule, save_retainer

RATES = "EUR=1.08, GBP=1.27"
SCHEDULES = [
    # The seed's fees as the default; lower day rates where the agency's inspectors live.
    {"country": "", "currency": "USD", "exchange_rates": RATES},
    {"country": "VN", "ipc_fee": "260", "dupro_fee": "280", "psi_fee": "350", "cli_fee": "210",
     "man_day_rate": "280", "exchange_rates": RATES},
    {"country": "IN", "ipc_fee": "250", "dupro_fee": "270", "psi_fee": "340", "cli_fee": "200",
     "bundle_discount": "20", "man_day_rate": "250", "exchange_rates": RATES},
]  # fmt: skip
RETAINER_BUYER = "Harbor Lane Brands, Inc."
RETAINER = {"plan": "percentage", "percentage": "1.5", "monthly_fee": "750", "pos_per_year": "20"}
# What a PO's notes say, and the risk flag it means.
FLAGS_FROM_NOTES = {
    "hero sku": "hero_sku",
    "new tooling": "new_material_or_tooling",
    "new outsole mould": "new_material_or_tooling",
    "first electrical product": "complex_product",
}
QUOTED_POS = 4


def _person(organisation: Organisation, role: str):
    return Membership.objects.filter(organisation=organisation, role=role).first().user


def load_demo_commercial(*, agency: Organisation, today) -> None:
    coordinator = _person(agency, Role.COORDINATOR)
    for values in SCHEDULES:
        save_fee_schedule(by=coordinator, agency=agency, values=values)
    retainer_buyer = Organisation.objects.get(name=RETAINER_BUYER)
    save_retainer(by=coordinator, agency=agency, buyer=retainer_buyer, values=RETAINER)
    orders = PurchaseOrder.objects.filter(agency=agency).select_related("buyer")
    for po in orders.exclude(notes=""):
        flags = {
            flag: True for words, flag in FLAGS_FROM_NOTES.items() if words in po.notes.lower()
        }
        if flags:
            update_purchase_order(by=coordinator, po=po, changes=flags)
    _quote_upcoming(orders, coordinator, today)


def _quote_upcoming(orders, coordinator, today) -> None:
    """Quotes for the open POs that no inspection has been carried out for, the latest
    ex-factory first; the first one for the retainer client is accepted (the bundle)."""
    started = [MilestoneStatus.SUBMITTED, MilestoneStatus.PUBLISHED, MilestoneStatus.IN_PROGRESS]
    upcoming = (
        orders.filter(status=POStatus.OPEN)
        .exclude(milestones__status__in=started)
        .order_by("-ex_factory_date", "number")[:QUOTED_POS]
    )
    accepted = False
    for i, po in enumerate(upcoming):
        # One quote for all four milestones, the others for the recommended ones.
        quote = issue_quote(by=coordinator, po=po, milestones=None if i else list(_ALL))
        if not accepted and po.buyer.name == RETAINER_BUYER:
            option = "bundle" if quote.bundle_total is not None else "separate"
            accept_quote(by=_person(po.buyer, Role.BUYER_MANAGER), quote=quote, option=option)
            accepted = True
        # Issued on the demo's day, as everything else in the demo is dated.
        issued = timezone.make_aware(datetime.combine(today - timedelta(days=i + 1), time(10)))
        dates = {"issued_at": issued, "valid_until": today + timedelta(days=29 - i)}
        if quote.accepted_at:
            dates["accepted_at"] = issued + timedelta(hours=5)
        Quote.objects.filter(pk=quote.pk).update(**dates)


_ALL = ("IPC", "DUPRO", "PSI", "CLI")
