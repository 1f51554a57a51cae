"""The service a PO needs, from its risk triggers. Pure Python: no Django.

The answer is one of three services:

- PSI only: the pre-shipment inspection;
- DUPRO + PSI: a during-production inspection too, while defects can still be corrected;
- full production monitoring: IPC + DUPRO + PSI + CLI under one accountable QC lead.

The decision rule. Each trigger that holds adds its weight to the PO's risk score:

| trigger                                                           | weight |
|-------------------------------------------------------------------|--------|
| first PO with a new supplier (the buyer's highest-risk period)    | 3      |
| new material spec or new tooling                                  | 2      |
| regulated market (a safety regime that applies in the market)     | 2      |
| retailer compliance requirement                                   | 2      |
| FOB above the threshold (default 50,000 USD)                      | 2      |
| hero or launch SKU                                                | 2      |
| supplier's failed milestones on its other POs: 1 each, at most    | 3      |
| supplier's open CAPAs: 1 each, at most                            | 2      |
| complex product                                                   | 1      |

Score 0-1: PSI only. Score 2-4: DUPRO + PSI. Score 5 or more: full production monitoring.
So any one of the seed's triggers (weight 2 or 3) on its own buys a DUPRO; the first PO with a
new supplier plus any other main trigger, or three main triggers, buy the full stack. A single
failed milestone or a complex product alone (weight 1) stays at PSI, and together they reach
DUPRO + PSI.

Regulated market. The regimes that make a market regulated are product-safety laws whose
breach stops a shipment at the border or forces a recall: CE and UKCA marking, CPSIA and
ASTM F963 (US children's products), EN 71 (EU toys), FDA, EU and LFGB food-contact rules.
Voluntary marks (UL, OEKO-TEX, GOTS, FSC) and substance rules proved by lab documents
(REACH, RoHS, WEEE, Prop 65, FCC) do not trigger on their own. A regime counts when the
product lists it and it applies in the PO's destination market, or when the product's
category implies it there (lighting and electronics into the EU: CE; toys into the US: CPSIA;
food-contact into the US: FDA), whether or not the product record lists it.

FOB threshold and currency. The threshold is in the fee schedule's currency. A PO in another
currency is compared only when the fee schedule gives a rate for it (1 unit of the PO's
currency = `rate` units of the schedule's); without one the trigger is not assessed and the
recommendation says so in its notes, rather than guessing an exchange rate.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Service(StrEnum):
    PSI_ONLY = "psi_only"
    DUPRO_PSI = "dupro_psi"
    FULL = "full"


SERVICE_LABELS = {
    Service.PSI_ONLY: "PSI only",
    Service.DUPRO_PSI: "DUPRO + PSI",
    Service.FULL: "Full production monitoring (IPC + DUPRO + PSI + CLI)",
}
SERVICE_MILESTONES = {
    Service.PSI_ONLY: ("PSI",),
    Service.DUPRO_PSI: ("DUPRO", "PSI"),
    Service.FULL: ("IPC", "DUPRO", "PSI", "CLI"),
}

WEIGHTS = {
    "first_po": 3,
    "new_material_or_tooling": 2,
    "regulated_market": 2,
    "retailer_compliance": 2,
    "fob_above_threshold": 2,
    "hero_sku": 2,
    "complex_product": 1,
}
FAILURE_WEIGHT_CAP = 3  # one point per failed milestone, at most three
CAPA_WEIGHT_CAP = 2  # one point per open CAPA, at most two
DUPRO_FROM = 2
FULL_FROM = 5

EU_MEMBERS = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
})  # fmt: skip
EU = frozenset({"EU"}) | EU_MEMBERS
# EEA members outside the EU apply CE and EU food-contact rules too.
EEA = EU | {"NO", "IS", "LI"}

# The safety regimes that make a market regulated, and the markets each applies in.
REGULATED_REGIMES: dict[str, frozenset[str]] = {
    "CE": EEA,
    "UKCA": frozenset({"GB"}),
    "CPSIA": frozenset({"US"}),
    "ASTM_F963": frozenset({"US"}),
    "EN71": EEA,
    "FDA_FCM": frozenset({"US"}),
    "EU_FCM": EEA,
    "LFGB": frozenset({"DE"}),
}
# What a category implies in a market even when the product record does not list it.
CATEGORY_REGIMES: dict[str, tuple[str, ...]] = {
    "lighting": ("CE", "UKCA"),
    "electronics": ("CE", "UKCA"),
    "toys": ("CPSIA", "EN71", "CE", "UKCA"),
    "food_contact": ("FDA_FCM", "EU_FCM", "LFGB"),
}
REGIME_NAMES = {
    "CE": "CE marking",
    "UKCA": "UKCA marking",
    "CPSIA": "CPSIA children's products",
    "ASTM_F963": "ASTM F963 toy safety",
    "EN71": "EN 71 toy safety",
    "FDA_FCM": "FDA food-contact",
    "EU_FCM": "EU food-contact",
    "LFGB": "LFGB food-contact",
}


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.2f}"


@dataclass(frozen=True)
class RiskFacts:
    """What is known about one PO, gathered by the caller."""

    fob: Money
    first_po_with_supplier: bool = False
    new_material_or_tooling: bool = False
    products: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (SKU, category, regimes)
    destination_market: str = ""
    retailer_compliance: str = ""
    fob_threshold: Money = Money(Decimal("50000"), "USD")
    # 1 unit of the PO's currency in the threshold's currency, when the fee schedule has it.
    rate_to_threshold_currency: Decimal | None = None
    hero_sku: bool = False
    failed_milestones: tuple[str, ...] = ()  # e.g. "PSI of PO 4500012"
    open_capas: tuple[str, ...] = ()  # CAPA references
    complex_product: bool = False
    supplier_name: str = "the supplier"


@dataclass(frozen=True)
class Reason:
    trigger: str  # the WEIGHTS key, or "past_failures" / "open_capas"
    title: str
    fact: str
    weight: int


@dataclass(frozen=True)
class Recommendation:
    service: Service
    score: int
    reasons: tuple[Reason, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return SERVICE_LABELS[self.service]

    @property
    def milestones(self) -> tuple[str, ...]:
        return SERVICE_MILESTONES[self.service]


def service_for(score: int) -> Service:
    if score >= FULL_FROM:
        return Service.FULL
    if score >= DUPRO_FROM:
        return Service.DUPRO_PSI
    return Service.PSI_ONLY


def recommend(facts: RiskFacts) -> Recommendation:
    """The service the PO's triggers call for, each reason with the fact behind it."""
    notes: list[str] = []
    reasons = [
        reason
        for reason in (
            _first_po(facts),
            _flag(
                facts.new_material_or_tooling,
                "new_material_or_tooling",
                "New material or tooling",
                "The PO is marked as using a new material spec or new tooling.",
            ),
            _regulated(facts),
            _retailer(facts),
            _fob(facts, notes),
            _flag(
                facts.hero_sku,
                "hero_sku",
                "Hero or launch SKU",
                "The PO is marked as a hero product or launch programme.",
            ),
            _failures(facts),
            _capas(facts),
            _flag(
                facts.complex_product,
                "complex_product",
                "Complex product",
                "The PO is marked as a complex product.",
            ),
        )
        if reason is not None
    ]
    score = sum(reason.weight for reason in reasons)
    return Recommendation(service_for(score), score, tuple(reasons), tuple(notes))


