"""The statistics of the scorecards and the dashboard, free of Django: defect rates with their
uncertainty and the p-chart. Rates are defects per 100 units inspected, as everywhere in qcloop.

A rate is never shown without its 95 % interval: 0 defects in 32 units is "somewhere between
0 and 10.7 per 100", not a perfect supplier. Wilson's interval (the one the PO summary uses)
is honest at zero and at small samples; with more defects than units (several defects on one
unit) the Poisson score interval takes over."""

import math
from dataclasses import dataclass

from qcloop.reports.summary_logic import rate_interval

# Shewhart's three-sigma limits: a stable process leaves them about 3 times in 1,000 points.
SIGMA_LIMITS = 3.0
# Below this many units inspected an estimate is called "uncertain" on the page, whatever
# it is: one defect more or less moves it by 2.5 per 100 or more.
UNCERTAIN_BELOW_UNITS = 200


@dataclass(frozen=True)
class RateEstimate:
    """Defects found in units inspected: the rate and its 95 % interval, per 100 units."""

    found: int
    units: int
    rate: float | None  # None: nothing inspected
    low: float
    high: float

    @property
    def uncertain(self) -> bool:
        return self.units < UNCERTAIN_BELOW_UNITS

    def text(self) -> str:
        """ "1.8 per 100 (0.9-3.6; 7 in 400 units)", or "not inspected"."""
        if self.rate is None:
            return "not inspected"
        return (
            f"{self.rate:.1f} per 100 ({self.low:.1f}-{self.high:.1f}; "
            f"{self.found} in {self.units} units)"
        )


def estimate(found: int, units: int) -> RateEstimate:
    """The rate of `found` defects in `units` units inspected, with its 95 % interval. With no
    units the rate is unknown: the interval is the whole range, never a perfect zero."""
    if found < 0 or units < 0:
        raise ValueError(f"found {found} and units {units} cannot be negative.")
    if units == 0:
        if found:
            raise ValueError(f"found: {found} defects in no units inspected.")
        return RateEstimate(found=0, units=0, rate=None, low=0.0, high=100.0)
    rate, low, high = rate_interval(found, units)
    return RateEstimate(found=found, units=units, rate=rate, low=low, high=high)


@dataclass(frozen=True)
class ChartPoint:
    label: str
    units: int
    found: int
    rate: float  # per 100 units
    lower_limit: float  # control limits for this point's sample size, per 100 units
    upper_limit: float
    out_of_control: bool  # above the upper or below a (non-zero) lower limit


@dataclass(frozen=True)
class PChart:
    """Shewhart's p-chart: the centre line is the pooled rate of all the points, each point's
    limits are centre +- 3 sigma for its own sample size (wider for small samples)."""

    centre: float  # per 100 units
    points: list[ChartPoint]

    @property
    def signals(self) -> list[ChartPoint]:
        return [p for p in self.points if p.out_of_control]


def p_chart(points: list[tuple[str, int, int]]) -> PChart:
    """The p-chart of (label, units inspected, defects found) points in time order. Points with
    no units are left out (they have no rate). The proportion reading caps a point's rate at
    100 per 100; a unit with several defects still counts each one, as the AQL plans do."""
    for label, n, d in points:
        if n < 0 or d < 0:
            raise ValueError(f"{label}: a negative count ({n} units, {d} defects).")
    sampled = [(label, n, d) for label, n, d in points if n > 0]
    total_units = sum(n for _, n, _ in sampled)
    if not total_units:
        return PChart(centre=0.0, points=[])
    centre = min(1.0, sum(d for _, _, d in sampled) / total_units)
    chart_points = []
    for label, n, d in sampled:
        sigma = math.sqrt(centre * (1 - centre) / n)
        low = max(0.0, centre - SIGMA_LIMITS * sigma)
        high = min(1.0, centre + SIGMA_LIMITS * sigma)
        share = d / n
        chart_points.append(
            ChartPoint(
                label=label,
                units=n,
                found=d,
                rate=100 * share,
                lower_limit=100 * low,
                upper_limit=100 * high,
                out_of_control=share > high or (low > 0 and share < low),
            )
        )
    return PChart(centre=100 * centre, points=chart_points)


def share(part: int, whole: int) -> float | None:
    """part / whole in percent, one decimal; None when there is no whole."""
    return round(100 * part / whole, 1) if whole else None
