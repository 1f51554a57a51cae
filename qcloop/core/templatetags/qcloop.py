from decimal import Decimal

from django import template

from qcloop.core.reference import countries, currencies, markets

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    """An amount always shown with its currency: "USD 48,250.00"."""
    if amount in (None, ""):
        return "—"
    return f"{currency} {Decimal(amount):,.2f}"


@register.filter
def grouped(number) -> str:
    if number in (None, ""):
        return "—"
    return f"{int(number):,}"


@register.filter
def market_name(code: str) -> str:
    return markets().get(code, code)


@register.filter
def country_name(code: str) -> str:
    return countries().get(code, code)


@register.filter
def currency_name(code: str) -> str:
    return currencies().get(code, code)
