"""Several defect classes in one inspection: the industry and strict methods."""

import json

import pytest

from qcloop.sampling import Decision, judge, judge_classes, multi_class_plan

GARMENT = {"critical": 0, "major": 2.5, "minor": 4.0}


def numbers(multi, name):
    found = multi.for_class(name)
    return found.n, found.ac, found.re


class TestIndustry:
    def test_one_sample_each_class_its_own_ac_re(self):
        multi = multi_class_plan(5000, GARMENT)
        assert (multi.method, multi.table_code, multi.n) == ("industry", "L", 200)
        assert numbers(multi, "critical") == (200, 0, 1)
        assert numbers(multi, "major") == (200, 10, 11)
        assert numbers(multi, "minor") == (200, 14, 15)
        assert multi.for_class("major").adjustment == ""

    def test_arrow_down_keeps_n_with_ac_0(self):
        multi = multi_class_plan(100, {"major": 1.5, "tight": 0.40})  # F: n 20
        assert multi.n == 20
        assert numbers(multi, "major") == (20, 0, 1)  # table: G, n 32, 1/2
        assert numbers(multi, "tight") == (20, 0, 1)  # table: G, n 32, 0/1
        standard = multi.for_class("major").standard_plan
        assert (standard.code, standard.n, standard.ac) == ("G", 32, 1)
        assert "n=32" in multi.for_class("major").adjustment

    def test_arrow_up_keeps_n_with_the_plan_reached(self):
        multi = multi_class_plan(100, {"major": 1.0})  # F at 1.0: arrow up to E (13, 0/1)
        assert numbers(multi, "major") == (20, 0, 1)
        assert "larger common sample" in multi.for_class("major").adjustment
        multi = multi_class_plan(200_000, {"minor": 2.5})  # P at 2.5: up to N (500, 21/22)
        assert numbers(multi, "minor") == (800, 21, 22)

    def test_same_sample_size_after_an_arrow_is_no_adjustment(self):
        multi = multi_class_plan(5, {"loose": 10}, severity="reduced")  # A..C all n 2
        assert numbers(multi, "loose") == (2, 0, 2)
        assert multi.for_class("loose").adjustment == ""

    def test_small_lot_is_fully_inspected(self):
        multi = multi_class_plan(2, GARMENT)
        assert (multi.n, multi.hundred_percent) == (2, True)


class TestStrict:
    def test_largest_sample_drawn_each_class_on_its_first_units(self):
        multi = multi_class_plan(100, {"critical": 0, "major": 1.5, "minor": 4.0}, method="strict")
        assert multi.method == "strict"
        assert multi.n == 32
        assert numbers(multi, "major") == (32, 1, 2)
        assert numbers(multi, "minor") == (20, 2, 3)
        assert numbers(multi, "critical") == (20, 0, 1)


class TestJudging:
    def test_any_class_rejecting_rejects_the_lot(self):
        multi = multi_class_plan(5000, GARMENT)
        result = judge(multi, {"critical": 0, "major": 10, "minor": 15})
        assert result.decisions == {
            "critical": Decision.ACCEPT,
            "major": Decision.ACCEPT,
            "minor": Decision.REJECT,
        }
        assert result.overall is Decision.REJECT
        assert result.method == "industry"

    def test_critical_defect_rejects(self):
        multi = multi_class_plan(5000, GARMENT)
        assert judge_classes(multi, {"critical": 1, "major": 0, "minor": 0}).overall == "reject"

    def test_reduced_gap_returns_to_normal(self):
        multi = multi_class_plan(5000, {"major": 2.5}, severity="reduced")  # 80: 5/8
        assert judge(multi, {"major": 6}).overall is Decision.ACCEPT_RETURN_TO_NORMAL
        assert judge(multi, {"major": 5}).overall is Decision.ACCEPT

    def test_every_class_needs_a_count(self):
        multi = multi_class_plan(5000, GARMENT)
        with pytest.raises(ValueError, match="critical, major, minor"):
            judge(multi, {"major": 1})
        with pytest.raises(ValueError, match="one count per defect class"):
            judge(multi, 3)


def test_to_dict_is_json():
    multi = multi_class_plan(100, GARMENT, method="strict")
    data = json.loads(json.dumps(multi.to_dict()))
    assert data["method"] == "strict"
    assert [c["defect_class"] for c in data["classes"]] == ["critical", "major", "minor"]
    assert data["classes"][1]["standard_plan"]["n"] == 20


class TestInvalid:
    def test_method(self):
        with pytest.raises(ValueError, match="industry, strict"):
            multi_class_plan(100, GARMENT, method="average")

    def test_no_classes(self):
        with pytest.raises(ValueError, match="at least one"):
            multi_class_plan(100, {})

    def test_aql(self):
        with pytest.raises(ValueError, match="allowed values"):
            multi_class_plan(100, {"major": 3})

    def test_unknown_class(self):
        with pytest.raises(ValueError, match="critical, major, minor"):
            multi_class_plan(100, GARMENT).for_class("cosmetic")
