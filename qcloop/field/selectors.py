"""Reads of the field app's records through their tenancy gate: a phone's uploads and
receipts are seen only by the user who sent them, on milestones they still see."""

from django.db.models import QuerySet

from qcloop.core.tenancy import for_user, gate
from qcloop.inspections.models import Milestone

from .models import FieldUpload, SyncReceipt


@gate(FieldUpload)
def uploads(user) -> QuerySet:
    return FieldUpload.objects.filter(
        created_by=user, milestone__in=for_user(Milestone, user).values("pk")
    )


@gate(SyncReceipt)
def receipts(user) -> QuerySet:
    return SyncReceipt.objects.filter(
        user=user, milestone__in=for_user(Milestone, user).values("pk")
    )
