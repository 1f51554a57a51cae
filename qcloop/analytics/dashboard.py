"""The program dashboard's figures: what is in production and where, defect rates across
suppliers month by month, reports overdue, open CAPAs, escalations and trend flags.

Everything is an aggregate query: defect figures sum `MilestoneTally` rows (one per published
milestone, never the defect records), counts are `COUNT`s, and the lists on the page are the
most relevant few (`limit`) with the count of the rest; the exports carry every row. The
figures are read through a `Scope`: a signed-in user's tenancy gates, or (for the monthly
snapshot email, which has no user) one buyer's whole program.

Who sees what: a buyer's people see their own program; an agency's coordinators, QC leads and
admins see every PO their agency monitors, across its clients, and may narrow it to one buyer
with the `buyer` filter. Inspectors and supplier users have no dashboard."""

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from qcloop.accounts.models import Organisation, OrganisationKind, Role
from qcloop.accounts.selectors import engaged_buyers, is_agency_staff
from qcloop.alerts.models import Escalation
from qcloop.capa.models import OPEN_STATUSES, CorrectiveAction
from qcloop.core.reference import ProductCategory, markets
from qcloop.core.tenancy import for_user
from qcloop.inspections.models import MILESTONE_ORDER, Milestone, MilestoneKind
from qcloop.orders.models import POLine, POStatus, PurchaseOrder, Supplier
from qcloop.orders.selectors import current_stage
from qcloop.reports.models import Report

from .exports import Table
from .models import MilestoneTally, TrendFlag
from .stats import RateEstimate, estimate, p_chart

# The lists on the page: the most relevant rows; the exports hold them all.
LIST_LIMIT = 20
# Suppliers drawn as their own line in the trend chart; the rest are summed as "others".
TOP_SUPPLIERS = 5
# The live view and the context of a monthly view: twelve calendar months.
TREND_MONTHS = 12
# A custom range longer than this is refused (a chart of 60 monthly points is the most that
# still reads).
MAX_RANGE_MONTHS = 60
# A supplier drifts when a defect class of one of its latest DRIFT_MONTHS months is above the
# upper limit of its own p-chart over the trend's months (at least MIN_CHART_MONTHS of them
# inspected): the rise across consecutive lots that no single PO's trend test sees, since each
# PO is judged against the supplier's recent lots, which drift with it. Critical defects are
# escalated one by one instead.
DRIFT_MONTHS = 2
MIN_CHART_MONTHS = 6
DRIFT_CLASSES = ("major", "minor")
ALL_SUPPLIERS = "All suppliers"
OTHER_SUPPLIERS = "Other suppliers"


# --- who reads ---------------------------------------------------------------------------------

# How each model reaches its buyer, supplier, market and PO (for the category of its lines).
_PATHS = {
    PurchaseOrder: {"buyer": "buyer", "supplier": "supplier", "market": "destination_market"},
    MilestoneTally: {"buyer": "buyer", "supplier": "supplier", "market": "market"},
    TrendFlag: {"buyer": "buyer", "supplier": "supplier", "market": "po__destination_market"},
    Escalation: {"buyer": "buyer", "supplier": "supplier", "market": "po__destination_market"},
    CorrectiveAction: {
        "buyer": "po__buyer",
        "supplier": "supplier",
        "market": "po__destination_market",
    },
    Report: {"buyer": "po__buyer", "supplier": "po__supplier", "market": "po__destination_market"},
    Supplier: {"buyer": "buyer"},
}
_PO_OF = {PurchaseOrder: "pk", Report: "po", CorrectiveAction: "po", Escalation: "po"}
_PO_OF |= {TrendFlag: "po"}


def may_see_dashboard(user) -> bool:
    membership = user.membership if user.is_authenticated else None
    return membership is not None and (membership.is_buyer or is_agency_staff(user))


def may_send_snapshot(user) -> bool:
    """Buyer managers and admins; agency coordinators and admins (never viewers, QC leads)."""
    membership = user.membership if user.is_authenticated else None
    if membership is None:
        return False
    if membership.is_buyer:
        return membership.role in {Role.BUYER_MANAGER, Role.ADMIN}
    return membership.is_agency and membership.role in {Role.COORDINATOR, Role.ADMIN}


