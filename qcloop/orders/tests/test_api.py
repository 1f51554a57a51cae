"""The API for suppliers, factories, products and purchase orders: reads through the tenancy
gate, writes through the services, one error shape, nothing saved on any error."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from qcloop.accounts.models import OrganisationKind, Role
from qcloop.accounts.services import create_organisation, engage_agency
from qcloop.orders.models import Factory, POLine, POStatus, Product, PurchaseOrder, Supplier
from qcloop.orders.services import (
    LineDraft,
    PODraft,
    create_purchase_order,
    save_factory,
    save_product,
    save_supplier,
    update_purchase_order,
)

PO_URL = "/api/purchase-orders"


def client_for(user) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def post(client, url, payload):
    return client.post(url, payload, content_type="application/json")


def manager(world):
    return world.user(Role.BUYER_MANAGER)


def field_errors(response) -> dict:
    """{loc tuple: msg} of a 422 answer, checking its shape on the way."""
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert detail and all(set(item) >= {"loc", "msg", "type"} for item in detail)
    return {tuple(item["loc"]): item["msg"] for item in detail}


def assert_field_error(response, *path, contains: str = "") -> str:
    errors = field_errors(response)
    loc = ("body", "payload", *path)
    assert loc in errors, errors
    assert contains in errors[loc], errors[loc]
    return errors[loc]


def po_payload(world, **changes) -> dict:
    start = date.today() + timedelta(days=20)
    payload = {
        "number": "PO-A-2001",
        "agency": world.agency.pk,
        "supplier": world.supplier.pk,
        "factory": world.factory.pk,
        "qc_lead": world.qc_lead.pk,
        "currency": "EUR",
        "fob_value": "12500.50",
        "carton_count": 40,
        "production_start": start.isoformat(),
        "ex_factory_date": (start + timedelta(days=30)).isoformat(),
        "ship_date": (start + timedelta(days=34)).isoformat(),
        "destination_market": "EU",
        "lines": [{"product": world.product.pk, "quantity": 800, "variant": "black"}],
    }
    payload.update(changes)
    return payload


def make_po(world, number: str, by=None, **changes) -> PurchaseOrder:
    """A further PO of `world`, entered through the service as the tests' setup."""
    draft = PODraft.of(world.po)
    draft.number = number
    draft.lines = [LineDraft(world.product, 500)]
    for name, value in changes.items():
        setattr(draft, name, value)
    return create_purchase_order(by=by or manager(world), draft=draft)


# --- purchase orders: reading --------------------------------------------------------------


def test_po_list_shows_the_whole_po(world):
    response = client_for(manager(world)).get(PO_URL)

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 1
    [po] = page["items"]
    assert po["id"] == world.po.pk
    assert po["number"] == "PO-A-1001"
    assert (po["currency"], po["fob_value"]) == ("USD", "48250.00")
    assert (po["quantity"], po["unit"], po["carton_count"]) == (3000, "pcs", 250)
    assert (po["buyer"], po["buyer_name"]) == (world.buyer.pk, "Buyer A Ltd")
    assert (po["agency"], po["agency_name"]) == (world.agency.pk, "Agency A QC")
    assert (po["supplier"], po["supplier_name"]) == (world.supplier.pk, "Supplier A Co")
    assert (po["factory"], po["factory_name"]) == (world.factory.pk, "Plant A")
    assert (po["qc_lead"], po["qc_lead_name"]) == (world.qc_lead.pk, world.qc_lead.full_name)
    assert po["lines"] == [
        {"product": world.product.pk, "sku": "SKU-A-1", "variant": "", "quantity": 3000}
    ]
    assert [m["kind"] for m in po["milestones"]] == ["IPC", "DUPRO", "PSI", "CLI"]
    dupro = next(m for m in po["milestones"] if m["kind"] == "DUPRO")
    assert dupro["inspector"] == world.inspector.pk
    assert dupro["status"] == "planned" and dupro["sequence"] == 1
    assert po["ex_factory_date"] == world.po.ex_factory_date.isoformat()
    assert po["status"] == "open"


