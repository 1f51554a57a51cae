"""Where a PO's milestones fall, projected from its real production progress. Pure: no Django.

The glossary's timing: IPC in the first 1-3 days of production; DUPRO while 20-60 % is produced
(aimed at 30-50 %); PSI once 100 % is produced and at least 80 % packed, at the latest the day
before ex-factory; CLI on the loading day, which cannot come before the PSI has been done.

Progress points come from the factory's reports and from inspectors' follow-up counts. A count
outranks a report: the factory's reports dated on or before the latest count are set aside
(the count is what was on the floor; the seed: factories report optimistically).

The method (stated in `Projection.method`): the curve runs through the effective points, starting at
0 units on the production start; beyond the latest point it is extended at the rate of the
latest two points (or, with one point, from the production start to it). Packing follows the
production curve with the lag seen at the latest point (how many days earlier production stood
where packing stands now), at most a week; packing not yet started lags a week. Without
any point, the plan stands: production runs evenly from its start to 100 % on the PSI deadline.
A projected day is the first whole day on which the curve reaches the units (a fraction of a
day rounds up)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from math import ceil

REPORT, COUNT = "report", "count"
DEFAULT_RUN_DAYS = 42  # as qcloop.inspections.planning: a typical six-week run
IPC_DAYS = 3  # the first 1-3 days of production
DUPRO_BAND = (20, 60)  # per cent produced: when a DUPRO is still meaningful
DUPRO_WINDOW = (30, 50)  # per cent produced: where it is aimed
PSI_PACKED = 80  # per cent packed, with 100 % produced
PSI_DAYS_BEFORE_EX_FACTORY = 1  # the PSI report must be in before the goods leave
PACKING_LAG_MAX_DAYS = 7  # packing trails production by at most a week


@dataclass(frozen=True)
class Order:
    quantity: int
    production_start: date | None
    ex_factory: date
    ship_date: date

    @property
    def start(self) -> date:
        return self.production_start or self.ex_factory - timedelta(days=DEFAULT_RUN_DAYS)

    @property
    def psi_deadline(self) -> date:
        return self.ex_factory - timedelta(days=PSI_DAYS_BEFORE_EX_FACTORY)


@dataclass(frozen=True)
class Point:
    """Units produced and packed on a day, as the factory reported or an inspector counted."""

    on: date
    produced: int
    packed: int
    source: str = REPORT


def effective_points(points: list[Point]) -> list[Point]:
    """The points the curve runs through, by date: counts, and reports after the latest count.
    On one day a count beats a report, and the last given of a kind beats the earlier ones."""
    counts = [p for p in points if p.source == COUNT]
    last_count = max((p.on for p in counts), default=None)
    kept = [p for p in points if p.source == COUNT or last_count is None or p.on > last_count]
    by_day: dict[date, Point] = {}
    for p in kept:
        current = by_day.get(p.on)
        if current is None or not (current.source == COUNT and p.source == REPORT):
            by_day[p.on] = p
    return [by_day[d] for d in sorted(by_day)]


@dataclass(frozen=True)
class Curve:
    """Units over time: piecewise linear through `knots`, then straight on at `rate` a day."""

    knots: tuple[tuple[date, int], ...]  # (day, units), days strictly increasing
    rate: Fraction  # units a day beyond the last knot; 0 when stalled

    def day_reaching(self, units: int) -> date | None:
        """The first day on which the curve holds `units`, or None if it never does."""
        previous_day, previous = self.knots[0]
        if units <= previous:
            return previous_day
        for day, value in self.knots[1:]:
            if value >= units:
                days = (day - previous_day).days
                step = Fraction(units - previous, value - previous) * days
                return previous_day + timedelta(days=ceil(step))
            previous_day, previous = day, value
        if self.rate <= 0:
            return None
        return previous_day + timedelta(days=ceil((units - previous) / self.rate))


@dataclass(frozen=True)
class Projection:
    produced: Curve
    packing_lag: int  # days packing trails production
    method: str
    stalled: str = ""  # why no completion can be projected, if so

    def day_produced(self, share: int, quantity: int) -> date | None:
        return self.produced.day_reaching(units_at(share, quantity))

    def day_packed(self, share: int, quantity: int) -> date | None:
        made = self.day_produced(share, quantity)
        return made + timedelta(days=self.packing_lag) if made else None


def units_at(share: int, quantity: int) -> int:
    """The units that make `share` per cent of the order, rounded up (30 % of 3,000: 900)."""
    return ceil(Fraction(share * quantity, 100))


def _rate(a: tuple[date, int], b: tuple[date, int]) -> Fraction:
    days = (b[0] - a[0]).days
    return Fraction(b[1] - a[1], days) if days > 0 else Fraction(0)


def project(order: Order, points: list[Point]) -> Projection:
    start = order.start
    used = [p for p in effective_points(points) if p.on > start or p.produced > 0]
    if not used:
        days = max((order.psi_deadline - start).days, 1)
        rate = Fraction(order.quantity, days)
        plan = Curve(((start, 0),), rate)
        return Projection(
            plan,
            0,
            f"No progress reported yet: the plan, {order.quantity} units evenly over the "
            f"{days} days from {start:%d %b} to the PSI deadline {order.psi_deadline:%d %b}.",
        )
    origin = [(start, 0)] if used[0].on > start else []
    made = tuple(origin + [(p.on, p.produced) for p in used])
    latest = used[-1]
    source = "count" if latest.source == COUNT else "factory report"
    if len(made) > 1:
        rate = _rate(made[-2], made[-1])
        method = (
            f"Rate of the latest two points: {_per_day(rate)} units a day from "
            f"{made[-2][0]:%d %b} to {latest.on:%d %b} ({latest.produced} produced, "
            f"{latest.packed} packed by {source})."
        )
    else:  # one point on (or before) the production start: no elapsed time to measure
        left = max((order.psi_deadline - latest.on).days, 1)
        rate = Fraction(max(order.quantity - latest.produced, 0), left)
        method = (
            f"One point, on the production start ({latest.produced} produced by {source}): "
            f"the rest at the plan's pace, {_per_day(rate)} units a day to the PSI deadline."
        )
    curve = Curve(_rising(made), rate)
    lag = _packing_lag(curve, latest)
    method += f" Packing trails production by {lag} day{'s' * (lag != 1)}" + (
        " (not started: the most it is allowed)." if latest.packed == 0 else "."
    )
    stalled = ""
    if rate <= 0 and latest.produced < order.quantity:
        stalled = (
            f"Production did not advance between {made[-2][0]:%d %b} and {latest.on:%d %b} "
            f"({made[-2][1]} then {latest.produced} units): no completion can be projected."
        )
    return Projection(curve, lag, method, stalled)


def _packing_lag(curve: Curve, latest: Point) -> int:
    """How many days before the latest point production stood where packing stands now, at
    most PACKING_LAG_MAX_DAYS: a packing line that has not started, or lags more, is taken to
    catch up to that within the run's last week (packing is fast once cartons are on site)."""
    if latest.packed <= 0:
        return PACKING_LAG_MAX_DAYS
    reached = curve.day_reaching(latest.packed) or latest.on
    return min(max((latest.on - reached).days, 0), PACKING_LAG_MAX_DAYS)


