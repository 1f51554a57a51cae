"""The pure rules of an inspection, checked against hand-computed cases (no database)."""

import json
from datetime import date
from decimal import Decimal

import pytest

from qcloop.inspections.rules import (
    CheckOutcome,
    Tolerance,
    check_carton,
    check_carton_marks,
    check_container_number,
    check_gtin,
    check_reading,
    compare_loading,
    container_check_digit,
    gtin_check_digit,
    judge_inspection,
    packaging_flag,
    project_completion,
    reported_vs_counted,
    units_out_of_tolerance,
)
from qcloop.sampling import multi_class_plan

D = Decimal

# ------------------------------------------------------------------------------------ GTIN


@pytest.mark.parametrize(
    "code",
    [
        "4006381333931",  # EAN-13
        "036000291452",  # UPC-A
        "96385074",  # GTIN-8
        "10012345678902",  # GTIN-14
    ],
)
def test_valid_gtins(code):
    assert check_gtin(code) == code


def test_gtin_check_digits_by_hand():
    # From the right, digits weighted 3, 1, 3, ...; the check digit tops the sum up to 10s.
    # 400638133393: 3 * (3+3+3+8+6+0) + (9+3+1+3+0+4) = 69 + 20 = 89 -> 1.
    assert gtin_check_digit("400638133393") == 1
    # 03600029145: 3 * (5+1+2+0+6+0) + (4+9+0+0+3) = 42 + 16 = 58 -> 2.
    assert gtin_check_digit("03600029145") == 2
    # 1001234567890: odd positions from the right (x3): 0+8+6+4+2+0+1 = 21 -> 63;
    # even: 9+7+5+3+1+0 = 25; 88 -> 2.
    assert gtin_check_digit("1001234567890") == 2
    # 9638507: 3 * (7+5+3+9) + (0+8+6) = 72 + 14 = 86 -> 4.
    assert gtin_check_digit("9638507") == 4


def test_gtin_separators_are_stripped():
    assert check_gtin("4 006381 333931") == "4006381333931"
    assert check_gtin("0-36000-29145-2") == "036000291452"


def test_gtin_wrong_check_digit_says_which_was_expected():
    with pytest.raises(ValueError, match="check digit should be 1, not 3"):
        check_gtin("4006381333933")


def test_gtin_letters_and_lengths():
    with pytest.raises(ValueError, match=r"digits only.*'A'"):
        check_gtin("40063813339A1")
    with pytest.raises(ValueError, match=r"8, 12, 13 or 14 digits.*has 10"):
        check_gtin("4006381333")
    with pytest.raises(ValueError, match="empty"):
        check_gtin(" - ")
    with pytest.raises(ValueError, match="digits only"):
        gtin_check_digit("12a")


# ------------------------------------------------------------------------------ containers


def test_the_standards_example_container_is_valid():
    # C=13 S=30 Q=28 U=32 3 0 5 4 3 8, weights 1..512:
    # 13 + 60 + 112 + 256 + 48 + 0 + 320 + 512 + 768 + 4096 = 6185; 6185 mod 11 = 3.
    assert container_check_digit("CSQU305438") == 3
    assert check_container_number("CSQU3054383") == "CSQU3054383"


def test_container_numbers_computed_by_hand():
    # M=24 S=30 K=21 U=32 1..6: 24+60+84+256 + 16+64+192+512+1280+3072 = 5560; mod 11 = 5.
    assert check_container_number("msku 123456-5") == "MSKU1234565"
    # T=31 C=13 N=25 U=32: 31+26+100+256 = 413; + serial 123456 as above 5136 = 5549;
    # 5549 mod 11 = 5 (11 * 504 = 5544).
    assert check_container_number("TCNU 123456 5") == "TCNU1234565"
    # M=24 S=30 C=13 U=32: 24+60+52+256 = 392; + 5136 = 5528; 5528 mod 11 = 6.
    assert check_container_number("MSCU1234566") == "MSCU1234566"


