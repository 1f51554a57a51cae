"""What an inspection's records mean: pure functions, no Django.

Barcodes and container numbers are validated by their check digits, measurements against
their tolerances, production counts against the ex-factory date, carton marks and loading
tallies against the order, and an inspection's defects and checklist against its sampling
plan. Every invalid input raises ``ValueError`` with a message naming the problem; findings
(a wrong mark, a short SKU, a rejected class) come back as sentences a buyer understands.
"""

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from qcloop.sampling import Decision

# --------------------------------------------------------------------------------------------
# Barcodes (GS1 GTIN)

GTIN_LENGTHS = (8, 12, 13, 14)
_SEPARATORS = re.compile(r"[\s\-]+")


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for a GTIN without its last digit: from the right, the
    digits are weighted 3, 1, 3, 1, ...; the check digit brings the sum to a multiple of 10."""
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f"a GTIN body must be digits only; got {body!r}")
    if len(body) > 17:
        raise ValueError(f"a GS1 body has at most 17 digits; got {len(body)}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def check_gtin(code: str) -> str:
    """A GTIN-8, UPC-A (GTIN-12), EAN-13 (GTIN-13) or GTIN-14 as printed under a barcode,
    validated by its check digit; returns the digits without spaces or dashes."""
    digits = _SEPARATORS.sub("", str(code))
    if not digits:
        raise ValueError("the GTIN is empty")
    bad = [ch for ch in digits if not (ch.isascii() and ch.isdigit())]
    if bad:
        raise ValueError(f"a GTIN has digits only; {code!r} contains {bad[0]!r}")
    if len(digits) not in GTIN_LENGTHS:
        raise ValueError(f"a GTIN has 8, 12, 13 or 14 digits; {code!r} has {len(digits)}")
    expected = gtin_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise ValueError(f"GTIN {digits}: check digit should be {expected}, not {digits[-1]}")
    return digits


# --------------------------------------------------------------------------------------------
# Containers (ISO 6346)

CONTAINER_CATEGORIES = {"U": "freight container", "J": "detachable equipment", "Z": "trailer"}


def _iso6346_letter_values() -> dict[str, int]:
    # A=10 upwards, skipping multiples of 11 (11, 22, 33) so no letter aliases a digit sum.
    values, value = {}, 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    return values


_LETTER_VALUES = _iso6346_letter_values()


def container_check_digit(first_ten: str) -> int:
    """The ISO 6346 check digit of owner code, category and serial: each character's value
    times 2 to the power of its position, summed, mod 11, mod 10."""
    text = first_ten.upper()
    if len(text) != 10:
        raise ValueError(f"the check digit is computed over 10 characters; got {len(text)}")
    total = 0
    for position, ch in enumerate(text):
        value = _LETTER_VALUES.get(ch) if ch.isalpha() else int(ch) if ch.isdigit() else None
        if value is None:
            raise ValueError(f"{ch!r} has no ISO 6346 value")
        total += value * 2**position
    return total % 11 % 10


def check_container_number(text: str) -> str:
    """An ISO 6346 container number (owner code, category U/J/Z, 6-digit serial, check
    digit), as painted on the doors; returns it canonical, e.g. "MSKU1234567"."""
    number = _SEPARATORS.sub("", str(text)).upper()
    if len(number) != 11:
        raise ValueError(
            "a container number has 11 characters (3-letter owner code, category letter, "
            f"6-digit serial, check digit); {text!r} has {len(number)}"
        )
    owner, category, serial, check = number[:3], number[3], number[4:10], number[10]
    if not (owner.isascii() and owner.isalpha()):
        raise ValueError(f"the owner code must be 3 letters; {text!r} starts with {owner!r}")
    if category not in CONTAINER_CATEGORIES:
        raise ValueError(f"the equipment category must be U, J or Z; {text!r} has {category!r}")
    if not (serial.isascii() and serial.isdigit()):
        raise ValueError(f"the serial number must be 6 digits; {text!r} has {serial!r}")
    if not (check.isascii() and check.isdigit()):
        raise ValueError(f"the check digit must be a digit; {text!r} ends with {check!r}")
    expected = container_check_digit(number[:10])
    if int(check) != expected:
        raise ValueError(f"container {number[:10]}: check digit should be {expected}, not {check}")
    return number


# --------------------------------------------------------------------------------------------
# Measurements

# Exact factors to a base unit per dimension (mm for length, g for mass).
_UNITS: dict[str, tuple[str, Decimal]] = {
    "mm": ("length", Decimal(1)),
    "cm": ("length", Decimal(10)),
    "m": ("length", Decimal(1000)),
    "in": ("length", Decimal("25.4")),
    "g": ("mass", Decimal(1)),
    "kg": ("mass", Decimal(1000)),
    "lb": ("mass", Decimal("453.59237")),
    "oz": ("mass", Decimal("28.349523125")),
}
_UNIT_ALIASES = {'"': "in", "inch": "in", "inches": "in", "lbs": "lb"}
ABSURD_FACTOR = 10


def _unit(unit: str) -> str:
    name = str(unit).strip()
    return _UNIT_ALIASES.get(name.lower(), name.lower() if name.lower() in _UNITS else name)


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number; got {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what} must be a number; got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number; got {value!r}")
    return number


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """A quantity in another unit of the same dimension (cm, mm, m, in; g, kg, lb, oz)."""
    source, target = _unit(from_unit), _unit(to_unit)
    if source == target:
        return value
    if source not in _UNITS:
        raise ValueError(f"unknown unit {from_unit!r}")
    if target not in _UNITS:
        raise ValueError(f"unknown unit {to_unit!r}")
    (source_dim, source_factor), (target_dim, target_factor) = _UNITS[source], _UNITS[target]
    if source_dim != target_dim:
        raise ValueError(f"a reading in {source} cannot be compared with a spec in {target}")
    return value * source_factor / target_factor


@dataclass(frozen=True)
class Tolerance:
    """A spec value and how far below (``minus``) and above (``plus``) it a reading may be;
    both are magnitudes (a spec sheet's "-0.5" is read as 0.5 below)."""

    spec: Decimal
    minus: Decimal
    plus: Decimal
    unit: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", _decimal(self.spec, "the spec"))
        object.__setattr__(self, "minus", abs(_decimal(self.minus, "the minus tolerance")))
        plus = _decimal(self.plus, "the plus tolerance")
        if plus < 0:
            raise ValueError(f"the plus tolerance must be 0 or more; got {plus}")
        object.__setattr__(self, "plus", plus)
        if not str(self.unit).strip():
            raise ValueError("a tolerance needs a unit")
        object.__setattr__(self, "unit", _unit(self.unit))

    @property
    def low(self) -> Decimal:
        return self.spec - self.minus

    @property
    def high(self) -> Decimal:
        return self.spec + self.plus

    def contains(self, value: Decimal) -> bool:
        """Whether a reading in the spec's unit is within the limits (limits included)."""
        return self.low <= _decimal(value, "the reading") <= self.high

    def __str__(self) -> str:
        return f"{self.spec} {self.unit} -{self.minus}/+{self.plus}"


def check_reading(value: Any, unit: str, tolerance: Tolerance) -> tuple[bool, Decimal]:
    """Whether one measured reading is within tolerance, and its deviation from the spec in
    the spec's unit (negative: below the spec). Readings in another unit are converted."""
    reading = _decimal(value, "the reading")
    converted = convert(reading, unit, tolerance.unit)
    spec = tolerance.spec
    shown = f"a reading of {reading} {_unit(unit)}"
    if spec > 0 and converted < 0:
        raise ValueError(f"{shown} is negative for a spec of {spec} {tolerance.unit}")
    if spec > 0 and (converted > spec * ABSURD_FACTOR or converted * ABSURD_FACTOR < spec):
        raise ValueError(
            f"{shown} is more than {ABSURD_FACTOR} times away from the spec of {spec} "
            f"{tolerance.unit}: check the unit and the decimal point"
        )
    return tolerance.contains(converted), converted - spec


def units_out_of_tolerance(readings: Iterable[tuple[int, str, bool]]) -> set[int]:
    """The sample units with at least one reading out of tolerance; each counts once, as
    one measurement defect, however many of its points are out."""
    return {unit for unit, _point, in_tolerance in readings if not in_tolerance}


# --------------------------------------------------------------------------------------------
# Production progress

PACKAGING_WARNING_SHARE = Decimal("0.40")
REPORT_OVERSTATEMENT_SHARE = Decimal("0.05")


@dataclass(frozen=True)
class Projection:
    """Where production will be at this pace: the measured units per day (the production
    start day and the count day both count as production days), the date the order will
    be complete, and how many days after ex-factory that is (negative: early)."""

    ordered: int
    produced: int
    production_days: int
    pace: Decimal  # units per calendar day
    projected_completion: date | None  # None: nothing produced yet, no pace to project
    late_by_days: int | None
    completion_share: Decimal  # produced / ordered, 0.46 for 46 %

    @property
    def late(self) -> bool:
        return self.late_by_days is not None and self.late_by_days > 0


def _count(value: Any, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be a whole number, {minimum} or more; got {value!r}")
    return value


def project_completion(
    ordered: int, produced: int, production_start: date, counted_on: date, ex_factory: date
) -> Projection:
    """Project the completion date from the pace measured since production started."""
    _count(ordered, "the ordered quantity", 1)
    _count(produced, "the produced quantity")
    if counted_on < production_start:
        raise ValueError(
            f"the count ({counted_on}) cannot be before production started ({production_start})"
        )
    days = (counted_on - production_start).days + 1
    pace = Decimal(produced) / Decimal(days)
    remaining = ordered - produced
    if remaining <= 0:
        completion: date | None = counted_on
    elif produced == 0:
        completion = None
    else:
        days_left = math.ceil(remaining * days / produced)
        # At a crawl the date runs past the calendar: no date to project, like no pace at all.
        completion = counted_on + timedelta(days=days_left) if days_left < 100 * 365 else None
    late = (completion - ex_factory).days if completion else None
    return Projection(
        ordered=ordered,
        produced=produced,
        production_days=days,
        pace=pace,
        projected_completion=completion,
        late_by_days=late,
        completion_share=Decimal(produced) / Decimal(ordered),
    )


def _percent(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)} %"


def packaging_flag(completion_share: Any, packaging_on_site: bool) -> str | None:
    """A warning when packaging materials are still missing from 40 % completion on: the
    packaging run would otherwise start late and under time pressure."""
    share = _decimal(completion_share, "the completion share")
    if share < 0 or share > 2:
        raise ValueError(
            f"the completion share is a fraction of the order (0.46 for 46 %); got {share}"
        )
    if packaging_on_site or share < PACKAGING_WARNING_SHARE:
        return None
    return (
        f"Packaging materials are not on site at {_percent(share)} completion: "
        "the packaging run risks starting under time pressure"
    )


def reported_vs_counted(reported: int, counted: int) -> str | None:
    """A warning when the factory's reported quantity is more than 5 % above what the
    inspector counted: schedules built on the report would be too optimistic."""
    _count(reported, "the reported quantity")
    _count(counted, "the counted quantity")
    if counted == 0:
        if reported == 0:
            return None
        return f"The factory reported {reported:,} units but none were counted."
    if Decimal(reported) <= Decimal(counted) * (1 + REPORT_OVERSTATEMENT_SHARE):
        return None
    above = Decimal(reported - counted) / Decimal(counted)
    return (
        f"The factory reported {reported:,} units but {counted:,} were counted: "
        f"the report is {_percent(above)} above the count."
    )


# --------------------------------------------------------------------------------------------
# Shipping marks and cartons

_CARTON_OF = re.compile(r"^\s*(\d+)\s*(?:of|/)\s*(\d+)\s*$", re.IGNORECASE)
MARK_KEYS = ("order_number", "destination", "carton_of")


def _words(text: Any) -> str:
    return " ".join(str(text).split()).casefold()


def check_carton_marks(
    marks: Mapping[str, Any], po_number: str, destination: str, carton_count: int
) -> list[str]:
    """Problems with the shipping marks read off one carton: the order number, the
    destination and "n of N" must match the order and the shipment's carton count."""
    _count(carton_count, "the carton count", 1)
    unknown = sorted(set(marks) - set(MARK_KEYS))
    if unknown:
        raise ValueError(
            f"unknown shipping-mark fields: {', '.join(unknown)}; expected {', '.join(MARK_KEYS)}"
        )
    problems = []
    order = marks.get("order_number")
    if not order or not str(order).strip():
        problems.append("The order number is missing from the shipping marks.")
    elif _words(order) != _words(po_number):
        problems.append(f"The marks give order number {order!r}; the order is {po_number!r}.")
    place = marks.get("destination")
    if not place or not str(place).strip():
        problems.append("The destination is missing from the shipping marks.")
    elif _words(place) != _words(destination):
        problems.append(
            f"The marks give destination {place!r}; the order ships to {destination!r}."
        )
    problems.extend(_carton_of_problems(marks.get("carton_of"), carton_count))
    return problems


def _carton_of_problems(text: Any, carton_count: int) -> list[str]:
    if text is None or not str(text).strip():
        return ["The carton number (n of N) is missing from the shipping marks."]
    match = _CARTON_OF.match(str(text))
    if not match:
        return [f"The carton number {text!r} is not in the form 'n of N' or 'n/N'."]
    number, total = int(match[1]), int(match[2])
    problems = []
    if total != carton_count:
        problems.append(f"The marks say {total} cartons in total; the shipment has {carton_count}.")
    if number < 1:
        problems.append(f"Carton {number} of {total}: cartons are numbered from 1.")
    elif number > total:
        problems.append(f"Carton {number} of {total} is numbered beyond the total.")
    return problems


CARTON_DIMENSIONS = {"length_cm": "Length", "width_cm": "Width", "height_cm": "Height"}
CARTON_WEIGHT = {"gross_weight_kg": "Gross weight"}
DEFAULT_DIMENSION_TOLERANCE_PCT = Decimal(3)
DEFAULT_WEIGHT_TOLERANCE_PCT = Decimal(5)
_TOLERANCE_KEYS = ("dimension_tolerance_pct", "weight_tolerance_pct")


def check_carton(measured: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    """Problems with one export carton's measured size (length_cm, width_cm, height_cm) and
    gross weight (gross_weight_kg) against the packing spec: ±3 % on dimensions and ±5 % on
    weight unless the spec says otherwise (dimension_tolerance_pct, weight_tolerance_pct).
    Only what the spec gives is checked; what it gives must have been measured."""
    quantities = CARTON_DIMENSIONS | CARTON_WEIGHT
    unknown = sorted(set(spec) - set(quantities) - set(_TOLERANCE_KEYS))
    unknown += sorted(set(measured) - set(quantities))
    if unknown:
        raise ValueError(
            f"unknown carton fields: {', '.join(unknown)}; expected {', '.join(quantities)}"
        )
    dimension_pct = _tolerance_pct(spec, "dimension_tolerance_pct", DEFAULT_DIMENSION_TOLERANCE_PCT)
    weight_pct = _tolerance_pct(spec, "weight_tolerance_pct", DEFAULT_WEIGHT_TOLERANCE_PCT)
    problems = []
    for key, label in quantities.items():
        if key not in spec:
            continue
        if key not in measured:
            raise ValueError(f"the spec gives {key} but it was not measured")
        target = _decimal(spec[key], f"the spec's {key}")
        actual = _decimal(measured[key], f"the measured {key}")
        if target <= 0 or actual <= 0:
            raise ValueError(f"{key} must be more than 0")
        pct = weight_pct if key in CARTON_WEIGHT else dimension_pct
        off = (actual - target) / target * 100
        if abs(off) > pct:
            unit = key.rsplit("_", 1)[1]
            direction = "above" if off > 0 else "below"
            problems.append(
                f"{label} {actual} {unit} is {abs(off).quantize(Decimal('0.1'))} % {direction} "
                f"the spec of {target} {unit} (tolerance ±{pct} %)."
            )
    return problems


def _tolerance_pct(spec: Mapping[str, Any], key: str, default: Decimal) -> Decimal:
    pct = _decimal(spec.get(key, default), f"the spec's {key}")
    if pct < 0:
        raise ValueError(f"{key} must be 0 or more; got {pct}")
    return pct


# --------------------------------------------------------------------------------------------
# Container loading


@dataclass(frozen=True)
class LoadingComparison:
    """What went into the container against the packing list, in cartons per SKU."""

    expected_total: int
    loaded_total: int
    shortages: dict[str, int]  # SKU -> cartons missing
    overages: dict[str, int]  # SKU -> cartons loaded beyond the packing list
    not_on_packing_list: dict[str, int]  # SKU -> cartons loaded
    problems: list[str]

    @property
    def matches(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_loading(
    packing_list: Mapping[str, int], loaded: Mapping[str, int]
) -> LoadingComparison:
    """Compare the cartons tallied into the container per SKU with the packing list."""
    for what, tally in (("packing list", packing_list), ("loading tally", loaded)):
        for sku, cartons in tally.items():
            _count(cartons, f"the {what}'s cartons for SKU {sku}")
    shortages, overages, problems = {}, {}, []
    for sku, expected in packing_list.items():
        count = loaded.get(sku, 0)
        if count < expected:
            shortages[sku] = expected - count
            problems.append(
                f"SKU {sku}: {expected - count} cartons short ({count} loaded of {expected})."
            )
        elif count > expected:
            overages[sku] = count - expected
            problems.append(
                f"SKU {sku}: {count - expected} cartons over ({count} loaded of {expected})."
            )
    unlisted = {sku: n for sku, n in loaded.items() if sku not in packing_list and n > 0}
    for sku, count in unlisted.items():
        problems.append(f"SKU {sku} is not on the packing list but {count} cartons were loaded.")
    expected_total, loaded_total = sum(packing_list.values()), sum(loaded.values())
    if expected_total != loaded_total:
        problems.append(
            f"{loaded_total} cartons loaded in all; the packing list has {expected_total}."
        )
    return LoadingComparison(
        expected_total=expected_total,
        loaded_total=loaded_total,
        shortages=shortages,
        overages=overages,
        not_on_packing_list=unlisted,
        problems=problems,
    )


# --------------------------------------------------------------------------------------------
# The result of an inspection

Outcome = Literal["pass", "fail", "pending"]
CRITICAL = "critical"
_ON_FAIL = ("fail", "pending")
_CHECK_RESULTS = ("pass", "fail", "na", None)


@dataclass(frozen=True)
class CheckOutcome:
    """One checklist item as answered: a mandatory item that fails makes the result fail or
    pend (``on_fail``); an optional one is only an observation. ``result`` None: not
    answered."""

    code: str
    text: str
    section: str
    mandatory: bool
    on_fail: str
    result: str | None
    lab_test: str = ""  # the lab test that replaces this item, as the report names it

    def __post_init__(self) -> None:
        if self.on_fail not in _ON_FAIL:
            raise ValueError(
                f"check {self.code}: on_fail must be 'fail' or 'pending'; got {self.on_fail!r}"
            )
        if self.result not in _CHECK_RESULTS:
            raise ValueError(
                f"check {self.code}: result must be 'pass', 'fail', 'na' or none; "
                f"got {self.result!r}"
            )

    @property
    def label(self) -> str:
        return f"{self.code} “{self.text}” ({self.section})"


@dataclass
class Result:
    """An inspection's result: pass, fail or pending (waiting on the buyer or on an
    unanswered item), with the reasons in sentences, each defect class's decision, and
    whether a reduced inspection stream must return to normal (a class accepted between Ac
    and Re, or rejected, under a reduced plan)."""

    outcome: Outcome
    reasons: list[str] = field(default_factory=list)
    per_class: dict[str, dict[str, Any]] = field(default_factory=dict)
    return_to_normal: bool = False
    observations: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge_inspection(
    plan: Mapping[str, Any] | None,
    defects: Mapping[str, int],
    checks: Iterable[CheckOutcome],
    lab_tests: Iterable["LabOutcome"] = (),
) -> Result:
    """The result of one inspection from its stored sampling plan (None when the milestone
    has no AQL sampling, e.g. container loading), the defects found per class in the
    sample, the checklist and the accredited lab tests. Any critical defect fails; each
    class is judged by its plan's Ac/Re; a failed mandatory check fails or pends; an
    unanswered one pends. A lab test decides the items it replaces: a failed one fails the
    inspection, a pending one holds it at pending (see `judge_lab_tests`)."""
    fails, pends, reasons, observations = [], [], [], []
    per_class, return_to_normal = _judge_defects(plan, defects, fails, reasons, observations)
    lab_tests = list(lab_tests)
    checks = replace_checks(list(checks), lab_tests)
    judge_lab_tests(lab_tests, fails, pends, reasons)
    for check in checks:
        if not check.lab_test:
            _judge_check(check, fails, pends, observations)
    unanswered = [c.code for c in checks if c.mandatory and c.result is None and not c.lab_test]
    if unanswered:
        # One sentence, not one per item: a fresh checklist would bury everything else.
        listed = ", ".join(unanswered[:5]) + (
            f" and {len(unanswered) - 5} more" if len(unanswered) > 5 else ""
        )
        pends.append(
            f"{len(unanswered)} mandatory check{'s' if len(unanswered) > 1 else ''} not answered "
            f"({listed}): the result is pending."
        )
    # What decides the outcome comes first; what was fine follows.
    reasons = fails + pends + reasons
    mandatory = [c for c in checks if c.mandatory]
    if mandatory and all(c.result in ("pass", "na") for c in mandatory):
        by_lab = sum(1 for c in mandatory if c.lab_test)
        lab_note = f" ({by_lab} of them by lab test)" if by_lab else ""
        reasons.append(f"All {len(mandatory)} mandatory checks passed or do not apply{lab_note}.")
    outcome: Outcome = "fail" if fails else "pending" if pends else "pass"
    return Result(
        outcome=outcome,
        reasons=reasons,
        per_class=per_class,
        return_to_normal=return_to_normal,
        observations=observations,
    )


def _judge_defects(plan, defects, fails, reasons, observations):
    for name, count in defects.items():
        _count(count, f"the {name} defect count")
    if plan is None:
        _judge_without_plan(defects, fails, observations)
        return {}, False
    classes = _plan_classes(plan)
    unknown = sorted(set(defects) - set(classes) - {CRITICAL})
    if unknown:
        raise ValueError(
            f"the sampling plan has no defect class {', '.join(unknown)}; "
            f"it judges {', '.join(classes)}"
        )
    per_class, return_to_normal = {}, False
    for name, class_plan in classes.items():
        found = defects.get(name, 0)
        n, ac, re_ = class_plan["n"], class_plan["ac"], class_plan["re"]
        if found > n:
            raise ValueError(f"{found} {name} defects found in a sample of {n} units")
        decision = _decide(found, ac, re_)
        sentence = _class_sentence(name, found, class_plan, decision, plan.get("severity"))
        if name == CRITICAL and found:
            decision = Decision.REJECT
            sentence = (
                f"{_defects(found, CRITICAL)} found in {n} units: any critical defect fails "
                "the lot."
            )
        per_class[name] = {
            "found": found,
            "n": n,
            "ac": ac,
            "re": re_,
            "aql": class_plan.get("aql"),
            "decision": str(decision),
        }
        if decision is Decision.REJECT:
            fails.append(sentence)
        else:
            reasons.append(sentence)
        # ISO 2859-1: reduced inspection returns to normal when a lot is accepted between
        # Ac and Re, and also when a lot is not accepted.
        return_to_normal |= decision is Decision.ACCEPT_RETURN_TO_NORMAL or (
            decision is Decision.REJECT and plan.get("severity") == "reduced"
        )
    if CRITICAL not in classes and defects.get(CRITICAL):
        # A plan without a critical class still cannot accept a critical defect.
        found = defects[CRITICAL]
        if isinstance(plan.get("n"), int) and found > plan["n"]:
            raise ValueError(f"{found} critical defects found in a sample of {plan['n']} units")
        fails.append(f"{_defects(found, CRITICAL)} found: any critical defect fails the lot.")
        per_class[CRITICAL] = {
            "found": found,
            "n": plan.get("n"),
            "ac": 0,
            "re": 1,
            "aql": None,
            "decision": str(Decision.REJECT),
        }
    return per_class, return_to_normal


def _judge_without_plan(defects, fails, observations):
    # Without a sampling plan there is no Ac/Re to judge a count by, but a critical
    # defect is never acceptable, sampled or not.
    for name, found in defects.items():
        if not found:
            continue
        if name == CRITICAL:
            fails.append(f"{_defects(found, CRITICAL)} found: any critical defect fails the lot.")
        else:
            observations.append(
                f"{_defects(found, name)} recorded; without a sampling plan they are noted, "
                "not judged."
            )


def _plan_classes(plan: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    if "classes" not in plan or not plan["classes"]:
        raise ValueError("the sampling plan has no defect classes")
    classes = {}
    for class_plan in plan["classes"]:
        missing = [key for key in ("defect_class", "n", "ac", "re") if key not in class_plan]
        if missing:
            raise ValueError(f"a class of the sampling plan lacks {', '.join(missing)}")
        name = class_plan["defect_class"]
        if not 0 <= class_plan["ac"] < class_plan["re"] or class_plan["n"] < 1:
            raise ValueError(
                f"the {name} plan is inconsistent: n {class_plan['n']}, Ac {class_plan['ac']}, "
                f"Re {class_plan['re']}"
            )
        classes[name] = class_plan
    return classes


def _decide(found: int, ac: int, re_: int) -> Decision:
    if found <= ac:
        return Decision.ACCEPT
    if found >= re_:
        return Decision.REJECT
    return Decision.ACCEPT_RETURN_TO_NORMAL  # only reduced plans leave a gap


def _defects(count: int, name: str) -> str:
    return f"{count} {name} defect{'' if count == 1 else 's'}"


def _class_sentence(name, found, class_plan, decision, severity) -> str:
    n, ac, re_ = class_plan["n"], class_plan["ac"], class_plan["re"]
    aql = class_plan.get("aql")
    aql_text = f" (AQL {aql})" if aql is not None else ""
    counted = f"{name.capitalize()} defects: {found if found else 'none'} found in {n} units"
    if decision is Decision.ACCEPT_RETURN_TO_NORMAL:
        return (
            f"{counted}; more than the {severity or 'reduced'} plan's acceptance number {ac} "
            f"but fewer than its rejection number {re_}{aql_text} — accepted, and inspection "
            "returns to normal from the next lot."
        )
    if name == CRITICAL:
        return f"{counted}."  # found ones never get here: they fail the lot outright
    verdict = "rejected" if decision is Decision.REJECT else "accepted"
    accepts = f"up to {ac}" if ac else "none"
    return f"{counted}; the plan accepts {accepts}{aql_text} — {verdict}."


def _judge_check(check: CheckOutcome, fails, pends, observations) -> None:
    if not check.mandatory:
        if check.result == "fail":
            observations.append(f"Optional check {check.label} failed (an observation).")
        return
    if check.result is None:
        return  # counted together by judge_inspection
    if check.result == "fail" and check.on_fail == "fail":
        fails.append(f"Mandatory check {check.label} failed: the inspection fails.")
    elif check.result == "fail":
        pends.append(
            f"Mandatory check {check.label} failed: the result is pending the buyer's decision."
        )


# --------------------------------------------------------------------------------------------
# Accredited lab tests in place of checklist items

LAB_RESULTS = ("pass", "fail", "pending")
_LAB_CLASSES = ("major", CRITICAL)


@dataclass(frozen=True)
class LabOutcome:
    """One accredited lab test of a milestone as the result sees it: what it is called in
    sentences ("LM-79 at SGS, report SGS-1234"), the checklist items it replaces, its result
    and the class of the finding when it fails (critical for a safety standard, major for a
    performance one: `lab_rules.finding_class`)."""

    name: str
    replaces: tuple[str, ...]
    result: str
    finding_class: str

    def __post_init__(self) -> None:
        if self.result not in LAB_RESULTS:
            raise ValueError(
                f"lab test {self.name}: result must be pass, fail or pending; got {self.result!r}"
            )
        if self.finding_class not in _LAB_CLASSES:
            raise ValueError(
                f"lab test {self.name}: a failed lab test is a major or critical finding; "
                f"got {self.finding_class!r}"
            )


def replace_checks(checks: list[CheckOutcome], lab_tests: list[LabOutcome]) -> list[CheckOutcome]:
    """The checklist with each replaced item answered by its lab test: pass -> pass, fail ->
    fail, pending -> not answered yet (the lab test itself holds the result at pending). An
    item is replaced by one lab test at most, and only an item of this checklist."""
    by_code = {check.code: check for check in checks}
    replaced: dict[str, LabOutcome] = {}
    for lab in lab_tests:
        for code in lab.replaces:
            if code not in by_code:
                raise ValueError(f"lab test {lab.name} replaces {code}, not on this checklist")
            if code in replaced:
                raise ValueError(
                    f"{code} is replaced by two lab tests ({replaced[code].name} and {lab.name})"
                )
            replaced[code] = lab
    answered = {"pass": "pass", "fail": "fail", "pending": None}
    return [
        replace(
            check, result=answered[replaced[check.code].result], lab_test=replaced[check.code].name
        )
        if check.code in replaced
        else check
        for check in checks
    ]


def judge_lab_tests(lab_tests: list[LabOutcome], fails, pends, reasons) -> None:
    """A failed lab test fails the inspection whatever the items it replaces would do on a
    fail (an accredited lab's fail is not the buyer's call to wave through); a pending one
    keeps the result at pending, so a milestone is never published as a pass before its lab
    results are in; a pass is a reason."""
    for lab in lab_tests:
        items = f" (in place of {', '.join(lab.replaces)})" if lab.replaces else ""
        if lab.result == "fail":
            fails.append(
                f"Lab test {lab.name} failed{items}: a {lab.finding_class} finding — the "
                "inspection fails."
            )
        elif lab.result == "pending":
            pends.append(f"Pending lab result: {lab.name}{items} — the result is pending.")
        else:
            reasons.append(f"Lab test {lab.name} passed{items}.")