def _rising(knots: tuple[tuple[date, int], ...]) -> tuple[tuple[date, int], ...]:
    """A count may be below an earlier report kept before it: the curve never goes down, so a
    lower point is held at the level reached (the units are not 'unmade')."""
    level, out = 0, []
    for day, value in knots:
        level = max(level, value)
        out.append((day, level))
    return tuple(out)


def _per_day(rate: Fraction) -> str:
    return f"{float(rate):.1f}".removesuffix(".0")


@dataclass(frozen=True)
class Placement:
    kind: str
    window_start: date
    window_end: date
    why: str


@dataclass(frozen=True)
class Risk:
    days_late: int | None  # None: late by an unknown margin (stalled)
    reasons: tuple[str, ...] = ()

    @property
    def at_risk(self) -> bool:
        return bool(self.reasons)

    @property
    def severity(self) -> int:
        """For comparing two risks: more days late is worse; a stall is worst of all."""
        if not self.at_risk:
            return 0
        return 10**6 if self.days_late is None else max(self.days_late, 1)


@dataclass(frozen=True)
class Schedule:
    placements: dict[str, Placement]
    projection: Projection
    risk: Risk
    psi_ready: date | None = None
    loading_day: date | None = None
    notes: list[str] = field(default_factory=list)


def place(order: Order, points: list[Point], today: date | None = None) -> Schedule:
    """Each milestone's window from the projected curve, and whether the ship date is at risk.
    With `today`, no window starts before it (a window that has passed is moved to today and
    said so)."""
    projection = project(order, points)
    q = order.quantity
    start = order.start
    placements = {
        "IPC": Placement(
            "IPC",
            start,
            start + timedelta(days=IPC_DAYS - 1),
            f"The first {IPC_DAYS} days of production from {start:%d %b}.",
        )
    }
    notes = []
    if projection.stalled:
        risk = Risk(None, (projection.stalled,))
        return Schedule(_clamped(placements, today, notes), projection, risk, notes=notes)
    low, high = (projection.day_produced(s, q) for s in DUPRO_WINDOW)
    band = [projection.day_produced(s, q) for s in DUPRO_BAND]
    placements["DUPRO"] = Placement(
        "DUPRO",
        low,
        high,
        f"{DUPRO_WINDOW[0]}-{DUPRO_WINDOW[1]} % produced ({units_at(DUPRO_WINDOW[0], q)}-"
        f"{units_at(DUPRO_WINDOW[1], q)} units); still meaningful from {band[0]:%d %b} "
        f"({DUPRO_BAND[0]} %) to {band[1]:%d %b} ({DUPRO_BAND[1]} %).",
    )
    done, packed = projection.day_produced(100, q), projection.day_packed(PSI_PACKED, q)
    psi_ready = max(done, packed)
    deadline = order.psi_deadline
    placements["PSI"] = Placement(
        "PSI",
        psi_ready,
        max(psi_ready, deadline),
        f"100 % produced by {done:%d %b} and {PSI_PACKED} % packed by {packed:%d %b}; "
        f"due by {deadline:%d %b}, the day before ex-factory.",
    )
    loading = max(order.ex_factory, psi_ready + timedelta(days=1))
    placements["CLI"] = Placement(
        "CLI",
        loading,
        max(loading, order.ship_date),
        f"Loading from {loading:%d %b}"
        + (" (ex-factory)" if loading == order.ex_factory else ", the day after the PSI")
        + f", before the ship date {order.ship_date:%d %b}.",
    )
    risk = _risk(order, psi_ready, loading, done, packed)
    placements = _clamped(placements, today, notes)
    return Schedule(placements, projection, risk, psi_ready, loading, notes)


