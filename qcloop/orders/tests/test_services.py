"""Every rule of the PO services: what is accepted, what is refused with which message, and
that a refusal saves nothing."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qcloop.accounts.models import Role
from qcloop.inspections.models import Milestone
from qcloop.orders.models import Factory, POLine, Product, PurchaseOrder, Supplier
from qcloop.orders.services import (
    LineDraft,
    PODraft,
    can_create_po,
    can_edit_po,
    create_purchase_order,
    save_factory,
    save_product,
    save_supplier,
    update_purchase_order,
)

pytestmark = pytest.mark.django_db


def draft_for(world, **overrides) -> PODraft:
    base = PODraft.of(world.po)
    base.number = "PO-NEW-1"
    base.status = "open"
    return replace(base, **overrides)


def refused(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def test_a_valid_po_is_saved_with_its_lines_total_and_four_milestones(world):
    draft = draft_for(
        world,
        lines=[LineDraft(world.product, 1200, "black"), LineDraft(world.product, 800, "white")],
    )
    po = create_purchase_order(by=world.user(Role.BUYER_MANAGER), draft=draft)
    assert po.quantity == 2000
    assert [(line.variant, line.quantity) for line in po.lines.all()] == [
        ("black", 1200),
        ("white", 800),
    ]
    assert sorted(po.milestones.values_list("kind", flat=True)) == ["CLI", "DUPRO", "IPC", "PSI"]
    assert po.created_by == world.user(Role.BUYER_MANAGER)


def test_only_the_chosen_milestones_are_planned(world):
    po = create_purchase_order(
        by=world.user(Role.COORDINATOR), draft=draft_for(world), milestone_kinds=["PSI"]
    )
    assert list(po.milestones.values_list("kind", flat=True)) == ["PSI"]


def test_duplicate_po_number_for_the_same_buyer_is_refused(world):
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER), draft=draft_for(world, number=world.po.number)
        )
    )
    assert errors == {"number": [f"PO {world.po.number} already exists for {world.buyer}."]}
    assert PurchaseOrder.objects.count() == 1


def test_the_same_po_number_at_another_buyer_is_fine(world, other_world):
    draft = PODraft.of(other_world.po)
    draft.number = world.po.number
    po = create_purchase_order(by=other_world.user(Role.BUYER_MANAGER), draft=draft)
    assert po.number == world.po.number


@pytest.mark.parametrize("quantity", [0, -5])
def test_zero_or_negative_quantity_is_refused(world, quantity):
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER),
            draft=draft_for(world, lines=[LineDraft(world.product, quantity)]),
        )
    )
    assert errors["lines.0.quantity"] == [f"The quantity must be at least 1, not {quantity}."]
    assert not PurchaseOrder.objects.filter(number="PO-NEW-1").exists()
    assert POLine.objects.count() == 1


def test_unknown_currency_is_refused(world):
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER), draft=draft_for(world, currency="XYZ")
        )
    )
    assert errors == {
        "currency": ["Unknown currency 'XYZ': use an ISO 4217 code such as USD, EUR or CNY."]
    }


def test_ship_date_before_ex_factory_is_refused(world):
    ex_factory = world.po.ex_factory_date
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER),
            draft=draft_for(world, ship_date=ex_factory - timedelta(days=1)),
        )
    )
    assert list(errors) == ["ship_date"]
    assert "cannot be before the ex-factory date" in errors["ship_date"][0]


@pytest.mark.parametrize(
    ("fob", "message"),
    [
        (Decimal("-1"), "The FOB value cannot be negative."),
        (Decimal("10.005"), "The FOB value has at most two decimal places."),
        (Decimal("NaN"), "The FOB value must be a number."),
    ],
)
def test_fob_value_rules(world, fob, message):
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER), draft=draft_for(world, fob_value=fob)
        )
    )
    assert errors == {"fob_value": [message]}


def test_all_problems_are_reported_at_once(world):
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER),
            draft=draft_for(
                world,
                currency="ZZZ",
                destination_market="XX",
                carton_count=0,
                lines=[LineDraft(None, None)],
            ),
        )
    )
    assert set(errors) == {
        "currency",
        "destination_market",
        "carton_count",
        "lines.0.product",
        "lines.0.quantity",
    }


def test_more_cartons_than_units_is_refused(world):
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER),
            draft=draft_for(world, carton_count=10, lines=[LineDraft(world.product, 5)]),
        )
    )
    assert errors == {"carton_count": ["10 cartons for 5 units: a carton holds at least one."]}


def test_a_po_needs_lines(world):
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER), draft=draft_for(world, lines=[])
        )
    )
    assert errors == {"lines": ["A PO needs at least one line: which SKU, how many."]}


def test_the_same_sku_and_variant_twice_is_refused(world):
    line = LineDraft(world.product, 1000, "red")
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER), draft=draft_for(world, lines=[line, line])
        )
    )
    assert list(errors) == ["lines.1.variant"]


def test_other_tenants_parties_are_refused(world, other_world):
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER),
            draft=draft_for(
                world,
                supplier=other_world.supplier,
                factory=other_world.factory,
                qc_lead=other_world.qc_lead,
                lines=[LineDraft(other_world.product, 1000)],
            ),
        )
    )
    assert set(errors) == {"supplier", "qc_lead", "lines.0.product"}
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER),
            draft=draft_for(world, agency=other_world.agency, qc_lead=None),
        )
    )
    assert errors == {"agency": [f"{other_world.agency} does not serve {world.buyer}."]}


def test_factory_must_belong_to_the_supplier(world):
    other_supplier = Supplier.objects.create(
        buyer=world.buyer, code="V2", name="Other", country="CN"
    )
    factory = Factory.objects.create(
        supplier=other_supplier,
        name="F",
        address="a",
        city="c",
        country="CN",
        latitude=0,
        longitude=0,
        timezone="UTC",
    )
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER), draft=draft_for(world, factory=factory)
        )
    )
    assert list(errors) == ["factory"]


def test_qc_lead_must_be_a_qc_lead_of_the_agency(world):
    errors = refused(
        lambda: create_purchase_order(
            by=world.user(Role.BUYER_MANAGER), draft=draft_for(world, qc_lead=world.inspector)
        )
    )
    assert errors == {"qc_lead": [f"{world.inspector} is not a QC lead of {world.agency}."]}


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.BUYER_MANAGER, True),
        (Role.COORDINATOR, True),
        (Role.QC_LEAD, True),
        (Role.ADMIN, True),  # the world's admin is the agency's
        (Role.BUYER_VIEWER, False),
        (Role.INSPECTOR, False),
        (Role.SUPPLIER_USER, False),
    ],
)
def test_who_may_enter_pos(world, role, allowed):
    user = world.user(role)
    assert can_create_po(user) is allowed
    if allowed:
        create_purchase_order(by=user, draft=draft_for(world))
    else:
        with pytest.raises(PermissionDenied):
            create_purchase_order(by=user, draft=draft_for(world))
        assert PurchaseOrder.objects.count() == 1


def test_an_outsiders_manager_cannot_enter_a_po_for_this_buyer(world, other_world):
    with pytest.raises(PermissionDenied):
        create_purchase_order(by=other_world.user(Role.BUYER_MANAGER), draft=draft_for(world))


def test_update_changes_fields_and_replaces_lines(world):
    po = update_purchase_order(
        by=world.qc_lead,
        po=world.po,
        changes={"fob_value": Decimal("50000.00"), "retailer_compliance": "Walmart"},
        lines=[LineDraft(world.product, 3500)],
    )
    po.refresh_from_db()
    assert (po.fob_value, po.retailer_compliance, po.quantity) == (
        Decimal("50000.00"),
        "Walmart",
        3500,
    )
    assert po.lines.get().quantity == 3500


def test_a_supplier_user_cannot_edit_a_po(world):
    supplier_user = world.user(Role.SUPPLIER_USER)
    assert not can_edit_po(supplier_user, world.po)
    with pytest.raises(PermissionDenied, match="Supplier users cannot edit purchase orders"):
        update_purchase_order(by=supplier_user, po=world.po, changes={"fob_value": Decimal(1)})
    world.po.refresh_from_db()
    assert world.po.fob_value == Decimal("48250.00")


def test_a_qc_lead_edits_only_the_pos_they_lead(world):
    from qcloop.accounts.services import add_member

    colleague = add_member(
        organisation=world.agency,
        email="lead2@example.com",
        full_name="Second Lead",
        role=Role.QC_LEAD,
    )
    assert not can_edit_po(colleague, world.po)
    assert can_edit_po(world.qc_lead, world.po)


def test_the_buyer_of_a_po_never_changes(world, other_world):
    errors = refused(
        lambda: update_purchase_order(
            by=world.user(Role.BUYER_MANAGER), po=world.po, changes={"buyer": other_world.buyer}
        )
    )
    assert errors == {"buyer": ["The buyer of a PO cannot change; enter a new PO."]}


def test_a_failed_update_changes_nothing(world):
    before = (world.po.fob_value, world.po.currency, list(world.po.lines.values_list("quantity")))
    refused(
        lambda: update_purchase_order(
            by=world.user(Role.BUYER_MANAGER),
            po=world.po,
            changes={"currency": "EUR", "fob_value": Decimal("-3")},
            lines=[LineDraft(world.product, 7)],
        )
    )
    world.po.refresh_from_db()
    after = (world.po.fob_value, world.po.currency, list(world.po.lines.values_list("quantity")))
    assert after == before


def test_renumbering_onto_an_existing_number_is_refused(world):
    second = create_purchase_order(by=world.user(Role.BUYER_MANAGER), draft=draft_for(world))
    errors = refused(
        lambda: update_purchase_order(
            by=world.user(Role.BUYER_MANAGER), po=second, changes={"number": world.po.number}
        )
    )
    assert list(errors) == ["number"]


@pytest.mark.django_db(transaction=True)
def test_qc_lead_assignment_is_mailed_by_the_worker(world, mailoutbox, run_worker):
    run_worker()  # the world's own PO was assigned too
    mailoutbox.clear()
    create_purchase_order(by=world.user(Role.BUYER_MANAGER), draft=draft_for(world))
    run_worker()
    assert [m.to for m in mailoutbox] == [[world.qc_lead.email]]
    assert "You are the QC lead for PO PO-NEW-1" in mailoutbox[0].subject


def test_supplier_codes_and_skus_are_unique_per_buyer(world):
    manager = world.user(Role.BUYER_MANAGER)
    with pytest.raises(ValidationError) as caught:
        save_supplier(
            by=manager,
            supplier=Supplier(
                buyer=world.buyer, code=world.supplier.code, name="Copy", country="CN"
            ),
        )
    assert list(caught.value.message_dict) == ["code"]
    with pytest.raises(ValidationError) as caught:
        save_product(
            by=manager,
            product=Product(
                buyer=world.buyer, sku=world.product.sku, name="Copy", category="lighting"
            ),
        )
    assert list(caught.value.message_dict) == ["sku"]


def test_product_codes_are_validated(world):
    with pytest.raises(ValidationError) as caught:
        save_product(
            by=world.user(Role.BUYER_MANAGER),
            product=Product(
                buyer=world.buyer,
                sku="N1",
                name="New",
                category="toys",
                target_markets=["US", "Atlantis"],
                compliance_regimes=["CPSIA", "XX"],
            ),
        )
    assert set(caught.value.message_dict) == {"target_markets", "compliance_regimes"}


def test_factory_coordinates_and_time_zone_are_validated(world):
    factory = Factory(
        supplier=world.supplier,
        name="Bad",
        address="a",
        city="c",
        country="CN",
        latitude=Decimal("95"),
        longitude=Decimal("200"),
        timezone="Mars/Olympus",
    )
    with pytest.raises(ValidationError) as caught:
        save_factory(by=world.user(Role.BUYER_MANAGER), factory=factory)
    assert set(caught.value.message_dict) == {"latitude", "longitude", "timezone"}


def test_only_buyer_side_editors_register_suppliers(world):
    supplier = Supplier(buyer=world.buyer, code="V9", name="New", country="VN")
    with pytest.raises(PermissionDenied):
        save_supplier(by=world.user(Role.BUYER_VIEWER), supplier=supplier)
    with pytest.raises(PermissionDenied):
        save_supplier(by=world.user(Role.SUPPLIER_USER), supplier=supplier)
    assert save_supplier(by=world.user(Role.COORDINATOR), supplier=supplier).pk


def test_milestones_are_kept_when_a_po_is_edited(world):
    ids = set(Milestone.objects.filter(po=world.po).values_list("pk", flat=True))
    update_purchase_order(by=world.user(Role.BUYER_MANAGER), po=world.po, changes={"notes": "x"})
    assert set(Milestone.objects.filter(po=world.po).values_list("pk", flat=True)) == ids


def test_an_edit_without_lines_keeps_the_line_rows(world):
    ids = list(world.po.lines.values_list("pk", flat=True))
    update_purchase_order(by=world.qc_lead, po=world.po, changes={"notes": "checked"})
    assert list(world.po.lines.values_list("pk", flat=True)) == ids


def test_cancelling_a_po_cancels_its_open_milestones(world):
    from qcloop.inspections.models import MilestoneStatus
    from qcloop.inspections.services import transition_milestone, update_milestone

    dupro = world.milestones["DUPRO"]
    update_milestone(
        by=world.qc_lead,
        milestone=dupro,
        changes={"inspection_date": dupro.window_start, "status": "booked"},
    )
    update_purchase_order(
        by=world.user(Role.BUYER_MANAGER), po=world.po, changes={"status": "cancelled"}
    )
    assert set(world.po.milestones.values_list("status", flat=True)) == {MilestoneStatus.CANCELLED}
    transition_milestone(by=world.qc_lead, milestone=world.milestones["IPC"], to="planned")
    with pytest.raises(ValidationError, match="is cancelled: it is not inspected"):
        transition_milestone(by=world.qc_lead, milestone=world.milestones["IPC"], to="booked")


def test_only_the_buyer_changes_the_monitoring_agency(world):
    with pytest.raises(PermissionDenied, match="Only the buyer can change the agency"):
        update_purchase_order(
            by=world.user(Role.COORDINATOR), po=world.po, changes={"agency": None, "qc_lead": None}
        )
    world.po.refresh_from_db()
    assert world.po.agency == world.agency


def test_text_fields_may_be_left_empty(world):
    po = update_purchase_order(
        by=world.qc_lead, po=world.po, changes={"notes": None, "retailer_compliance": None}
    )
    assert (po.notes, po.retailer_compliance) == ("", "")
