"""Applying what a phone recorded offline, one operation at a time.

Every operation carries an id made on the phone and the milestone revision the phone had
seen when it was recorded. The server applies each in its own transaction and answers each:

- applied, or duplicate when an earlier try of the same operation was applied (its answer was
  lost on the way back): a retry never records anything twice;
- conflict when someone else (the QC lead, or the same inspector on another device) changed the
  same record after that revision: nothing is overwritten; the phone shows both versions and
  the inspector may send the operation again with `force`;
- rejected when a service refuses it, with the reason per field; the phone keeps it."""

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import pydantic
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction

from qcloop.accounts.api import PayloadIds
from qcloop.accounts.models import User
from qcloop.core.tenancy import for_user
from qcloop.inspections import recording, revisions
from qcloop.inspections.inspect_api import (
    AnswerIn,
    CartonIn,
    DefectIn,
    LoadingIn,
    ProductionIn,
    ReadingIn,
    Strict,
)
from qcloop.inspections.models import (
    CartonCheck,
    CheckAnswer,
    Defect,
    DefectCode,
    MeasurementChart,
    MeasurementReading,
    Milestone,
    MilestoneStatus,
    ProductionStatus,
    RecordStamp,
)
from qcloop.inspections.services import transition_milestone
from qcloop.orders.models import POLine

from .models import SyncReceipt


@dataclass
class Op:
    id: UUID
    kind: str
    data: dict
    base_revision: int
    force: bool = False


@dataclass
class Ack:
    id: UUID
    status: str  # applied, duplicate, conflict or rejected
    errors: dict[str, list[str]] = field(default_factory=dict)
    theirs: dict | None = None


class Nothing(Strict):
    pass


class RecordIn(Strict):
    """A record made on a phone names itself: its uuid is how a retry is recognised."""

    uuid: UUID


class PhoneDefect(DefectIn):
    uuid: UUID


class PhoneReading(ReadingIn):
    uuid: UUID


class PhoneCarton(CartonIn):
    uuid: UUID


class CapaVerificationIn(Strict):
    """The inspector's verdict on a CAPA opened at an earlier milestone; `photos` are the uuids
    of this milestone's photos that show it (they may still be uploading)."""

    uuid: UUID
    capa: int
    effective: bool
    note: str = ""
    photos: list[UUID] = []


@dataclass(frozen=True)
class Kind:
    schema: type[pydantic.BaseModel]
    apply: Callable[[User, Milestone, pydantic.BaseModel], None]
    key: Callable[[pydantic.BaseModel], str | None] = lambda data: None
    current: Callable[[Milestone, pydantic.BaseModel], dict | None] = lambda m, data: None


# --- applying one operation --------------------------------------------------------------------


def sync(*, by: User, milestone: Milestone, device: str, ops: list[Op]) -> list[Ack]:
    """Apply the operations in the order the phone made them; one acknowledgement each."""
    return [apply_op(by=by, milestone=milestone, device=device, op=op) for op in ops]


def apply_op(*, by: User, milestone: Milestone, device: str, op: Op) -> Ack:
    try:
        with transaction.atomic():
            # One operation at a time per milestone: a retry racing its first try waits here,
            # then finds the receipt.
            locked = Milestone.objects.select_for_update(of=("self",)).get(pk=milestone.pk)
            receipt = SyncReceipt.objects.filter(op_id=op.id).first()
            if receipt is not None:
                return _replayed(receipt, by, locked, op)
            kind = KINDS.get(op.kind)
            if kind is None:
                raise ValidationError({"kind": f"Unknown operation {op.kind!r}."})
            data = _parse(kind.schema, op.data)
            key = kind.key(data)
            theirs = None if op.force or key is None else _their_change(locked, key, device, op)
            if theirs is not None:
                theirs["value"] = kind.current(locked, data)
                return Ack(op.id, "conflict", theirs=theirs)
            kind.apply(by, locked, data)
            if key is not None:
                RecordStamp.objects.filter(milestone=locked, key=key).update(device=device)
            locked.refresh_from_db(fields=["revision"])
            SyncReceipt.objects.create(
                op_id=op.id,
                milestone=locked,
                kind=op.kind,
                device=device,
                user=by,
                revision=locked.revision,
            )
        return Ack(op.id, "applied")
    except ValidationError as error:
        return Ack(op.id, "rejected", errors=_messages(error))
    except PermissionDenied as error:
        return Ack(op.id, "rejected", errors={"permission": [str(error) or "Not allowed."]})


def _replayed(receipt: SyncReceipt, by: User, milestone: Milestone, op: Op) -> Ack:
    if receipt.milestone_id != milestone.pk or receipt.user_id != by.pk:
        return Ack(op.id, "rejected", errors={"id": ["This operation id was already used."]})
    return Ack(op.id, "duplicate")


def _their_change(milestone: Milestone, key: str, device: str, op: Op) -> dict | None:
    """Who changed the record since the phone saw it, unless it was this phone itself."""
    stamp = (
        RecordStamp.objects.filter(milestone=milestone, key=key, revision__gt=op.base_revision)
        .exclude(device=device)
        .select_related("changed_by")
        .first()
    )
    if stamp is None:
        return None
    who = stamp.changed_by.full_name if stamp.changed_by else "someone"
    return {"by": who, "at": stamp.changed_at, "revision": stamp.revision}


