"""Reads the hand transcription in tests/data (a second copy of the tables, independent of the
package's data files) and resolves arrows the way the standard says, for comparison."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
# fmt: off
AQLS = [
    "0.010", "0.015", "0.025", "0.040", "0.065", "0.10", "0.15", "0.25", "0.40", "0.65",
    "1.0", "1.5", "2.5", "4.0", "6.5", "10", "15", "25", "40", "65",
    "100", "150", "250", "400", "650", "1000",
]
# fmt: on
LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
FILES = {
    ("single", "normal"): "table_II_A.txt",
    ("single", "tightened"): "table_II_B.txt",
    ("single", "reduced"): "table_II_C.txt",
    ("double", "normal"): "table_III_A.txt",
    ("double", "tightened"): "table_III_B.txt",
    ("double", "reduced"): "table_III_C.txt",
}


def _lines(name: str) -> list[list[str]]:
    text = (DATA / name).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append([token for token in line.split() if token != "|"])
    return rows


@cache
def code_letter_bands() -> list[tuple[int, int | None, dict[str, str]]]:
    bands = []
    for band, *letters in _lines("table_I.txt"):
        low, high = band.split("-")
        bands.append(
            (int(low), int(high) if high else None, dict(zip(LEVELS, letters, strict=True)))
        )
    return bands


def expected_code_letter(lot_size: int, level: str) -> str:
    for low, high, letters in code_letter_bands():
        if low <= lot_size and (high is None or lot_size <= high):
            return letters[level]
    raise AssertionError(lot_size)


@dataclass(frozen=True)
class Transcribed:
    codes: list[str]
    sizes: dict[str, int | None]
    cells: dict[tuple[str, str], str]


@cache
def table(scheme: str, severity: str) -> Transcribed:
    codes, sizes, cells = [], {}, {}
    for code, size, *row in _lines(FILES[(scheme, severity)]):
        assert len(row) == len(AQLS), (scheme, severity, code, len(row))
        codes.append(code)
        sizes[code] = None if size == "-" else int(size)
        for aql, cell in zip(AQLS, row, strict=True):
            cells[(code, aql)] = cell
    return Transcribed(codes, sizes, cells)


def numbers(cell: str) -> tuple[int, ...]:
    """ "10/11" -> (10, 11); "5/9,12/13" -> (5, 9, 12, 13)."""
    return tuple(int(x) for stage in cell.split(",") for x in stage.split("/"))


def resolved(scheme: str, severity: str, code: str, aql: str) -> tuple[str, str]:
    """(row code, cell) reached from (code, aql): arrows lead to the first plan in their
    direction; an arrow with nothing that way leads to the nearest plan the other way."""
    found = table(scheme, severity)
    cell = found.cells[(code, aql)]
    if cell not in ("v", "^"):
        return code, cell
    direction = 1 if cell == "v" else -1
    for step in (direction, -direction):
        index = found.codes.index(code) + step
        while 0 <= index < len(found.codes):
            here = found.cells[(found.codes[index], aql)]
            if here == "-":
                break
            if here not in ("v", "^"):
                return found.codes[index], here
            index += step
    raise AssertionError((scheme, severity, code, aql))


def expected_plan(lot_size: int, aql: str, level: str, severity: str, scheme: str) -> dict:
    """What the standard gives for a lot, from the transcription alone."""
    code = expected_code_letter(lot_size, level)
    row, cell = resolved(scheme, severity, code, aql)
    if cell == "*":
        scheme = "single"
        cell = table("single", severity).cells[(row, aql)]
    size = table(scheme, severity).sizes[row]
    if scheme == "double" and size >= lot_size:
        return expected_plan(lot_size, aql, level, severity, "single")
    values = numbers(cell)
    if scheme == "single":
        n = min(size, lot_size)
        return {
            "scheme": "single",
            "code": row,
            "n": n,
            "ac": values[0],
            "re": values[1],
            "hundred_percent": size >= lot_size,
        }
    return {
        "scheme": "double",
        "code": row,
        "n1": size,
        "ac1": values[0],
        "re1": values[1],
        "n2": min(size, lot_size - size),
        "ac2": values[2],
        "re2": values[3],
    }
