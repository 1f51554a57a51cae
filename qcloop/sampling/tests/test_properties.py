"""Properties the tables and the OC must have, over random lots, AQLs and levels."""

from hypothesis import given, settings
from hypothesis import strategies as st

from qcloop.sampling import AQLS, LEVELS, code_letter, judge, lq, plan, prob_accept

lots = st.integers(2, 2_000_000)
aqls = st.sampled_from(AQLS)
levels = st.sampled_from(LEVELS)
severities = st.sampled_from(["normal", "tightened", "reduced"])
schemes = st.sampled_from(["single", "double"])
FAST = settings(max_examples=60, deadline=None)


def model_for(aql: str) -> str:
    return "poisson" if float(aql) > 10 else "binomial"


@FAST
@given(lots, aqls, levels, severities, schemes, st.floats(0, 1), st.floats(0, 1))
def test_acceptance_falls_as_quality_worsens(lot, aql, level, severity, scheme, a, b):
    found = plan(lot, aql, level, severity, scheme)
    low, high = sorted((a, b))
    for model in ("binomial", "hypergeometric"):
        assert prob_accept(found, low, model) >= prob_accept(found, high, model) - 1e-12
    assert prob_accept(found, low * 5, "poisson") >= prob_accept(found, high * 5, "poisson") - 1e-12


@FAST
@given(lots, aqls, levels, schemes)
def test_tightened_is_never_more_lenient_than_normal(lot, aql, level, scheme):
    normal = plan(lot, aql, level, "normal", scheme)
    tightened = plan(lot, aql, level, "tightened", scheme)
    model = model_for(aql)
    upper = lq(normal, 0.001, model) or 1.0
    for i in range(1, 13):
        p = upper * i / 12
        assert prob_accept(tightened, p, model) <= prob_accept(normal, p, model) + 1e-9


@FAST
@given(lots, lots, aqls, levels, severities)
def test_a_larger_lot_never_gets_a_smaller_sample(a, b, aql, level, severity):
    small, large = sorted((a, b))
    assert code_letter(large, level) >= code_letter(small, level)  # A..R sort in order
    assert plan(large, aql, level, severity).n >= plan(small, aql, level, severity).n


@FAST
@given(lots, aqls, levels)
def test_reduced_never_samples_more_than_normal(lot, aql, level):
    assert plan(lot, aql, level, "reduced").n <= plan(lot, aql, level, "normal").n


@FAST
@given(lots, aqls, levels, severities, st.integers(0, 60))
def test_single_decision_follows_ac_and_re(lot, aql, level, severity, defects):
    found = plan(lot, aql, level, severity)
    decision = judge(found, defects)
    assert decision.accepted == (defects < found.re)
    assert (decision == "accept") == (defects <= found.ac)


@FAST
@given(lots, aqls, levels, severities)
def test_plans_are_well_formed(lot, aql, level, severity):
    for scheme in ("single", "double"):
        found = plan(lot, aql, level, severity, scheme)
        if found.scheme == "single":
            assert 1 <= found.n <= lot and 0 <= found.ac < found.re
            assert found.hundred_percent == (found.n == lot)
        else:
            assert found.n1 < lot and 1 <= found.n2 <= found.n1
            assert found.ac1 < found.re1 <= found.re2 and found.ac1 <= found.ac2 < found.re2
