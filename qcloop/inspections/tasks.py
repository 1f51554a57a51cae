"""Background work for milestones, run by `qcloop worker`."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse

from .models import Milestone


@task()
def notify_inspector_booked(milestone_id: int) -> bool:
    """Tell the inspector where and when they inspect."""
    milestone = (
        Milestone.objects.select_related("po__factory", "po__supplier", "inspector")
        .filter(pk=milestone_id)
        .first()
    )
    if milestone is None or milestone.inspector is None or milestone.inspection_date is None:
        return False
    po, factory = milestone.po, milestone.po.factory
    send_mail(
        subject=f"[qcloop] {milestone.label} booked: PO {po.number} on "
        f"{milestone.inspection_date:%a %d %b %Y}",
        message=(
            f"Hello {milestone.inspector.get_short_name()},\n\n"
            f"You are booked for the {milestone.get_kind_display()} of PO {po.number} "
            f"on {milestone.inspection_date:%A %d %B %Y}.\n"
            f"Factory: {factory.name}, {factory.address}, {factory.city} ({po.supplier}).\n\n"
            f"{settings.SITE_URL}{reverse('inspections:milestone_detail', args=[milestone.pk])}\n"
        ),
        from_email=None,
        recipient_list=[milestone.inspector.email],
    )
    return True


@task()
def ingest_photo(attachment_id: int) -> str:
    """Decode, store and check one uploaded photo (see qcloop.inspections.photos)."""
    from .photos import ingest

    return ingest(attachment_id)
