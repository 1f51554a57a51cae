"""Supplier scorecards from the database: the facts `scorecard_logic` judges a supplier on.

Everything is an aggregate query through the tenancy gates: defect figures sum the
`MilestoneTally` rows (one per published milestone, never the defect records), grouped by
supplier, factory, category or month in SQL; CAPA closure times come back as a histogram of
days, so the median needs no row per CAPA. The list of suppliers runs one grouped query per
figure, never one per supplier.

Who sees what: a buyer's people see their own suppliers; an agency's coordinators, QC leads
and admins see the suppliers they serve, with the figures of the POs their agency monitors;
a supplier's own users see their own scorecard only (how they are judged), without the
escalations (the buyer's, not shown to suppliers). Inspectors have no scorecards."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate, TruncMonth
from django.http import Http404
from django.utils import timezone

from qcloop.accounts.selectors import is_agency_staff
from qcloop.alerts.models import Escalation
from qcloop.capa.models import OPEN_STATUSES, CapaStatus, CorrectiveAction
from qcloop.core.reference import ProductCategory
from qcloop.core.tenancy import for_user
from qcloop.inspections.models import MilestoneKind
from qcloop.orders.models import Factory, POLine, Supplier
from qcloop.reports.summary_logic import LATE_GRACE_DAYS

from .dashboard import MAX_RANGE_MONTHS, add_months, months_between
from .exports import Table
from .models import MilestoneTally, TrendFlag
from .scorecard_logic import (
    CHART_CLASSES,
    CLASSES,
    DEFAULT_SORT,
    SORTS,
    CapaCounts,
    DefectCounts,
    LotFacts,
    MonthCounts,
    Score,
    ScoreFacts,
    chart_data,
    factory_charts,
    rank,
    score,
)
from .stats import RateEstimate

# The default period: the current calendar month and the eleven before it.
DEFAULT_MONTHS = 12
# Lists on the page; the exports hold every row.
LIST_LIMIT = 25


def may_see_scorecards(user) -> bool:
    membership = user.membership if user.is_authenticated else None
    if membership is None:
        return False
    return membership.is_buyer or membership.is_supplier or is_agency_staff(user)


def sees_escalations(user) -> bool:
    """Escalations are the buyer's: a supplier's users are not shown them (alerts.selectors)."""
    return not user.membership.is_supplier


# --- filters -----------------------------------------------------------------------------------

FILTER_NAMES = ("from", "to", "category", "sort")


@dataclass(frozen=True)
class ScorecardFilters:
    """The period (both days included), the product category and the order of the list.
    `errors` name the filter and the rule; with any, the page shows them and no figures."""

    start: date
    end: date
    category: str = ""
    sort: str = DEFAULT_SORT
    errors: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.start:%d %b %Y} to {self.end:%d %b %Y}"

    @property
    def category_label(self) -> str:
        return ProductCategory(self.category).label if self.category else "All categories"

    @property
    def months(self) -> list[date]:
        return months_between(self.start, self.end)

    @property
    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def ends_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def query(self, **changes) -> str:
        values = {k: v for k, v in {**self.raw, **changes}.items() if v}
        return urlencode(values)


def default_start(today: date) -> date:
    return add_months(today, 1 - DEFAULT_MONTHS)


def parse_filters(query, today: date | None = None) -> ScorecardFilters:
    today = today or timezone.localdate()
    raw = {name: (query.get(name) or "").strip()[:40] for name in FILTER_NAMES}
    errors: list[str] = []
    start = _day("from", raw["from"], errors) if raw["from"] else default_start(today)
    end = _day("to", raw["to"], errors) if raw["to"] else today
    if start and end:
        if start > end:
            errors.append(f"from: {start:%Y-%m-%d} is after to ({end:%Y-%m-%d}).")
        elif len(months_between(start, end)) > MAX_RANGE_MONTHS:
            errors.append(f"from/to: at most {MAX_RANGE_MONTHS} months at a time.")
    if raw["category"] and raw["category"] not in ProductCategory.values:
        names = ", ".join(ProductCategory.values)
        errors.append(f"category: {raw['category']!r} is not a product category ({names}).")
    if raw["sort"] and raw["sort"] not in SORTS:
        errors.append(f"sort: {raw['sort']!r} is not a way to sort ({', '.join(SORTS)}).")
    return ScorecardFilters(
        start=start or default_start(today),
        end=end or today,
        category=raw["category"] if raw["category"] in ProductCategory.values else "",
        sort=raw["sort"] if raw["sort"] in SORTS else DEFAULT_SORT,
        errors=errors,
        raw=raw,
    )


def _day(name: str, value: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name}: {value!r} is not a date (YYYY-MM-DD).")
        return None


# --- the aggregates ----------------------------------------------------------------------------

_PSI = Q(kind=MilestoneKind.PSI)
_SAMPLED = Q(sampled_units__gt=0)
_FIRST_PSI = Q(kind=MilestoneKind.PSI, sequence=1)
# The first PSI inspected by the planned ex-factory date, with the grace the PO summary allows
# before it calls production late.
_ON_TIME = Q(inspected_on__lte=F("po__ex_factory_date") + timedelta(days=LATE_GRACE_DAYS))


def _tally_aggregates() -> dict:
    aggregates = {
        "psi_lots": Count("pk", filter=_PSI & _SAMPLED),
        "psi_units": Sum("sampled_units", filter=_PSI & _SAMPLED),
        "all_lots": Count("pk", filter=_SAMPLED),
        "all_units": Sum("sampled_units", filter=_SAMPLED),
        "first_psis": Count("pk", filter=_FIRST_PSI),
        "decided": Count("pk", filter=_FIRST_PSI & Q(result__in=["pass", "fail"])),
        "passed": Count("pk", filter=_FIRST_PSI & Q(result="pass")),
        "on_time": Count("pk", filter=_FIRST_PSI & _ON_TIME),
        "pos": Count("po", distinct=True),
    }
    for name in CLASSES:
        aggregates[f"psi_{name}"] = Sum(name, filter=_PSI & _SAMPLED)
        aggregates[f"all_{name}"] = Sum(name, filter=_SAMPLED)
    return aggregates


def _counts(row: dict, prefix: str) -> DefectCounts:
    return DefectCounts(
        lots=row[f"{prefix}_lots"] or 0,
        units=row[f"{prefix}_units"] or 0,
        **{name: row[f"{prefix}_{name}"] or 0 for name in CLASSES},
    )


def _lots(row: dict) -> LotFacts:
    return LotFacts(
        first_psis=row["first_psis"],
        decided=row["decided"],
        passed=row["passed"],
        on_time=row["on_time"],
        pos=row["pos"],
    )


def _grouped(queryset: QuerySet, group: str | None, **aggregates) -> dict:
    """{group value: row} of the aggregates, one SQL query; group None: the one total row."""
    if group is None:
        return {None: queryset.aggregate(**aggregates)}
    rows = queryset.order_by().values(group).annotate(**aggregates)
    return {row[group]: row for row in rows}


def _closure_days() -> ExpressionWrapper:
    # Calendar days in the viewer's time zone: whole days group on both databases.
    return ExpressionWrapper(
        TruncDate("closed_at") - TruncDate("opened_at"), output_field=DurationField()
    )


class _Figures:
    """The grouped queries both pages run, over one user's gates and one set of filters."""

    def __init__(self, user, filters: ScorecardFilters, supplier: Supplier | None = None):
        if filters.errors:
            raise ValueError(f"the filters have errors: {filters.errors}")
        self.user = user
        self.filters = filters
        self.supplier = supplier
        self.today = timezone.localdate()

    def _of_po_category(self, queryset: QuerySet) -> QuerySet:
        if self.supplier is not None:
            queryset = queryset.filter(supplier=self.supplier)
        if self.filters.category:
            lines = POLine.objects.filter(
                po=OuterRef("po"), product__category=self.filters.category
            )
            queryset = queryset.filter(Exists(lines))
        return queryset

    def tallies(self) -> QuerySet:
        f = self.filters
        queryset = for_user(MilestoneTally, self.user).filter(
            inspected_on__gte=f.start, inspected_on__lte=f.end
        )
        if self.supplier is not None:
            queryset = queryset.filter(supplier=self.supplier)
        if f.category:
            queryset = queryset.filter(category=f.category)
        return queryset

    def capas(self) -> QuerySet:
        f = self.filters
        queryset = for_user(CorrectiveAction, self.user).filter(
            opened_at__gte=f.starts_at, opened_at__lt=f.ends_at
        )
        return self._of_po_category(queryset)

    def escalations(self) -> QuerySet:
        if not sees_escalations(self.user):
            return Escalation.objects.none()
        f = self.filters
        queryset = for_user(Escalation, self.user).filter(
            raised_at__gte=f.starts_at, raised_at__lt=f.ends_at
        )
        return self._of_po_category(queryset)

    def active_flags(self) -> QuerySet:
        """Standing now (not bound to the period): rising or projected, not cleared."""
        rising = Q(escalating=True) | Q(projected=True)
        flags = for_user(TrendFlag, self.user).filter(rising, cleared_at__isnull=True)
        return self._of_po_category(flags)

    # -- grouped --

    def tally_rows(self, group: str | None) -> dict:
        return _grouped(self.tallies(), group, **_tally_aggregates())

    def capa_counts(self, group: str | None) -> dict[object, CapaCounts]:
        rows = _grouped(
            self.capas(),
            group,
            opened=Count("pk"),
            still_open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            past_due=Count("pk", filter=Q(status=CapaStatus.OPEN, due_on__lt=self.today)),
            recurrences=Count("pk", filter=Q(recurrence_of__isnull=False)),
        )
        histograms: dict[object, dict[int, int]] = {}
        closed = self.capas().filter(status=CapaStatus.CLOSED, closed_at__isnull=False)
        keys = [group] if group else []
        for row in (
            closed.annotate(days=_closure_days())
            .order_by()
            .values(*keys, "days")
            .annotate(n=Count("pk"))
        ):
            days = row["days"].days if isinstance(row["days"], timedelta) else int(row["days"])
            bucket = histograms.setdefault(row[group] if group else None, {})
            bucket[days] = bucket.get(days, 0) + row["n"]
        return {
            key: CapaCounts(
                opened=row["opened"],
                still_open=row["still_open"],
                open_past_due=row["past_due"],
                recurrences=row["recurrences"],
                closure_days=histograms.get(key, {}),
            )
            for key, row in rows.items()
            if row["opened"]
        }

    def escalation_kinds(self, group: str | None) -> dict[object, dict[str, int]]:
        keys = [group] if group else []
        by_key: dict[object, dict[str, int]] = {}
        for row in self.escalations().order_by().values(*keys, "kind").annotate(n=Count("pk")):
            by_key.setdefault(row[group] if group else None, {})[row["kind"]] = row["n"]
        return by_key

    def flag_counts(self, group: str | None) -> dict[object, int]:
        return {
            key: row["n"]
            for key, row in _grouped(self.active_flags(), group, n=Count("pk")).items()
        }


