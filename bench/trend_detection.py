"""Trend detection across a PO's milestones: qcloop's `trends.assess` against plain AQL
judgement and against the best possible test (a script, not a test).

Each scenario simulates N POs (default 10,000) of one defect class with the ISO 2859-1
general level II plans of `qcloop.sampling.plans` for what is inspected at each milestone:
the standard PO (major, AQL 2.5) is a 5,000-piece lot, IPC on the first 500 pieces (n 50,
Ac 3 / Re 4), DUPRO on 3,200 produced (n 125, Ac 7 / Re 8), PSI on the lot (n 200, Ac 10 /
Re 11) and a re-inspection PSI #2 (n 200), as in the seed's story. The small PO (minor, AQL
4.0, 500 pieces) samples 13, 32 and 50; the large one (major, 50,000 pieces) 80, 200 and
500. Defects are binomial draws at the scenario's rate for each milestone.

History: "none" (a new supplier-product stream), "5 lots" (five earlier lots at the baseline
rate, one PSI each, passed with history=5), or "5 lots, unknown" (the same points passed as
assess(points) alone, as outside checks call it: the test then reads one stream).

Detectors, each judged with the points up to and including DUPRO, up to PSI, and up to the
last milestone (PSI #2 where there is one):
  qcloop   the class's flag as qcloop raises it (qcloop.analytics.flags): trends.assess at
           the look's threshold, two thirds (CLASS_SHARE) of the look's part of the PO's
           5 % budget (trends.look_alpha): IPC 0.0033, DUPRO 0.0017 (0.0033 without a sampled
           IPC), PSI 0.02, PSI #2 0.0033. Every milestone is a look, the sampled IPC too.
  AQL      any milestone so far with defects >= its plan's Re (what a PO gets without trends).
  best     the Neyman-Pearson test that knows the stable rate and the escalating rates of the
           scenario: sum(d_i * log(p1_i (1 - p0) / (p0 (1 - p1_i)))) over the PO's points,
           its threshold set on a simulated stable twin (4 x N POs, randomised at the
           threshold) to exactly qcloop's false-alarm rate at that look. Knowing p0 it needs
           no history: it is the ceiling for every history setting.
  0.05     trends.assess at its default alpha 0.05 at every look (the API as outside checks
           call it, without the PO's budget): more detections, and false alarms at every look.
Stable scenarios print the share flagged (false alarms for qcloop; for AQL the share of lots
rejected, which at a base rate above the AQL is the AQL doing its job, not a false alarm);
"any" is the share of POs flagged at one look or more (the sampled IPC included), as a QC
lead reviewing the trend after each milestone would see it: qcloop's aim is at most 5 %.

Each distinct series is assessed once (np.unique; `assess` is a pure function) and the five
earlier lots are passed pooled as one point of 1,000 units when history is known: the test
pools equal scores anyway, and the script checks on the first POs that both give the same
p-value. The per-call cost is timed separately on the unpooled, uncached calls.

Run:  .venv/bin/python bench/trend_detection.py [--pos 10000] [--seed 2859] [--workers 2]
(about 2-3 minutes on 2 slow cores with the defaults)
"""

import argparse
import sys
import time
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qcloop.analytics.trends import CLASS_SHARE, DEFAULT_ALPHA, assess, look_alpha
from qcloop.sampling.plans import plan

LOTS = 5  # earlier lots of the stream, when there is history

# Milestone -> the quantity its sample is drawn from (produced so far, or the lot).
DESIGNS = {
    "standard": (("IPC", 500), ("DUPRO", 3_200), ("PSI", 5_000), ("PSI #2", 5_000)),
    "small": (("IPC", 51), ("DUPRO", 151), ("PSI", 500)),
    "large": (("IPC", 1_200), ("DUPRO", 10_000), ("PSI", 50_000)),
}
# The earlier lots are PSIs of lots like this PO's.
HISTORY_LOT = {"standard": 5_000, "small": 500, "large": 50_000}
AQL = {"standard": 2.5, "small": 4.0, "large": 2.5}  # major, minor, major


@dataclass(frozen=True)
class Scenario:
    name: str
    design: str
    rates: tuple[float, ...]  # per milestone, fractions
    base: float  # the stable rate (and the earlier lots' rate)
    history: str  # "none", "known" or "unknown"

    @property
    def escalating(self) -> bool:
        return any(rate != self.base for rate in self.rates)


def plans_of(design: str):
    """(n, Re) per milestone of the design, and the history lots' n."""
    milestones = [plan(size, AQL[design]) for _, size in DESIGNS[design]]
    return [(p.n, p.re) for p in milestones], plan(HISTORY_LOT[design], AQL[design]).n


def look_thresholds(design: str) -> list[float]:
    """qcloop's threshold for the class at each milestone of the design, as flags spends it."""
    kinds = [label.split(" #")[0] for label, _ in DESIGNS[design]]
    return [CLASS_SHARE * look_alpha(kinds[: k + 1]) for k in range(len(kinds))]


def looks(design: str) -> list[int]:
    """Milestone counts at which the detectors judge: up to DUPRO, PSI, and the last."""
    count = len(DESIGNS[design])
    return [2, 3] + ([count] if count > 3 else [])


