"""The scorecards' and dashboard's statistics against hand-computed values: Wilson's interval
written out, the Poisson score interval when there are more defects than units, the p-chart's
centre and 3-sigma limits, and bad input refused."""

import math

import pytest

from qcloop.analytics.stats import UNCERTAIN_BELOW_UNITS, estimate, p_chart, share

Z = 1.959963984540054  # the 97.5th percentile of the standard normal
Z2 = Z * Z


def wilson(found: int, n: int) -> tuple[float, float]:
    """Wilson's score interval, per 100, written out as in any statistics text."""
    p = found / n
    centre = (p + Z2 / (2 * n)) / (1 + Z2 / n)
    half = Z / (1 + Z2 / n) * math.sqrt(p * (1 - p) / n + Z2 / (4 * n * n))
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def test_no_defects_in_32_units_is_between_0_and_10_7_per_100_not_perfect():
    rate = estimate(0, 32)
    # At zero the Wilson upper bound is z^2 / (n + z^2) = 3.8415 / 35.8415.
    assert rate.rate == 0.0
    assert rate.low == 0.0
    assert rate.high == pytest.approx(100 * Z2 / (32 + Z2))
    assert rate.high == pytest.approx(10.72, abs=0.005)
    assert rate.uncertain  # 32 units < 200
    assert rate.text() == "0.0 per 100 (0.0-10.7; 0 in 32 units)"


def test_seven_defects_in_400_units():
    rate = estimate(7, 400)
    # p = 0.0175; centre (0.0175 + 3.8415/800) / 1.0096 = 0.02209;
    # half = 1.96/1.0096 * sqrt(0.0175*0.9825/400 + 3.8415/640000) = 0.01359.
    low, high = wilson(7, 400)
    assert rate.rate == pytest.approx(1.75)
    assert (rate.low, rate.high) == (pytest.approx(low), pytest.approx(high))
    assert (rate.low, rate.high) == (
        pytest.approx(0.8502, abs=1e-4),
        pytest.approx(3.5677, abs=1e-4),
    )
    assert not rate.uncertain
    assert rate.text() == "1.8 per 100 (0.9-3.6; 7 in 400 units)"


def test_every_unit_defective_reaches_100_per_100():
    rate = estimate(3, 3)
    assert rate.rate == 100.0 and rate.high == 100.0
    assert rate.low == pytest.approx(wilson(3, 3)[0])


def test_uncertain_below_200_units():
    assert UNCERTAIN_BELOW_UNITS == 200
    assert estimate(0, 199).uncertain
    assert not estimate(0, 200).uncertain


def test_nothing_inspected_has_no_rate_and_the_whole_range():
    rate = estimate(0, 0)
    assert rate.rate is None
    assert (rate.low, rate.high) == (0.0, 100.0)
    assert rate.uncertain
    assert rate.text() == "not inspected"


def test_more_defects_than_units_takes_the_poisson_score_interval():
    # 30 defects on 20 units (several per unit): (x + z^2/2 +- z sqrt(x + z^2/4)) / n.
    rate = estimate(30, 20)
    spread = Z * math.sqrt(30 + Z2 / 4)
    assert rate.rate == pytest.approx(150.0)
    assert rate.low == pytest.approx(100 * (30 + Z2 / 2 - spread) / 20)
    assert rate.high == pytest.approx(100 * (30 + Z2 / 2 + spread) / 20)
    assert (rate.low, rate.high) == (
        pytest.approx(105.08, abs=0.01),
        pytest.approx(214.13, abs=0.01),
    )


@pytest.mark.parametrize(
    ("found", "units", "words"),
    [(-1, 10, "cannot be negative"), (1, -5, "cannot be negative"), (3, 0, "no units")],
)
def test_bad_counts_are_refused_naming_the_problem(found, units, words):
    with pytest.raises(ValueError, match=words):
        estimate(found, units)


def test_p_chart_of_three_months_by_hand():
    chart = p_chart([("2025-01", 100, 2), ("2025-02", 200, 4), ("2025-03", 100, 14)])
    # Centre: 20 defects in 400 units = 0.05.
    assert chart.centre == pytest.approx(5.0)
    jan, feb, mar = chart.points
    # n = 100: sigma = sqrt(0.05 * 0.95 / 100) = 0.021794; 0.05 + 3 sigma = 0.115383;
    # 0.05 - 3 sigma < 0, so the lower limit is 0.
    sigma_100 = math.sqrt(0.05 * 0.95 / 100)
    assert jan.upper_limit == pytest.approx(100 * (0.05 + 3 * sigma_100))
    assert jan.upper_limit == pytest.approx(11.538, abs=1e-3)
    assert jan.lower_limit == 0.0
    # n = 200: sigma = 0.015411; limits 0.003766 and 0.096234.
    sigma_200 = math.sqrt(0.05 * 0.95 / 200)
    assert feb.lower_limit == pytest.approx(100 * (0.05 - 3 * sigma_200))
    assert (feb.lower_limit, feb.upper_limit) == (
        pytest.approx(0.377, abs=1e-3),
        pytest.approx(9.623, abs=1e-3),
    )
    assert [p.rate for p in chart.points] == pytest.approx([2.0, 2.0, 14.0])
    # March: 14 per 100 is above its 11.54 limit.
    assert [p.out_of_control for p in chart.points] == [False, False, True]
    assert chart.signals == [mar]
    assert (mar.label, mar.units, mar.found) == ("2025-03", 100, 14)


def test_p_chart_marks_a_month_below_a_non_zero_lower_limit():
    chart = p_chart([("A", 1000, 100), ("B", 1000, 100), ("C", 1000, 10)])
    # Centre 210 / 3000 = 0.07, sigma = sqrt(0.07 * 0.93 / 1000) = 0.008068:
    # limits 0.045795 and 0.094205. A and B (0.10) are above, C (0.01) below.
    sigma = math.sqrt(0.07 * 0.93 / 1000)
    assert chart.centre == pytest.approx(7.0)
    assert chart.points[2].lower_limit == pytest.approx(100 * (0.07 - 3 * sigma))
    assert chart.points[0].upper_limit == pytest.approx(9.4205, abs=1e-4)
    assert [p.out_of_control for p in chart.points] == [True, True, True]


def test_p_chart_leaves_out_months_with_no_units_and_is_empty_without_any():
    chart = p_chart([("Jan", 0, 0), ("Feb", 50, 1)])
    assert [p.label for p in chart.points] == ["Feb"]
    assert chart.centre == pytest.approx(2.0)
    empty = p_chart([("Jan", 0, 0)])
    assert (empty.centre, empty.points, empty.signals) == (0.0, [], [])
    assert p_chart([]).points == []


@pytest.mark.parametrize("point", [("Jan", 100, -1), ("Jan", -100, 1), ("Jan", -1, 0)])
def test_p_chart_refuses_negative_counts(point):
    with pytest.raises(ValueError, match="Jan: a negative count"):
        p_chart([point])


def test_share_in_percent_with_one_decimal():
    assert share(1, 3) == 33.3
    assert share(2, 3) == 66.7
    assert share(0, 5) == 0.0
    assert share(0, 0) is None
