"""A supplier's scorecard from plain facts: how it is judged, with the uncertainty of every
figure. Free of Django: `scorecard.py` reads the facts from the database (aggregate queries
over the milestone tallies, the POs, CAPAs and escalations) and hands them here.

Definitions (the page's footnotes say the same):

- **Defect rate per class**: defects of the class found per 100 units inspected, with the
  Wilson 95 % interval (`stats.estimate`; Poisson when there are more defects than units).
  Counted at published, sampled milestones. The headline is the PSI lots (every PSI,
  re-inspections included: the lot-acceptance figures); the rate over every sampled milestone
  (DUPRO and PSI) is shown beside it. Fewer than 200 units inspected is "uncertain"; zero
  defects reads "0.0 (0.0-x.x)", never "perfect".
- **First-time pass rate at PSI**: POs whose first PSI (sequence 1) passed, of the POs whose
  first PSI was published with a verdict (pass or fail) in the period; re-inspections do not
  count. With its Wilson 95 % interval.
- **On-time production**: POs whose first PSI (for which production is 100 % complete by
  definition) was inspected no later than the planned ex-factory date plus the grace the PO
  summary allows (`summary_logic.LATE_GRACE_DAYS`), of the POs with a published first PSI in
  the period. A proxy: production may have ended before a PSI booked late. With its interval.
- A share (pass rate, on-time) is "uncertain" when its 95 % interval is wider than 20 points.
- **CAPA closure time**: calendar days from opened to closed (verified effective), of the CAPAs
  opened in the period and closed since; median and 90th percentile (linear interpolation
  between order statistics, as Excel's PERCENTILE.INC), with those still open and those
  waiting for the supplier's answer past their due date.
- **Recurrences**: CAPAs opened in the period for a finding (same defect code, same failed
  check, late again) the supplier already had a CAPA for: the earlier corrective action did
  not prevent it (the rule of `capa.rules.history`, recorded as `recurrence_of` when the CAPA
  opens).
- **Escalations**: raised in the period, by kind, per 10 POs inspected in the period (POs
  with a published milestone), and the median minutes from raised to acknowledged.
- **p-chart**: per factory, one point per month: units inspected at its sampled milestones
  that month and the defects found of the chosen class (all classes together by default).
  Centre = the pooled rate of the factory over the period, limits = centre +- 3 sigma for each
  month's own sample size (`stats.p_chart`); a month outside its limits is out of control.
- **Ranking**: sorted by the end of the interval least favourable to the claim: "best first"
  ranks defect rates on their upper bound and shares on their lower bound, "worst first" the
  other way round. A small clean sample never ranks as the best supplier.
"""

import math
from dataclasses import dataclass, field

from qcloop.reports.summary_logic import rate_interval

from .stats import PChart, RateEstimate, estimate, p_chart

CLASSES = ("critical", "major", "minor")
# The p-chart's default series: every defect found, whatever its class.
ALL_CLASSES = "all"
CHART_CLASSES = (ALL_CLASSES, *CLASSES)
# A share whose 95 % interval is wider than this (percentage points) is uncertain on the page.
UNCERTAIN_SHARE_WIDTH = 20.0


# --- the figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DefectCounts:
    """Units inspected and defects found per class over some sampled milestones."""

    lots: int = 0  # sampled milestones counted
    units: int = 0
    critical: int = 0
    major: int = 0
    minor: int = 0

    def __post_init__(self):
        for name in ("lots", "units", *CLASSES):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: {value!r} is not a count (a whole number >= 0).")

    def found(self, defect_class: str) -> int:
        if defect_class == ALL_CLASSES:
            return self.critical + self.major + self.minor
        if defect_class not in CLASSES:
            raise ValueError(f"defect_class: {defect_class!r} is none of {CHART_CLASSES}.")
        return getattr(self, defect_class)

    def rate(self, defect_class: str) -> RateEstimate:
        return estimate(self.found(defect_class), self.units)


