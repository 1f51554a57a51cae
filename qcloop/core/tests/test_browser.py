"""The pages people use, driven in Chromium as they would use them."""

from datetime import timedelta

import pytest

from conftest import in_ci, sign_in
from qcloop.accounts.models import Role
from qcloop.orders.models import PurchaseOrder

pytestmark = pytest.mark.browser


def test_a_buyer_finds_a_po_and_sees_its_milestones(page, live_world, screenshot):
    sign_in(page, live_world.user(Role.BUYER_MANAGER))
    assert page.locator("h1").first.inner_text() == live_world.buyer.name
    screenshot("buyer-home")
    page.click("nav >> text=POs")
    page.fill("#id_q", "no such po")
    page.wait_for_selector("text=No purchase orders match these filters.")
    page.fill("#id_q", live_world.po.number[:-1])  # the search runs as you type (htmx)
    page.wait_for_selector(f"#po-results >> text={live_world.po.number}")
    screenshot("po-list")
    page.click(f"text={live_world.po.number}")
    timeline = page.locator("ol.timeline > li")
    assert timeline.count() == 4
    assert [timeline.nth(i).locator(".kind a").inner_text() for i in range(4)] == [
        "IPC",
        "DUPRO",
        "PSI",
        "CLI",
    ]
    assert "USD 48,250.00" in page.content()
    screenshot("po-detail")


def test_a_po_form_shows_each_problem_next_to_its_field_and_saves_nothing(
    page, live_world, screenshot
):
    sign_in(page, live_world.user(Role.BUYER_MANAGER))
    page.goto("/pos/new/")
    po = live_world.po
    page.fill("#id_number", po.number)  # a duplicate
    page.select_option("#id_buyer", str(live_world.buyer.pk))
    page.select_option("#id_currency", "USD")
    page.fill("#id_fob_value", "12000")
    page.fill("#id_carton_count", "40")
    page.select_option("#id_destination_market", "US")
    page.select_option("#id_factory", str(live_world.factory.pk))
    with page.expect_response(lambda r: "/pos/factory-options/" in r.url):
        page.select_option("#id_supplier", str(live_world.supplier.pk))
    page.wait_for_timeout(100)  # let htmx swap the options in
    # The factory list now holds the supplier's factories, and the choice made is kept.
    assert page.input_value("#id_factory") == str(live_world.factory.pk)
    page.fill("#id_ex_factory_date", str(po.ex_factory_date))
    page.fill("#id_ship_date", str(po.ex_factory_date - timedelta(days=3)))
    page.select_option("#id_lines-0-product", str(live_world.product.pk))
    page.fill("#id_lines-0-quantity", "0")
    page.click("button.primary")
    page.wait_for_selector("text=Nothing was saved")
    screenshot("po-form-errors")
    assert f"PO {po.number} already exists" in page.inner_text("#id_number_errors")
    assert "cannot be before the ex-factory date" in page.inner_text("#id_ship_date_errors")
    assert "at least 1, not 0" in page.inner_text("#id_lines-0-quantity_errors")
    screenshot("po-form-errors")
    assert PurchaseOrder.objects.count() == 1

    page.fill("#id_number", "PO-A-2002")
    page.fill("#id_ship_date", str(po.ex_factory_date + timedelta(days=5)))
    page.fill("#id_lines-0-quantity", "1200")
    page.click("text=Add a line")  # keeps what was typed and adds a row
    assert page.input_value("#id_number") == "PO-A-2002"
    page.select_option("#id_lines-2-product", str(live_world.product.pk))
    page.fill("#id_lines-2-variant", "white")
    page.fill("#id_lines-2-quantity", "300")
    page.click("button.primary")
    page.wait_for_selector("text=PO PO-A-2002 saved with 4 milestones.")
    saved = PurchaseOrder.objects.get(number="PO-A-2002")
    assert (saved.quantity, saved.lines.count()) == (1500, 2)


