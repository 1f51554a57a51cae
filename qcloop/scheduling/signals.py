"""Hooks into other apps' saves, without editing them: an inspector's follow-up count re-plans
the PO, and a PO's QC lead is kept across its booked milestones."""

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from qcloop.inspections.models import ProductionStatus
from qcloop.orders.models import PurchaseOrder

from . import services


@receiver(post_save, sender=ProductionStatus, dispatch_uid="scheduling.follow_up_counted")
def follow_up_counted(sender, instance, raw=False, **kwargs):
    if not raw:
        services.follow_up_counted(instance)


@receiver(pre_save, sender=PurchaseOrder, dispatch_uid="scheduling.guard_qc_lead")
def guard_qc_lead(sender, instance, raw=False, **kwargs):
    if not raw:
        services.guard_qc_lead(instance)
