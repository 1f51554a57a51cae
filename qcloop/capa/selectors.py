"""Reads of corrective actions through their tenancy gate: a CAPA is seen by whoever sees its
PO (the buyer, the agency's staff on it, the supplier it is addressed to)."""

from django.db.models import QuerySet
from django.utils import timezone

from qcloop.accounts.models import Role
from qcloop.core.tenancy import for_user, gate
from qcloop.inspections.models import Milestone, MilestoneStatus
from qcloop.orders.models import PurchaseOrder

from . import rules
from .models import AnswerDecision, CapaAnswer, CapaEvidence, CapaVerification, CorrectiveAction


@gate(CorrectiveAction)
def capas(user) -> QuerySet:
    visible = CorrectiveAction.objects.filter(po__in=for_user(PurchaseOrder, user).values("pk"))
    membership = user.membership
    if membership is None or membership.role != Role.INSPECTOR:
        return visible
    # An inspector sees what their visits are to verify: the CAPAs of the suppliers they are
    # to visit, on their agency's other POs too (a CLI finding is verified at the next PO).
    visits = Milestone.objects.filter(
        inspector=user,
        po__agency=membership.organisation_id,
        status__in=[MilestoneStatus.BOOKED, MilestoneStatus.IN_PROGRESS, MilestoneStatus.SUBMITTED],
    )
    carried = CorrectiveAction.objects.filter(
        supplier__in=visits.values("po__supplier"), po__agency=membership.organisation_id
    )
    return visible | carried


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


def supplier_history(user, supplier, today=None):
    """The supplier's CAPAs the user may see, summed up with their recurrences (rules.history),
    and the CAPAs themselves, newest first."""
    capas = list(
        for_user(CorrectiveAction, user)
        .filter(supplier=supplier)
        .select_related("po", "milestone")
        .prefetch_related("answers", "verifications")
        .order_by("-opened_at", "-pk")
    )
    return history_of(capas, today), capas


def history_of(capas, today=None) -> rules.CapaHistory:
    return rules.history([_fact(capa) for capa in capas], today or timezone.localdate())


def capa_record(supplier) -> dict:
    """The supplier's CAPA history as plain values, for the PO summary (a supplier record is
    its buyer's, so every CAPA of it is the summary reader's to see)."""
    capas = supplier.capas.select_related("po").prefetch_related("answers", "verifications")
    history = history_of(list(capas))
    return {
        "opened": history.opened,
        "open": history.open,
        "overdue": history.overdue,
        "answered_on_time": history.answered_on_time,
        "answered": history.answered,
        "effective_first_time": history.effective_first_time,
        "verified": history.verified,
        "recurrences": history.recurrences,
        "recurring": [
            {"title": r.title, "references": list(r.references), "pos": list(r.po_numbers)}
            for r in history.recurring
        ],
    }


def _day(moment):
    return timezone.localtime(moment).date() if moment else None


def _fact(capa: CorrectiveAction) -> rules.CapaFact:
    answers = list(capa.answers.all())
    return rules.CapaFact(
        reference=capa.reference,
        key=capa.finding_key,
        title=capa.title,
        severity=capa.severity,
        po_number=capa.po.number,
        opened_on=_day(capa.opened_at),
        due_on=capa.due_on,
        status=capa.status,
        answered_on=_day(answers[0].submitted_at) if answers else None,
        answers_sent_back=sum(a.decision == AnswerDecision.RETURNED for a in answers),
        verifications=tuple(v.effective for v in capa.verifications.all()),
    )
