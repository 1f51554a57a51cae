"""The reasoning behind the PO summary report, free of Django so that it can be tested (and
argued about) on plain figures.

The PO summary follows the CLI: the defect rates of every milestone with their uncertainty,
the trend across them, the production timeline planned against actual, and a recommendation
for the next PO with the same supplier, each with reasons a buyer can check against the
milestone reports. Callers (the report service) turn the database into the facts below; this
module never reads anything else.

Rates are defects per 100 units inspected. A defect class is "critical", "major" or "minor".
Shares (produced, packed, planned) are fractions of the ordered quantity (0.55 is 55 %).
"""

import math
from dataclasses import dataclass, field
from datetime import date
from statistics import NormalDist

KINDS = ("IPC", "DUPRO", "PSI", "CLI")
RESULTS = ("pass", "fail", "pending", "")
CLASSES = ("critical", "major", "minor")
FULL_MONITORING = ["IPC", "DUPRO", "PSI", "CLI"]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The two-sided 95 % normal quantile (1.959964...), from the standard library.
Z95 = NormalDist().inv_cdf(0.975)

# --- trend thresholds (rates in defects per 100 units inspected) -------------------------
# These are practical thresholds, not a significance test: the samples of one PO are too
# small for one (6 in 125 against 2 in 125 is not significant at 5 %, yet it is the move a
# QC lead acts on). The chart shows the 95 % intervals for the reader to judge.
#
# Samples under this many units stay on the chart but out of the trend: one defect moves
# their rate by 5 per 100 or more (an IPC's 13 first-off units, a tiny lot's 8).
MIN_TREND_UNITS = 20
# A step between two consecutive sampled milestones rises (or falls) by at least this much:
# two defects more in a 200-unit sample, the usual PSI size; less is a defect or two of noise.
MIN_STEP = 1.0
# "Clearly" above or below: the last sampled rate differs from the first by at least
# CLEAR_ABS per 100 units AND by a factor of at least CLEAR_RATIO. CLEAR_ABS is four defects
# in 200 units, about half the room a major AQL 2.5 plan leaves there (Ac 10, 5 per 100); the
# ratio keeps 10 -> 12 on a high base from reading as a deterioration.
CLEAR_ABS = 2.0
CLEAR_RATIO = 1.5
# The seed's pattern (2 % -> 4 % -> 6 %) needs at least three sampled milestones: two steps
# in the same direction, each within its own acceptance number.
ESCALATING_RUN = 3
# Rates are ratios of counts: compare at the thresholds with a little slack for rounding.
EPS = 1e-9

# --- recommendation thresholds ---------------------------------------------------------
# Days of slip the usual buffer to the vessel cut-off absorbs; beyond it the buyer's
# shipping plan moves.
LATE_GRACE_DAYS = 3
# Counted production behind the linear plan by more than this share at a visit is late.
BEHIND_SHARE = 0.15
# The factory's reported production above the counted figure by more than this share.
REPORTED_GAP = 0.05
# Supplier history is judged on its last HISTORY_WINDOW PSIs (with this PO's first PSI).
# Two failures within five lots is ISO 2859-1's own signal (normal -> tightened).
HISTORY_WINDOW = 5
HISTORY_FAILS_FOR_HOLD = 2
# Earlier published PSIs needed before a milestone may be dropped.
HISTORY_FOR_DROP_IPC = 2
HISTORY_FOR_PSI_CLI_ONLY = 3
# Consecutive passes before reduced sampling is worth proposing (ISO 2859-1's switching
# score reaches 30 after about 10 accepted lots; the switching stream has the last word).
HISTORY_FOR_REDUCED = 10


@dataclass(frozen=True, kw_only=True)
class MilestoneFacts:
    """One milestone of the PO as its published report states it."""

    kind: str  # "IPC", "DUPRO", "PSI" or "CLI"
    label: str  # as shown to the buyer: "PSI", "PSI #2"
    window_start: date  # planned window
    window_end: date
    inspection_date: date | None = None  # None: not (yet) inspected
    result: str = ""  # "pass", "fail", "pending" or "" (no verdict)
    sampled_units: int | None = None  # units inspected for defects; None or 0: not sampled
    found: dict[str, int] = field(default_factory=dict)  # defects per class
    acceptance: dict[str, tuple[int, int]] = field(default_factory=dict)  # class -> (Ac, Re)
    produced_share: float | None = None  # produced / ordered as counted at the visit
    reported_share: float | None = None  # produced / ordered as the factory reported it
    packed_share: float | None = None  # packed / ordered as counted at the visit
    failed_checks: int = 0  # checklist items failed (at IPC: materials, tooling, first-off)
    packaging_problems: int = 0  # cartons found with packaging or labelling problems
    loading_problems: int = 0  # CLI: quantity, SKU mix, carton condition, seal problems
    photo_flags: int = 0  # photos flagged as doubtful evidence (date, place, duplicate)
    systematic_defects: int = 0  # defect kinds repeating on many units (a process fault)
    critical_descriptions: list[str] = field(default_factory=list)  # what the criticals were

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {', '.join(KINDS)}.")
        if self.result not in RESULTS:
            raise ValueError(f"result: {self.result!r} is not pass, fail, pending or empty.")
        if self.window_end < self.window_start:
            raise ValueError(f"window_end: {self.label} ends before its window starts.")
        if self.sampled_units is not None and self.sampled_units < 0:
            raise ValueError(f"sampled_units: {self.label} cannot inspect a negative number.")
        for name, counts in (("found", self.found), ("acceptance", self.acceptance)):
            for defect_class in counts:
                if defect_class not in CLASSES:
                    raise ValueError(
                        f"{name}: {defect_class!r} is not critical, major or minor ({self.label})."
                    )
        if any(count < 0 for count in self.found.values()):
            raise ValueError(f"found: {self.label} has a negative defect count.")
        for defect_class, (ac, re) in self.acceptance.items():
            if ac < 0 or re <= ac:
                raise ValueError(
                    f"acceptance: {defect_class} at {self.label} needs 0 <= Ac < Re, "
                    f"got Ac {ac} / Re {re}."
                )

    @property
    def sampled(self) -> bool:
        return bool(self.sampled_units)

    def defects(self, defect_class: str) -> int:
        return self.found.get(defect_class, 0)


