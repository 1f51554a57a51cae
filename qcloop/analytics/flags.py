"""Trend flags: is a defect rate rising on this PO, against the supplier's own history?

From the milestone tallies to the test of `trends.assess` and back to `TrendFlag` rows, as of
one milestone. `refresh_flags` runs in the transaction that publishes (or corrects) a
milestone, after its tally is written; `trend_report` gives the same assessment to the
milestone report, which states it as of its own milestone.

The series
----------
The stream is the supplier x product category (`stream_category`), the stream ISO 2859-1
switches on: one buyer's supplier record (a supplier row belongs to one buyer, and the
queries filter on the buyer as well), so another buyer's lots, another supplier's or another
category's never enter the baseline.

* History: the earlier lots of the stream. Each published PSI (a re-inspection too: it is
  the lot as judged again) of the supplier's other POs in the category, inspected no later
  than the milestone assessed and published before it (known at the time, so a rebuild
  replaying the publications gives the same flags), the last HISTORY_LOTS of them.
  Why ten: the switching rules judge a stream on its recent lots (tightened after two
  rejections in five, reduced after ten acceptances), and an older lot describes a process
  that may since have changed (a new line, new materials), which would make a recovered
  supplier look like it is escalating from a stale low base. Ten PSIs are 1,250 to 3,150
  units: the baseline's own uncertainty is then small beside the PO's few hundred units,
  so more lots would add little power.
* Then this PO's published milestones that inspected a sample (DUPRO, PSI, PSI #2; an IPC
  or a CLI only when they sampled), in the order of production, up to and including the
  milestone assessed. Labels: "PO 4500218123 PSI" for a lot, "DUPRO" for the PO's own.
* Units are the tally's sampled units; defects the tally's count per class and per code.
* Per defect class: major and minor. Critical is not assessed: every critical defect is
  already escalated to the buyer within minutes (qcloop.alerts) and rejects its lot at Ac 0,
  and criticals come in ones, so a trend test would restate the escalation with less
  certainty.
* Per defect code: the codes (uncoded defects by description, as the tallies key them) of
  major and minor defects found at least once on this PO up to the milestone, which bounds
  the work to what the PO shows, and found in at least two lots of the series (RECURRING):
  a defect seen in one sample only is new, not yet a trend (the report lists it as new, and
  its class's test weighs it). A code is counted in every lot by its key, in the class it
  was last recorded in on this PO.

The decision
------------
A defect class is assessed again at every sampled milestone of the PO (a "look"), and each
look with its codes is a chance of a false alarm. Tested at 0.05 each, a stable supplier's
PO drew a flag in about one case of five (3,843 of 20,200 generated POs, nearly all on
stable suppliers, in bench/dashboard_scale.py): enough for a QC lead to stop reading flags.
So each defect class has a false-alarm budget of PO_ALPHA (0.05) over the whole PO, spent
across the looks (`trends.look_alpha`): the PSI, where the shipment decision is made, gets AT_PSI
(0.03); the looks before it share BEFORE_PSI (0.01: the first 0.005, each further one half
the one before) and those after it (PSI #2, a sampled CLI) share AFTER_PSI (0.01) the same
way. The sum stays within 0.05 however many looks there are, so (by the union bound) a
stable PO's class is flagged escalating at some look with probability at most 0.05, as one
AQL judgement of its own would be.

At one look, CLASS_SHARE (two thirds) of the look's threshold goes to the class's own test
and the rest to its codes. The codes of a class are a family: testing a dozen codes each at
the full threshold would flag about every second PO, so they are decided by Holm's
step-down procedure at the codes' share (the smallest p against share / m, the next against
share / (m - 1), ..., stopping at the first that fails; m the codes of the class that could
be tested). Each assessment is made at its own threshold, which its explanation names.

Projection: against the plan of the next sampled milestone of the PO when it is planned;
otherwise the plan of the milestone assessed (or the last sampled one) as the best guess for
the next sample, PSI #2 or the supplier's next lot. The flag says which.

Rows: one `TrendFlag` per PO, class and code, written only for series that are or were
flagged (escalating or projected to exceed the AQL). `raised_at` is kept from the first
raise; `cleared_at` is set when a later milestone no longer supports the flag and reset
when it is raised again. Times are the publication time of the milestone assessed, so that
a rebuild writes the same rows. A handful of queries per publication: the PO's tallies, the
history (one query), the PO's milestones (for the plans) and its flags; nothing per code."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone

from qcloop.core.reference import ProductCategory
from qcloop.inspections.models import MILESTONE_ORDER, Milestone, MilestoneKind, MilestoneStatus

from .models import MilestoneTally, TrendFlag
from .trends import (
    CLASS_SHARE,
    METHOD_NONE,
    PO_ALPHA,
    Assessment,
    assess,
    fail_probability,
    look_alpha,
)

HISTORY_LOTS = 10
RECURRING = 2  # a code is assessed once found in this many lots of its series
ASSESSED_CLASSES = ("major", "minor")
SAMPLED_KINDS = (MilestoneKind.DUPRO, MilestoneKind.PSI)

_RANK = {kind: i for i, kind in enumerate(MILESTONE_ORDER)}
_TALLY_FIELDS = (
    "milestone_id",
    "po_id",
    "kind",
    "sequence",
    "inspected_on",
    "published_at",
    "category",
    "sampled_units",
    "major",
    "minor",
    "codes",
)


def _rank(kind: str, sequence: int) -> tuple[int, int]:
    return (_RANK[kind], sequence)


def _label(kind: str, sequence: int) -> str:
    return f"{kind} #{sequence}" if sequence > 1 else kind


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def p_text(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def _rate(found: int, units: int) -> str:
    return f"{100 * found / units:.1f}"


# --- what is assessed ----------------------------------------------------------------------


@dataclass(frozen=True)
class Lot:
    """One point of a series: an earlier lot of the stream or a milestone of this PO."""

    label: str
    units: int
    found: dict[str, int]  # per class
    codes: dict[str, dict]  # the tally's {code: {"class", "found", "name"}}
    history: bool
    inspected_on: date | None = None
    kind: str = ""  # the milestone's (IPC, DUPRO, PSI, CLI); "" for an earlier lot

    def defects(self, defect_class: str, code: str = "") -> int:
        if code:
            return int(self.codes.get(code, {}).get("found", 0))
        return int(self.found.get(defect_class, 0))


@dataclass(frozen=True)
class Series:
    """One defect class (code "") or one defect code across the lots, and its assessment."""

    defect_class: str
    code: str
    name: str  # the code's name (or the uncoded defect's description); "" for a class
    points: list[tuple[str, int, int, bool]]  # (label, units, found, earlier lot)
    history: int  # leading points that are earlier lots
    alpha: float  # the threshold the flag was decided at (Holm's for a code)
    family: int  # codes of the class tested together (0 for a class)
    look: str  # the milestone assessed, as the threshold's explanation names it
    plan: dict | None  # {"aql", "n", "ac", "of", "planned", "source"}: projected against
    assessment: Assessment

    @property
    def flagged(self) -> bool:
        return self.assessment.escalating or self.assessment.projected

    @property
    def subject(self) -> str:
        if not self.code:
            return f"{self.defect_class.capitalize()} defects"
        coded = self.code != self.name.strip().lower()[:200]
        where = f"{self.code}, {self.defect_class}" if coded else self.defect_class
        return f"{self.name} ({where})"

    def po_points(self) -> list[tuple[str, int, int, bool]]:
        return [p for p in self.points[self.history :] if p[1]]

    def baseline(self) -> str:
        """The supplier's earlier lots in words, with their pooled rate."""
        lots = [p for p in self.points[: self.history] if p[1]]
        if not lots:
            return "with no earlier lot of the supplier on record to compare"
        units, found = sum(p[1] for p in lots), sum(p[2] for p in lots)
        return (
            f"against {_rate(found, units)} per 100 in the supplier's "
            f"{_plural(len(lots), 'earlier lot')} ({found} in {units:,} units)"
        )

    def sentence(self) -> str:
        """The flag in plain words, with its numbers and the strength of the evidence."""
        a = self.assessment
        plural = not self.code
        if a.escalating:
            verb = "are escalating" if plural else "is escalating"
        elif a.projected:
            verb = "are projected" if plural else "is projected"
            verb += " to exceed the AQL at the next milestone"
        else:
            verb = "are not flagged as escalating" if plural else "is not flagged as escalating"
        shown = self.po_points()
        rates = " → ".join(_rate(p[2], p[1]) for p in shown)
        where = ", ".join(p[0] for p in shown)
        trail = f"{rates} per 100 units ({where})" if shown else "no sample on this PO yet"
        evidence = f"{p_text(a.p_value)}, {a.strength}"
        evidence += "" if a.strength == "no evidence" else " evidence"
        if self.family > 1:
            evidence += (
                f" (Holm threshold {self.alpha:.4f} over {self.family} {self.defect_class} codes"
                f" at the {self.look})"
            )
        elif self.look:
            evidence += f" (threshold {self.alpha:.4f} at the {self.look})"
        text = f"{self.subject} {verb}: {trail}, {self.baseline()}; {evidence}."
        if a.projected:
            text += " " + self.projection()
        return text

    def projection(self) -> str:
        """Where the path leads: the next sample's rate and its chance to fail its plan."""
        a, plan = self.assessment, self.plan
        how = "On this path" if a.escalating else "At this rate"
        if not plan or a.projected_rate is None:
            return ""  # projected only against a plan (and its AQL)
        chance = fail_probability(a.projected_rate / 100, plan["n"], plan["ac"])
        whose = "as planned for the" if plan["planned"] else "if planned like the"
        return (
            f"{how} the next sample ({plan['n']} units, Ac {plan['ac']}, {whose} "
            f"{plan['of']}) would find {a.projected_rate:.1f} per 100 and fail with "
            f"probability {100 * chance:.0f} %."
        )

    def to_dict(self) -> dict:
        a = self.assessment
        return {
            "defect_class": self.defect_class,
            "code": self.code,
            "name": self.name,
            "escalating": a.escalating,
            "projected": a.projected,
            "p_value": round(a.p_value, 6),
            "probability": round(a.probability, 6),
            "strength": a.strength,
            "latest_rate": _round(a.latest_rate),
            "baseline_rate": _round(a.baseline_rate),
            "projected_rate": _round(a.projected_rate),
            "alpha": self.alpha,
            "sentence": self.sentence(),
            "explanation": a.explanation,
            "series": self.series_json(),
            "history_lots": self.history,
            "plan": self.plan,
        }

    def series_json(self) -> list[dict]:
        return [
            {"label": label, "n": n, "found": found, "history": earlier}
            for label, n, found, earlier in self.points
        ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass(frozen=True)
class TrendReport:
    """Every series assessed as of one milestone of a PO."""

    milestone_id: int
    label: str
    category: str
    lots: list[Lot]  # earlier lots first, then the PO's sampled milestones
    history: int
    series: list[Series] = field(default_factory=list)
    method: str = ""

    @property
    def category_name(self) -> str:
        """The stream's product category in words: "lighting", "food-contact articles"."""
        if self.category not in ProductCategory.values:
            return self.category or "products"
        label = ProductCategory(self.category).label
        return label[:1].lower() + label[1:]

    @property
    def flags(self) -> list[Series]:
        return [s for s in self.series if s.flagged]

    def of_class(self, defect_class: str) -> Series | None:
        return next((s for s in self.series if s.defect_class == defect_class and not s.code), None)

    def statement(self) -> str:
        """One line for a report with nothing flagged: what was tested, against what."""
        po_lots = self.lots[self.history :]
        earlier = self.lots[: self.history]
        if earlier:
            units = sum(lot.units for lot in earlier)
            base = (
                f"the supplier's {_plural(len(earlier), 'earlier lot')} of {self.category_name} "
                f"({units:,} units: "
                + ", ".join(
                    f"{name} {_rate(sum(lot.defects(name) for lot in earlier), units)}"
                    for name in ASSESSED_CLASSES
                )
                + " per 100)"
            )
        else:
            base = f"no earlier lot of this supplier's {self.category_name} on record"
        if not po_lots:
            return (
                f"No sample inspected on this PO yet: the trend test starts with the first "
                f"sampled milestone, against {base}."
            )
        tested = [s for s in self.series if not s.code]
        if all(s.assessment.method == METHOD_NONE for s in tested):
            samples = _plural(len(po_lots), "sampled milestone")
            return f"Not enough samples for a trend test yet: {samples} on this PO and {base}."
        parts = [
            f"{s.defect_class} {p_text(s.assessment.p_value)} ({s.assessment.strength})"
            for s in tested
        ]
        codes = sum(1 for s in self.series if s.code)
        also = f" and {_plural(codes, 'defect code')} of this PO" if codes else ""
        return (
            f"The trend test flagged no rising defect rate as of {self.label}: "
            f"{'; '.join(parts)}{also}, against {base}."
        )

    def to_content(self) -> dict:
        """The report's "trends" section: JSON-ready, frozen with the report version."""
        earlier = self.lots[: self.history]
        return {
            "as_of": self.label,
            "category": self.category,
            "category_name": self.category_name,
            "history": {
                "lots": len(earlier),
                "units": sum(lot.units for lot in earlier),
                "first": earlier[0].inspected_on.isoformat() if earlier else None,
                "last": earlier[-1].inspected_on.isoformat() if earlier else None,
                "labels": [lot.label for lot in earlier],
            },
            "samples": [lot.label for lot in self.lots[self.history :]],
            "classes": [
                {
                    "defect_class": s.defect_class,
                    "escalating": s.assessment.escalating,
                    "projected": s.assessment.projected,
                    "p_value": round(s.assessment.p_value, 6),
                    "strength": s.assessment.strength,
                    "latest_rate": _round(s.assessment.latest_rate),
                    "baseline_rate": _round(s.assessment.baseline_rate),
                    "sentence": s.sentence(),
                }
                for s in self.series
                if not s.code
            ],
            "codes_assessed": sum(1 for s in self.series if s.code),
            "flags": [s.to_dict() for s in self.flags],
            "statement": "" if self.flags else self.statement(),
            "method": self.method,
            "alpha": self.class_alpha,
            "po_alpha": PO_ALPHA,
        }

    @property
    def class_alpha(self) -> float:
        """The threshold each class was tested at, as of this report's milestone."""
        return round(CLASS_SHARE * look_alpha([lot.kind for lot in self.lots[self.history :]]), 6)


# --- reading the tallies -------------------------------------------------------------------


def _lot(row: dict, *, history: bool, label: str) -> Lot:
    return Lot(
        label=label,
        units=row["sampled_units"],
        found={name: row[name] for name in ASSESSED_CLASSES},
        codes=row["codes"] or {},
        history=history,
        inspected_on=row["inspected_on"],
        kind=row["kind"],
    )


def _own_row(milestone: Milestone, tally: dict | None) -> dict:
    """The milestone's own point as its records stand: what its report states, also in the
    QC lead's draft before publication (no tally yet) or during a correction (the tally is
    still the published one). Once published, the tally's date and publication time place it
    in the stream."""
    from qcloop.inspections.services import stream_category

    from .services import defect_tally, sampled_units

    per_class, per_code = defect_tally(milestone)
    placed = tally or {
        "milestone_id": milestone.pk,
        "po_id": milestone.po_id,
        "kind": milestone.kind,
        "sequence": milestone.sequence,
        "inspected_on": milestone.inspection_date or milestone.window_end,
        "published_at": timezone.now(),
        "category": stream_category(milestone.po),
    }
    counts = {name: per_class[name] for name in ASSESSED_CLASSES}
    return {**placed, "sampled_units": sampled_units(milestone), "codes": per_code, **counts}


def _po_rows(po_id: int) -> list[dict]:
    rows = MilestoneTally.objects.filter(po_id=po_id).values(*_TALLY_FIELDS)
    return sorted(rows, key=lambda r: _rank(r["kind"], r["sequence"]))


def _history_rows(po, as_of: dict) -> list[dict]:
    """The stream's last HISTORY_LOTS PSIs before the milestone assessed, oldest first."""
    rows = (
        MilestoneTally.objects.filter(
            buyer_id=po.buyer_id,
            supplier_id=po.supplier_id,
            category=as_of["category"],
            kind=MilestoneKind.PSI,
            sampled_units__gt=0,
            inspected_on__lte=as_of["inspected_on"],
            published_at__lt=as_of["published_at"],
        )
        .exclude(po_id=po.pk)
        .order_by("-inspected_on", "-published_at", "-milestone_id")
        .values(*_TALLY_FIELDS, "po__number")[:HISTORY_LOTS]
    )
    return list(reversed(rows))


# --- the plans ------------------------------------------------------------------------------


def _plan_classes(sampling: dict | None) -> dict[str, dict]:
    if not sampling:
        return {}
    return {c["defect_class"]: c for c in sampling["plan"]["classes"]}


def _plans(po_id: int, as_of: dict) -> tuple[dict[str, dict], dict]:
    """Per class the plan to project against, and where it comes from: the next sampled
    milestone's when it is planned, else the last sampled one's as the best guess."""
    milestones = sorted(
        Milestone.objects.filter(po_id=po_id)
        .exclude(status=MilestoneStatus.CANCELLED)
        .values("kind", "sequence", "sampling"),
        key=lambda m: _rank(m["kind"], m["sequence"]),
    )
    here = _rank(as_of["kind"], as_of["sequence"])
    later = [m for m in milestones if _rank(m["kind"], m["sequence"]) > here]
    upcoming = next((m for m in later if m["kind"] in SAMPLED_KINDS), None)
    if upcoming is not None and upcoming["sampling"]:
        label = _label(upcoming["kind"], upcoming["sequence"])
        return _plan_classes(upcoming["sampling"]), {
            "of": label,
            "planned": True,
            "source": f"the plan of the {label}",
        }
    done = [m for m in milestones if _rank(m["kind"], m["sequence"]) <= here and m["sampling"]]
    if not done:
        return {}, {}
    label = _label(done[-1]["kind"], done[-1]["sequence"])
    nothing = "not yet planned" if upcoming else "none planned on this PO"
    return _plan_classes(done[-1]["sampling"]), {
        "of": label,
        "planned": False,
        "source": f"the plan of the {label}, the best guess for the next sample ({nothing})",
    }


def _projection_plan(classes: dict[str, dict], defect_class: str, source: dict) -> dict | None:
    entry = classes.get(defect_class)
    if entry is None:
        return None
    aql = float(entry.get("aql") or 0)
    if not 0 < aql < 100:
        # AQL 0 accepts nothing (criticals); ISO's AQLs of 100 and above count defects per
        # 100 units beyond one a unit, where a projection of a rate of defective units fails.
        return None
    return {"aql": aql, "n": entry["n"], "ac": entry["ac"], **source}


# --- the assessment -------------------------------------------------------------------------


def _assess(lots, history, defect_class, code, plan, alpha) -> Assessment:
    # The test counts defective units: a sample with more defects than units (several on a
    # unit) counts at most every unit of it, rather than stopping the publication.
    return assess(
        [(lot.units, min(lot.units, lot.defects(defect_class, code))) for lot in lots],
        history=history,
        labels=[lot.label for lot in lots],
        aql=plan["aql"] if plan else None,
        next_sample_size=plan["n"] if plan else None,
        next_acceptance=plan["ac"] if plan else None,
        alpha=alpha,
    )


def holm_thresholds(p_values: list[float], alpha: float) -> list[float]:
    """Each hypothesis's threshold under Holm's step-down procedure: the k-th smallest p is
    judged against alpha / (m - k) while every smaller one was rejected; from the first that
    is not, every remaining one is judged against that step's threshold (and so not
    rejected, its p being larger). Rejected exactly where p <= threshold."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    thresholds = [0.0] * m
    stopped = None
    for step, i in enumerate(order):
        threshold = alpha / (m - step)
        if stopped is None and p_values[i] > threshold:
            stopped = threshold
        thresholds[i] = threshold if stopped is None else stopped
    return thresholds


def _codes_of(lots: list[Lot], history: int) -> dict[str, tuple[str, str]]:
    """The codes to assess: {code: (class, name as last recorded on the PO)}, for the PO's
    major and minor codes found in at least RECURRING lots of the series (the PO's own or
    the earlier ones). A code found in one sample only is a new defect, not yet a trend: the
    report lists it as new, and its class's test weighs it."""
    codes: dict[str, tuple[str, str]] = {}
    for lot in lots[history:]:
        for key, entry in lot.codes.items():
            if entry.get("found") and entry.get("class") in ASSESSED_CLASSES:
                codes[key] = (entry["class"], entry.get("name") or key)
    return {
        key: named
        for key, named in codes.items()
        if sum(1 for lot in lots if lot.codes.get(key, {}).get("found")) >= RECURRING
    }


def _series(lots, history, defect_class, code, name, plan, alpha, family, assessment=None):
    return Series(
        defect_class=defect_class,
        code=code,
        name=name,
        points=[
            (lot.label, lot.units, lot.defects(defect_class, code), lot.history) for lot in lots
        ],
        history=history,
        alpha=alpha,
        family=family,
        look=lots[-1].label if len(lots) > history else "",
        plan=plan,
        assessment=assessment or _assess(lots, history, defect_class, code, plan, alpha),
    )


def assess_lots(
    lots: list[Lot], history: int, plans: dict[str, dict], source: dict
) -> list[Series]:
    """Every class and, Holm-corrected per class, every code of the PO's lots, each at its
    part of the look's threshold."""
    series = []
    codes = _codes_of(lots, history)
    at_look = look_alpha([lot.kind for lot in lots[history:]])
    class_alpha, codes_alpha = CLASS_SHARE * at_look, (1 - CLASS_SHARE) * at_look
    for defect_class in ASSESSED_CLASSES:
        plan = _projection_plan(plans, defect_class, source)
        series.append(_series(lots, history, defect_class, "", "", plan, class_alpha, 0))
        mine = sorted(code for code, (cls, _) in codes.items() if cls == defect_class)
        first = {
            code: _assess(lots, history, defect_class, code, plan, codes_alpha) for code in mine
        }
        tested = [code for code in mine if first[code].method != METHOD_NONE]
        thresholds = holm_thresholds([first[code].p_value for code in tested], codes_alpha)
        alphas = dict(zip(tested, thresholds, strict=True))
        for code in mine:
            alpha = alphas.get(code, codes_alpha)
            # The first assessment stands where Holm's threshold is the family's own.
            reused = first[code] if alpha == codes_alpha else None
            name = codes[code][1]
            series.append(
                _series(lots, history, defect_class, code, name, plan, alpha, len(tested), reused)
            )
    return series


def trend_report(milestone: Milestone, *, po_rows: list[dict] | None = None) -> TrendReport:
    """The trend of the milestone's PO as of the milestone: the PO's earlier sampled
    milestones (their tallies), the stream's history and the milestone itself. Given the
    PO's tallies (`po_rows`, as `refresh_flags` does right after writing them), the
    milestone's own tally is used; otherwise its records (`_own_row`)."""
    po = milestone.po
    rows = _po_rows(po.pk) if po_rows is None else po_rows
    tally = next((r for r in rows if r["milestone_id"] == milestone.pk), None)
    own = tally if po_rows is not None and tally else _own_row(milestone, tally)
    here = _rank(milestone.kind, milestone.sequence)
    mine = [
        r
        for r in rows
        if r["milestone_id"] != milestone.pk and _rank(r["kind"], r["sequence"]) < here
    ]
    mine = [*mine, own]
    history = _history_rows(po, own)
    lots = [
        _lot(r, history=True, label=f"PO {r['po__number']} {_label(r['kind'], r['sequence'])}")
        for r in history
    ]
    lots += [
        _lot(r, history=False, label=_label(r["kind"], r["sequence"]))
        for r in mine
        if r["sampled_units"] > 0
    ]
    plans, source = _plans(po.pk, own)
    series = assess_lots(lots, len(history), plans, source)
    methods = {s.assessment.method for s in series} - {METHOD_NONE}
    return TrendReport(
        milestone_id=milestone.pk,
        label=milestone.label,
        category=own["category"],
        lots=lots,
        history=len(history),
        series=series,
        method="; ".join(sorted(methods)),
    )


# --- the rows -------------------------------------------------------------------------------

_UPDATED = [
    "milestone",
    "code_name",
    "escalating",
    "projected",
    "p_value",
    "probability",
    "strength",
    "explanation",
    "series",
    "history_lots",
    "updated_at",
    "raised_at",
    "cleared_at",
]


def _fill(row: TrendFlag, series: Series, milestone_id: int, moment: datetime) -> None:
    a = series.assessment
    row.milestone_id = milestone_id
    row.code_name = series.name[:200]
    row.escalating = a.escalating
    row.projected = a.projected
    row.p_value = a.p_value
    row.probability = a.probability
    row.strength = a.strength
    # The sentence already ends with the projection: the test's details follow it once.
    details = a.explanation.removesuffix(a.projection).rstrip() if a.projected else a.explanation
    row.explanation = f"{series.sentence()} {details}"
    row.series = series.series_json()
    row.history_lots = series.history
    row.updated_at = moment


def refresh_flags(milestone: Milestone) -> TrendReport:
    """The PO's trend flags as of its latest published milestone (the one just published,
    or, when an earlier one is corrected, the latest still): raised, updated or cleared."""
    po = milestone.po
    rows = _po_rows(po.pk)
    latest = rows[-1] if rows else None
    as_of = milestone
    if latest is not None and latest["milestone_id"] != milestone.pk:
        as_of = Milestone.objects.select_related("po").get(pk=latest["milestone_id"])
    report = trend_report(as_of, po_rows=rows)
    moment = (
        next((r["published_at"] for r in rows if r["milestone_id"] == as_of.pk), None)
        or timezone.now()
    )
    existing = {(f.defect_class, f.defect_code): f for f in TrendFlag.objects.filter(po=po)}
    created, updated = [], []
    for series in report.series:
        row = existing.pop((series.defect_class, series.code), None)
        if row is None:
            if series.flagged:
                row = TrendFlag(
                    buyer_id=po.buyer_id,
                    po=po,
                    supplier_id=po.supplier_id,
                    defect_class=series.defect_class,
                    defect_code=series.code,
                    raised_at=moment,
                )
                _fill(row, series, as_of.pk, moment)
                created.append(row)
            continue
        was_active = row.active
        _fill(row, series, as_of.pk, moment)
        if series.flagged:
            row.cleared_at = None
        elif was_active:
            row.cleared_at = moment
        updated.append(row)
    for row in existing.values():  # a series no longer assessed (its code changed class)
        if row.active:
            row.cleared_at = row.updated_at = moment
            updated.append(row)
    if created:
        TrendFlag.objects.bulk_create(created)
    if updated:
        TrendFlag.objects.bulk_update(updated, _UPDATED)
    return report