# --- all of a user's suppliers side by side ----------------------------------------------------


class Scorecards:
    """Every supplier the user sees with a published milestone in the period, one row each."""

    def __init__(self, user, filters: ScorecardFilters):
        self.figures = _Figures(user, filters)
        self.user = user
        self.filters = filters

    @cached_property
    def scores(self) -> list[Score]:
        figures = self.figures
        tallies = figures.tally_rows("supplier")
        capas = figures.capa_counts("supplier")
        escalations = figures.escalation_kinds("supplier") if sees_escalations(self.user) else None
        flags = figures.flag_counts("supplier")
        names = dict(
            for_user(Supplier, self.user).filter(pk__in=list(tallies)).values_list("pk", "name")
        )
        scores = []
        for pk, row in tallies.items():
            if pk not in names:
                continue
            scores.append(
                score(
                    ScoreFacts(
                        name=names[pk],
                        key=pk,
                        psi=_counts(row, "psi"),
                        sampled=_counts(row, "all"),
                        lots=_lots(row),
                        capas=capas.get(pk, CapaCounts()),
                        escalations=None if escalations is None else escalations.get(pk, {}),
                        active_flags=flags.get(pk, 0),
                    )
                )
            )
        return rank(scores, self.filters.sort)

    @cached_property
    def not_inspected(self) -> int:
        """The user's other suppliers: nothing published in the period (under the filter)."""
        return for_user(Supplier, self.user).exclude(pk__in=[s.key for s in self.scores]).count()

    TABLE_NAMES = ("scorecards",)

    def table(self, name: str) -> Table:
        if name != "scorecards":
            raise Http404(f"No table {name!r} on the scorecards.")
        return _score_table(
            "scorecards",
            "Supplier scorecards",
            "Supplier",
            self.scores,
            with_capas=True,
            with_escalations=sees_escalations(self.user),
        )

    def tables(self) -> list[Table]:
        return [self.table(name) for name in self.TABLE_NAMES]


