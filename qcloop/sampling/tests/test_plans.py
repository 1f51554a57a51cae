"""Plans for a lot: worked examples, arrows, 100 % inspection, double plans, decisions."""

import json

import pytest

from qcloop.sampling import (
    AQLS,
    LEVELS,
    Decision,
    DoublePlan,
    SinglePlan,
    code_letter,
    judge,
    plan,
    plan_from_dict,
)
from qcloop.sampling.tests import transcription as ref

BAND_EDGES = [
    2,
    5,
    8,
    9,
    15,
    16,
    25,
    26,
    50,
    51,
    90,
    91,
    150,
    151,
    280,
    281,
    500,
    501,
    1200,
    1201,
    3200,
    3201,
    10000,
    10001,
    35000,
    35001,
    150000,
    150001,
    500000,
    500001,
    2_000_000,
]


class TestWorkedExamples:
    @pytest.mark.parametrize(
        ("lot", "aql", "code", "n", "ac", "re"),
        [
            (5000, "2.5", "L", 200, 10, 11),  # 3201-10000 at level II is L
            (3200, "2.5", "K", 125, 7, 8),  # 3200 is still in 1201-3200: K
            (500, 4.0, "H", 50, 5, 6),
            (1000, 1.0, "J", 80, 2, 3),
            (100, 0.65, "F", 20, 0, 1),  # F at 0.65 is a plan, not an arrow
            (100, 1.0, "E", 13, 0, 1),  # F at 1.0: arrow up to E
            (100, 1.5, "G", 32, 1, 2),  # F at 1.5: arrow down to G
            (100, 0.40, "G", 32, 0, 1),  # F at 0.40: arrow down to G
            (1000, 0.10, "K", 125, 0, 1),  # J at 0.10: arrow down to K
            (200_000, 2.5, "N", 500, 21, 22),  # P at 2.5: arrow up to the 21/22 of N
        ],
    )
    def test_normal_single(self, lot, aql, code, n, ac, re):
        found = plan(lot, aql, "II")
        assert (found.code, found.n, found.ac, found.re) == (code, n, ac, re)
        assert not found.hundred_percent

    def test_arrow_is_explained_in_the_notes(self):
        found = plan(100, 1.5)
        assert found.table_code == "F" and found.code == "G"
        assert found.notes == ("Table II-A, code F, AQL 1.5: arrow ↓, plan of code G used",)

    @pytest.mark.parametrize(
        ("severity", "code", "n", "ac", "re"),
        [("normal", "L", 200, 10, 11), ("tightened", "L", 200, 8, 9), ("reduced", "L", 80, 5, 8)],
    )
    def test_severities(self, severity, code, n, ac, re):
        found = plan(5000, 2.5, severity=severity)
        assert (found.code, found.n, found.ac, found.re, found.table) == (
            code,
            n,
            ac,
            re,
            {"normal": "II-A", "tightened": "II-B", "reduced": "II-C"}[severity],
        )

    def test_tightened_code_s(self):
        found = plan(600_000, "0.025", severity="tightened")
        assert (found.code, found.n, found.ac, found.re) == ("S", 3150, 1, 2)

    def test_special_levels(self):
        assert code_letter(5000, "S-1") == "C"
        assert code_letter(5000, "S4") == "G"
        found = plan(5000, 2.5, "S-3")
        assert (found.code, found.n, found.ac, found.re) == ("F", 20, 1, 2)


class TestHundredPercent:
    def test_sample_not_smaller_than_lot_means_every_unit(self):
        found = plan(10, 0.10)  # B at 0.10 runs down to K: n 125 for a lot of 10
        assert (found.code, found.n, found.ac, found.re) == ("K", 10, 0, 1)
        assert found.hundred_percent
        assert "100 % inspection" in found.notes[-1]

    def test_sample_equal_to_lot(self):
        found = plan(20, 0.65, "III")  # 16-25 at III is D; D at 0.65 runs down to F, n 20
        assert (found.n, found.hundred_percent) == (20, True)

    def test_smallest_lot(self):
        found = plan(2, 6.5)
        assert (found.n, found.ac, found.re, found.hundred_percent) == (2, 0, 1, True)


class TestOffTableArrows:
    def test_code_a_aql_10_points_up_from_the_first_row(self):
        found = plan(50, 10, "S-1")
        assert found.table_code == "A"
        assert (found.code, found.n, found.ac, found.re) == ("C", 5, 1, 2)
        assert "points off the table" in found.notes[0]

    def test_code_r_aql_0_015_points_down_from_the_last_row(self):
        found = plan(600_000, "0.015", "III")
        assert found.table_code == "R"
        assert (found.code, found.n, found.ac, found.re) == ("P", 800, 0, 1)


class TestDouble:
    def test_worked_example(self):
        found = plan(5000, "2.5", scheme="double")
        assert isinstance(found, DoublePlan)
        assert (found.code, found.n1, found.ac1, found.re1) == ("L", 125, 5, 9)
        assert (found.n2, found.ac2, found.re2) == (125, 12, 13)
        assert found.table == "III-A"

    @pytest.mark.parametrize(
        ("severity", "numbers"),
        [
            ("normal", (80, 3, 6, 80, 9, 10)),
            ("tightened", (80, 2, 5, 80, 6, 7)),
            ("reduced", (32, 1, 5, 32, 4, 7)),
        ],
    )
    def test_severities(self, severity, numbers):
        found = plan(3000, "2.5", severity=severity, scheme="double")
        assert (found.n1, found.ac1, found.re1, found.n2, found.ac2, found.re2) == numbers

    def test_star_uses_the_corresponding_single_plan(self):
        found = plan(5000, "0.065", scheme="double")
        assert isinstance(found, SinglePlan)
        assert (found.code, found.n, found.ac, found.re, found.table) == ("L", 200, 0, 1, "II-A")
        assert "shows *" in found.notes[-1]

    def test_first_sample_as_large_as_the_lot_uses_the_single_plan(self):
        found = plan(2, "15", scheme="double")
        assert isinstance(found, SinglePlan)
        assert (found.n, found.ac, found.re, found.hundred_percent) == (2, 1, 2, True)

    def test_second_sample_limited_to_the_rest_of_the_lot(self):
        found = plan(3, "15", scheme="double")
        assert isinstance(found, DoublePlan)
        assert (found.n1, found.n2) == (2, 1)


