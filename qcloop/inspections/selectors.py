"""Reads of milestones through their tenancy gate: those of the POs the user can see, and for
an inspector only the milestones assigned to them."""

from django.db.models import QuerySet

from qcloop.accounts.models import Role
from qcloop.core.tenancy import for_user, gate
from qcloop.orders.models import PurchaseOrder

from .models import Milestone


@gate(Milestone)
def milestones(user) -> QuerySet:
    membership = user.membership
    if membership is None:
        return Milestone.objects.none()
    visible = Milestone.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))
    if membership.is_agency and membership.role == Role.INSPECTOR:
        return visible.filter(inspector=user)
    return visible