def _flag(holds: bool, trigger: str, title: str, fact: str) -> Reason | None:
    return Reason(trigger, title, fact, WEIGHTS[trigger]) if holds else None


def _first_po(facts: RiskFacts) -> Reason | None:
    return _flag(
        facts.first_po_with_supplier,
        "first_po",
        "First PO with a new supplier",
        f"No earlier PO of this buyer with {facts.supplier_name}.",
    )


def regulated_regimes(category: str, regimes, market: str) -> list[tuple[str, str]]:
    """The safety regimes that apply to one product in `market`: (code, why), listed ones
    first, then those its category implies."""
    found: dict[str, str] = {}
    for code in regimes:
        if market in REGULATED_REGIMES.get(code, ()):
            found[code] = "listed on the product"
    for code in CATEGORY_REGIMES.get(category, ()):
        if market in REGULATED_REGIMES[code] and code not in found:
            found[code] = f"implied by the {category.replace('_', '-')} category"
    return list(found.items())


def _regulated(facts: RiskFacts) -> Reason | None:
    market = facts.destination_market
    parts = []
    for sku, category, regimes in facts.products:
        found = regulated_regimes(category, regimes, market)
        if found:
            named = ", ".join(f"{REGIME_NAMES[code]} ({why})" for code, why in found)
            parts.append(f"{sku}: {named}")
    if not parts:
        return None
    fact = f"Destination {market}. " + "; ".join(parts) + "."
    return Reason("regulated_market", "Regulated market", fact, WEIGHTS["regulated_market"])


def _retailer(facts: RiskFacts) -> Reason | None:
    name = facts.retailer_compliance.strip()
    return _flag(
        bool(name),
        "retailer_compliance",
        "Retailer compliance requirement",
        f"The PO must meet {name}'s compliance programme.",
    )


def fob_in_threshold_currency(facts: RiskFacts) -> Decimal | None:
    """The FOB in the threshold's currency, or None when no rate allows the comparison."""
    if facts.fob.currency == facts.fob_threshold.currency:
        return facts.fob.amount
    if facts.rate_to_threshold_currency is None:
        return None
    return facts.fob.amount * facts.rate_to_threshold_currency


def _fob(facts: RiskFacts, notes: list[str]) -> Reason | None:
    threshold = facts.fob_threshold
    value = fob_in_threshold_currency(facts)
    if value is None:
        notes.append(
            f"FOB not compared with the {threshold} threshold: the PO is in "
            f"{facts.fob.currency} and the fee schedule gives no {facts.fob.currency} rate."
        )
        return None
    if value <= threshold.amount:
        return None
    converted = ""
    if facts.fob.currency != threshold.currency:
        converted = (
            f" = {Money(value.quantize(Decimal('0.01')), threshold.currency)} at "
            f"{facts.rate_to_threshold_currency} {threshold.currency}/{facts.fob.currency}"
        )
    fact = f"FOB {facts.fob}{converted} is above the {threshold} threshold."
    return Reason(
        "fob_above_threshold", "FOB above threshold", fact, WEIGHTS["fob_above_threshold"]
    )


def _failures(facts: RiskFacts) -> Reason | None:
    failed = facts.failed_milestones
    if not failed:
        return None
    shown = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
    fact = f"{facts.supplier_name} failed {len(failed)} milestone(s) on other POs: {shown}."
    weight = min(len(failed), FAILURE_WEIGHT_CAP)
    return Reason("past_failures", "Supplier's past failures", fact, weight)


def _capas(facts: RiskFacts) -> Reason | None:
    capas = facts.open_capas
    if not capas:
        return None
    shown = ", ".join(capas[:5]) + (f" and {len(capas) - 5} more" if len(capas) > 5 else "")
    fact = f"{facts.supplier_name} has {len(capas)} open CAPA(s): {shown}."
    return Reason("open_capas", "Open CAPAs", fact, min(len(capas), CAPA_WEIGHT_CAP))
