"""State changes for fee schedules, retainers and quotes, and the service recommendation.

Each change runs in one transaction and either saves everything or raises `ValidationError`
({field: message}) and saves nothing; someone who may see a thing but not change it gets
`PermissionDenied` with the reason. Agency coordinators and admins set prices; the agency's
coordinators, admins and the PO's QC lead issue quotes; the buyer's managers accept them."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from qcloop.accounts.models import Engagement, Organisation, Role, User
from qcloop.core.reference import validate_country, validate_currency
from qcloop.orders.models import PurchaseOrder
from qcloop.orders.services import BUYER_EDITORS

from . import pricing, risk, selectors
from .models import FeeSchedule, Quote, QuoteStatus, Retainer

FEE_EDITORS = {Role.COORDINATOR, Role.ADMIN}
DEFAULT_VALIDITY_DAYS = 30
MAX_VALIDITY_DAYS = 90


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def can_edit_fees(user: User, agency: Organisation | None) -> bool:
    membership = user.membership
    return bool(
        agency is not None
        and membership
        and membership.is_agency
        and membership.organisation_id == agency.pk
        and membership.role in FEE_EDITORS
    )


def can_issue_quote(user: User, po: PurchaseOrder) -> bool:
    """The monitoring agency's coordinators and admins, and the PO's QC lead."""
    membership = user.membership
    if not membership or not membership.is_agency or membership.organisation_id != po.agency_id:
        return False
    return membership.role in FEE_EDITORS or (
        membership.role == Role.QC_LEAD and po.qc_lead_id == user.pk
    )


def can_accept_quote_for(user: User, po: PurchaseOrder) -> bool:
    """The buyer's managers and admins accept its quotes."""
    membership = user.membership
    return bool(
        membership
        and membership.is_buyer
        and membership.organisation_id == po.buyer_id
        and membership.role in BUYER_EDITORS
    )


def can_accept_quote(user: User, quote: Quote) -> bool:
    return can_accept_quote_for(user, quote.po)


# --- the recommendation and the figures -----------------------------------------------------


def recommend_service(*, by: User, po: PurchaseOrder) -> risk.Recommendation:
    """The service the PO's risk triggers call for, from what `by` may see."""
    _require(selectors.sees_commercial(by, po), "Only the buyer and its QC agency see this.")
    return risk.recommend(selectors.risk_facts(by, po))


def quote_figures(
    po: PurchaseOrder, milestones, table: pricing.FeeTable | None = None
) -> pricing.QuoteFigures:
    """The PO's milestones priced with its agency's fees for the factory's country."""
    table = table or selectors.fee_table_for(po)[0]
    retainer = selectors.retainer_for(po)
    return pricing.quote(
        table,
        milestones,
        po.quantity,
        fob=po.fob_value,
        fob_currency=po.currency,
        retainer=retainer.terms() if retainer else None,
    )


def _check_milestones(milestones) -> list[str]:
    unknown = [kind for kind in milestones if kind not in pricing.MILESTONES]
    if unknown:
        raise ValidationError(
            {
                "milestones": f"Unknown milestone(s) {', '.join(map(str, unknown))}: "
                f"use {', '.join(pricing.MILESTONES)}."
            }
        )
    if not milestones:
        raise ValidationError({"milestones": "A quote covers at least one milestone."})
    return list(milestones)


def _money(value) -> str | None:
    return None if value is None else str(pricing.cents(value))


def _option_row(option: pricing.Option) -> dict:
    return {
        "name": option.name,
        "label": option.label,
        "available": option.available,
        "total": _money(option.total),
        "saving": _money(option.saving),
        "saving_percent": _money(option.saving_percent),
        "note": option.note,
    }


def _fees_row(table: pricing.FeeTable, schedule: FeeSchedule | None) -> dict:
    return {
        "schedule": schedule.pk if schedule else None,
        "country": schedule.country if schedule else "",
        "currency": table.currency,
        "fees": {kind: _money(fee) for kind, fee in table.fees.items()},
        "bundle_discount": str(table.bundle_discount),
        "man_day_rate": _money(table.man_day_rate),
        "man_day_lot_size": table.man_day_lot_size,
        "units_per_man_day": table.units_per_man_day,
        "rates": {code: str(rate) for code, rate in table.rates.items()},
    }


