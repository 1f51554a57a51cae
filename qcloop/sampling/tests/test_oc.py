"""Operating characteristics against hand calculations and published values."""

import math

import pytest

from qcloop.sampling import (
    aoq,
    aoql,
    aoql_at,
    asn,
    lq,
    lq10,
    oc_curve,
    plan,
    prob_accept,
    producer_risk,
)


def binomial_cdf(c: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(c + 1))


def hypergeometric_pmf(k: int, lot: int, defectives: int, n: int) -> float:
    return math.comb(defectives, k) * math.comb(lot - defectives, n - k) / math.comb(lot, n)


@pytest.fixture
def j80():
    found = plan(1000, "1.0")  # J: n 80, Ac 2, Re 3
    assert (found.n, found.ac, found.re) == (80, 2, 3)
    return found


class TestSingle:
    def test_published_value_n80_c2(self, j80):
        assert prob_accept(j80, 0.01) == pytest.approx(0.953, abs=0.0005)
        assert prob_accept(j80, 0.01) == pytest.approx(binomial_cdf(2, 80, 0.01), rel=1e-12)

    def test_poisson(self, j80):
        expected = math.exp(-0.8) * (1 + 0.8 + 0.8**2 / 2)
        assert prob_accept(j80, 0.01, "poisson") == pytest.approx(expected, rel=1e-12)

    def test_hypergeometric_uses_the_lot(self, j80):
        expected = sum(hypergeometric_pmf(k, 1000, 10, 80) for k in range(3))
        assert prob_accept(j80, 0.01, "hypergeometric") == pytest.approx(expected, rel=1e-12)

    def test_extremes(self, j80):
        assert prob_accept(j80, 0.0) == 1.0
        assert prob_accept(j80, 1.0) == 0.0

    def test_reduced_counts_accept_but_return_to_normal_as_accepted(self):
        found = plan(5000, 2.5, severity="reduced")  # n 80, Ac 5, Re 8
        assert prob_accept(found, 0.05) == pytest.approx(binomial_cdf(7, 80, 0.05), rel=1e-12)


class TestDouble:
    def test_exact_against_enumeration(self):
        found = plan(5000, 2.5, scheme="double")  # 125: 5 9 / 12 13
        p = 0.04
        n = found.n1
        first = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
        expected = sum(first[:6]) + sum(first[k] * binomial_cdf(12 - k, n, p) for k in range(6, 9))
        assert prob_accept(found, p) == pytest.approx(expected, rel=1e-10)

    def test_hypergeometric_second_sample_comes_from_the_rest_of_the_lot(self):
        found = plan(60, "10", scheme="double")  # E (51-90): n1 8, 1 3 / 4 5
        assert (found.n1, found.ac1, found.re1, found.ac2, found.re2) == (8, 1, 3, 4, 5)
        defectives = 6  # p = 0.1 of 60
        expected = sum(hypergeometric_pmf(k, 60, defectives, 8) for k in range(2))
        for k in (2,):  # undecided first counts: Ac1 < k < Re1
            rest = sum(hypergeometric_pmf(j, 52, defectives - k, 8) for j in range(4 - k + 1))
            expected += hypergeometric_pmf(k, 60, defectives, 8) * rest
        assert prob_accept(found, 0.1, "hypergeometric") == pytest.approx(expected, rel=1e-10)

    def test_asn(self):
        found = plan(5000, 2.5, scheme="double")
        assert asn(found, 0.0) == 125
        assert asn(found, 1.0) == 125
        p = 0.04
        undecided = sum(math.comb(125, k) * p**k * (1 - p) ** (125 - k) for k in range(6, 9))
        assert asn(found, p) == pytest.approx(125 + 125 * undecided, rel=1e-10)
        assert asn(plan(5000, 2.5), p) == 200