@dataclass(frozen=True)
class Scope:
    """Whose figures: a user's (through the tenancy gates) or one buyer's whole program."""

    user: object = None
    buyer: Organisation | None = None

    @classmethod
    def of_user(cls, user) -> "Scope":
        if not may_see_dashboard(user):
            raise Http404("No dashboard here.")
        return cls(user=user)

    @classmethod
    def of_buyer(cls, buyer: Organisation) -> "Scope":
        return cls(buyer=buyer)

    def of(self, model) -> QuerySet:
        if self.user is not None:
            return for_user(model, self.user)
        return model.objects.filter(**{_PATHS[model]["buyer"]: self.buyer})

    @property
    def is_agency(self) -> bool:
        return self.user is not None and self.user.membership.is_agency

    def buyers(self) -> QuerySet:
        """The buyers an agency user may narrow the dashboard to (none for a buyer)."""
        if not self.is_agency:
            return Organisation.objects.none()
        organisation = self.user.membership.organisation
        served = engaged_buyers(organisation).values("pk")
        on_orders = self.of(PurchaseOrder).values("buyer")
        return Organisation.objects.filter(
            Q(pk__in=served) | Q(pk__in=on_orders), kind=OrganisationKind.BUYER
        ).order_by("name")


# --- filters -----------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_between(start: date, end: date) -> list[date]:
    months, current = [], month_start(start)
    while current <= end:
        months.append(current)
        current = add_months(current, 1)
    return months


@dataclass(frozen=True)
class Period:
    """The days the figures cover (both ends included) and the months the trends show."""

    kind: str  # live | month | range
    start: date
    end: date
    trend_start: date  # the first day of the trend chart's first month

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%B %Y}"
        if self.kind == "live":
            return f"Live: {self.start:%d %b %Y} to today ({self.end:%d %b %Y})"
        return f"{self.start:%d %b %Y} to {self.end:%d %b %Y}"

    @property
    def months(self) -> list[date]:
        return months_between(self.trend_start, self.end)

    def moment(self, day: date) -> datetime:
        """Midnight at the start of `day`, in the current (viewer's) time zone."""
        return timezone.make_aware(datetime.combine(day, time.min))

    @property
    def starts_at(self) -> datetime:
        return self.moment(self.start)

    @property
    def ends_at(self) -> datetime:
        """The end of the period; now, for a period that has not ended yet."""
        return min(self.moment(self.end + timedelta(days=1)), timezone.now())

    @property
    def previous(self) -> "Period | None":
        """The month before a monthly view's (what its figures are compared with)."""
        if self.kind != "month":
            return None
        first = add_months(self.start, -1)
        return Period("month", first, month_end(first), add_months(first, 1 - TREND_MONTHS))


@dataclass(frozen=True)
class DashboardFilters:
    """What the dashboard is narrowed to. `errors` name the filter and the rule; when there are
    any, the dashboard shows them and nothing else."""

    period: Period
    supplier: Supplier | None = None
    category: str = ""
    market: str = ""
    buyer: Organisation | None = None
    errors: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)  # the query as given, for the form and the links

    def query(self, **changes) -> str:
        from urllib.parse import urlencode

        values = {k: v for k, v in {**self.raw, **changes}.items() if v}
        return urlencode(values)


FILTER_NAMES = ("period", "from", "to", "supplier", "category", "market", "buyer")


