"""The PO summary's reasoning on plain figures, no database: defect rates with Wilson
intervals, the trend across milestones (the seed's 2 % -> 4 % -> 6 % flagged as escalating),
the recommendation for the next PO with its reasons, the timeline, and the SVG charts."""

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcloop.reports.charts import defect_rate_chart, esc, nice_ceiling, timeline_chart
from qcloop.reports.summary_logic import (
    CLASSES,
    DIRECTIONS,
    RULE_ORDER,
    MilestoneFacts,
    SummaryFacts,
    TrendTest,
    defect_rates,
    planned_share,
    rate_interval,
    recommend,
    timeline,
    trend,
    wilson_interval,
)

SVG = "{http://www.w3.org/2000/svg}"
FAST = settings(max_examples=60, deadline=None)
START = date(2025, 3, 3)
# PSI plan for a lot of 3,200 at level II: code letter L, n = 200; major AQL 2.5 (Ac 10 /
# Re 11), minor AQL 4.0 (Ac 14 / Re 15), critical 0 accepted.
PLAN_200 = {"critical": (0, 1), "major": (10, 11), "minor": (14, 15)}
# Code letter J, n = 80: major 2.5 -> Ac 5 / Re 6, minor 4.0 -> Ac 7 / Re 8.
PLAN_80 = {"critical": (0, 1), "major": (5, 6), "minor": (7, 8)}


def day(offset: int) -> date:
    return START + timedelta(days=offset)


def milestone(kind, label=None, at=0, **kw) -> MilestoneFacts:
    """A milestone inspected on its window's first day, passed and clean unless told."""
    kw.setdefault("window_start", day(at))
    kw.setdefault("window_end", day(at + 2))
    kw.setdefault("inspection_date", day(at))
    kw.setdefault("result", "pass")
    return MilestoneFacts(kind=kind, label=label or kind, **kw)


def clean_po(history=("pass",) * 4, **kw) -> SummaryFacts:
    """A clean, on-time PO: production 3 Mar to 14 Apr (42 days), all four milestones."""
    milestones = kw.pop(
        "milestones",
        [
            milestone("IPC", at=1, sampled_units=13, acceptance={"critical": (0, 1)}),
            milestone(
                "DUPRO",
                at=21,
                sampled_units=80,
                found={"minor": 2},
                acceptance=PLAN_80,
                produced_share=0.5,
                reported_share=0.52,
            ),
            milestone(
                "PSI",
                at=38,
                sampled_units=200,
                found={"major": 3, "minor": 5},
                acceptance=PLAN_200,
                produced_share=1.0,
                packed_share=0.9,
            ),
            milestone("CLI", at=45),
        ],
    )
    kw.setdefault("production_start", START)
    kw.setdefault("ex_factory_planned", day(42))
    kw.setdefault("ship_planned", day(45))
    kw.setdefault("projected_completion", day(40))
    kw.setdefault("shipped_on", day(45))
    return SummaryFacts(
        milestones=milestones, ordered_units=3200, supplier_history=list(history), **kw
    )


def seed_escalation() -> SummaryFacts:
    """The seed's example: 2 % at DUPRO, 4 % at PSI, 6 % at the re-inspection, each within
    AQL (n = 200, major Ac 10 / Re 11 at PSI; the re-inspection's plan allows 14)."""
    return clean_po(
        milestones=[
            milestone("IPC", at=1, sampled_units=13, acceptance={"critical": (0, 1)}),
            milestone("DUPRO", at=21, sampled_units=200, found={"major": 4}, acceptance=PLAN_200),
            milestone("PSI", at=36, sampled_units=200, found={"major": 8}, acceptance=PLAN_200),
            milestone(
                "PSI",
                "PSI #2",
                at=39,
                sampled_units=200,
                found={"major": 12},
                acceptance={"critical": (0, 1), "major": (14, 15), "minor": (21, 22)},
            ),
            milestone("CLI", at=45),
        ]
    )


def major_test(**kw) -> TrendTest:
    """The major class's trend test as a milestone report states it (analytics.flags)."""
    kw.setdefault("sentence", "Major defects are escalating: 1.5 → 2.5 per 100 units (DUPRO, PSI).")
    return TrendTest(defect_class="major", **kw)


