"""Reading buyers' PO spreadsheets (XLSX or CSV) into POs of typed values. Pure: no Django.

The usual shape is one row per PO line, with the PO-level columns (number, vendor, dates,
FOB...) repeated on every row of the PO or left blank after its first row (a merged PO number
cell reads the same way). Rows are numbered as the spreadsheet shows them, so that "Row 14"
is the row the buyer sees in Excel.

Three steps, each testable on its own:
  `read_table(data, filename)`  the file -> header row and data rows (raises `ImportFileError`)
  `guess_mapping(headers)`      header names (and the synonyms buyers use) -> field -> column
  `read_pos(table, mapping, options)`  rows -> `POInput`s, each with its `Issue`s per row
What a value refers to (a supplier code, a SKU) is looked up by the caller, in the database.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from qcloop.core import spreadsheets

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
HEADER_SCAN_ROWS = 15
MAX_COLUMNS = 200
MILESTONE_KINDS = ("IPC", "DUPRO", "PSI", "CLI")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    level: str  # "po": the same on every row of a PO; "line": one per row
    required: bool
    synonyms: tuple[str, ...]
    kind: str = "text"  # text | code | decimal | integer | date | milestones | flag


FIELDS = (
    Field(
        "number",
        "PO number",
        "po",
        True,
        ("po", "po no", "po number", "po num", "po nr", "po ref", "purchase order",
         "purchase order no", "purchase order number", "order no", "order number", "order"),
    ),
    Field(
        "supplier",
        "Supplier",
        "po",
        True,
        ("supplier", "vendor", "supplier code", "vendor code", "vendor no", "vendor id",
         "supplier id", "supplier no", "supplier name", "vendor name"),
    ),
    Field("factory", "Factory", "po", False, ("factory", "factory name", "plant", "site")),
    Field("agency", "QC agency", "po", False, ("qc agency", "agency", "inspection agency")),
    Field("qc_lead", "QC lead", "po", False, ("qc lead", "qc lead email", "qa lead", "qc")),
    Field("currency", "Currency", "po", True, ("currency", "ccy", "cur", "curr"), "code"),
    Field(
        "fob_value",
        "FOB value",
        "po",
        True,
        ("fob", "fob value", "fob amount", "fob total", "total fob", "po value", "order value",
         "fob price"),
        "decimal",
    ),
    Field("unit", "Unit", "po", False, ("unit", "uom", "unit of measure", "units of measure")),
    Field(
        "carton_count",
        "Cartons",
        "po",
        True,
        ("cartons", "carton", "ctns", "ctn", "carton count", "carton qty", "no of cartons",
         "number of cartons", "total cartons"),
        "integer",
    ),
    Field(
        "production_start",
        "Production start",
        "po",
        False,
        ("production start", "prod start", "start of production", "production start date"),
        "date",
    ),
    Field(
        "ex_factory_date",
        "Ex-factory date",
        "po",
        True,
        ("ex fty", "ex factory", "ex factory date", "ex fty date", "exf", "exf date", "x fty",
         "xf date", "ex works"),
        "date",
    ),
    Field(
        "ship_date",
        "Ship date",
        "po",
        True,
        ("etd", "ship date", "shipment date", "shipping date", "ship", "etd date", "sailing date"),
        "date",
    ),
    Field(
        "destination_market",
        "Destination",
        "po",
        True,
        ("destination", "market", "destination market", "dest", "country of destination",
         "ship to country", "destination country"),
        "code",
    ),
    Field(
        "retailer_compliance",
        "Retailer compliance",
        "po",
        False,
        ("retailer compliance", "compliance", "retailer", "compliance programme",
         "compliance program"),
    ),
    Field("new_material_or_tooling", "New material or tooling", "po", False,
          ("new material or tooling", "new material", "new tooling"), "flag"),
    Field("hero_sku", "Hero or launch SKU", "po", False,
          ("hero or launch sku", "hero sku", "launch sku", "hero", "launch"), "flag"),
    Field("complex_product", "Complex product", "po", False,
          ("complex product", "complex"), "flag"),
    Field("status", "Status", "po", False, ("status", "po status")),
    Field("notes", "Notes", "po", False, ("notes", "note", "remarks", "remark", "comments")),
    Field(
        "milestones",
        "Milestones",
        "po",
        False,
        ("milestones", "inspections", "qc milestones", "services"),
        "milestones",
    ),
    Field(
        "sku",
        "SKU",
        "line",
        True,
        ("sku", "item", "item no", "item number", "item code", "article", "article no",
         "article number", "style", "style no", "product code", "model", "model no"),
    ),
    Field("variant", "Variant", "line", False, ("variant", "colour", "color", "colorway", "size")),
    Field(
        "quantity",
        "Quantity",
        "line",
        True,
        ("qty", "quantity", "order qty", "po qty", "line qty", "pcs", "units", "ordered qty"),
        "integer",
    ),
)  # fmt: skip
FIELD_BY_KEY = {f.key: f for f in FIELDS}
PO_KEYS = [f.key for f in FIELDS if f.level == "po" and f.key != "number"]

# The column shape qcloop writes on export, and reads back with no mapping to choose.
EXPORT_HEADERS = [f.label for f in FIELDS]


@dataclass(frozen=True)
class Issue:
    """One thing wrong with one row: what the user reads is `str(issue)`."""

    row: int
    field: str  # the field's label ("Ex-factory date"), or "" for the row as a whole
    message: str

    def __str__(self) -> str:
        where = f"Row {self.row}, {self.field}" if self.field else f"Row {self.row}"
        return f"{where}: {self.message}"


@dataclass
class Table:
    """A sheet's header row and its data rows, each row with its spreadsheet row number."""

    headers: list[str]
    header_row: int
    rows: list[tuple[int, list]]
    kind: str  # "xlsx" or "csv"
    sheet: str = ""

    def column_name(self, index: int) -> str:
        title = self.headers[index] if index < len(self.headers) else ""
        return f"{column_letter(index)} · {title}" if title else column_letter(index)


