"""Every table cell of the package's data against the hand transcription in tests/data."""

import pytest

from qcloop.sampling import tables
from qcloop.sampling.tests import transcription as ref

TABLE_ONE_LETTERS = "ABCDEFGHJKLMNPQR"  # the letters a lookup can start from (not S)
TO_PRINTED = {"v": tables.ARROW_DOWN, "^": tables.ARROW_UP, "*": tables.USE_SINGLE, "-": ""}
LOT_BOUNDS = [
    2,
    8,
    9,
    15,
    16,
    25,
    26,
    50,
    51,
    90,
    91,
    150,
    151,
    280,
    281,
    500,
    501,
    1200,
    1201,
    3200,
    3201,
    10000,
    10001,
    35000,
    35001,
    150000,
    150001,
    500000,
    500001,
    10**7,
]


def printed(cell: str) -> str:
    """The transcription's notation ("10/11", "5/9,12/13", "v") in the data files' one."""
    if cell in TO_PRINTED:
        return TO_PRINTED[cell]
    return " ".join(str(number) for number in ref.numbers(cell))


@pytest.mark.parametrize(("scheme", "severity"), sorted(ref.FILES))
def test_every_cell_matches_the_transcription(scheme, severity):
    mine = tables.master_table(scheme, severity)
    theirs = ref.table(scheme, severity)
    assert list(mine.codes) == theirs.codes
    assert mine.sizes == theirs.sizes
    for code in theirs.codes:
        row = [mine.cell(code, aql) for aql in ref.AQLS]
        expected = [printed(theirs.cells[(code, aql)]) for aql in ref.AQLS]
        assert row == expected, f"Table {mine.name} row {code}"


@pytest.mark.parametrize("level", ref.LEVELS)
def test_table_one_at_every_band_boundary(level):
    for lot_size in LOT_BOUNDS:
        assert tables.code_letter(lot_size, level) == ref.expected_code_letter(lot_size, level)


def test_table_one_rows_match_the_transcription():
    mine = tables.code_letter_table()
    theirs = ref.code_letter_bands()
    assert [(row.lot_min, row.lot_max, row.letters) for row in mine] == theirs


def test_aql_columns_are_the_26_printed_values():
    assert list(tables.AQLS) == ref.AQLS


def test_sample_sizes_follow_the_preferred_series():
    normal = tables.master_table("single", "normal").sizes
    assert list(normal.values()) == [
        2,
        3,
        5,
        8,
        13,
        20,
        32,
        50,
        80,
        125,
        200,
        315,
        500,
        800,
        1250,
        2000,
    ]
    reduced = tables.master_table("single", "reduced").sizes
    assert list(reduced.values()) == [2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800]


def test_normal_and_tightened_plans_keep_re_one_above_ac():
    for scheme in ("single", "double"):
        for severity in ("normal", "tightened"):
            table = tables.master_table(scheme, severity)
            for cell in table.cells.values():
                if cell and cell not in (*tables.ARROWS, tables.USE_SINGLE):
                    numbers = tables.parse_numbers(cell)
                    assert numbers[-1] == numbers[-2] + 1, (table.name, cell)


class TestArrows:
    def test_down_arrow_reads_the_first_plan_below(self):
        table = tables.master_table("single", "normal")
        found = tables.resolve(table, "F", "1.5")
        assert (found.code, found.cell, found.arrow) == ("G", "1 2", tables.ARROW_DOWN)

    def test_up_arrow_reads_the_first_plan_above(self):
        table = tables.master_table("single", "normal")
        found = tables.resolve(table, "G", "0.65")
        assert (found.code, found.cell, found.arrow) == ("F", "0 1", tables.ARROW_UP)

    def test_long_arrow_passes_every_arrow_cell(self):
        table = tables.master_table("single", "normal")
        assert tables.resolve(table, "A", "0.010").code == "Q"
        assert tables.resolve(table, "R", "10").code == "K"

    def test_arrow_off_the_top_row_reads_the_nearest_plan_below(self):
        found = tables.resolve(tables.master_table("single", "normal"), "A", "10")
        assert (found.code, found.cell, found.reversed) == ("C", "1 2", True)

    def test_arrow_off_the_bottom_row_reads_the_nearest_plan_above(self):
        found = tables.resolve(tables.master_table("single", "normal"), "R", "0.015")
        assert (found.code, found.cell, found.reversed) == ("P", "0 1", True)

    def test_tightened_code_s_is_reached_only_at_aql_0_025(self):
        table = tables.master_table("single", "tightened")
        assert tables.resolve(table, "Q", "0.025").code == "S"
        found = tables.resolve(table, "R", "0.015")
        assert (found.code, found.reversed) == ("Q", True)

    def test_every_cell_resolves_to_a_plan_with_a_sample_size(self):
        for scheme, severity in ref.FILES:
            table = tables.master_table(scheme, severity)
            for code in TABLE_ONE_LETTERS:
                for aql in tables.AQLS:
                    found = tables.resolve(table, code, aql)
                    assert found.cell not in ("", *tables.ARROWS)
                    if found.cell != tables.USE_SINGLE:
                        assert table.sizes[found.code]


def test_resolution_agrees_with_the_transcription_everywhere():
    for scheme, severity in ref.FILES:
        table = tables.master_table(scheme, severity)
        for code in TABLE_ONE_LETTERS:
            for aql in ref.AQLS:
                found = tables.resolve(table, code, aql)
                row, cell = ref.resolved(scheme, severity, code, aql)
                assert (found.code, found.cell) == (row, printed(cell)), (table.name, code, aql)