def test_a_supplier_user_is_told_why_they_cannot_edit(page, live_world):
    sign_in(page, live_world.user(Role.SUPPLIER_USER))
    page.goto(f"/pos/{live_world.po.pk}/")
    assert page.locator("text=Edit PO").count() == 0
    response = page.goto(f"/pos/{live_world.po.pk}/edit/")
    assert response.status == 403
    assert "Supplier users cannot edit purchase orders" in page.inner_text("main")


def test_an_inspector_on_a_phone_starts_an_assigned_inspection(browser, live_server, live_world):
    from qcloop.inspections.services import update_milestone

    dupro = live_world.milestones["DUPRO"]
    update_milestone(
        by=live_world.qc_lead,
        milestone=dupro,
        changes={"inspection_date": dupro.window_start, "status": "booked"},
    )
    phone = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = phone.new_page()
    sign_in(page, live_world.inspector)
    page.click("text=DUPRO")
    page.click("text=Start inspection")
    page.wait_for_selector("text=DUPRO is now in progress.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    page.screenshot(path="test-artifacts/inspector-phone.png", full_page=True)
    phone.close()
    dupro.refresh_from_db()
    assert dupro.status == "in_progress"


def test_staff_use_the_admin_under_the_content_security_policy(page, live_world):
    from qcloop.accounts.models import User

    User.objects.create_superuser(
        email="staff@example.com", password="S3cure-staff-pass", full_name="Staff"
    )
    page.goto("/admin/")
    page.fill("#id_username", "staff@example.com")
    page.fill("#id_password", "S3cure-staff-pass")
    page.click("input[type=submit]")
    page.click("text=Purchase orders")
    page.click(f"text={live_world.po.number}")
    page.wait_for_selector("#purchaseorder_form")
    assert page.input_value("#id_number") == live_world.po.number
    page.goto("/api/docs")
    page.wait_for_selector("text=qcloop API")


def test_the_aql_calculator_draws_the_oc_curve(page, screenshot):
    page.goto("/aql/?lot=3200&aql=2.5&level=II&severity=normal&scheme=single")
    assert page.inner_text("#plan-n") == "125"
    page.wait_for_function("Chart.getChart(document.getElementById('oc-chart')) !== undefined")
    points = page.evaluate(
        "Chart.getChart(document.getElementById('oc-chart')).data.datasets[0].data.length"
    )
    assert points == 41
    screenshot("aql-calculator")


def _run_inspection(page, milestone, fail_item=None, record=None):
    """As the inspector: start the booked milestone, answer the checklist, record, submit."""
    page.goto(f"/milestones/{milestone.pk}/")
    page.click("text=Start inspection")
    page.click("text=Open the inspection")
    # Every item passes except the one that fails: a typical floor run.
    page.eval_on_selector_all(
        "#checklist input[type=radio][value=pass]", "inputs => inputs.forEach(i => i.click())"
    )
    if fail_item:
        page.check(f"#item-{fail_item} input[value=fail]")
    page.click("text=Save checklist")
    page.wait_for_selector("text=Checklist saved")
    if record:
        record(page)
    page.click("text=Submit to the QC lead")
    page.wait_for_selector("text=submitted to the QC lead")


def _count_production(page, milestone):
    page.fill("#id_counted_on", str(milestone.po.ex_factory_date - timedelta(days=2)))
    page.fill("#id_produced", str(milestone.po.quantity))
    page.fill("#id_finished", str(milestone.po.quantity))
    page.fill("#id_packed", str(milestone.po.quantity))
    page.click("text=Save production status")
    page.wait_for_url("**#production")


def test_an_inspector_runs_a_dupro_a_psi_and_a_cli_in_the_browser(browser, live_server, live_world):
    from qcloop.inspections.models import Milestone
    from qcloop.inspections.services import plan_sampling, update_milestone

    for kind in ("DUPRO", "PSI", "CLI"):
        m = live_world.milestones[kind]
        update_milestone(
            by=live_world.qc_lead,
            milestone=m,
            changes={
                "inspection_date": m.window_start,
                "inspector": live_world.inspector,
                "status": "booked",
            },
        )
        if kind != "CLI":
            plan_sampling(by=live_world.qc_lead, milestone=m, seed=f"browser-{kind}")
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    sign_in(page, live_world.inspector)

    def dupro_records(page):
        _count_production(page, live_world.milestones["DUPRO"])
        page.fill("#id_description", "Loose screw on lamp base")
        page.select_option("#id_defect_class", "major")
        page.fill("#id_quantity", "2")
        page.click("text=Add defect")
        page.wait_for_selector("#defects >> text=Loose screw on lamp base")

    _run_inspection(page, live_world.milestones["DUPRO"], record=dupro_records)

    def psi_records(page):
        _count_production(page, live_world.milestones["PSI"])
        page.fill("#id_description", "Exposed live part at lamp holder")
        page.select_option("#id_defect_class", "critical")
        page.fill("#id_quantity", "1")
        page.click("text=Add defect")
        page.wait_for_selector("#result >> text=fail")

    _run_inspection(page, live_world.milestones["PSI"], record=psi_records)

    def cli_records(page):
        page.fill("#id_container_number", "CSQU3054384")  # wrong check digit first
        page.fill("#id_seal_number", "HLB-7731904")
        page.click("text=Save loading")
        page.wait_for_selector("text=check digit")
        page.fill("#id_container_number", "CSQU 305438-3")
        page.fill("#id_seal_number", "HLB-7731904")
        line = live_world.po.lines.get()
        page.fill(f"#id_line_{line.pk}", str(live_world.po.carton_count))
        page.click("text=Save loading")
        page.wait_for_selector("#loading >> text=CSQU3054383")

    _run_inspection(page, live_world.milestones["CLI"], record=cli_records)
    page.screenshot(path="test-artifacts/cli-submitted.png", full_page=True)
    context.close()
    results = dict(
        Milestone.objects.filter(po=live_world.po, kind__in=["DUPRO", "PSI", "CLI"]).values_list(
            "kind", "result"
        )
    )
    assert results == {"DUPRO": "pass", "PSI": "fail", "CLI": "pass"}
    assert set(
        Milestone.objects.filter(po=live_world.po, kind__in=["DUPRO", "PSI", "CLI"]).values_list(
            "status", flat=True
        )
    ) == {"submitted"}


def test_photos_upload_and_show_their_flags(page, live_world, screenshot):
    from pathlib import Path

    from qcloop.inspections.models import PhotoAttachment
    from qcloop.inspections.photos import ingest
    from qcloop.testing import start_inspection

    shared = Path(__file__).resolve().parents[3].parent / "shared" / "photos"
    if not shared.is_dir():
        if in_ci():
            pytest.fail(f"{shared} is missing: CI must have the shared photos beside the repo")
        pytest.skip("the shared photos are not beside the repository")
    psi = start_inspection(live_world, "PSI", plan_sample=False)
    sign_in(page, live_world.inspector)
    page.goto(f"/milestones/{psi.pk}/photos/")
    page.set_input_files(
        "#id_files", [str(shared / "jpg/gps/DSCN0010.jpg"), str(shared / "jpg/Canon_40D.jpg")]
    )
    page.fill("#id_caption", "Carton markings")
    page.click("text=Upload photos")
    page.wait_for_selector("text=2 photo(s) received")
    for attachment in PhotoAttachment.objects.filter(milestone=psi):
        ingest(attachment.pk)  # the worker's job
    page.reload()
    page.wait_for_selector(".photo img")
    assert page.locator(".photo img").count() == 2
    assert "km from the factory" in page.inner_text(".gallery")
    # The thumbnails load after the page (lazily): wait for them rather than race them. A
    # broken image never gets a width, and the wait fails.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.photo img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    screenshot("photo-gallery")