@dataclass(frozen=True)
class ShareEstimate:
    """`part` of `whole` in percent, with its Wilson 95 % interval."""

    part: int
    whole: int
    percent: float | None  # None: nothing to count
    low: float
    high: float
    noun: str = "POs"

    @property
    def uncertain(self) -> bool:
        return self.whole == 0 or self.high - self.low > UNCERTAIN_SHARE_WIDTH

    def text(self) -> str:
        """ "83.3 % (55.2-95.3 %; 10 of 12 POs)", or "none yet"."""
        if self.percent is None:
            return f"no {self.noun} yet"
        return (
            f"{self.percent:.1f} % ({self.low:.1f}-{self.high:.1f} %; "
            f"{self.part} of {self.whole} {self.noun})"
        )


def share_estimate(part: int, whole: int, noun: str = "POs") -> ShareEstimate:
    """The share `part`/`whole` in percent with its Wilson 95 % interval; with nothing counted
    the share is unknown (0-100), never 100 %."""
    for name, value in (("part", part), ("whole", whole)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name}: {value!r} is not a count (a whole number >= 0).")
    if part > whole:
        raise ValueError(f"part: {part} is more than the whole ({whole}).")
    if whole == 0:
        return ShareEstimate(0, 0, None, 0.0, 100.0, noun)
    percent, low, high = rate_interval(part, whole)
    return ShareEstimate(part, whole, percent, low, high, noun)


def percentile(counts: dict[int, int], q: float) -> float | None:
    """The q-th quantile (0..1) of values given as {value: how many}: linear interpolation
    between the order statistics at rank (N-1)*q, as Excel's PERCENTILE.INC and numpy's
    default. A histogram is what SQL can group on both databases; the values need not be
    listed one by one. None when there are no values."""
    if not 0 <= q <= 1:
        raise ValueError(f"q: {q!r} is not a quantile between 0 and 1.")
    for value, n in counts.items():
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"counts[{value!r}]: {n!r} is not a count.")
    values = sorted((v, n) for v, n in counts.items() if n)
    total = sum(n for _, n in values)
    if not total:
        return None
    rank = (total - 1) * q
    below, above = math.floor(rank), math.ceil(rank)
    low_value = _order_statistic(values, below)
    high_value = _order_statistic(values, above)
    return low_value + (high_value - low_value) * (rank - below)


def _order_statistic(values: list[tuple[float, int]], index: int) -> float:
    """The value at 0-based position `index` of the sorted values (histogram form)."""
    seen = 0
    for value, n in values:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)


@dataclass(frozen=True)
class ClosureTime:
    closed: int
    median_days: float | None
    p90_days: float | None


def closure_time(days: dict[int, int]) -> ClosureTime:
    """Days from opened to closed, given as {days: CAPAs closed after that many days}."""
    for value in days:
        if value < 0:
            raise ValueError(f"days: {value} days to close is before the CAPA opened.")
    return ClosureTime(
        closed=sum(days.values()),
        median_days=percentile(days, 0.5),
        p90_days=percentile(days, 0.9),
    )


