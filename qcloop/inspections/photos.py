"""Services for photo evidence: upload, ingest in the background, integrity flags, review.

An upload is staged and answered at once; the worker then decodes it, stores the original
(content-addressed by SHA-256), a display rendition and a thumbnail, reads its EXIF and
perceptual hash, and checks it: taken at the factory, on the inspection day, not recycled
from another inspection, not edited. A file that is not a usable photo is rejected with the
reason, and nothing else of the inspection changes."""

import uuid as uuid_module
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from qcloop.accounts.models import User

from . import imaging, recording
from .models import (
    AttachmentStatus,
    Defect,
    MeasurementReading,
    Milestone,
    MilestoneStatus,
    Photo,
    PhotoAttachment,
)

MAX_UPLOAD_BYTES = getattr(settings, "QCLOOP_MAX_PHOTO_BYTES", 40 * 1024 * 1024)
SIGNED_64 = 1 << 63


def _signed(value: int) -> int:
    """A 64-bit hash as the signed integer a BIGINT column holds."""
    return value - (1 << 64) if value >= SIGNED_64 else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


# --- upload -----------------------------------------------------------------------------------


@transaction.atomic
def upload_photo(
    *,
    by: User,
    milestone: Milestone,
    data,
    name: str = "",
    caption: str = "",
    defect: Defect | None = None,
    item_code: str = "",
    reading: MeasurementReading | None = None,
    loading_step: str = "",
    uuid=None,
    awaiting_original: bool = False,
) -> PhotoAttachment:
    """Stage an uploaded photo for the milestone and queue its processing. `data` is bytes or
    an uploaded file. A retried upload (same uuid) returns the attachment already made.
    `awaiting_original`: the file is a rendition a phone made; its original follows
    (`attach_original`)."""
    milestone = Milestone.objects.select_related("po", "checklist").get(pk=milestone.pk)
    if not recording.may_record(by, milestone):
        raise PermissionDenied("Only the assigned inspector and the PO's QC lead add photos.")
    if uuid and (done := PhotoAttachment.objects.filter(uuid=uuid).first()):
        if done.milestone_id != milestone.pk:
            raise ValidationError({"uuid": "This photo id belongs to another inspection."})
        return done
    if milestone.status != MilestoneStatus.SUBMITTED and not recording.is_open_for_recording(
        by, milestone
    ):
        raise ValidationError({"milestone": "Photos are added while the inspection is open."})
    _check_size(data, name)
    check_links(milestone, defect, item_code, reading)
    key = uuid_module.UUID(str(uuid)) if uuid else uuid_module.uuid4()
    content = ContentFile(data) if isinstance(data, bytes) else data
    staged = default_storage.save(f"uploads/{key}", content)
    attachment = PhotoAttachment.objects.create(
        milestone=milestone,
        staged=staged,
        original_name=(name or "")[:200],
        caption=caption.strip()[:300],
        defect=defect,
        item_code=item_code,
        reading=reading,
        loading_step=loading_step.strip()[:60],
        uuid=key,
        uploaded_by=by,
        awaiting_original=awaiting_original,
    )
    _enqueue_ingest(attachment)
    return attachment


@transaction.atomic
def attach_original(*, by: User, attachment: PhotoAttachment, data: bytes) -> PhotoAttachment:
    """The original of a photo whose phone-made rendition came first: it becomes the evidence
    once the worker has checked that it shows the same picture. Sending it twice is harmless."""
    attachment = (
        PhotoAttachment.objects.select_for_update(of=("self",))
        .select_related("milestone__po")
        .get(pk=attachment.pk)
    )
    if not recording.may_record(by, attachment.milestone):
        raise PermissionDenied("Only the assigned inspector and the PO's QC lead add photos.")
    if not attachment.awaiting_original or attachment.original_staged:
        return attachment  # already here: a retry
    _check_size(data, attachment.original_name)
    staged = default_storage.save(f"uploads/{attachment.uuid}-original", ContentFile(data))
    attachment.original_staged = staged
    attachment.save(update_fields=["original_staged"])
    _enqueue_ingest(attachment)
    return attachment


def _enqueue_ingest(attachment: PhotoAttachment) -> None:
    from .tasks import ingest_photo

    transaction.on_commit(lambda: ingest_photo.enqueue(attachment.pk))


