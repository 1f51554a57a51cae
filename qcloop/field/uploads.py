"""Photo uploads from phones on bad signal: declared once, sent in chunks, resumed where the
connection broke, and turned into photo evidence only when every byte is here and hashes to
the SHA-256 the phone computed. Chunks are stored as separate files, so any storage backend
(a local folder, S3) holds an upload in progress."""

import hashlib
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from qcloop.accounts.models import User
from qcloop.inspections import photos, recording
from qcloop.inspections.models import Defect, MeasurementReading, Milestone, PhotoAttachment

from .models import FieldUpload, UploadPart

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Django refuses request bodies above DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default).
MAX_CHUNK_BYTES = 2 * 1024 * 1024


def chunk_bytes() -> int:
    """The chunk size phones use: small enough to get through on a weak signal."""
    return min(settings.QCLOOP_FIELD_CHUNK_BYTES, MAX_CHUNK_BYTES)


class WrongOffset(Exception):
    """A chunk that does not start where the server's copy ends: resume from `received`."""

    def __init__(self, received: int):
        super().__init__(f"The server has {received} bytes of this upload: send from there.")
        self.received = received


@transaction.atomic
def declare_upload(
    *,
    by: User,
    milestone: Milestone,
    upload_id,
    photo_uuid,
    part: str,
    size: int,
    sha256: str,
    name: str = "",
    caption: str = "",
    defect=None,
    item_code: str = "",
    reading=None,
    loading_step: str = "",
) -> FieldUpload:
    """Announce a photo file; returns the upload, new or already under way (a retry)."""
    if not recording.may_record(by, milestone):
        raise PermissionDenied("Only the assigned inspector and the PO's QC lead add photos.")
    same = FieldUpload.objects.filter(photo_uuid=photo_uuid, part=part).first()
    same = same or FieldUpload.objects.filter(pk=upload_id).first()
    if same is not None:
        return _same_file(same, by, milestone, photo_uuid, part, size, sha256)
    errors = {}
    if part not in UploadPart.values:
        errors["part"] = f"Send a rendition, an original or a photo, not {part!r}."
    if not 0 < size <= photos.MAX_UPLOAD_BYTES:
        errors["size"] = f"A photo has 1 to {photos.MAX_UPLOAD_BYTES} bytes, not {size}."
    if not SHA256.match(sha256 or ""):
        errors["sha256"] = "Give the file's SHA-256 as 64 lowercase hex digits."
    links = _links(milestone, defect, reading)
    if errors:
        raise ValidationError(errors)
    photos.check_links(milestone, None, item_code, None)
    return FieldUpload.objects.create(
        id=upload_id,
        milestone=milestone,
        photo_uuid=photo_uuid,
        part=part,
        size=size,
        sha256=sha256,
        name=(name or "")[:200],
        links={
            **links,
            "caption": caption,
            "item_code": item_code,
            "loading_step": loading_step,
        },
        created_by=by,
    )


def _same_file(upload, by, milestone, photo_uuid, part, size, sha256) -> FieldUpload:
    if (
        upload.created_by_id != by.pk
        or upload.milestone_id != milestone.pk
        or (upload.photo_uuid, upload.part, upload.size) != (photo_uuid, part, size)
        or upload.sha256 != sha256
    ):
        raise ValidationError({"id": "This upload id or photo is already used for another file."})
    return upload


def _links(milestone: Milestone, defect, reading) -> dict:
    """The records a photo shows, by the uuids the phone gave them: they must be on the server
    first (the phone sends records before photos)."""
    errors, links = {}, {"defect": None, "reading": None}
    if defect is not None:
        if not Defect.objects.filter(milestone=milestone, uuid=defect).exists():
            errors["defect"] = "The defect this photo shows is not on the server yet."
        links["defect"] = str(defect)
    if reading is not None:
        if not MeasurementReading.objects.filter(milestone=milestone, uuid=reading).exists():
            errors["reading"] = "The reading this photo shows is not on the server yet."
        links["reading"] = str(reading)
    if errors:
        raise ValidationError(errors)
    return links


def receive_chunk(*, by: User, upload: FieldUpload, offset: int, data: bytes) -> FieldUpload:
    """Add the bytes that start at `offset`; the last chunk completes the upload."""
    with transaction.atomic():
        upload = FieldUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.created_by_id != by.pk:
            raise PermissionDenied("This upload was started by someone else.")
        if upload.done:
            return upload  # the answer to the last chunk was lost: it is all here
        if offset != upload.received:
            raise WrongOffset(upload.received)
        if upload.received + len(data) > upload.size:
            raise ValidationError(
                {"file": f"More bytes than the {upload.size} announced for this photo."}
            )
        if data:
            name = f"field-uploads/{upload.pk}/{offset:012d}"
            upload.chunks = [*upload.chunks, default_storage.save(name, ContentFile(data))]
            upload.received += len(data)
            upload.save(update_fields=["chunks", "received", "updated_at"])
    if upload.received < upload.size:
        return upload
    return _complete(by, upload)


def _complete(by: User, upload: FieldUpload) -> FieldUpload:
    data = b"".join(_read(name) for name in upload.chunks)
    found = hashlib.sha256(data).hexdigest()
    if found != upload.sha256:
        _restart(upload)
        raise ValidationError(
            {
                "sha256": f"The bytes received hash to {found[:12]}…, not {upload.sha256[:12]}…: "
                f"the upload starts again."
            }
        )
    with transaction.atomic():
        upload = FieldUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.done:
            return upload
        _attach(by, upload, data)
        finished = upload.chunks
        upload.completed_at, upload.chunks = timezone.now(), []
        upload.save(update_fields=["completed_at", "chunks", "updated_at"])
        transaction.on_commit(lambda: _delete(finished))
    return upload


def _attach(by: User, upload: FieldUpload, data: bytes) -> PhotoAttachment:
    attachment = PhotoAttachment.objects.filter(uuid=upload.photo_uuid).first()
    if upload.part == UploadPart.ORIGINAL and attachment is not None:
        if attachment.milestone_id != upload.milestone_id:
            raise ValidationError({"photo": "This photo id belongs to another inspection."})
        return photos.attach_original(by=by, attachment=attachment, data=data)
    links, milestone = upload.links, upload.milestone
    return photos.upload_photo(
        by=by,
        milestone=milestone,
        data=data,
        name=upload.name,
        caption=links.get("caption", ""),
        defect=_linked(Defect, milestone, links.get("defect")),
        reading=_linked(MeasurementReading, milestone, links.get("reading")),
        item_code=links.get("item_code", ""),
        loading_step=links.get("loading_step", ""),
        uuid=upload.photo_uuid,
        awaiting_original=upload.part == UploadPart.RENDITION,
    )


def _linked(model, milestone: Milestone, uuid: str | None):
    # A record removed since the photo was declared: the photo is kept, unlinked.
    return model.objects.filter(milestone=milestone, uuid=uuid).first() if uuid else None


def _restart(upload: FieldUpload) -> None:
    with transaction.atomic():
        upload = FieldUpload.objects.select_for_update().get(pk=upload.pk)
        stale, upload.chunks, upload.received = upload.chunks, [], 0
        upload.save(update_fields=["chunks", "received", "updated_at"])
    _delete(stale)


def forget(upload: FieldUpload) -> None:
    """Drop an unfinished upload and the chunks received so far."""
    chunks = upload.chunks
    upload.delete()
    _delete(chunks)


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as chunk:
        return chunk.read()


def _delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