@dataclass(frozen=True)
class CapaCounts:
    """A supplier's CAPAs opened in the period, as counted by the database."""

    opened: int = 0
    still_open: int = 0
    open_past_due: int = 0  # waiting for the supplier's answer after the due date
    recurrences: int = 0
    closure_days: dict = field(default_factory=dict)  # {days: CAPAs}

    def __post_init__(self):
        for name in ("opened", "still_open", "open_past_due", "recurrences"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: {value!r} is not a count (a whole number >= 0).")
        if self.still_open > self.opened or self.recurrences > self.opened:
            raise ValueError(
                f"opened: {self.opened} CAPAs cannot have {self.still_open} still open "
                f"or {self.recurrences} recurrences."
            )


@dataclass(frozen=True)
class CapaFigures:
    opened: int
    still_open: int
    open_past_due: int
    closure: ClosureTime
    recurrences: int
    recurrence_share: ShareEstimate


def capa_figures(counts: CapaCounts) -> CapaFigures:
    return CapaFigures(
        opened=counts.opened,
        still_open=counts.still_open,
        open_past_due=counts.open_past_due,
        closure=closure_time(counts.closure_days),
        recurrences=counts.recurrences,
        recurrence_share=share_estimate(counts.recurrences, counts.opened, "CAPAs"),
    )


ESCALATION_KINDS = ("critical", "failed", "late")


@dataclass(frozen=True)
class EscalationFigures:
    by_kind: dict  # {kind: count}, every kind present
    total: int
    pos: int  # POs inspected in the period: the denominator
    per_ten_pos: float | None
    acknowledged: int
    median_minutes_to_acknowledge: float | None


def escalation_figures(
    by_kind: dict[str, int], pos: int, minutes_to_acknowledge: dict[int, int] | None = None
) -> EscalationFigures:
    """Escalations by kind, per 10 POs inspected, and the median minutes to acknowledge (given
    as {minutes: escalations}; None when not read, as on the list of suppliers)."""
    unknown = set(by_kind) - set(ESCALATION_KINDS)
    if unknown:
        raise ValueError(f"by_kind: {sorted(unknown)} are not escalation kinds.")
    if not isinstance(pos, int) or pos < 0:
        raise ValueError(f"pos: {pos!r} is not a count of POs.")
    kinds = {kind: by_kind.get(kind, 0) for kind in ESCALATION_KINDS}
    total = sum(kinds.values())
    minutes = minutes_to_acknowledge or {}
    return EscalationFigures(
        by_kind=kinds,
        total=total,
        pos=pos,
        per_ten_pos=round(10 * total / pos, 2) if pos else None,
        acknowledged=sum(minutes.values()),
        median_minutes_to_acknowledge=percentile(minutes, 0.5),
    )


@dataclass(frozen=True)
class LotFacts:
    """The first PSIs (sequence 1) published in the period, one per PO."""

    first_psis: int = 0  # published, whatever the verdict
    decided: int = 0  # with a verdict, pass or fail
    passed: int = 0
    on_time: int = 0  # inspected by the planned ex-factory date (plus grace)
    pos: int = 0  # POs with any published milestone in the period

    def __post_init__(self):
        if not self.passed <= self.decided <= self.first_psis or self.on_time > self.first_psis:
            raise ValueError(
                f"first_psis: {self.first_psis} first PSIs cannot have {self.decided} decided, "
                f"{self.passed} passed and {self.on_time} on time."
            )


@dataclass(frozen=True)
class ScoreFacts:
    """What the database says of one supplier, factory or category over the period."""

    name: str
    psi: DefectCounts = DefectCounts()
    sampled: DefectCounts = DefectCounts()
    lots: LotFacts = LotFacts()
    capas: CapaCounts | None = None
    escalations: dict | None = None  # {kind: count}; None: not shown to this reader
    minutes_to_acknowledge: dict | None = None
    active_flags: int = 0
    key: object = None  # the supplier's, factory's or category's id, for links


@dataclass(frozen=True)
class Score:
    """The scorecard's figures for one supplier, factory or category."""

    name: str
    key: object
    psi: DefectCounts
    sampled: DefectCounts
    first_pass: ShareEstimate
    on_time: ShareEstimate
    pos: int
    capas: CapaFigures | None
    escalations: EscalationFigures | None
    active_flags: int

    def psi_rate(self, defect_class: str) -> RateEstimate:
        return self.psi.rate(defect_class)

    def sampled_rate(self, defect_class: str) -> RateEstimate:
        return self.sampled.rate(defect_class)

    # Template-friendly names (a template cannot pass arguments).
    @property
    def psi_critical(self) -> RateEstimate:
        return self.psi.rate("critical")

    @property
    def psi_major(self) -> RateEstimate:
        return self.psi.rate("major")

    @property
    def psi_minor(self) -> RateEstimate:
        return self.psi.rate("minor")

    @property
    def sampled_critical(self) -> RateEstimate:
        return self.sampled.rate("critical")

    @property
    def sampled_major(self) -> RateEstimate:
        return self.sampled.rate("major")

    @property
    def sampled_minor(self) -> RateEstimate:
        return self.sampled.rate("minor")


def score(facts: ScoreFacts) -> Score:
    lots = facts.lots
    escalations = None
    if facts.escalations is not None:
        escalations = escalation_figures(facts.escalations, lots.pos, facts.minutes_to_acknowledge)
    return Score(
        name=facts.name,
        key=facts.key,
        psi=facts.psi,
        sampled=facts.sampled,
        first_pass=share_estimate(lots.passed, lots.decided),
        on_time=share_estimate(lots.on_time, lots.first_psis),
        pos=lots.pos,
        capas=capa_figures(facts.capas) if facts.capas is not None else None,
        escalations=escalations,
        active_flags=facts.active_flags,
    )


# --- ranking ---------------------------------------------------------------------------------

# sort name -> (label, what it ranks)
SORTS = {
    "name": "Name",
    "major-best": "Major defects at PSI, best first",
    "major-worst": "Major defects at PSI, worst first",
    "minor-best": "Minor defects at PSI, best first",
    "minor-worst": "Minor defects at PSI, worst first",
    "first-pass-best": "First-time pass at PSI, best first",
    "first-pass-worst": "First-time pass at PSI, worst first",
    "on-time-best": "On-time production, best first",
    "on-time-worst": "On-time production, worst first",
    "closure-best": "CAPA median closure, fastest first",
    "closure-worst": "CAPA median closure, slowest first",
    "escalations-worst": "Escalations per 10 POs, most first",
}
DEFAULT_SORT = "name"


def rank(scores: list[Score], sort: str) -> list[Score]:
    """The scores in the order `sort` names. Rates and shares rank on the end of their interval
    least favourable to the claim (best first: the upper bound of a defect rate, the lower
    bound of a share; worst first: the other ends); what cannot be ranked (nothing inspected)
    comes last, then by name."""
    if sort not in SORTS:
        raise ValueError(f"sort: {sort!r} is none of {', '.join(SORTS)}.")
    if sort == "name":
        return sorted(scores, key=lambda s: s.name.lower())
    figure, _, direction = sort.rpartition("-")
    best = direction == "best"

    def value(s: Score) -> float | None:
        if figure in ("major", "minor"):
            rate = s.psi_rate(figure)
            if rate.rate is None:
                return None
            # Low is good: best first ascends on the upper bound, worst first descends on low.
            return rate.high if best else -rate.low
        if figure in ("first-pass", "on-time"):
            share = s.first_pass if figure == "first-pass" else s.on_time
            if share.percent is None:
                return None
            return -share.low if best else share.high
        if figure == "closure":
            median = s.capas.closure.median_days if s.capas else None
            if median is None:
                return None
            return median if best else -median
        per_ten = s.escalations.per_ten_pos if s.escalations else None
        return None if per_ten is None else -per_ten

    return sorted(
        scores, key=lambda s: (value(s) is None, value(s) or 0.0, s.name.lower(), str(s.key))
    )


# --- the p-chart per factory -------------------------------------------------------------------


@dataclass(frozen=True)
class MonthCounts:
    """One factory's sampled milestones of one month."""

    month: str  # "2025-03"
    counts: DefectCounts


def factory_charts(months: list[MonthCounts]) -> dict[str, PChart]:
    """The factory's p-chart for each chart class ("all", "critical", "major", "minor"): one
    point per month with units inspected, in the order given (oldest first)."""
    return {
        defect_class: p_chart(
            [(m.month, m.counts.units, m.counts.found(defect_class)) for m in months]
        )
        for defect_class in CHART_CLASSES
    }


def chart_data(chart: PChart) -> dict:
    """A p-chart as the page's JSON carries it (per 100 units, rounded for reading)."""
    return {
        "centre": round(chart.centre, 3),
        "labels": [p.label for p in chart.points],
        "rates": [round(p.rate, 3) for p in chart.points],
        "upper": [round(p.upper_limit, 3) for p in chart.points],
        "lower": [round(p.lower_limit, 3) for p in chart.points],
        "units": [p.units for p in chart.points],
        "found": [p.found for p in chart.points],
        "out": [p.out_of_control for p in chart.points],
    }