# --- one supplier ------------------------------------------------------------------------------


class Scorecard:
    """One supplier: its figures, per factory and per category, a p-chart per factory, its
    standing trend flags and the findings that came back."""

    def __init__(self, user, filters: ScorecardFilters, supplier: Supplier):
        self.figures = _Figures(user, filters, supplier)
        self.user = user
        self.filters = filters
        self.supplier = supplier

    @cached_property
    def _factory_rows(self) -> dict:
        return self.figures.tally_rows("factory")

    @cached_property
    def factory_names(self) -> dict:
        return dict(
            for_user(Factory, self.user).filter(supplier=self.supplier).values_list("pk", "name")
        )

    @cached_property
    def total(self) -> Score:
        """The supplier over the period: its factories' tallies summed (a PO is made at one
        factory, so no PO counts twice)."""
        rows = list(self._factory_rows.values())
        figures = self.figures
        capas = figures.capa_counts(None).get(None, CapaCounts())
        escalations = None
        minutes = None
        if sees_escalations(self.user):
            escalations = figures.escalation_kinds(None).get(None, {})
            minutes = self._minutes_to_acknowledge()
        return score(
            ScoreFacts(
                name=self.supplier.name,
                key=self.supplier.pk,
                psi=_sum_counts(_counts(r, "psi") for r in rows),
                sampled=_sum_counts(_counts(r, "all") for r in rows),
                lots=_sum_lots(_lots(r) for r in rows),
                capas=capas,
                escalations=escalations,
                minutes_to_acknowledge=minutes,
                active_flags=len(self.flags),
            )
        )

    def _minutes_to_acknowledge(self) -> dict[float, int]:
        """{minutes: escalations}: one supplier's acknowledged escalations are few."""
        minutes: dict[float, int] = {}
        acknowledged = self.figures.escalations().filter(acknowledged_at__isnull=False)
        for raised, acknowledged_at in acknowledged.values_list("raised_at", "acknowledged_at"):
            value = round(max(0.0, (acknowledged_at - raised).total_seconds() / 60), 1)
            minutes[value] = minutes.get(value, 0) + 1
        return minutes

    @cached_property
    def by_factory(self) -> list[Score]:
        return sorted(
            (
                score(
                    ScoreFacts(
                        name=self.factory_names.get(pk, f"Factory #{pk}"),
                        key=pk,
                        psi=_counts(row, "psi"),
                        sampled=_counts(row, "all"),
                        lots=_lots(row),
                    )
                )
                for pk, row in self._factory_rows.items()
            ),
            key=lambda s: s.name.lower(),
        )

    @cached_property
    def by_category(self) -> list[Score]:
        labels = dict(ProductCategory.choices)
        return sorted(
            (
                score(
                    ScoreFacts(
                        name=labels.get(category, category or "Uncategorised"),
                        key=category,
                        psi=_counts(row, "psi"),
                        sampled=_counts(row, "all"),
                        lots=_lots(row),
                    )
                )
                for category, row in self.figures.tally_rows("category").items()
            ),
            key=lambda s: s.name.lower(),
        )

    @cached_property
    def _monthly(self) -> dict[int, list[MonthCounts]]:
        """Per factory, its sampled milestones month by month (the months with any)."""
        rows = (
            self.figures.tallies()
            .filter(_SAMPLED)
            .annotate(month=TruncMonth("inspected_on"))
            .order_by()
            .values("factory", "month")
            .annotate(
                lots=Count("pk"),
                units=Sum("sampled_units"),
                **{name: Sum(name) for name in CLASSES},
            )
        )
        monthly: dict[int, list[MonthCounts]] = {}
        for row in sorted(rows, key=lambda r: (r["factory"], _as_date(r["month"]))):
            counts = DefectCounts(
                lots=row["lots"],
                units=row["units"] or 0,
                **{name: row[name] or 0 for name in CLASSES},
            )
            month = f"{_as_date(row['month']):%Y-%m}"
            monthly.setdefault(row["factory"], []).append(MonthCounts(month, counts))
        return monthly

    @cached_property
    def charts(self) -> list[dict]:
        """Each factory's p-charts (every chart class), for the page's JSON and the export."""
        charts = []
        for factory in self.by_factory:
            months = self._monthly.get(factory.key, [])
            per_class = factory_charts(months)
            charts.append(
                {
                    "factory": factory.key,
                    "name": factory.name,
                    "charts": per_class,
                }
            )
        return charts

    def chart_json(self) -> dict:
        return {
            "classes": list(CHART_CLASSES),
            "factories": [
                {
                    "id": c["factory"],
                    "name": c["name"],
                    "charts": {k: chart_data(v) for k, v in c["charts"].items()},
                }
                for c in self.charts
            ],
        }

    @cached_property
    def flags(self) -> list[TrendFlag]:
        return list(
            self.figures.active_flags()
            .select_related("po", "milestone")
            .order_by("p_value", "-raised_at", "pk")
        )

    @cached_property
    def recurring(self) -> list[dict]:
        """The findings that came back in the period, most often first."""
        return list(
            self.figures.capas()
            .filter(recurrence_of__isnull=False)
            .order_by()
            .values("finding_key")
            .annotate(
                times=Count("pk"),
                title=Max("title"),
                last_opened=Max("opened_at"),
                pos=Count("po", distinct=True),
            )
            .order_by("-times", "-last_opened", "finding_key")
        )

    # -- the tables --

    TABLE_NAMES = (
        "summary",
        "by-factory",
        "by-category",
        "p-chart",
        "trend-flags",
        "recurring-findings",
    )

    def table(self, name: str) -> Table:
        if name not in self.TABLE_NAMES:
            raise Http404(f"No table {name!r} on the scorecard.")
        return getattr(self, "_table_" + name.replace("-", "_"))()

    def tables(self) -> list[Table]:
        return [self.table(name) for name in self.TABLE_NAMES]

    def _table_summary(self) -> Table:
        return Table(
            "summary",
            "Scorecard",
            ["Figure", "Value", "95% low", "95% high", "Basis"],
            summary_rows(self.total),
        )

    def _table_by_factory(self) -> Table:
        return _score_table("by-factory", "By factory", "Factory", self.by_factory)

    def _table_by_category(self) -> Table:
        return _score_table("by-category", "By category", "Category", self.by_category)

    def _table_p_chart(self) -> Table:
        rows = []
        for chart in self.charts:
            for defect_class in CHART_CLASSES:
                pchart = chart["charts"][defect_class]
                for p in pchart.points:
                    rows.append(
                        [
                            chart["name"],
                            defect_class,
                            p.label,
                            p.units,
                            p.found,
                            round(p.rate, 3),
                            round(pchart.centre, 3),
                            round(p.lower_limit, 3),
                            round(p.upper_limit, 3),
                            "yes" if p.out_of_control else "",
                        ]
                    )
        columns = ["Factory", "Defect class", "Month", "Units", "Defects", "Per 100 units"]
        columns += ["Centre", "Lower limit", "Upper limit", "Out of control"]
        return Table("p-chart", "p-chart by factory and month", columns, rows)

    def _table_trend_flags(self) -> Table:
        rows = [
            [
                f.po.number,
                f.defect_class,
                f.code_name or f.defect_code or "(all of the class)",
                "escalating" if f.escalating else "",
                "projected over the AQL" if f.projected else "",
                f.strength,
                round(f.p_value, 4),
                round(f.probability, 3),
                f.explanation,
                f.raised_at,
            ]
            for f in self.flags
        ]
        columns = ["PO", "Class", "Defect", "Escalating", "Projected", "Strength", "p-value"]
        columns += ["Probability rising", "Explanation", "Raised (UTC)"]
        return Table("trend-flags", "Trend flags standing", columns, rows)

    def _table_recurring_findings(self) -> Table:
        rows = [
            [r["title"], r["finding_key"], r["times"], r["pos"], r["last_opened"]]
            for r in self.recurring
        ]
        columns = ["Finding", "Key", "Recurrences", "POs", "Last opened (UTC)"]
        return Table("recurring-findings", "Findings that came back", columns, rows)


