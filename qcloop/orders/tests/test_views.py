"""The PO pages: list filters and search, detail, create and edit through the form."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from qcloop.accounts.models import Role
from qcloop.orders.models import PurchaseOrder
from qcloop.orders.services import PODraft, create_purchase_order, why_cannot_edit_po

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def second_po(world, **overrides):
    draft = PODraft.of(world.po)
    draft.number = "PO-A-2002"
    for name, value in overrides.items():
        setattr(draft, name, value)
    return create_purchase_order(by=world.user(Role.BUYER_MANAGER), draft=draft)


def listed(response) -> list[str]:
    return [po.number for po in response.context["page"].object_list]


def test_filters_and_search(client, world):
    other = second_po(world, destination_market="EU", status="shipped")
    signed_in(client, world.user(Role.BUYER_MANAGER))
    url = reverse("orders:po_list")
    assert sorted(listed(client.get(url))) == ["PO-A-1001", "PO-A-2002"]
    assert listed(client.get(url, {"market": "EU"})) == ["PO-A-2002"]
    assert listed(client.get(url, {"status": "open"})) == ["PO-A-1001"]
    assert listed(client.get(url, {"q": "a-100"})) == ["PO-A-1001"]  # PO number, any case
    assert sorted(listed(client.get(url, {"q": world.product.sku}))) == ["PO-A-1001", "PO-A-2002"]
    assert listed(client.get(url, {"q": "Zhongshan", "status": "shipped"})) == [other.number]
    assert sorted(listed(client.get(url, {"category": "lighting"}))) == ["PO-A-1001", "PO-A-2002"]
    assert listed(client.get(url, {"category": "toys"})) == []
    assert listed(client.get(url, {"stage": "IPC", "status": "open"})) == ["PO-A-1001"]
    assert listed(client.get(url, {"stage": "done"})) == []
    assert len(listed(client.get(url, {"supplier": world.supplier.pk}))) == 2
    assert listed(client.get(url, {"sort": "-ex_factory_date", "supplier": "junk"}))


def test_mine_shows_the_pos_a_qc_lead_leads(client, world):
    second_po(world, qc_lead=None)
    signed_in(client, world.qc_lead)
    assert listed(client.get(reverse("orders:po_list"), {"mine": "1"})) == ["PO-A-1001"]


def test_htmx_requests_get_only_the_results(client, world):
    signed_in(client, world.user(Role.BUYER_VIEWER))
    response = client.get(reverse("orders:po_list"), {"q": "PO-A"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="po-results"' in html and "<html" not in html


def test_pagination_keeps_the_filters(client, world):
    for n in range(26):
        second_po(world, number=f"PO-A-3{n:03d}")
    signed_in(client, world.user(Role.BUYER_MANAGER))
    response = client.get(reverse("orders:po_list"), {"status": "open"})
    assert response.context["page"].paginator.num_pages == 2
    assert "status=open&amp;page=2" in response.content.decode()


def test_the_detail_page_shows_the_order_and_its_timeline(client, world):
    signed_in(client, world.user(Role.SUPPLIER_USER))
    html = client.get(reverse("orders:po_detail", args=[world.po.pk])).content.decode()
    for text in [
        "PO PO-A-1001",
        "USD 48,250.00",
        "3,000 pcs in 250 cartons",
        "QC lead A",
        "Guzhen lighting",
        "SKU-A-1",
    ]:
        assert text in html
    assert html.index(">IPC<") < html.index(">DUPRO<") < html.index(">PSI<") < html.index(">CLI<")
    assert "Edit PO" not in html


def form_data(world, **overrides) -> dict:
    po = world.po
    data = {
        "number": "PO-A-4004",
        "buyer": world.buyer.pk,
        "agency": world.agency.pk,
        "qc_lead": world.qc_lead.pk,
        "supplier": world.supplier.pk,
        "factory": world.factory.pk,
        "currency": "USD",
        "fob_value": "15000.50",
        "unit": "pcs",
        "carton_count": "20",
        "production_start": po.production_start,
        "ex_factory_date": po.ex_factory_date,
        "ship_date": po.ship_date,
        "destination_market": "US",
        "retailer_compliance": "",
        "notes": "",
        "milestones": ["PSI", "CLI"],
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": world.product.pk,
        "lines-0-quantity": "600",
        "lines-0-variant": "",
        "lines-1-product": "",
        "lines-1-quantity": "",
        "lines-1-variant": "",
    }
    data.update(overrides)
    return data


def test_the_create_form_saves_a_po_with_the_chosen_milestones(client, world):
    signed_in(client, world.user(Role.COORDINATOR))
    response = client.post(reverse("orders:po_create"), form_data(world))
    po = PurchaseOrder.objects.get(number="PO-A-4004")
    assert response.status_code == 302 and response["Location"] == f"/pos/{po.pk}/"
    assert (po.quantity, po.created_by) == (600, world.user(Role.COORDINATOR))
    assert sorted(po.milestones.values_list("kind", flat=True)) == ["CLI", "PSI"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"number": "PO-A-1001"}, "number", "PO PO-A-1001 already exists for Buyer A Ltd."),
        ({"lines-0-quantity": "-3"}, None, "The quantity must be at least 1, not -3."),
        ({"currency": "XYZ"}, "currency", "Select a valid choice. XYZ is not one of"),
        ({"fob_value": "-10"}, "fob_value", "The FOB value cannot be negative."),
        ({"lines-0-product": "", "lines-0-quantity": ""}, None, "A PO needs at least one line"),
        ({"lines-0-product": ""}, None, "Choose the product."),
    ],
)
def test_the_create_form_names_the_problem_and_saves_nothing(
    client, world, overrides, field, message
):
    signed_in(client, world.user(Role.BUYER_MANAGER))
    response = client.post(reverse("orders:po_create"), form_data(world, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    if field:
        assert any(message in e for e in response.context["form"].errors[field])
    assert PurchaseOrder.objects.count() == 1


def test_ship_before_ex_factory_on_the_form(client, world):
    signed_in(client, world.user(Role.BUYER_MANAGER))
    early = world.po.ex_factory_date - timedelta(days=2)
    response = client.post(reverse("orders:po_create"), form_data(world, ship_date=early))
    assert "cannot be before the ex-factory date" in response.context["form"].errors["ship_date"][0]


def test_add_a_line_keeps_the_input_and_saves_nothing(client, world):
    signed_in(client, world.user(Role.BUYER_MANAGER))
    response = client.post(reverse("orders:po_create"), form_data(world, add_line="1"))
    assert response.context["formset"].total_form_count() == 3
    assert 'value="PO-A-4004"' in response.content.decode()
    assert "Nothing was saved" not in response.content.decode()
    assert PurchaseOrder.objects.count() == 1


def test_the_edit_form_updates_the_po(client, world):
    signed_in(client, world.qc_lead)
    page = client.get(reverse("orders:po_edit", args=[world.po.pk]))
    assert page.context["form"]["number"].value() == "PO-A-1001"
    data = form_data(
        world,
        number="PO-A-1001-R",
        status="open",
        **{"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-0-quantity": "2900"},
    )
    response = client.post(reverse("orders:po_edit", args=[world.po.pk]), data)
    assert response.status_code == 302
    world.po.refresh_from_db()
    assert (world.po.number, world.po.quantity, world.po.fob_value) == (
        "PO-A-1001-R",
        2900,
        15000.50,
    )


@pytest.mark.parametrize("role", [Role.SUPPLIER_USER, Role.BUYER_VIEWER, Role.INSPECTOR])
def test_read_only_roles_are_told_they_cannot_edit(client, world, role):
    signed_in(client, world.user(role))
    response = client.post(reverse("orders:po_edit", args=[world.po.pk]), form_data(world))
    assert response.status_code == 403
    assert escape(why_cannot_edit_po(world.user(role))) in response.content.decode()
    world.po.refresh_from_db()
    assert world.po.number == "PO-A-1001"


def test_the_factory_choices_follow_the_supplier(client, world):
    signed_in(client, world.user(Role.BUYER_MANAGER))
    response = client.get(reverse("orders:factory_options"), {"supplier": world.supplier.pk})
    assert f'value="{world.factory.pk}"' in response.content.decode()
    assert client.get(reverse("orders:factory_options"), {"supplier": "x"}).status_code == 404
    kept = client.get(
        reverse("orders:factory_options"),
        {"supplier": world.supplier.pk, "factory": world.factory.pk},
    )
    assert f'value="{world.factory.pk}" selected' in kept.content.decode()


def test_supplier_and_product_pages(client, world):
    signed_in(client, world.user(Role.COORDINATOR))
    suppliers = client.get(reverse("orders:supplier_list"), {"q": "supplier a"}).content.decode()
    assert "Supplier A Co" in suppliers
    detail = client.get(
        reverse("orders:supplier_detail", args=[world.supplier.pk])
    ).content.decode()
    assert "Guzhen lighting" in detail and "PO-A-1001" in detail
    products = client.get(reverse("orders:product_list"), {"q": "lamp"}).content.decode()
    assert "SKU-A-1" in products
    product = client.get(reverse("orders:product_detail", args=[world.product.pk])).content.decode()
    assert "PO-A-1001" in product and "UL" in product