def test_po_detail(world):
    response = client_for(manager(world)).get(f"{PO_URL}/{world.po.pk}")

    assert response.status_code == 200
    assert response.json()["number"] == "PO-A-1001"


@pytest.mark.parametrize(
    "role", [Role.BUYER_VIEWER, Role.COORDINATOR, Role.QC_LEAD, Role.INSPECTOR, Role.SUPPLIER_USER]
)
def test_every_party_to_the_po_reads_it(world, role):
    response = client_for(world.user(role)).get(f"{PO_URL}/{world.po.pk}")

    assert response.status_code == 200


def test_an_inspector_sees_only_their_own_milestones_of_a_po(world):
    response = client_for(world.inspector).get(f"{PO_URL}/{world.po.pk}")

    assert [m["kind"] for m in response.json()["milestones"]] == ["DUPRO"]


def test_an_outsider_sees_nothing_of_another_tenant(world, other_world):
    client = client_for(manager(other_world))

    page = client.get(PO_URL).json()
    assert [po["number"] for po in page["items"]] == ["PO-B-1001"]
    assert client.get(f"{PO_URL}/{world.po.pk}").status_code == 404
    assert client.get(f"{PO_URL}/{world.po.pk}").json() == {"detail": "Not Found"}
    assert client.get(f"{PO_URL}?q=PO-A").json()["count"] == 0
    assert client.get(f"{PO_URL}?supplier={world.supplier.pk}").json()["count"] == 0


def test_an_outsider_cannot_patch_a_po(world, other_world):
    response = client_for(manager(other_world)).patch(
        f"{PO_URL}/{world.po.pk}", {"notes": "mine now"}, content_type="application/json"
    )

    assert response.status_code == 404
    world.po.refresh_from_db()
    assert world.po.notes == ""


def test_an_unknown_po_is_404(world):
    client = client_for(manager(world))

    assert client.get(f"{PO_URL}/999999").status_code == 404
    assert client.get(f"{PO_URL}/not-a-number").status_code == 404


def test_po_list_is_paginated(world):
    for n in range(2, 6):
        make_po(world, f"PO-A-100{n}")
    client = client_for(manager(world))

    first = client.get(f"{PO_URL}?limit=2").json()
    second = client.get(f"{PO_URL}?limit=2&offset=2").json()
    last = client.get(f"{PO_URL}?limit=2&offset=4").json()

    assert first["count"] == second["count"] == last["count"] == 5
    numbers = [po["number"] for page in (first, second, last) for po in page["items"]]
    assert len(numbers) == len(set(numbers)) == 5
    assert len(last["items"]) == 1


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "offset=-1", "limit=many"])
def test_bad_pagination_is_422(world, query):
    response = client_for(manager(world)).get(f"{PO_URL}?{query}")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


