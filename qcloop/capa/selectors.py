"""Reads of corrective actions through their tenancy gate: a CAPA is seen by whoever sees its
PO (the buyer, the agency's staff on it, the supplier it is addressed to)."""

from django.db.models import QuerySet

from qcloop.core.tenancy import for_user, gate
from qcloop.orders.models import PurchaseOrder

from .models import CapaAnswer, CapaEvidence, CapaVerification, CorrectiveAction


@gate(CorrectiveAction)
def capas(user) -> QuerySet:
    return CorrectiveAction.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))


def _of_visible_capas(model):
    def scope(user) -> QuerySet:
        return model.objects.filter(capa__in=for_user(CorrectiveAction, user).values("pk"))

    return scope


gate(CapaAnswer)(_of_visible_capas(CapaAnswer))
gate(CapaEvidence)(_of_visible_capas(CapaEvidence))
gate(CapaVerification)(_of_visible_capas(CapaVerification))
