"""The MIL-STD-105E / ANSI/ASQ Z1.4-1993 tables (numerically ISO 2859-1), kept as data.

The CSV files in ``data/`` hold every cell as printed: a plan (``"10 11"``; double plans
``"5 9 12 13"`` = Ac1 Re1 Ac2 Re2 with cumulative second-stage numbers), an arrow (``↓`` use the
first plan below, ``↑`` the first plan above), ``*`` (double tables: use the corresponding
single plan) or empty (no cell: only the tightened tables' code letter S has one plan).

This module reads them and follows arrows; it knows nothing about lots or decisions.
"""

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from numbers import Integral

# The AQL series exactly as the tables print it (percent nonconforming up to 10,
# nonconformities per 100 units above).
AQLS: tuple[str, ...] = (
    "0.010",
    "0.015",
    "0.025",
    "0.040",
    "0.065",
    "0.10",
    "0.15",
    "0.25",
    "0.40",
    "0.65",
    "1.0",
    "1.5",
    "2.5",
    "4.0",
    "6.5",
    "10",
    "15",
    "25",
    "40",
    "65",
    "100",
    "150",
    "250",
    "400",
    "650",
    "1000",
)
# Critical defects are commonly given "AQL 0": nothing is accepted (Ac 0, Re 1).
ZERO_AQL = "0"
LEVELS: tuple[str, ...] = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
SEVERITIES: tuple[str, ...] = ("normal", "tightened", "reduced")
SCHEMES: tuple[str, ...] = ("single", "double")

ARROW_DOWN = "↓"
ARROW_UP = "↑"
USE_SINGLE = "*"
ARROWS = (ARROW_DOWN, ARROW_UP)

TABLE_NAMES: dict[tuple[str, str], str] = {
    ("single", "normal"): "II-A",
    ("single", "tightened"): "II-B",
    ("single", "reduced"): "II-C",
    ("double", "normal"): "III-A",
    ("double", "tightened"): "III-B",
    ("double", "reduced"): "III-C",
}

_AQL_VALUES = {aql: Decimal(aql) for aql in AQLS}


def _allowed(values) -> str:
    return ", ".join(values)


def check_lot_size(lot_size: int) -> int:
    """A lot (batch) size: the number of units offered for inspection, at least 2."""
    if isinstance(lot_size, bool) or not isinstance(lot_size, Integral) or lot_size < 2:
        raise ValueError(
            f"lot size must be a whole number of units, 2 or more (allowed: 2 and over); "
            f"got {lot_size!r}"
        )
    return int(lot_size)


def parse_aql(aql: float | int | str, *, allow_zero: bool = False) -> str:
    """The AQL as the tables print it ("1.0", "10"); floats and other spellings are matched
    by value, so 1.0, "1", "1.00" all give "1.0"."""
    if isinstance(aql, bool):
        raise ValueError(_aql_error(aql, allow_zero))
    try:
        # repr() of a float is its shortest exact spelling: 0.1 -> "0.1", matching "0.10".
        value = Decimal(aql.strip()) if isinstance(aql, str) else Decimal(repr(float(aql)))
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(_aql_error(aql, allow_zero)) from None
    if allow_zero and value == 0:
        return ZERO_AQL
    for printed, printed_value in _AQL_VALUES.items():
        if value == printed_value:
            return printed
    raise ValueError(_aql_error(aql, allow_zero))


def _aql_error(aql, allow_zero: bool) -> str:
    extra = " (or 0 for zero acceptance)" if allow_zero else ""
    return f"AQL {aql!r} is not in the ISO 2859-1 series; allowed values{extra}: {_allowed(AQLS)}"


def parse_level(level: str) -> str:
    """An inspection level: special S-1..S-4 (small samples) or general I, II (default), III."""
    text = str(level).strip().upper().replace(" ", "")
    if text in {"S1", "S2", "S3", "S4"}:
        text = f"S-{text[1]}"
    if text not in LEVELS:
        raise ValueError(f"unknown inspection level {level!r}; allowed levels: {_allowed(LEVELS)}")
    return text


def parse_severity(severity: str) -> str:
    """Normal, tightened or reduced inspection (chosen by the switching rules)."""
    text = str(severity).strip().lower()
    if text not in SEVERITIES:
        raise ValueError(
            f"unknown inspection severity {severity!r}; allowed: {_allowed(SEVERITIES)}"
        )
    return text


