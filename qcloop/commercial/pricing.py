"""What a PO's inspections cost: per-milestone fees, the bundle, retainers, man-day pricing.
Pure Python: no Django.

The rules, as the seed states the economics:

- Separate milestones: each milestone at its fee (defaults IPC 280, DUPRO 300, PSI 380,
  CLI 230 USD; 280 + 300 + 380 + 230 = 1,190 USD for the four).
- Man-day pricing for large lots. DUPRO and PSI draw an ISO 2859-1 sample (general level II,
  normal inspection); an inspector checks about `units_per_man_day` sample units a day
  (default 200, the code-L sample). When the lot is larger than `man_day_lot_size` (default
  10,000 units, where code L ends), the milestone takes ceil(n / units_per_man_day) man-days,
  n the sample size, and is priced at man-days x the man-day rate (default 300 USD, the seed's
  250-350), never below its flat fee. E.g. a lot of 30,000 is code M, n = 315: 2 man-days,
  2 x 300 = 600 USD for the PSI instead of 380. IPC and CLI do not scale with the sample and
  stay at their flat fees.
- Bundle: when the quote covers at least three milestones (the seed: bundling makes sense
  when the buyer would have commissioned three or more anyway), the separate total less the
  bundle discount (20-30 %, default 25 %): 1,190 x 0.75 = 892.50, a saving of 297.50.
- Retainer: a buyer on a buying-office retainer either gets the milestones bundled at no
  extra cost, or pays a percentage of the PO's FOB plus a monthly fee; the percentage plan is
  for buyers running 10 or more POs a year. Its cost per PO is the percentage of FOB plus the
  monthly fee spread over the POs of a year (monthly fee x 12 / POs a year).

Money is Decimal, rounded half-up to cents, always with its currency. An amount in another
currency (a percentage of an EUR FOB, quoted in USD) needs the fee schedule's rate for it; without
one the option is not priced and says why.
"""

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from qcloop.sampling import tables

MILESTONES = ("IPC", "DUPRO", "PSI", "CLI")
SAMPLED = frozenset({"DUPRO", "PSI"})
DEFAULT_FEES = {
    "IPC": Decimal("280"),
    "DUPRO": Decimal("300"),
    "PSI": Decimal("380"),
    "CLI": Decimal("230"),
}
BUNDLE_DISCOUNT_MIN, BUNDLE_DISCOUNT_MAX = Decimal("20"), Decimal("30")
DEFAULT_BUNDLE_DISCOUNT = Decimal("25")
MIN_BUNDLE_MILESTONES = 3
DEFAULT_MAN_DAY_RATE = Decimal("300")
DEFAULT_MAN_DAY_LOT_SIZE = 10_000
DEFAULT_UNITS_PER_MAN_DAY = 200
DEFAULT_FOB_THRESHOLD = Decimal("50000")
RETAINER_MIN_POS_PER_YEAR = 10
RETAINER_MAX_PERCENTAGE = Decimal("20")
BUNDLED, PERCENTAGE = "bundled", "percentage"
CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FeeTable:
    """An agency's prices for one factory country (or its default)."""

    currency: str = "USD"
    fees: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_FEES))
    bundle_discount: Decimal = DEFAULT_BUNDLE_DISCOUNT  # percent
    man_day_rate: Decimal = DEFAULT_MAN_DAY_RATE
    man_day_lot_size: int = DEFAULT_MAN_DAY_LOT_SIZE
    units_per_man_day: int = DEFAULT_UNITS_PER_MAN_DAY
    # 1 unit of a currency in this table's currency: {"EUR": Decimal("1.08")}.
    rates: dict[str, Decimal] = field(default_factory=dict)

    def convert(self, amount: Decimal, currency: str) -> Decimal | None:
        """`amount` of `currency` in this table's currency, or None without a rate."""
        if currency == self.currency:
            return Decimal(amount)
        rate = self.rates.get(currency)
        return None if rate is None else Decimal(amount) * Decimal(rate)


