"""Revisions of what is recorded at a milestone, for syncing phones that were offline.

Every change bumps the milestone's revision and stamps the record it touched. A phone sends
each change with the revision it had seen; a stamp newer than that, from someone else,
is a conflict the inspector must see (see `qcloop.field.sync`)."""

from django.db.models import F
from django.utils import timezone

from .models import Milestone, RecordStamp


def stamp(milestone: Milestone, key: str, by) -> int:
    """Record that `by` changed the record `key` of the milestone; returns the new revision.
    Called inside the change's transaction, with the milestone row locked."""
    Milestone.objects.filter(pk=milestone.pk).update(revision=F("revision") + 1)
    revision = Milestone.objects.values_list("revision", flat=True).get(pk=milestone.pk)
    milestone.revision = revision
    RecordStamp.objects.update_or_create(
        milestone=milestone,
        key=key,
        defaults={
            "revision": revision,
            "changed_by": by,
            "device": "",
            "changed_at": timezone.now(),
        },
    )
    return revision


def answer_key(item_code: str) -> str:
    return f"answer:{item_code}"


def defect_key(uuid) -> str:
    return f"defect:{uuid}"


def reading_key(chart_id: int, sample_unit: int, point_code: str) -> str:
    return f"reading:{chart_id}:{sample_unit}:{point_code}"


def carton_key(carton_number: int) -> str:
    return f"carton:{carton_number}"


PRODUCTION = "production"
LOADING = "loading"
STATUS = "status"