@transaction.atomic
def issue_quote(
    *,
    by: User,
    po: PurchaseOrder,
    milestones=None,
    valid_days: int = DEFAULT_VALIDITY_DAYS,
) -> Quote:
    """Price the PO (the recommended milestones unless told) and keep the quote as issued:
    its lines, options and the fees used are copied in and never recomputed."""
    _require(
        can_issue_quote(by, po),
        "Only the agency's coordinators and admins and the PO's QC lead issue quotes.",
    )
    if po.agency_id is None:
        raise ValidationError({"agency": "The PO has no QC agency to quote for it."})
    if not isinstance(valid_days, int) or not 1 <= valid_days <= MAX_VALIDITY_DAYS:
        raise ValidationError(
            {"valid_days": f"A quote is valid for 1 to {MAX_VALIDITY_DAYS} days, not {valid_days}."}
        )
    recommendation = recommend_service(by=by, po=po)
    chosen = _check_milestones(recommendation.milestones if milestones is None else milestones)
    table, schedule = selectors.fee_table_for(po)
    figures = quote_figures(po, chosen, table)
    po = PurchaseOrder.objects.select_for_update().get(pk=po.pk)
    number = (po.quotes.aggregate(top=Max("number"))["top"] or 0) + 1
    return Quote.objects.create(
        po=po,
        agency_id=po.agency_id,
        buyer_id=po.buyer_id,
        number=number,
        currency=figures.currency,
        milestones=list(figures.milestones),
        lot_size=figures.lot_size,
        service=recommendation.service.value,
        lines=[
            {
                "milestone": line.milestone,
                "amount": _money(line.amount),
                "basis": line.basis,
                "man_days": line.man_days,
                "sample_size": line.sample_size,
            }
            for line in figures.lines
        ],
        options=[_option_row(option) for option in figures.options],
        separate_total=figures.separate.total,
        bundle_total=figures.bundle.total,
        retainer_total=figures.retainer.total if figures.retainer else None,
        fees=_fees_row(table, schedule),
        valid_until=timezone.localdate() + timedelta(days=valid_days),
        issued_by=by,
    )


@transaction.atomic
def accept_quote(*, by: User, quote: Quote, option: str) -> Quote:
    """The buyer accepts one option of an issued quote, as it was issued."""
    _require(can_accept_quote(by, quote), "Only the buyer's managers accept quotes.")
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status != QuoteStatus.ISSUED:
        raise ValidationError({"status": f"Quote {quote.reference} is already accepted."})
    if quote.valid_until < timezone.localdate():
        raise ValidationError(
            {"valid_until": f"Quote {quote.reference} expired on {quote.valid_until:%d %b %Y}."}
        )
    offered = {row["name"] for row in quote.options if row["available"]}
    if option not in offered:
        raise ValidationError(
            {"option": f"Choose one of the quote's options: {', '.join(sorted(offered))}."}
        )
    quote.status, quote.accepted_option = QuoteStatus.ACCEPTED, option
    quote.accepted_at, quote.accepted_by = timezone.now(), by
    quote.save(update_fields=["status", "accepted_option", "accepted_at", "accepted_by"])
    return quote


# --- fee schedules and retainers ------------------------------------------------------------