def _check_size(data, name: str) -> None:
    size = len(data) if isinstance(data, bytes) else data.size
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            {
                "file": f"{name or 'The file'} is {size / 1e6:.0f} MB; photos may be at most "
                f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB."
            }
        )
    if size == 0:
        raise ValidationError({"file": f"{name or 'The file'} is empty."})


def check_links(milestone, defect, item_code, reading) -> None:
    errors = {}
    if defect is not None and defect.milestone_id != milestone.pk:
        errors["defect"] = "That defect belongs to another inspection."
    if item_code and (milestone.checklist is None or milestone.checklist.item(item_code) is None):
        errors["item_code"] = f"No item {item_code!r} in this inspection's checklist."
    if reading is not None and reading.milestone_id != milestone.pk:
        errors["reading"] = "That reading belongs to another inspection."
    if errors:
        raise ValidationError(errors)


# --- ingest (the worker) ------------------------------------------------------------------------


def ingest(attachment_id: int) -> str:
    """Process what is staged for one attachment (the upload, then an original that followed a
    phone's rendition); returns the attachment's status, or "gone" when nothing was left to do
    (a retried job does nothing twice)."""
    status = _ingest_upload(attachment_id)
    if _ingest_original(attachment_id):
        status = PhotoAttachment.objects.values_list("status", flat=True).get(pk=attachment_id)
    return status


def _ingest_upload(attachment_id: int) -> str:
    attachment = (
        PhotoAttachment.objects.select_related("milestone__po__factory")
        .filter(pk=attachment_id, status=AttachmentStatus.PENDING)
        .first()
    )
    if attachment is None:
        return "gone"
    with default_storage.open(attachment.staged, "rb") as staged:
        data = staged.read()
    try:
        processed = imaging.process_photo(data, max_bytes=MAX_UPLOAD_BYTES)
    except imaging.PhotoError as error:
        return _reject(attachment, str(error))
    photo = store_photo(processed, data)
    flags = _flags(attachment.milestone, processed, photo)
    with transaction.atomic():
        locked = PhotoAttachment.objects.select_for_update().get(pk=attachment.pk)
        locked.photo, locked.flags, locked.status = photo, flags, AttachmentStatus.READY
        staged_name, locked.staged = locked.staged, ""
        locked.save(update_fields=["photo", "flags", "status", "staged"])
    default_storage.delete(staged_name)
    return AttachmentStatus.READY


def _ingest_original(attachment_id: int) -> bool:
    """Make the original the evidence in place of the phone's rendition, flagging an original
    that does not show the same picture. A rendition still unprocessed waits for its turn."""
    attachment = (
        PhotoAttachment.objects.select_related("milestone__po__factory", "photo")
        .filter(pk=attachment_id)
        .exclude(original_staged="")
        .exclude(status=AttachmentStatus.PENDING)
        .first()
    )
    if attachment is None:
        return False
    staged_name = attachment.original_staged
    with default_storage.open(staged_name, "rb") as staged:
        data = staged.read()
    try:
        processed = imaging.process_photo(data, max_bytes=MAX_UPLOAD_BYTES)
    except imaging.PhotoError as error:
        photo, flags = attachment.photo, [*attachment.flags, _unreadable_original(error)]
    else:
        photo = store_photo(processed, data)
        flags = _flags(attachment.milestone, processed, photo)
        flags += _mismatch(attachment.photo, photo)
    with transaction.atomic():
        locked = PhotoAttachment.objects.select_for_update().get(pk=attachment.pk)
        if locked.original_staged != staged_name:
            return False  # another worker got there first
        if photo is not None and photo != locked.photo:
            locked.field_rendition, locked.photo = locked.photo, photo
        if locked.photo is not None:
            locked.status, locked.error = AttachmentStatus.READY, ""
        locked.flags, locked.awaiting_original, locked.original_staged = flags, False, ""
        locked.save()
    default_storage.delete(staged_name)
    return True


def _unreadable_original(error) -> dict:
    return {
        "kind": "original_unreadable",
        "message": f"The original could not be read ({error}); the phone's rendition stands.",
    }


def _mismatch(rendition: Photo | None, original: Photo) -> list[dict]:
    """An original that does not look like the rendition made from it was swapped."""
    if rendition is None:
        return []
    distance = imaging.hamming(_unsigned(rendition.phash), _unsigned(original.phash))
    if distance <= imaging.NEAR_DUPLICATE_DISTANCE:
        return []
    return [
        {
            "kind": "rendition_mismatch",
            "message": f"The original does not show the picture its rendition showed "
            f"(distance {distance} of 64).",
        }
    ]