def test_container_remainder_ten_gives_check_digit_zero():
    # The rule is "mod 11, then mod 10": find a serial whose sum is 10 mod 11.
    body = next(f"CSQU{s:06d}" for s in range(1000) if _iso_sum(f"CSQU{s:06d}") % 11 == 10)
    assert container_check_digit(body) == 0
    assert check_container_number(body + "0") == body + "0"


def _iso_sum(text):
    # Written out independently of the module: A=10, B..K=12..21, L..U=23..32, V..Z=34..38.
    numbers = [10, *range(12, 22), *range(23, 33), *range(34, 39)]
    values = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", numbers, strict=True))
    return sum((values[c] if c.isalpha() else int(c)) * 2**i for i, c in enumerate(text))


def test_container_letter_values_skip_multiples_of_eleven():
    assert _iso_sum("ABKU000000") == 10 + 2 * 12 + 4 * 21 + 8 * 32


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MSKU123456", "11 characters.*has 10"),
        ("MSKU12345655", "has 12"),
        ("M5KU1234565", "owner code must be 3 letters"),
        ("MSKX1234565", "category must be U, J or Z.*'X'"),
        ("MSKU12A4565", "serial number must be 6 digits"),
        ("MSKU123456X", "check digit must be a digit"),
        ("MSKU1234567", "check digit should be 5, not 7"),
        ("CSQU3054384", "check digit should be 3, not 4"),
    ],
)
def test_bad_container_numbers_name_the_problem(text, message):
    with pytest.raises(ValueError, match=message):
        check_container_number(text)


def test_category_j_and_z_are_accepted():
    for category in "JZ":
        body = f"CSQ{category}305438"
        number = body + str(container_check_digit(body))
        assert check_container_number(number) == number


# ---------------------------------------------------------------------------- measurements

CHEST = Tolerance(D("50"), D("0.5"), D("1.0"), "cm")


def test_asymmetric_tolerance_limits():
    assert (CHEST.low, CHEST.high) == (D("49.5"), D("51.0"))
    assert CHEST.contains(D("49.5")) and CHEST.contains(D("51.0"))
    assert not CHEST.contains(D("49.4")) and not CHEST.contains(D("51.1"))
    assert check_reading(D("49.4"), "cm", CHEST) == (False, D("-0.6"))
    assert check_reading("50.9", "cm", CHEST) == (True, D("0.9"))


def test_a_minus_written_with_its_sign_is_the_same_tolerance():
    assert Tolerance(D(50), D("-0.5"), D(1), "cm") == CHEST


def test_readings_in_other_units_are_converted():
    assert check_reading(D("505"), "mm", CHEST) == (True, D("0.5"))
    assert check_reading(D("20"), "in", CHEST) == (True, D("0.8"))  # 50.8 cm
    assert check_reading(D("0.512"), "m", CHEST) == (False, D("1.2"))
    weight = Tolerance(D("1.2"), D("0.05"), D("0.05"), "kg")
    assert check_reading(1180, "g", weight) == (True, D("-0.02"))
    # 42 oz = 1190.679971250 g
    assert check_reading(42, "oz", weight) == (True, D("-0.00932002875"))
    # 2.5 lb = 1133.980925 g: 66 g under the spec
    assert check_reading("2.5", "lb", weight)[0] is False


def test_a_unit_without_conversions_compares_only_with_itself():
    force = Tolerance(D(70), D(0), D(100), "N")
    assert check_reading(D(90), "N", force) == (True, D(20))
    with pytest.raises(ValueError, match="unknown unit 'kN'"):
        check_reading(D("0.09"), "kN", force)