@pytest.fixture
def two_buyers(world):
    """World's agency also serves a second buyer, with its own supplier, factory, SKU and PO,
    all entered by the agency's coordinator."""
    coordinator = world.user(Role.COORDINATOR)
    buyer = create_organisation(name="Second Buyer GmbH", kind=OrganisationKind.BUYER, country="DE")
    engage_agency(agency=world.agency, buyer=buyer)
    supplier = save_supplier(
        by=coordinator,
        supplier=Supplier(buyer=buyer, code="V-77", name="Ningbo Homeware", country="CN"),
    )
    factory = save_factory(
        by=coordinator,
        factory=Factory(supplier=supplier, name="Yinzhou plant", address="8 Harbour Rd",
                        city="Ningbo", country="CN", latitude=Decimal("29.86"),
                        longitude=Decimal("121.54"), timezone="Asia/Shanghai"),
    )  # fmt: skip
    product = save_product(
        by=coordinator,
        product=Product(buyer=buyer, sku="MUG-12", name="Stoneware mug", category="food_contact"),
    )
    po = create_purchase_order(
        by=coordinator,
        draft=PODraft(
            number="DE-77-1", buyer=buyer, agency=world.agency, supplier=supplier,
            factory=factory, currency="EUR", fob_value=Decimal("9000"), carton_count=100,
            ex_factory_date=date.today() + timedelta(days=90),
            ship_date=date.today() + timedelta(days=95), destination_market="EU",
            lines=[LineDraft(product, 1200)],
        ),
    )  # fmt: skip
    return buyer, po


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"PO-A-1001", "DE-77-1"}),
        ("buyer={buyer}", {"DE-77-1"}),
        ("supplier={supplier}", {"PO-A-1001"}),
        ("destination_market=EU", {"DE-77-1"}),
        ("destination_market=US", {"PO-A-1001"}),
        ("qc_lead={qc_lead}", {"PO-A-1001"}),
        ("status=open", {"PO-A-1001", "DE-77-1"}),
        ("status=shipped", set()),
        ("ex_factory_from={in_70_days}", {"DE-77-1"}),
        ("ex_factory_to={in_70_days}", {"PO-A-1001"}),
        ("ex_factory_from={today}&ex_factory_to={in_70_days}", {"PO-A-1001"}),
        ("q=de-77", {"DE-77-1"}),  # PO number, any case
        ("q=ningbo", {"DE-77-1"}),  # supplier name
        ("q=sku-a", {"PO-A-1001"}),  # a line's SKU
        ("q=nothing-like-this", set()),
        ("supplier={supplier}&destination_market=EU", set()),
    ],
)
def test_po_list_filters(world, two_buyers, query, expected):
    buyer, _ = two_buyers
    query = query.format(
        buyer=buyer.pk,
        supplier=world.supplier.pk,
        qc_lead=world.qc_lead.pk,
        today=date.today().isoformat(),
        in_70_days=(date.today() + timedelta(days=70)).isoformat(),
    )

    page = client_for(world.user(Role.COORDINATOR)).get(f"{PO_URL}?{query}").json()

    assert {po["number"] for po in page["items"]} == expected
    assert page["count"] == len(expected)


def test_po_status_filter_finds_a_shipped_po(world):
    update_purchase_order(by=manager(world), po=world.po, changes={"status": POStatus.SHIPPED})

    page = client_for(manager(world)).get(f"{PO_URL}?status=shipped").json()

    assert [po["number"] for po in page["items"]] == ["PO-A-1001"]


def test_an_unknown_status_filter_is_422(world):
    response = client_for(manager(world)).get(f"{PO_URL}?status=lost")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "status"]


# --- purchase orders: creating -------------------------------------------------------------


def test_a_buyer_manager_enters_a_po(world):
    response = client_for(manager(world)).post(
        PO_URL, po_payload(world), content_type="application/json"
    )

    assert response.status_code == 201, response.content
    po = response.json()
    assert po["buyer"] == world.buyer.pk  # the caller's own buyer, by default
    assert (po["currency"], po["fob_value"]) == ("EUR", "12500.50")
    assert (po["quantity"], po["unit"]) == (800, "pcs")
    assert po["lines"] == [
        {"product": world.product.pk, "sku": "SKU-A-1", "variant": "black", "quantity": 800}
    ]
    assert [m["kind"] for m in po["milestones"]] == ["IPC", "DUPRO", "PSI", "CLI"]
    saved = PurchaseOrder.objects.get(pk=po["id"])
    assert saved.created_by == manager(world)
    assert saved.fob_value == Decimal("12500.50")


def test_a_po_can_plan_only_some_milestones(world):
    response = client_for(manager(world)).post(
        PO_URL, po_payload(world, milestones=["PSI", "CLI"]), content_type="application/json"
    )

    assert response.status_code == 201
    assert [m["kind"] for m in response.json()["milestones"]] == ["PSI", "CLI"]


