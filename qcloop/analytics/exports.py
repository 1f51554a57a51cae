"""Every table of the dashboard and the scorecards, as CSV and XLSX: buyers analyse in Excel,
Power BI and Google Sheets. A table is plain data (column titles and rows of values); the two
formats write the same table, so what the page shows is what the file holds."""

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.http import Http404, HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from qcloop.core.spreadsheets import safe_text

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Excel's own limit on a sheet's name.
SHEET_NAME_MAX = 31


@dataclass(frozen=True)
class Table:
    """One exportable table: `name` is the file's stem ("po-per-milestone"), `title` the
    caption, `columns` the header row and `rows` the values (numbers stay numbers, dates
    dates, None an empty cell)."""

    name: str
    title: str
    columns: list[str]
    rows: list[list]

    def __post_init__(self):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", self.name):
            raise ValueError(f"name: {self.name!r} is not a lower-case file stem.")
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"rows[{i}]: {len(row)} values for {len(self.columns)} columns in {self.name}."
                )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value))


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark: Excel then reads accents and CJK names right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _excel_value(value):
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones: write UTC, which the column title says.
        return value.astimezone(UTC).replace(tzinfo=None)
    if value is None or isinstance(value, int | float | date):
        return value
    # openpyxl would even store text starting with "=" as a formula: it must stay text.
    return safe_text(str(value))


def to_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table, header in bold, first row frozen, columns sized to their text."""
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.title[:SHEET_NAME_MAX].replace("/", "-"))
        sheet.append(table.columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_excel_value(v) for v in row])
        sheet.freeze_panes = "A2"
        for i, title in enumerate(table.columns, start=1):
            width = max([len(title)] + [len(_cell_text(r[i - 1])) for r in table.rows[:500]])
            sheet.column_dimensions[get_column_letter(i)].width = min(60, width + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_response(tables: list[Table], name: str, fmt: str, stem: str) -> HttpResponse:
    """The table called `name` (or, for XLSX, name "all": every table, one sheet each) as a
    download named `<stem>-<name>.<fmt>`; 404 for an unknown table or format."""
    if fmt not in FORMATS:
        raise Http404(f"No export format {fmt!r}: csv or xlsx.")
    chosen = tables if (name == "all" and fmt == "xlsx") else [t for t in tables if t.name == name]
    if not chosen:
        raise Http404(f"No table {name!r} here.")
    body = to_csv(chosen[0]) if fmt == "csv" else to_xlsx(chosen)
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{stem}-{name}.{fmt}"'
    return response