def test_readings_that_cannot_be_compared():
    with pytest.raises(ValueError, match="reading in kg cannot be compared with a spec in cm"):
        check_reading(D(2), "kg", CHEST)
    with pytest.raises(ValueError, match="unknown unit 'furlong'"):
        check_reading(D(2), "furlong", CHEST)
    with pytest.raises(ValueError, match="must be a number"):
        check_reading("fifty", "cm", CHEST)


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        (D(-3), "cm", "reading of -3 cm is negative"),
        (D(600), "cm", "reading of 600 cm is more than 10 times away"),
        (D(4), "cm", "reading of 4 cm is more than 10 times away"),
        (D("50.1"), "m", "reading of 50.1 m is more than 10 times away"),
    ],
)
def test_absurd_readings_are_refused(value, unit, message):
    with pytest.raises(ValueError, match=message):
        check_reading(value, unit, CHEST)


def test_bad_tolerances():
    with pytest.raises(ValueError, match="plus tolerance must be 0 or more"):
        Tolerance(D(50), D(1), D(-1), "cm")
    with pytest.raises(ValueError, match="needs a unit"):
        Tolerance(D(50), D(1), D(1), " ")


def test_a_unit_counts_once_however_many_points_are_out():
    readings = [
        (1, "chest", True),
        (1, "length", True),
        (2, "chest", False),
        (2, "length", False),
        (3, "sleeve", False),
        (4, "chest", True),
    ]
    assert units_out_of_tolerance(readings) == {2, 3}
    assert units_out_of_tolerance([]) == set()


# ------------------------------------------------------------------------------- progress


def test_projection_by_hand():
    # 1 to 10 March: 10 production days, 1000 units -> 100 a day; 2000 left -> 20 days.
    p = project_completion(3000, 1000, date(2025, 3, 1), date(2025, 3, 10), date(2025, 3, 25))
    assert p.production_days == 10 and p.pace == D(100)
    assert p.projected_completion == date(2025, 3, 30)
    assert p.late_by_days == 5 and p.late
    assert p.completion_share == D(1000) / D(3000)


def test_projection_early_and_rounded_up():
    # 700 in 10 days -> 70 a day; 2300 left -> 32.9, so 33 days: 12 April.
    p = project_completion(3000, 700, date(2025, 3, 1), date(2025, 3, 10), date(2025, 4, 15))
    assert p.pace == D(70) and p.projected_completion == date(2025, 4, 12)
    assert p.late_by_days == -3 and not p.late


def test_projection_without_pace():
    p = project_completion(3000, 0, date(2025, 3, 1), date(2025, 3, 3), date(2025, 4, 15))
    assert p.pace == 0 and p.projected_completion is None and p.late_by_days is None
    assert not p.late


def test_projection_when_already_complete():
    p = project_completion(500, 520, date(2025, 3, 1), date(2025, 3, 4), date(2025, 3, 3))
    assert p.projected_completion == date(2025, 3, 4) and p.late_by_days == 1
    assert p.pace == D(130)


def test_projection_bad_input():
    with pytest.raises(ValueError, match="ordered quantity must be a whole number, 1 or more"):
        project_completion(0, 0, date(2025, 3, 1), date(2025, 3, 3), date(2025, 4, 1))
    with pytest.raises(ValueError, match="produced quantity"):
        project_completion(10, -1, date(2025, 3, 1), date(2025, 3, 3), date(2025, 4, 1))
    with pytest.raises(ValueError, match="cannot be before production started"):
        project_completion(10, 1, date(2025, 3, 5), date(2025, 3, 3), date(2025, 4, 1))


def test_packaging_flag():
    assert packaging_flag(D("0.46"), False) == (
        "Packaging materials are not on site at 46 % completion: "
        "the packaging run risks starting under time pressure"
    )
    assert packaging_flag(D("0.40"), False) is not None
    assert packaging_flag(D("0.39"), False) is None
    assert packaging_flag(D("0.90"), True) is None
    with pytest.raises(ValueError, match="fraction of the order"):
        packaging_flag(46, False)


def test_reported_against_counted():
    assert reported_vs_counted(1050, 1000) is None  # exactly 5 % above: tolerated
    assert reported_vs_counted(900, 1000) is None
    assert reported_vs_counted(1200, 1000) == (
        "The factory reported 1,200 units but 1,000 were counted: "
        "the report is 20 % above the count."
    )
    assert reported_vs_counted(1051, 1000) is not None
    assert reported_vs_counted(50, 0) == "The factory reported 50 units but none were counted."
    assert reported_vs_counted(0, 0) is None
    with pytest.raises(ValueError, match="reported quantity"):
        reported_vs_counted(-1, 0)


