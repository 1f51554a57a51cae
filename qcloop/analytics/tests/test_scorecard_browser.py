"""A supplier's scorecard in Chromium: the buyer opens the list, goes to one supplier, and
sees the figures with their intervals and each factory's p-chart drawn, a month out of
control marked; the chart follows the defect class chosen."""

import pytest

from conftest import sign_in
from qcloop.accounts.models import Role
from qcloop.analytics.dashboard import month_start
from qcloop.analytics.tests.test_scorecard import DASH, TODAY, build_program, tally, wilson
from qcloop.testing import next_po_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_buyer_reads_a_scorecard_and_its_p_chart(page, live_world, screenshot):
    program = build_program(live_world)
    # This month, at Plant A: 15 defects in 100 units, far above the factory's limits.
    this_month = next_po_of(live_world)
    tally(this_month.milestones["PSI"], month_start(TODAY), 100, major=10, minor=5)
    a = program["a"]

    sign_in(page, live_world.user(Role.BUYER_VIEWER))
    page.goto("/scorecards/")
    page.wait_for_selector("#table-scorecards")
    screenshot("scorecards-list")
    page.click(f"#table-scorecards a:text('{a.name}')")
    page.wait_for_selector("#headline")

    # The figures with their intervals: 16 majors in 705 PSI units now (6 + 10 in 605 + 100).
    low, high = wilson(16, 705)
    headline = page.inner_text("#headline")
    assert f"({low:.1f}{DASH}{high:.1f})" in headline
    assert "16 in 705 units" in headline
    assert "uncertain" in headline  # 3 of 4 first PSIs passed: a wide interval

    # Plant A's p-chart is drawn; the current month is out of control and red.
    canvas = page.locator(f"#pchart-{program['f1'].pk}")
    canvas.wait_for()
    page.wait_for_function(
        f"() => document.querySelector('#pchart-{program['f1'].pk}').dataset.drawn === 'true'"
    )
    drawn = page.evaluate(
        """(id) => {
            const chart = Chart.getChart(document.getElementById(id));
            const canvas = chart.canvas;
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width,
                                                                canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
            return {
                labels: chart.data.labels,
                datasets: chart.data.datasets.map((d) => d.label),
                colours: chart.data.datasets[0].pointBackgroundColor,
                stepped: chart.data.datasets[1].stepped,
                painted,
            };
        }""",
        f"pchart-{program['f1'].pk}",
    )
    assert drawn["labels"][-1] == f"{TODAY:%Y-%m}"
    assert drawn["datasets"][1:3] == ["Upper control limit", "Lower control limit"]
    assert drawn["datasets"][3].startswith("Centre ")
    assert drawn["colours"][-1] == "#b3261e" and drawn["colours"][0] != "#b3261e"
    assert drawn["stepped"] == "middle"
    assert drawn["painted"] > 1000  # the canvas is not blank
    assert f"Out of control: {TODAY:%Y-%m}" in page.inner_text(
        f".pchart[data-factory='{program['f1'].pk}']"
    )

    # Another class: the chart redraws with the majors alone.
    page.select_option("#pchart-class", "major")
    page.wait_for_function(
        f"() => Chart.getChart(document.getElementById('pchart-{program['f1'].pk}'))"
        ".data.datasets[0].label.startsWith('major')"
    )
    page.locator("#p-charts").scroll_into_view_if_needed()
    screenshot("scorecard-supplier")
