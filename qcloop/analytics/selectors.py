"""Reads of the analytics' derived data, each through its tenancy gate: a tally or a trend flag
is seen by whoever sees its PO."""

from django.db.models import QuerySet

from qcloop.core.tenancy import for_user, gate
from qcloop.orders.models import PurchaseOrder

from .models import MilestoneTally, TrendFlag


def _of_visible_pos(model, user) -> QuerySet:
    membership = user.membership
    if membership is None:
        return model.objects.none()
    if membership.is_buyer:
        # The buyer's own rows: no subquery over its POs (the dashboard's hot path).
        return model.objects.filter(buyer=membership.organisation)
    return model.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))


@gate(MilestoneTally)
def tallies(user) -> QuerySet:
    return _of_visible_pos(MilestoneTally, user)


@gate(TrendFlag)
def trend_flags(user) -> QuerySet:
    return _of_visible_pos(TrendFlag, user)
