"""Sampling plans for one lot, and the accept/reject decision on the defects found.

A plan says how many units to inspect (n) and how many nonconforming units (or
nonconformities) still accept the lot (Ac) or reject it (Re). Plans come from the master
tables after following the arrows; a sample as large as the lot means 100 % inspection.
"""

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar

from qcloop.sampling import tables
from qcloop.sampling.tables import ZERO_AQL


class Decision(StrEnum):
    """What the inspection result means for the lot."""

    ACCEPT = "accept"
    REJECT = "reject"
    # Double sampling: the first sample was between Ac1 and Re1.
    SECOND_SAMPLE = "second_sample"
    # Reduced inspection (MIL-STD-105E / Z1.4-1993): Ac exceeded but Re not reached. The lot
    # is accepted, but the stream returns to normal inspection from the next lot.
    ACCEPT_RETURN_TO_NORMAL = "accept_return_to_normal"

    @property
    def accepted(self) -> bool:
        return self in (Decision.ACCEPT, Decision.ACCEPT_RETURN_TO_NORMAL)

    @property
    def final(self) -> bool:
        return self is not Decision.SECOND_SAMPLE


@dataclass(frozen=True, kw_only=True)
class _PlanFacts:
    """What every plan records: the lot, the AQL and level it was chosen for, the severity,
    and where in the tables it came from."""

    lot_size: int
    aql: str  # as the tables print it ("2.5"), or "0" for zero acceptance
    level: str
    severity: str
    table: str  # "II-A" .. "III-C", or "zero acceptance"
    table_code: str  # Table I code letter for the lot size and level
    code: str  # code letter of the row the plan was read from (differs after an arrow)
    hundred_percent: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def aql_percent(self) -> float:
        """The AQL as a number: percent nonconforming (up to 10) or nonconformities per
        100 units (above 10)."""
        return float(self.aql)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = list(self.notes)
        data["scheme"] = self.scheme  # type: ignore[attr-defined]
        return data


@dataclass(frozen=True, kw_only=True)
class SinglePlan(_PlanFacts):
    """Single sampling: inspect n units; accept with at most Ac defects, reject at Re or more.
    Reduced plans may have Re > Ac + 1 (see Decision.ACCEPT_RETURN_TO_NORMAL)."""

    scheme: ClassVar[str] = "single"
    n: int
    ac: int
    re: int

    @property
    def max_sample(self) -> int:
        return self.n


@dataclass(frozen=True, kw_only=True)
class DoublePlan(_PlanFacts):
    """Double sampling: inspect n1 units; accept at <= Ac1, reject at >= Re1, otherwise inspect
    n2 more units and judge the cumulative count (both samples) against Ac2/Re2."""

    scheme: ClassVar[str] = "double"
    n1: int
    ac1: int
    re1: int
    n2: int
    ac2: int
    re2: int

    @property
    def max_sample(self) -> int:
        return self.n1 + self.n2


Plan = SinglePlan | DoublePlan


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """Rebuild a plan stored with ``to_dict()`` (e.g. in a JSON column)."""
    values = {key: value for key, value in data.items() if key != "scheme"}
    values["notes"] = tuple(values.get("notes", ()))
    kind = DoublePlan if data.get("scheme") == "double" else SinglePlan
    return kind(**values)


def plan(
    lot_size: int,
    aql: float | str,
    level: str = "II",
    severity: str = "normal",
    scheme: str = "single",
) -> Plan:
    """The ISO 2859-1 plan for one lot: Table I code letter, then the master table for the
    severity and scheme, arrows followed, capped at 100 % inspection."""
    lot_size = tables.check_lot_size(lot_size)
    level = tables.parse_level(level)
    severity = tables.parse_severity(severity)
    scheme = tables.parse_scheme(scheme)
    aql = tables.parse_aql(aql, allow_zero=True)
    entry_code = tables.code_letter(lot_size, level)
    facts = {"lot_size": lot_size, "aql": aql, "level": level, "severity": severity}
    if aql == ZERO_AQL:
        if scheme == "double":
            raise ValueError("AQL 0 (zero acceptance) has single plans only; allowed: single")
        return zero_acceptance_plan(entry_code, **facts)
    if scheme == "single":
        return _single_plan(entry_code, **facts)
    return _double_plan(entry_code, **facts)


def zero_acceptance_plan(entry_code: str, **facts) -> SinglePlan:
    """AQL 0: the code letter's sample size, and a single defect rejects (Ac 0, Re 1).
    Not a table plan: it is common practice for critical defects."""
    n = tables.master_table("single", facts["severity"]).sizes[entry_code]
    assert n is not None
    notes = ("AQL 0: zero acceptance at the code letter's sample size (Ac 0, Re 1)",)
    return _capped_single(
        table="zero acceptance",
        table_code=entry_code,
        code=entry_code,
        n=n,
        ac=0,
        re=1,
        notes=notes,
        **facts,
    )


