"""Is a defect rate escalating? The trend of one defect class (or one defect code) across the
milestones of a PO and the earlier lots of the same supplier-product stream, free of Django.

The question a senior QC lead answers by eye: 2 % of major defects at DUPRO, 4 % at PSI and
6 % at the re-inspection pass every milestone's AQL (Ac 10 in 200 for major 2.5), yet the
rate is climbing. qcloop answers it with a test that uses the sample sizes, not the rates
alone, and the supplier's own earlier lots as the baseline where they exist.

Input: `points`, a list of (sample_size, defects) pairs in time order: the earlier lots of the
stream first (their PSIs, one point per lot), then this PO's milestones (IPC, DUPRO, PSI,
PSI #2 for a re-inspection, CLI when it samples). `history` says how many leading points are
earlier lots; None means unknown and the series is read as one stream.

The test (chosen by simulation, see bench/trend_detection.py)
----------------------------------------------------------------
H0: one constant defect rate over all the points. Against it, the Cochran-Armitage trend
statistic T = sum(score_i * defects_i), computed *conditionally on the total defects*: under
H0 and given the total D, the defects are spread over the points as a multivariate
hypergeometric draw (each point holds its sample's share of the units), whatever the rate
is. The null distribution of T is therefore known exactly, with no rate to estimate, and is
computed by a small dynamic programme over the points (one Toeplitz matrix product per
point, see `exact_null`). The p-value counts the observed value's own probability at weight
0.6: p = P(T > t) + 0.6 P(T = t), between Lancaster's mid-p (1/2) and the plain exact p (1);
see MID_P_WEIGHT. With many defects (more than EXACT_MAX_DEFECTS in the PO's share of the
table, or a table larger than EXACT_MAX_CELLS) a normal approximation with Edgeworth's
skewness term takes over (`edgeworth_p_value`), which agrees with the exact figure to a few
thousandths.

The scores carry the design:
  * history known: every earlier lot scores 0 (they are pooled into one baseline, which is
    exact: points with equal scores add up to one point under the conditional null), and the
    PO's sampled milestones score 1, 2, 3, ... in order. One statistic then weighs both the
    step from the supplier's baseline and the climb within the PO, which is how escalations
    look: a baseline of hundreds or thousands of units makes a 2 -> 4 % move detectable that
    the PO's own 125 + 200 units cannot show.
  * history unknown: index scores 0, 1, 2, ... over all the sampled points, the textbook
    Cochran-Armitage test for a monotone trend.

Why this and not the others (measured with /tmp scratch runs and bench/trend_detection.py,
10,000 simulated POs per cell; the bench prints the comparison):
  * the plain normal Cochran-Armitage test is anti-conservative with the 0-10 defects of a
    milestone beside a long baseline (5.8-6.5 % false alarms where the exact test gives
    4.6-5.7 %); the exact conditional test with the plain p-value is safe but conservative
    (0.1-4.8 % false alarms, 1-5 points of power lost). Lancaster's mid-p is close to 5 %
    on average, but with very few defects it reached 6.4 % (base rate 0.5 %, five earlier
    lots, judged at PSI); the weight 0.6 keeps every stable scenario of the bench (base
    rates 0.5-6 %, samples 13-500, with and without earlier lots) at or below 5 % per look
    within the simulation's noise, for half a point of power.
  * scores 0 | 1, 2, 3 beat the alternatives on every escalation shape tried (seed
    2-2-4-6 %, early rise 2-4-6 %, slow rise 1.5-3 %, step at PSI 1.5-4.5 %): with five
    earlier lots at PSI #2 the seed is caught in 89 % of POs, against 76 % for a step test
    (PO pooled against the baseline), 82 % for index scores over the whole series and 82 %
    for the min-p of trend and step with Bonferroni's factor 2 (which pays more for the
    second look than it gains). The Neyman-Pearson test that knows the true rates: 96 %;
    plain AQL judgement: 73 %.
  * a Bayesian posterior P(rate now > baseline) needs a prior on the rate and has no
    false-alarm guarantee to calibrate against; `probability` below gives the reader the
    same kind of figure without changing the decision rule.
Without earlier lots the PO must supply its own baseline from an IPC of 50 and a DUPRO of
125 units, and power drops (the seed at PSI #2: 62 %, below plain AQL's 73 %, where the
6 % re-inspection fails on its own); the trend test then adds most where the AQL cannot see:
slow rises within every Ac, and steps caught at PSI.

`probability` is 1 - p: the approximate posterior probability, under a flat prior on the
trend's slope, that the defect rate is rising (for a normal statistic z, P(slope > 0 | data)
= Phi(z) = 1 - p). It is a reading aid: "escalating" is decided by p <= alpha.

Strength in words, by the one-sided p-value (the usual reading of evidence against H0):
  p <= 0.001 very strong, <= 0.01 strong, <= 0.05 moderate, <= 0.10 weak, else no evidence.

Projection to the next milestone
--------------------------------
When the trend is escalating, the trajectory is the straight line through the rates of the
PO's milestones (all points when there is no history or fewer than two milestones), by
least squares weighted by sample size, extended one step; otherwise the best forecast is the
constant rate, the pooled rate of the same points. `projected` is True when, at that rate,
the next milestone's sample is more likely to find more than Ac defects than not
(P(X > Ac) > 1/2 for X ~ Binomial(next_sample_size, projected rate)): a lot that will more
likely fail than pass. Without the next plan it is True when the projected rate is above the
AQL itself.

Rates are defects per 100 units inspected, as everywhere in qcloop. A sample size 0 (the
class was not inspected at that milestone) is skipped and the explanation says so.
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy.special import bdtrc, gammaln

DEFAULT_ALPHA = 0.05

# Evidence in words: the upper p-value bound of each word, strongest first.
STRENGTH_CUTOFFS = (
    (0.001, "very strong"),
    (0.01, "strong"),
    (0.05, "moderate"),
    (0.10, "weak"),
)
NO_EVIDENCE = "no evidence"

# The exact null table has (D + 1) x (max score * D + 1) cells; beyond these sizes the
# normal approximation is as good as exact (tens of defects) and far cheaper.
EXACT_MAX_DEFECTS = 60
EXACT_MAX_CELLS = 40_000

METHOD_EXACT = "exact conditional Cochran-Armitage trend test"
METHOD_NORMAL = "Cochran-Armitage trend test (normal approximation with skewness correction)"
METHOD_NONE = "no test"

# The share of the observed statistic's own probability counted in the p-value:
# P(T > t) + MID_P_WEIGHT * P(T = t). Lancaster's mid-p takes 1/2, the plain exact p 1; 1/2
# gave 6.4 % false alarms with a few defects (base rate 0.5 %, five earlier lots, PSI), 0.6
# keeps every stable scenario of the bench at or below 5 % and costs half a point of power.
MID_P_WEIGHT = 0.6

# A defect class's false-alarm budget over one PO's looks, as qcloop.analytics.flags spends
# it: the first PSI AT_PSI, the k-th sampled look before it BEFORE_PSI / 2**k, the k-th after
# it AFTER_PSI / 2**k; at each look CLASS_SHARE of it for the class's own test, the rest for
# its defect codes (Holm).
PO_ALPHA = 0.05
BEFORE_PSI, AT_PSI, AFTER_PSI = 0.01, 0.03, 0.01
CLASS_SHARE = 2 / 3


def look_alpha(kinds: list[str]) -> float:
    """A class's threshold at the look of the last of a PO's sampled milestones, given their
    kinds in the order of production ("IPC", "DUPRO", "PSI", "PSI", "CLI"): its part of
    PO_ALPHA, so that the looks of any PO sum to at most PO_ALPHA (by the union bound a
    stable PO's class is flagged at some look with probability at most PO_ALPHA)."""
    if not kinds:
        return AT_PSI
    first_psi = kinds.index("PSI") if "PSI" in kinds else len(kinds)
    last = len(kinds) - 1
    if last == first_psi:
        return AT_PSI
    if last < first_psi:
        return BEFORE_PSI / 2 ** (last + 1)
    return AFTER_PSI / 2 ** (last - first_psi)


# A projected lot "fails" when it is more likely than not to find more than Ac defects.
FAIL_PROBABILITY = 0.5


@dataclass(frozen=True)
class Assessment:
    """The verdict on one defect class (or code) across the points given."""

    escalating: bool  # p_value <= alpha: strong enough evidence of a rising defect rate
    p_value: float  # one-sided, H0: constant rate
    probability: float  # 1 - p_value: how likely the rate is rising (flat prior on the slope)
    strength: str  # "no evidence", "weak", "moderate", "strong", "very strong"
    explanation: str  # plain English with the numbers
    projected: bool  # projected to exceed the AQL (fail the plan) at the next milestone
    projected_rate: float | None  # per 100 units at the next milestone; None: no data
    baseline_rate: float | None  # per 100: earlier lots (or points before the latest)
    latest_rate: float | None  # per 100: the last sampled point
    points_used: int  # points with units inspected
    method: str
    projection: str = ""  # the projection sentence (also inside the explanation)


def strength_words(p_value: float) -> str:
    """The strength of the evidence against a constant rate, in words (cut-offs above)."""
    for bound, words in STRENGTH_CUTOFFS:
        if p_value <= bound:
            return words
    return NO_EVIDENCE


# --- validation --------------------------------------------------------------------------


def _is_int(value) -> bool:
    if type(value) is int:  # the common case, without the slower abstract check
        return True
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _validate_points(points) -> tuple[list[int], list[int]]:
    if isinstance(points, (str, bytes)) or not hasattr(points, "__iter__"):
        raise ValueError("points: expected a list of (sample_size, defects) pairs.")
    sizes, defects = [], []
    for index, point in enumerate(points):
        if isinstance(point, (str, bytes)) or not hasattr(point, "__len__") or len(point) != 2:
            raise ValueError(
                f"points[{index}]: expected a (sample_size, defects) pair, got {point!r}."
            )
        n, d = point
        if not (_is_int(n) and _is_int(d)):
            raise ValueError(
                f"points[{index}]: sample size and defects must be integers, got {point!r}."
            )
        if n < 0 or d < 0:
            raise ValueError(f"points[{index}]: negative count in {point!r}.")
        if d > n:
            raise ValueError(f"points[{index}]: {d} defects in a sample of {n} units.")
        sizes.append(int(n))
        defects.append(int(d))
    return sizes, defects


def _validate_options(count, history, labels, aql, next_sample_size, next_acceptance, alpha):
    if history is not None and not (_is_int(history) and 0 <= history <= count):
        raise ValueError(f"history: {history!r} is not a count of leading points (0..{count}).")
    if labels is not None and len(labels) != count:
        raise ValueError(f"labels: {len(labels)} labels for {count} points.")
    if aql is not None and not (isinstance(aql, numbers.Real) and 0 < aql < 100):
        raise ValueError(f"aql: {aql!r} is not a percentage above 0.")
    for name, value in (
        ("next_sample_size", next_sample_size),
        ("next_acceptance", next_acceptance),
    ):
        if value is not None and not (_is_int(value) and value >= 0):
            raise ValueError(f"{name}: {value!r} is not a count.")
    if None not in (next_acceptance, next_sample_size) and next_acceptance > next_sample_size:
        raise ValueError(
            f"next_acceptance: Ac {next_acceptance} exceeds the sample of {next_sample_size}."
        )
    if not (isinstance(alpha, numbers.Real) and 0 < alpha < 1):
        raise ValueError(f"alpha: {alpha!r} is not between 0 and 1.")


# --- the trend test ----------------------------------------------------------------------


def trend_scores(count: int, history: int | None) -> list[int]:
    """Scores of the sampled points: index scores without history; with it, 0 for every
    earlier lot and 1, 2, ... for the PO's milestones."""
    if history is None:
        return list(range(count))
    return [0] * history + list(range(1, count - history + 1))


def _pool(sizes, defects, scores):
    """Points with equal scores add up to one point (exact under the conditional null)."""
    pooled: dict[int, list[int]] = {}
    for n, d, s in zip(sizes, defects, scores, strict=True):
        cell = pooled.setdefault(s, [0, 0])
        cell[0] += n
        cell[1] += d
    keys = sorted(pooled)
    return (
        np.array([pooled[s][0] for s in keys], dtype=np.int64),
        np.array([pooled[s][1] for s in keys], dtype=np.int64),
        np.array(keys, dtype=np.int64),
    )


def normal_trend(sizes, defects, scores) -> tuple[float, float, float]:
    """(T - E, V, z) of the Cochran-Armitage statistic (binomial variance)."""
    n = np.asarray(sizes, dtype=float)
    d = np.asarray(defects, dtype=float)
    s = np.asarray(scores, dtype=float)
    total_n, total_d = n.sum(), d.sum()
    p = total_d / total_n
    excess = float((s * d).sum() - p * (s * n).sum())
    variance = float(p * (1 - p) * ((n * s * s).sum() - (n * s).sum() ** 2 / total_n))
    z = excess / math.sqrt(variance) if variance > 0 else 0.0
    return excess, variance, z


def edgeworth_p_value(sizes, defects, scores) -> float:
    """One-sided p of the trend statistic by the normal tail with Edgeworth's skewness term,
    P(Z > z) + phi(z) * g / 6 * (z^2 - 1), g the skewness of T: sum(n c^3) p (1-p) (1-2p)
    / V^1.5 with c the scores centred on their unit-weighted mean. A small PO beside a long
    baseline makes T as skewed as a Poisson count of a few defects, and the plain normal
    tail then gives false alarms at 6 %; with the skewness term it matches the exact
    figure to a few tenths of a percent. The exact p counts MID_P_WEIGHT of the observed
    value's probability; on the continuous scale that is z = (T - E - (MID_P_WEIGHT - 1/2))
    / sqrt(V) (1/2 would be the mid-p, 1 the usual continuity correction)."""
    n = np.asarray(sizes, dtype=float)
    p = float(np.sum(defects)) / n.sum()
    centred = np.asarray(scores, dtype=float) - (n * scores).sum() / n.sum()
    excess, variance, _ = normal_trend(sizes, defects, scores)
    if variance <= 0:
        return 1.0
    z = (excess - (MID_P_WEIGHT - 0.5)) / math.sqrt(variance)
    skew = p * (1 - p) * (1 - 2 * p) * (n * centred**3).sum() / variance**1.5
    density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    tail = 0.5 * math.erfc(z / math.sqrt(2)) + density * skew / 6 * (z * z - 1)
    return min(1.0, max(0.0, tail))


def _log_choose(n: int, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _reach(sizes, total_defects: int) -> int:
    """How many of the D defects the points after the first can hold, beyond doubt: the
    count there is hypergeometric (mean m, sd v), and by Bernstein's inequality (which holds
    for sampling without replacement) it exceeds m + 10 v + 20 with probability below 1e-13.
    With a large baseline first, this keeps the table small: its size follows the defects
    of the PO, not those of the whole history."""
    D, N = total_defects, int(sum(sizes))
    share = 1 - int(sizes[0]) / N
    mean = D * share
    sd = math.sqrt(D * share * (1 - share) * (N - D) / max(N - 1, 1))
    return min(D, int(sum(sizes[1:])), math.ceil(mean + 10 * sd + 20))


def exact_null(sizes, scores, total_defects: int) -> np.ndarray:
    """P(T = t | D) for t = 0 .. max(score) * D under a constant rate, where T = sum(s_i d_i)
    and the defects are spread as a multivariate hypergeometric draw: P(d) is proportional
    to prod C(n_i, d_i). Scores must be non-negative integers and the first must be 0 (the
    baseline, or the first point).

    A dynamic programme over the points after the first on table[k, t], the weight of k
    defects among them with statistic t (k up to `_reach`). A point with score s moves
    weight from (k, t) to (k + j, t + s j) with weight C(n, j). Stored flat with row length
    `stride`, that move is a shift by j * (stride + s) positions: re-read the flat table in
    rows of stride + s and it is a shift by j rows, so the whole point is one small
    Toeplitz matrix product. The first point takes the remaining D - k defects at the end,
    with weight C(n_1, D - k) and no change to t (its score is 0)."""
    D = total_defects
    reach = _reach(sizes, D)
    stride = int(max(scores)) * reach + 1
    cells = (reach + 1) * stride
    # Any factor c**j per point cancels (the total is D); the pooled odds keep the weights
    # of likely counts near 1 and the unlikely ones harmlessly small.
    log_odds = math.log(D / (int(sum(sizes)) - D))
    rows = np.arange(reach + 1)
    lag = rows[:, None] - rows[None, :]
    lag = np.where(lag >= 0, lag, reach + 1)  # above the diagonal: the zero at the end
    flat = np.zeros(cells)
    flat[0] = 1.0
    for n, s in zip(sizes[1:], scores[1:], strict=True):
        n, step = int(n), stride + int(s)
        j = np.arange(min(n, reach) + 1)
        log_w = _log_choose(n, j) + j * log_odds
        weights = np.zeros(reach + 2)
        weights[: len(j)] = np.exp(log_w - log_w.max())
        height = -(-cells // step)
        table = np.zeros(height * step)
        table[:cells] = flat
        # Positions past `cells` hold more than `reach` defects: dropped, never needed.
        flat = (weights[lag[:height, :height]] @ table.reshape(height, step)).ravel()[:cells]
        flat /= flat.max()
    table = flat.reshape(reach + 1, stride)
    first = int(sizes[0])
    rest = D - rows
    log_w = np.where(rest <= first, _log_choose(first, np.minimum(rest, first)), -np.inf)
    log_w = log_w + rest * log_odds
    row = np.zeros(int(max(scores)) * D + 1)  # statistics past the reach have no weight
    row[:stride] = np.exp(log_w - log_w.max()) @ table
    return row / row.sum()


def trend_p_value(sizes, defects, scores) -> tuple[float, str]:
    """One-sided p-value of a rising rate along the scores, and the method used."""
    sizes, defects, scores = _pool(sizes, defects, scores)
    D, N = int(defects.sum()), int(sizes.sum())
    if len(sizes) < 2 or D == 0 or D == N:
        return 1.0, METHOD_NONE  # one score, or nothing to spread: no trend is testable
    shifted = scores - scores.min()
    reach = _reach(sizes, D)
    cells = (reach + 1) * (int(shifted.max()) * reach + 1)
    if reach <= EXACT_MAX_DEFECTS and cells <= EXACT_MAX_CELLS:
        null = exact_null(sizes, shifted, D)
        t = int((shifted * defects).sum())
        p = float(null[t + 1 :].sum() + MID_P_WEIGHT * null[t])
        return min(1.0, max(0.0, p)), METHOD_EXACT
    return edgeworth_p_value(sizes, defects, shifted), METHOD_NORMAL


# --- projection --------------------------------------------------------------------------


def fitted_line(sizes, defects) -> tuple[float, float]:
    """(intercept, slope) of the rate (fraction) against the step 0, 1, 2, ... by least
    squares weighted by sample size."""
    n = np.asarray(sizes, dtype=float)
    rate = np.asarray(defects, dtype=float) / n
    x = np.arange(len(n), dtype=float)
    mean_x = (n * x).sum() / n.sum()
    mean_r = (n * rate).sum() / n.sum()
    spread = (n * (x - mean_x) ** 2).sum()
    slope = (n * (x - mean_x) * (rate - mean_r)).sum() / spread if spread > 0 else 0.0
    return mean_r - slope * mean_x, slope


def project(sizes, defects, rising: bool) -> float:
    """The rate (fraction) expected at the next point: the weighted line one step on when
    the rate is rising, otherwise the pooled rate."""
    if rising and len(sizes) >= 2:
        intercept, slope = fitted_line(sizes, defects)
        return min(1.0, max(0.0, intercept + slope * len(sizes)))
    return sum(defects) / sum(sizes)


def fail_probability(rate: float, sample_size: int, acceptance: int) -> float:
    """P(more than Ac defects in the next sample) at the given rate."""
    return float(bdtrc(acceptance, sample_size, rate))


# --- the explanation ---------------------------------------------------------------------


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.1f} %"


def _p_text(p: float) -> str:
    if p < 0.0001:
        return "p < 0.0001"
    return f"p = {p:.4f}" if p < 0.01 else f"p = {p:.3f}"


def _evidence(strength: str) -> str:
    return strength if strength == NO_EVIDENCE else f"{strength} evidence"


def _default_labels(count: int, history: int | None) -> list[str]:
    if history is None:
        return [f"point {i + 1}" for i in range(count)]
    return [f"lot {i + 1}" for i in range(history)] + [
        f"milestone {j + 1}" for j in range(count - history)
    ]


def _describe(label: str, n: int, d: int) -> str:
    return f"{label} {_pct(d / n)} ({d} in {n})"


# --- the assessment ----------------------------------------------------------------------


def assess(
    points,
    *,
    history: int | None = None,
    labels: list[str] | None = None,
    aql: float | None = None,
    next_sample_size: int | None = None,
    next_acceptance: int | None = None,
    alpha: float = DEFAULT_ALPHA,
) -> Assessment:
    """Assess whether the defect rate of `points` (time-ordered (sample_size, defects)) is
    escalating, and whether it is projected to exceed the AQL at the next milestone."""
    sizes, defects = _validate_points(points)
    count = len(sizes)
    _validate_options(count, history, labels, aql, next_sample_size, next_acceptance, alpha)
    labels = list(labels) if labels is not None else _default_labels(count, history)

    used = [i for i in range(count) if sizes[i] > 0]
    skipped = [i for i in range(count) if sizes[i] == 0]
    n_used = [sizes[i] for i in used]
    d_used = [defects[i] for i in used]
    used_history = None if history is None else sum(1 for i in used if i < history)
    scores = trend_scores(len(used), used_history)

    if len(used) >= 2:
        p_value, method = trend_p_value(n_used, d_used, scores)
    else:
        p_value, method = 1.0, METHOD_NONE
    escalating = method != METHOD_NONE and p_value <= alpha
    strength = strength_words(p_value)

    baseline_rate = _baseline(n_used, d_used, used_history)
    latest_rate = d_used[-1] / n_used[-1] if used else None

    # The trajectory of the PO itself when the supplier's lots are known and it has two
    # sampled milestones; otherwise the whole series.
    if used_history is not None and len(used) - used_history >= 2:
        track_n, track_d = n_used[used_history:], d_used[used_history:]
    else:
        track_n, track_d = n_used, d_used
    projected_rate = project(track_n, track_d, escalating) if used else None
    projected, projection = _projection(
        projected_rate, escalating, aql, next_sample_size, next_acceptance
    )

    explanation = _explain(
        labels=labels,
        sizes=sizes,
        defects=defects,
        used=used,
        skipped=skipped,
        used_history=used_history,
        baseline_rate=baseline_rate,
        p_value=p_value,
        method=method,
        strength=strength,
        escalating=escalating,
        alpha=alpha,
        projection=projection,
    )
    return Assessment(
        escalating=escalating,
        p_value=p_value,
        probability=1.0 - p_value,
        strength=strength,
        explanation=explanation,
        projected=projected,
        projected_rate=None if projected_rate is None else 100 * projected_rate,
        baseline_rate=None if baseline_rate is None else 100 * baseline_rate,
        latest_rate=None if latest_rate is None else 100 * latest_rate,
        points_used=len(used),
        method=method,
        projection=projection,
    )


def _baseline(n_used, d_used, used_history) -> float | None:
    """Pooled rate of the earlier lots; without history, of the points before the latest."""
    count = len(n_used) - 1 if used_history is None else used_history
    units = sum(n_used[:count])
    return sum(d_used[:count]) / units if units else None


def _projection(rate, escalating, aql, sample_size, acceptance) -> tuple[bool, str]:
    if rate is None or aql is None:
        return False, ""
    how = "on the trajectory" if escalating else "at the constant rate (no rising trend)"
    if sample_size and acceptance is not None:
        chance = fail_probability(rate, sample_size, acceptance)
        projected = chance > FAIL_PROBABILITY
        verdict = "projected to exceed" if projected else "not projected to exceed"
        return projected, (
            f"Projection: {_pct(rate)} at the next milestone {how}; with n = {sample_size} "
            f"and Ac {acceptance} the lot would fail with probability {100 * chance:.0f} %, "
            f"so it is {verdict} the AQL {aql:g} at the next milestone."
        )
    projected = 100 * rate > aql
    verdict = "above" if projected else "within"
    return projected, (
        f"Projection: {_pct(rate)} at the next milestone {how}, {verdict} the AQL {aql:g}."
    )


def _explain(
    *,
    labels,
    sizes,
    defects,
    used,
    skipped,
    used_history,
    baseline_rate,
    p_value,
    method,
    strength,
    escalating,
    alpha,
    projection,
) -> str:
    parts = []
    if used_history:
        lots = used[:used_history]
        units = sum(sizes[i] for i in lots)
        found = sum(defects[i] for i in lots)
        parts.append(
            f"Baseline from {len(lots)} earlier lot{'s' if len(lots) != 1 else ''}: "
            f"{_pct(baseline_rate)} ({found} in {units})."
        )
        shown = used[used_history:]
    else:
        shown = used
    if shown:
        rates = ", ".join(_describe(labels[i], sizes[i], defects[i]) for i in shown)
        parts.append(f"Rates: {rates}.")
    if skipped:
        names = ", ".join(labels[i] for i in skipped)
        parts.append(f"Skipped (no units inspected): {names}.")
    if method == METHOD_NONE:
        reason = (
            "fewer than two sampled points"
            if len(used) < 2
            else "no defects found"
            if sum(defects[i] for i in used) == 0
            else "nothing to compare"
        )
        parts.append(f"No trend test: {reason}; no evidence of escalation.")
    else:
        verdict = "Escalating" if escalating else "Not escalating"
        parts.append(
            f"{verdict}: {_evidence(strength)} of a rising defect rate "
            f"(one-sided {_p_text(p_value)}, {method}; probability the rate is rising "
            f"{100 * (1 - p_value):.1f} %; flagged at p <= {alpha:g})."
        )
    if projection:
        parts.append(projection)
    return " ".join(parts)
