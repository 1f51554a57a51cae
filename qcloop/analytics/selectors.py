"""Reads of the analytics' derived data, each through its tenancy gate: a tally or a trend flag
is seen by whoever sees its PO."""

from django.db.models import QuerySet

from qcloop.accounts.selectors import engaged_buyers, is_agency_staff
from qcloop.core.tenancy import for_user, gate
from qcloop.orders.models import PurchaseOrder

from .models import MilestoneTally, SnapshotSend, TrendFlag


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


@gate(SnapshotSend)
def snapshot_sends(user) -> QuerySet:
    """A buyer's snapshot mails: seen by the buyer and by the agencies' staff serving it."""
    membership = user.membership
    if membership is None:
        return SnapshotSend.objects.none()
    if membership.is_buyer:
        return SnapshotSend.objects.filter(buyer=membership.organisation)
    if is_agency_staff(user):
        return SnapshotSend.objects.filter(buyer__in=engaged_buyers(membership.organisation))
    return SnapshotSend.objects.none()
