"""Importing POs from a spreadsheet and exporting them back, through the real services and
pages: lookups within the buyer, the PO form's rules on every row, all or nothing, skipping
invalid rows, tenancy, the upload kept between the steps, and the export's round trip."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from qcloop.accounts.models import Role
from qcloop.inspections.models import Milestone
from qcloop.orders import import_services, importing
from qcloop.orders.import_services import ImportRefused
from qcloop.orders.importing import Options
from qcloop.orders.models import Product, PurchaseOrder
from qcloop.orders.services import save_product

pytestmark = pytest.mark.django_db

HEADERS = ["PO #", "Vendor", "Item", "Colour", "Qty", "Ex-Fty", "ETD", "FOB", "Currency", "Ctns",
           "Destination", "Milestones"]  # fmt: skip


def book(rows, headers=HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text a buyer typed, not a formula openpyxl would write
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def row(
    number="PO-N1",
    vendor="V-A01",
    sku="SKU-A-1",
    colour="",
    qty=100,
    exf="14/03/2030",
    etd="20/03/2030",
    fob="1,200.50",
    currency="USD",
    cartons=10,
    dest="US",
    ms="",
):
    return [number, vendor, sku, colour, qty, exf, etd, fob, currency, cartons, dest, ms]


@pytest.fixture
def second_sku(world):
    return save_product(
        by=world.user(Role.BUYER_MANAGER),
        product=Product(buyer=world.buyer, sku="SKU-A-2", name="Floor lamp", category="lighting"),
    )


def plan_of(world, data: bytes, user=None, **options):
    table = importing.read_table(data, "file.xlsx")
    return import_services.validate(
        user=user or world.user(Role.BUYER_MANAGER),
        buyer=world.buyer,
        table=table,
        mapping=importing.guess_mapping(table.headers),
        options=Options(**options),
    )


def messages_of(plan) -> list[str]:
    return [str(issue) for issue in plan.issues]


# --- the service ---------------------------------------------------------------------------


def test_a_valid_file_becomes_pos_with_their_lines_and_milestones(world, second_sku):
    manager = world.user(Role.BUYER_MANAGER)
    data = book(
        [
            row(colour="Black", qty=100, dest="USA"),
            row(number=None, vendor=None, sku="SKU-A-2", qty="250", exf=None, etd=None, dest=None),
            row(number="PO-N2", fob=950, cartons=3, qty=30, ms="PSI"),
        ]
    )
    plan = plan_of(world, data)
    assert messages_of(plan) == [] and len(plan.valid) == 2
    result = import_services.import_plan(by=manager, plan=plan)
    first = PurchaseOrder.objects.get(buyer=world.buyer, number="PO-N1")
    assert [(li.product.sku, li.variant, li.quantity) for li in first.lines.all()] == [
        ("SKU-A-1", "Black", 100),
        ("SKU-A-2", "", 250),
    ]
    # 100 + 250 units; "1,200.50" read with a decimal point; USA is the market US.
    assert first.quantity == 350 and first.fob_value == Decimal("1200.50")
    assert first.destination_market == "US" and first.currency == "USD"
    assert first.ex_factory_date == date(2030, 3, 14) and first.ship_date == date(2030, 3, 20)
    assert first.factory == world.factory  # the supplier's only factory
    assert first.created_by == manager and first.agency is None  # a buyer names no agency
    # Planned as the PO form plans them: all four without a Milestones value, else those named.
    assert sorted(first.milestones.values_list("kind", flat=True)) == ["CLI", "DUPRO", "IPC", "PSI"]
    second = PurchaseOrder.objects.get(buyer=world.buyer, number="PO-N2")
    assert list(second.milestones.values_list("kind", flat=True)) == ["PSI"]
    assert [po.number for po in result.created] == ["PO-N1", "PO-N2"]


def test_an_agency_coordinator_imports_for_the_buyer_it_serves_under_its_own_agency(world):
    plan = plan_of(world, book([row()]), user=world.user(Role.COORDINATOR))
    import_services.import_plan(by=world.user(Role.COORDINATOR), plan=plan)
    assert PurchaseOrder.objects.get(number="PO-N1").agency == world.agency


def test_every_row_is_checked_and_each_message_names_its_row_and_field(world):
    rows = [row(number=f"PO-OK{i}") for i in range(11)]  # rows 2-12 are fine
    rows += [
        row(number="PO-BAD1", exf="31/02/2030"),  # row 13
        row(number="PO-BAD2", exf="31/02/2026", etd="2026-01-01", qty="ten"),  # row 14
        row(number="PO-BAD3", exf="2030-03-20", etd="2030-03-14", cartons=500, qty=100),  # 15
        row(number="PO-BAD4", vendor="NOPE", currency="XYZ", dest="Atlantis"),  # row 16
        row(number="PO-BAD5", sku="SKU-NONE", fob="-5"),  # row 17
    ]
    plan = plan_of(world, book(rows))
    assert len(plan.valid) == 11 and len(plan.invalid) == 5
    assert messages_of(plan) == [
        "Row 13, Ex-factory date: '31/02/2030' is not a date",
        "Row 14, Quantity: 'ten' is not a number",
        "Row 14, Ex-factory date: '31/02/2026' is not a date",
        "Row 15, Ship date: The ship date (2030-03-14) cannot be before the ex-factory date "
        "(2030-03-20).",
        "Row 15, Cartons: 500 cartons for 100 units: a carton holds at least one.",
        "Row 16, Supplier: No supplier with the code or name 'NOPE' in this buyer's supply base",
        "Row 16, Currency: Unknown currency 'XYZ': use an ISO 4217 code such as USD, EUR or CNY.",
        "Row 16, Destination: Unknown market 'ATLANTIS': use EU or an ISO 3166 two-letter "
        "country code.",
        "Row 17, SKU: No product with the SKU 'SKU-NONE' in this buyer's catalogue",
        "Row 17, FOB value: The FOB value cannot be negative.",
    ]


def test_nothing_is_imported_unless_every_row_is_valid(world):
    plan = plan_of(world, book([row(number="PO-N1"), row(number="PO-N2", qty=0)]))
    before = PurchaseOrder.objects.count(), Milestone.objects.count()
    with pytest.raises(ImportRefused) as refused:
        import_services.import_plan(by=world.user(Role.BUYER_MANAGER), plan=plan)
    assert [str(i) for i in refused.value.issues] == [
        "Row 3, Quantity: The quantity must be at least 1, not 0."
    ]
    assert (PurchaseOrder.objects.count(), Milestone.objects.count()) == before


def test_skipping_invalid_rows_imports_the_rest_and_hands_the_rows_back(world, second_sku):
    data = book(
        [
            row(number="PO-N1"),
            row(number="PO-N2", exf="someday"),  # row 3
            row(number=None, vendor=None, sku="SKU-A-2", qty=5),  # row 4: with PO-N2
            row(number="PO-N3"),
        ]
    )
    plan = plan_of(world, data)
    result = import_services.import_plan(
        by=world.user(Role.BUYER_MANAGER), plan=plan, skip_invalid=True
    )
    assert [po.number for po in result.created] == ["PO-N1", "PO-N3"]
    assert plan.rejected_rows == [3, 4]
    sheet = load_workbook(io.BytesIO(result.rejected_xlsx)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-2:] == ("Source row", "Errors") and rows[0][:2] == ("PO #", "Vendor")
    assert [(r[0], r[-2]) for r in rows[1:]] == [("PO-N2", 3), (None, 4)]
    assert rows[1][-1].startswith("Ex-factory date: 'someday' is not a date")
    assert rows[2][-1] == "Skipped with PO PO-N2: see row 3."


def test_another_buyers_supplier_and_sku_read_as_unknown(world, other_world):
    # Buyer B's vendor code and SKU exist, but not in buyer A's records.
    data = book([row(vendor=other_world.supplier.code, sku=other_world.product.sku)])
    assert messages_of(plan_of(world, data)) == [
        "Row 2, Supplier: No supplier with the code or name 'V-B01' in this buyer's supply base",
        "Row 2, SKU: No product with the SKU 'SKU-B-1' in this buyer's catalogue",
    ]


def test_a_buyer_the_user_does_not_manage_is_refused(world, other_world):
    table = importing.read_table(book([row()]))
    with pytest.raises(import_services.PermissionDenied):
        import_services.validate(
            user=other_world.user(Role.BUYER_MANAGER),
            buyer=world.buyer,
            table=table,
            mapping=importing.guess_mapping(table.headers),
            options=Options(),
        )


def test_duplicate_po_numbers_in_the_file_and_in_qcloop(world):
    data = book([row(number=world.po.number), row(number="PO-N1"), row(number="X"), row()])
    assert messages_of(plan_of(world, data)) == [
        "Row 2, PO number: PO PO-A-1001 already exists for Buyer A Ltd.",
        "Row 5, PO number: PO PO-N1 is already in this file (row 3); put all of a PO's rows "
        "together, one row per line.",
    ]


def test_a_number_entered_meanwhile_undoes_the_whole_import(world):
    plan = plan_of(world, book([row(number="PO-N1"), row(number="PO-N2")]))
    PurchaseOrder.objects.filter(pk=world.po.pk).update(number="PO-N2")  # someone was faster
    with pytest.raises(ImportRefused) as refused:
        import_services.import_plan(by=world.user(Role.BUYER_MANAGER), plan=plan)
    assert "Row 3, PO number: PO PO-N2 already exists" in str(refused.value.issues[0])
    assert not PurchaseOrder.objects.filter(number="PO-N1").exists()


def test_suppliers_by_name_factories_by_name_and_leads_by_email(world):
    headers = [*HEADERS, "Factory", "QC agency", "QC lead"]
    lead = world.qc_lead
    data = book(
        [[*row(vendor=world.supplier.name.upper()), "plant a", world.agency.name, lead.email]],
        headers,
    )
    plan = plan_of(world, data)
    assert messages_of(plan) == []
    draft = plan.valid[0].draft
    assert (draft.supplier, draft.factory, draft.agency, draft.qc_lead) == (
        world.supplier,
        world.factory,
        world.agency,
        lead,
    )


def test_a_mapping_without_a_required_column_is_refused(world):
    table = importing.read_table(book([row()]))
    mapping = importing.guess_mapping(table.headers)
    del mapping["sku"]
    with pytest.raises(import_services.ValidationError) as error:
        import_services.validate(
            user=world.user(Role.BUYER_MANAGER),
            buyer=world.buyer,
            table=table,
            mapping=mapping,
            options=Options(),
        )
    assert error.value.messages == ["Choose the column that holds the SKU (it is required)."]


# --- export and the round trip -------------------------------------------------------------


def test_an_export_imports_back_as_it_was(client, world, second_sku):
    manager = world.user(Role.BUYER_MANAGER)
    party = [world.agency.name, world.qc_lead.email]
    data = book(
        [
            [*row(number="PO-R1", colour="=Red", ms="DUPRO, PSI"), *party],
            row(number=None, vendor=None, sku="SKU-A-2", qty=20),
            row(number="PO-R2", fob="48.250,00", qty=3000, cartons=250, dest="DE", ms="all"),
        ],
        [*HEADERS, "QC agency", "QC lead"],
    )
    import_services.import_plan(by=manager, plan=plan_of(world, data))
    client.force_login(manager)
    response = client.get(reverse("orders:po_export") + "?q=PO-R")
    assert response["Content-Type"] == import_services.XLSX
    exported = response.content
    sheet = load_workbook(io.BytesIO(exported)).active
    assert [c.value for c in sheet[1]] == importing.EXPORT_HEADERS
    assert sheet.max_row == 4  # PO-R1 has two lines, PO-R2 one; the PO-A-1001 is filtered out
    assert sheet.cell(2, importing.EXPORT_HEADERS.index("Variant") + 1).value == "'=Red"

    def snapshot():
        return [
            (
                po.number,
                po.supplier_id,
                po.factory_id,
                po.currency,
                po.fob_value,
                po.carton_count,
                po.ex_factory_date,
                po.ship_date,
                po.destination_market,
                po.agency_id,
                po.qc_lead_id,
                po.status,
                sorted(po.milestones.values_list("kind", flat=True)),
                [(li.product_id, li.variant, li.quantity) for li in po.lines.all()],
            )
            for po in PurchaseOrder.objects.filter(number__startswith="PO-R").order_by("number")
        ]

    before = snapshot()
    PurchaseOrder.objects.filter(number__startswith="PO-R").delete()
    plan = plan_of(world, exported)
    assert messages_of(plan) == []
    import_services.import_plan(by=manager, plan=plan)
    assert snapshot() == before
    assert before[0][-1][0][1] == "=Red"  # neutralised on the way out, restored on the way in
    assert before[0][-4] == world.qc_lead.pk and before[1][-4] is None


def test_the_export_shows_only_what_the_user_may_see(client, world, other_world):
    client.force_login(other_world.user(Role.BUYER_MANAGER))
    sheet = load_workbook(io.BytesIO(client.get(reverse("orders:po_export")).content)).active
    numbers = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [other_world.po.number]


# --- the pages -----------------------------------------------------------------------------


def upload(client, data: bytes, name="orders.xlsx"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("orders:po_import"), {"file": file})


def token_of(response) -> str:
    return re.search(r"/pos/import/([\w-]+)/", response["Location"])[1]


def mapping_post(table_headers, **extra) -> dict:
    mapping = importing.guess_mapping(table_headers)
    return {f"map_{k}": str(v) for k, v in mapping.items()} | {"day_first": "1", **extra}


def test_upload_mapping_preview_and_import(client, world):
    client.force_login(world.user(Role.BUYER_MANAGER))
    response = upload(client, book([row(), row(number="PO-N2", exf="31/02/2030")]))
    assert response.status_code == 302
    token = token_of(response)
    page = client.get(reverse("orders:po_import_mapping", args=[token])).content.decode()
    assert 'name="map_number"' in page and "A · PO #" in page
    assert re.search(r'<option value="0" selected>A · PO #</option>', page)
    post = mapping_post(HEADERS)
    preview = client.post(reverse("orders:po_import_preview", args=[token]), post)
    text = preview.content.decode()
    assert "Row 3, Ex-factory date: &#x27;31/02/2030&#x27; is not a date" in text
    assert "Nothing is imported while a row has a problem" in text
    refused = client.post(reverse("orders:po_import_confirm", args=[token]), post)
    assert "Nothing was imported" in refused.content.decode()
    assert not PurchaseOrder.objects.filter(number="PO-N1").exists()
    done = client.post(
        reverse("orders:po_import_confirm", args=[token]), post | {"skip_invalid": "1"}
    )
    assert "1 PO imported" in done.content.decode()
    assert PurchaseOrder.objects.filter(number="PO-N1").exists()
    rejected = client.get(reverse("orders:po_import_rejected", args=[token]))
    rows = list(load_workbook(io.BytesIO(rejected.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == "PO-N2"
    # The upload itself is gone after the import: the mapping step answers 404.
    assert client.get(reverse("orders:po_import_mapping", args=[token])).status_code == 404


def test_a_european_csv_imports_through_the_pages(client, world):
    # Semicolons, Windows-1252, d/m/Y and a decimal comma: 12.345,50 is 12345.50.
    text = "PO Nr;Lieferant;Artikel;Menge;Ex-Fty;ETD;FOB;Währung;Kartons;Destination\r\n"
    text += "PO-EU1;V-A01;SKU-A-1;1.200;05/04/2030;12/04/2030;12.345,50;EUR;50;Germany\r\n"
    client.force_login(world.user(Role.BUYER_MANAGER))
    token = token_of(upload(client, text.encode("cp1252"), "bestellungen.csv"))
    table = import_services.open_upload(user=world.user(Role.BUYER_MANAGER), token=token).table()
    # German titles the guess does not know are mapped by hand, as a user would on the page.
    post = {"map_number": "0", "map_supplier": "1", "map_sku": "2", "map_quantity": "3",
            "map_ex_factory_date": "4", "map_ship_date": "5", "map_fob_value": "6",
            "map_currency": "7", "map_carton_count": "8", "map_destination_market": "9",
            "day_first": "1", "decimal_comma": "1"}  # fmt: skip
    assert table.headers[7] == "Währung"
    done = client.post(reverse("orders:po_import_confirm", args=[token]), post)
    assert "1 PO imported" in done.content.decode()
    po = PurchaseOrder.objects.get(number="PO-EU1")
    assert (po.fob_value, po.currency, po.destination_market) == (Decimal("12345.50"), "EUR", "DE")
    assert po.quantity == 1200 and po.ex_factory_date == date(2030, 4, 5)


def test_a_file_that_is_not_a_spreadsheet_is_refused_at_upload(client, world):
    client.force_login(world.user(Role.BUYER_MANAGER))
    response = upload(client, b"%PDF-1.7\n\x00\x00binary", "scan.pdf")
    assert response.status_code == 200
    assert "This is not a spreadsheet" in response.content.decode()


def test_a_missing_required_column_comes_back_to_the_mapping(client, world):
    client.force_login(world.user(Role.BUYER_MANAGER))
    token = token_of(upload(client, book([row()])))
    post = mapping_post(HEADERS)
    del post["map_quantity"]
    page = client.post(reverse("orders:po_import_preview", args=[token]), post)
    assert "Choose the column that holds the Quantity (it is required)." in page.content.decode()


def test_back_from_the_preview_the_mapping_keeps_the_choices_made(client, world):
    client.force_login(world.user(Role.BUYER_MANAGER))
    token = token_of(upload(client, book([row()])))
    post = mapping_post(HEADERS, day_first="0") | {"map_variant": "", "map_notes": "3"}
    page = client.post(reverse("orders:po_import_mapping", args=[token]), post).content.decode()

    def select(key):
        return re.search(rf'<select id="map_{key}".*?</select>', page, re.DOTALL)[0]

    assert '<option value="3" selected>' in select("notes")
    assert "selected" not in select("variant")  # unmapped, though "Colour" is guessed
    assert '<option value="0" selected>month first' in page


def test_an_upload_is_its_uploaders_only(client, world):
    client.force_login(world.user(Role.BUYER_MANAGER))
    token = token_of(upload(client, book([row()])))
    client.force_login(world.user(Role.COORDINATOR))  # same buyer, another person
    assert client.get(reverse("orders:po_import_mapping", args=[token])).status_code == 404
    post = mapping_post(HEADERS)
    assert client.post(reverse("orders:po_import_confirm", args=[token]), post).status_code == 404
    assert client.get(reverse("orders:po_import_mapping", args=["..%2F..%2Fx"])).status_code == 404


def test_who_may_import(client, world):
    for role in (Role.BUYER_VIEWER, Role.INSPECTOR, Role.SUPPLIER_USER):
        client.force_login(world.user(role))
        assert client.get(reverse("orders:po_import")).status_code == 403


def test_uploads_older_than_a_day_are_deleted(world):
    token = import_services.store_upload(
        user=world.user(Role.BUYER_MANAGER),
        data=book([row()]),
        filename="a.xlsx",
        buyer=world.buyer,
    )
    folder = f"{import_services.UPLOAD_DIR}/{world.user(Role.BUYER_MANAGER).pk}/{token}"
    assert default_storage.exists(f"{folder}/upload")
    import_services.purge_stale_uploads(timezone.now())
    assert default_storage.exists(f"{folder}/upload")  # a fresh upload stays
    # The file and its meta.json (and any other test's leftovers, in the shared media folder).
    assert import_services.purge_stale_uploads(timezone.now() + timedelta(days=1, minutes=1)) >= 2
    assert not default_storage.exists(f"{folder}/upload")
    from qcloop.core.sweeper import registered_sweeps

    assert "stale PO import uploads" in registered_sweeps()  # the sweeper runs it too


# --- the API -------------------------------------------------------------------------------


def api_import(user, data: bytes, **form):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from qcloop.accounts.services import create_api_token

    _, token = create_api_token(user=user, name="import")
    body = {"file": SimpleUploadedFile("pos.xlsx", data), **form}
    return Client().post("/api/purchase-orders/import", body, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_api_checks_then_imports_and_refuses_row_by_row(world):
    manager = world.user(Role.BUYER_MANAGER)
    data = book([row(number="PO-N1"), row(number="PO-N2", qty="-3")])
    checked = api_import(manager, data, dry_run="true")
    assert checked.status_code == 200
    assert checked.json() == {
        "pos": 2,
        "valid": 1,
        "created": [],
        "skipped_rows": [],
        "issues": [
            {"row": 3, "field": "Quantity", "message": "The quantity must be at least 1, not -3."}
        ],
    }
    refused = api_import(manager, data)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == (
        "Row 3, Quantity: The quantity must be at least 1, not -3."
    )
    assert not PurchaseOrder.objects.filter(number="PO-N1").exists()
    done = api_import(manager, data, skip_invalid="true", mapping='{"variant": ""}')
    assert done.status_code == 200
    assert done.json()["created"] == ["PO-N1"] and done.json()["skipped_rows"] == [3]


def test_the_api_names_a_column_by_title_and_refuses_an_unknown_one(world):
    manager = world.user(Role.BUYER_MANAGER)
    headers = ["Order", "Maker", "Article", "Colour", "Pieces", *HEADERS[5:]]
    data = book([row()], headers)
    mapping = '{"supplier": "Maker", "quantity": "pieces"}'
    answer = api_import(manager, data, mapping=mapping, dry_run="1").json()
    assert answer["valid"] == 1, answer
    wrong = api_import(manager, data, mapping='{"supplier": "Fabricant"}')
    assert wrong.json()["detail"][0]["msg"] == "Supplier: the file has no column 'Fabricant'."


# --- in the browser ------------------------------------------------------------------------


@pytest.mark.browser
def test_upload_map_preview_and_import_in_the_browser(page, live_world, screenshot, tmp_path):
    from conftest import sign_in

    path = tmp_path / "open-orders.xlsx"
    path.write_bytes(book([row(number="PO-W1"), row(number="PO-W2", vendor="V-NONE")]))
    sign_in(page, live_world.user(Role.BUYER_MANAGER))
    page.goto("/pos/")
    page.click("text=Import from Excel or CSV")
    page.set_input_files("#id_file", str(path))
    page.click("text=Upload and map columns")
    page.wait_for_selector("text=Which column holds what")
    assert page.input_value("#map_number") == "0" and page.input_value("#map_quantity") == "4"
    assert page.locator("#sample tbody tr").count() == 2
    screenshot("po-import-mapping")
    page.click("text=Check every row")
    page.wait_for_selector("#import-issues")
    assert "Row 3, Supplier: No supplier with the code or name 'V-NONE'" in page.inner_text(
        "#import-issues"
    )
    screenshot("po-import-preview")
    page.check("#id_skip_invalid")
    page.click("#import-button")
    page.wait_for_selector("text=1 PO imported")
    assert page.locator("#skipped a[download]").count() == 1
    screenshot("po-import-done")
    assert PurchaseOrder.objects.filter(number="PO-W1").exists()
    assert not PurchaseOrder.objects.filter(number="PO-W2").exists()


@pytest.mark.django_db(transaction=True)
def test_each_qc_lead_hears_once_of_the_pos_an_import_gave_them(world, mailoutbox, run_worker):
    from qcloop.accounts.services import add_member

    run_worker()  # the world's own PO was assigned too
    mailoutbox.clear()
    second = add_member(
        organisation=world.agency,
        email="lead2@example.com",
        full_name="Second Lead",
        role=Role.QC_LEAD,
    )
    headers = [*HEADERS, "QC agency", "QC lead"]
    leads = [world.qc_lead, world.qc_lead, second, world.qc_lead]
    rows = [
        [*row(number=f"PO-L{i}", exf=f"1{4 - i}/03/2030"), world.agency.name, lead.email]
        for i, lead in enumerate(leads)
    ]
    refused = plan_of(world, book([*rows, [*row(number="PO-L9", qty=-1), "", ""]], headers))
    with pytest.raises(ImportRefused):
        import_services.import_plan(by=world.user(Role.BUYER_MANAGER), plan=refused)
    run_worker()
    assert mailoutbox == []  # nothing imported, nobody told
    plan = plan_of(world, book(rows, headers))
    import_services.import_plan(by=world.user(Role.BUYER_MANAGER), plan=plan)
    run_worker()
    mails = {tuple(m.to): m for m in mailoutbox}
    assert len(mailoutbox) == 2 and set(mails) == {(world.qc_lead.email,), (second.email,)}
    digest = mails[(world.qc_lead.email,)]
    assert digest.subject == "[qcloop] You are the QC lead for 3 new POs"
    # Soonest ex-factory first: PO-L3 leaves on 11 March, PO-L0 on 14 March.
    assert re.findall(r"PO (PO-L\d)", digest.body) == ["PO-L3", "PO-L1", "PO-L0"]
    assert "You are the QC lead for PO PO-L2" in mails[(second.email,)].subject