def _sum_counts(counts) -> DefectCounts:
    total = DefectCounts()
    for c in counts:
        total = DefectCounts(
            lots=total.lots + c.lots,
            units=total.units + c.units,
            **{name: getattr(total, name) + getattr(c, name) for name in CLASSES},
        )
    return total


def _sum_lots(lots) -> LotFacts:
    names = ("first_psis", "decided", "passed", "on_time", "pos")
    totals = dict.fromkeys(names, 0)
    for lot in lots:
        for name in names:
            totals[name] += getattr(lot, name)
    return LotFacts(**totals)


def _as_date(value) -> date:
    return timezone.localtime(value).date() if isinstance(value, datetime) else value


def _r(value):
    return None if value is None else round(value, 2)


def _rate_cells(rate: RateEstimate) -> list:
    return [
        rate.found,
        _r(rate.rate),
        _r(rate.low) if rate.units else None,
        _r(rate.high) if rate.units else None,
    ]


def _share_cells(share) -> list:
    return [
        share.part,
        share.whole,
        _r(share.percent),
        _r(share.low) if share.whole else None,
        _r(share.high) if share.whole else None,
    ]


def _score_table(
    name: str,
    title: str,
    what: str,
    scores: list[Score],
    with_capas: bool = False,
    with_escalations: bool = False,
) -> Table:
    columns = [what, "POs inspected", "PSI lots", "PSI units"]
    for cls in CLASSES:
        label = cls.capitalize()
        columns += [f"PSI {cls}", f"PSI {cls} per 100", f"{label} 95% low", f"{label} 95% high"]
    columns += ["Sampled units (all milestones)", "Major per 100 (all)", "Minor per 100 (all)"]
    columns += ["First PSI passed", "First PSIs decided", "First-time pass %", "Pass 95% low"]
    columns += ["Pass 95% high", "First PSI on time", "First PSIs", "On-time %"]
    columns += ["On-time 95% low", "On-time 95% high"]
    if with_capas:
        columns += ["CAPAs opened", "CAPAs still open", "CAPAs open past due"]
        columns += ["CAPA median days to close", "CAPA 90th percentile days", "Recurrences"]
    if with_escalations:
        columns += ["Escalations", "Critical", "Failed", "Late", "Escalations per 10 POs"]
    if with_capas:
        columns += ["Trend flags standing"]
    rows = []
    for s in scores:
        row = [s.name, s.pos, s.psi.lots, s.psi.units]
        for cls in CLASSES:
            row += _rate_cells(s.psi_rate(cls))
        row += [s.sampled.units, _r(s.sampled_major.rate), _r(s.sampled_minor.rate)]
        row += _share_cells(s.first_pass) + _share_cells(s.on_time)
        if with_capas:
            c = s.capas
            row += [c.opened, c.still_open, c.open_past_due, _r(c.closure.median_days)]
            row += [_r(c.closure.p90_days), c.recurrences]
        if with_escalations:
            e = s.escalations
            row += [e.total, e.by_kind["critical"], e.by_kind["failed"], e.by_kind["late"]]
            row += [e.per_ten_pos]
        if with_capas:
            row += [s.active_flags]
        rows.append(row)
    return Table(name, title, columns, rows)


