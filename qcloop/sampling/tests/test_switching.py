"""The switching rules: hand-worked sequences, the 1999 switching score, and long random
histories checked against a second, deliberately plain implementation of the rules."""

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcloop.sampling import (
    LotResult,
    SwitchingState,
    advance,
    plan,
    resume,
    switching_points,
    tighter_acceptance_number,
)

OK, NOT_OK = True, False


def run(results, state=None, **context):
    state = state or SwitchingState()
    for number, accepted in enumerate(results, start=1):
        state = advance(state, lot(f"PO {number}", accepted, **context))
    return state


def lot(lot_id, accepted, **context):
    """A lot judged on a single plan with Ac 0 (2 points per acceptance)."""
    return LotResult(lot_id=lot_id, accepted=accepted, ac=0, **context)


class TestNormalAndTightened:
    def test_two_of_five_not_accepted_tightens(self):
        state = run([OK, NOT_OK, OK, OK, NOT_OK])
        assert state.severity == "tightened"
        assert state.since_lot == "PO 5"
        assert state.explanation.startswith(
            "tightened since lot PO 5: 2 of the last 4 lots were not accepted"
        )

    def test_two_not_accepted_six_lots_apart_do_not(self):
        assert run([NOT_OK, OK, OK, OK, OK, NOT_OK]).severity == "normal"

    def test_two_in_a_row(self):
        state = run([NOT_OK, NOT_OK])
        assert (state.severity, state.reason) == (
            "tightened",
            "2 of the last 2 lots were not accepted",
        )

    def test_five_consecutive_accepted_return_to_normal(self):
        state = run([NOT_OK, NOT_OK, OK, OK, OK, OK, NOT_OK, OK, OK, OK, OK])
        assert state.severity == "tightened"
        assert state.consecutive_accepted == 4
        assert "4 of 5 consecutive acceptances" in state.explanation
        state = advance(state, lot("PO 12", OK))
        assert state.severity == "normal"
        assert state.explanation.startswith(
            "normal since lot PO 12: 5 consecutive lots were accepted on tightened inspection"
        )
        assert (state.switching_score, state.recent_normal) == (0, ())

    def test_five_not_accepted_on_tightened_discontinue(self):
        state = run([NOT_OK, NOT_OK])  # tightened
        for number, accepted in enumerate([NOT_OK, OK, NOT_OK, NOT_OK, OK], start=3):
            state = advance(state, lot(f"PO {number}", accepted))
        assert state.severity == "tightened"
        assert state.not_accepted_on_tightened == 3
        state = advance(state, lot("PO 8", NOT_OK))
        state = advance(state, lot("PO 9", NOT_OK))
        assert state.severity == "discontinued"
        assert state.explanation.startswith(
            "inspection discontinued since lot PO 9: 5 lots were not accepted"
        )
        with pytest.raises(ValueError, match="resume"):
            advance(state, lot("PO 10", OK))
        state = resume(state, "new cutting room supervisor")
        assert state.severity == "tightened"
        assert "new cutting room supervisor" in state.explanation
        assert state.not_accepted_on_tightened == 0

    def test_only_a_discontinued_stream_resumes(self):
        with pytest.raises(ValueError, match="discontinued"):
            resume(SwitchingState())


class TestSwitchingScore:
    def test_ac_2_or_more_needs_acceptance_one_aql_step_tighter(self):
        single = plan(5000, 2.5)  # L: 10/11; one step tighter (1.5) at L: 7/8
        assert tighter_acceptance_number(single) == 7
        assert switching_points(LotResult.from_inspection("a", single, 7)) == 3
        assert switching_points(LotResult.from_inspection("b", single, 8)) is None  # accepted
        assert switching_points(LotResult.from_inspection("c", single, 11)) is None

    def test_ac_0_or_1_adds_two_per_accepted_lot(self):
        single = plan(5000, 0.25)  # L: 1/2
        assert switching_points(LotResult.from_inspection("a", single, 1)) == 2
        assert switching_points(LotResult.from_inspection("b", single, 2)) is None

    def test_double_adds_three_when_accepted_on_the_first_sample(self):
        double = plan(5000, 2.5, scheme="double")  # 5 9 / 12 13
        assert switching_points(LotResult.from_inspection("a", double, 5)) == 3
        assert switching_points(LotResult.from_inspection("b", double, 6, 1)) is None
        with pytest.raises(ValueError, match="second sample"):
            LotResult.from_inspection("c", double, 6)

    def test_score_30_with_steady_production_and_approval_reduces(self):
        single = plan(5000, 2.5)
        state = SwitchingState()
        for number in range(1, 11):
            result = LotResult.from_inspection(f"PO {number}", single, 7, reduced_approved=False)
            state = advance(state, result)
        assert (state.severity, state.switching_score) == ("normal", 30)
        result = LotResult.from_inspection("PO 11", single, 2, reduced_approved=True)
        state = advance(state, result)
        assert state.severity == "reduced"
        assert state.explanation.startswith("reduced since lot PO 11: switching score 33")

    def test_unsteady_production_blocks_reduced(self):
        state = run([OK] * 20, reduced_approved=True, production_steady=False)
        assert (state.severity, state.switching_score) == ("normal", 40)

    def test_accepted_lot_not_good_enough_resets_the_score(self):
        single = plan(5000, 2.5)
        state = SwitchingState()
        for number, defects in enumerate([0, 1, 9, 2], start=1):
            state = advance(state, LotResult.from_inspection(f"PO {number}", single, defects))
        assert state.switching_score == 3
        assert state.severity == "normal"


