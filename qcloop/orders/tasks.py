"""Background work for POs, run by `qcloop worker`."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse

from .models import PurchaseOrder


@task()
def notify_qc_lead_assigned(po_id: int) -> bool:
    """Tell a QC lead that a PO is now theirs to follow, milestone by milestone."""
    po = (
        PurchaseOrder.objects.select_related("qc_lead", "buyer", "supplier", "factory")
        .filter(pk=po_id)
        .first()
    )
    if po is None or po.qc_lead is None:
        return False
    milestones = ", ".join(
        f"{m.label} {m.window_start:%d %b} to {m.window_end:%d %b}" for m in po.milestones.all()
    )
    send_mail(
        subject=f"[qcloop] You are the QC lead for PO {po.number} ({po.buyer})",
        message=(
            f"Hello {po.qc_lead.get_short_name()},\n\n"
            f"You are now the accountable QC lead for PO {po.number} of {po.buyer}: "
            f"{po.quantity} {po.unit} from {po.supplier}, {po.factory.city}.\n"
            f"Ex-factory {po.ex_factory_date:%d %b %Y}, ship {po.ship_date:%d %b %Y}.\n"
            f"Milestones: {milestones or 'none planned yet'}.\n\n"
            f"{settings.SITE_URL}{reverse('orders:po_detail', args=[po.pk])}\n"
        ),
        from_email=None,
        recipient_list=[po.qc_lead.email],
    )
    return True


@task()
def notify_qc_lead_of_pos(lead_id: int, po_ids: list[int]) -> bool:
    """Tell a QC lead, in one message, of the POs an import made theirs."""
    orders = list(
        PurchaseOrder.objects.select_related("qc_lead", "buyer", "supplier", "factory")
        .filter(pk__in=po_ids, qc_lead_id=lead_id)
        .order_by("ex_factory_date", "number")
    )
    if len(orders) == 1:
        return notify_qc_lead_assigned.call(orders[0].pk)
    if not orders:
        return False
    lead = orders[0].qc_lead
    lines = [
        f"- PO {po.number} of {po.buyer}: {po.quantity} {po.unit} from {po.supplier}, "
        f"{po.factory.city}; ex-factory {po.ex_factory_date:%d %b %Y}\n"
        f"  {settings.SITE_URL}{reverse('orders:po_detail', args=[po.pk])}"
        for po in orders
    ]
    send_mail(
        subject=f"[qcloop] You are the QC lead for {len(orders)} new POs",
        message=(
            f"Hello {lead.get_short_name()},\n\n"
            f"An import made you the accountable QC lead for these {len(orders)} POs, "
            "soonest ex-factory first:\n\n" + "\n".join(lines) + "\n"
        ),
        from_email=None,
        recipient_list=[lead.email],
    )
    return True