@dataclass
class Options:
    day_first: bool = True  # 03/04/2026 is 3 April (False: 4 March)
    decimal_comma: bool | None = None  # None: tell from each value


@dataclass
class LineInput:
    row: int
    sku: str
    variant: str
    quantity: int | None


@dataclass
class POInput:
    """One PO as the file states it: PO-level values already typed (a value that does not
    parse is left out and has an `Issue`), its lines, the rows it spans."""

    number: str
    rows: list[int]
    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)  # field key -> row it came from
    lines: list[LineInput] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    conflicts: set[str] = field(default_factory=set)

    @property
    def first_row(self) -> int:
        return self.rows[0]

    def row_of(self, key: str) -> int:
        return self.sources.get(key, self.first_row)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column as Excel names it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- reading the file ----------------------------------------------------------------------


def read_table(data: bytes, filename: str = "", max_rows: int = MAX_ROWS) -> Table:
    """The file's header row and data rows. XLSX is read in openpyxl's streaming mode (the
    first sheet); anything else that decodes as text is read as CSV."""
    if not data:
        raise ImportFileError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImportFileError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_BYTES // 1024 // 1024} MB. Split it into several files."
        )
    if data[:4] == b"PK\x03\x04":
        rows, sheet, merged = _xlsx_rows(data, max_rows)
        kind = "xlsx"
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError(
            "This is an old Excel 97-2003 (.xls) file: save it as .xlsx or CSV and upload that."
        )
    else:
        rows, sheet, merged = _csv_rows(data, filename), "", []
        kind = "csv"
    return _table(rows, kind, sheet, merged, max_rows)


