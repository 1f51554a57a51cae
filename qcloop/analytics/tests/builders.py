"""Builders shared by the analytics tests: tallies placed on a chosen day, and factories."""

from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from qcloop.analytics.models import MilestoneTally
from qcloop.orders.models import Factory
from qcloop.orders.services import save_factory


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def tally(milestone, on, units, critical=0, major=0, minor=0, result="pass"):
    """A published milestone as the dashboard and the scorecards count it, on a chosen day."""
    po = milestone.po
    return MilestoneTally.objects.create(
        milestone=milestone,
        buyer=po.buyer,
        po=po,
        supplier=po.supplier,
        factory=po.factory,
        category="lighting",
        market=po.destination_market,
        kind=milestone.kind,
        sequence=milestone.sequence,
        inspected_on=on,
        published_at=at(on),
        result=result,
        sampled_units=units,
        critical=critical,
        major=major,
        minor=minor,
    )


def factory_of(supplier, name, by, city="Foshan", country="CN", tz="Asia/Shanghai") -> Factory:
    return save_factory(
        by=by,
        factory=Factory(
            supplier=supplier,
            name=name,
            address="2 River Rd",
            city=city,
            country=country,
            latitude=Decimal("23.0"),
            longitude=Decimal("113.1"),
            timezone=tz,
        ),
    )