def scenarios() -> list[Scenario]:
    out = []
    escalations = (
        ("seed 2 > 2 > 4 > 6 %", "standard", (0.02, 0.02, 0.04, 0.06), 0.02),
        ("early rise 2 > 4 > 6 %", "standard", (0.02, 0.04, 0.06, 0.06), 0.02),
        ("slow rise 1.5 > 2 > 2.5 > 3 %", "standard", (0.015, 0.02, 0.025, 0.03), 0.015),
        ("step at PSI 1.5 > 4.5 %", "standard", (0.015, 0.015, 0.045, 0.045), 0.015),
        ("small PO 2 > 4 > 6 %", "small", (0.02, 0.04, 0.06), 0.02),
        ("large PO 1 > 2 > 3 %", "large", (0.01, 0.02, 0.03), 0.01),
    )
    for name, design, rates, base in escalations:
        modes = ("none", "known", "unknown") if name.startswith("seed") else ("none", "known")
        out += [Scenario(name, design, rates, base, mode) for mode in modes]
    for design, bases in (
        ("standard", (0.005, 0.01, 0.02, 0.04, 0.06)),
        ("small", (0.005, 0.02, 0.06)),
        ("large", (0.005, 0.02, 0.06)),
    ):
        count = len(DESIGNS[design])
        for base in bases:
            modes = ("none", "known") + (("unknown",) if design == "standard" else ())
            out += [
                Scenario(f"stable {100 * base:g} %", design, (base,) * count, base, mode)
                for mode in modes
            ]
    return out


def assess_rows(rows: np.ndarray, sizes: list[int], history: int | None) -> np.ndarray:
    """The p-value per row of defect counts (1.0 where no test is possible: `escalating` is
    p <= alpha), each distinct row assessed once."""
    distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
    p_values = np.array(
        [
            assess([(n, int(d)) for n, d in zip(sizes, row, strict=True)], history=history).p_value
            for row in distinct
        ]
    )
    return p_values[inverse.ravel()]


def qcloop_p_values(sc, lot_defects, po_defects, po_sizes, lot_n, look):
    rows = po_defects[:, :look]
    if sc.history == "none":
        return assess_rows(rows, po_sizes[:look], None)
    if sc.history == "known":
        pooled = lot_defects.sum(axis=1, keepdims=True)
        return assess_rows(np.hstack([pooled, rows]), [LOTS * lot_n, *po_sizes[:look]], 1)
    return assess_rows(np.hstack([lot_defects, rows]), [lot_n] * LOTS + po_sizes[:look], None)


def check_pooling(lot_defects, po_defects, po_sizes, lot_n, count=200):
    """The pooled history gives the p-value of the five lots passed one by one."""
    for lots, po in zip(lot_defects[:count], po_defects[:count], strict=True):
        milestones = [(n, int(d)) for n, d in zip(po_sizes, po, strict=True)]
        points = [(lot_n, int(d)) for d in lots] + milestones
        pooled = [(LOTS * lot_n, int(lots.sum())), *milestones]
        one = assess(points, history=LOTS).p_value
        other = assess(pooled, history=1).p_value
        assert abs(one - other) < 1e-9, (points, one, other)


def best_test_power(sc, po_sizes, look, rng, pos, alpha) -> float:
    """Power of the Neyman-Pearson test at exactly `alpha` false alarms (randomised)."""
    p0, p1 = sc.base, np.array(sc.rates[:look])
    weights = np.log(p1 * (1 - p0) / (p0 * (1 - p1)))
    sizes = po_sizes[:look]
    stable = np.round(rng.binomial(sizes, p0, size=(4 * pos, look)) @ weights, 9)
    rising = np.round(rng.binomial(sizes, p1, size=(pos, look)) @ weights, 9)
    cut = np.quantile(stable, 1 - alpha)
    above, at = (stable > cut).mean(), (stable == cut).mean()
    share = (alpha - above) / at if at > 0 else 0.0
    return float((rising > cut).mean() + share * (rising == cut).mean())


def run(job) -> dict:
    sc, pos, seed = job
    rng = np.random.default_rng(seed)
    milestone_plans, lot_n = plans_of(sc.design)
    po_sizes = [n for n, _ in milestone_plans]
    rejects = np.array([re for _, re in milestone_plans])
    thresholds = look_thresholds(sc.design)
    lot_defects = rng.binomial(lot_n, sc.base, size=(pos, LOTS))
    po_defects = rng.binomial(po_sizes, sc.rates, size=(pos, len(po_sizes)))
    if sc.history == "known":
        check_pooling(lot_defects, po_defects, po_sizes, lot_n)
    result = {"scenario": sc, "qcloop": [], "aql": [], "best": [], "plain": []}
    seen, seen_plain = np.zeros(pos, dtype=bool), np.zeros(pos, dtype=bool)
    judged = looks(sc.design)
    for look in range(1, len(po_sizes) + 1):
        p_values = qcloop_p_values(sc, lot_defects, po_defects, po_sizes, lot_n, look)
        flags, plain = p_values <= thresholds[look - 1], p_values <= DEFAULT_ALPHA
        seen |= flags
        seen_plain |= plain
        if look not in judged:
            continue
        result["qcloop"].append(flags.mean())
        result["plain"].append(plain.mean())
        result["aql"].append((po_defects[:, :look] >= rejects[:look]).any(axis=1).mean())
        alpha = thresholds[look - 1]
        best = best_test_power(sc, po_sizes, look, rng, pos, alpha) if sc.escalating else alpha
        result["best"].append(best)
    result["any"], result["any_plain"] = seen.mean(), seen_plain.mean()
    result["any_aql"] = (po_defects >= rejects).any(axis=1).mean()
    return result