# --------------------------------------------------------------------------- marks, cartons

MARKS = {"order_number": "PO-4711", "destination": "Hamburg", "carton_of": "12 of 250"}


def test_correct_marks_have_no_problems():
    assert check_carton_marks(MARKS, "PO-4711", "Hamburg", 250) == []
    slash = MARKS | {"carton_of": "250/250", "destination": "  hamburg "}
    assert check_carton_marks(slash, "po-4711", "HAMBURG", 250) == []


def test_wrong_marks():
    marks = {"order_number": "PO-4712", "destination": "Rotterdam", "carton_of": "12 of 240"}
    problems = check_carton_marks(marks, "PO-4711", "Hamburg", 250)
    assert problems == [
        "The marks give order number 'PO-4712'; the order is 'PO-4711'.",
        "The marks give destination 'Rotterdam'; the order ships to 'Hamburg'.",
        "The marks say 240 cartons in total; the shipment has 250.",
    ]


@pytest.mark.parametrize(
    ("carton_of", "problem"),
    [
        ("251 of 250", "Carton 251 of 250 is numbered beyond the total."),
        ("0/250", "Carton 0 of 250: cartons are numbered from 1."),
        ("twelve", "The carton number 'twelve' is not in the form 'n of N' or 'n/N'."),
        ("", "The carton number (n of N) is missing from the shipping marks."),
    ],
)
def test_bad_carton_numbers(carton_of, problem):
    assert check_carton_marks(MARKS | {"carton_of": carton_of}, "PO-4711", "Hamburg", 250) == [
        problem
    ]


def test_missing_marks_and_bad_input():
    problems = check_carton_marks({"carton_of": "1 of 5"}, "PO-1", "Oslo", 5)
    assert problems == [
        "The order number is missing from the shipping marks.",
        "The destination is missing from the shipping marks.",
    ]
    with pytest.raises(ValueError, match="carton count"):
        check_carton_marks(MARKS, "PO-4711", "Hamburg", 0)
    with pytest.raises(ValueError, match="unknown shipping-mark fields: po"):
        check_carton_marks(MARKS | {"po": "x"}, "PO-4711", "Hamburg", 250)


CARTON_SPEC = {"length_cm": 60, "width_cm": 40, "height_cm": 30, "gross_weight_kg": 12}


def test_a_carton_within_tolerance():
    measured = {"length_cm": "61.8", "width_cm": "38.8", "height_cm": 30, "gross_weight_kg": "12.6"}
    assert check_carton(measured, CARTON_SPEC) == []  # +3 %, -3 %, 0, +5 %: all on the limit


def test_a_carton_out_of_tolerance():
    measured = {"length_cm": "62.5", "width_cm": 40, "height_cm": 30, "gross_weight_kg": "11.1"}
    assert check_carton(measured, CARTON_SPEC) == [
        "Length 62.5 cm is 4.2 % above the spec of 60 cm (tolerance ±3 %).",
        "Gross weight 11.1 kg is 7.5 % below the spec of 12 kg (tolerance ±5 %).",
    ]


def test_carton_tolerances_can_be_overridden():
    measured = {"length_cm": "62.5", "width_cm": 40, "height_cm": 30, "gross_weight_kg": "11.1"}
    spec = CARTON_SPEC | {"dimension_tolerance_pct": 5, "weight_tolerance_pct": "2"}
    assert check_carton(measured, spec) == [
        "Gross weight 11.1 kg is 7.5 % below the spec of 12 kg (tolerance ±2 %).",
    ]