def _parse_day(name: str, value: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: {value!r} is not a date (YYYY-MM-DD).")
        return None


def _parse_month(value: str, errors: list[str]) -> date | None:
    try:
        year, month = value.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return date(int(year), int(month), 1)
    except ValueError:
        errors.append(f"period: {value!r} is not a calendar month (YYYY-MM) or 'live'.")
        return None


def _parse_period(raw: dict, today: date, errors: list[str]) -> Period:
    live = Period("live", add_months(today, 1 - TREND_MONTHS), today, add_months(today, 1 - 12))
    chosen, start_text, end_text = raw.get("period", ""), raw.get("from", ""), raw.get("to", "")
    if chosen not in {"", "live", "range"}:
        if start_text or end_text:
            errors.append("period: choose a month or from/to dates, not both.")
            return live
        first = _parse_month(chosen, errors)
        if first is None:
            return live
        if first > today:
            errors.append(f"period: {chosen} has not begun yet (today is {today:%Y-%m-%d}).")
            return live
        return Period("month", first, min(month_end(first), today), add_months(first, -11))
    if not (start_text or end_text):
        return live
    start = _parse_day("from", start_text, errors) if start_text else live.start
    end = _parse_day("to", end_text, errors) if end_text else today
    if start is None or end is None:
        return live
    if end > today:
        errors.append(f"to: {end:%Y-%m-%d} is after today ({today:%Y-%m-%d}).")
    elif start > end:
        errors.append(f"from: {start:%Y-%m-%d} is after to ({end:%Y-%m-%d}).")
    elif len(months_between(start, end)) > MAX_RANGE_MONTHS:
        errors.append(f"from/to: at most {MAX_RANGE_MONTHS} months at a time.")
    if errors:
        return live
    return Period("range", start, end, month_start(start))


def parse_filters(query, scope: Scope, today: date | None = None) -> DashboardFilters:
    """The filters of a GET query. Unknown values are errors naming the filter: a supplier or
    buyer outside the user's program reads the same as one that does not exist."""
    today = today or timezone.localdate()
    raw = {name: (query.get(name) or "").strip()[:40] for name in FILTER_NAMES}
    errors: list[str] = []
    period = _parse_period(raw, today, errors)
    supplier = buyer = None
    if raw["supplier"]:
        supplier = _one_of(scope.of(Supplier), raw["supplier"])
        if supplier is None:
            errors.append(f"supplier: no supplier #{raw['supplier']} in your program.")
    if raw["category"] and raw["category"] not in ProductCategory.values:
        names = ", ".join(ProductCategory.values)
        errors.append(f"category: {raw['category']!r} is not a product category ({names}).")
    if raw["market"] and raw["market"] not in markets():
        errors.append(f"market: {raw['market']!r} is not a market (EU or an ISO country code).")
    if raw["buyer"]:
        buyer = _one_of(scope.buyers(), raw["buyer"])
        if buyer is None:
            errors.append(f"buyer: no buyer #{raw['buyer']} among the clients you serve.")
    return DashboardFilters(
        period=period,
        supplier=supplier,
        category=raw["category"] if raw["category"] in ProductCategory.values else "",
        market=raw["market"],
        buyer=buyer,
        errors=errors,
        raw=raw,
    )


def _one_of(queryset: QuerySet, pk: str):
    if not pk.isdigit():
        return None
    return queryset.filter(pk=int(pk)).first()


def month_filters(month: date, **narrowed) -> DashboardFilters:
    """The monthly view of `month` (its first day), as the snapshot email reads it."""
    end = min(month_end(month), timezone.localdate())
    period = Period("month", month, end, add_months(month, 1 - TREND_MONTHS))
    return DashboardFilters(period=period, raw={"period": f"{month:%Y-%m}"}, **narrowed)


# --- the figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """The figures at the top of the dashboard, for one period."""

    pos_in_production: int  # open POs, today
    inspections: int  # milestones published (inspected) in the period
    pos_inspected: int
    failed: int
    units: int  # units inspected for defects
    critical: int  # critical defects found (at any milestone)
    major: RateEstimate
    minor: RateEstimate
    reports_overdue: int
    open_capas: int
    capas_open_after_psi: int
    escalations: int
    escalations_unacknowledged: int
    mean_hours_to_acknowledge: float | None
    active_flags: int


# The milestone's plan, sample draw and verdict detail (kilobytes of JSON a row): a list
# that names the milestone needs none of them, and sorting thousands of rows carries them.
MILESTONE_BULK = ("milestone__sampling", "milestone__sample_draw", "milestone__result_detail")


@dataclass(frozen=True)
class RowList:
    """The first rows of a list, and how many there are in all."""

    rows: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True)
class TrendRow:
    month: date | None  # None: the period's total
    supplier: str
    inspections: int
    units: int
    critical: int
    major: RateEstimate
    minor: RateEstimate
    failed: int = 0


@dataclass(frozen=True)
class DriftRow:
    """A supplier's month above its own p-chart's upper (3-sigma) limit."""

    supplier_id: int
    supplier: str
    defect_class: str
    month: date
    units: int
    found: int
    rate: float  # per 100 units
    upper_limit: float
    centre: float


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 1)


def _change(now, before):
    if now is None or before is None:
        return None
    return round(now - before, 2)


def _still_open_after_psi(period: Period) -> Q:
    """Opened at the IPC or the DUPRO of a PO whose PSI was done before the end of the period:
    an open CAPA the buyer should hear of before shipping. Both conditions are semi-joins
    (`EXISTS`), which the planner runs as hash joins, not per row."""
    psi_done = Milestone.objects.filter(
        po=OuterRef("po"), kind=MilestoneKind.PSI, submitted_at__lt=period.ends_at
    )
    before_psi = Milestone.objects.filter(
        pk=OuterRef("milestone"), kind__in=[MilestoneKind.IPC, MilestoneKind.DUPRO]
    )
    return Q(Exists(psi_done)) & Q(Exists(before_psi))


def _marked(capas: QuerySet, after_psi: bool, limit: int | None) -> list:
    rows = list(capas if limit is None else capas[:limit])
    for capa in rows:
        capa.after_psi = after_psi
    return rows


