"""The scorecard's figures from plain numbers, against values worked out by hand: shares with
their Wilson interval, percentiles from a histogram, CAPA and escalation figures, the ranking
on the unfavourable end of the interval, and each factory's p-charts."""

import math

import pytest

from qcloop.analytics.scorecard_logic import (
    CHART_CLASSES,
    SORTS,
    CapaCounts,
    DefectCounts,
    LotFacts,
    MonthCounts,
    ScoreFacts,
    capa_figures,
    chart_data,
    closure_time,
    escalation_figures,
    factory_charts,
    percentile,
    rank,
    score,
    share_estimate,
)

Z = 1.959963984540054
Z2 = Z * Z


def wilson(found: int, n: int) -> tuple[float, float]:
    p = found / n
    centre = (p + Z2 / (2 * n)) / (1 + Z2 / n)
    half = Z / (1 + Z2 / n) * math.sqrt(p * (1 - p) / n + Z2 / (4 * n * n))
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


# --- shares ----------------------------------------------------------------------------------


def test_ten_of_twelve_first_psis_passed():
    share = share_estimate(10, 12)
    low, high = wilson(10, 12)
    assert share.percent == pytest.approx(100 * 10 / 12)
    assert (share.low, share.high) == (pytest.approx(low), pytest.approx(high))
    # 55.2 to 95.3: 40 points wide, so uncertain.
    assert (round(share.low, 1), round(share.high, 1)) == (55.2, 95.3)
    assert share.uncertain
    assert share.text() == "83.3 % (55.2-95.3 %; 10 of 12 POs)"


def test_thirty_of_thirty_is_not_uncertain_but_is_not_100_percent_sure():
    share = share_estimate(30, 30)
    # Wilson's lower bound at p = 1: n / (n + z^2) = 30 / 33.84.
    assert share.low == pytest.approx(100 * 30 / (30 + Z2))
    assert share.high == 100.0
    assert share.high - share.low < 20 and not share.uncertain


def test_one_of_one_is_uncertain():
    share = share_estimate(1, 1)
    assert share.percent == 100.0
    assert share.low == pytest.approx(20.65, abs=0.01)
    assert share.uncertain


def test_nothing_counted_is_unknown_never_100_percent():
    share = share_estimate(0, 0, noun="CAPAs")
    assert share.percent is None
    assert (share.low, share.high) == (0.0, 100.0)
    assert share.uncertain
    assert share.text() == "no CAPAs yet"


@pytest.mark.parametrize(
    ("part", "whole", "words"),
    [(3, 2, "part: 3 is more than the whole"), (-1, 2, "part:"), (1, 2.5, "whole:")],
)
def test_a_share_of_bad_counts_is_refused(part, whole, words):
    with pytest.raises(ValueError, match=words):
        share_estimate(part, whole)


# --- percentiles -------------------------------------------------------------------------------


def test_median_and_90th_percentile_of_four_closures():
    days = {1: 1, 2: 1, 3: 1, 10: 1}
    # Median: rank (4-1)*0.5 = 1.5, halfway between 2 and 3.
    assert percentile(days, 0.5) == 2.5
    # 90th: rank 2.7, between 3 (rank 2) and 10 (rank 3): 3 + 0.7 * 7 = 7.9.
    assert percentile(days, 0.9) == pytest.approx(7.9)


def test_percentile_of_a_histogram_with_repeats():
    # Values 2, 2, 2, 5: median rank 1.5 -> 2; 90th rank 2.7 -> 2 + 0.7 * 3 = 4.1.
    assert percentile({5: 1, 2: 3}, 0.5) == 2
    assert percentile({5: 1, 2: 3}, 0.9) == pytest.approx(4.1)
    assert percentile({4: 1}, 0.9) == 4
    assert percentile({}, 0.5) is None
    assert percentile({3: 0}, 0.5) is None
    assert percentile({1: 2, 9: 2}, 0) == 1 and percentile({1: 2, 9: 2}, 1) == 9


