"""Several defect classes in one inspection (critical, major, minor), each with its own AQL.

Two ways of combining them:

``industry`` -- what QC firms do on the floor: draw ONE sample, the code letter's sample size,
and judge every class on all of it with that class's Ac/Re:
  * the class's table plan has the code letter's sample size: its Ac/Re, unchanged;
  * an arrow points DOWN to a larger sample (the AQL is too small for this n): Ac 0, Re 1 --
    one defect of that class rejects; there is no smaller acceptance number, and taking the
    larger sample for one class is exactly what "industry" avoids;
  * an arrow points UP to a smaller sample (a large AQL, e.g. the "↑" beside a 0/1 plan, or
    the top-right corner of the tables): the Ac/Re of the plan reached, judged on the larger
    common sample. That is slightly stricter than the standard plan, never more lenient;
  * AQL 0 (critical defects, zero acceptance): Ac 0, Re 1.

``strict`` -- the standard read literally: every class gets its own table plan; the largest
sample is drawn, and each class is judged on the FIRST n units of the sample, n being its
own plan's sample size. AQL 0 uses the code letter's sample size with Ac 0, Re 1.
"""

from dataclasses import asdict, dataclass
from typing import Any

from qcloop.sampling import tables
from qcloop.sampling.plans import Decision, SinglePlan, plan
from qcloop.sampling.tables import ZERO_AQL

METHODS: tuple[str, ...] = ("industry", "strict")


@dataclass(frozen=True, kw_only=True)
class ClassPlan:
    """How one defect class is judged: on its first ``n`` sample units, with Ac/Re."""

    defect_class: str
    aql: str
    n: int
    ac: int
    re: int
    standard_plan: SinglePlan | None  # the table plan for this AQL (None for AQL 0)
    adjustment: str = ""  # why Ac/Re or n differ from the standard plan, in words

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["standard_plan"] = self.standard_plan.to_dict() if self.standard_plan else None
        return data


@dataclass(frozen=True, kw_only=True)
class MultiClassPlan:
    """One sample of ``n`` units judged for several defect classes."""

    lot_size: int
    level: str
    severity: str
    method: str  # "industry" or "strict"
    table_code: str
    n: int  # units to draw
    hundred_percent: bool
    classes: tuple[ClassPlan, ...]

    def for_class(self, defect_class: str) -> ClassPlan:
        for class_plan in self.classes:
            if class_plan.defect_class == defect_class:
                return class_plan
        names = ", ".join(c.defect_class for c in self.classes)
        raise ValueError(f"unknown defect class {defect_class!r}; allowed: {names}")

    def to_dict(self) -> dict[str, Any]:
        data = {key: value for key, value in self.__dict__.items() if key != "classes"}
        data["classes"] = [class_plan.to_dict() for class_plan in self.classes]
        return data


@dataclass(frozen=True)
class MultiClassResult:
    """Each class's decision, and the lot's: rejected if any class rejects it."""

    method: str
    decisions: dict[str, Decision]
    overall: Decision


def multi_class_plan(
    lot_size: int,
    aqls: dict[str, float | str],
    level: str = "II",
    severity: str = "normal",
    method: str = "industry",
) -> MultiClassPlan:
    """One inspection, several defect classes (e.g. {"critical": 0, "major": 2.5,
    "minor": 4.0}); see the module docstring for the two methods."""
    lot_size = tables.check_lot_size(lot_size)
    level, severity = tables.parse_level(level), tables.parse_severity(severity)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    if not aqls:
        raise ValueError("give at least one defect class with its AQL")
    entry_code = tables.code_letter(lot_size, level)
    letter_n = tables.master_table("single", severity).sizes[entry_code]
    assert letter_n is not None
    build = _industry_class if method == "industry" else _strict_class
    classes = tuple(
        build(name, tables.parse_aql(aql, allow_zero=True), lot_size, level, severity, letter_n)
        for name, aql in aqls.items()
    )
    n = max(class_plan.n for class_plan in classes)
    return MultiClassPlan(
        lot_size=lot_size,
        level=level,
        severity=severity,
        method=method,
        table_code=entry_code,
        n=n,
        hundred_percent=n >= lot_size,
        classes=classes,
    )


def _industry_class(name, aql, lot_size, level, severity, letter_n) -> ClassPlan:
    common = min(letter_n, lot_size)
    if aql == ZERO_AQL:
        return _class(name, aql, common, 0, 1, None, "AQL 0: zero acceptance (Ac 0, Re 1)")
    standard = plan(lot_size, aql, level, severity)
    table_n = _table_n(standard)
    if table_n == letter_n:
        return _class(name, aql, common, standard.ac, standard.re, standard)
    arrow = f"the table's arrow leads to n={table_n} (code {standard.code})"
    if table_n > letter_n:
        why = f"{arrow}; the common sample of {letter_n} is judged with Ac 0, Re 1"
        return _class(name, aql, common, 0, 1, standard, why)
    why = (
        f"{arrow}; its Ac {standard.ac} / Re {standard.re} are applied to the larger common "
        f"sample of {letter_n}"
    )
    return _class(name, aql, common, standard.ac, standard.re, standard, why)


def _strict_class(name, aql, lot_size, level, severity, letter_n) -> ClassPlan:
    if aql == ZERO_AQL:
        why = "AQL 0: zero acceptance at the code letter's sample size"
        return _class(name, aql, min(letter_n, lot_size), 0, 1, None, why)
    standard = plan(lot_size, aql, level, severity)
    return _class(name, aql, standard.n, standard.ac, standard.re, standard)


def _class(name, aql, n, ac, re, standard, adjustment="") -> ClassPlan:
    return ClassPlan(
        defect_class=name,
        aql=aql,
        n=n,
        ac=ac,
        re=re,
        standard_plan=standard,
        adjustment=adjustment,
    )


def _table_n(standard: SinglePlan) -> int:
    """The plan's sample size before any 100 % cap."""
    size = tables.master_table("single", standard.severity).sizes[standard.code]
    assert size is not None
    return size


def judge_classes(multi: MultiClassPlan, defects: dict[str, int]) -> MultiClassResult:
    """Decisions per class from the defects counted for each (for ``strict``, counted in that
    class's first n units). Every class of the plan needs a count."""
    names = [class_plan.defect_class for class_plan in multi.classes]
    if set(defects) != set(names):
        raise ValueError(f"give a defect count for exactly these classes: {', '.join(names)}")
    decisions = {}
    for class_plan in multi.classes:
        count = defects[class_plan.defect_class]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"defects must be whole numbers, 0 or more; got {count!r}")
        decisions[class_plan.defect_class] = _decide(count, class_plan)
    return MultiClassResult(multi.method, decisions, _overall(decisions.values()))


def _decide(count: int, class_plan: ClassPlan) -> Decision:
    if count <= class_plan.ac:
        return Decision.ACCEPT
    if count >= class_plan.re:
        return Decision.REJECT
    return Decision.ACCEPT_RETURN_TO_NORMAL  # only reduced plans leave a gap between Ac and Re


def _overall(decisions) -> Decision:
    decisions = list(decisions)
    if Decision.REJECT in decisions:
        return Decision.REJECT
    if Decision.ACCEPT_RETURN_TO_NORMAL in decisions:
        return Decision.ACCEPT_RETURN_TO_NORMAL
    return Decision.ACCEPT