class TestReduced:
    @pytest.fixture
    def reduced(self):
        return SwitchingState.start("reduced")

    def test_stays_on_reduced_while_lots_are_accepted(self, reduced):
        assert run([OK] * 10, reduced).severity == "reduced"

    def test_not_accepted(self, reduced):
        state = advance(reduced, lot("PO 7", NOT_OK))
        assert state.explanation.startswith(
            "normal since lot PO 7: the lot was not accepted on reduced inspection"
        )

    def test_accepted_between_ac_and_re(self, reduced):
        single = plan(5000, 2.5, severity="reduced")  # 80: 5/8
        result = LotResult.from_inspection("PO 7", single, 6)
        assert result.accepted and result.return_to_normal
        state = advance(reduced, result)
        assert state.severity == "normal"
        assert "between Ac and Re" in state.reason

    def test_production_irregular(self, reduced):
        state = advance(reduced, lot("PO 7", OK, production_steady=False))
        assert (state.severity, state.reason) == ("normal", "production was irregular or delayed")

    def test_other_conditions(self, reduced):
        state = advance(reduced, lot("PO 7", OK, other_conditions="new factory"))
        assert (state.severity, state.reason) == ("normal", "other conditions: new factory")


class TestState:
    def test_round_trip_through_json(self):
        state = run([OK, NOT_OK, OK, NOT_OK, OK])
        data = json.loads(json.dumps(state.to_dict()))
        assert data["explanation"] == state.explanation
        assert SwitchingState.from_dict(data) == state

    def test_unknown_version(self):
        with pytest.raises(ValueError, match="version"):
            SwitchingState.from_dict({"version": 99})

    def test_lot_inspected_under_another_severity(self):
        single = plan(5000, 2.5, severity="tightened")
        with pytest.raises(ValueError, match="tightened"):
            advance(SwitchingState(), LotResult.from_inspection("PO 1", single, 0))

    def test_start_severity(self):
        with pytest.raises(ValueError, match="normal, tightened or reduced"):
            SwitchingState.start("discontinued")


def reference_severities(results) -> list[str]:
    """The rules written out plainly, as a second implementation to compare against."""
    severity, out = "normal", []
    last_on_normal: list[bool] = []
    score = consecutive = not_accepted = 0
    for result in results:
        if severity == "normal":
            last_on_normal = ([*last_on_normal, result.accepted])[-5:]
            score = 0 if switching_points(result) is None else score + switching_points(result)
            if last_on_normal.count(False) >= 2:
                severity, consecutive, not_accepted = "tightened", 0, 0
            elif score >= 30 and result.production_steady and result.reduced_approved:
                severity = "reduced"
        elif severity == "tightened":
            consecutive = consecutive + 1 if result.accepted else 0
            not_accepted += 0 if result.accepted else 1
            if not_accepted == 5:
                severity = "discontinued"
            elif consecutive == 5:
                severity, last_on_normal, score = "normal", [], 0
        elif severity == "reduced" and (
            not result.accepted
            or result.return_to_normal
            or not result.production_steady
            or result.other_conditions
        ):
            severity, last_on_normal, score = "normal", [], 0
        out.append(severity)
        if severity == "discontinued":
            severity, consecutive, not_accepted = "tightened", 0, 0  # resumed at once
    return out


def random_lot(rng: random.Random, number: int, quality: float) -> LotResult:
    accepted = rng.random() > quality
    return LotResult(
        lot_id=f"PO {number}",
        accepted=accepted,
        return_to_normal=accepted and rng.random() < 0.05,
        defects=0 if rng.random() < 0.8 else 1,
        ac=rng.choice([0, 1, 3]),
        tighter_ac=0,
        production_steady=rng.random() > 0.05,
        reduced_approved=rng.random() > 0.3,
        other_conditions="audit" if rng.random() < 0.02 else "",
    )


def simulate(seed: int, lots: int) -> tuple[list[LotResult], list[SwitchingState]]:
    rng = random.Random(seed)
    quality = rng.choice([0.02, 0.1, 0.3, 0.6])
    state, results, states = SwitchingState(), [], []
    for number in range(1, lots + 1):
        result = random_lot(rng, number, quality)
        state = advance(state, result)
        results.append(result)
        states.append(state)
        if state.severity == "discontinued":
            state = resume(state)
    return results, states


ALLOWED = {
    ("normal", "normal"),
    ("normal", "tightened"),
    ("normal", "reduced"),
    ("tightened", "tightened"),
    ("tightened", "normal"),
    ("tightened", "discontinued"),
    ("reduced", "reduced"),
    ("reduced", "normal"),
}


@pytest.mark.parametrize("seed", range(40))
def test_long_random_histories_follow_the_rules(seed):
    results, states = simulate(seed, 300)
    assert [s.severity for s in states] == reference_severities(results)
    before = "normal"
    for result, state in zip(results, states, strict=True):
        assert (before, state.severity) in ALLOWED
        if state.severity == "reduced" and before == "normal":
            assert result.reduced_approved and result.production_steady
            assert state.since_lot == result.lot_id
        if state.severity == "discontinued":
            assert before == "tightened" and not result.accepted
        if before == "tightened" and state.severity == "normal":
            assert result.accepted
        before = "tightened" if state.severity == "discontinued" else state.severity


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), max_size=60), st.booleans(), st.booleans())
def test_any_history_matches_the_reference(accepts, steady, approved):
    results = [
        lot(f"PO {i}", a, production_steady=steady, reduced_approved=approved)
        for i, a in enumerate(accepts)
    ]
    state, severities = SwitchingState(), []
    for result in results:
        state = advance(state, result)
        severities.append(state.severity)
        if state.severity == "discontinued":
            state = resume(state)
    assert severities == reference_severities(results)
    assert "reduced" not in severities or (steady and approved)