def test_carton_bad_input():
    with pytest.raises(ValueError, match="gives gross_weight_kg but it was not measured"):
        check_carton({"length_cm": 60, "width_cm": 40, "height_cm": 30}, CARTON_SPEC)
    with pytest.raises(ValueError, match="unknown carton fields: length"):
        check_carton({"length": 60}, {"length_cm": 60})
    with pytest.raises(ValueError, match="length_cm must be more than 0"):
        check_carton({"length_cm": 0}, {"length_cm": 60})
    with pytest.raises(ValueError, match="weight_tolerance_pct must be 0 or more"):
        check_carton({}, {"weight_tolerance_pct": -1})
    # Only what the spec gives is checked.
    assert check_carton({"length_cm": 60, "gross_weight_kg": 99}, {"length_cm": 60}) == []


# ------------------------------------------------------------------------------- loading


def test_loading_matches_the_packing_list():
    result = compare_loading({"A-100": 100, "B-200": 50}, {"B-200": 50, "A-100": 100})
    assert result.matches and result.problems == []
    assert (result.expected_total, result.loaded_total) == (150, 150)


def test_loading_shortages_overages_and_unknown_skus():
    result = compare_loading(
        {"A-100": 100, "B-200": 50, "C-300": 20},
        {"A-100": 88, "B-200": 55, "X-9": 10},
    )
    assert result.shortages == {"A-100": 12, "C-300": 20}
    assert result.overages == {"B-200": 5}
    assert result.not_on_packing_list == {"X-9": 10}
    assert (result.expected_total, result.loaded_total) == (170, 153)
    assert result.problems == [
        "SKU A-100: 12 cartons short (88 loaded of 100).",
        "SKU B-200: 5 cartons over (55 loaded of 50).",
        "SKU C-300: 20 cartons short (0 loaded of 20).",
        "SKU X-9 is not on the packing list but 10 cartons were loaded.",
        "153 cartons loaded in all; the packing list has 170.",
    ]
    assert not result.matches
    assert result.to_dict()["shortages"] == {"A-100": 12, "C-300": 20}


def test_loading_bad_counts():
    with pytest.raises(ValueError, match="loading tally's cartons for SKU A-1"):
        compare_loading({"A-1": 5}, {"A-1": -1})
    with pytest.raises(ValueError, match="packing list's cartons for SKU A-1"):
        compare_loading({"A-1": 2.5}, {})


# ------------------------------------------------------------------------------- results

# 3000 units, level II: code K, 125 units; critical 0 -> 0/1, major 2.5 -> 7/8,
# minor 4.0 -> 10/11.
NORMAL = multi_class_plan(3000, {"critical": 0, "major": "2.5", "minor": "4.0"}).to_dict()
# Reduced, 1200 units: code J, reduced sample 32; major 2.5 -> Ac 2 / Re 5,
# minor 4.0 -> Ac 3 / Re 6.
REDUCED = multi_class_plan(
    1200, {"critical": 0, "major": "2.5", "minor": "4.0"}, severity="reduced"
).to_dict()


def check(code="PK-1", result="pass", mandatory=True, on_fail="fail"):
    return CheckOutcome(code, "Carton drop test", "Packaging", mandatory, on_fail, result)


def test_the_plans_used_here():
    assert {c["defect_class"]: (c["n"], c["ac"], c["re"]) for c in NORMAL["classes"]} == {
        "critical": (125, 0, 1),
        "major": (125, 7, 8),
        "minor": (125, 10, 11),
    }
    assert {c["defect_class"]: (c["n"], c["ac"], c["re"]) for c in REDUCED["classes"]} == {
        "critical": (32, 0, 1),
        "major": (32, 2, 5),
        "minor": (32, 3, 6),
    }


def test_a_clean_inspection_passes():
    result = judge_inspection(NORMAL, {"critical": 0, "major": 7, "minor": 10}, [check()])
    assert result.outcome == "pass" and not result.return_to_normal
    assert result.per_class["major"] == {
        "found": 7,
        "n": 125,
        "ac": 7,
        "re": 8,
        "aql": "2.5",
        "decision": "accept",
    }
    assert (
        "Major defects: 7 found in 125 units; the plan accepts up to 7 (AQL 2.5) — accepted."
        in result.reasons
    )
    assert "All 1 mandatory checks passed or do not apply." in result.reasons
    assert result.reasons[0] == "Critical defects: none found in 125 units."
    assert json.loads(json.dumps(result.to_dict()))["per_class"]["minor"]["re"] == 11
    assert result.to_dict()["outcome"] == "pass"


