"""Operating characteristics: how likely a plan is to accept lots of a given quality.

Quality ``p`` is a fraction: the fraction defective (binomial: a large lot or a process;
hypergeometric: this lot exactly, holding round(p * lot size) defectives) or, for the
Poisson model, nonconformities per unit (AQLs above 10 count nonconformities per 100 units).

"Accepted" means the lot is accepted, including the reduced-inspection outcome "accept but
return to normal" (a count between Ac and Re).
"""

import math
from collections.abc import Iterable

from scipy import optimize, stats

from qcloop.sampling.plans import DoublePlan, Plan

MODELS: tuple[str, ...] = ("binomial", "hypergeometric", "poisson")


def default_model(plan: Plan) -> str:
    """Binomial for percent-nonconforming AQLs (up to 10), Poisson above (nonconformities
    per 100 units)."""
    return "poisson" if plan.aql_percent > 10 else "binomial"


def prob_accept(plan: Plan, p: float, model: str = "binomial") -> float:
    """Probability Pa that a lot of quality p is accepted; double plans exactly:
    P(accept on the first sample) + sum over undecided first counts of P(accept after both)."""
    first, second = _stage_accept(plan, p, model)
    return min(1.0, first + second)


def asn(plan: Plan, p: float, model: str = "binomial") -> float:
    """Average sample number: expected units inspected per lot (n for single plans)."""
    if not isinstance(plan, DoublePlan):
        _check(plan, p, model)
        return float(plan.n)
    dist = _distribution(model, p, plan.n1, plan.lot_size, _defectives(plan, p, model))
    undecided = sum(_pmf(dist, k) for k in range(plan.ac1 + 1, plan.re1))
    return plan.n1 + plan.n2 * undecided


def oc_curve(
    plan: Plan,
    ps: Iterable[float] | None = None,
    model: str = "binomial",
    points: int = 11,
) -> list[tuple[float, float]]:
    """Points (p, Pa) of the OC curve; by default ``points`` evenly spaced qualities from 0 to
    where acceptance has fallen to about 1 %."""
    if ps is None:
        upper = lq(plan, 0.01, model) or 1.0
        ps = [upper * i / (points - 1) for i in range(points)]
    return [(p, prob_accept(plan, p, model)) for p in ps]


def producer_risk(plan: Plan, model: str = "binomial") -> float:
    """The producer's risk at the AQL: 1 - Pa at p = AQL / 100 (a lot exactly at the AQL is
    rejected this often)."""
    return 1.0 - prob_accept(plan, plan.aql_percent / 100, model)


def lq(plan: Plan, beta: float = 0.10, model: str = "binomial") -> float | None:
    """The lot quality accepted with probability ``beta`` (consumer's risk point), or None
    when even the worst quality the model allows is accepted more often than that."""
    if not 0 < beta < 1:
        raise ValueError(f"beta must be between 0 and 1 (exclusive); got {beta!r}")
    if model == "hypergeometric":
        return _lq_in_lot(plan, beta)
    upper = 1.0 if model == "binomial" else _poisson_upper(plan, beta)
    gap = lambda p: prob_accept(plan, p, model) - beta  # noqa: E731
    if gap(upper) > 0:
        return None
    return float(optimize.brentq(gap, 0.0, upper, xtol=1e-12))


def lq10(plan: Plan, model: str = "binomial") -> float | None:
    """LQ10: the lot quality accepted only 10 % of the time."""
    return lq(plan, 0.10, model)


def aoq(plan: Plan, p: float, model: str = "binomial") -> float:
    """Average outgoing quality when rejected lots are 100 % inspected and defectives replaced:
    p * Pa * (N - n) / N; for double plans each acceptance stage counts its own uninspected
    remainder (N - n1 after the first sample, N - n1 - n2 after the second)."""
    first, second = _stage_accept(plan, p, model)
    lot = plan.lot_size
    if isinstance(plan, DoublePlan):
        remainder = first * (lot - plan.n1) + second * (lot - plan.n1 - plan.n2)
    else:
        remainder = first * (lot - plan.n)
    return p * remainder / lot