# --- rates and intervals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (2, 100, 0.0055, 0.0700),
    ],
)
def test_wilson_interval_matches_published_figures(found, n, low, high):
    got_low, got_high = wilson_interval(found, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_reaches_the_ends_exactly():
    assert wilson_interval(0, 125)[0] == 0.0
    assert wilson_interval(125, 125)[1] == 1.0


def test_wilson_interval_refuses_impossible_counts():
    with pytest.raises(ValueError, match="n:"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="found:"):
        wilson_interval(5, 4)


def test_more_defects_than_units_uses_a_poisson_interval():
    rate, low, high = rate_interval(30, 20)  # 1.5 defects a unit
    assert rate == 150.0
    assert low < rate < high
    assert low == pytest.approx(105.08, abs=0.01)
    assert high == pytest.approx(214.13, abs=0.01)


@FAST
@given(st.integers(1, 5000), st.data())
def test_wilson_interval_holds_the_estimate_within_zero_and_one(n, data):
    found = data.draw(st.integers(0, n))
    low, high = wilson_interval(found, n)
    assert 0.0 <= low <= found / n <= high <= 1.0


@FAST
@given(st.integers(1, 400), st.integers(0, 2000))
def test_rate_interval_always_contains_the_rate(n, found):
    rate, low, high = rate_interval(found, n)
    assert low <= rate <= high
    assert low >= 0.0


def test_defect_rates_per_milestone_and_class():
    points = defect_rates(clean_po())
    assert len(points) == 4 * 3
    assert [p.defect_class for p in points[:3]] == list(CLASSES)
    psi_major = next(p for p in points if p.label == "PSI" and p.defect_class == "major")
    assert psi_major.rate == pytest.approx(1.5)  # 3 in 200
    assert psi_major.found == 3 and psi_major.sampled_units == 200
    assert (psi_major.ac, psi_major.re, psi_major.passed) == (10, 11, True)
    assert psi_major.low == pytest.approx(0.51, abs=0.01)
    assert psi_major.high == pytest.approx(4.32, abs=0.01)
    cli = [p for p in points if p.label == "CLI"]
    assert all(p.rate is None and p.low is None and not p.sampled for p in cli)


def test_zero_units_counts_as_not_sampled():
    facts = clean_po(milestones=[milestone("DUPRO", sampled_units=0, found={"major": 0})])
    assert all(not p.sampled for p in defect_rates(facts))


def test_pass_falls_back_to_the_verdict_without_a_plan():
    facts = clean_po(
        milestones=[
            milestone("PSI", sampled_units=50, found={"major": 9}, result="fail"),
            milestone("PSI", "PSI #2", at=5, sampled_units=50, found={"major": 1}),
        ]
    )
    passed = [p.passed for p in defect_rates(facts) if p.defect_class == "major"]
    assert passed == [False, True]


def test_bad_input_is_refused_with_the_field_named():
    with pytest.raises(ValueError, match="kind:"):
        milestone("FRI")
    with pytest.raises(ValueError, match="found:"):
        milestone("PSI", sampled_units=10, found={"cosmetic": 1})
    with pytest.raises(ValueError, match="acceptance:"):
        milestone("PSI", sampled_units=10, acceptance={"major": (3, 3)})
    with pytest.raises(ValueError, match="window_end:"):
        milestone("PSI", window_start=day(5), window_end=day(4))
    with pytest.raises(ValueError, match="supplier_history:"):
        clean_po(history=["pass", "rejected"])


# --- trend ---------------------------------------------------------------------------------


def test_two_four_six_percent_is_escalating_although_each_milestone_passed():
    points = defect_rates(seed_escalation())
    assert all(p.passed for p in points if p.sampled)
    result = trend(points)
    assert result.direction == "escalating"
    assert result.flagged
    assert result.driver == "major"
    major = result.classes["major"]
    assert major.rates[-3:] == pytest.approx([2.0, 4.0, 6.0])
    assert major.rising_run >= 3
    assert "2.0 → 4.0 → 6.0" in result.headline
    assert "within its own acceptance number" in result.headline
    assert result.classes["critical"].direction == "steady"


def test_a_rising_run_that_already_failed_is_worsening_not_escalating():
    facts = seed_escalation()
    last_psi = replace(facts.milestones[3], acceptance=PLAN_200, result="fail")  # 12 > Ac 10
    facts = replace(facts, milestones=[*facts.milestones[:3], last_psi, facts.milestones[4]])
    assert trend(defect_rates(facts)).direction == "worsening"


def test_a_failed_climb_is_told_from_its_own_start():
    facts = clean_po(
        milestones=[
            milestone("DUPRO", sampled_units=100, found={"major": 9}),
            milestone("PSI", at=10, sampled_units=100, found={"major": 1}),
            milestone("PSI", "PSI #2", at=13, sampled_units=100, found={"major": 3}),
            milestone("PSI", "PSI #3", at=16, sampled_units=100, found={"major": 5}, result="fail"),
        ]
    )
    result = trend(defect_rates(facts))
    assert result.direction == "worsening"
    assert result.classes["major"].sentences[0] == (
        "PSI #3 major defects 5.0 per 100 units, up from 1.0 at PSI."
    )


def test_escalating_without_a_plan_does_not_claim_the_acceptance_numbers():
    facts = clean_po(
        milestones=[
            milestone(
                k, label, at=5 * i, sampled_units=100, found={"minor": 2 * (i + 1)}, result=""
            )
            for i, (k, label) in enumerate([("DUPRO", "DUPRO"), ("PSI", "PSI"), ("PSI", "PSI #2")])
        ]
    )
    result = trend(defect_rates(facts))
    assert result.direction == "escalating"
    assert "although no milestone failed on it" in result.headline


def test_two_milestones_clearly_apart_are_worsening_with_the_figures():
    facts = clean_po(
        milestones=[
            milestone("DUPRO", sampled_units=125, found={"major": 2}, acceptance=PLAN_200),
            milestone("PSI", at=20, sampled_units=125, found={"major": 6}, acceptance=PLAN_200),
        ]
    )
    result = trend(defect_rates(facts))
    assert result.direction == "worsening"
    assert "PSI major defects 4.8 per 100 units, up from 1.6 at DUPRO" in result.headline
    assert result.classes["major"].intervals_overlap is True
    assert any("may be sampling chance" in s for s in result.sentences)


def test_falling_rates_are_improving():
    facts = clean_po(
        milestones=[
            milestone("DUPRO", sampled_units=200, found={"minor": 12}),
            milestone("PSI", at=20, sampled_units=200, found={"minor": 3}),
        ]
    )
    result = trend(defect_rates(facts))
    assert result.direction == "improving"
    assert "down from 6.0 at DUPRO" in result.headline


@pytest.mark.parametrize(
    ("rates", "direction"),
    [
        ([2.0, 2.8, 3.6], "steady"),  # steps under MIN_STEP, rise under CLEAR_ABS
        ([2.0, 3.0, 4.0], "escalating"),  # three milestones, steps of exactly MIN_STEP
        ([1.0, 3.0], "worsening"),  # only two milestones: at most worsening
        ([1.0, 2.9], "steady"),  # under CLEAR_ABS
        ([10.0, 12.0], "steady"),  # a rise on a high base, under CLEAR_RATIO
        ([0.0, 2.0], "worsening"),  # from nothing to two per 100 is clear
        ([0.0, 1.5], "steady"),
        ([3.0, 1.0, 3.0, 5.0], "escalating"),  # the run that counts ends at the latest
        ([3.0, 5.0, 7.0, 6.0], "worsening"),  # the climb stopped, but last is above first
        ([6.0, 2.0], "improving"),
        ([3.0, 1.5], "steady"),  # a fall under CLEAR_ABS
        ([4.0], "not enough data"),
    ],
)
def test_trend_thresholds(rates, direction):
    facts = clean_po(
        milestones=[
            milestone(
                "PSI",
                f"PSI #{i + 1}",
                at=3 * i,
                sampled_units=1000,
                found={"minor": round(rate * 10)},
            )
            for i, rate in enumerate(rates)
        ]
    )
    assert trend(defect_rates(facts)).classes["minor"].direction == direction


def test_no_sampled_milestone_is_not_enough_data():
    facts = clean_po(milestones=[milestone("IPC"), milestone("CLI", at=30)])
    result = trend(defect_rates(facts))
    assert result.direction == "not enough data"
    assert result.driver is None
    assert "no milestone was sampled" in result.headline
    assert trend([]).direction == "not enough data"


def test_a_clean_run_is_steady_and_says_so():
    result = trend(defect_rates(clean_po()))
    assert result.direction == "steady"
    assert result.headline.startswith("Steady: no defect class moved clearly between DUPRO and PSI")
    assert any("No critical defects" in s for s in result.sentences)


@FAST
@given(st.lists(st.integers(0, 60), min_size=0, max_size=6), st.integers(50, 400))
def test_trend_always_answers_with_a_known_direction(counts, n):
    facts = clean_po(
        milestones=[
            milestone("PSI", f"PSI #{i + 1}", at=3 * i, sampled_units=n, found={"major": c})
            for i, c in enumerate(counts)
        ]
    )
    result = trend(defect_rates(facts))
    assert result.direction in DIRECTIONS
    assert result.headline and all(result.sentences)
    if len(counts) >= 3 and all(100 * (b - a) >= n for a, b in pairwise(counts)):
        assert result.direction == "escalating"


# --- recommendation ------------------------------------------------------------------------


def test_clean_po_with_a_clean_history_is_psi_and_cli_only():
    rec = recommend(clean_po())
    assert rec.code == "psi_and_cli_only"
    assert rec.next_po_milestones == ["PSI", "CLI"]
    assert rec.sampling == "normal"
    assert rec.reasons[0].startswith("The supplier's last 4 earlier PSIs passed")
    assert any("3 major defects in 200 units (1.5 per 100)" in r for r in rec.reasons)
    assert [o.code for o in rec.considered] == list(RULE_ORDER)


def test_ten_straight_passes_propose_reduced_sampling():
    rec = recommend(clean_po(history=["fail"] + ["pass"] * 10))
    assert rec.code == "psi_and_cli_only"
    assert rec.sampling == "reduced"
    assert any("11 consecutive PSIs passed, this PO's included" in r for r in rec.reasons)


def test_short_history_drops_only_the_ipc():
    rec = recommend(clean_po(history=["pass", "pass"]))
    assert rec.code == "drop_ipc"
    assert rec.next_po_milestones == ["DUPRO", "PSI", "CLI"]
    assert rec.reasons[0] == (
        "IPC passed with no failed check on materials, tooling or first-off units."
    )
    assert any("only 2 earlier PSIs on record" in r for r in rec.reasons)


def test_a_first_po_keeps_full_monitoring():
    rec = recommend(clean_po(history=()))
    assert rec.code == "keep_full_monitoring"
    assert rec.next_po_milestones == ["IPC", "DUPRO", "PSI", "CLI"]
    assert any("first PO with this supplier" in r for r in rec.reasons)


def test_an_ipc_with_failed_checks_keeps_full_monitoring():
    facts = clean_po()
    ipc = replace(facts.milestones[0], failed_checks=2)
    rec = recommend(replace(facts, milestones=[ipc, *facts.milestones[1:]]))
    assert rec.code == "keep_full_monitoring"
    assert "IPC found 2 failed checks on materials, tooling or first-off units." in rec.reasons


def test_a_failed_psi_tightens_sampling_citing_the_figures():
    facts = clean_po()
    ipc, dupro, psi, cli = facts.milestones
    psi = replace(psi, result="fail", found={"major": 13, "minor": 5})
    psi2 = milestone(
        "PSI", "PSI #2", at=41, sampled_units=200, found={"major": 4}, acceptance=PLAN_200
    )
    rec = recommend(replace(facts, milestones=[ipc, dupro, psi, psi2, cli]))
    assert rec.code == "tighten_sampling"
    assert rec.sampling == "tightened"
    assert rec.next_po_milestones == ["IPC", "DUPRO", "PSI", "CLI"]
    assert rec.reasons[0] == (
        "PSI failed: 13 major defects in 200 units (6.5 per 100) against Ac 10 / Re 11; "
        "it passed at PSI #2."
    )


def test_an_escalating_trend_tightens_sampling():
    rec = recommend(seed_escalation())
    assert rec.code == "tighten_sampling"
    assert any("2.0 → 4.0 → 6.0 per 100 units" in r for r in rec.reasons)


def test_systematic_defects_tighten_sampling():
    facts = clean_po()
    dupro = replace(facts.milestones[1], systematic_defects=1)
    rec = recommend(replace(facts, milestones=[facts.milestones[0], dupro, *facts.milestones[2:]]))
    assert rec.code == "tighten_sampling"
    assert rec.reasons == [
        "1 systematic defect at DUPRO: the same fault on many units points to the process, "
        "not to chance."
    ]


def test_a_critical_defect_holds_the_supplier_for_review():
    facts = clean_po()
    psi = replace(
        facts.milestones[2],
        result="fail",
        found={"critical": 1, "major": 3},
        critical_descriptions=["exposed live wire at the plug"],
    )
    rec = recommend(replace(facts, milestones=[*facts.milestones[:2], psi, facts.milestones[3]]))
    assert rec.code == "hold_and_review_supplier"
    assert rec.sampling == "tightened"
    assert rec.reasons[0].startswith(
        "1 critical defect found at PSI in 200 units inspected (exposed live wire at the plug)"
    )
    # The failed PSI is not lost: it is a note under the decisive rule.
    assert any(n.startswith("PSI failed") for n in rec.notes)


def test_psi_failing_twice_on_the_po_holds_the_supplier():
    facts = clean_po()
    psi = replace(facts.milestones[2], result="fail", found={"major": 12})
    psi2 = replace(psi, label="PSI #2", inspection_date=day(41))
    rec = recommend(replace(facts, milestones=[*facts.milestones[:2], psi, psi2]))
    assert rec.code == "hold_and_review_supplier"
    assert "PSI failed 2 times on this PO (PSI, PSI #2)" in rec.reasons[0]


def test_a_failing_history_with_this_psi_failing_holds_the_supplier():
    facts = clean_po(history=["pass", "fail", "pass", "pass"])
    psi = replace(facts.milestones[2], result="fail", found={"major": 12})
    rec = recommend(replace(facts, milestones=[*facts.milestones[:2], psi]))
    assert rec.code == "hold_and_review_supplier"
    assert rec.reasons[0].startswith(
        "2 of the supplier's last 5 PSIs failed, counting this PO's PSI (failed): two failures"
    )


def test_a_failing_history_alone_holds_the_supplier():
    rec = recommend(clean_po(history=["pass", "fail", "pass", "fail"]))
    assert rec.code == "hold_and_review_supplier"
    assert rec.reasons[0].startswith(
        "2 of the supplier's last 5 PSIs failed, counting this PO's PSI (passed)"
    )
    rec = recommend(clean_po(history=["fail", "fail", "pass", "pass", "pass", "pass"]))
    assert rec.code != "hold_and_review_supplier"  # both failures are older than five lots


def test_capas_open_at_psi_hold_the_supplier():
    rec = recommend(clean_po(capas_opened=3, capas_open_at_psi=2, capas_verified=1))
    assert rec.code == "hold_and_review_supplier"
    assert rec.reasons == [
        "2 corrective actions still open at PSI (of 3 opened): the supplier did not close "
        "the loop in time."
    ]


def test_late_production_adds_a_dupro_recheck():
    facts = clean_po(projected_completion=day(49), shipped_on=day(52), ship_planned=day(45))
    rec = recommend(facts)
    assert rec.code == "add_dupro_recheck"
    assert rec.next_po_milestones == ["IPC", "DUPRO", "DUPRO #2", "PSI", "CLI"]
    assert rec.sampling == "normal"
    assert rec.reasons == [
        "Production was complete on 21 Apr 2025, 7 days after the planned ex-factory date of "
        "14 Apr 2025.",
        "Loaded on 24 Apr 2025, 7 days after the planned shipment date of 17 Apr 2025.",
    ]


def test_production_behind_plan_and_over_reported_adds_a_dupro_recheck():
    facts = clean_po()
    dupro = replace(facts.milestones[1], produced_share=0.25, reported_share=0.45)
    rec = recommend(replace(facts, milestones=[facts.milestones[0], dupro, *facts.milestones[2:]]))
    assert rec.code == "add_dupro_recheck"
    assert rec.reasons == [
        "At DUPRO on 24 Mar 2025 production was 25 % complete against 50 % planned for that "
        "date (25 points behind).",
        "At DUPRO the factory reported 45 % produced but 25 % was counted (20 points "
        "over-reported).",
    ]


def test_a_failed_dupro_with_a_passed_psi_adds_a_dupro_recheck():
    facts = clean_po()
    dupro = replace(facts.milestones[1], result="fail", found={"major": 7, "minor": 2})
    rec = recommend(replace(facts, milestones=[facts.milestones[0], dupro, *facts.milestones[2:]]))
    assert rec.code == "add_dupro_recheck"
    assert rec.reasons[0].startswith(
        "DUPRO failed (7 major defects in 80 units (8.8 per 100) against Ac 5 / Re 6) but PSI "
        "passed"
    )


def test_higher_rules_keep_the_recheck_when_production_was_late():
    facts = clean_po(projected_completion=day(49))
    dupro = replace(facts.milestones[1], systematic_defects=2)
    rec = recommend(replace(facts, milestones=[facts.milestones[0], dupro, *facts.milestones[2:]]))
    assert rec.code == "tighten_sampling"
    assert "DUPRO #2" in rec.next_po_milestones
    assert any("7 days after the planned ex-factory date" in n for n in rec.notes)


# --- the trend reconciled with the trend tests of the milestone reports ----------------------


def test_a_flagged_test_makes_a_steady_run_escalating_and_heads_the_summary():
    # 0.5 -> 1.5 per 100 between DUPRO and PSI is steady by the run's thresholds; against the
    # supplier's earlier lots the test flagged it, and the summary says so, once.
    flagged = major_test(escalating=True, p_value=0.004, strength="strong", raised_at="PSI")
    result = trend(defect_rates(clean_po()), [flagged])
    assert result.direction == "escalating" and result.flagged
    assert result.headline == flagged.sentence
    assert result.classes["major"].sentences[0] == flagged.sentence
    assert not any("held steady" in s and s.startswith("Major") for s in result.sentences)
    assert result.standing == [flagged]
    rec = recommend(clean_po(), result)
    assert rec.code == "tighten_sampling" and flagged.sentence in rec.reasons


def test_a_rise_at_every_step_the_test_does_not_support_is_worsening_with_its_evidence():
    weak = major_test(p_value=0.053, strength="weak", sentence="Major defects are not flagged.")
    result = trend(defect_rates(seed_escalation()), [weak])
    major = result.classes["major"]
    assert major.direction == "worsening" and result.direction == "worsening"
    assert major.sentences[0].startswith(
        "Major defects rose at every milestone, 2.0 → 4.0 → 6.0 per 100 units (DUPRO, PSI, "
        "PSI #2), but the trend test against the supplier's history finds it could be chance "
        "(p = 0.053, weak evidence)"
    )
    assert recommend(seed_escalation(), result).code == "tighten_sampling"


def test_a_flagged_code_escalates_the_po_though_its_class_is_steady():
    code = TrendTest(
        defect_class="major",
        code="LGT-FUN-002",
        name="Flicker",
        escalating=True,
        p_value=0.0004,
        strength="very strong",
        sentence="Flicker (LGT-FUN-002, major) is escalating: 0.5 → 2.0 per 100 units.",
        raised_at="PSI",
    )
    steady = major_test(p_value=0.4, sentence="Major defects are not flagged as escalating.")
    result = trend(defect_rates(clean_po()), [steady, code])
    assert result.direction == "escalating" and result.headline == code.sentence
    assert result.classes["major"].direction == "steady"
    assert recommend(clean_po(), result).reasons == [code.sentence]


def test_a_cleared_flag_is_told_and_no_longer_tightens():
    cleared = major_test(escalating=False, p_value=0.3, raised_at="DUPRO", cleared_at="PSI")
    result = trend(defect_rates(clean_po()), [cleared])
    assert not cleared.flagged and result.direction == "steady" and not result.flagged
    assert any(
        s == "The trend test flagged major defects at DUPRO; PSI no longer supported it."
        for s in result.sentences
    )
    assert recommend(clean_po(), result).code == "psi_and_cli_only"


def test_a_trend_test_refuses_a_bad_class_or_p_value():
    with pytest.raises(ValueError, match="defect_class"):
        TrendTest(defect_class="severe")
    with pytest.raises(ValueError, match="p_value"):
        TrendTest(defect_class="major", p_value=1.5)


def test_a_precomputed_trend_is_used():
    facts = clean_po()
    escalating = trend(defect_rates(seed_escalation()))
    assert recommend(facts, escalating).code == "tighten_sampling"


def test_missing_dates_and_samples_still_recommend():
    facts = SummaryFacts(
        milestones=[milestone("PSI", inspection_date=None, result="pending")],
        ordered_units=0,
        ex_factory_planned=day(40),
        ship_planned=day(45),
    )
    rec = recommend(facts)
    assert rec.code == "keep_full_monitoring"
    assert rec.reasons
    rows = timeline(facts)
    assert rows[0].status == "not inspected" and rows[0].planned_share is None
    assert rows[1].status == "not known" and not rows[1].projected


@st.composite
def summaries(draw):
    milestones = []
    for i, kind in enumerate(
        draw(st.lists(st.sampled_from(["IPC", "DUPRO", "PSI", "CLI"]), max_size=6))
    ):
        units = draw(st.one_of(st.none(), st.integers(0, 500)))
        found = {c: draw(st.integers(0, 30)) for c in CLASSES} if units else {}
        milestones.append(
            milestone(
                kind,
                f"{kind} #{i + 1}",
                at=7 * i,
                sampled_units=units,
                found=found,
                result=draw(st.sampled_from(["pass", "fail", "pending", ""])),
                acceptance=draw(st.sampled_from([{}, PLAN_80, PLAN_200])),
                inspection_date=draw(st.one_of(st.none(), st.just(day(7 * i + 1)))),
                produced_share=draw(st.one_of(st.none(), st.floats(0, 1.2))),
                reported_share=draw(st.one_of(st.none(), st.floats(0, 1.2))),
                failed_checks=draw(st.integers(0, 3)),
                systematic_defects=draw(st.integers(0, 1)),
                photo_flags=draw(st.integers(0, 1)),
            )
        )
    return SummaryFacts(
        milestones=milestones,
        ordered_units=draw(st.integers(0, 10_000)),
        production_start=draw(st.one_of(st.none(), st.just(START), st.just(day(60)))),
        ex_factory_planned=day(42),
        ship_planned=day(45),
        projected_completion=draw(st.one_of(st.none(), st.integers(30, 60).map(day))),
        shipped_on=draw(st.one_of(st.none(), st.integers(40, 60).map(day))),
        capas_opened=draw(st.integers(0, 3)),
        capas_open_at_psi=draw(st.integers(0, 1)),
        capas_verified=draw(st.integers(0, 3)),
        escalations=draw(st.integers(0, 2)),
        supplier_history=draw(st.lists(st.sampled_from(["pass", "fail"]), max_size=12)),
    )


@FAST
@given(summaries())
def test_every_recommendation_is_explained(facts):
    rec = recommend(facts)
    assert rec.code in RULE_ORDER
    assert rec.reasons and all(isinstance(r, str) and r.strip() for r in rec.reasons)
    assert rec.next_po_milestones
    assert rec.sampling in ("normal", "tightened", "reduced")
    fired = [o.code for o in rec.considered if o.fired]
    assert rec.code == fired[0]  # the first rule that fires decides
    if any(m.defects("critical") for m in facts.milestones):
        assert rec.code == "hold_and_review_supplier"
    if rec.code in ("psi_and_cli_only", "drop_ipc"):
        assert not any(m.result == "fail" for m in facts.milestones if m.kind == "PSI")


# --- timeline ------------------------------------------------------------------------------


def test_planned_share_is_linear_from_start_to_ex_factory():
    facts = clean_po()
    assert planned_share(facts, START) == 0.0
    assert planned_share(facts, day(21)) == pytest.approx(0.5)
    assert planned_share(facts, day(60)) == 1.0
    assert planned_share(facts, START - timedelta(days=5)) == 0.0
    assert planned_share(replace(facts, production_start=None), day(21)) is None
    assert planned_share(replace(facts, production_start=day(42)), day(21)) is None


def test_timeline_rows_compare_plan_and_actual():
    facts = clean_po(projected_completion=day(40), shipped_on=None)
    late_psi = replace(facts.milestones[2], inspection_date=day(43))  # window ends day 40
    early_dupro = replace(facts.milestones[1], inspection_date=day(19))
    rows = timeline(replace(facts, milestones=[facts.milestones[0], early_dupro, late_psi]))
    assert [r.label for r in rows] == ["IPC", "DUPRO", "PSI", "Ex-factory", "Shipment"]
    ipc, dupro, psi, exf, ship = rows
    assert (ipc.status, ipc.days_off) == ("in window", 0)
    assert (dupro.status, dupro.days_off) == ("early", -2)
    assert (psi.status, psi.days_off) == ("late", 3)
    assert dupro.planned_share == pytest.approx(19 / 42)
    assert dupro.share_gap == pytest.approx(0.5 - 19 / 42)
    assert (psi.produced_share, psi.packed_share) == (1.0, 0.9)
    assert (exf.actual, exf.projected, exf.days_off, exf.status) == (day(40), True, -2, "early")
    assert (ship.actual, ship.status) == (None, "not known")


# --- charts --------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox").startswith("0 0 ")
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    assert not list(root.iter(f"{SVG}script"))
    assert "href" not in svg and "url(" not in svg
    for text in root.iter(f"{SVG}text"):
        assert text.get("font-family") == "DejaVu Sans, sans-serif"
    return root


def test_defect_rate_chart_is_well_formed_and_marks_unsampled_milestones():
    svg = defect_rate_chart(defect_rates(seed_escalation()))
    root = parse(svg)
    assert root.get("viewBox") == "0 0 640 260"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count("not sampled") == 1  # the CLI
    assert {"Critical", "Major", "Minor", "DUPRO", "PSI #2"} <= set(texts)
    polylines = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke") == "#b54708"]
    assert polylines  # the major line
    desc = root.find(f"{SVG}desc").text
    assert "Major: IPC 0.0, DUPRO 2.0, PSI 4.0, PSI #2 6.0 per 100 units" in desc
    assert "not sampled: CLI" in desc


def test_defect_rate_chart_marks_a_class_over_its_acceptance_number():
    facts = clean_po()
    psi = replace(facts.milestones[2], result="fail", found={"major": 13})
    svg = defect_rate_chart(defect_rates(replace(facts, milestones=[psi])))
    root = parse(svg)
    assert any(
        r.get("fill") == "#b54708" and r.get("width") == "8" for r in root.iter(f"{SVG}rect")
    )
    assert "over its Ac" in [t.text for t in root.iter(f"{SVG}text")]


def test_labels_are_escaped():
    facts = clean_po(milestones=[milestone("PSI", "A&B <x>", sampled_units=50, found={"major": 1})])
    svg = defect_rate_chart(defect_rates(facts), title='Rates "for" A&B')
    assert "A&amp;B &lt;x&gt;" in svg
    root = parse(svg)
    assert "A&B <x>" in [t.text for t in root.iter(f"{SVG}text")]
    assert root.find(f"{SVG}title").text == 'Rates "for" A&B'
    svg = timeline_chart(timeline(facts))
    root = parse(svg)
    assert "A&B <x>" in [t.text for t in root.iter(f"{SVG}text")]


def test_empty_charts_say_so():
    root = parse(defect_rate_chart([]))
    assert "No milestones to chart yet." in [t.text for t in root.iter(f"{SVG}text")]
    root = parse(timeline_chart([]))
    assert "No dates to chart yet." in [t.text for t in root.iter(f"{SVG}text")]


def test_timeline_chart_draws_windows_dots_and_diamonds():
    facts = clean_po(shipped_on=day(48))
    svg = timeline_chart(timeline(facts), width=700)
    root = parse(svg)
    assert root.get("viewBox") == f"0 0 700 {44 + 6 * 22 + 52}"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert {"IPC", "DUPRO", "PSI", "CLI", "Ex-factory", "Shipment"} <= set(labels)
    assert "+3 d" in labels  # loaded 3 days after plan
    windows = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "12"]
    assert len(windows) == 4
    assert "Shipment: planned 17 Apr, actual 20 Apr (late, 3 days)" in root.find(f"{SVG}desc").text


def test_several_charts_inline_have_distinct_ids():
    a = defect_rate_chart(defect_rates(clean_po()))
    b = defect_rate_chart(defect_rates(seed_escalation()))
    id_a = ET.fromstring(a).find(f"{SVG}title").get("id")
    id_b = ET.fromstring(b).find(f"{SVG}title").get("id")
    assert id_a != id_b


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (0, 0.7, 1, 1.2, 3, 6.9, 12, 23, 260)] == [
        1,
        1,
        1,
        1.5,
        5,
        10,
        15,
        25,
        500,
    ]


@FAST
@given(st.text(max_size=30), st.text(max_size=30))
def test_any_label_gives_well_formed_svg(label, title):
    facts = clean_po(
        milestones=[
            milestone("PSI", label, sampled_units=80, found={"minor": 2}),
            milestone("CLI", label + "!", at=5),
        ]
    )
    parse(defect_rate_chart(defect_rates(facts), title=title))
    parse(timeline_chart(timeline(facts), title=title))
    assert "<" not in esc(label) and ">" not in esc(label)