def test_every_plan_matches_the_transcription():
    """All lot bands (both edges), levels, AQLs, severities and schemes."""
    for lot in BAND_EDGES:
        for level in LEVELS:
            for aql in AQLS:
                for severity in ("normal", "tightened", "reduced"):
                    for scheme in ("single", "double"):
                        found = plan(lot, aql, level, severity, scheme)
                        expected = ref.expected_plan(lot, aql, level, severity, scheme)
                        got = {key: getattr(found, key) for key in expected if key != "scheme"}
                        assert found.scheme == expected["scheme"], (lot, level, aql, severity)
                        assert got == {k: v for k, v in expected.items() if k != "scheme"}, (
                            lot,
                            level,
                            aql,
                            severity,
                            scheme,
                        )


class TestAqlSpelling:
    @pytest.mark.parametrize("spelling", [1.0, 1, "1.0", "1", " 1.00 "])
    def test_values_match_the_printed_series(self, spelling):
        assert plan(1000, spelling).aql == "1.0"

    def test_smallest_aql(self):
        assert plan(1000, 0.01).aql == plan(1000, "0.010").aql == "0.010"

    def test_aql_0_is_zero_acceptance_at_the_code_letter(self):
        found = plan(5000, 0)
        assert (found.code, found.n, found.ac, found.re, found.aql) == ("L", 200, 0, 1, "0")
        assert plan(5000, "0", severity="reduced").n == 80


class TestJudge:
    def test_single(self):
        found = plan(5000, 2.5)
        assert judge(found, 10) is Decision.ACCEPT
        assert judge(found, 11) is Decision.REJECT

    def test_reduced_between_ac_and_re_accepts_but_returns_to_normal(self):
        found = plan(5000, 2.5, severity="reduced")  # n 80, Ac 5, Re 8
        assert [judge(found, d) for d in (5, 6, 7, 8)] == [
            Decision.ACCEPT,
            Decision.ACCEPT_RETURN_TO_NORMAL,
            Decision.ACCEPT_RETURN_TO_NORMAL,
            Decision.REJECT,
        ]
        assert Decision.ACCEPT_RETURN_TO_NORMAL.accepted

    def test_double(self):
        found = plan(5000, 2.5, scheme="double")  # 5 9 / 12 13
        assert judge(found, 5) is Decision.ACCEPT
        assert judge(found, 9) is Decision.REJECT
        assert judge(found, 6) is Decision.SECOND_SAMPLE
        assert not Decision.SECOND_SAMPLE.final
        assert judge(found, 6, 6) is Decision.ACCEPT
        assert judge(found, 6, 7) is Decision.REJECT

    def test_double_reduced_cumulative_gap(self):
        found = plan(5000, 2.5, severity="reduced", scheme="double")  # n1 50: 2 7 / 6 9
        assert (found.ac1, found.re1, found.ac2, found.re2) == (2, 7, 6, 9)
        assert judge(found, 3, 4) is Decision.ACCEPT_RETURN_TO_NORMAL
        assert judge(found, 3, 3) is Decision.ACCEPT

    def test_counts_must_make_sense(self):
        single = plan(5000, 2.5)
        double = plan(5000, 2.5, scheme="double")
        for bad in (-1, 1.5, True, None):
            with pytest.raises(ValueError, match="0 or more"):
                judge(single, bad)
        with pytest.raises(ValueError, match="second"):
            judge(single, 1, 1)
        with pytest.raises(ValueError, match="already decided"):
            judge(double, 0, 1)


class TestSerialisation:
    @pytest.mark.parametrize("scheme", ["single", "double"])
    def test_round_trip_through_json(self, scheme):
        found = plan(5000, 2.5, severity="reduced", scheme=scheme)
        data = json.loads(json.dumps(found.to_dict()))
        assert data["scheme"] == scheme
        assert plan_from_dict(data) == found

    def test_plans_are_frozen(self):
        found = plan(5000, 2.5)
        with pytest.raises(AttributeError):
            found.n = 1  # type: ignore[misc]


class TestInvalidInput:
    @pytest.mark.parametrize("lot", [1, 0, -5, 2.5, True, "100"])
    def test_lot_size(self, lot):
        with pytest.raises(ValueError, match="2 and over"):
            plan(lot, 2.5)

    def test_level(self):
        with pytest.raises(ValueError, match="S-1, S-2, S-3, S-4, I, II, III"):
            plan(100, 2.5, "IV")

    @pytest.mark.parametrize("aql", [3.0, "2,5", "abc", -1, True, None])
    def test_aql(self, aql):
        with pytest.raises(ValueError, match=r"0\.010, 0\.015, .* 650, 1000"):
            plan(100, aql)

    def test_severity(self):
        with pytest.raises(ValueError, match="normal, tightened, reduced"):
            plan(100, 2.5, severity="strict")

    def test_scheme(self):
        with pytest.raises(ValueError, match="single, double"):
            plan(100, 2.5, scheme="multiple")

    def test_zero_acceptance_has_no_double_plan(self):
        with pytest.raises(ValueError, match="single"):
            plan(100, 0, scheme="double")