class Dashboard:
    """The dashboard of one scope under one set of filters. Each section is computed when
    first asked for: an export of one table runs only that table's queries."""

    def __init__(self, scope: Scope, filters: DashboardFilters, limit: int | None = LIST_LIMIT):
        if filters.errors:
            raise ValueError(f"the filters have errors: {filters.errors}")
        self.scope = scope
        self.filters = filters
        self.period = filters.period
        self.limit = limit

    # -- querysets narrowed by the filters --

    def rows(self, model) -> QuerySet:
        paths = _PATHS[model]
        queryset = self.scope.of(model)
        f = self.filters
        if f.buyer is not None:
            queryset = queryset.filter(**{paths["buyer"]: f.buyer})
        if f.supplier is not None:
            queryset = queryset.filter(**{paths["supplier"]: f.supplier})
        if f.market:
            queryset = queryset.filter(**{paths["market"]: f.market})
        if f.category:
            if model is MilestoneTally:
                queryset = queryset.filter(category=f.category)
            else:
                lines = POLine.objects.filter(
                    po=OuterRef(_PO_OF[model]), product__category=f.category
                )
                queryset = queryset.filter(Exists(lines))
        return queryset

    def tallies(self, period: Period | None = None) -> QuerySet:
        period = period or self.period
        return self.rows(MilestoneTally).filter(
            inspected_on__gte=period.start, inspected_on__lte=period.end
        )

    # -- headline --

    @cached_property
    def headline(self) -> Headline:
        return self._headline(self.period)

    @cached_property
    def previous(self) -> Headline | None:
        previous = self.period.previous
        return self._headline(previous) if previous else None

    def _headline(self, period: Period) -> Headline:
        sampled = Q(sampled_units__gt=0)
        totals = self.tallies(period).aggregate(
            inspections=Count("pk"),
            pos=Count("po", distinct=True),
            failed=Count("pk", filter=Q(result="fail")),
            units=Sum("sampled_units"),
            critical=Sum("critical"),
            major=Sum("major", filter=sampled),
            minor=Sum("minor", filter=sampled),
        )
        units = totals["units"] or 0
        escalations = self._escalations(period).aggregate(
            raised=Count("pk"),
            unacknowledged=Count("pk", filter=Q(acknowledged_at__isnull=True)),
            mean=Avg(_time_to_acknowledge()),
        )
        open_capas = self._open_capas(period)
        after_psi = open_capas.filter(_still_open_after_psi(period))
        return Headline(
            pos_in_production=self.in_production().count(),
            inspections=totals["inspections"],
            pos_inspected=totals["pos"],
            failed=totals["failed"],
            units=units,
            critical=totals["critical"] or 0,
            major=estimate(totals["major"] or 0, units),
            minor=estimate(totals["minor"] or 0, units),
            reports_overdue=self._reports_overdue(period).count(),
            open_capas=open_capas.count(),
            capas_open_after_psi=after_psi.count(),
            escalations=escalations["raised"],
            escalations_unacknowledged=escalations["unacknowledged"],
            mean_hours_to_acknowledge=_hours(escalations["mean"]),
            active_flags=self._flags(period).count(),
        )

    def in_production(self) -> QuerySet:
        return self.rows(PurchaseOrder).filter(status=POStatus.OPEN)

    @cached_property
    def stages(self) -> list[tuple[str, int]]:
        """Open POs by their next milestone: the first one neither published nor cancelled
        (as on the home page and in the PO list), "All done" when none is left."""
        counts = dict(
            self.in_production()
            .annotate(stage=current_stage())
            .order_by()
            .values_list("stage")
            .annotate(n=Count("pk"))
        )
        labels = [(kind.value, kind.value) for kind in MILESTONE_ORDER] + [(None, "All done")]
        return [(label, counts.get(kind, 0)) for kind, label in labels]

    # -- reports, CAPAs, escalations, flags (period-bound querysets) --

    def _reports_overdue(self, period: Period) -> QuerySet:
        """Live: unpublished past their deadline now. A month or a range: due within it and
        published late, or not at all."""
        reports = self.rows(Report)
        now = timezone.now()
        if period.kind == "live":
            return reports.filter(published_at__isnull=True, due_at__lt=now)
        due = reports.filter(due_at__gte=period.starts_at, due_at__lt=period.ends_at)
        return due.filter(
            Q(published_at__gt=F("due_at")) | Q(published_at__isnull=True, due_at__lt=now)
        )

    def _open_capas(self, period: Period) -> QuerySet:
        """Open at the end of the period (now, live)."""
        at = period.ends_at
        capas = self.rows(CorrectiveAction)
        if period.kind == "live":
            return capas.filter(status__in=OPEN_STATUSES)
        return capas.filter(opened_at__lt=at).filter(
            Q(closed_at__isnull=True) | Q(closed_at__gte=at)
        )

    def _escalations(self, period: Period) -> QuerySet:
        return self.rows(Escalation).filter(
            raised_at__gte=period.starts_at, raised_at__lt=period.ends_at
        )

    def _flags(self, period: Period) -> QuerySet:
        """Live: the flags standing now. A month or a range: those raised within it (still
        standing or cleared since)."""
        flags = self.rows(TrendFlag)
        rising = Q(escalating=True) | Q(projected=True)
        if period.kind == "live":
            return flags.filter(rising, cleared_at__isnull=True)
        return flags.filter(rising, raised_at__gte=period.starts_at, raised_at__lt=period.ends_at)

    def _limited(self, queryset: QuerySet, counted: str) -> RowList:
        """The first rows of a list. Its length is the headline's figure `counted` (the same
        rows, counted once for the page)."""
        if self.limit is None:
            rows = list(queryset)
            return RowList(rows, len(rows))
        return RowList(list(queryset[: self.limit]), getattr(self.headline, counted))

    @cached_property
    def reports_overdue(self) -> RowList:
        return self._limited(
            self._reports_overdue(self.period)
            .select_related("po__supplier", "po__qc_lead", "milestone")
            .defer(*MILESTONE_BULK)
            .order_by("due_at", "pk"),
            "reports_overdue",
        )

    @cached_property
    def open_capas(self) -> RowList:
        """Those still open after the PSI first, then by due date. Two plain queries rather
        than one sorted on a per-row subquery: at tens of thousands of open CAPAs the sort
        on `EXISTS` costs several times the rest of the section."""
        after_psi = _still_open_after_psi(self.period)
        capas = (
            self._open_capas(self.period)
            .select_related("po", "supplier", "milestone")
            .defer(*MILESTONE_BULK)
            .order_by("due_on", "pk")
        )
        first = _marked(capas.filter(after_psi), True, self.limit)
        rest = None if self.limit is None else self.limit - len(first)
        others = _marked(capas.exclude(after_psi), False, rest) if rest != 0 else []
        rows = first + others
        return RowList(rows, len(rows) if self.limit is None else self.headline.open_capas)

    @cached_property
    def escalations(self) -> RowList:
        return self._limited(
            self._escalations(self.period)
            .select_related("po", "supplier")
            .order_by("-raised_at", "-pk"),
            "escalations",
        )

    @cached_property
    def flags(self) -> RowList:
        return self._limited(
            self._flags(self.period)
            .select_related("po", "supplier")
            .order_by("p_value", "-raised_at", "pk"),
            "active_flags",
        )

    # -- monthly series --

    def _trend_tallies(self) -> QuerySet:
        return self.rows(MilestoneTally).filter(
            inspected_on__gte=self.period.trend_start, inspected_on__lte=self.period.end
        )

    @cached_property
    def _supplier_months(self) -> list[dict]:
        sampled = Q(sampled_units__gt=0)
        return list(
            self._trend_tallies()
            .annotate(month=TruncMonth("inspected_on"))
            .values("supplier", "month")
            .annotate(
                inspections=Count("pk"),
                failed=Count("pk", filter=Q(result="fail")),
                units=Sum("sampled_units"),
                critical=Sum("critical"),
                major=Sum("major", filter=sampled),
                minor=Sum("minor", filter=sampled),
            )
            .order_by()
        )

    @cached_property
    def supplier_names(self) -> dict[int, str]:
        ids = {row["supplier"] for row in self._supplier_months}
        return dict(self.scope.of(Supplier).filter(pk__in=ids).values_list("pk", "name"))

    @cached_property
    def top_suppliers(self) -> list[int]:
        """The suppliers with the most units inspected in the trend's months."""
        units: dict[int, int] = {}
        for row in self._supplier_months:
            units[row["supplier"]] = units.get(row["supplier"], 0) + (row["units"] or 0)
        ranked = sorted(units, key=lambda s: (-units[s], self.supplier_names.get(s, "")))
        return ranked[:TOP_SUPPLIERS]

    @cached_property
    def program_trend(self) -> list[TrendRow]:
        """The whole program's defect rates, month by month (every month shown, even empty)."""
        return [
            _trend_row(month, ALL_SUPPLIERS, rows)
            for month, rows in _by_month(self._supplier_months, self.period.months).items()
        ]

    @cached_property
    def supplier_trend(self) -> list[TrendRow]:
        """Month by month, each of the suppliers inspected (every one, for the export)."""
        rows = []
        for row in sorted(
            self._supplier_months,
            key=lambda r: (r["month"], self.supplier_names.get(r["supplier"], "")),
        ):
            name = self.supplier_names.get(row["supplier"], f"#{row['supplier']}")
            rows.append(_trend_row(row["month"], name, [row]))
        return rows

    @cached_property
    def drifting(self) -> list[DriftRow]:
        """Suppliers drifting up, the month furthest above its limit first (from the monthly
        sums the trend chart reads: no query of its own)."""
        latest = {f"{month:%Y-%m}" for month in self.period.months[-DRIFT_MONTHS:]}
        by_supplier: dict[int, list[dict]] = {}
        for row in self._supplier_months:
            by_supplier.setdefault(row["supplier"], []).append(row)
        drifts = []
        for supplier, rows in by_supplier.items():
            months = [(f"{m:%Y-%m}", rs) for m, rs in _by_month(rows, self.period.months).items()]
            if sum(1 for _, rs in months if any(r["units"] for r in rs)) < MIN_CHART_MONTHS:
                continue
            name = self.supplier_names.get(supplier, f"#{supplier}")
            for defect_class in DRIFT_CLASSES:
                chart = p_chart(
                    [
                        (
                            label,
                            sum(r["units"] or 0 for r in rs),
                            sum(r[defect_class] or 0 for r in rs),
                        )
                        for label, rs in months
                    ]
                )
                drifts += [
                    DriftRow(
                        supplier_id=supplier,
                        supplier=name,
                        defect_class=defect_class,
                        month=date.fromisoformat(f"{point.label}-01"),
                        units=point.units,
                        found=point.found,
                        rate=point.rate,
                        upper_limit=point.upper_limit,
                        centre=chart.centre,
                    )
                    for point in chart.signals
                    if point.label in latest and point.rate > chart.centre
                ]
        return sorted(drifts, key=lambda d: (d.upper_limit - d.rate, d.supplier, d.defect_class))

    @cached_property
    def chart_series(self) -> list[tuple[str, list[TrendRow]]]:
        """The chart's lines: the top suppliers, the others summed, and the whole program."""
        months = self.period.months
        series = []
        top = set(self.top_suppliers)
        for supplier in self.top_suppliers:
            mine = [r for r in self._supplier_months if r["supplier"] == supplier]
            name = self.supplier_names.get(supplier, f"#{supplier}")
            series.append(
                (name, [_trend_row(m, name, rs) for m, rs in _by_month(mine, months).items()])
            )
        others = [r for r in self._supplier_months if r["supplier"] not in top]
        if others:
            grouped = _by_month(others, months).items()
            series.append(
                (OTHER_SUPPLIERS, [_trend_row(m, OTHER_SUPPLIERS, rs) for m, rs in grouped])
            )
        series.append((ALL_SUPPLIERS, self.program_trend))
        return series

    @cached_property
    def supplier_totals(self) -> RowList:
        """Each supplier over the period (not the trend's twelve months), most units first."""
        sampled = Q(sampled_units__gt=0)
        grouped = list(
            self.tallies()
            .values("supplier", "supplier__name")
            .annotate(
                inspections=Count("pk"),
                failed=Count("pk", filter=Q(result="fail")),
                units=Sum("sampled_units"),
                critical=Sum("critical"),
                major=Sum("major", filter=sampled),
                minor=Sum("minor", filter=sampled),
            )
            .order_by("-units", "supplier__name")
        )
        rows = [_trend_row(None, row["supplier__name"], [row]) for row in grouped]
        shown = rows if self.limit is None else rows[: self.limit]
        return RowList(shown, len(rows))

    def _raised_by_month(self, rows: QuerySet, empty: dict, **counts) -> list[dict]:
        """`counts` of the rows raised in each month of the trend; `empty` where there are none."""
        in_trend = rows.filter(
            raised_at__gte=self.period.moment(self.period.trend_start),
            raised_at__lt=self.period.ends_at,
        )
        grouped = {
            _as_date(row["month"]): row
            for row in in_trend.annotate(month=TruncMonth("raised_at"))
            .values("month")
            .annotate(**counts)
            .order_by()
        }
        return [
            {"month": month, **empty, **_without_month(grouped.get(month))}
            for month in self.period.months
        ]

    @cached_property
    def escalations_by_month(self) -> list[dict]:
        return self._raised_by_month(
            self.rows(Escalation),
            {"raised": 0, "acknowledged": 0, "critical": 0, "failed": 0, "late": 0, "mean": None},
            raised=Count("pk"),
            acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
            critical=Count("pk", filter=Q(kind="critical")),
            failed=Count("pk", filter=Q(kind="failed")),
            late=Count("pk", filter=Q(kind="late")),
            mean=Avg(_time_to_acknowledge()),
        )

    @cached_property
    def flags_by_month(self) -> list[dict]:
        standing = (Q(escalating=True) | Q(projected=True)) & Q(cleared_at__isnull=True)
        return self._raised_by_month(
            self.rows(TrendFlag),
            {"raised": 0, "standing": 0},
            raised=Count("pk"),
            standing=Count("pk", filter=standing),
        )

    # -- the tables: what the page shows and the files hold --

    TABLE_NAMES = (
        "headline",
        "po-per-milestone",
        "program-trend",
        "supplier-defects",
        "defect-trends",
        "reports-overdue",
        "open-capas",
        "escalations-by-month",
        "escalations",
        "trend-flags",
        "drifting-suppliers",
        "flag-history",
    )

    def table(self, name: str) -> Table:
        if name not in self.TABLE_NAMES:
            raise Http404(f"No table {name!r} on the dashboard.")
        return getattr(self, "_table_" + name.replace("-", "_"))()

    def tables(self) -> list[Table]:
        return [self.table(name) for name in self.TABLE_NAMES]

    def _table_headline(self) -> Table:
        now, before = self.headline, self.previous
        columns = ["Figure", self.period.label]
        if before:
            columns += [f"{self.period.previous.label}", "Change"]
        rows = []
        for label, key in HEADLINE_FIGURES:
            value = _figure(now, key)
            row = [label, value]
            if before:
                row += [_figure(before, key), _change(value, _figure(before, key))]
            rows.append(row)
        return Table("headline", "Headline figures", columns, rows)

    def _table_po_per_milestone(self) -> Table:
        return Table(
            "po-per-milestone",
            "Open POs by next milestone",
            ["Next milestone", "Open POs (today)"],
            [[label, n] for label, n in self.stages],
        )

    def _table_program_trend(self) -> Table:
        return _trend_table(
            "program-trend", "Program defect rate by month", self.program_trend, supplier=False
        )

    def _table_defect_trends(self) -> Table:
        rows = self.program_trend + self.supplier_trend
        return _trend_table("defect-trends", "Defect rates by supplier and month", rows)

    def _table_supplier_defects(self) -> Table:
        return _trend_table(
            "supplier-defects", "Defect rates by supplier", self.supplier_totals.rows, month=False
        )

    def _table_reports_overdue(self) -> Table:
        now = timezone.now()
        rows = [
            [
                r.po.number,
                r.po.supplier.name,
                r.milestone.label if r.milestone else "PO summary",
                str(r.po.qc_lead or ""),
                r.due_at,
                r.published_at,
                _hours((r.published_at or now) - r.due_at),
            ]
            for r in self.reports_overdue.rows
        ]
        columns = ["PO", "Supplier", "Report", "QC lead", "Due (UTC)", "Published (UTC)"]
        return Table("reports-overdue", "Reports overdue", [*columns, "Hours late"], rows)

    def _table_open_capas(self) -> Table:
        rows = [
            [
                c.reference,
                c.po.number,
                c.supplier.name,
                c.severity,
                c.get_status_display().split(":")[0],
                c.title,
                c.milestone.kind,
                c.opened_at,
                c.due_on,
                "yes" if c.after_psi else "",
            ]
            for c in self.open_capas.rows
        ]
        columns = ["CAPA", "PO", "Supplier", "Severity", "Status", "Finding", "Opened at"]
        columns += ["Opened (UTC)", "Answer due", "Still open after PSI"]
        return Table("open-capas", "Open CAPAs", columns, rows)

    def _table_escalations_by_month(self) -> Table:
        rows = [
            [
                m["month"].strftime("%Y-%m"),
                m["raised"],
                m["critical"],
                m["failed"],
                m["late"],
                m["acknowledged"],
                _hours(m["mean"]),
            ]
            for m in self.escalations_by_month
        ]
        columns = ["Month", "Raised", "Critical finding", "Milestone failed", "Production late"]
        columns += ["Acknowledged", "Mean hours to acknowledge"]
        return Table("escalations-by-month", "Escalations by month", columns, rows)

    def _table_escalations(self) -> Table:
        rows = [
            [
                e.raised_at,
                e.get_kind_display(),
                e.po.number,
                e.supplier.name,
                e.title,
                e.acknowledged_at,
                _hours(e.acknowledged_at - e.raised_at) if e.acknowledged_at else None,
            ]
            for e in self.escalations.rows
        ]
        columns = ["Raised (UTC)", "Kind", "PO", "Supplier", "What", "Acknowledged (UTC)"]
        return Table("escalations", "Escalations", [*columns, "Hours to acknowledge"], rows)

    def _table_trend_flags(self) -> Table:
        rows = [
            [
                f.po.number,
                f.supplier.name,
                f.defect_class,
                f.code_name or f.defect_code or "(all of the class)",
                "escalating" if f.escalating else "",
                "projected over the AQL" if f.projected else "",
                f.strength,
                f.p_value,
                round(f.probability, 4),
                f.explanation,
                f.raised_at,
                f.cleared_at,
            ]
            for f in self.flags.rows
        ]
        columns = ["PO", "Supplier", "Class", "Defect", "Escalating", "Projected"]
        columns += ["Strength", "p-value", "Probability rising", "Explanation", "Raised (UTC)"]
        return Table("trend-flags", "Trend flags", [*columns, "Cleared (UTC)"], rows)

    def _table_drifting_suppliers(self) -> Table:
        rows = [
            [
                d.supplier,
                d.defect_class,
                f"{d.month:%Y-%m}",
                d.units,
                d.found,
                round(d.rate, 2),
                round(d.upper_limit, 2),
                round(d.centre, 2),
            ]
            for d in self.drifting
        ]
        columns = ["Supplier", "Class", "Month", "Units inspected", "Defects", "Per 100 units"]
        columns += ["Upper limit (3 sigma)", "Supplier's centre line"]
        return Table("drifting-suppliers", "Suppliers drifting (p-chart)", columns, rows)

    def _table_flag_history(self) -> Table:
        rows = [
            [m["month"].strftime("%Y-%m"), m["raised"], m["standing"]] for m in self.flags_by_month
        ]
        return Table(
            "flag-history",
            "Trend flags raised by month",
            ["Month", "Raised", "Still standing"],
            rows,
        )

    # -- the charts' data (json_script) --

    def charts(self) -> dict:
        def rate(estimate_: RateEstimate):
            return None if estimate_.rate is None else round(estimate_.rate, 2)

        months = [m.strftime("%Y-%m") for m in self.period.months]
        return {
            "months": months,
            "suppliers": [
                {
                    "name": name,
                    "program": name == ALL_SUPPLIERS,
                    "major": [rate(r.major) for r in rows],
                    "minor": [rate(r.minor) for r in rows],
                    "units": [r.units for r in rows],
                }
                for name, rows in self.chart_series
            ],
            "program": {
                cls: {
                    "rate": [rate(getattr(r, cls)) for r in self.program_trend],
                    "low": [_bound(getattr(r, cls), "low") for r in self.program_trend],
                    "high": [_bound(getattr(r, cls), "high") for r in self.program_trend],
                }
                for cls in ("major", "minor")
            }
            | {"critical": [r.critical for r in self.program_trend]},
            "escalations": [m["raised"] for m in self.escalations_by_month],
            "flags": [m["raised"] for m in self.flags_by_month],
            "stages": [[label, n] for label, n in self.stages],
        }