@dataclass(frozen=True, kw_only=True)
class SummaryFacts:
    """Everything the PO summary reasons about: the milestones in the order they happened and
    the PO's dates, CAPAs and the supplier's record."""

    milestones: list[MilestoneFacts]
    ordered_units: int
    ex_factory_planned: date  # goods planned ready to leave the factory
    ship_planned: date  # planned loading / shipment date
    production_start: date | None = None  # None: unknown (no planned-share line)
    projected_completion: date | None = None  # production complete, as last counted/projected
    shipped_on: date | None = None  # the CLI (loading) date; None: not yet loaded
    capas_opened: int = 0  # corrective actions opened on this PO
    capas_open_at_psi: int = 0  # of those, still not closed when the (last) PSI was done
    capas_verified: int = 0  # closed and verified at a later milestone
    escalations: int = 0  # critical findings pushed to the buyer on this PO
    supplier_history: list[str] = field(default_factory=list)  # earlier PSIs, oldest first

    def __post_init__(self):
        if self.ordered_units < 0:
            raise ValueError("ordered_units: cannot be negative.")
        bad = [r for r in self.supplier_history if r not in ("pass", "fail")]
        if bad:
            raise ValueError(f"supplier_history: {bad[0]!r} is neither pass nor fail.")


# --- defect rates ------------------------------------------------------------------------


@dataclass(frozen=True)
class RatePoint:
    """One defect class at one milestone: the rate per 100 units inspected and its 95 %
    interval, or Nones when the milestone was not sampled."""

    index: int  # position of the milestone in SummaryFacts.milestones
    label: str
    kind: str
    defect_class: str
    sampled_units: int | None
    found: int | None
    rate: float | None
    low: float | None
    high: float | None
    ac: int | None = None
    re: int | None = None
    passed: bool | None = None  # within its own Ac (else the milestone's verdict); None: unknown

    @property
    def sampled(self) -> bool:
        return self.rate is not None