def test_a_coordinator_enters_a_po_for_a_buyer_they_serve(world):
    payload = po_payload(world, buyer=world.buyer.pk)
    del payload["agency"]

    response = client_for(world.user(Role.COORDINATOR)).post(
        PO_URL, payload, content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["agency"] == world.agency.pk  # the caller's own agency, by default


def test_the_same_po_number_for_another_buyer_is_fine(world, other_world):
    payload = po_payload(
        other_world,
        number="PO-A-1001",  # world's PO number
        agency=other_world.agency.pk,
        qc_lead=other_world.qc_lead.pk,
        lines=[{"product": other_world.product.pk, "quantity": 10}],
        carton_count=1,
    )

    response = client_for(manager(other_world)).post(
        PO_URL, payload, content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert PurchaseOrder.objects.filter(number="PO-A-1001").count() == 2


@pytest.fixture
def po_count(db):
    """Asserts after the test that it left the number of POs and lines as it found them."""
    before = PurchaseOrder.objects.count(), POLine.objects.count()
    yield
    assert (PurchaseOrder.objects.count(), POLine.objects.count()) == before


@pytest.mark.parametrize(
    ("changes", "path", "contains"),
    [
        ({"number": "PO-A-1001"}, ("number",), "already exists"),
        ({"number": "  "}, ("number",), "Enter the PO number"),
        ({"lines": [{"product": 0, "quantity": 5}]}, ("lines", 0, "product"), "No product 0"),
        ({"lines": []}, ("lines",), "at least one line"),
        ({"currency": "XYZ"}, ("currency",), "Unknown currency 'XYZ'"),
        ({"fob_value": "-1.00"}, ("fob_value",), "cannot be negative"),
        ({"fob_value": "10.005"}, ("fob_value",), "two decimal places"),
        ({"fob_value": "lots"}, ("fob_value",), ""),
        ({"ship_date": date.today().isoformat()}, ("ship_date",), "before the ex-factory"),
        ({"destination_market": "XX"}, ("destination_market",), "Unknown market"),
        ({"carton_count": 0}, ("carton_count",), "at least 1"),
        ({"unit": "barrels"}, ("unit",), ""),
        ({"milestones": ["FRI"]}, ("milestones", 0), ""),
        ({"factory": None}, ("factory",), ""),
        ({"colour": "red"}, ("colour",), "Extra inputs are not permitted"),
    ],
)
def test_bad_po_input_is_422_naming_the_field(world, po_count, changes, path, contains):
    response = client_for(manager(world)).post(
        PO_URL, po_payload(world, **changes), content_type="application/json"
    )

    assert_field_error(response, *path, contains=contains)


@pytest.mark.parametrize("quantity", [0, -5])
def test_a_line_quantity_must_be_positive(world, po_count, quantity):
    lines = [
        {"product": world.product.pk, "quantity": 100, "variant": "white"},
        {"product": world.product.pk, "quantity": quantity, "variant": "black"},
    ]

    response = client_for(manager(world)).post(
        PO_URL, po_payload(world, lines=lines), content_type="application/json"
    )

    assert_field_error(response, "lines", 1, "quantity", contains=f"not {quantity}")


def test_a_missing_field_is_422_naming_it(world, po_count):
    payload = po_payload(world)
    del payload["currency"]

    response = client_for(manager(world)).post(PO_URL, payload, content_type="application/json")

    assert field_errors(response) == {("body", "payload", "currency"): "Field required"}


def test_every_service_error_is_reported_at_once(world, po_count):
    payload = po_payload(world, currency="XYZ", fob_value="-3", number="PO-A-1001")

    response = client_for(manager(world)).post(PO_URL, payload, content_type="application/json")

    locs = set(field_errors(response))
    assert {("body", "payload", f) for f in ("currency", "fob_value", "number")} <= locs


@pytest.mark.parametrize(
    ("field", "model_key"),
    [("supplier", "supplier"), ("factory", "factory"), ("qc_lead", "user"), ("agency", None)],
)
def test_another_tenants_ids_are_422_on_their_field(world, other_world, po_count, field, model_key):
    foreign = {
        "supplier": other_world.supplier.pk,
        "factory": other_world.factory.pk,
        "qc_lead": other_world.qc_lead.pk,
        "agency": other_world.agency.pk,
    }[field]

    response = client_for(manager(world)).post(
        PO_URL, po_payload(world, **{field: foreign}), content_type="application/json"
    )

    message = assert_field_error(response, field, contains=f" {foreign} that you can use")
    assert "B" not in message  # nothing of the other tenant's names


def test_another_tenants_product_is_422_on_its_line(world, other_world, po_count):
    lines = [{"product": other_world.product.pk, "quantity": 10}]

    response = client_for(manager(world)).post(
        PO_URL, po_payload(world, lines=lines), content_type="application/json"
    )

    assert_field_error(
        response, "lines", 0, "product", contains=f"No product {other_world.product.pk} that"
    )


def test_an_unknown_id_reads_the_same_as_a_foreign_one(world, po_count):
    response = client_for(manager(world)).post(
        PO_URL, po_payload(world, supplier=999999), content_type="application/json"
    )

    assert_field_error(response, "supplier", contains="No supplier 999999 that you can use.")


@pytest.mark.parametrize("role", [Role.BUYER_VIEWER, Role.SUPPLIER_USER, Role.INSPECTOR])
def test_roles_that_cannot_enter_pos_get_403(world, po_count, role):
    payload = po_payload(world, buyer=world.buyer.pk)

    response = client_for(world.user(role)).post(PO_URL, payload, content_type="application/json")

    assert response.status_code == 403
    assert response.json() == {"detail": "You cannot enter POs for this buyer."}


# --- purchase orders: changing -------------------------------------------------------------


def patch_po(client, po, payload):
    return client.patch(f"{PO_URL}/{po.pk}", payload, content_type="application/json")


def test_patch_changes_only_what_is_sent(world):
    response = patch_po(
        client_for(manager(world)), world.po, {"fob_value": "50000", "notes": "Rush order"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["fob_value"], body["notes"]) == ("50000.00", "Rush order")
    assert body["currency"] == "USD" and body["quantity"] == 3000
    world.po.refresh_from_db()
    assert world.po.fob_value == Decimal("50000") and world.po.carton_count == 250


def test_patch_lines_replace_all_lines(world):
    lines = [
        {"product": world.product.pk, "quantity": 1000, "variant": "white"},
        {"product": world.product.pk, "quantity": 1500, "variant": "black"},
    ]

    response = patch_po(client_for(world.qc_lead), world.po, {"lines": lines})

    assert response.status_code == 200, response.content
    assert response.json()["quantity"] == 2500
    assert [(line.variant, line.quantity) for line in world.po.lines.all()] == [
        ("white", 1000),
        ("black", 1500),
    ]


def test_patch_can_clear_the_qc_lead_and_change_status(world):
    response = patch_po(
        client_for(world.user(Role.COORDINATOR)), world.po, {"qc_lead": None, "status": "shipped"}
    )

    assert response.status_code == 200, response.content
    assert (response.json()["qc_lead"], response.json()["status"]) == (None, "shipped")


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"lines": [{"product": 1, "quantity": 0}]}, ("lines", 0, "quantity")),
        ({"ship_date": "2000-01-01"}, ("ship_date",)),
        ({"currency": "XYZ"}, ("currency",)),
        ({"fob_value": "-0.01"}, ("fob_value",)),
        ({"buyer": 1}, ("buyer",)),
        ({"notes": None}, ("notes",)),
        ({"lines": None}, ("lines",)),
    ],
)
def test_a_bad_patch_is_422_and_changes_nothing(world, payload, path):
    if payload.get("lines"):
        payload = {"lines": [{**payload["lines"][0], "product": world.product.pk}]}
    before = PurchaseOrder.objects.filter(pk=world.po.pk).values().get()

    response = patch_po(client_for(manager(world)), world.po, payload)

    assert_field_error(response, *path)
    assert PurchaseOrder.objects.filter(pk=world.po.pk).values().get() == before
    assert [line.quantity for line in world.po.lines.all()] == [3000]