def _risk(order: Order, psi_ready: date, loading: date, done: date, packed: date) -> Risk:
    reasons, late = [], []
    q = order.quantity
    if psi_ready > order.psi_deadline:
        days = (psi_ready - order.psi_deadline).days
        late.append(days)
        what = (
            f"100 % produced ({q} units) by {done:%d %b}"
            if done >= packed
            else f"{PSI_PACKED} % packed ({units_at(PSI_PACKED, q)} units) by {packed:%d %b}"
        )
        reasons.append(
            f"The PSI cannot happen before {psi_ready:%d %b}: at the current rate {what}, "
            f"{days} day{'s' * (days != 1)} after the PSI deadline {order.psi_deadline:%d %b} "
            f"(ex-factory {order.ex_factory:%d %b})."
        )
    if loading > order.ship_date:
        days = (loading - order.ship_date).days
        late.append(days)
        reasons.append(
            f"Loading (and its CLI) cannot be before {loading:%d %b}, {days} "
            f"day{'s' * (days != 1)} after the ship date {order.ship_date:%d %b}."
        )
    return Risk(max(late) if late else 0, tuple(reasons))


def _clamped(placements: dict[str, Placement], today: date | None, notes: list[str]) -> dict:
    if today is None:
        return placements
    out = {}
    for kind, p in placements.items():
        if p.window_start >= today:
            out[kind] = p
            continue
        end = max(p.window_end, today)
        if p.window_end < today:
            notes.append(f"{kind}: the projected window ({p.window_end:%d %b}) has passed.")
        out[kind] = Placement(kind, today, end, p.why)
    return out