def _single_plan(entry_code: str, **facts) -> SinglePlan:
    table = tables.master_table("single", facts["severity"])
    found = tables.resolve(table, entry_code, facts["aql"])
    ac, re = tables.parse_numbers(found.cell)
    n = table.sizes[found.code]
    assert n is not None
    return _capped_single(
        table=table.name,
        table_code=entry_code,
        code=found.code,
        n=n,
        ac=ac,
        re=re,
        notes=_arrow_notes(table, found, facts["aql"]),
        **facts,
    )


def _capped_single(*, n: int, notes: tuple[str, ...], **rest) -> SinglePlan:
    lot_size = rest["lot_size"]
    if n < lot_size:
        return SinglePlan(n=n, notes=notes, **rest)
    note = f"sample size {n} is not less than the lot size {lot_size}: 100 % inspection"
    return SinglePlan(n=lot_size, hundred_percent=True, notes=(*notes, note), **rest)


def _double_plan(entry_code: str, **facts) -> Plan:
    table = tables.master_table("double", facts["severity"])
    found = tables.resolve(table, entry_code, facts["aql"])
    notes = _arrow_notes(table, found, facts["aql"])
    if found.cell == tables.USE_SINGLE:
        return _use_single(table, found, entry_code, notes, **facts)
    n1 = table.sizes[found.code]
    assert n1 is not None
    lot_size = facts["lot_size"]
    if n1 >= lot_size:
        single = _single_plan(entry_code, **facts)
        note = f"first sample {n1} is not less than the lot size {lot_size}: single plan used"
        return _with_notes(single, (*notes, note))
    ac1, re1, ac2, re2 = tables.parse_numbers(found.cell)
    n2 = n1
    if n1 + n2 > lot_size:
        n2 = lot_size - n1
        notes = (*notes, f"second sample limited to the rest of the lot ({n2} units)")
    return DoublePlan(
        table=table.name,
        table_code=entry_code,
        code=found.code,
        n1=n1,
        ac1=ac1,
        re1=re1,
        n2=n2,
        ac2=ac2,
        re2=re2,
        notes=notes,
        **facts,
    )


def _use_single(table, found, entry_code: str, notes: tuple[str, ...], **facts) -> SinglePlan:
    """A ``*`` in a double table: the corresponding single plan (same severity, same cell)."""
    single_table = tables.master_table("single", facts["severity"])
    cell = single_table.cell(found.code, facts["aql"])
    ac, re = tables.parse_numbers(cell)
    n = single_table.sizes[found.code]
    assert n is not None
    note = (
        f"Table {table.name} shows * at code {found.code}, AQL {facts['aql']}: "
        f"the corresponding single plan of Table {single_table.name} is used"
    )
    return _capped_single(
        table=single_table.name,
        table_code=entry_code,
        code=found.code,
        n=n,
        ac=ac,
        re=re,
        notes=(*notes, note),
        **facts,
    )


def _with_notes(found_plan: Plan, notes: tuple[str, ...]) -> Plan:
    return replace(found_plan, notes=(*notes, *found_plan.notes))


def _arrow_notes(table, found: tables.Resolution, aql: str) -> tuple[str, ...]:
    if found.arrow is None:
        return ()
    where = f"Table {table.name}, code {found.entry_code}, AQL {aql}"
    if found.reversed:
        return (
            f"{where}: the printed arrow {found.arrow} points off the table; "
            f"the nearest plan the other way (code {found.code}) is used",
        )
    return (f"{where}: arrow {found.arrow}, plan of code {found.code} used",)


def judge(plan: Plan, defects: int, second_defects: int | None = None) -> Decision:
    """The decision for a lot from the defects counted in the sample (and, for double plans
    whose first sample was undecided, in the second sample)."""
    defects = _count(defects, "defects")
    if isinstance(plan, SinglePlan):
        if second_defects is not None:
            raise ValueError("single sampling has no second sample; allowed: second_defects=None")
        return _against(defects, plan.ac, plan.re, Decision.ACCEPT_RETURN_TO_NORMAL)
    first = _against(defects, plan.ac1, plan.re1, Decision.SECOND_SAMPLE)
    if first is not Decision.SECOND_SAMPLE:
        if second_defects is not None:
            raise ValueError(f"the first sample already decided ({first}); no second sample")
        return first
    if second_defects is None:
        return Decision.SECOND_SAMPLE
    total = defects + _count(second_defects, "second_defects")
    return _against(total, plan.ac2, plan.re2, Decision.ACCEPT_RETURN_TO_NORMAL)


def _against(count: int, ac: int, re: int, between: Decision) -> Decision:
    """Ac or fewer accept, Re or more reject. A count in between means a second sample after
    a double plan's first sample; after the last sample only the 105E reduced plans leave
    such a gap, and it accepts the lot but returns the stream to normal inspection."""
    if count <= ac:
        return Decision.ACCEPT
    if count >= re:
        return Decision.REJECT
    return between


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number, 0 or more; got {value!r}")
    return value