def test_one_critical_defect_fails():
    result = judge_inspection(NORMAL, {"critical": 1, "major": 0, "minor": 0}, [])
    assert result.outcome == "fail"
    assert "1 critical defect found in 125 units: any critical defect fails the lot." in (
        result.reasons
    )
    assert result.per_class["critical"]["decision"] == "reject"


def test_a_critical_defect_fails_even_when_its_aql_would_accept():
    lenient = multi_class_plan(3000, {"critical": "0.65", "major": "2.5"}).to_dict()
    assert next(c for c in lenient["classes"] if c["defect_class"] == "critical")["ac"] == 2
    result = judge_inspection(lenient, {"critical": 2, "major": 0}, [])
    assert result.outcome == "fail"
    assert (
        result.reasons[0]
        == "2 critical defects found in 125 units: any critical defect fails the lot."
    )


def test_a_critical_defect_fails_when_the_plan_has_no_critical_class():
    plan = multi_class_plan(3000, {"major": "2.5", "minor": "4.0"}).to_dict()
    result = judge_inspection(plan, {"critical": 1, "major": 0}, [])
    with pytest.raises(ValueError, match="126 critical defects found in a sample of 125"):
        judge_inspection(plan, {"critical": 126}, [])
    assert result.outcome == "fail"
    assert "1 critical defect found: any critical defect fails the lot." in result.reasons


def test_major_at_re_rejects():
    result = judge_inspection(NORMAL, {"critical": 0, "major": 8, "minor": 2}, [check()])
    assert result.outcome == "fail"
    assert (
        "Major defects: 8 found in 125 units; the plan accepts up to 7 (AQL 2.5) — rejected."
        in result.reasons
    )
    assert result.per_class["major"]["decision"] == "reject"
    assert result.per_class["minor"]["decision"] == "accept"


def test_missing_classes_count_as_none_found():
    result = judge_inspection(NORMAL, {"major": 3}, [])
    assert result.outcome == "pass"
    assert result.per_class["critical"]["found"] == 0
    assert "Minor defects: none found in 125 units" in result.reasons[2]


def test_reduced_between_ac_and_re_accepts_and_returns_to_normal():
    result = judge_inspection(REDUCED, {"critical": 0, "major": 3, "minor": 1}, [])
    assert result.outcome == "pass" and result.return_to_normal
    assert result.per_class["major"]["decision"] == "accept_return_to_normal"
    assert (
        "Major defects: 3 found in 32 units; more than the reduced plan's acceptance number 2 "
        "but fewer than its rejection number 5 (AQL 2.5) — accepted, and inspection returns "
        "to normal from the next lot." in result.reasons
    )
    # A lot not accepted under reduced inspection also returns the stream to normal.
    rejected = judge_inspection(REDUCED, {"major": 5}, [])
    assert rejected.outcome == "fail" and rejected.return_to_normal
    # A checklist failure says nothing about the sampling stream.
    checked = judge_inspection(REDUCED, {"major": 1}, [check(result="fail")])
    assert checked.outcome == "fail" and not checked.return_to_normal
    assert not judge_inspection(NORMAL, {"major": 8}, []).return_to_normal


def test_a_failed_mandatory_check_fails_or_pends():
    failed = judge_inspection(NORMAL, {}, [check(result="fail", on_fail="fail")])
    assert failed.outcome == "fail"
    assert (
        "Mandatory check PK-1 “Carton drop test” (Packaging) failed: the inspection fails."
        in failed.reasons
    )
    pending = judge_inspection(NORMAL, {}, [check(result="fail", on_fail="pending")])
    assert pending.outcome == "pending"
    assert any("pending the buyer's decision" in r for r in pending.reasons)


