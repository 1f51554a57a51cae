"""The supplier reports progress and the coordinator books, in Chromium."""

from datetime import timedelta

import pytest

from conftest import sign_in
from qcloop.accounts.models import Role
from qcloop.accounts.services import add_member
from qcloop.orders.services import update_purchase_order
from qcloop.scheduling import services

pytestmark = pytest.mark.browser


def test_a_slow_factory_report_warns_and_the_coordinator_books_on_the_calendar(
    page, live_world, screenshot, browser
):
    w = live_world
    today = services.factory_today(w.po)
    update_purchase_order(
        by=w.user(Role.BUYER_MANAGER),
        po=w.po,
        changes={
            "production_start": today - timedelta(days=5),
            "ex_factory_date": today + timedelta(days=30),
            "ship_date": today + timedelta(days=35),
        },
    )
    sign_in(page, w.user(Role.SUPPLIER_USER))
    page.goto(f"/pos/{w.po.pk}/")
    page.fill("#quick-progress-form input[name=produced]", "150")
    page.click("#quick-progress-form button[type=submit]")
    page.wait_for_selector("#ship-date-warning")
    assert "Ship date at risk" in page.inner_text("#ship-date-warning")
    assert "DUPRO window" in page.inner_text("#schedule-log")
    screenshot("schedule-at-risk")

    context = browser.new_context(base_url=page.url.split("/pos/")[0])
    coordinator = context.new_page()
    sign_in(coordinator, w.user(Role.COORDINATOR))
    coordinator.goto(f"/pos/{w.po.pk}/schedule/")
    day = today + timedelta(days=1)
    coordinator.fill("#book-psi input[name=day]", day.isoformat())
    coordinator.click("#book-psi button[type=submit]")
    assert "lead time is 48 hours" in coordinator.inner_text("#schedule-errors")
    assert coordinator.input_value("#book-psi input[name=day]") == day.isoformat()  # kept
    coordinator.fill("#book-psi input[name=override_reason]", "Buyer's rush order")
    coordinator.click("#book-psi button[type=submit]")
    coordinator.wait_for_selector("text=PSI booked with")

    # The PO's QC lead goes on leave: the coordinator hands all its milestones to another.
    other = add_member(
        organisation=w.agency,
        email="lead2@example.com",
        full_name="Second Lead",
        role=Role.QC_LEAD,
    )
    coordinator.goto(f"/pos/{w.po.pk}/schedule/")
    coordinator.select_option("#lead-form select[name=qc_lead]", str(other.pk))
    coordinator.fill("#lead-form input[name=reason]", "Lead on long leave")
    coordinator.locator("#lead-h").scroll_into_view_if_needed()
    coordinator.screenshot(path="test-artifacts/qc-lead-reassign.png", full_page=True)
    coordinator.click("#lead-form button[type=submit]")
    coordinator.wait_for_selector("text=Second Lead is now the QC lead")
    assert "Lead on long leave" in coordinator.inner_text("#schedule-log")
    coordinator.goto(f"/calendar/?month={day:%Y-%m}")
    grid = coordinator.inner_text("#month-grid")
    assert f"PSI {w.po.number}" in grid
    coordinator.screenshot(path="test-artifacts/inspector-calendar.png", full_page=True)
    context.close()