def parse_scheme(scheme: str) -> str:
    """Single sampling (one sample) or double sampling (a second sample when undecided)."""
    text = str(scheme).strip().lower()
    if text not in SCHEMES:
        raise ValueError(f"unknown sampling scheme {scheme!r}; allowed: {_allowed(SCHEMES)}")
    return text


def _data_rows(filename: str) -> list[list[str]]:
    text = resources.files("qcloop.sampling").joinpath("data", filename).read_text("utf-8")
    return list(csv.reader(text.splitlines()))


@dataclass(frozen=True)
class CodeLetterRow:
    """One row of Table I: a lot-size band and its code letter at each inspection level."""

    lot_min: int
    lot_max: int | None  # None: "500 001 and over"
    letters: dict[str, str]


@cache
def code_letter_table() -> tuple[CodeLetterRow, ...]:
    header, *rows = _data_rows("code_letters.csv")
    levels = header[2:]
    return tuple(
        CodeLetterRow(
            lot_min=int(row[0]),
            lot_max=int(row[1]) if row[1] else None,
            letters=dict(zip(levels, row[2:], strict=True)),
        )
        for row in rows
    )


def code_letter(lot_size: int, level: str = "II") -> str:
    """Table I: the sample size code letter for a lot size at an inspection level."""
    lot_size = check_lot_size(lot_size)
    level = parse_level(level)
    for row in code_letter_table():
        if row.lot_max is None or lot_size <= row.lot_max:
            return row.letters[level]
    raise AssertionError("Table I ends with an open band")  # pragma: no cover


@dataclass(frozen=True)
class MasterTable:
    """One master table (II-A .. III-C): a sample size per code letter and the printed cells."""

    name: str
    scheme: str
    severity: str
    codes: tuple[str, ...]
    sizes: dict[str, int | None]  # first-sample size for double tables; None: no plans
    cells: dict[tuple[str, str], str]

    def cell(self, code: str, aql: str) -> str:
        return self.cells[(code, aql)]


@cache
def master_table(scheme: str, severity: str) -> MasterTable:
    scheme, severity = parse_scheme(scheme), parse_severity(severity)
    header, *rows = _data_rows(f"{scheme}_{severity}.csv")
    if tuple(header[2:]) != AQLS:
        raise ValueError(f"{scheme}_{severity}.csv: AQL columns differ from the series")
    codes = tuple(row[0] for row in rows)
    return MasterTable(
        name=TABLE_NAMES[(scheme, severity)],
        scheme=scheme,
        severity=severity,
        codes=codes,
        sizes={row[0]: int(row[1]) if row[1] else None for row in rows},
        cells={
            (row[0], aql): cell for row in rows for aql, cell in zip(AQLS, row[2:], strict=True)
        },
    )


@dataclass(frozen=True)
class Resolution:
    """Where a lookup ended after following arrows.

    ``entry_code`` is the Table I letter the lookup started from; ``code`` the row the plan
    was read from (it differs when an arrow was followed); ``cell`` the printed plan or ``*``.
    ``reversed`` marks the few printed arrows that point off the table (e.g. Table II-A, code
    A, AQL 10 points up from the first row): there the nearest plan the other way is used.
    """

    entry_code: str
    code: str
    cell: str
    arrow: str | None
    reversed: bool


def resolve(table: MasterTable, code: str, aql: str) -> Resolution:
    """Follow the arrows from (code, aql) to the first plan in the arrow's direction, as the
    standard says; the sample size and Ac/Re both come from the row reached."""
    start = table.cell(code, aql)
    if start not in ARROWS:
        return Resolution(code, code, start, None, False)
    step = 1 if start == ARROW_DOWN else -1
    found = _walk(table, code, aql, step)
    flipped = found is None
    if flipped:
        found = _walk(table, code, aql, -step)
    if found is None:  # pragma: no cover - every column of every table holds plans
        raise ValueError(f"Table {table.name}: no plan in column {aql}")
    return Resolution(code, found, table.cell(found, aql), start, flipped)


def _walk(table: MasterTable, code: str, aql: str, step: int) -> str | None:
    index = table.codes.index(code) + step
    while 0 <= index < len(table.codes):
        cell = table.cell(table.codes[index], aql)
        if cell == "":  # no cell (code S outside its one column): off the table
            return None
        if cell not in ARROWS:
            return table.codes[index]
        index += step
    return None


def parse_numbers(cell: str) -> tuple[int, ...]:
    """The acceptance/rejection numbers of a printed plan cell."""
    return tuple(int(part) for part in cell.split())