def test_fail_outranks_pending():
    checks = [check("A", result="fail", on_fail="pending"), check("B", result="fail")]
    assert judge_inspection(NORMAL, {}, checks).outcome == "fail"


def test_an_unanswered_mandatory_check_pends():
    result = judge_inspection(NORMAL, {}, [check(result=None), check("PK-2", result="na")])
    assert result.outcome == "pending"
    assert "1 mandatory check not answered (PK-1): the result is pending." in result.reasons


def test_many_unanswered_checks_make_one_reason():
    checks = [check(f"PK-{n}", result=None) for n in range(1, 8)]
    result = judge_inspection(NORMAL, {}, checks)
    unanswered = [r for r in result.reasons if "not answered" in r]
    assert unanswered == [
        "7 mandatory checks not answered (PK-1, PK-2, PK-3, PK-4, PK-5 and 2 more): "
        "the result is pending."
    ]


def test_an_optional_failed_check_is_an_observation_only():
    result = judge_inspection(NORMAL, {}, [check(result="fail", mandatory=False), check("PK-2")])
    assert result.outcome == "pass"
    assert result.observations == [
        "Optional check PK-1 “Carton drop test” (Packaging) failed (an observation)."
    ]
    unanswered = judge_inspection(NORMAL, {}, [check(result=None, mandatory=False)])
    assert unanswered.outcome == "pass"


def test_more_defects_than_units_sampled():
    small = multi_class_plan(50, {"critical": 0, "major": "2.5"}).to_dict()  # code D, 8 units
    with pytest.raises(ValueError, match="9 major defects found in a sample of 8 units"):
        judge_inspection(small, {"major": 9}, [])
    # AQL 2.5 at code D: the arrow leads up to 5 units with Ac 0 / Re 1, judged on all 8.
    result = judge_inspection(small, {"major": 1}, [])
    assert result.reasons[0] == (
        "Major defects: 1 found in 8 units; the plan accepts none (AQL 2.5) — rejected."
    )


def test_bad_defect_counts_and_classes():
    with pytest.raises(ValueError, match="major defect count must be a whole number"):
        judge_inspection(NORMAL, {"major": -1}, [])
    with pytest.raises(ValueError, match="major defect count"):
        judge_inspection(NORMAL, {"major": 1.5}, [])
    with pytest.raises(ValueError, match="no defect class cosmetic"):
        judge_inspection(NORMAL, {"cosmetic": 1}, [])
    with pytest.raises(ValueError, match="no defect classes"):
        judge_inspection({"n": 5}, {}, [])
    with pytest.raises(ValueError, match="inconsistent"):
        judge_inspection({"classes": [{"defect_class": "major", "n": 5, "ac": 2, "re": 2}]}, {}, [])


def test_bad_checks():
    with pytest.raises(ValueError, match="on_fail must be 'fail' or 'pending'"):
        check(on_fail="warn")
    with pytest.raises(ValueError, match="result must be 'pass', 'fail', 'na' or none"):
        check(result="ok")


def test_without_a_plan_the_checks_decide():
    # Container loading: no AQL sampling.
    assert judge_inspection(None, {}, [check("CLI-1"), check("CLI-2")]).outcome == "pass"
    failed = judge_inspection(None, {}, [check("CLI-1", result="fail")])
    assert failed.outcome == "fail" and failed.per_class == {}
    noted = judge_inspection(None, {"major": 3}, [check("CLI-1")])
    assert noted.outcome == "pass"
    assert noted.observations == [
        "3 major defects recorded; without a sampling plan they are noted, not judged."
    ]
    critical = judge_inspection(None, {"critical": 1}, [check("CLI-1")])
    assert critical.outcome == "fail"


def test_a_pace_too_slow_to_finish_projects_no_date():
    projection = project_completion(3000, 1, date(2026, 1, 1), date(2029, 12, 31), date(2026, 3, 1))
    assert projection.projected_completion is None and projection.late_by_days is None
