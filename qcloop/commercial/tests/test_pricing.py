"""Fees, bundle, retainers and man-day pricing, with hand-checked figures (no database)."""

from decimal import Decimal

import pytest

from qcloop.commercial.pricing import (
    BUNDLED,
    PERCENTAGE,
    FeeTable,
    RetainerTerms,
    fee_table_errors,
    price_line,
    quote,
    retainer_errors,
)

D = Decimal
ALL = ("IPC", "DUPRO", "PSI", "CLI")


def test_the_seed_example_separate_against_bundled():
    figures = quote(FeeTable(), ALL, 3000)
    # 280 + 300 + 380 + 230 = 1,190; bundled at 25 %: 1,190 x 0.75 = 892.50, saving 297.50.
    assert [line.amount for line in figures.lines] == [
        D("280.00"),
        D("300.00"),
        D("380.00"),
        D("230.00"),
    ]
    assert figures.separate.total == D("1190.00")
    assert figures.bundle.available and figures.bundle.total == D("892.50")
    assert (figures.bundle.saving, figures.bundle.saving_percent) == (D("297.50"), D("25.00"))
    assert figures.retainer is None and figures.currency == "USD"


def test_the_bundle_needs_three_milestones():
    two = quote(FeeTable(), ["PSI", "DUPRO"], 3000)
    assert two.milestones == ("DUPRO", "PSI") and two.separate.total == D("680.00")
    assert not two.bundle.available and two.bundle.total is None
    # Three: 300 + 380 + 230 = 910 at 20 % off = 728.00, saving 182.00.
    three = quote(FeeTable(bundle_discount=D("20")), ["DUPRO", "PSI", "CLI"], 3000)
    assert (three.bundle.total, three.bundle.saving) == (D("728.00"), D("182.00"))


def test_large_lots_are_priced_by_the_man_day():
    table = FeeTable()
    # 10,000 is not above the 10,000 threshold: flat fee.
    assert price_line(table, "PSI", 10_000).amount == D("380.00")
    # 30,000: code M, n = 315, ceil(315 / 200) = 2 man-days x 300 = 600.
    line = price_line(table, "PSI", 30_000)
    assert (line.man_days, line.sample_size, line.amount) == (2, 315, D("600.00"))
    # 40,000: code N, n = 500, ceil(500 / 200) = 3 man-days x 300 = 900.
    assert price_line(table, "DUPRO", 40_000).amount == D("900.00")
    # IPC and CLI do not scale with the sample.
    assert price_line(table, "CLI", 40_000).amount == D("230.00")
    # Never below the flat fee: 1 man-day (n = 315 / 400 a day) x 250 = 250 < 380.
    cheap = FeeTable(man_day_rate=D("250"), units_per_man_day=400)
    assert price_line(cheap, "PSI", 30_000).amount == D("380.00")


def test_a_large_lot_quote_bundles_the_man_day_prices():
    # 280 + 600 + 600 + 230 = 1,710; x 0.75 = 1,282.50, saving 427.50.
    figures = quote(FeeTable(), ALL, 30_000)
    assert figures.separate.total == D("1710.00")
    assert (figures.bundle.total, figures.bundle.saving) == (D("1282.50"), D("427.50"))


def test_a_bundled_retainer_costs_nothing_extra():
    figures = quote(FeeTable(), ALL, 3000, retainer=RetainerTerms(BUNDLED))
    assert figures.retainer.total == D("0.00")
    assert (figures.retainer.saving, figures.retainer.saving_percent) == (D("1190.00"), D("100.00"))


def test_the_percentage_retainer_is_a_share_of_fob_plus_the_monthly_fee_spread():
    terms = RetainerTerms(PERCENTAGE, D("1.5"), D("500"), 24)
    # 1.5 % of 40,000 = 600; 500 x 12 / 24 = 250 a PO; 850 against 1,190: saving 340 (28.57 %).
    figures = quote(FeeTable(), ALL, 3000, fob=D("40000"), fob_currency="USD", retainer=terms)
    assert figures.retainer.total == D("850.00")
    assert (figures.retainer.saving, figures.retainer.saving_percent) == (D("340.00"), D("28.57"))


def test_the_percentage_retainer_converts_a_foreign_fob_only_with_a_rate():
    terms = RetainerTerms(PERCENTAGE, D("1"), D("0"), 12)
    rated = FeeTable(rates={"EUR": D("1.10")})
    # 1 % of 30,000 EUR x 1.10 = 330.00 USD.
    figures = quote(rated, ["PSI"], 3000, fob=D("30000"), fob_currency="EUR", retainer=terms)
    assert figures.retainer.total == D("330.00")
    unrated = quote(FeeTable(), ["PSI"], 3000, fob=D("30000"), fob_currency="EUR", retainer=terms)
    assert not unrated.retainer.available and "no EUR rate" in unrated.retainer.note


def test_fee_tables_out_of_bounds_name_the_field():
    bad = FeeTable(
        fees={"IPC": D("-1"), "DUPRO": D("300"), "PSI": D("380"), "CLI": D("230")},
        bundle_discount=D("45"),
    )
    errors = fee_table_errors(bad)
    assert set(errors) == {"ipc_fee", "bundle_discount"}
    assert "between 20 and 30 %, not 45 %" in errors["bundle_discount"]
    assert fee_table_errors(FeeTable(bundle_discount=D("30"))) == {}


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (RetainerTerms(PERCENTAGE, D("5"), D("1000"), 6), "pos_per_year"),
        (RetainerTerms(PERCENTAGE, D("0"), D("1000"), 12), "percentage"),
        (RetainerTerms(BUNDLED, monthly_fee=D("-5")), "monthly_fee"),
        (RetainerTerms("weekly"), "plan"),
    ],
)
def test_retainer_rules_name_the_field(terms, field):
    assert field in retainer_errors(terms)


def test_the_ten_po_rule_is_for_the_percentage_plan():
    assert retainer_errors(RetainerTerms(PERCENTAGE, D("5"), D("1000"), 10)) == {}
    assert (
        "10+ POs a year, not 6"
        in retainer_errors(RetainerTerms(PERCENTAGE, D("5"), D("1000"), 6))["pos_per_year"]
    )
    assert retainer_errors(RetainerTerms(BUNDLED, pos_per_year=6)) == {}