def test_patch_to_a_number_the_buyer_already_uses_is_422(world):
    make_po(world, "PO-A-1002")

    response = patch_po(client_for(manager(world)), world.po, {"number": "PO-A-1002"})

    assert_field_error(response, "number", contains="already exists")
    world.po.refresh_from_db()
    assert world.po.number == "PO-A-1001"


def test_patch_with_another_tenants_factory_is_422(world, other_world):
    response = patch_po(client_for(manager(world)), world.po, {"factory": other_world.factory.pk})

    assert_field_error(response, "factory", contains="that you can use")
    world.po.refresh_from_db()
    assert world.po.factory == world.factory


@pytest.mark.parametrize(
    ("role", "message"),
    [
        (
            Role.SUPPLIER_USER,
            "Supplier users cannot edit purchase orders; ask the buyer or the QC lead.",
        ),
        (Role.BUYER_VIEWER, "Buyer viewers can read purchase orders but not edit them."),
        (Role.INSPECTOR, "Inspectors cannot edit purchase orders; ask the PO's QC lead."),
    ],
)
def test_who_can_see_but_not_edit_a_po_gets_403_with_the_reason(world, role, message):
    response = patch_po(client_for(world.user(role)), world.po, {"notes": "ship it early"})

    assert response.status_code == 403
    assert response.json() == {"detail": message}
    world.po.refresh_from_db()
    assert world.po.notes == ""


