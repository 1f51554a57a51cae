"""The spreadsheet reader on its own, without a database: files made in the tests with
openpyxl and csv, values checked by hand."""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from qcloop.orders import importing
from qcloop.orders.importing import (
    ImportFileError,
    Options,
    guess_mapping,
    parse_date,
    parse_decimal,
    parse_integer,
    read_pos,
    read_table,
)

HEADERS = ["PO #", "Vendor", "Item", "Qty", "Ex-Fty", "ETD", "FOB", "Currency", "Ctns", "Dest"]


def xlsx(rows, merge: str | None = None, title_rows=()) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [*title_rows, *rows]:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, delimiter=",", encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


# --- reading files -------------------------------------------------------------------------


def test_xlsx_rows_keep_their_spreadsheet_numbers_and_typed_cells():
    table = read_table(
        xlsx(
            [HEADERS, ["PO-1", "V01", "SKU-1", 100, datetime(2026, 3, 14), "2026-03-20", 1234.5]],
            merge="A1:F1",  # a merged title above the headers is fine
            title_rows=[["Open orders, March 2026"], []],
        )
    )
    # Title on row 1, a blank row 2, the headers on row 3: the data is row 4, as Excel shows.
    assert table.kind == "xlsx" and table.header_row == 3
    assert table.headers[:4] == ["PO #", "Vendor", "Item", "Qty"]
    number, cells = table.rows[0]
    assert number == 4 and cells[3] == 100 and cells[4] == datetime(2026, 3, 14)


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    # Excel's "CSV UTF-8", a plain UTF-8 file, Windows "CSV" in Europe, "Unicode text".
    [(",", "utf-8-sig"), (";", "utf-8"), ("\t", "cp1252"), (";", "cp1252"), ("\t", "utf-16")],
)
def test_csv_encodings_and_delimiters_are_sniffed(delimiter, encoding):
    rows = [HEADERS, ["PO-1", "Usine Lumière", "SKU-1", "1.200", "14/03/2026"]]
    table = read_table(csv_bytes(rows, delimiter, encoding), "orders.csv")
    assert table.kind == "csv" and table.headers[:3] == ["PO #", "Vendor", "Item"]
    assert table.rows[0] == (2, ["PO-1", "Usine Lumière", "SKU-1", "1.200", "14/03/2026"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"%PDF-1.7\n\x00\x01\x02binary", "This is not a spreadsheet"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel 97-2003 (.xls)"),
        (b"PK\x03\x04not really a zip", "could not be opened as an Excel workbook"),
        (b"\n\n ,, \n", "The sheet is empty"),
        (b"PO #,Vendor,Item\n", "holds the column titles but no row below has data"),
    ],
)
def test_files_that_cannot_be_read_say_why(data, message):
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_table(data, "upload")


def test_an_empty_sheet_is_refused():
    with pytest.raises(ImportFileError, match="The sheet is empty"):
        read_table(xlsx([]))


def test_merged_header_cells_are_refused_with_their_range():
    data = xlsx([["PO", "", "Item", "Qty"], ["PO-1", "V01", "SKU-1", 5]], merge="A1:B1")
    with pytest.raises(ImportFileError, match="Row 1: the header cells A1:B1 are merged"):
        read_table(data)


def test_merged_data_cells_below_the_header_are_fine():
    data = xlsx([HEADERS[:4], ["PO-1", "V01", "SKU-1", 5], [None, None, "SKU-2", 6]], "A2:A3")
    assert len(read_table(data).rows) == 2


def test_size_and_row_caps(monkeypatch):
    rows = [HEADERS[:4]] + [[f"PO-{i}", "V", "S", 1] for i in range(6)]
    with pytest.raises(ImportFileError, match="6 data rows; the limit is 5 per file"):
        read_table(csv_bytes(rows), max_rows=5)
    monkeypatch.setattr(importing, "MAX_BYTES", 100)
    with pytest.raises(ImportFileError, match="the limit is 0 MB"):
        read_table(b"x" * 101)