def per_call_cost(seed: int, calls: int = 3_000) -> tuple[float, float]:
    """Milliseconds per assess() call on distinct, unpooled seed-like series: with five
    earlier lots (history=5) and PO-only (history=None, index scores)."""
    rng = np.random.default_rng(seed)
    sizes = [200] * LOTS + [50, 125, 200, 200]
    rates = [0.02] * LOTS + [0.02, 0.02, 0.04, 0.06]
    draws = rng.binomial(sizes, rates, size=(calls, len(sizes)))
    costs = []
    for history, columns in ((LOTS, slice(None)), (None, slice(LOTS, None))):
        series = [
            [(n, int(d)) for n, d in zip(sizes[columns], row[columns], strict=True)]
            for row in draws
        ]
        start = time.perf_counter()
        for points in series:
            assess(points, history=history, aql=2.5, next_sample_size=200, next_acceptance=10)
        costs.append(1000 * (time.perf_counter() - start) / calls)
    return costs[0], costs[1]


def percent(values) -> str:
    return "/".join(f"{100 * v:.1f}" for v in values)


HISTORY_WORDS = {"none": "none", "known": "5 lots", "unknown": "5 lots, unknown"}


def print_escalating(results):
    print("Escalating POs: share flagged at DUPRO / PSI / last (PSI #2 where there is one), %")
    print("(best possible: the Neyman-Pearson test at qcloop's false-alarm rate of each look)")
    head = f"{'scenario':30s} {'design':9s} {'history':16s}"
    print(
        f"{head} {'qcloop':>17s}   {'AQL (>= Re)':>17s}   {'best possible':>17s}"
        f"   {'assess at 0.05':>17s}"
    )
    for r in results:
        sc = r["scenario"]
        print(
            f"{sc.name:30s} {sc.design:9s} {HISTORY_WORDS[sc.history]:16s} "
            f"{percent(r['qcloop']):>17s}   {percent(r['aql']):>17s}   "
            f"{percent(r['best']):>17s}   {percent(r['plain']):>17s}"
        )


def print_stable(results):
    print()
    print("Stable POs: share flagged at DUPRO / PSI / last, and at any look, %")
    print("(qcloop: false alarms, aim <= 5.0 at any look; assess at 0.05: the API at every look;")
    print(" AQL: lots rejected, the AQL's own verdict on a stable rate)")
    head = f"{'scenario':30s} {'design':9s} {'history':16s}"
    print(
        f"{head} {'qcloop':>17s} {'any':>5s}   {'AQL (>= Re)':>17s} {'any':>5s}"
        f"   {'assess at 0.05':>17s} {'any':>5s}"
    )
    for r in results:
        sc = r["scenario"]
        print(
            f"{sc.name:30s} {sc.design:9s} {HISTORY_WORDS[sc.history]:16s} "
            f"{percent(r['qcloop']):>17s} {100 * r['any']:5.1f}   "
            f"{percent(r['aql']):>17s} {100 * r['any_aql']:5.1f}   "
            f"{percent(r['plain']):>17s} {100 * r['any_plain']:5.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pos", type=int, default=10_000, help="POs per scenario")
    parser.add_argument("--seed", type=int, default=2859)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    start = time.perf_counter()
    jobs = [(sc, args.pos, args.seed + i) for i, sc in enumerate(scenarios())]
    with Pool(args.workers) as pool:
        results = pool.map(run, jobs, chunksize=1)
    elapsed = time.perf_counter() - start

    print(f"{args.pos:,} POs per scenario, ISO 2859-1 level II plans")
    for design, milestones in DESIGNS.items():
        milestone_plans, lot_n = plans_of(design)
        parts = ", ".join(
            f"{label} n {n} Re {re}"
            for (label, _), (n, re) in zip(milestones, milestone_plans, strict=True)
        )
        print(f"  {design} (AQL {AQL[design]:g}): {parts}; earlier lots n {lot_n}")
    print()
    print_escalating([r for r in results if r["scenario"].escalating])
    print_stable([r for r in results if not r["scenario"].escalating])
    with_history, po_only = per_call_cost(args.seed)
    print()
    print(f"elapsed {elapsed:.0f} s with {args.workers} workers (each distinct series once)")
    print(
        f"per call, distinct unpooled series: {with_history:.2f} ms with 5 earlier lots "
        f"(history=5, 9 points), {po_only:.2f} ms PO only (4 points)"
    )


if __name__ == "__main__":
    main()
