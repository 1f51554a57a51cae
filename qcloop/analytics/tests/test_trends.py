"""The trend test of qcloop.analytics.trends against figures worked out by hand (the
arithmetic is written beside each), and a seeded simulation of its false alarms and power.
No database: the module is pure Python."""

import math

import numpy as np
import pytest

from qcloop.analytics import trends
from qcloop.analytics.trends import Assessment, assess, look_alpha, strength_words

SEED = [(200, 4), (200, 8), (200, 12)]  # 2 % -> 4 % -> 6 %, every one within Ac 10


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X > k) for X ~ Binomial(n, p), summed term by term."""
    return 1 - sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def normal_tail(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


# --- the statistics by hand --------------------------------------------------------------


def test_cochran_armitage_statistic_of_the_seed():
    # p = 24 / 600 = 0.04; T = 0*4 + 1*8 + 2*12 = 32; E = 0.04 * (0 + 200 + 400) = 24;
    # T - E = 8; V = 0.04 * 0.96 * (200 * (0 + 1 + 4) - 600**2 / 600) = 0.0384 * 400 = 15.36
    excess, variance, z = trends.normal_trend([200, 200, 200], [4, 8, 12], [0, 1, 2])
    assert excess == pytest.approx(8.0)
    assert variance == pytest.approx(15.36)
    assert z == pytest.approx(8 / math.sqrt(15.36))  # 2.0412
    assert normal_tail(z) == pytest.approx(0.0206, abs=1e-4)


def test_edgeworth_term_vanishes_for_symmetric_scores():
    # Scores 0, 1, 2 on equal samples centre to -1, 0, 1: sum(n c^3) = 0, no skewness, so the
    # tail is the normal one, shifted by MID_P_WEIGHT - 1/2 = 0.1 to match the exact p:
    # z = (8 - 0.1) / sqrt(15.36) = 2.0157, 1 - Phi(2.0157) = 0.0219.
    assert trends.MID_P_WEIGHT == 0.6
    p = trends.edgeworth_p_value([200, 200, 200], [4, 8, 12], [0, 1, 2])
    assert p == pytest.approx(normal_tail(7.9 / math.sqrt(15.36)), abs=1e-12)
    assert p == pytest.approx(0.0219, abs=1e-4)


def test_edgeworth_correction_by_hand():
    # A baseline of 1,000 units with 20 defects, then 8 in 200. N = 1200, D = 28.
    p = 28 / 1200
    variance = p * (1 - p) * (200 - 200**2 / 1200)  # sum(n s^2) - (sum(n s))^2 / N
    z = (8 - p * 200 - 0.1) / math.sqrt(variance)  # (3.333 - 0.1) / 1.949 = 1.659
    mean_score = 200 / 1200
    third = 1000 * (0 - mean_score) ** 3 + 200 * (1 - mean_score) ** 3  # 111.1
    skew = p * (1 - p) * (1 - 2 * p) * third / variance**1.5  # 0.326
    density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    expected = normal_tail(z) + density * skew / 6 * (z * z - 1)  # 0.0486 + 0.0096
    assert expected == pytest.approx(0.0581, abs=1e-4)
    assert trends.edgeworth_p_value([1000, 200], [20, 8], [0, 1]) == pytest.approx(expected)
    # ... and it is close to the exact conditional mid-p, which the plain normal tail is not.
    exact, method = trends.trend_p_value([1000, 200], [20, 8], [0, 1])
    assert method == trends.METHOD_EXACT
    assert abs(exact - expected) < 0.004 < abs(exact - normal_tail(z))


def test_exact_null_enumerated_by_hand():
    # [(2, 0), (2, 1), (2, 2)], scores 0, 1, 2, D = 3 of N = 6. The spreads (d1, d2, d3) with
    # weight C(2, d1) C(2, d2) C(2, d3) and T = d2 + 2 d3:
    #   (0,1,2) 2 T=5   (0,2,1) 2 T=4   (1,0,2) 2 T=4   (1,1,1) 8 T=3
    #   (1,2,0) 2 T=2   (2,0,1) 2 T=2   (2,1,0) 2 T=1          total 20 = C(6, 3)
    null = trends.exact_null(np.array([2, 2, 2]), np.array([0, 1, 2]), 3)
    assert null == pytest.approx([0, 2 / 20, 4 / 20, 8 / 20, 4 / 20, 2 / 20, 0])
    # Observed T = 5, the largest: p = P(T > 5) + 0.6 P(T = 5) = 0 + 0.6 * 0.1 = 0.06
    # (Lancaster's mid-p, with weight 1/2, would say 0.05; the plain exact p 0.1).
    result = assess([(2, 0), (2, 1), (2, 2)])
    assert result.p_value == pytest.approx(0.06)
    assert result.method == trends.METHOD_EXACT
    assert result.strength == "weak"
    assert not result.escalating  # 0.06 > alpha 0.05


def test_history_is_pooled_into_one_hypergeometric_baseline():
    # Two earlier lots (10, 1), (10, 1) score 0 and pool to (20, 2); the PO's (5, 2) scores 1.
    # D = 4 of N = 25; the PO's count k is hypergeometric: C(5, k) C(20, 4 - k) / C(25, 4),
    # C(25, 4) = 12650; k = 2: 10 * 190 = 1900; k = 3: 10 * 20 = 200; k = 4: 5 * 1 = 5.
    # p = (200 + 5) / 12650 + 0.6 * 1900 / 12650 = 1345 / 12650 = 0.1063
    result = assess([(10, 1), (10, 1), (5, 2)], history=2)
    assert result.p_value == pytest.approx(1345 / 12650)
    assert result.baseline_rate == pytest.approx(10.0)  # 2 in 20
    assert result.latest_rate == pytest.approx(40.0)
    assert result.strength == "no evidence"
    assert not result.escalating


def test_seed_without_history_is_escalating_with_moderate_evidence():
    result = assess(SEED)
    # The exact p of the seed is close to the normal figure 0.0219 computed above.
    assert result.p_value == pytest.approx(0.0219, abs=0.001)
    assert result.escalating
    assert result.strength == "moderate"
    assert result.probability == pytest.approx(1 - result.p_value)


def test_large_counts_use_the_normal_approximation_and_agree_with_it():
    # 240 defects in 6,000 units: beyond EXACT_MAX_DEFECTS, the symmetric scores make the
    # Edgeworth term vanish: z = (80 - 0.1) / sqrt(0.04 * 0.96 * 4000) = 79.9 / 12.394.
    result = assess([(2000, 40), (2000, 80), (2000, 120)])
    assert result.method == trends.METHOD_NORMAL
    assert result.p_value == pytest.approx(normal_tail(79.9 / math.sqrt(153.6)))
    assert result.strength == "very strong"


# --- the verdicts the brief names --------------------------------------------------------


@pytest.mark.parametrize(
    "points",
    [
        [(200, 4), (200, 4), (200, 4), (200, 4), (125, 5), (200, 12)],
        [(200, 4), (200, 8), (200, 12)],
    ],
)
def test_escalating_series(points):
    assert assess(points).escalating


@pytest.mark.parametrize(
    "points",
    [
        [(200, 4)] * 6,
        [(125, 3), (200, 5), (200, 4)],
        [(200, 12), (200, 8), (200, 4)],  # falling
        [(200, 4)],
        [],
    ],
)
def test_not_escalating_series(points):
    result = assess(points)
    assert not result.escalating
    assert 0 <= result.probability <= 1


def test_history_gives_power_the_po_alone_lacks():
    # DUPRO 2.4 % (3 in 125) -> PSI 5.5 % (11 in 200): alone, n = 125 against n = 200 is not
    # enough; against five earlier lots at 2 % (20 in 1,000) it is.
    po = [(125, 3), (200, 11)]
    lots = [(200, 4)] * 5
    assert not assess(po).escalating
    with_history = assess(lots + po, history=5)
    assert with_history.escalating
    assert with_history.baseline_rate == pytest.approx(2.0)


# --- projection --------------------------------------------------------------------------


def test_projection_on_the_trajectory_by_hand():
    # Escalating: the line through 2, 4, 6 % (equal weights) is 2 + 2x %, at x = 3: 8 %.
    # P(more than Ac 10 in 200 at 8 %) = 1 - sum_{k<=10} C(200,k) .08^k .92^(200-k) = 0.93.
    result = assess(SEED, aql=2.5, next_sample_size=200, next_acceptance=10)
    assert result.projected_rate == pytest.approx(8.0)
    assert binomial_tail(10, 200, 0.08) == pytest.approx(0.93, abs=0.005)
    assert result.projected
    assert "8.0 %" in result.projection and "93 %" in result.projection
    assert result.projection in result.explanation


def test_projection_line_is_weighted_by_sample_size():
    # Rates 2 % (n 100), 2 % (n 100), 6 % (n 200) at x = 0, 1, 2. Weighted means: x 500 / 400
    # = 1.25, rate 16 / 400 = 0.04. Sxx = 100 * 1.5625 + 100 * 0.0625 + 200 * 0.5625 = 275;
    # Sxr = 100 * (-1.25)(-0.02) + 100 * (-0.25)(-0.02) + 200 * 0.75 * 0.02 = 6.
    # Slope 6 / 275 = 0.021818, intercept 0.04 - 1.25 * 0.021818 = 0.012727;
    # at x = 3: 0.012727 + 3 * 0.021818 = 0.078182 -> 7.818 %.
    result = assess([(100, 2), (100, 2), (200, 12)], aql=2.5)
    assert result.escalating
    assert result.projected_rate == pytest.approx(7.8182, abs=1e-4)
    assert result.projected  # no next plan: 7.8 % is above the AQL 2.5


def test_projection_uses_the_po_milestones_when_history_is_known():
    # Baseline 1 % (10 in 1,000); PO 2 % (2 in 100) -> 4 % (8 in 200): the PO's own line
    # through two points, one step on: 6 %.
    result = assess([(1000, 10), (100, 2), (200, 8)], history=1, aql=2.5)
    assert result.escalating
    assert result.projected_rate == pytest.approx(6.0)


def test_no_rising_trend_projects_the_pooled_rate():
    # Not escalating: 12 defects in 525 units = 2.286 %, below AQL 2.5 and above 2.0.
    points = [(125, 3), (200, 5), (200, 4)]
    assert assess(points, aql=2.5).projected_rate == pytest.approx(100 * 12 / 525)
    assert not assess(points, aql=2.5).projected
    assert assess(points, aql=2.0).projected
    # With the next plan: P(more than 10 in 200 at 2.286 %) is about 1 %: not projected.
    planned = assess(points, aql=2.0, next_sample_size=200, next_acceptance=10)
    assert binomial_tail(10, 200, 12 / 525) < 0.02
    assert not planned.projected


def test_no_aql_no_projection_sentence():
    result = assess(SEED)
    assert not result.projected
    assert result.projection == ""
    assert result.projected_rate == pytest.approx(8.0)


# --- words -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p_value", "words"),
    [
        (0.0, "very strong"),
        (0.001, "very strong"),
        (0.0011, "strong"),
        (0.01, "strong"),
        (0.0101, "moderate"),
        (0.05, "moderate"),
        (0.0501, "weak"),
        (0.10, "weak"),
        (0.1001, "no evidence"),
        (1.0, "no evidence"),
    ],
)
def test_strength_words_at_the_boundaries(p_value, words):
    assert strength_words(p_value) == words


def test_explanation_states_the_numbers():
    lots = [(200, 4)] * 5
    labels = [f"lot {i}" for i in range(1, 6)] + ["DUPRO", "PSI", "PSI #2"]
    result = assess([*lots, (125, 3), (200, 8), (200, 12)], history=5, labels=labels)
    text = result.explanation
    for piece in (
        "5 earlier lots: 2.0 % (20 in 1000)",
        "DUPRO 2.4 % (3 in 125)",
        "PSI 4.0 % (8 in 200)",
        "PSI #2 6.0 % (12 in 200)",
        f"p = {result.p_value:.4f}",
        result.strength,
        "Escalating",
    ):
        assert piece in text, piece
    assert result.points_used == 8


def test_skipped_points_are_named():
    result = assess([(200, 4), (0, 0), (200, 12)], labels=["DUPRO", "PSI", "PSI #2"])
    assert result.points_used == 2
    assert "Skipped (no units inspected): PSI." in result.explanation


# --- any input of the shape --------------------------------------------------------------


@pytest.mark.parametrize(
    "points",
    [[], [(0, 0)], [(0, 0), (0, 0)], [(200, 0)] * 4, [(5, 5), (5, 5)], [(200, 3)]],
)
def test_degenerate_inputs_give_no_test(points):
    result = assess(points)
    assert isinstance(result, Assessment)
    assert result.method == trends.METHOD_NONE
    assert result.p_value == 1.0
    assert not result.escalating
    assert result.strength == "no evidence"


def test_huge_history_is_fast_and_calibrated():
    # 2,000 earlier lots at 2 % and a PO at 2 %: one pooled baseline, no alarm.
    rng = np.random.default_rng(1)
    lots = [(200, int(d)) for d in rng.binomial(200, 0.02, 2000)]
    result = assess([*lots, (125, 2), (200, 4)], history=2000)
    assert not result.escalating
    assert result.baseline_rate == pytest.approx(100 * sum(d for _, d in lots) / 400_000)
    # Without history the 2,002 points are one stream (index scores, normal approximation).
    assert assess([*lots, (125, 2), (200, 4)]).method == trends.METHOD_NORMAL


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(200, 4), (200, -1)], "points[1]"),
        ([(200, 4), (-5, 0)], "points[1]"),
        ([(200, 4), (200, 8), (10, 11)], "points[2]: 11 defects in a sample of 10"),
        ([(200, 4.0)], "points[0]"),
        ([(200, True)], "points[0]"),
        ([(200, 4, 1)], "points[0]"),
        ([(200, 4), 7], "points[1]"),
        ([(200, 4), "ab"], "points[1]"),
        ("200,4", "points"),
        (None, "points"),
    ],
)
def test_bad_points_name_the_problem(points, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        assess(points)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"history": 4}, "history"),
        ({"history": -1}, "history"),
        ({"labels": ["a"]}, "labels"),
        ({"alpha": 0}, "alpha"),
        ({"aql": -2.5}, "aql"),
        ({"next_sample_size": 10, "next_acceptance": 11}, "next_acceptance"),
    ],
)
def test_bad_options_name_the_problem(options, message):
    with pytest.raises(ValueError, match=message):
        assess(SEED, **options)


def test_numpy_integers_are_accepted():
    points = [(np.int64(n), np.int32(d)) for n, d in SEED]
    assert assess(points).p_value == assess(SEED).p_value


# --- simulation (seeded: deterministic) --------------------------------------------------


def test_false_alarms_on_stable_series_stay_near_five_percent():
    # 2,000 stable series: base rates 0.5-6 %, PO plans from 13 to 500 units, with and
    # without five earlier lots. bench/trend_detection.py measures the same at 10,000 each.
    rng = np.random.default_rng(2859)
    plans = ([13, 32, 50], [50, 125, 200, 200], [80, 200, 500], [125, 200])
    alarms = 0
    for i in range(2000):
        rate = (0.005, 0.01, 0.02, 0.04, 0.06)[i % 5]
        sizes = plans[i % 4]
        history = 5 if i % 3 else None
        lots = [200] * 5 if history else []
        found = rng.binomial(lots + sizes, rate)
        alarms += assess(
            [(n, int(d)) for n, d in zip(lots + sizes, found, strict=True)], history=history
        ).escalating
    assert alarms / 2000 <= 0.06


def test_seed_with_five_earlier_lots_is_detected():
    # DUPRO 2 % (n 125) -> PSI 4 % (n 200) -> re-inspection 6 % (n 200) after five lots at
    # 2 % (n 200). Measured: 90 % flagged (the oracle Neyman-Pearson test: about 96 %;
    # plain AQL judgement: about 73 %, see bench/trend_detection.py).
    rng = np.random.default_rng(7)
    sizes = [200] * 5 + [125, 200, 200]
    rates = [0.02] * 5 + [0.02, 0.04, 0.06]
    draws = rng.binomial(sizes, rates, size=(1000, len(sizes)))
    flagged = sum(
        assess([(n, int(d)) for n, d in zip(sizes, row, strict=True)], history=5).escalating
        for row in draws
    )
    assert flagged / 1000 > 0.85


def test_each_look_spends_its_part_of_the_pos_five_percent():
    # Before the PSI 0.01 in all: 0.005, then 0.0025; the PSI 0.03; after it 0.01 in all.
    assert look_alpha(["DUPRO"]) == pytest.approx(0.005)
    assert look_alpha(["IPC", "DUPRO"]) == pytest.approx(0.0025)
    assert look_alpha(["DUPRO", "PSI"]) == pytest.approx(0.03)
    assert look_alpha(["PSI"]) == pytest.approx(0.03)
    assert look_alpha(["DUPRO", "PSI", "PSI"]) == pytest.approx(0.005)
    assert look_alpha(["DUPRO", "PSI", "PSI", "CLI"]) == pytest.approx(0.0025)
    # The longest PO spends at most 0.05: 0.005 + 0.0025 + 0.03 + 0.005 + 0.0025 + 0.00125.
    kinds = ["IPC", "DUPRO", "PSI", "PSI", "PSI", "CLI"]
    spent = sum(look_alpha(kinds[: k + 1]) for k in range(len(kinds)))
    assert spent == pytest.approx(0.04625) and spent <= 0.05
