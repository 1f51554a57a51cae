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


def _rank(milestone) -> tuple[int, int]:
    from qcloop.inspections.models import MILESTONE_ORDER

    return (MILESTONE_ORDER.index(milestone.kind), milestone.sequence)


def open_at_psi(capa: CorrectiveAction, psi) -> bool:
    """Opened at a milestone before this PSI and not closed by the time the PSI was done."""
    if _rank(capa.milestone) >= _rank(psi):
        return False
    done = psi.submitted_at
    return capa.closed_at is None or (done is not None and capa.closed_at > done)


def capa_log(po, upto=None) -> list[dict]:
    """The PO's CAPAs as plain values for reports: opened up to milestone `upto` (all when
    None), each with where it stands and, at a PSI, whether it is still open there."""
    from django.utils import timezone

    rows = []
    capas = po.capas.select_related("milestone", "owner", "recurrence_of__po").prefetch_related(
        "verifications__milestone", "answers"
    )
    for capa in capas:
        if upto is not None and _rank(capa.milestone) > _rank(upto):
            continue
        verified = [v for v in capa.verifications.all() if v.effective]
        answers = list(capa.answers.all())
        psi_flag = upto is not None and upto.kind == "PSI" and open_at_psi(capa, upto)
        rows.append(
            {
                "reference": capa.reference,
                "title": capa.title,
                "severity": capa.severity,
                "opened_at": f"{capa.milestone.label}, {capa.opened_at:%d %b %Y}",
                "owner": str(capa.owner) if capa.owner else "",
                "due_on": f"{capa.due_on:%d %b %Y}",
                "status": capa.get_status_display(),
                "is_open": capa.is_open,
                "root_cause": answers[-1].root_cause if answers else "",
                "closed_at": f"{capa.closed_at:%d %b %Y}" if capa.closed_at else None,
                "verified_at": (
                    f"{verified[-1].milestone.label}, {verified[-1].verified_at:%d %b %Y}"
                    if verified
                    else None
                ),
                "recurrence_of": capa.recurrence_of.reference if capa.recurrence_of else "",
                "overdue": capa.is_overdue(timezone.localdate()),
                "open_at_psi": psi_flag,
            }
        )
    return rows