@dataclass(frozen=True)
class RetainerTerms:
    plan: str  # BUNDLED or PERCENTAGE
    percentage: Decimal = Decimal("0")  # of FOB, percent
    monthly_fee: Decimal = Decimal("0")
    pos_per_year: int = 0
    currency: str | None = None  # of the monthly fee; None: the fee table's


@dataclass(frozen=True)
class Line:
    milestone: str
    amount: Decimal
    basis: str
    man_days: int | None = None
    sample_size: int | None = None


@dataclass(frozen=True)
class Option:
    """One way to buy the quoted milestones: separately, bundled, or under the retainer."""

    name: str
    label: str
    available: bool
    total: Decimal | None = None
    saving: Decimal | None = None
    saving_percent: Decimal | None = None
    note: str = ""


@dataclass(frozen=True)
class QuoteFigures:
    currency: str
    milestones: tuple[str, ...]
    lot_size: int
    lines: tuple[Line, ...]
    separate: Option
    bundle: Option
    retainer: Option | None

    @property
    def options(self) -> tuple[Option, ...]:
        return tuple(o for o in (self.separate, self.bundle, self.retainer) if o is not None)


# --- validation --------------------------------------------------------------------------


def fee_table_errors(table: FeeTable) -> dict[str, str]:
    """Every rule a fee table breaks, as {field: message}; empty when it is sound."""
    errors: dict[str, str] = {}
    for kind in MILESTONES:
        fee = table.fees.get(kind)
        if fee is None:
            errors[f"{kind.lower()}_fee"] = f"Enter the {kind} fee."
        elif fee < 0:
            errors[f"{kind.lower()}_fee"] = f"The {kind} fee cannot be negative, not {fee}."
    if not BUNDLE_DISCOUNT_MIN <= table.bundle_discount <= BUNDLE_DISCOUNT_MAX:
        errors["bundle_discount"] = (
            f"The bundle discount must be between {BUNDLE_DISCOUNT_MIN} and "
            f"{BUNDLE_DISCOUNT_MAX} %, not {table.bundle_discount} %."
        )
    if table.man_day_rate < 0:
        errors["man_day_rate"] = f"The man-day rate cannot be negative, not {table.man_day_rate}."
    if table.man_day_lot_size < 1:
        errors["man_day_lot_size"] = "The man-day lot size must be at least 1 unit."
    if table.units_per_man_day < 1:
        errors["units_per_man_day"] = "An inspector checks at least 1 sample unit a man-day."
    for currency, rate in table.rates.items():
        if rate is None or rate <= 0:
            errors["exchange_rates"] = f"The {currency} rate must be above 0, not {rate}."
    return errors


def retainer_errors(terms: RetainerTerms) -> dict[str, str]:
    errors: dict[str, str] = {}
    if terms.plan not in (BUNDLED, PERCENTAGE):
        return {"plan": f"Unknown retainer plan {terms.plan!r}: use {BUNDLED} or {PERCENTAGE}."}
    if terms.pos_per_year < 0:
        errors["pos_per_year"] = "POs a year cannot be negative."
    if terms.monthly_fee < 0:
        errors["monthly_fee"] = f"The monthly fee cannot be negative, not {terms.monthly_fee}."
    if terms.plan == PERCENTAGE:
        if terms.pos_per_year < RETAINER_MIN_POS_PER_YEAR:
            errors["pos_per_year"] = (
                f"The percentage retainer is for buyers running {RETAINER_MIN_POS_PER_YEAR}+ "
                f"POs a year, not {terms.pos_per_year}."
            )
        if not Decimal("0") < terms.percentage <= RETAINER_MAX_PERCENTAGE:
            errors["percentage"] = (
                f"The percentage of FOB must be above 0 and at most {RETAINER_MAX_PERCENTAGE} "
                f"%, not {terms.percentage} %."
            )
    return errors


# --- pricing -----------------------------------------------------------------------------


def sample_size(lot_size: int) -> tuple[str, int]:
    """The ISO 2859-1 code letter and sample size at general level II, normal inspection."""
    code = tables.code_letter(lot_size, "II")
    return code, tables.master_table("single", "normal").sizes[code]