class TestFigures:
    def test_producer_risk_is_rejection_at_the_aql(self):
        found = plan(5000, 2.5)
        assert producer_risk(found) == pytest.approx(1 - binomial_cdf(10, 200, 0.025))
        assert 0.005 < producer_risk(found) < 0.05

    def test_lq10_is_accepted_ten_percent_of_the_time(self):
        found = plan(5000, 2.5)
        quality = lq10(found)
        assert prob_accept(found, quality) == pytest.approx(0.10, abs=1e-9)
        assert 0.07 < quality < 0.08

    def test_lq_with_the_poisson_model_for_nonconformities(self):
        found = plan(50, "100", severity="reduced")
        quality = lq(found, 0.10, "poisson")
        assert prob_accept(found, quality, "poisson") == pytest.approx(0.10, abs=1e-9)

    def test_lq_in_the_lot_is_a_whole_number_of_defectives(self, j80):
        quality = lq(j80, 0.10, "hypergeometric")
        defectives = round(quality * 1000)
        assert quality * 1000 == pytest.approx(defectives)
        assert prob_accept(j80, defectives / 1000, "hypergeometric") <= 0.10
        assert prob_accept(j80, (defectives - 1) / 1000, "hypergeometric") > 0.10

    def test_lq_none_when_every_quality_is_accepted_more_often(self):
        found = plan(5, "1000")  # n 2, Ac 30: never rejects a binomial sample
        assert lq10(found) is None

    def test_aoq(self):
        found = plan(5000, 2.5)
        p = 0.03
        assert aoq(found, p) == pytest.approx(p * prob_accept(found, p) * 4800 / 5000)

    def test_aoql_is_the_peak_of_aoq(self):
        found = plan(5000, 2.5)
        peak_p, peak = aoql_at(found)
        assert aoql(found) == pytest.approx(peak)
        grid = [i / 2000 for i in range(1, 400)]
        assert peak >= max(aoq(found, p) for p in grid) - 1e-12
        assert aoq(found, peak_p) == pytest.approx(peak)
        assert 0.03 < peak < 0.035

    def test_aoq_of_a_double_plan_counts_each_stage_remainder(self):
        found = plan(5000, 2.5, scheme="double")
        assert 0 < aoq(found, 0.03) < 0.03
        assert aoql(found) > 0

    def test_hundred_percent_inspection_lets_no_defective_out(self):
        found = plan(10, 0.10)
        assert found.hundred_percent
        assert aoql(found) == 0

    def test_oc_curve(self):
        found = plan(5000, 2.5)
        points = oc_curve(found)
        assert len(points) == 11 and points[0] == (0.0, 1.0)
        assert points[-1][1] == pytest.approx(0.01, abs=1e-6)
        pas = [pa for _, pa in points]
        assert pas == sorted(pas, reverse=True)
        assert oc_curve(found, [0.01, 0.02]) == [
            (0.01, prob_accept(found, 0.01)),
            (0.02, prob_accept(found, 0.02)),
        ]


class TestInvalid:
    @pytest.mark.parametrize("p", [-0.1, 1.1, float("nan")])
    def test_fraction_defective_outside_zero_one(self, j80, p):
        with pytest.raises(ValueError, match=r"\[0, 1\]|number"):
            prob_accept(j80, p)

    def test_poisson_allows_more_than_one_per_unit(self, j80):
        assert prob_accept(j80, 1.5, "poisson") < 1e-30
        with pytest.raises(ValueError, match="0 or more"):
            prob_accept(j80, -1, "poisson")

    def test_unknown_model(self, j80):
        with pytest.raises(ValueError, match="binomial, hypergeometric, poisson"):
            prob_accept(j80, 0.01, "normal")


@pytest.mark.parametrize(("aql", "code", "factor"), [("1.0", "J", 1.7), ("2.5", "L", 3.3)])
def test_aoql_matches_the_published_factors(aql, code, factor):
    """MIL-STD-105E Table V-A gives AOQL factors (percent) for very large lots."""
    lot = {"J": 1000, "L": 5000}[code]
    found = plan(lot, aql)
    assert found.code == code
    assert round(aoql(found) / (1 - found.n / lot) * 100, 1) == factor