def aoql(plan: Plan, model: str = "binomial") -> float:
    """Average outgoing quality limit: the worst AOQ over all incoming qualities."""
    return aoql_at(plan, model)[1]


def aoql_at(plan: Plan, model: str = "binomial") -> tuple[float, float]:
    """The incoming quality p where AOQ peaks, and the peak (the AOQL)."""
    upper = lq(plan, 0.001, model) or 1.0
    grid = [upper * i / 200 for i in range(201)]
    best = max(grid, key=lambda p: aoq(plan, p, model))
    step = upper / 200
    if model == "hypergeometric":  # a step function of p: the grid maximum is the answer
        return best, aoq(plan, best, model)
    found = optimize.minimize_scalar(
        lambda p: -aoq(plan, p, model),
        bounds=(max(0.0, best - step), min(upper, best + step)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    p = float(found.x) if -found.fun >= aoq(plan, best, model) else best
    return p, aoq(plan, p, model)


def _stage_accept(plan: Plan, p: float, model: str) -> tuple[float, float]:
    """P(accepted on the first sample), P(accepted after the second sample)."""
    _check(plan, p, model)
    defectives = _defectives(plan, p, model)
    if not isinstance(plan, DoublePlan):
        dist = _distribution(model, p, plan.n, plan.lot_size, defectives)
        return _cdf(dist, plan.re - 1), 0.0
    first = _distribution(model, p, plan.n1, plan.lot_size, defectives)
    second = 0.0
    for k in range(plan.ac1 + 1, plan.re1):
        chance = _pmf(first, k)
        if chance == 0.0:
            continue
        # The second sample comes from the rest of the lot (matters for the hypergeometric).
        rest_defectives = None if defectives is None else defectives - k
        rest = _distribution(model, p, plan.n2, plan.lot_size - plan.n1, rest_defectives)
        second += chance * _cdf(rest, plan.re2 - 1 - k)
    return _cdf(first, plan.ac1), second


def _check(plan: Plan, p: float, model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; allowed: {', '.join(MODELS)}")
    if isinstance(p, bool) or not isinstance(p, int | float) or math.isnan(p):
        raise ValueError(f"p must be a number; got {p!r}")
    if model == "poisson":
        if p < 0:
            raise ValueError(f"p (nonconformities per unit) must be 0 or more; got {p!r}")
    elif not 0 <= p <= 1:
        raise ValueError(f"p (fraction defective) must be within [0, 1] for {model}; got {p!r}")


def _defectives(plan: Plan, p: float, model: str) -> int | None:
    return round(p * plan.lot_size) if model == "hypergeometric" else None


def _distribution(model: str, p: float, n: int, lot: int, defectives: int | None):
    if p < 1e-300:  # scipy's binomial overflows near the smallest normal float; Pa is 1 there
        p = 0.0
    if model == "binomial":
        return stats.binom(n, p)
    if model == "poisson":
        return stats.poisson(n * p)
    assert defectives is not None
    return stats.hypergeom(lot, max(0, defectives), n)


def _pmf(dist, k: int) -> float:
    return float(dist.pmf(k))


def _cdf(dist, k: int) -> float:
    return float(dist.cdf(k)) if k >= 0 else 0.0


def _poisson_upper(plan: Plan, beta: float) -> float:
    upper = 1.0
    while prob_accept(plan, upper, "poisson") > beta and upper < 1e6:
        upper *= 2
    return upper


def _lq_in_lot(plan: Plan, beta: float) -> float | None:
    """Smallest number of defectives D in the lot with Pa <= beta, as a fraction D / N."""
    lot = plan.lot_size

    def pa(d: int) -> float:
        return prob_accept(plan, d / lot, "hypergeometric")

    if pa(lot) > beta:
        return None
    low, high = 0, lot  # pa(low) > beta >= pa(high)
    while high - low > 1:
        middle = (low + high) // 2
        if pa(middle) > beta:
            low = middle
        else:
            high = middle
    return high / lot
