"""The tables as files: CSV with a byte-order mark and CRLF lines that parse back to the same
cells, XLSX that openpyxl opens with a bold header, typed values and one sheet per table, and
the download answering 404 for what does not exist."""

import csv
import io
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.http import Http404
from openpyxl import load_workbook

from qcloop.analytics.exports import Table, export_response, to_csv, to_xlsx

SHANGHAI = timezone(timedelta(hours=8))


def rates_table() -> Table:
    return Table(
        "supplier-defects",
        "Defect rates by supplier",
        ["Supplier", "Units", "Major per 100", "Inspected", "Published (UTC)", "Note"],
        [
            ["Zhongshan Brightway 照明", 400, 1.75, date(2025, 3, 4), None, 'says "ok", twice'],
            [
                "Tân Phú Trung",
                0,
                None,
                date(2025, 3, 5),
                datetime(2025, 3, 5, 9, 30, tzinfo=UTC),
                "",
            ],
        ],
    )


def flags_table() -> Table:
    return Table("trend-flags", "Trend flags", ["PO", "p-value"], [["PO-1", 0.0123]])


def test_csv_has_a_bom_crlf_lines_and_parses_back_to_the_cells():
    body = to_csv(rates_table())
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8")
    assert text.count("\r\n") == 3 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert rows == [
        ["Supplier", "Units", "Major per 100", "Inspected", "Published (UTC)", "Note"],
        ["Zhongshan Brightway 照明", "400", "1.75", "2025-03-04", "", 'says "ok", twice'],
        ["Tân Phú Trung", "0", "", "2025-03-05", "2025-03-05T09:30:00+00:00", ""],
    ]


def test_xlsx_one_sheet_per_table_bold_header_typed_values():
    book = load_workbook(io.BytesIO(to_xlsx([rates_table(), flags_table()])))
    assert book.sheetnames == ["Defect rates by supplier", "Trend flags"]
    sheet = book["Defect rates by supplier"]
    assert [c.value for c in sheet[1]] == rates_table().columns
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    first = [c.value for c in sheet[2]]
    assert first[:3] == ["Zhongshan Brightway 照明", 400, 1.75]
    assert isinstance(first[1], int) and isinstance(first[2], float)
    assert first[3].date() == date(2025, 3, 4)  # a date cell (openpyxl reads it as datetime)
    assert first[4] is None and first[5] == 'says "ok", twice'
    assert book["Trend flags"]["B2"].value == 0.0123


def test_xlsx_writes_an_aware_time_as_utc_whatever_the_servers_zone(monkeypatch):
    # 17:30 in Shanghai is 09:30 UTC; the server's own zone must not creep in.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        table = Table("t", "Times", ["At (UTC)"], [[datetime(2025, 3, 5, 17, 30, tzinfo=SHANGHAI)]])
        sheet = load_workbook(io.BytesIO(to_xlsx([table])))["Times"]
        assert sheet["A2"].value == datetime(2025, 3, 5, 9, 30)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_long_title_fits_excels_31_characters_and_loses_its_slashes():
    table = Table("long", "Defects per 100 units by supplier/month and class", ["A"], [[1]])
    book = load_workbook(io.BytesIO(to_xlsx([table])))
    assert book.sheetnames == ["Defects per 100 units by suppli"]
    slashed = Table("s", "Major/minor", ["A"], [[1]])
    assert load_workbook(io.BytesIO(to_xlsx([slashed]))).sheetnames == ["Major-minor"]


def test_export_response_names_the_file_and_sets_the_type():
    response = export_response([rates_table(), flags_table()], "trend-flags", "csv", "dash-2025")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="dash-2025-trend-flags.csv"'
    assert response.content.decode("utf-8-sig").splitlines()[1] == "PO-1,0.0123"
    workbook = export_response([rates_table(), flags_table()], "all", "xlsx", "dash")
    assert workbook["Content-Disposition"] == 'attachment; filename="dash-all.xlsx"'
    assert load_workbook(io.BytesIO(workbook.content)).sheetnames == [
        "Defect rates by supplier",
        "Trend flags",
    ]
    one = export_response([rates_table(), flags_table()], "trend-flags", "xlsx", "dash")
    assert load_workbook(io.BytesIO(one.content)).sheetnames == ["Trend flags"]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("trend-flags", "pdf"), ("nope", "csv"), ("nope", "xlsx"), ("all", "csv")],
)
def test_export_response_404s_for_an_unknown_table_or_format(name, fmt):
    with pytest.raises(Http404):
        export_response([rates_table(), flags_table()], name, fmt, "dash")


@pytest.mark.parametrize("name", ["Supplier Defects", "-lead", "über", "a_b", ""])
def test_a_table_name_must_be_a_lower_case_file_stem(name):
    with pytest.raises(ValueError, match="name:"):
        Table(name, "T", ["A"], [])


def test_every_row_must_have_a_value_per_column():
    with pytest.raises(ValueError, match=r"rows\[1\]: 1 values for 2 columns in t"):
        Table("t", "T", ["A", "B"], [[1, 2], [3]])


HOSTILE = ['=HYPERLINK("http://x","y")', "+1+cmd|'/C calc'!A0", "-2+3", "@SUM(A1)", "\t=1"]


def hostile_table() -> Table:
    return Table(
        "hostile", "Hostile", ["Supplier", "Value"], [[name, -5] for name in HOSTILE] + [["-7", 1]]
    )


def test_csv_cells_that_a_spreadsheet_would_run_stay_text():
    rows = list(csv.reader(io.StringIO(to_csv(hostile_table()).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [f"'{name}" for name in HOSTILE] + ["-7"]
    assert {row[1] for row in rows[1:-1]} == {"-5"}  # a negative number is not a formula


def test_xlsx_cells_that_a_spreadsheet_would_run_are_text_not_formulas():
    sheet = load_workbook(io.BytesIO(to_xlsx([hostile_table()])))["Hostile"]
    names = [sheet.cell(row=r, column=1) for r in range(2, 2 + len(HOSTILE))]
    assert [c.value for c in names] == [f"'{name}" for name in HOSTILE]
    assert {c.data_type for c in names} == {"s"}, "no cell stored as a formula"
    assert sheet.cell(row=2, column=2).value == -5