HEADLINE_FIGURES = [
    ("POs in production (today)", "pos_in_production"),
    ("Inspections published", "inspections"),
    ("POs inspected", "pos_inspected"),
    ("Inspections failed", "failed"),
    ("Units inspected", "units"),
    ("Critical defects", "critical"),
    ("Major defects per 100 units", "major_rate"),
    ("Minor defects per 100 units", "minor_rate"),
    ("Reports overdue", "reports_overdue"),
    ("Open CAPAs", "open_capas"),
    ("CAPAs still open after PSI", "capas_open_after_psi"),
    ("Escalations raised", "escalations"),
    ("Escalations not acknowledged", "escalations_unacknowledged"),
    ("Mean hours to acknowledge", "mean_hours_to_acknowledge"),
    ("Trend flags", "active_flags"),
]


def _figure(headline: Headline, key: str):
    if key.endswith("_rate"):
        value = getattr(headline, key.removesuffix("_rate")).rate
        return None if value is None else round(value, 2)
    return getattr(headline, key)


def _time_to_acknowledge():
    return ExpressionWrapper(F("acknowledged_at") - F("raised_at"), output_field=DurationField())


def _as_date(value) -> date:
    # TruncMonth of a DateTimeField is an aware datetime in the current time zone.
    return timezone.localtime(value).date() if isinstance(value, datetime) else value