@pytest.mark.parametrize(
    ("counts", "q", "words"), [({1: 1}, 1.5, "q:"), ({1: -1}, 0.5, r"counts\[1\]")]
)
def test_bad_percentile_input_is_refused(counts, q, words):
    with pytest.raises(ValueError, match=words):
        percentile(counts, q)


def test_closure_time_and_the_capa_figures():
    closure = closure_time({3: 2, 7: 1, 30: 1})
    # 3, 3, 7, 30: median 5, 90th rank 2.7 -> 7 + 0.7 * 23 = 23.1.
    assert (closure.closed, closure.median_days) == (4, 5.0)
    assert closure.p90_days == pytest.approx(23.1)
    with pytest.raises(ValueError, match="before the CAPA opened"):
        closure_time({-1: 1})
    figures = capa_figures(
        CapaCounts(opened=6, still_open=2, open_past_due=1, recurrences=3, closure_days={3: 2})
    )
    assert (figures.opened, figures.still_open, figures.open_past_due) == (6, 2, 1)
    assert figures.closure.median_days == 3
    assert figures.recurrences == 3 and figures.recurrence_share.percent == 50.0
    with pytest.raises(ValueError, match="opened: 2 CAPAs cannot have 3 still open"):
        CapaCounts(opened=2, still_open=3)


def test_escalations_per_ten_pos_and_the_median_minutes_to_acknowledge():
    figures = escalation_figures({"critical": 2, "late": 1}, 12, {30.0: 1, 90.0: 2, 600.0: 1})
    assert figures.by_kind == {"critical": 2, "failed": 0, "late": 1}
    assert figures.total == 3
    assert figures.per_ten_pos == 2.5  # 3 in 12 POs
    assert figures.acknowledged == 4
    assert figures.median_minutes_to_acknowledge == 90.0  # 30, 90, 90, 600
    none = escalation_figures({}, 0)
    assert (none.total, none.per_ten_pos, none.median_minutes_to_acknowledge) == (0, None, None)
    with pytest.raises(ValueError, match="not escalation kinds"):
        escalation_figures({"urgent": 1}, 3)


# --- one score ---------------------------------------------------------------------------------


def test_a_score_from_its_facts():
    facts = ScoreFacts(
        name="Brightway",
        key=7,
        psi=DefectCounts(lots=2, units=400, critical=0, major=7, minor=12),
        sampled=DefectCounts(lots=3, units=525, critical=1, major=9, minor=15),
        lots=LotFacts(first_psis=12, decided=12, passed=10, on_time=9, pos=14),
        capas=CapaCounts(opened=4, still_open=1, recurrences=1, closure_days={2: 1, 4: 2}),
        escalations={"failed": 2},
        active_flags=1,
    )
    s = score(facts)
    assert s.psi_major.rate == pytest.approx(1.75)
    assert (s.psi_major.low, s.psi_major.high) == (
        pytest.approx(0.8502, abs=1e-4),
        pytest.approx(3.5677, abs=1e-4),
    )
    assert s.psi_critical.rate == 0.0 and s.psi_critical.high == pytest.approx(wilson(0, 400)[1])
    assert s.sampled_critical.rate == pytest.approx(100 / 525)
    assert s.sampled.found("all") == 25
    assert s.first_pass.percent == pytest.approx(100 * 10 / 12)
    assert s.on_time.percent == pytest.approx(75.0)  # 9 of 12 first PSIs
    assert s.pos == 14
    assert s.capas.closure.median_days == 4
    assert s.escalations.per_ten_pos == pytest.approx(10 * 2 / 14, abs=0.005)
    assert s.active_flags == 1
    # A reader who is not shown escalations gets none, not zero.
    assert score(ScoreFacts(name="x")).escalations is None
    assert score(ScoreFacts(name="x")).capas is None


def test_bad_facts_are_refused():
    with pytest.raises(ValueError, match="units: -1"):
        DefectCounts(units=-1)
    with pytest.raises(ValueError, match="defect_class"):
        DefectCounts(units=5).found("cosmetic")
    with pytest.raises(ValueError, match="first_psis: 2 first PSIs cannot have 3 decided"):
        LotFacts(first_psis=2, decided=3, passed=1)