# --- suppliers -----------------------------------------------------------------------------


def test_supplier_list_detail_and_scope(world, other_world):
    client = client_for(manager(world))

    page = client.get("/api/suppliers").json()
    assert page["count"] == 1
    [supplier] = page["items"]
    assert supplier == {
        "id": world.supplier.pk,
        "buyer": world.buyer.pk,
        "buyer_name": "Buyer A Ltd",
        "organisation": world.supplier_org.pk,
        "code": "V-A01",
        "name": "Supplier A Co",
        "country": "CN",
        "contact_name": "",
        "contact_email": "",
        "contact_phone": "",
        "created_at": supplier["created_at"],
    }
    assert client.get(f"/api/suppliers/{world.supplier.pk}").json()["code"] == "V-A01"
    assert client.get(f"/api/suppliers/{other_world.supplier.pk}").status_code == 404


def test_supplier_list_filters(world, two_buyers):
    client = client_for(world.user(Role.COORDINATOR))
    buyer, _ = two_buyers

    def codes(query):
        return {s["code"] for s in client.get(f"/api/suppliers?{query}").json()["items"]}

    assert codes("") == {"V-A01", "V-77"}
    assert codes(f"buyer={buyer.pk}") == {"V-77"}
    assert codes("q=ningbo") == {"V-77"}
    assert codes("q=v-a0") == {"V-A01"}