def _table(rows, kind: str, sheet: str, merged: list[tuple[int, int, int, int]], max_rows: int):
    numbered = [(n, cells) for n, cells in rows if any(_present(c) for c in cells)]
    if not numbered:
        raise ImportFileError("The sheet is empty: there is no header row and no data.")
    position = _header_position(numbered)
    header_row, header_cells = numbered[position]
    for first_row, first_col, last_row, last_col in merged:
        if first_row <= header_row <= last_row and last_col > first_col:
            span = f"{column_letter(first_col)}{first_row}:{column_letter(last_col)}{last_row}"
            raise ImportFileError(
                f"Row {header_row}: the header cells {span} are merged. Unmerge them so that "
                "every column has its own title, and upload the file again."
            )
    headers = [cell_text(c) for c in header_cells]
    data_rows = numbered[position + 1 :]
    if not data_rows:
        raise ImportFileError(
            f"Row {header_row} holds the column titles but no row below has data."
        )
    if len(data_rows) > max_rows:
        raise ImportFileError(
            f"The sheet has {len(data_rows):,} data rows; the limit is {max_rows:,} per file. "
            "Split it into several files."
        )
    # As wide as the last column with a title or a value: sheets often carry empty columns.
    used = [i for i, h in enumerate(headers) if h] + [
        i for _, cells in data_rows for i, c in enumerate(cells) if _present(c)
    ]
    width = max(used) + 1
    headers = (headers + [""] * width)[:width]
    return Table(headers, header_row, data_rows, kind, sheet)


def _xlsx_rows(data: bytes, max_rows: int):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken or foreign ZIP
        raise ImportFileError(
            f"This file could not be opened as an Excel workbook ({type(error).__name__}). "
            "Save it again as .xlsx or CSV."
        ) from None
    try:
        return _first_sheet_rows(book, data, max_rows)
    except ImportFileError:
        raise
    except Exception as error:  # a sheet's XML broken half-way, a part missing from the ZIP
        raise ImportFileError(
            f"This workbook is damaged ({type(error).__name__}): open it in Excel, save it "
            "again as .xlsx or CSV, and upload that."
        ) from None
    finally:
        book.close()


def _first_sheet_rows(book, data: bytes, max_rows: int):
    sheet = next((s for s in book.worksheets if s.sheet_state == "visible"), None)
    if sheet is None:
        raise ImportFileError("The workbook has no visible sheet.")
    # The sheet's stated size may be wrong either way (too small cuts rows short, a huge
    # one pads every row): read each row as long as its own cells go.
    sheet.reset_dimensions()
    rows = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if any(_present(v) for v in values):
            rows.append((number, list(values[:MAX_COLUMNS])))
        if len(rows) > max_rows + HEADER_SCAN_ROWS:
            raise ImportFileError(
                f"The sheet has more than {max_rows:,} data rows, the limit per file. "
                "Split it into several files."
            )
    return rows, sheet.title, _merged_ranges(data, sheet._worksheet_path)


MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _merged_ranges(data: bytes, sheet_path: str) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a sheet as (first row, first column, last row, last column);
    openpyxl's streaming reader does not report them, the sheet's XML does."""
    found, tail = set(), b""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(sheet_path.lstrip("/")) as f:
        # In chunks: a large sheet's XML is not held whole; the tail carries a split tag over.
        while chunk := f.read(1 << 20):
            text = tail + chunk
            found.update(MERGE.findall(text))
            tail = text[-200:]
    return [
        (int(r1), _column_index(c1.decode()), int(r2), _column_index(c2.decode()))
        for c1, r1, c2, r2 in sorted(found)
    ]


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark, as Excel writes it), else Windows-1252 (what
    Excel on a Western Windows writes for "CSV"). Bytes that are neither are not a CSV."""
    if b"\x00" in data[:4096]:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return data.decode("utf-16")
        raise ImportFileError("This is not a spreadsheet: upload an .xlsx or a CSV file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError("This is not a spreadsheet: upload an .xlsx or a CSV file.") from None
    if sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t") > 8:
        raise ImportFileError("This is not a spreadsheet: upload an .xlsx or a CSV file.")
    return text


def sniff_delimiter(text: str) -> str:
    """; (Excel in Europe), tab or , (the rest): the one that splits the first lines the
    same way most often."""
    sample = [line for line in text.splitlines()[:20] if line.strip()]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        counts = [len(next(csv.reader([line], delimiter=delimiter))) for line in sample]
        wide = [c for c in counts if c > 1]
        # Rows split into the same number of columns, and many of them: that is the delimiter.
        score = max((wide.count(c) * c for c in set(wide)), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(data: bytes, filename: str):
    text = decode_text(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(number, row[:MAX_COLUMNS]) for number, row in enumerate(reader, start=1)]
    except csv.Error as error:
        raise ImportFileError(f"This CSV file cannot be read: {error}.") from None


def _header_position(rows: list[tuple[int, list]]) -> int:
    """The row of column titles: among the first rows, the one naming the most known fields
    (a title or a date often sits above it); failing that, the first row of text cells."""
    scores = []
    for position, (_, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        titles = [normalise(cell_text(c)) for c in cells if _present(c)]
        scores.append((sum(1 for t in titles if _field_for(t)), -position))
    best, minus_position = max(scores)
    if best >= 2:
        return -minus_position
    for position, (_, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        present = [c for c in cells if _present(c)]
        if len(present) >= 2 and all(_is_title(c) for c in present):
            return position
    raise ImportFileError(
        "No row of column titles was found in the first rows: the first row should name the "
        "columns (PO number, Supplier, SKU, Qty, ...)."
    )


def _is_title(value) -> bool:
    # Column titles are words: a CSV's cells are all text, so numbers are told apart here.
    return isinstance(value, str) and not re.fullmatch(r"[\d\s.,:/+-]*", value)


# --- the mapping ---------------------------------------------------------------------------


def normalise(title: str) -> str:
    """'PO No.' -> 'po no', 'Ex-Fty' -> 'ex fty', 'FOB (USD)' -> 'fob usd'."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", title.lower()).split())


SYNONYMS = {synonym: f.key for f in FIELDS for synonym in f.synonyms}


def _field_for(title: str) -> str | None:
    """The field a normalised column title names: exactly, or without a bracketed or
    trailing currency or unit ('FOB (USD)', 'Qty pcs', 'Ex-Fty date 2026')."""
    if title in SYNONYMS:
        return SYNONYMS[title]
    words = title.split()
    for cut in range(len(words) - 1, 0, -1):
        head = " ".join(words[:cut])
        if head in SYNONYMS and len(head) >= 2:
            return SYNONYMS[head]
    return None


def guess_mapping(headers: list[str]) -> dict[str, int]:
    """Field key -> column index, for every column whose title is a known name; each field
    and each column used once, the leftmost column winning."""
    mapping: dict[str, int] = {}
    for index, title in enumerate(headers):
        key = _field_for(normalise(title))
        if key and key not in mapping:
            mapping[key] = index
    return mapping


def mapping_by_titles(headers: list[str], titles: dict[str, str]) -> dict[str, int]:
    """The guessed mapping with some fields given by column title ({"sku": "Article"}), as an
    API client names them; raises ValueError naming an unknown field or title."""
    mapping = guess_mapping(headers)
    by_title = {normalise(title): i for i, title in reversed(list(enumerate(headers)))}
    for key, title in titles.items():
        if key not in FIELD_BY_KEY:
            raise ValueError(f"Unknown field {key!r}: use one of {', '.join(FIELD_BY_KEY)}.")
        if title in (None, ""):
            mapping.pop(key, None)
            continue
        if normalise(title) not in by_title:
            raise ValueError(f"{FIELD_BY_KEY[key].label}: the file has no column {title!r}.")
        mapping[key] = by_title[normalise(title)]
    return mapping


def check_mapping(mapping: dict[str, int], table: Table) -> list[str]:
    """What is wrong with a mapping as a whole: a required field without a column, a column
    given to two fields, a column that does not exist."""
    problems = []
    for f in FIELDS:
        if f.required and mapping.get(f.key) is None:
            problems.append(f"Choose the column that holds the {f.label} (it is required).")
    used: dict[int, str] = {}
    for key, index in mapping.items():
        if index is None:
            continue
        label = FIELD_BY_KEY[key].label
        if not 0 <= index < len(table.headers):
            problems.append(f"{label}: the file has no column {column_letter(index)}.")
        elif index in used:
            problems.append(
                f"Column {table.column_name(index)} is chosen for both {used[index]} and {label}."
            )
        else:
            used[index] = label
    return problems


# --- values --------------------------------------------------------------------------------


def _present(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def cell_text(value) -> str:
    """A cell as text: codes typed as numbers (vendor 10023, PO 4500012345) lose the '.0'
    Excel gives them; dates are written ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
        return text[1:]  # neutralised on export (see `safe_cell`): the value is what follows
    return text


# Exports neutralise formulas with a leading apostrophe (qcloop.core.spreadsheets), which
# `cell_text` takes off again on import.
safe_cell = spreadsheets.safe_cell
FORMULA_STARTS = spreadsheets.FORMULA_STARTS


EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01, past Excel's phantom 29 Feb 1900
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
NUMERIC = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})")
DAY_MONTH_NAME = re.compile(r"(\d{1,2})[ \-/.]?([a-z]{3,9})\.?[ \-/.,]*(\d{4}|\d{2})")
MONTH_NAME_DAY = re.compile(r"([a-z]{3,9})\.? (\d{1,2}),? (\d{4})")
DATE_HINT = "write it as 2026-03-14, 14/03/2026 or as an Excel date"


def parse_date(value, day_first: bool = True) -> date:
    """A date from an Excel date cell, an Excel serial number, ISO text, d/m/Y (or m/d/Y when
    not `day_first`; d.m.Y is always day first), or '14-Mar-2026' / 'Mar 14, 2026'.
    Raises ValueError with the message for the user."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(value)
    raw = cell_text(value)
    text = raw.lower()
    try:
        if text.isdigit() and len(text) == 5:
            return _from_serial(int(text))
        if m := ISO.fullmatch(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := NUMERIC.fullmatch(text):
            first, second, year = int(m[1]), int(m[3]), _year(m[4])
            day, month = (first, second) if day_first or m[2] == "." else (second, first)
            return date(year, month, day)
        if (m := DAY_MONTH_NAME.fullmatch(text)) and m[2] in MONTHS:
            return date(_year(m[3]), MONTHS[m[2]], int(m[1]))
        if (m := MONTH_NAME_DAY.fullmatch(text)) and m[1] in MONTHS:
            return date(int(m[3]), MONTHS[m[1]], int(m[2]))
    except ValueError:
        raise ValueError(f"'{raw}' is not a date") from None
    raise ValueError(f"'{raw}' is not a date ({DATE_HINT})")


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _from_serial(serial: float) -> date:
    # 61 is 1 March 1900, the first serial the 1900 leap-year bug leaves right; no PO is older.
    if not 61 <= serial < 2958466 or serial != int(serial):
        raise ValueError(f"'{cell_text(serial)}' is not a date ({DATE_HINT})")
    return EXCEL_EPOCH + timedelta(days=int(serial))


def guess_day_first(values) -> bool | None:
    """True when some date text can only be day first (25/03/2026), False when some can only
    be month first (03/25/2026), None when every one reads both ways (or they disagree)."""
    firsts = seconds = False
    for value in values:
        if not isinstance(value, str):
            continue
        m = NUMERIC.fullmatch(value.strip())
        if not m or m[2] == ".":
            continue
        firsts |= int(m[1]) > 12
        seconds |= int(m[3]) > 12
    if firsts != seconds:
        return firsts
    return None


CURRENCY_MARKS = re.compile(r"^[A-Za-z]{3}\s*|\s*[A-Za-z]{3}$|[$€£¥]")


def parse_decimal(value, decimal_comma: bool | None = None) -> Decimal:
    """A number from a number cell or from text with thousands separators and a decimal point
    or comma ('1,234.50', '1.234,50', '1 234,5', "1'234.50", 'USD 48,250.00'). With
    `decimal_comma` None a lone comma followed by three digits is a thousands separator.
    Raises ValueError with the message for the user."""
    if isinstance(value, bool):
        raise ValueError(f"'{cell_text(value)}' is not a number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that is this float: 0.1, not 0.1000...
    raw = cell_text(value)
    text = CURRENCY_MARKS.sub("", raw.replace("\u00a0", " ")).replace(" ", "").replace("'", "")
    text = _one_decimal_point(text, decimal_comma)
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", text):
        raise ValueError(f"'{raw}' is not a number")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{raw}' is not a number") from None


def _one_decimal_point(text: str, decimal_comma: bool | None) -> str:
    commas, points = text.count(","), text.count(".")
    if commas and points:
        # Both: the one that comes last is the decimal separator.
        if text.rfind(",") > text.rfind("."):
            return text.replace(".", "").replace(",", ".")
        return text.replace(",", "")
    if commas:
        decimal = decimal_comma
        if decimal is None:
            decimal = commas == 1 and len(text) - text.rfind(",") - 1 != 3
        return text.replace(",", ".") if decimal and commas == 1 else text.replace(",", "")
    if points and decimal_comma and (points > 1 or len(text) - text.rfind(".") - 1 == 3):
        return text.replace(".", "")  # 1.234 in a decimal-comma file is a thousand and more
    return text


def parse_integer(value, decimal_comma: bool | None = None) -> int:
    """A whole number ('3,000', 3000.0); 12.5 is an error, not 12."""
    number = parse_decimal(value, decimal_comma)
    if number != number.to_integral_value():
        raise ValueError(f"'{cell_text(value)}' is not a whole number")
    return int(number)


def parse_milestones(value) -> list[str]:
    """'IPC, DUPRO, PSI' -> ['IPC', 'DUPRO', 'PSI']; 'all' or 'full' -> all four."""
    words = re.split(r"[\s,;/+|]+", cell_text(value).upper())
    words = [w for w in words if w]
    if words in (["ALL"], ["FULL"]):
        return list(MILESTONE_KINDS)
    unknown = [w for w in words if w not in MILESTONE_KINDS]
    if unknown:
        raise ValueError(f"'{unknown[0]}' is not a milestone: use IPC, DUPRO, PSI or CLI")
    return [k for k in MILESTONE_KINDS if k in words]


YES = {"yes", "y", "x", "true", "1", "oui", "ja", "si"}
NO = {"no", "n", "false", "0", "non", "nein", ""}


def parse_flag(value) -> bool:
    """Yes / no, as buyers tick a column: yes, y, x, true, 1 (and no, n, false, 0, blank)."""
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"'{cell_text(value)}' is neither yes nor no")


def typed(f: Field, value, options: Options):
    """The cell's value as the field's type (raises ValueError with the user's message)."""
    if f.kind == "date":
        return parse_date(value, options.day_first)
    if f.kind == "decimal":
        return parse_decimal(value, options.decimal_comma)
    if f.kind == "integer":
        return parse_integer(value, options.decimal_comma)
    if f.kind == "milestones":
        return parse_milestones(value)
    if f.kind == "flag":
        return parse_flag(value)
    if f.kind == "code":
        return cell_text(value).upper()
    return cell_text(value)


# --- rows into POs -------------------------------------------------------------------------


def read_pos(table: Table, mapping: dict[str, int], options: Options) -> list[POInput]:
    """Group the rows into POs: a row with a PO number starts (or continues) that PO; a row
    without one continues the PO above. PO-level values may be repeated on every row of the
    PO or given once; two rows giving different values is an error, as is a PO whose rows
    are not together (the same number twice in the file)."""
    pos: list[POInput] = []
    seen: dict[str, POInput] = {}
    for number, cells in table.rows:
        row = _Row(number, cells, mapping)
        po_number = row.text("number")
        current = pos[-1] if pos else None
        if po_number and (current is None or po_number != current.number):
            current = POInput(po_number, [number])
            if po_number in seen:
                earlier = seen[po_number]
                current.issues.append(
                    Issue(
                        number,
                        "PO number",
                        f"PO {po_number} is already in this file (row {earlier.first_row}); "
                        "put all of a PO's rows together, one row per line.",
                    )
                )
            else:
                seen[po_number] = current
            pos.append(current)
        elif current is None:
            current = POInput("", [number])
            current.issues.append(Issue(number, "PO number", "Enter the PO number."))
            pos.append(current)
        else:
            current.rows.append(number)
        _read_po_values(current, row, options)
        _read_line(current, row, options)
    column = {FIELD_BY_KEY[key].label: index for key, index in mapping.items()}
    for po in pos:  # as the user reads the sheet: row by row, left to right
        po.issues.sort(key=lambda i: (i.row, column.get(i.field, -1)))
    return pos


class _Row:
    def __init__(self, number: int, cells: list, mapping: dict[str, int]):
        self.number, self.cells, self.mapping = number, cells, mapping

    def value(self, key: str):
        index = self.mapping.get(key)
        if index is None or index >= len(self.cells):
            return None
        value = self.cells[index]
        return value if _present(value) else None

    def text(self, key: str) -> str:
        return cell_text(self.value(key))


def _read_po_values(po: POInput, row: _Row, options: Options) -> None:
    for key in PO_KEYS:
        raw = row.value(key)
        if raw is None:
            continue
        f = FIELD_BY_KEY[key]
        try:
            value = typed(f, raw, options)
        except ValueError as error:
            po.issues.append(Issue(row.number, f.label, str(error)))
            po.sources.setdefault(key, row.number)
            continue
        if key not in po.sources:
            po.values[key], po.sources[key] = value, row.number
        elif key in po.values and po.values[key] != value and key not in po.conflicts:
            po.conflicts.add(key)  # said once per PO and column: the first row that differs
            po.issues.append(
                Issue(
                    row.number,
                    f.label,
                    f"'{cell_text(raw)}' differs from row {po.sources[key]} of PO {po.number} "
                    f"('{_shown(po.values[key])}'): every row of a PO must agree.",
                )
            )


def _shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    return cell_text(value)


def _read_line(po: POInput, row: _Row, options: Options) -> None:
    sku, variant, quantity = row.value("sku"), row.value("variant"), row.value("quantity")
    nothing = sku is None and quantity is None and variant is None
    if nothing and (po.lines or row.number != po.first_row):
        return  # a row of PO-level values only (a subtotal, a repeated header cell)
    line = LineInput(row.number, cell_text(sku), cell_text(variant), None)
    if sku is None:
        po.issues.append(Issue(row.number, "SKU", "Enter the SKU of the line."))
    if quantity is None:
        po.issues.append(Issue(row.number, "Quantity", "Enter the quantity."))
    else:
        try:
            line.quantity = parse_integer(quantity, options.decimal_comma)
        except ValueError as error:
            po.issues.append(Issue(row.number, "Quantity", str(error)))
    po.lines.append(line)


def table_from_values(headers: list[str], rows: list[list], kind: str = "xlsx") -> Table:
    """A Table from values in memory (rows numbered from 2, under the header on row 1)."""
    return Table(list(headers), 1, [(i, list(r)) for i, r in enumerate(rows, start=2)], kind)
