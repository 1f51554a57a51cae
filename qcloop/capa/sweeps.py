"""The CAPA deadline the sweeper keeps: answers overdue are flagged to the PO's QC lead, once
per CAPA (a conditional update claims each flag, so several sweepers send one mail)."""

from django.core.mail import EmailMessage
from django.utils import timezone

from qcloop.core.sweeper import sweep

from .models import CapaStatus, CorrectiveAction


@sweep("overdue corrective actions")
def flag_overdue(today=None) -> int:
    today = today or timezone.localdate()
    overdue = CorrectiveAction.objects.filter(
        status=CapaStatus.OPEN, due_on__lt=today, overdue_flagged_at__isnull=True
    ).select_related("po__qc_lead", "po__supplier", "milestone", "owner")
    flagged = 0
    for capa in overdue[:200]:
        won = CorrectiveAction.objects.filter(pk=capa.pk, overdue_flagged_at__isnull=True).update(
            overdue_flagged_at=timezone.now()
        )
        lead = capa.po.qc_lead
        if not won or lead is None or not lead.email:
            continue
        EmailMessage(
            subject=f"[qcloop] Overdue: {capa.reference} ({capa.po.supplier.name})",
            body=(
                f"{capa.reference}: {capa.title}\n"
                f"Opened at {capa.milestone.label}; the answer of "
                f"{capa.owner or capa.po.supplier.name} was due on {capa.due_on:%d %b %Y}.\n"
            ),
            to=[lead.email],
            headers={"Auto-Submitted": "auto-generated"},
        ).send(using="default")
        flagged += 1
    return flagged