def test_an_xlsx_row_cap_stops_reading_early():
    rows = [HEADERS[:4]] + [[f"PO-{i}", "V", "S", 1] for i in range(30)]
    with pytest.raises(ImportFileError, match="more than 10 data rows, the limit per file"):
        read_table(xlsx(rows), max_rows=10)  # 10 + 15 rows read, then it stops


def test_a_wrong_sheet_dimension_neither_cuts_nor_pads_rows():
    data = xlsx([HEADERS[:4], ["PO-1", "V01", "SKU-1", 5]])
    # A generator that writes <dimension ref="A1"/> whatever the sheet holds.
    data = _rewrite_sheet(
        data, lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1"', xml)
    )
    assert read_table(data).rows == [(2, ["PO-1", "V01", "SKU-1", 5])]
    huge = _rewrite_sheet(data, lambda xml: xml.replace(b'ref="A1"', b'ref="A1:XFD1048576"'))
    assert read_table(huge).headers == HEADERS[:4]


def test_a_workbook_damaged_half_way_is_refused():
    data = xlsx([HEADERS[:4]] + [[f"PO-{i}", "V01", "SKU-1", i] for i in range(50)])
    broken = _rewrite_sheet(data, lambda xml: xml[: len(xml) // 2])  # the sheet's XML cut short
    with pytest.raises(ImportFileError, match="This workbook is damaged"):
        read_table(broken)


def _rewrite_sheet(data: bytes, change) -> bytes:
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(item, content)
    return out.getvalue()


def test_no_header_row_is_an_error():
    with pytest.raises(ImportFileError, match="No row of column titles"):
        read_table(csv_bytes([[1, 2, 3], [4, 5, 6]]))


# --- the mapping ---------------------------------------------------------------------------


def test_the_mapping_is_guessed_from_the_names_buyers_use():
    headers = [
        "PO No.",
        "Supplier code",
        "SKU",
        "Order Qty",
        "Ex-Fty",
        "ETD",
        "FOB (USD)",
        "Currency",
        "CTNS",
        "Destination",
        "Colour",
        "Remarks",
        "Something else",
    ]
    assert guess_mapping(headers) == {
        "number": 0,
        "supplier": 1,
        "sku": 2,
        "quantity": 3,
        "ex_factory_date": 4,
        "ship_date": 5,
        "fob_value": 6,  # "fob usd": the trailing currency word is cut
        "currency": 7,
        "carton_count": 8,
        "destination_market": 9,
        "variant": 10,
        "notes": 11,
    }
    assert guess_mapping(["PO #", "Vendor", "Item", "Qty"])["number"] == 0


def test_the_export_headers_map_to_every_field():
    mapping = guess_mapping(importing.EXPORT_HEADERS)
    assert mapping == {f.key: i for i, f in enumerate(importing.FIELDS)}


def test_a_mapping_without_a_required_column_or_with_a_column_twice():
    table = importing.table_from_values(HEADERS, [["PO-1"] * len(HEADERS)])
    problems = importing.check_mapping({"number": 0, "supplier": 0, "quantity": 99}, table)
    assert "Choose the column that holds the SKU (it is required)." in problems
    assert "Column A · PO # is chosen for both PO number and Supplier." in problems
    assert "Quantity: the file has no column CV." in problems  # 99 = 3*26 + 21: C, V


def test_an_api_mapping_names_columns_by_title():
    headers = ["Order", "Maker", "Article", "Pieces"]
    mapping = importing.mapping_by_titles(headers, {"supplier": "maker", "quantity": "PIECES"})
    assert mapping == {"number": 0, "supplier": 1, "sku": 2, "quantity": 3}
    assert "number" not in importing.mapping_by_titles(headers, {"number": ""})
    with pytest.raises(ValueError, match="Unknown field 'vendor'"):
        importing.mapping_by_titles(headers, {"vendor": "Maker"})


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "day_first", "expected"),
    [
        (datetime(2026, 3, 14, 0, 0), True, date(2026, 3, 14)),
        # Excel serial 45658 is 2025-01-01 (45658 days after 1899-12-30); 46095 adds 437 days:
        # 2025 has 365, so 72 days into 2026: 31 (Jan) + 28 (Feb) + 13 -> 14 March 2026.
        (45658, True, date(2025, 1, 1)),
        (46095.0, True, date(2026, 3, 14)),
        ("46095", True, date(2026, 3, 14)),
        ("2026-03-14", True, date(2026, 3, 14)),
        ("2026/3/4", False, date(2026, 3, 4)),
        ("04/03/2026", True, date(2026, 3, 4)),
        ("04/03/2026", False, date(2026, 4, 3)),
        ("4.3.26", False, date(2026, 3, 4)),  # dots are day first whatever the option
        ("14-Mar-2026", True, date(2026, 3, 14)),
        ("14 March 26", True, date(2026, 3, 14)),
        ("Mar 14, 2026", True, date(2026, 3, 14)),
    ],
)
def test_dates(value, day_first, expected):
    assert parse_date(value, day_first) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/02/2026", "'31/02/2026' is not a date"),
        ("13/13/2026", "'13/13/2026' is not a date"),
        ("next week", "'next week' is not a date (write it as 2026-03-14"),
        (12.5, "'12.5' is not a date"),
        (3, "'3' is not a date"),
    ],
)
def test_what_is_not_a_date(value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_date(value, True)


def test_day_first_is_guessed_only_when_a_value_settles_it():
    assert importing.guess_day_first(["04/03/2026", "25/03/2026"]) is True
    assert importing.guess_day_first(["03/25/2026"]) is False
    assert importing.guess_day_first(["04/03/2026", datetime(2026, 1, 1)]) is None


@pytest.mark.parametrize(
    ("value", "decimal_comma", "expected"),
    [
        (48250.5, None, Decimal("48250.5")),
        (1200, None, Decimal(1200)),
        ("48,250.00", None, Decimal("48250.00")),
        ("48.250,00", None, Decimal("48250.00")),
        ("1234,5", None, Decimal("1234.5")),  # a lone comma and one decimal: a decimal comma
        ("1,234", None, Decimal(1234)),  # three digits after it: a thousands separator
        ("1,234", True, Decimal("1.234")),
        ("1.234", True, Decimal(1234)),
        ("1 234,56", None, Decimal("1234.56")),
        ("1'234.50", None, Decimal("1234.50")),
        ("USD 48,250.00", None, Decimal("48250.00")),
        ("$1,000", None, Decimal(1000)),
        ("12\u00a0000,00 EUR", None, Decimal("12000.00")),
    ],
)
def test_decimals(value, decimal_comma, expected):
    assert parse_decimal(value, decimal_comma) == expected


@pytest.mark.parametrize("value", ["abc", "1.2.3,4,5", "", True, "12-"])
def test_what_is_not_a_number(value):
    with pytest.raises(ValueError, match="is not a number"):
        parse_decimal(value)


def test_integers():
    assert parse_integer("3,000") == 3000
    assert parse_integer(3000.0) == 3000
    with pytest.raises(ValueError, match=re.escape("'12.5' is not a whole number")):
        parse_integer(12.5)


def test_codes_typed_as_numbers_lose_the_point_zero():
    assert importing.cell_text(4500012345.0) == "4500012345"
    assert importing.cell_text(" V01 ") == "V01"


def test_formula_like_text_is_neutralised_and_read_back():
    assert importing.safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert importing.safe_cell(-5) == -5  # numbers are not formulas
    assert importing.cell_text("'=HYPERLINK(1)") == "=HYPERLINK(1)"


def test_milestones_and_flags():
    assert importing.parse_milestones("PSI, DUPRO") == ["DUPRO", "PSI"]
    assert importing.parse_milestones("all") == ["IPC", "DUPRO", "PSI", "CLI"]
    with pytest.raises(ValueError, match="'FRI' is not a milestone"):
        importing.parse_milestones("PSI FRI")
    assert importing.parse_flag("x") is True and importing.parse_flag("No") is False
    with pytest.raises(ValueError, match="'maybe' is neither yes nor no"):
        importing.parse_flag("maybe")


# --- rows into POs -------------------------------------------------------------------------


def _pos(rows, headers=HEADERS, **options):
    table = importing.table_from_values(headers, rows)
    return read_pos(table, guess_mapping(headers), Options(**options))


def test_one_row_per_line_with_po_columns_repeated_or_left_blank():
    pos = _pos(
        [
            ["PO-1", "V01", "SKU-1", 100, "14/03/2026", "20/03/2026", "1,000.00", "usd", 10, "us"],
            ["PO-1", "V01", "SKU-2", 50, "14/03/2026"],
            [None, None, "SKU-3", "25"],  # no PO number: the PO above goes on
            ["PO-2", "V02", "SKU-1", 7, "2026-04-01", "2026-04-02", 70, "EUR", 1, "DE"],
        ]
    )
    assert [(p.number, p.rows) for p in pos] == [("PO-1", [2, 3, 4]), ("PO-2", [5])]
    first = pos[0]
    assert [(li.row, li.sku, li.quantity) for li in first.lines] == [
        (2, "SKU-1", 100),
        (3, "SKU-2", 50),
        (4, "SKU-3", 25),
    ]
    assert first.values["ex_factory_date"] == date(2026, 3, 14)
    assert first.values["fob_value"] == Decimal("1000.00")
    assert first.values["currency"] == "USD" and first.values["destination_market"] == "US"
    assert not first.issues and not pos[1].issues


def test_every_bad_cell_is_named_by_row_and_field():
    pos = _pos(
        [
            ["PO-1", "V01", "SKU-1", 100, "31/02/2026", "20/03/2026", "lots", "USD", 10, "US"],
            ["PO-1", "V01", "SKU-2", "ten", "14/03/2026"],
            ["PO-1", "V09", None, 5],
        ]
    )
    assert [str(i) for i in pos[0].issues] == [
        "Row 2, Ex-factory date: '31/02/2026' is not a date",
        "Row 2, FOB value: 'lots' is not a number",
        "Row 3, Quantity: 'ten' is not a number",
        "Row 4, Supplier: 'V09' differs from row 2 of PO PO-1 ('V01'): every row of a PO must "
        "agree.",
        "Row 4, SKU: Enter the SKU of the line.",
    ]


def test_a_column_that_disagrees_is_said_once_per_po():
    pos = _pos([["PO-1", "V01", "S1", 1], ["PO-1", "V02", "S2", 1], ["PO-1", "V02", "S3", 1]])
    assert [str(i) for i in pos[0].issues] == [
        "Row 3, Supplier: 'V02' differs from row 2 of PO PO-1 ('V01'): every row of a PO must "
        "agree."
    ]


def test_a_po_number_twice_apart_and_a_first_row_without_one():
    pos = _pos(
        [
            [None, "V01", "SKU-1", 1],
            ["PO-1", "V01", "SKU-1", 1],
            ["PO-2", "V01", "SKU-1", 1],
            ["PO-1", "V01", "SKU-2", 1],
        ]
    )
    assert str(pos[0].issues[0]) == "Row 2, PO number: Enter the PO number."
    assert [str(i) for i in pos[3].issues] == [
        "Row 5, PO number: PO PO-1 is already in this file (row 3); put all of a PO's rows "
        "together, one row per line."
    ]


def test_day_first_off_reads_month_first():
    pos = _pos([["PO-1", "V01", "SKU-1", 1, "03/04/2026"]], day_first=False)
    assert pos[0].values["ex_factory_date"] == date(2026, 3, 4)
