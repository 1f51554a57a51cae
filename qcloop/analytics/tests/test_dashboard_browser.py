"""The program dashboard in Chromium, as a buyer uses it: the charts drawn, a filter changed,
a table downloaded as CSV."""

import csv
from dataclasses import replace

import pytest

from conftest import sign_in
from qcloop.accounts.models import Role
from qcloop.testing import next_po_of

from .builders import tally
from .test_dashboard import LAST_MONTH, MONTH_BEFORE, second_supplier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_buyer_reads_the_charts_filters_and_downloads_a_table(page, live_world, screenshot):
    world = live_world
    supplier, factory = second_supplier(world)
    other = next_po_of(replace(world, supplier=supplier, factory=factory))
    tally(world.milestones["DUPRO"], MONTH_BEFORE.replace(day=10), 125, major=3, minor=5)
    tally(world.milestones["PSI"], LAST_MONTH.replace(day=8), 200, major=4, minor=2)
    tally(other.milestones["DUPRO"], MONTH_BEFORE.replace(day=20), 200, major=1, minor=4)
    tally(other.milestones["PSI"], LAST_MONTH.replace(day=25), 200, major=6, minor=2)
    sign_in(page, world.user(Role.BUYER_MANAGER))
    page.click("nav >> text=Dashboard")
    page.wait_for_url("**/dashboard/")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-suppliers')")
    lines = page.evaluate(
        "() => Chart.getChart('chart-suppliers').data.datasets.map((d) => d.label)"
    )
    assert lines == ["Second Lamps Ltd", "Supplier A Co", "All suppliers"]
    assert page.evaluate("() => !!Chart.getChart('chart-program')")
    assert page.evaluate("() => !!Chart.getChart('chart-events')")
    # The class switch redraws the supplier chart with the minor rates.
    month = f"{LAST_MONTH:%Y-%m}"
    page.select_option("#trend-class", "minor")
    minor = page.evaluate(
        f"() => {{ const c = Chart.getChart('chart-suppliers');"
        f" return c.data.datasets[0].data[c.data.labels.indexOf('{month}')]; }}"
    )
    assert minor == 1.0  # Second Lamps: 2 minors in 200 units
    screenshot("analytics-dashboard-live")

    # The monthly view of one supplier.
    page.select_option("#id_period", month)
    page.select_option("#id_supplier", label="Second Lamps Ltd")
    page.click("#dashboard-filters button[type=submit]")
    page.wait_for_url(f"**/dashboard/?period={month}**")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-suppliers')")
    assert "was 0.5" in page.inner_text("#headline")  # majors: 3.0 now, 0.5 the month before
    rows = page.locator("#table-supplier-defects tbody tr")
    assert rows.count() == 1 and "Second Lamps Ltd" in rows.first.inner_text()
    screenshot("analytics-dashboard-month")

    with page.expect_download() as info:
        page.click("a[data-export=defect-trends-csv]")
    download = info.value
    assert download.suggested_filename == f"dashboard-{month}-defect-trends.csv"
    with open(download.path(), encoding="utf-8-sig") as saved:
        table = list(csv.DictReader(saved))
    mine = [r for r in table if r["Month"] == month and r["Supplier"] == "Second Lamps Ltd"]
    assert [(r["Units"], r["Major"], r["Major per 100"]) for r in mine] == [("200", "6", "3.0")]
    assert all(r["Supplier"] in {"All suppliers", "Second Lamps Ltd"} for r in table)


def test_a_bad_filter_is_named_and_the_page_still_works(page, live_world):
    sign_in(page, live_world.user(Role.BUYER_VIEWER))
    page.goto("/dashboard/?period=2025-13")
    assert "period: '2025-13' is not a calendar month" in page.inner_text("#filter-errors")
    assert page.locator("canvas").count() == 0
