"""Reads of milestones through their tenancy gate: those of the POs the user can see, and for
an inspector only the milestones assigned to them."""

from django.db.models import QuerySet

from qcloop.accounts.models import Role
from qcloop.core.tenancy import for_user, gate
from qcloop.orders.models import PurchaseOrder, Supplier

from .models import Milestone, SwitchingStream


@gate(Milestone)
def milestones(user) -> QuerySet:
    membership = user.membership
    if membership is None:
        return Milestone.objects.none()
    visible = Milestone.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))
    if membership.is_agency and membership.role == Role.INSPECTOR:
        return visible.filter(inspector=user)
    return visible


@gate(SwitchingStream)
def switching_streams(user) -> QuerySet:
    """A supplier's switching history is seen by whoever sees the supplier."""
    return SwitchingStream.objects.filter(supplier__in=for_user(Supplier, user).values("pk"))


def switching_overview(user, supplier) -> list[dict]:
    """The supplier's streams as they stand: severity and why, for pages and reports."""
    from qcloop.sampling import SwitchingState

    rows = []
    for stream in for_user(SwitchingStream, user).filter(supplier=supplier):
        state = SwitchingState.from_dict(stream.state) if stream.state else SwitchingState.start()
        rows.append(
            {"stream": stream, "severity": state.severity, "explanation": state.explanation}
        )
    return rows