# --- ranking -----------------------------------------------------------------------------------


def _supplier(name, units, major, decided=0, passed=0):
    return score(
        ScoreFacts(
            name=name,
            key=name,
            psi=DefectCounts(lots=1, units=units, major=major),
            lots=LotFacts(first_psis=decided, decided=decided, passed=passed),
        )
    )


def test_a_small_clean_sample_never_ranks_best():
    clean_but_small = _supplier("A", 32, 0)  # 0.0 (0.0-10.7)
    good = _supplier("B", 400, 7)  # 1.75 (0.85-3.57)
    worse = _supplier("C", 400, 20)  # 5.0 (3.26-7.6)
    unknown = _supplier("D", 0, 0)
    c_low, c_high = wilson(20, 400)
    assert c_low == pytest.approx(3.26, abs=0.01) and c_high == pytest.approx(7.6, abs=0.01)
    scores = [clean_but_small, worse, unknown, good]
    # Best first on the upper bound: 3.57, 7.6, 10.7, then the one not inspected.
    assert [s.name for s in rank(scores, "major-best")] == ["B", "C", "A", "D"]
    # Worst first on the lower bound: 3.26, 0.85, 0.
    assert [s.name for s in rank(scores, "major-worst")] == ["C", "B", "A", "D"]
    assert [s.name for s in rank(scores, "name")] == ["A", "B", "C", "D"]


def test_shares_rank_best_first_on_their_lower_bound():
    one_of_one = _supplier("A", 0, 0, decided=1, passed=1)  # 100 % (20.7-100)
    nine_of_ten = _supplier("B", 0, 0, decided=10, passed=9)  # 90 % (59.6-98.2)
    half = _supplier("C", 0, 0, decided=40, passed=20)  # 50 % (35.2-64.8)
    assert [s.name for s in rank([one_of_one, half, nine_of_ten], "first-pass-best")] == [
        "B",
        "C",
        "A",
    ]
    # Worst first on the upper bound: 64.8, 98.2, 100.
    assert [s.name for s in rank([one_of_one, half, nine_of_ten], "first-pass-worst")] == [
        "C",
        "B",
        "A",
    ]


def test_every_sort_runs_and_an_unknown_one_is_refused():
    scores = [_supplier("A", 100, 1), _supplier("B", 0, 0)]
    for sort in SORTS:
        assert len(rank(scores, sort)) == 2
    with pytest.raises(ValueError, match="sort: 'cheapest'"):
        rank(scores, "cheapest")


# --- the p-chart per factory -------------------------------------------------------------------


def test_factory_charts_per_class_and_all_classes_together():
    months = [
        MonthCounts("2025-01", DefectCounts(lots=1, units=100, critical=0, major=1, minor=1)),
        MonthCounts("2025-02", DefectCounts(lots=2, units=200, critical=1, major=2, minor=1)),
        MonthCounts("2025-03", DefectCounts(lots=1, units=100, critical=0, major=10, minor=4)),
    ]
    charts = factory_charts(months)
    assert set(charts) == set(CHART_CLASSES)
    everything = charts["all"]
    # All classes: 2 + 4 + 14 = 20 in 400 units, centre 5 per 100 (as in test_stats).
    assert everything.centre == pytest.approx(5.0)
    assert [p.found for p in everything.points] == [2, 4, 14]
    assert [p.out_of_control for p in everything.points] == [False, False, True]
    assert charts["major"].centre == pytest.approx(100 * 13 / 400)
    assert [p.found for p in charts["critical"].points] == [0, 1, 0]
    data = chart_data(everything)
    assert data["labels"] == ["2025-01", "2025-02", "2025-03"]
    assert data["units"] == [100, 200, 100] and data["found"] == [2, 4, 14]
    assert data["out"] == [False, False, True]
    assert data["centre"] == 5.0
    assert data["upper"][0] == pytest.approx(11.538, abs=1e-3)
    assert data["lower"][1] == pytest.approx(0.377, abs=1e-3)