class _Parser:
    """Turns submitted values into typed ones, collecting one message per bad field."""

    def __init__(self, values: dict):
        self.values, self.errors = values, {}

    def text(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        return ("" if value is None else str(value)).strip()

    def decimal(self, name: str, default: Decimal, label: str) -> Decimal:
        raw = self.values.get(name)
        if raw in (None, ""):
            return default
        try:
            value = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            self.errors[name] = f"The {label} must be a number, not {raw!r}."
            return default
        if not value.is_finite() or value.as_tuple().exponent < -2 or abs(value) >= 10**10:
            self.errors[name] = f"The {label} must be a number with at most two decimals."
            return default
        return value

    def integer(self, name: str, default: int, label: str) -> int:
        raw = self.values.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(str(raw).strip())
        except ValueError:
            self.errors[name] = f"The {label} must be a whole number, not {raw!r}."
            return default

    def code(self, name: str, validator, blank_ok: bool = False) -> str:
        value = self.text(name).upper()
        if blank_ok and not value:
            return ""
        try:
            validator(value)
        except ValidationError as error:
            self.errors[name] = error.messages[0]
        return value

    def rates(self, name: str) -> dict[str, str]:
        raw = self.values.get(name) or {}
        if isinstance(raw, str):
            raw = _parse_rates(raw, self.errors, name)
        rates = {}
        for code, rate in raw.items():
            code = str(code).strip().upper()
            try:
                validate_currency(code)
                value = Decimal(str(rate).strip())
            except ValidationError as error:
                self.errors[name] = error.messages[0]
                continue
            except (InvalidOperation, ValueError):
                self.errors[name] = f"The {code} rate must be a number, not {rate!r}."
                continue
            if not value.is_finite() or value <= 0:
                self.errors[name] = f"The {code} rate must be above 0, not {rate}."
                continue
            rates[code] = str(value)
        return rates


def _parse_rates(text: str, errors: dict, name: str) -> dict:
    """ "EUR=1.08, GBP=1.27" -> {"EUR": "1.08", "GBP": "1.27"}."""
    rates = {}
    for part in filter(None, (p.strip() for p in text.replace("\n", ",").split(","))):
        code, sep, rate = part.partition("=")
        if not sep:
            errors[name] = f"Write each rate as CODE=rate, e.g. EUR=1.08, not {part!r}."
            continue
        rates[code.strip()] = rate.strip()
    return rates


SCHEDULE_DECIMALS = {
    "ipc_fee": "IPC fee",
    "dupro_fee": "DUPRO fee",
    "psi_fee": "PSI fee",
    "cli_fee": "CLI fee",
    "bundle_discount": "bundle discount",
    "man_day_rate": "man-day rate",
    "fob_threshold": "FOB threshold",
}
SCHEDULE_INTEGERS = {"man_day_lot_size": "man-day lot size", "units_per_man_day": "units a man-day"}


@transaction.atomic
def save_fee_schedule(
    *, by: User, agency: Organisation, values: dict, schedule: FeeSchedule | None = None
) -> FeeSchedule:
    """Create or change the agency's fees for a factory country (blank: its default)."""
    _require(can_edit_fees(by, agency), "Only the agency's coordinators and admins set fees.")
    if schedule is not None and schedule.agency_id != agency.pk:
        raise PermissionDenied("That fee schedule is another agency's.")
    current = schedule or FeeSchedule(agency=agency)
    parse = _Parser(values)
    country = parse.code("country", validate_country, blank_ok=True)
    currency = (
        parse.code("currency", validate_currency) if "currency" in values else current.currency
    )
    numbers = {
        name: parse.decimal(name, getattr(current, name), label)
        for name, label in SCHEDULE_DECIMALS.items()
    }
    numbers |= {
        name: parse.integer(name, getattr(current, name), label)
        for name, label in SCHEDULE_INTEGERS.items()
    }
    rates = parse.rates("exchange_rates") if "exchange_rates" in values else current.exchange_rates
    errors = parse.errors
    table = pricing.FeeTable(
        currency=currency,
        fees={kind: numbers[f"{kind.lower()}_fee"] for kind in pricing.MILESTONES},
        bundle_discount=numbers["bundle_discount"],
        man_day_rate=numbers["man_day_rate"],
        man_day_lot_size=numbers["man_day_lot_size"],
        units_per_man_day=numbers["units_per_man_day"],
    )
    for name, message in pricing.fee_table_errors(table).items():
        errors.setdefault(name, message)
    if numbers["fob_threshold"] < 0:
        errors.setdefault("fob_threshold", "The FOB threshold cannot be negative.")
    same = FeeSchedule.objects.filter(agency=agency, country=country).exclude(pk=current.pk)
    if "country" not in errors and same.exists():
        errors["country"] = f"There is already a fee schedule for {country or 'the default'}."
    if errors:
        raise ValidationError(errors)
    for name, value in numbers.items():
        setattr(current, name, value)
    current.country, current.currency, current.exchange_rates = country, currency, rates
    current.updated_by, current.updated_at = by, timezone.now()
    try:
        with transaction.atomic():
            current.save()
    except IntegrityError:
        raise ValidationError({"country": "There is already a fee schedule for it."}) from None
    return current


@transaction.atomic
def save_retainer(*, by: User, agency: Organisation, buyer: Organisation, values: dict) -> Retainer:
    """Put a buyer on a retainer with the agency, or change its terms."""
    _require(can_edit_fees(by, agency), "Only the agency's coordinators and admins set retainers.")
    if buyer is None or not Engagement.objects.filter(agency=agency, buyer=buyer).exists():
        raise ValidationError({"buyer": f"{buyer or 'That buyer'} is not a client of {agency}."})
    current = Retainer.objects.filter(agency=agency, buyer=buyer).first() or Retainer(
        agency=agency, buyer=buyer
    )
    parse = _Parser(values)
    plan = parse.text("plan", current.plan)
    percentage = parse.decimal("percentage", current.percentage, "percentage of FOB")
    monthly_fee = parse.decimal("monthly_fee", current.monthly_fee, "monthly fee")
    pos_per_year = parse.integer("pos_per_year", current.pos_per_year, "number of POs a year")
    currency = (
        parse.code("currency", validate_currency) if "currency" in values else current.currency
    )
    active = values.get("active", current.active) not in (False, "", "0", "false", "off", None)
    errors = parse.errors
    terms = pricing.RetainerTerms(plan, percentage, monthly_fee, pos_per_year)
    for name, message in pricing.retainer_errors(terms).items():
        errors.setdefault(name, message)
    if errors:
        raise ValidationError(errors)
    current.plan, current.percentage, current.monthly_fee = plan, percentage, monthly_fee
    current.pos_per_year, current.currency, current.active = pos_per_year, currency, active
    current.updated_by, current.updated_at = by, timezone.now()
    current.save()
    return current