def price_line(table: FeeTable, milestone: str, lot_size: int) -> Line:
    flat = cents(table.fees[milestone])
    if milestone not in SAMPLED or lot_size <= table.man_day_lot_size:
        return Line(milestone, flat, "flat fee")
    code, n = sample_size(lot_size)
    man_days = math.ceil(n / table.units_per_man_day)
    by_day = cents(man_days * table.man_day_rate)
    basis = (
        f"{man_days} man-day(s) x {table.currency} {cents(table.man_day_rate):,.2f}: "
        f"sample of {n} units (code {code}) from a lot of {lot_size:,}"
    )
    if by_day < flat:
        basis += "; the flat fee is higher and applies"
    return Line(milestone, max(flat, by_day), basis, man_days, n)


def quote(
    table: FeeTable,
    milestones,
    lot_size: int,
    *,
    fob: Decimal | None = None,
    fob_currency: str | None = None,
    retainer: RetainerTerms | None = None,
) -> QuoteFigures:
    """The milestones priced separately, bundled and (for a retainer client) under the
    retainer, side by side; each option's saving is against the separate total."""
    chosen = tuple(kind for kind in MILESTONES if kind in set(milestones))
    if not chosen:
        raise ValueError("A quote covers at least one milestone.")
    lines = tuple(price_line(table, kind, lot_size) for kind in chosen)
    separate_total = sum((line.amount for line in lines), Decimal("0.00"))
    separate = Option("separate", "Separate milestones", True, separate_total, Decimal("0.00"))
    return QuoteFigures(
        currency=table.currency,
        milestones=chosen,
        lot_size=lot_size,
        lines=lines,
        separate=separate,
        bundle=_bundle(table, chosen, separate_total),
        retainer=_retainer(table, retainer, separate_total, fob, fob_currency),
    )


def _saving(separate_total: Decimal, total: Decimal) -> tuple[Decimal, Decimal]:
    saving = cents(separate_total - total)
    percent = cents(saving * 100 / separate_total) if separate_total else Decimal("0.00")
    return saving, percent


def _bundle(table: FeeTable, chosen: tuple[str, ...], separate_total: Decimal) -> Option:
    label = "Bundled production monitoring"
    if len(chosen) < MIN_BUNDLE_MILESTONES:
        note = f"The bundle covers {MIN_BUNDLE_MILESTONES} or more milestones."
        return Option("bundle", label, False, note=note)
    total = cents(separate_total * (100 - table.bundle_discount) / 100)
    saving, percent = _saving(separate_total, total)
    note = f"{table.bundle_discount} % off, one accountable QC lead, PO summary report."
    return Option("bundle", label, True, total, saving, percent, note)


def _retainer(table, terms, separate_total, fob, fob_currency) -> Option | None:
    if terms is None:
        return None
    label = "Under the retainer"
    if terms.plan == BUNDLED:
        saving, percent = _saving(separate_total, Decimal("0"))
        note = "Bundled at no extra cost under your buying-office retainer."
        return Option("retainer", label, True, Decimal("0.00"), saving, percent, note)
    fob_here = None if fob is None else table.convert(fob, fob_currency or table.currency)
    if fob_here is None:
        note = f"Not priced: the fee schedule gives no {fob_currency} rate for the FOB."
        return Option("retainer", label, False, note=note)
    monthly = table.convert(terms.monthly_fee, terms.currency or table.currency)
    if monthly is None:
        note = f"Not priced: the fee schedule gives no {terms.currency} rate for the monthly fee."
        return Option("retainer", label, False, note=note)
    share = terms.percentage * fob_here / 100
    monthly_share = monthly * 12 / terms.pos_per_year
    total = cents(share + monthly_share)
    saving, percent = _saving(separate_total, total)
    note = (
        f"{terms.percentage} % of FOB ({table.currency} {cents(share):,.2f}) plus the monthly "
        f"fee of {table.currency} {cents(monthly):,.2f} spread over "
        f"{terms.pos_per_year} POs a year ({table.currency} {cents(monthly_share):,.2f})."
    )
    return Option("retainer", label, True, total, saving, percent, note)