def _reject(attachment: PhotoAttachment, reason: str) -> str:
    PhotoAttachment.objects.filter(pk=attachment.pk).update(
        status=AttachmentStatus.REJECTED, error=reason, staged=""
    )
    default_storage.delete(attachment.staged)
    return AttachmentStatus.REJECTED


def _save_once(name: str, data: bytes) -> str:
    # Content-addressed: the same name always holds the same bytes, so an existing file is kept.
    if default_storage.exists(name):
        return name
    return default_storage.save(name, ContentFile(data))


def store_photo(processed, data: bytes) -> Photo:
    """The photo's files and facts, once per SHA-256."""
    sha = processed.sha256
    existing = Photo.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing
    folder = f"photos/{sha[:2]}/{sha}"
    facts = processed.exif
    names = {
        "original": _save_once(f"{folder}/original.{processed.format}", data),
        "rendition": _save_once(f"{folder}/rendition.jpg", processed.rendition),
        "thumbnail": _save_once(f"{folder}/thumbnail.jpg", processed.thumbnail),
    }
    photo, _ = Photo.objects.get_or_create(
        sha256=sha,
        defaults={
            **names,
            "format": processed.format,
            "size_bytes": len(data),
            "width": processed.width,
            "height": processed.height,
            "has_exif": facts.has_exif,
            "taken_at": _aware(facts.taken_at),
            "taken_at_has_offset": bool(facts.taken_at and facts.taken_at.tzinfo),
            "latitude": _coordinate(facts.latitude),
            "longitude": _coordinate(facts.longitude),
            "camera": " ".join(filter(None, [facts.make, facts.model]))[:120],
            "software": (facts.software or "")[:120],
            "exif": facts.to_dict(),
            "phash": _signed(processed.phash),
        },
    )
    return photo


def _aware(moment: datetime | None) -> datetime | None:
    # A capture time without an offset is kept as UTC-naive wall time; the integrity check
    # reads it in the factory's zone. Storing it needs some zone: UTC keeps the wall clock.
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _coordinate(value) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 7)))


def _flags(milestone: Milestone, processed, photo: Photo) -> list[dict]:
    factory = milestone.po.factory
    flags = imaging.integrity_flags(
        processed.exif,
        factory_lat=float(factory.latitude),
        factory_lon=float(factory.longitude),
        factory_tz=factory.timezone,
        inspection_date=milestone.inspection_date or timezone.localdate(),
        now=timezone.now(),
    )
    found = [{"kind": flag.kind, "message": flag.message} for flag in flags]
    return found + _reuse_flags(milestone, photo)


def _reuse_flags(milestone: Milestone, photo: Photo) -> list[dict]:
    """The same or a near-identical photo already used at another inspection of the agency."""
    others = (
        PhotoAttachment.objects.filter(
            status=AttachmentStatus.READY, milestone__po__agency_id=milestone.po.agency_id
        )
        .exclude(milestone=milestone)
        .select_related("photo", "milestone__po")
    )
    mine = _unsigned(photo.phash)
    for other in others.iterator():
        distance = imaging.hamming(mine, _unsigned(other.photo.phash))
        if other.photo_id == photo.pk or distance <= imaging.NEAR_DUPLICATE_DISTANCE:
            how = (
                "the same file"
                if other.photo_id == photo.pk
                else (f"a near-identical photo (distance {distance} of 64)")
            )
            where = f"{other.milestone.label} of PO {other.milestone.po.number}"
            return [{"kind": "reused", "message": f"This is {how} already used at {where}."}]
    return []


# --- review -------------------------------------------------------------------------------------


@transaction.atomic
def review_flags(*, by: User, attachment: PhotoAttachment, justification: str):
    """The QC lead's word on a flagged photo: why it stands as evidence (or not)."""
    if attachment.milestone.po.qc_lead_id != by.pk:
        raise PermissionDenied("The PO's QC lead reviews photo flags.")
    if not attachment.flags:
        raise ValidationError({"justification": "This photo has no flag to review."})
    if not justification.strip():
        raise ValidationError(
            {"justification": "Say why the flag is acceptable, or what was done."}
        )
    attachment.justification = justification.strip()
    attachment.reviewed_by, attachment.reviewed_at = by, timezone.now()
    attachment.save(update_fields=["justification", "reviewed_by", "reviewed_at"])
    return attachment