def wilson_interval(found: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion found/n (fractions, not percent).

    Unlike the textbook p +- z*sqrt(p(1-p)/n) it never leaves [0, 1] and stays honest at zero
    defects (0 of 125 is "somewhere below 3 %", not "exactly 0 %")."""
    if n <= 0:
        raise ValueError("n: the interval needs at least one unit inspected.")
    if not 0 <= found <= n:
        raise ValueError(f"found: {found} is outside 0..{n}.")
    p = found / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low = 0.0 if found == 0 else max(0.0, centre - half)
    high = 1.0 if found == n else min(1.0, centre + half)
    return low, high


def rate_interval(found: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """(rate, low, high) per 100 units. Wilson while defects <= units (each defect on its own
    unit); with more defects than units (several per unit) the proportion reading breaks, so
    the Poisson score interval for defects per unit is used instead."""
    if found <= n:
        low, high = wilson_interval(found, n, z)
    else:
        spread = z * math.sqrt(found + z * z / 4)
        low = max(0.0, (found + z * z / 2 - spread) / n)
        high = (found + z * z / 2 + spread) / n
    return 100 * found / n, 100 * low, 100 * high


def defect_rates(facts: SummaryFacts) -> list[RatePoint]:
    """Per milestone (in order) and per class (critical, major, minor): the rate per 100 units
    inspected with its Wilson 95 % interval; Nones where the milestone was not sampled."""
    points = []
    for index, m in enumerate(facts.milestones):
        for defect_class in CLASSES:
            ac, re = m.acceptance.get(defect_class, (None, None))
            found = rate = low = high = passed = None
            if m.sampled:
                found = m.defects(defect_class)
                rate, low, high = rate_interval(found, m.sampled_units)
                # Judged on the class's own Ac when the plan is known, else the verdict.
                verdict = {"pass": True, "fail": False}.get(m.result)
                passed = found <= ac if ac is not None else verdict
            units = m.sampled_units or None
            points.append(
                RatePoint(
                    index,
                    m.label,
                    m.kind,
                    defect_class,
                    units,
                    found,
                    rate,
                    low,
                    high,
                    ac,
                    re,
                    passed,
                )
            )
    return points


# --- trend -------------------------------------------------------------------------------

DIRECTIONS = ("escalating", "worsening", "improving", "steady", "not enough data")


@dataclass(frozen=True)
class ClassTrend:
    """The trend of one defect class across the sampled milestones."""

    defect_class: str
    direction: str  # one of DIRECTIONS
    labels: list[str]  # the sampled milestones, in order
    rates: list[float]  # their rates per 100 units
    rising_run: int  # sampled milestones at the end rising at every step (1: no rise)
    intervals_overlap: bool | None  # first and last 95 % intervals overlap (None: < 2 points)
    sentences: list[str]

    @property
    def first(self) -> tuple[str, float] | None:
        return (self.labels[0], self.rates[0]) if self.rates else None

    @property
    def last(self) -> tuple[str, float] | None:
        return (self.labels[-1], self.rates[-1]) if self.rates else None


@dataclass(frozen=True, kw_only=True)
class TrendTest:
    """The statistical trend test of one defect class (code "") or one defect code, as the
    PO's milestone reports stated it (qcloop.analytics.flags): a rising rate tested against
    the supplier's earlier lots with the sample sizes, its evidence in numbers and words.
    The class's run of rates (below) describes the path; this decides "escalating"."""

    defect_class: str
    code: str = ""
    name: str = ""
    escalating: bool = False  # flagged: p at or below the test's threshold
    projected: bool = False  # flagged: projected to fail the next milestone's plan
    p_value: float = 1.0
    strength: str = "no evidence"
    sentence: str = ""  # the report's own words, with the figures
    raised_at: str = ""  # the milestone whose report first raised it ("" never raised)
    cleared_at: str = ""  # the report that no longer supported it ("" standing or never)

    def __post_init__(self):
        if self.defect_class not in CLASSES:
            raise ValueError(
                f"defect_class: {self.defect_class!r} is not critical, major or minor."
            )
        if not 0 <= self.p_value <= 1:
            raise ValueError(f"p_value: {self.p_value!r} is not a probability.")

    @property
    def flagged(self) -> bool:
        """Standing at the last report: escalating or projected over the AQL."""
        return not self.cleared_at and (self.escalating or self.projected)

    @property
    def evidence(self) -> str:
        p = "p < 0.001" if self.p_value < 0.001 else f"p = {self.p_value:.3f}"
        words = self.strength if self.strength == "no evidence" else f"{self.strength} evidence"
        return f"{p}, {words}"


@dataclass(frozen=True)
class Trend:
    """The direction across the sampled milestones: the most alarming of the classes'
    directions (escalating, then worsening, improving, steady), with sentences for buyers.
    With the trend tests of the milestone reports, "escalating" is theirs: see `trend`."""

    direction: str
    headline: str
    sentences: list[str]
    classes: dict[str, ClassTrend]
    driver: str | None  # the class that decides the direction (None: not enough data)
    tests: tuple[TrendTest, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.direction in ("escalating", "worsening") or any(t.flagged for t in self.tests)

    @property
    def standing(self) -> list[TrendTest]:
        """The flags standing at the last report, strongest evidence first."""
        return sorted((t for t in self.tests if t.flagged), key=lambda t: t.p_value)


def _rate(value: float) -> str:
    return f"{value:.1f}"


def _series(labels: list[str], rates: list[float]) -> str:
    return " → ".join(_rate(r) for r in rates) + f" per 100 units ({', '.join(labels)})"


def _where(labels: list[str], points: list[RatePoint]) -> str:
    """Which milestones the trend could use, in words, when it has fewer than two."""
    small = list(
        dict.fromkeys(p.label for p in points if p.sampled and p.sampled_units < MIN_TREND_UNITS)
    )
    if not labels and not small:
        return "no milestone was sampled"
    if not small:
        return f"only {labels[0]} was sampled"
    where = f"only {labels[0]} had" if labels else "no milestone had"
    return (
        f"{where} a sample of {MIN_TREND_UNITS} units or more; {', '.join(small)} inspected "
        "fewer, too few to read a rate from"
    )


def _class_trend(
    defect_class: str, points: list[RatePoint], test: TrendTest | None = None
) -> ClassTrend:
    run_trend = _run_trend(defect_class, points)
    return run_trend if test is None else _with_test(run_trend, test)


def _with_test(run_trend: ClassTrend, test: TrendTest) -> ClassTrend:
    """The run of rates reconciled with the trend test, so the summary never says two things:
    the test decides "escalating" (its sentence leads); a run that rose at every step without
    the test's support is "worsening", and says how weak the evidence is."""
    direction, sentences = run_trend.direction, list(run_trend.sentences)
    name = run_trend.defect_class.capitalize()
    if test.flagged and test.escalating:
        # The run's own words stay where they agree: a rise, or a fall from a high start.
        kept = sentences[1:] if direction in ("escalating", "steady") else sentences
        direction, sentences = "escalating", [test.sentence, *kept]
    elif test.flagged:  # projected over the AQL at a rate that does not rise
        sentences = [test.sentence, *sentences]
    elif direction == "escalating":
        direction = "worsening"
        run = run_trend.rising_run
        series = _series(run_trend.labels[-run:], run_trend.rates[-run:])
        sentences = [
            f"{name} defects rose at every milestone, {series}, but the trend test against "
            f"the supplier's history finds it could be chance ({test.evidence}): worsening, "
            "not flagged as escalating.",
            *sentences[1:],
        ]
    elif direction == "worsening":
        first = sentences[0].rstrip(".")
        sentences[0] = f"{first} (trend test: {test.evidence}; not flagged as escalating)."
    elif direction != "not enough data" and test.sentence:
        sentences.append(f"Trend test: {test.sentence}")
    if test.cleared_at and test.raised_at:
        sentences.append(
            f"The trend test flagged {run_trend.defect_class} defects at {test.raised_at}; "
            f"{test.cleared_at} no longer supported it."
        )
    return ClassTrend(
        run_trend.defect_class,
        direction,
        run_trend.labels,
        run_trend.rates,
        run_trend.rising_run,
        run_trend.intervals_overlap,
        sentences,
    )


def _run_trend(defect_class: str, points: list[RatePoint]) -> ClassTrend:
    sampled = [p for p in points if p.sampled and p.sampled_units >= MIN_TREND_UNITS]
    labels = [p.label for p in sampled]
    rates = [p.rate for p in sampled]
    name = defect_class.capitalize()
    if len(sampled) < 2:
        where = _where(labels, points)
        sentence = f"{name} defects: not enough data for a trend ({where})."
        return ClassTrend(
            defect_class, "not enough data", labels, rates, len(sampled), None, [sentence]
        )

    # The run of sampled milestones, ending at the latest, in which every step rises by at
    # least MIN_STEP. The latest milestones are what the next lot will look like.
    run = 1
    for earlier, later in zip(reversed(rates[:-1]), reversed(rates[1:]), strict=True):
        if later - earlier < MIN_STEP - EPS:
            break
        run += 1
    first, last = sampled[0], sampled[-1]
    overlap = not (first.high < last.low or last.high < first.low)
    run_points = sampled[-run:]
    change = last.rate - first.rate

    if run >= ESCALATING_RUN and all(p.passed is not False for p in run_points):
        direction = "escalating"
        within = (
            "each milestone stayed within its own acceptance number"
            if all(p.passed for p in run_points)
            else "no milestone failed on it"
        )
        sentence = (
            f"{name} defects rose at every milestone, {_series(labels[-run:], rates[-run:])}, "
            f"although {within}. "
            "No single report would flag this; left alone the next lot is likely to fail."
        )
    elif run >= ESCALATING_RUN or (
        change >= CLEAR_ABS - EPS and last.rate >= CLEAR_RATIO * first.rate - EPS
    ):
        direction = "worsening"
        # A climb that already failed somewhere is told from its own start.
        base = run_points[0] if run >= ESCALATING_RUN else first
        sentence = (
            f"{last.label} {defect_class} defects {_rate(last.rate)} per 100 units, "
            f"up from {_rate(base.rate)} at {base.label}."
        )
    elif -change >= CLEAR_ABS - EPS and first.rate >= CLEAR_RATIO * last.rate - EPS:
        direction = "improving"
        sentence = (
            f"{last.label} {defect_class} defects {_rate(last.rate)} per 100 units, "
            f"down from {_rate(first.rate)} at {first.label}."
        )
    else:
        direction = "steady"
        if not any(rates):
            sentence = f"No {defect_class} defects at any sampled milestone ({', '.join(labels)})."
        else:
            sentence = f"{name} defects held steady: {_series(labels, rates)}."
    sentences = [sentence]
    if direction in ("worsening", "improving", "escalating") and overlap:
        sentences.append(
            f"The 95 % intervals of the {defect_class} rates at {first.label} and {last.label} "
            "overlap: part of the change may be sampling chance, which is why the direction "
            "across milestones matters."
        )
    return ClassTrend(defect_class, direction, labels, rates, run, overlap, sentences)


def trend(points: list[RatePoint], tests: list[TrendTest] | None = None) -> Trend:
    """The direction across the sampled milestones, per class and overall.

    Per class, over the milestones that were sampled, in order:
      * "not enough data": fewer than two sampled milestones;
      * "escalating": the last ESCALATING_RUN (3) or more sampled milestones rise at every
        step by at least MIN_STEP per 100 units, and none of them failed its own Ac for the
        class (the seed's 2 % -> 4 % -> 6 %): each report passes, the PO does not;
      * "worsening": the last rate is clearly above the first (CLEAR_ABS and CLEAR_RATIO),
        or a rising run as above in which a milestone already failed;
      * "improving": the last rate is clearly below the first, by the same two thresholds;
      * "steady": anything else.
    Overall: the most alarming class direction; ties go to the more severe class.

    `tests`, the trend tests the milestone reports stated (their last standing), take over
    "escalating": a class is escalating when its test flags it, whatever its run (which then
    only describes the path), and a run without the test's support is only "worsening". A
    defect code flagged while its class is not makes the PO escalating too, headed by the
    flag's own sentence. Without tests the run alone decides, as before the tests existed."""
    tests = list(tests or [])
    by_class = {c: [p for p in points if p.defect_class == c] for c in CLASSES}
    class_tests = {t.defect_class: t for t in tests if not t.code}
    flagged_classes = {c for c, t in class_tests.items() if t.flagged and t.escalating}
    classes = {c: _class_trend(c, by_class[c], class_tests.get(c)) for c in CLASSES}
    ranked = sorted(
        classes.values(),
        key=lambda t: (DIRECTIONS.index(t.direction), CLASSES.index(t.defect_class)),
    )
    driver = ranked[0]
    direction = driver.direction
    codes = sorted(
        (t for t in tests if t.code and t.flagged and t.escalating), key=lambda t: t.p_value
    )
    code_sentences = [t.sentence for t in tests if t.code and t.flagged]
    code_sentences += [
        f"Flagged at {t.raised_at}, no longer at {t.cleared_at}: {t.sentence}"
        for t in tests
        if t.code and t.cleared_at and t.raised_at
    ]
    if direction != "escalating" and codes:
        headline = codes[0].sentence
        others = [s for s in code_sentences if s != headline]
        sentences = [headline, *(s for c in CLASSES for s in classes[c].sentences), *others]
        return Trend(
            "escalating", headline, sentences, classes, codes[0].defect_class, tuple(tests)
        )

    if direction == "not enough data":
        labels = classes["major"].labels
        where = _where(labels, points)
        headline = f"Not enough data for a trend: {where}; a trend needs two sampled milestones."
        return Trend(direction, headline, [headline, *code_sentences], classes, None, tuple(tests))

    if direction == "steady":
        # All classes steady: the one with the most defects is what the buyer looks at.
        driver = max(classes.values(), key=lambda t: (t.rates[-1], -CLASSES.index(t.defect_class)))
        labels = driver.labels
        headline = f"Steady: no defect class moved clearly between {labels[0]} and {labels[-1]}."
    elif direction == "escalating" and driver.defect_class in flagged_classes:
        headline = driver.sentences[0]  # the test's own: "Major defects are escalating: ..."
    else:
        headline = f"{direction.capitalize()}: {driver.sentences[0]}"
    sentences = [headline]
    for defect_class in CLASSES:
        class_trend = classes[defect_class]
        skip = 1 if class_trend is driver and direction != "steady" else 0
        sentences.extend(class_trend.sentences[skip:])
    sentences.extend(code_sentences)
    return Trend(direction, headline, sentences, classes, driver.defect_class, tuple(tests))


# --- timeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineRow:
    """One line of the timeline: a milestone's planned window against its inspection date, or
    the ex-factory / shipment date planned against projected or actual."""

    label: str
    kind: str  # a milestone kind, "ex-factory" or "shipment"
    planned_start: date
    planned_end: date
    actual: date | None
    projected: bool  # actual is a projection, not a fact
    days_off: int | None  # < 0 early, > 0 late, 0 within the window; None: no actual date
    status: str  # "early", "in window", "late", "not inspected" / "not known"
    planned_share: float | None = None  # share planned produced by `actual` (linear plan)
    produced_share: float | None = None  # share counted produced at the visit
    reported_share: float | None = None  # share the factory reported produced
    packed_share: float | None = None  # share counted packed at the visit
    share_gap: float | None = None  # produced - planned: negative is behind plan


def fmt_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def planned_share(facts: SummaryFacts, on: date) -> float | None:
    """The share planned produced by `on`, assuming production runs linearly from
    production_start to ex_factory_planned; None when the start is unknown or not before the
    ex-factory date."""
    start, end = facts.production_start, facts.ex_factory_planned
    if start is None or end <= start:
        return None
    share = (on - start).days / (end - start).days
    return min(1.0, max(0.0, share))


def _days_off(start: date, end: date, actual: date | None) -> tuple[int | None, str]:
    if actual is None:
        return None, ""
    if actual < start:
        return (actual - start).days, "early"
    if actual > end:
        return (actual - end).days, "late"
    return 0, "in window"


def timeline(facts: SummaryFacts) -> list[TimelineRow]:
    """Every milestone's window against its inspection date with production planned against
    counted at that date, then ex-factory (planned against projected completion, a fact once
    loaded) and shipment (planned against the CLI date)."""
    rows = []
    for m in facts.milestones:
        days, status = _days_off(m.window_start, m.window_end, m.inspection_date)
        plan = planned_share(facts, m.inspection_date) if m.inspection_date else None
        gap = None
        if plan is not None and m.produced_share is not None:
            gap = m.produced_share - plan
        rows.append(
            TimelineRow(
                label=m.label,
                kind=m.kind,
                planned_start=m.window_start,
                planned_end=m.window_end,
                actual=m.inspection_date,
                projected=False,
                days_off=days,
                status=status or "not inspected",
                planned_share=plan,
                produced_share=m.produced_share,
                reported_share=m.reported_share,
                packed_share=m.packed_share,
                share_gap=gap,
            )
        )
    for label, kind, planned, actual, projected in (
        (
            "Ex-factory",
            "ex-factory",
            facts.ex_factory_planned,
            facts.projected_completion,
            facts.shipped_on is None and facts.projected_completion is not None,
        ),
        ("Shipment", "shipment", facts.ship_planned, facts.shipped_on, False),
    ):
        days, status = _days_off(planned, planned, actual)
        rows.append(
            TimelineRow(
                label=label,
                kind=kind,
                planned_start=planned,
                planned_end=planned,
                actual=actual,
                projected=projected,
                days_off=days,
                status=status or "not known",
            )
        )
    return rows


# --- recommendation ----------------------------------------------------------------------

TITLES = {
    "hold_and_review_supplier": "Hold the next PO and review the supplier",
    "tighten_sampling": "Keep full monitoring with tightened sampling",
    "add_dupro_recheck": "Keep full monitoring and add a second DUPRO",
    "psi_and_cli_only": "PSI and CLI only",
    "drop_ipc": "Drop the IPC",
    "keep_full_monitoring": "Keep full monitoring",
}
RULE_ORDER = tuple(TITLES)
WITH_RECHECK = ["IPC", "DUPRO", "DUPRO #2", "PSI", "CLI"]
PLANS = {
    "hold_and_review_supplier": (FULL_MONITORING, "tightened"),
    "tighten_sampling": (FULL_MONITORING, "tightened"),
    "add_dupro_recheck": (WITH_RECHECK, "normal"),
    "psi_and_cli_only": (["PSI", "CLI"], "normal"),
    "drop_ipc": (["DUPRO", "PSI", "CLI"], "normal"),
    "keep_full_monitoring": (FULL_MONITORING, "normal"),
}


def plan_for(code: str) -> tuple[list[str], str]:
    """The milestones and the sampling severity a recommendation stands for, when chosen by
    hand (a QC lead who knows better than the rules); `recommend` may add a second DUPRO."""
    if code not in PLANS:
        raise ValueError(f"recommendation: {code!r} is not one of {', '.join(RULE_ORDER)}.")
    milestones, sampling = PLANS[code]
    return list(milestones), sampling


@dataclass(frozen=True)
class RuleOutcome:
    """One rule as evaluated: whether it fired and the sentences why (or, for the rules that
    relax monitoring, why not)."""

    code: str
    fired: bool
    reasons: list[str]


@dataclass(frozen=True)
class Recommendation:
    """What to commission for the next PO with this supplier, and why."""

    code: str  # one of RULE_ORDER
    title: str
    reasons: list[str]  # concrete sentences citing the figures
    next_po_milestones: list[str]  # e.g. ["IPC", "DUPRO", "DUPRO #2", "PSI", "CLI"]
    sampling: str  # "normal", "tightened" or "reduced"
    notes: list[str] = field(default_factory=list)  # findings of lower rules that also fired
    considered: list[RuleOutcome] = field(default_factory=list)  # every rule, in order


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %"


def _over_plan(m: MilestoneFacts) -> list[str]:
    """The classes in which a milestone reached its rejection number, as figures."""
    parts = []
    for defect_class in CLASSES:
        if defect_class not in m.acceptance or not m.sampled:
            continue
        ac, re = m.acceptance[defect_class]
        found = m.defects(defect_class)
        if found > ac:
            rate = 100 * found / m.sampled_units
            parts.append(
                f"{_plural(found, f'{defect_class} defect')} in {m.sampled_units} units "
                f"({_rate(rate)} per 100) against Ac {ac} / Re {re}"
            )
    return parts


def _why_failed(m: MilestoneFacts) -> str:
    parts = _over_plan(m)
    if m.failed_checks:
        parts.append(_plural(m.failed_checks, "failed check"))
    if m.packaging_problems:
        parts.append(_plural(m.packaging_problems, "carton") + " with packaging problems")
    if m.loading_problems:
        parts.append(_plural(m.loading_problems, "loading problem"))
    return "; ".join(parts) if parts else "see its report"


def history_sentence(history: list[str]) -> str:
    recent = history[-HISTORY_WINDOW:]
    fails = recent.count("fail")
    return (
        f"{fails} of the supplier's last {_plural(len(recent), 'earlier PSI')} failed"
        if recent
        else "no earlier PSI of this supplier is on record"
    )


def _hold(facts: SummaryFacts, psis: list[MilestoneFacts]) -> list[str]:
    reasons = []
    for m in facts.milestones:
        critical = m.defects("critical")
        if critical or m.critical_descriptions:
            what = f" ({'; '.join(m.critical_descriptions)})" if m.critical_descriptions else ""
            units = f" in {m.sampled_units} units inspected" if m.sampled else ""
            count = max(critical, len(m.critical_descriptions))
            reasons.append(
                f"{_plural(count, 'critical defect')} found at {m.label}{units}{what}: "
                "a critical defect is never accepted and may hurt a user or break the law."
            )
    failed_psis = [m for m in psis if m.result == "fail"]
    if len(failed_psis) >= 2:
        reasons.append(
            f"PSI failed {len(failed_psis)} times on this PO "
            f"({', '.join(m.label for m in failed_psis)}): the first correction did not hold."
        )
    else:
        # This PO's lot counts once, by its first PSI (a re-inspection is the same lot).
        this_po = psis[0].result if psis and psis[0].result in ("pass", "fail") else None
        lots = [*facts.supplier_history, *([this_po] if this_po else [])][-HISTORY_WINDOW:]
        fails = lots.count("fail")
        if fails >= HISTORY_FAILS_FOR_HOLD:
            counting = f", counting this PO's {psis[0].label} ({this_po}ed)" if this_po else ""
            reasons.append(
                f"{fails} of the supplier's last {len(lots)} PSIs failed{counting}: two failures "
                "in five lots is the ISO 2859-1 signal that the process has slipped."
            )
    if facts.capas_open_at_psi:
        reasons.append(
            f"{_plural(facts.capas_open_at_psi, 'corrective action')} still open at PSI "
            f"(of {facts.capas_opened} opened): the supplier did not close the loop in time."
        )
    return reasons


def _tighten(facts: SummaryFacts, psis: list[MilestoneFacts], the_trend: Trend) -> list[str]:
    reasons = []
    for i, m in enumerate(psis):
        if m.result != "fail":
            continue
        later = [p for p in psis[i + 1 :] if p.result == "pass"]
        after = f"; it passed at {later[0].label}" if later else ""
        reasons.append(f"{m.label} failed: {_why_failed(m)}{after}.")
    if the_trend.flagged:
        for c in CLASSES:
            class_trend = the_trend.classes[c]
            if class_trend.direction == "escalating":
                reasons.append(class_trend.sentences[0])
            elif class_trend.direction == "worsening":
                reasons.append(f"Worsening {c} trend: {class_trend.sentences[0]}")
        # Standing flags the class directions do not already state: a defect code, or a
        # class projected to fail the next plan at a rate that does not rise.
        for test in the_trend.standing:
            if not any(test.sentence in reason for reason in reasons):
                reasons.append(test.sentence)
    for m in facts.milestones:
        if m.systematic_defects:
            reasons.append(
                f"{_plural(m.systematic_defects, 'systematic defect')} at {m.label}: "
                "the same fault on many units points to the process, not to chance."
            )
    return reasons


def _lateness(facts: SummaryFacts, rows: list[TimelineRow]) -> list[str]:
    reasons = []
    for row in rows:
        if row.kind in KINDS and row.share_gap is not None and -row.share_gap > BEHIND_SHARE:
            reasons.append(
                f"At {row.label} on {fmt_date(row.actual)} production was "
                f"{_pct(row.produced_share)} complete against {_pct(row.planned_share)} "
                f"planned for that date ({-row.share_gap * 100:.0f} points behind)."
            )
        if (
            row.kind in KINDS
            and row.reported_share is not None
            and row.produced_share is not None
            and row.reported_share - row.produced_share > REPORTED_GAP
        ):
            reasons.append(
                f"At {row.label} the factory reported {_pct(row.reported_share)} produced but "
                f"{_pct(row.produced_share)} was counted "
                f"({(row.reported_share - row.produced_share) * 100:.0f} points over-reported)."
            )
    done = facts.projected_completion
    if done is not None and (done - facts.ex_factory_planned).days > LATE_GRACE_DAYS:
        verb = "was" if facts.shipped_on is not None else "is projected to be"
        reasons.append(
            f"Production {verb} complete on {fmt_date(done)}, "
            f"{_plural((done - facts.ex_factory_planned).days, 'day')} after the planned "
            f"ex-factory date of {fmt_date(facts.ex_factory_planned)}."
        )
    if facts.shipped_on is not None and (facts.shipped_on - facts.ship_planned).days > (
        LATE_GRACE_DAYS
    ):
        reasons.append(
            f"Loaded on {fmt_date(facts.shipped_on)}, "
            f"{_plural((facts.shipped_on - facts.ship_planned).days, 'day')} after the planned "
            f"shipment date of {fmt_date(facts.ship_planned)}."
        )
    dupros = [m for m in facts.milestones if m.kind == "DUPRO" and m.result == "fail"]
    final_psi = next((m for m in reversed(facts.milestones) if m.kind == "PSI"), None)
    if dupros and final_psi is not None and final_psi.result == "pass":
        reasons.append(
            f"{dupros[0].label} failed ({_why_failed(dupros[0])}) but {final_psi.label} passed: "
            "in-line problems were found only once and fixed late; a second in-line visit "
            "confirms the correction while there is still time to rework."
        )
    return reasons


def _clean_history(history: list[str], needed: int) -> list[str]:
    """Why the supplier's record is not yet good enough to drop a milestone ([] if it is)."""
    recent = history[-HISTORY_WINDOW:]
    if len(history) < needed:
        have = (
            "this is the first PO with this supplier on record"
            if not history
            else f"only {_plural(len(history), 'earlier PSI')} on record"
        )
        return [f"Too little history: {have}; dropping a milestone needs {needed} earlier PSIs."]
    if "fail" in recent:
        return [
            f"{history_sentence(history).capitalize()}: "
            "a milestone is dropped only after a clean run."
        ]
    return []


def _ipc_clean(facts: SummaryFacts) -> list[str]:
    """Why the IPC of this PO does not show a safe start ([] if it does)."""
    ipcs = [m for m in facts.milestones if m.kind == "IPC"]
    if not ipcs:
        return ["No IPC on this PO: nothing shows that materials and tooling are right at start."]
    problems = []
    for m in ipcs:
        if m.result != "pass":
            problems.append(f"{m.label} {'failed' if m.result == 'fail' else 'has no pass'}.")
        if m.failed_checks:
            problems.append(
                f"{m.label} found {_plural(m.failed_checks, 'failed check')} on materials, "
                "tooling or first-off units."
            )
        if m.photo_flags:
            problems.append(f"{_plural(m.photo_flags, 'photo')} of {m.label} flagged as doubtful.")
        if m.systematic_defects or m.defects("critical"):
            problems.append(f"{m.label} found defects pointing to the set-up.")
    return problems


def _psi_cli_only(facts: SummaryFacts, psis: list[MilestoneFacts]) -> list[str]:
    """Why this PO is not consistently clean ([] if it is), beyond the higher rules."""
    problems = _clean_history(facts.supplier_history, HISTORY_FOR_PSI_CLI_ONLY)
    failed = [m.label for m in facts.milestones if m.result == "fail"]
    if failed:
        problems.append(f"Not every milestone passed first time: {', '.join(failed)} failed.")
    if not psis or psis[-1].result != "pass":
        problems.append("No passed PSI on this PO.")
    for m in facts.milestones:
        if m.kind in ("IPC", "DUPRO") and m.failed_checks:
            problems.append(
                f"{m.label} found {_plural(m.failed_checks, 'failed check')}: it earned its place."
            )
        if m.photo_flags:
            problems.append(f"{_plural(m.photo_flags, 'photo')} of {m.label} flagged as doubtful.")
    if facts.escalations:
        problems.append(f"{_plural(facts.escalations, 'escalation')} on this PO.")
    if facts.capas_verified < facts.capas_opened:
        problems.append(
            f"Only {facts.capas_verified} of {_plural(facts.capas_opened, 'corrective action')} "
            "verified."
        )
    return problems


def recommend(facts: SummaryFacts, the_trend: Trend | None = None) -> Recommendation:
    """The recommendation for the next PO with this supplier. The rules, in order; the first
    that fires decides, the findings of the others that fire go to `notes`:

    1. hold_and_review_supplier: a critical defect at any milestone; PSI failed twice on this
       PO; 2 or more failures among the supplier's last 5 PSIs counting this PO's first PSI;
       or corrective actions still open at PSI. Full monitoring, tightened sampling.
    2. tighten_sampling: a PSI failed; an escalating or worsening trend; or systematic
       defects. Full monitoring, tightened sampling.
    3. add_dupro_recheck: production behind the linear plan by more than 15 points at a
       visit, reported above counted by more than 5 points, completion or loading more than
       3 days late, or a DUPRO failed while the PSI passed. Full monitoring plus a second DUPRO.
    4. psi_and_cli_only: 3 or more earlier PSIs and none of the last 5 failed, every milestone
       of this PO passed, IPC and DUPRO found no failed checks, no doubtful photos, no
       escalation, every CAPA verified. Reduced sampling after 10 straight passes.
    5. drop_ipc: the IPC passed without failed checks, doubtful photos or set-up defects, and
       2 or more earlier PSIs with none of the last 5 failed.
    6. keep_full_monitoring: otherwise, with what kept rule 5 (drop_ipc) from firing.
    Rules 1-3 also add a second DUPRO to the milestones when rule 3 fires."""
    points = defect_rates(facts)
    if the_trend is None:
        the_trend = trend(points)
    psis = [m for m in facts.milestones if m.kind == "PSI"]
    rows = timeline(facts)

    hold = _hold(facts, psis)
    tighten = _tighten(facts, psis, the_trend)
    late = _lateness(facts, rows)
    not_clean = _psi_cli_only(facts, psis)
    ipc_problems = _ipc_clean(facts) + _clean_history(facts.supplier_history, HISTORY_FOR_DROP_IPC)
    considered = [
        RuleOutcome("hold_and_review_supplier", bool(hold), hold),
        RuleOutcome("tighten_sampling", bool(tighten), tighten),
        RuleOutcome("add_dupro_recheck", bool(late), late),
        RuleOutcome("psi_and_cli_only", not not_clean, not_clean),
        RuleOutcome("drop_ipc", not ipc_problems, ipc_problems),
    ]
    full = list(FULL_MONITORING)
    with_recheck = list(WITH_RECHECK)

    def notes_after(code: str) -> list[str]:
        return [
            reason
            for outcome in considered[:3]
            if outcome.fired and outcome.code != code
            for reason in outcome.reasons
        ]

    def build(code, reasons, milestones, sampling):
        considered_all = [*considered, RuleOutcome("keep_full_monitoring", True, [])]
        return Recommendation(
            code, TITLES[code], reasons, milestones, sampling, notes_after(code), considered_all
        )

    if hold:
        return build("hold_and_review_supplier", hold, with_recheck if late else full, "tightened")
    if tighten:
        return build("tighten_sampling", tighten, with_recheck if late else full, "tightened")
    if late:
        return build("add_dupro_recheck", late, with_recheck, "normal")

    history = facts.supplier_history
    if not not_clean:
        streak = 0
        for result in reversed(history):
            if result != "pass":
                break
            streak += 1
        psi = psis[-1]
        reasons = [
            f"The supplier's last {_plural(streak, 'earlier PSI')} passed, and so did every "
            f"milestone of this PO ({', '.join(m.label for m in facts.milestones)}).",
            "No critical defect, no escalation, no systematic defect, and production on time.",
        ]
        if psi.sampled:
            major = psi.defects("major")
            reasons.append(
                f"{psi.label} found {_plural(major, 'major defect')} in {psi.sampled_units} units "
                f"({_rate(100 * major / psi.sampled_units)} per 100); the trend was "
                f"{the_trend.direction}."
            )
        if facts.capas_opened:
            reasons.append(
                f"All {_plural(facts.capas_opened, 'corrective action')} closed and verified."
            )
        sampling = "normal"
        if streak >= HISTORY_FOR_REDUCED:
            sampling = "reduced"
            reasons.append(
                f"{streak + 1} consecutive PSIs passed, this PO's included: reduced sampling is "
                "justified, subject to the ISO 2859-1 switching score and the buyer's approval."
            )
        return build("psi_and_cli_only", reasons, ["PSI", "CLI"], sampling)

    if not ipc_problems:
        ipc = next(m for m in facts.milestones if m.kind == "IPC")
        reasons = [
            f"{ipc.label} passed with no failed check on materials, tooling or first-off units.",
            f"None of the supplier's last {_plural(len(history[-HISTORY_WINDOW:]), 'PSI')} failed.",
            "DUPRO stays: it still catches in-line problems while they can be corrected.",
        ]
        reasons.extend(f"Still not clean enough for PSI and CLI only: {p}" for p in not_clean[:3])
        return build("drop_ipc", reasons, ["DUPRO", "PSI", "CLI"], "normal")

    return build("keep_full_monitoring", list(ipc_problems), full, "normal")
