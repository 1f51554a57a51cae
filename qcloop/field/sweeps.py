"""Housekeeping of the field app's uploads."""

from datetime import timedelta

from django.utils import timezone

from qcloop.core.sweeper import sweep

from . import uploads
from .models import FieldUpload

# A phone keeps every photo until the server acknowledges it, so an upload abandoned this
# long is only storage: when the phone comes back it declares the photo again.
ABANDONED_AFTER = timedelta(days=30)


@sweep("abandoned photo uploads")
def delete_abandoned_uploads() -> int:
    cutoff = timezone.now() - ABANDONED_AFTER
    stale = FieldUpload.objects.filter(completed_at__isnull=True, updated_at__lt=cutoff)
    count = 0
    for upload in stale:
        uploads.forget(upload)
        count += 1
    return count