def summary_rows(s: Score) -> list[list]:
    """The headline figures as (figure, value, low, high, basis) rows."""
    rows = []
    for cls in CLASSES:
        rate = s.psi_rate(cls)
        rows.append(
            [
                f"{cls.capitalize()} defects per 100 units at PSI",
                _r(rate.rate),
                _r(rate.low) if rate.units else None,
                _r(rate.high) if rate.units else None,
                f"{rate.found} in {rate.units} units, {s.psi.lots} PSI lots",
            ]
        )
    for cls in CLASSES:
        rate = s.sampled_rate(cls)
        rows.append(
            [
                f"{cls.capitalize()} defects per 100 units, all sampled milestones",
                _r(rate.rate),
                _r(rate.low) if rate.units else None,
                _r(rate.high) if rate.units else None,
                f"{rate.found} in {rate.units} units, {s.sampled.lots} milestones",
            ]
        )
    for label, share in (
        ("First-time pass rate at PSI %", s.first_pass),
        ("On-time production %", s.on_time),
    ):
        rows.append(
            [
                label,
                _r(share.percent),
                _r(share.low) if share.whole else None,
                _r(share.high) if share.whole else None,
                f"{share.part} of {share.whole} POs",
            ]
        )
    rows.append(["POs inspected", s.pos, None, None, "with a published milestone"])
    if s.capas is not None:
        c = s.capas
        rows += [
            ["CAPAs opened", c.opened, None, None, "in the period"],
            ["CAPAs still open", c.still_open, None, None, "of those opened"],
            ["CAPAs open past due", c.open_past_due, None, None, "waiting for the answer"],
            [
                "CAPA median days to close",
                _r(c.closure.median_days),
                None,
                None,
                f"{c.closure.closed} closed",
            ],
            [
                "CAPA 90th percentile days to close",
                _r(c.closure.p90_days),
                None,
                None,
                f"{c.closure.closed} closed",
            ],
            [
                "Recurrences",
                c.recurrences,
                _r(c.recurrence_share.low) if c.opened else None,
                _r(c.recurrence_share.high) if c.opened else None,
                f"of {c.opened} CAPAs (interval: share %)",
            ],
        ]
    if s.escalations is not None:
        e = s.escalations
        rows += [
            [
                "Escalations",
                e.total,
                None,
                None,
                ", ".join(f"{k} {v}" for k, v in e.by_kind.items()),
            ],
            ["Escalations per 10 POs", e.per_ten_pos, None, None, f"{e.pos} POs inspected"],
            [
                "Median minutes to acknowledge",
                _r(e.median_minutes_to_acknowledge),
                None,
                None,
                f"{e.acknowledged} acknowledged",
            ],
        ]
    rows.append(["Trend flags standing", s.active_flags, None, None, "now"])
    return rows
