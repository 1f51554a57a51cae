"""The field app's sync API: the package a phone downloads, the operations it recorded
offline, and its photo uploads in resumable chunks (see docs/field.md)."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from qcloop.accounts.api import errors
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.inspections.inspect_api import InspectionOut, Strict
from qcloop.inspections.models import Milestone

from . import package, sync, uploads
from .models import FieldUpload, UploadPart

router = Router(tags=["field"])


class UserOut(Schema):
    id: int
    email: str
    name: str = Field(alias="full_name")


class SessionOut(Schema):
    user: UserOut
    csrf_token: str
    chunk_bytes: int


@router.get("/field/session", response={200: SessionOut, **errors(401)})
def session(request):
    """Who is signed in, a fresh CSRF token for the writes, and the upload chunk size."""
    return {
        "user": request.user,
        "csrf_token": get_token(request),
        "chunk_bytes": uploads.chunk_bytes(),
    }


class FieldMilestoneOut(Schema):
    id: int
    label: str
    kind: str
    status: str
    po_number: str = Field(alias="po.number")
    supplier: str = Field(alias="po.supplier.name")
    factory: str = Field(alias="po.factory.name")
    inspection_date: date | None
    revision: int


@router.get("/field/milestones", response={200: list[FieldMilestoneOut], **errors(401)})
def my_milestones(request):
    """The milestones the caller inspects (or leads) that are booked, in progress or submitted."""
    return package.my_milestones(request.user)


class FieldStateOut(InspectionOut):
    revision: int
    photos: list[dict]
    capas: list[dict]  # to verify here, or verified here: a sync may have closed one


class PackageOut(Schema):
    revision: int
    downloaded_at: datetime
    milestone: dict
    po: dict
    checklist: dict | None
    charts: list[dict]
    defect_codes: list[dict]
    previous: list[dict]
    capas: list[dict]
    state: FieldStateOut


def _milestone(request, milestone_id: int) -> Milestone:
    return get_object_or_404(
        for_user(Milestone, request.user).select_related("po"), pk=milestone_id
    )


@router.get(
    "/field/milestones/{int:milestone_id}/package", response={200: PackageOut, **errors(401, 404)}
)
def milestone_package(request, milestone_id: int):
    """Everything needed to record the milestone offline, and what is recorded already."""
    return package.milestone_package(request.user, _milestone(request, milestone_id))


class OpIn(Strict):
    id: UUID = Field(description="Made on the phone; the same id again is the same operation")
    kind: Literal[tuple(sync.OP_KINDS)]
    base_revision: int = Field(ge=0, description="The milestone revision the phone had seen")
    force: bool = Field(False, description="Apply even over someone else's later change")
    data: dict = {}


class SyncIn(Strict):
    device: UUID = Field(description="The phone's id: its own earlier changes never conflict")
    ops: list[OpIn] = Field(max_length=500)


class AckOut(Schema):
    id: UUID
    status: Literal["applied", "duplicate", "conflict", "rejected"]
    errors: dict[str, list[str]]
    theirs: dict | None


class SyncOut(Schema):
    revision: int
    acks: list[AckOut]
    state: FieldStateOut


@router.post(
    "/field/milestones/{int:milestone_id}/sync",
    response={200: SyncOut, **errors(401, 404, 422)},
)
def post_sync(request, milestone_id: int, payload: SyncIn):
    """Apply the operations a phone recorded, in order; one acknowledgement each. Only
    `applied` and `duplicate` mean the server has it."""
    milestone = _milestone(request, milestone_id)
    ops = [sync.Op(op.id, op.kind, op.data, op.base_revision, op.force) for op in payload.ops]
    acks = sync.sync(by=request.user, milestone=milestone, device=str(payload.device), ops=ops)
    milestone.refresh_from_db()
    return {"revision": milestone.revision, "acks": acks, "state": package.field_state(milestone)}


class UploadIn(Strict):
    id: UUID = Field(description="The upload's id, made on the phone")
    milestone: int
    photo: UUID = Field(description="The photo's id: shared by its rendition and its original")
    part: Literal[tuple(UploadPart.values)]
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    name: str = ""
    caption: str = ""
    defect: UUID | None = Field(None, description="The uuid of the defect it shows")
    item_code: str = ""
    reading: UUID | None = Field(None, description="The uuid of the reading it shows")
    loading_step: str = ""


class UploadOut(Schema):
    id: UUID
    photo: UUID = Field(alias="photo_uuid")
    part: str
    size: int
    received: int
    done: bool
    sha256: str | None = Field(None, description="Once done: the SHA-256 the server computed")

    @staticmethod
    def resolve_sha256(upload):
        return upload.sha256 if upload.done else None


class WrongOffsetOut(Schema):
    detail: str
    received: int


@router.post(
    "/field/uploads", response={200: UploadOut, 201: UploadOut, **errors(401, 403, 404, 422)}
)
def declare_upload(request, payload: UploadIn):
    """Announce a photo file before sending its bytes; declaring it again returns how far it
    got (201 when new, 200 when already under way)."""
    milestone = _milestone(request, payload.milestone)
    known = FieldUpload.objects.filter(pk=payload.id).exists()
    upload = uploads.declare_upload(
        by=request.user,
        milestone=milestone,
        upload_id=payload.id,
        photo_uuid=payload.photo,
        part=payload.part,
        size=payload.size,
        sha256=payload.sha256,
        name=payload.name,
        caption=payload.caption,
        defect=payload.defect,
        item_code=payload.item_code,
        reading=payload.reading,
        loading_step=payload.loading_step,
    )
    return Status(200 if known or upload.pk != payload.id else 201, upload)


@router.get("/field/uploads/{uuid:upload_id}", response={200: UploadOut, **errors(401, 404)})
def get_upload(request, upload_id: UUID):
    """How many bytes the server has: where an interrupted upload resumes."""
    return get_for_user(FieldUpload, request.user, pk=upload_id)


@router.put(
    "/field/uploads/{uuid:upload_id}",
    response={200: UploadOut, 409: WrongOffsetOut, **errors(401, 403, 404, 422)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The next bytes of the file, from `offset`",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
def put_chunk(request, upload_id: UUID, offset: int):
    """Send the file's bytes from `offset` (raw body). 409 names the offset to resume from;
    the last chunk answers `done` with the SHA-256 of the whole file."""
    upload = get_for_user(FieldUpload, request.user, pk=upload_id)
    try:
        upload = uploads.receive_chunk(
            by=request.user, upload=upload, offset=offset, data=request.body
        )
    except uploads.WrongOffset as wrong:
        return Status(409, {"detail": str(wrong), "received": wrong.received})
    return upload