def test_a_buyer_manager_registers_a_supplier(world):
    payload = {"code": "V-A02", "name": "Foshan Ceramics", "country": "CN"}

    response = client_for(manager(world)).post(
        "/api/suppliers", payload, content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["buyer"] == world.buyer.pk
    assert Supplier.objects.get(pk=response.json()["id"]).name == "Foshan Ceramics"


@pytest.mark.parametrize(
    ("payload", "path", "contains"),
    [
        ({"code": "V-A01", "name": "Dup", "country": "CN"}, ("code",), "already used"),
        ({"code": "V-9", "name": "X", "country": "ZZ"}, ("country",), "Unknown country"),
        ({"code": "V-9", "name": "X", "country": "CN", "contact_email": "nope"},
         ("contact_email",), ""),
        ({"code": "V-9", "name": "X"}, ("country",), "Field required"),
    ],
)  # fmt: skip
def test_bad_supplier_input_is_422(world, payload, path, contains):
    response = client_for(manager(world)).post(
        "/api/suppliers", payload, content_type="application/json"
    )

    assert_field_error(response, *path, contains=contains)
    assert Supplier.objects.filter(buyer=world.buyer).count() == 1


def test_an_agency_names_the_buyer_of_a_new_supplier(world, other_world):
    client = client_for(world.user(Role.COORDINATOR))
    payload = {"code": "V-9", "name": "Dongguan Toys", "country": "CN"}

    missing = client.post("/api/suppliers", payload, content_type="application/json")
    foreign = post(client, "/api/suppliers", {**payload, "buyer": other_world.buyer.pk})
    ok = post(client, "/api/suppliers", {**payload, "buyer": world.buyer.pk})

    assert_field_error(missing, "buyer", contains="Choose the buyer")
    assert_field_error(foreign, "buyer", contains="that you can use")
    assert ok.status_code == 201


def test_a_supplier_cannot_link_another_tenants_organisation(world, other_world):
    payload = {"code": "V-9", "name": "X", "country": "CN", "organisation": other_world.buyer.pk}

    response = client_for(manager(world)).post(
        "/api/suppliers", payload, content_type="application/json"
    )

    assert_field_error(response, "organisation", contains="No organisation")


def test_patch_a_supplier(world):
    response = client_for(manager(world)).patch(
        f"/api/suppliers/{world.supplier.pk}",
        {"contact_name": "Ms Li", "contact_email": "li@example.cn"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    world.supplier.refresh_from_db()
    assert (world.supplier.contact_name, world.supplier.code) == ("Ms Li", "V-A01")


def test_patch_a_supplier_permission_and_scope(world, other_world):
    url = f"/api/suppliers/{world.supplier.pk}"
    change = {"name": "Renamed"}

    as_supplier = client_for(world.user(Role.SUPPLIER_USER)).patch(
        url, change, content_type="application/json"
    )
    as_outsider = client_for(manager(other_world)).patch(
        url, change, content_type="application/json"
    )
    moving = client_for(manager(world)).patch(
        url, {"buyer": other_world.buyer.pk}, content_type="application/json"
    )

    assert as_supplier.status_code == 403
    assert as_supplier.json() == {"detail": "You cannot register or edit suppliers for this buyer."}
    assert as_outsider.status_code == 404
    assert_field_error(moving, "buyer", contains="Extra inputs")
    world.supplier.refresh_from_db()
    assert (world.supplier.name, world.supplier.buyer) == ("Supplier A Co", world.buyer)


# --- factories -----------------------------------------------------------------------------


def factory_payload(of, **changes):
    return {
        "supplier": of.pk,
        "name": "Plant 2",
        "address": "9 Export Ave",
        "city": "Foshan",
        "country": "CN",
        "latitude": "23.02",
        "longitude": "113.12",
        "timezone": "Asia/Shanghai",
        **changes,
    }


def test_factory_list_detail_and_filter(world, other_world):
    client = client_for(manager(world))
    other_supplier = save_supplier(
        by=manager(world),
        supplier=Supplier(buyer=world.buyer, code="V-A02", name="Second", country="VN"),
    )
    save_factory(
        by=manager(world),
        factory=Factory(**{**factory_payload(other_supplier), "supplier": other_supplier}),
    )

    everything = client.get("/api/factories").json()
    filtered = client.get(f"/api/factories?supplier={world.supplier.pk}").json()
    detail = client.get(f"/api/factories/{world.factory.pk}").json()

    assert everything["count"] == 2
    assert [f["name"] for f in filtered["items"]] == ["Plant A"]
    assert (detail["supplier"], detail["supplier_name"]) == (world.supplier.pk, "Supplier A Co")
    assert Decimal(detail["latitude"]) == Decimal("22.611")
    assert client.get(f"/api/factories/{other_world.factory.pk}").status_code == 404
    assert client.get(f"/api/factories?supplier={other_world.supplier.pk}").json()["count"] == 0


def test_a_buyer_manager_adds_a_factory(world):
    response = client_for(manager(world)).post(
        "/api/factories", factory_payload(world.supplier), content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert world.supplier.factories.count() == 2


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"latitude": "95"}, ("latitude",)),
        ({"timezone": "Mars/Olympus"}, ("timezone",)),
        ({"country": "XX"}, ("country",)),
        ({"supplier": 999999}, ("supplier",)),
    ],
)
def test_bad_factory_input_is_422(world, changes, path):
    payload = factory_payload(world.supplier, **changes)

    response = post(client_for(manager(world)), "/api/factories", payload)

    assert_field_error(response, *path)
    assert Factory.objects.count() == 1


def test_a_factory_cannot_be_added_to_another_tenants_supplier(world, other_world):
    response = client_for(manager(world)).post(
        "/api/factories", factory_payload(other_world.supplier), content_type="application/json"
    )

    assert_field_error(
        response, "supplier", contains=f"No supplier {other_world.supplier.pk} that you can use"
    )
    assert other_world.supplier.factories.count() == 1


