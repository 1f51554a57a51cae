"""Reference data shared by every app: countries, currencies, markets, categories, regimes.

Codes are the ISO ones (3166-1 alpha-2 countries, 4217 currencies) so that imports from
buyers' spreadsheets and exports to their ERPs line up without translation tables.
"""

import zoneinfo
from functools import cache

import pycountry
from django.core.exceptions import ValidationError
from django.db import models

# ISO 4217 lists precious metals, bond-market units and fund codes beside real money; a PO
# is never priced in them.
_NOT_MONEY = {
    "XAU",
    "XAG",
    "XPD",
    "XPT",
    "XBA",
    "XBB",
    "XBC",
    "XBD",
    "XDR",
    "XSU",
    "XUA",
    "XTS",
    "XXX",
    "BOV",
    "CLF",
    "COU",
    "MXV",
    "USN",
    "UYI",
    "UYW",
    "CHE",
    "CHW",
}


@cache
def currencies() -> dict[str, str]:
    return {
        c.alpha_3: c.name
        for c in sorted(pycountry.currencies, key=lambda c: c.alpha_3)
        if c.alpha_3 not in _NOT_MONEY
    }


@cache
def countries() -> dict[str, str]:
    return {
        c.alpha_2: getattr(c, "common_name", c.name)
        for c in sorted(pycountry.countries, key=lambda c: c.name)
    }


# Destination markets: a country, or a trading bloc whose rules apply as one.
MARKET_BLOCS = {"EU": "European Union"}


@cache
def markets() -> dict[str, str]:
    return {**MARKET_BLOCS, **countries()}


def currency_choices():
    return [(code, f"{code} · {name}") for code, name in currencies().items()]


def country_choices():
    return list(countries().items())


def market_choices():
    return list(markets().items())


@cache
def timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_currency(value: str) -> None:
    if value not in currencies():
        raise ValidationError(
            "Unknown currency %(value)s: use an ISO 4217 code such as USD, EUR or CNY.",
            code="unknown_currency",
            params={"value": repr(value)},
        )


def validate_country(value: str) -> None:
    if value not in countries():
        raise ValidationError(
            "Unknown country %(value)s: use an ISO 3166 two-letter code such as CN, VN or IN.",
            code="unknown_country",
            params={"value": repr(value)},
        )


def validate_market(value: str) -> None:
    if value not in markets():
        raise ValidationError(
            "Unknown market %(value)s: use EU or an ISO 3166 two-letter country code.",
            code="unknown_market",
            params={"value": repr(value)},
        )


def validate_timezone(value: str) -> None:
    if value not in timezones():
        raise ValidationError(
            "Unknown time zone %(value)s: use an IANA name such as Asia/Shanghai.",
            code="unknown_timezone",
            params={"value": repr(value)},
        )


class ProductCategory(models.TextChoices):
    GARMENTS = "garments", "Garments and textiles"
    FOOTWEAR = "footwear", "Footwear"
    ELECTRONICS = "electronics", "Electronics"
    LIGHTING = "lighting", "Lighting"
    TOYS = "toys", "Toys and children's products"
    FURNITURE_HOME = "furniture_home", "Furniture and home"
    FOOD_CONTACT = "food_contact", "Food-contact articles"


class ComplianceRegime(models.TextChoices):
    CE = "CE", "CE marking (EU)"
    UKCA = "UKCA", "UKCA marking (UK)"
    CPSIA = "CPSIA", "CPSIA (US children's products)"
    ASTM_F963 = "ASTM_F963", "ASTM F963 toy safety (US)"
    EN71 = "EN71", "EN 71 toy safety (EU)"
    FDA_FOOD_CONTACT = "FDA_FCM", "FDA food-contact (21 CFR)"
    EU_FOOD_CONTACT = "EU_FCM", "EU food-contact (Reg. 1935/2004)"
    LFGB = "LFGB", "LFGB food-contact (Germany)"
    ROHS = "ROHS", "RoHS"
    REACH = "REACH", "REACH"
    WEEE = "WEEE", "WEEE"
    FCC = "FCC", "FCC Part 15 (US)"
    UL = "UL", "UL listing (US)"
    PROP65 = "PROP65", "California Proposition 65"
    OEKO_TEX = "OEKO_TEX", "OEKO-TEX Standard 100"
    GOTS = "GOTS", "GOTS organic textile"
    FSC = "FSC", "FSC timber"


class QuantityUnit(models.TextChoices):
    PIECES = "pcs", "pieces"
    PAIRS = "pairs", "pairs"
    SETS = "sets", "sets"
    DOZENS = "dozens", "dozens"


def validate_code_list(values, allowed: dict[str, str], what: str) -> None:
    """A list of codes, each one of `allowed`, none twice."""
    if not isinstance(values, list):
        raise ValidationError(f"{what} must be a list of codes.", code="not_a_list")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationError(
            f"Unknown {what}: {', '.join(map(str, unknown))}.", code="unknown_code"
        )
    if len(set(values)) != len(values):
        raise ValidationError(f"{what} lists a code twice.", code="duplicate_code")


def validate_markets(values) -> None:
    validate_code_list(values, markets(), "target markets")


def validate_regimes(values) -> None:
    validate_code_list(values, dict(ComplianceRegime.choices), "compliance regimes")


# Languages that consumer labels and instructions must carry in a market, where its law fixes
# them (e.g. Canada's Consumer Packaging and Labelling Act: English and French). For the EU as
# a bloc it depends on the member state sold in, so a product's packaging spec names them.
MARKET_LANGUAGES = {
    "US": ["en"], "GB": ["en"], "IE": ["en"], "AU": ["en"], "NZ": ["en"],
    "CA": ["en", "fr"], "DE": ["de"], "AT": ["de"], "FR": ["fr"], "ES": ["es"], "IT": ["it"],
    "NL": ["nl"], "BE": ["nl", "fr", "de"], "PT": ["pt"], "PL": ["pl"], "SE": ["sv"],
    "DK": ["da"], "FI": ["fi", "sv"], "CH": ["de", "fr", "it"], "JP": ["ja"], "MX": ["es"],
}  # fmt: skip

LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "nl": "Dutch", "pt": "Portuguese", "pl": "Polish", "sv": "Swedish", "da": "Danish",
    "fi": "Finnish", "ja": "Japanese",
}  # fmt: skip


def required_languages(market: str, spec_languages: list[str] | None = None) -> list[str]:
    """The languages labels must carry: the product's spec when it names them, else the
    market's law."""
    return list(spec_languages or MARKET_LANGUAGES.get(market, []))
