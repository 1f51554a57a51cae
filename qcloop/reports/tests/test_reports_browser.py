"""The report pages as the QC lead and the buyer use them, in Chromium: the review of a
milestone report, and the PO summary published with the QC lead's own recommendation."""

import hashlib

import pytest

from conftest import sign_in
from qcloop.accounts.models import Role
from qcloop.inspections.recording import submit_inspection
from qcloop.reports.models import Report, ReportKind
from qcloop.reports.tests.test_summary import monitored
from qcloop.reports.tests.test_workflow import jpeg
from qcloop.testing import submit_inspection_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_qc_lead_sends_back_then_publishes_and_the_buyer_reads_it(page, live_world, screenshot):
    psi = submit_inspection_of(
        live_world,
        "PSI",
        defects=[("major", 9, "Shade scratched")],  # Re 8 at code K: the lot fails
        photos=[(jpeg(7), "Scratch on shade", True)],
    )
    report = Report.objects.get(milestone=psi)
    sign_in(page, live_world.qc_lead)
    page.click(f"#reports >> text={report.title}")  # from "Reports to publish" on their home
    assert page.locator(".draft-banner").is_visible()
    assert page.locator("#verdict .verdict-word").inner_text() == "FAIL"
    page.fill("#send-back-form textarea", "Photograph the carton marks too.")
    page.click("#send-back-form button")
    page.wait_for_selector("text=Sent back to the inspector.")
    assert page.locator(".page-head h1 .badge").first.inner_text().lower() == "sent back"

    submit_inspection(by=live_world.inspector, milestone=psi)
    page.reload()
    page.fill("#approve-form textarea", "Hold the shipment: rework the shades.")
    page.click("#approve-form button")
    page.wait_for_selector("text=Approved and published to the buyer.")
    assert "published v1" in page.locator(".page-head h1").inner_text()
    screenshot("report-published-qc-lead")

    page.context.clear_cookies()
    sign_in(page, live_world.user(Role.BUYER_MANAGER))
    page.goto(f"/reports/{report.pk}/")
    assert "Hold the shipment: rework the shades." in page.locator(".lead-summary").inner_text()
    assert page.locator("#review").count() == 0  # the review is the agency's conversation
    pdf = page.request.get(page.locator(".actions a", has_text="PDF").first.get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF-")
    report.refresh_from_db()
    assert hashlib.sha256(pdf.body()).hexdigest() == report.current.pdf_sha256
    screenshot("report-published-buyer")


def test_the_qc_lead_publishes_the_po_summary_with_their_own_recommendation(
    page, live_world, screenshot
):
    summary = monitored(live_world, psi=[("major", 2, "Dent")])
    sign_in(page, live_world.qc_lead)
    page.goto(f"/reports/{summary.pk}/")
    assert page.locator("#recommendation h3").is_visible()
    computed = page.locator("#recommendation h3").inner_text()
    screenshot("po-summary-draft")

    # Another recommendation without a word of why is refused, and nothing is published.
    page.select_option("#id_recommendation", index=1)
    chosen = page.locator("#id_recommendation option:checked").inner_text()
    page.click("#approve-form button")
    page.wait_for_selector("text=Say why you recommend otherwise")
    summary.refresh_from_db()
    assert summary.published_at is None

    page.select_option("#id_recommendation", label=chosen)
    page.fill("[name=recommendation_note]", "The factory changed its shade supplier.")
    page.click("#approve-form button")
    page.wait_for_selector("text=Approved and published to the buyer.")
    summary.refresh_from_db()
    assert summary.current.content["recommendation"]["title"] == chosen != computed

    page.context.clear_cookies()
    sign_in(page, live_world.user(Role.BUYER_MANAGER))
    page.goto(f"/pos/{live_world.po.pk}/")
    page.click("#po-reports >> text=PO summary")
    box = page.locator("#recommendation")
    assert chosen in box.inner_text() and computed in box.inner_text()
    assert "The factory changed its shade supplier." in box.inner_text()
    assert page.locator("#rate-chart svg").count() == 1
    screenshot("po-summary-buyer")
    assert Report.objects.filter(kind=ReportKind.PO_SUMMARY).count() == 1