def test_patch_a_factory(world, other_world):
    url = f"/api/factories/{world.factory.pk}"

    ok = client_for(world.user(Role.COORDINATOR)).patch(
        url, {"cluster": "Foshan furniture"}, content_type="application/json"
    )
    as_supplier = client_for(world.user(Role.SUPPLIER_USER)).patch(
        url, {"cluster": "x"}, content_type="application/json"
    )
    as_outsider = client_for(manager(other_world)).patch(
        url, {"cluster": "x"}, content_type="application/json"
    )

    assert ok.status_code == 200 and ok.json()["cluster"] == "Foshan furniture"
    assert as_supplier.status_code == 403
    assert as_supplier.json()["detail"] == "You cannot edit this supplier's factories."
    assert as_outsider.status_code == 404
    world.factory.refresh_from_db()
    assert world.factory.cluster == "Foshan furniture"


# --- products ------------------------------------------------------------------------------


def test_product_list_detail_and_filters(world, other_world, two_buyers):
    client = client_for(world.user(Role.COORDINATOR))
    buyer, _ = two_buyers

    def skus(query):
        return {p["sku"] for p in client.get(f"/api/products?{query}").json()["items"]}

    assert skus("") == {"SKU-A-1", "MUG-12"}
    assert skus("category=lighting") == {"SKU-A-1"}
    assert skus("category=toys") == set()
    assert skus(f"buyer={buyer.pk}") == {"MUG-12"}
    assert skus("q=stoneware") == {"MUG-12"}
    assert skus("q=sku-a") == {"SKU-A-1"}
    assert skus(f"buyer={other_world.buyer.pk}") == set()
    detail = client.get(f"/api/products/{world.product.pk}").json()
    assert detail["compliance_regimes"] == ["UL", "FCC"] and detail["target_markets"] == ["US"]
    assert client.get(f"/api/products/{other_world.product.pk}").status_code == 404
    assert client.get("/api/products?category=spaceships").status_code == 422


def test_a_buyer_manager_adds_a_product(world):
    payload = {
        "sku": "SKU-A-2",
        "name": "Floor lamp",
        "category": "lighting",
        "target_markets": ["US", "EU"],
        "compliance_regimes": ["UL"],
    }

    response = client_for(manager(world)).post(
        "/api/products", payload, content_type="application/json"
    )

    assert response.status_code == 201, response.content
    assert Product.objects.get(pk=response.json()["id"]).target_markets == ["US", "EU"]


@pytest.mark.parametrize(
    ("changes", "path", "contains"),
    [
        ({"sku": "SKU-A-1"}, ("sku",), "already exists"),
        ({"target_markets": ["US", "MOON"]}, ("target_markets",), "Unknown target markets"),
        ({"compliance_regimes": ["ISO-WHATEVER"]}, ("compliance_regimes",), "Unknown"),
        ({"category": "spaceships"}, ("category",), ""),
    ],
)
def test_bad_product_input_is_422(world, changes, path, contains):
    payload = {"sku": "SKU-A-2", "name": "Floor lamp", "category": "lighting", **changes}

    response = client_for(manager(world)).post(
        "/api/products", payload, content_type="application/json"
    )

    assert_field_error(response, *path, contains=contains)
    assert Product.objects.filter(buyer=world.buyer).count() == 1


def test_patch_a_product(world, other_world):
    url = f"/api/products/{world.product.pk}"

    ok = client_for(manager(world)).patch(
        url, {"name": "Desk lamp, brass"}, content_type="application/json"
    )
    as_viewer = client_for(world.user(Role.BUYER_VIEWER)).patch(
        url, {"name": "x"}, content_type="application/json"
    )
    as_outsider = client_for(manager(other_world)).patch(
        url, {"name": "x"}, content_type="application/json"
    )

    assert ok.status_code == 200 and ok.json()["name"] == "Desk lamp, brass"
    assert as_viewer.status_code == 403
    assert as_outsider.status_code == 404
    world.product.refresh_from_db()
    assert world.product.name == "Desk lamp, brass"
