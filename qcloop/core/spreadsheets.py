"""Cells that stay text: a value qcloop writes into a CSV or XLSX file for a spreadsheet must
never run there. Excel, LibreOffice and Google Sheets treat a cell starting with = + - @ (or a
tab or carriage return before one) as a formula, so a supplier named "=HYPERLINK(...)" or a
caption "@SUM(...)" could run in a buyer's office. Such text gets a leading apostrophe, the
spreadsheets' own "this is text" mark (and qcloop's importer takes it off again). Numbers stay
numbers: -5 is not a formula."""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?")


def safe_text(text: str) -> str:
    if text[:1] in FORMULA_STARTS and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_cell(value):
    """Any value bound for a cell: text neutralised, everything else as it is."""
    return safe_text(value) if isinstance(value, str) else value