def _parse(schema: type[pydantic.BaseModel], data: dict) -> pydantic.BaseModel:
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as error:
        raise ValidationError(
            {
                ".".join(str(part) for part in problem["loc"]) or NON_FIELD_ERRORS: problem["msg"]
                for problem in error.errors()
            }
        ) from None


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {name: list(messages) for name, messages in error.message_dict.items()}
    return {NON_FIELD_ERRORS: list(error.messages)}


# --- the kinds of operation ---------------------------------------------------------------------


def _start(by, milestone, data) -> None:
    if milestone.status != MilestoneStatus.IN_PROGRESS:  # started meanwhile: nothing to do
        transition_milestone(by=by, milestone=milestone, to=MilestoneStatus.IN_PROGRESS)


def _submit(by, milestone, data) -> None:
    recording.submit_inspection(by=by, milestone=milestone)


def _answer(by, milestone, data: AnswerIn) -> None:
    recording.answer_check(by=by, milestone=milestone, **data.model_dump())


def _answer_now(milestone, data: AnswerIn) -> dict | None:
    return (
        CheckAnswer.objects.filter(milestone=milestone, item_code=data.item_code)
        .values("result", "value", "note")
        .first()
    )


def _defect(by, milestone, data: PhoneDefect) -> None:
    ids = PayloadIds(by)
    code = ids.pick(DefectCode, data.code, "code")
    po_line = ids.pick(POLine, data.po_line, "po_line")
    ids.check()
    fields = data.model_dump(exclude={"code", "po_line"})
    recording.record_defect(by=by, milestone=milestone, code=code, po_line=po_line, **fields)


def _defect_now(milestone, data) -> dict | None:
    return (
        Defect.objects.filter(milestone=milestone, uuid=data.uuid)
        .values("description", "defect_class", "quantity")
        .first()
    )


def _remove_defect(by, milestone, data: RecordIn) -> None:
    defect = Defect.objects.filter(milestone=milestone, uuid=data.uuid).first()
    if defect is not None:  # else removed already: the phone's wish is granted
        recording.remove_defect(by=by, defect=defect)


def _reading(by, milestone, data: PhoneReading) -> None:
    ids = PayloadIds(by)
    chart = ids.pick(MeasurementChart, data.chart, "chart")
    ids.check()
    fields = data.model_dump(exclude={"chart"})
    recording.record_reading(by=by, milestone=milestone, chart=chart, **fields)


def _reading_now(milestone, data: PhoneReading) -> dict | None:
    return (
        MeasurementReading.objects.filter(
            milestone=milestone,
            chart_id=data.chart,
            sample_unit=data.sample_unit,
            point_code=data.point_code,
        )
        .values("value", "unit")
        .first()
    )


def _production(by, milestone, data: ProductionIn) -> None:
    recording.record_production(by=by, milestone=milestone, **data.model_dump())


def _production_now(milestone, data) -> dict | None:
    fields = list(ProductionIn.model_fields)
    return ProductionStatus.objects.filter(milestone=milestone).values(*fields).first()


def _carton(by, milestone, data: PhoneCarton) -> None:
    recording.record_carton_check(by=by, milestone=milestone, **data.model_dump())


def _carton_now(milestone, data: PhoneCarton) -> dict | None:
    fields = [name for name in CartonIn.model_fields if name != "uuid"]
    return (
        CartonCheck.objects.filter(milestone=milestone, carton_number=data.carton_number)
        .values(*fields)
        .first()
    )


def _loading(by, milestone, data: LoadingIn) -> None:
    recording.record_loading(by=by, milestone=milestone, **data.model_dump())


def _loading_now(milestone, data) -> dict | None:
    loading = getattr(milestone, "loading", None)
    if loading is None:
        return None
    return {
        "container_number": loading.container_number,
        "seal_number": loading.seal_number,
        "load_pattern": loading.load_pattern,
        "loaded": {row.po_line_id: row.cartons for row in milestone.loaded.all()},
    }


def _verify_capa(by, milestone, data: CapaVerificationIn) -> None:
    from qcloop.capa.models import CorrectiveAction
    from qcloop.capa.services import verify_capa

    capa = for_user(CorrectiveAction, by).filter(pk=data.capa).first()
    if capa is None:
        raise ValidationError({"capa": f"No corrective action {data.capa} to verify here."})
    verify_capa(
        by=by,
        capa=capa,
        milestone=milestone,
        effective=data.effective,
        note=data.note,
        photo_uuids=data.photos,
        uuid=data.uuid,
    )


KINDS: dict[str, Kind] = {
    "start": Kind(Nothing, _start),
    "answer": Kind(AnswerIn, _answer, lambda d: revisions.answer_key(d.item_code), _answer_now),
    "defect": Kind(PhoneDefect, _defect, lambda d: revisions.defect_key(d.uuid), _defect_now),
    # Only its phone changes a defect it made (the QC lead may remove it): nothing to compare.
    "defect_delete": Kind(RecordIn, _remove_defect),
    "reading": Kind(
        PhoneReading,
        _reading,
        lambda d: revisions.reading_key(d.chart, d.sample_unit, d.point_code),
        _reading_now,
    ),
    "production": Kind(ProductionIn, _production, lambda d: revisions.PRODUCTION, _production_now),
    "carton": Kind(
        PhoneCarton, _carton, lambda d: revisions.carton_key(d.carton_number), _carton_now
    ),
    "loading": Kind(LoadingIn, _loading, lambda d: revisions.LOADING, _loading_now),
    # A verification is a new record each time: there is nothing of someone else's to overwrite.
    "capa_verify": Kind(CapaVerificationIn, _verify_capa),
    "submit": Kind(Nothing, _submit),
}
OP_KINDS = list(KINDS)