def _without_month(row: dict | None) -> dict:
    return {k: v for k, v in (row or {}).items() if k != "month"}


def _by_month(rows: list[dict], months: list[date]) -> dict[date, list[dict]]:
    grouped: dict[date, list[dict]] = {month: [] for month in months}
    for row in rows:
        grouped.setdefault(_as_date(row["month"]), []).append(row)
    return grouped


def _trend_row(month, supplier: str, rows: list[dict]) -> TrendRow:
    def total(key):
        return sum(r[key] or 0 for r in rows)

    units = total("units")
    return TrendRow(
        month=month,
        supplier=supplier,
        inspections=total("inspections"),
        units=units,
        critical=total("critical"),
        major=estimate(total("major"), units),
        minor=estimate(total("minor"), units),
        failed=total("failed"),
    )


def _bound(rate: RateEstimate, which: str):
    return None if rate.rate is None else round(getattr(rate, which), 2)


def _rounded(value):
    return None if value is None else round(value, 2)


def _trend_table(
    name: str, title: str, rows: list[TrendRow], month: bool = True, supplier: bool = True
) -> Table:
    columns = (["Month"] if month else []) + (["Supplier"] if supplier else [])
    columns += ["Inspections", "Failed", "Units"]
    columns += ["Critical", "Major", "Major per 100", "Major 95% low", "Major 95% high"]
    columns += ["Minor", "Minor per 100", "Minor 95% low", "Minor 95% high"]
    body = []
    for r in rows:
        cells = [r.month.strftime("%Y-%m")] if month else []
        cells += [r.supplier] if supplier else []
        cells += [r.inspections, r.failed, r.units, r.critical]
        for rate in (r.major, r.minor):
            cells += [rate.found, _rounded(rate.rate), _bound(rate, "low"), _bound(rate, "high")]
        body.append(cells)
    return Table(name, title, columns, body)
