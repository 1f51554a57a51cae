"""Corrective actions in the API: the list (a supplier's portal, a buyer's follow-up), one CAPA
with its answers, evidence and verifications, opening one by hand, the supplier's answer with
evidence photos, the QC lead's decision, and the verification at a later milestone."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from qcloop.accounts.api import PayloadIds, errors
from qcloop.accounts.models import User
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.inspections.models import Milestone
from qcloop.inspections.photo_views import serve_photo

from . import services
from .models import CapaAnswer, CapaEvidence, CapaVerification, CorrectiveAction

router = Router(tags=["capas"])


class AnswerOut(Schema):
    id: int
    whys: list[str]
    root_cause: str
    correction: str
    prevention: str
    submitted_at: datetime
    decision: str
    decision_note: str
    decided_at: datetime | None
    evidence: list[str]  # URLs of the evidence photos' renditions

    @staticmethod
    def resolve_evidence(answer) -> list[str]:
        return [f"/api/capa-evidence/{e.pk}/rendition" for e in answer.evidence_seen]


class VerificationOut(Schema):
    uuid: UUID
    milestone_id: int
    effective: bool
    note: str
    verified_at: datetime
    photos: list[UUID]

    @staticmethod
    def resolve_photos(verification) -> list[str]:
        return verification.photo_uuids


class CapaOut(Schema):
    id: int
    reference: str
    po_id: int
    supplier_id: int
    milestone_id: int
    finding_kind: str
    finding_key: str
    severity: str
    title: str
    finding: dict
    owner_id: int | None
    due_on: date
    status: str
    overdue: bool
    opened_automatically: bool
    opened_at: datetime
    answered_at: datetime | None
    accepted_at: datetime | None
    closed_at: datetime | None
    recurrence_of: str | None

    @staticmethod
    def resolve_overdue(capa) -> bool:
        return capa.is_overdue()

    @staticmethod
    def resolve_recurrence_of(capa) -> str | None:
        return capa.recurrence_of.reference if capa.recurrence_of else None


class CapaDetailOut(CapaOut):
    answers: list[AnswerOut]
    verifications: list[VerificationOut]

    @staticmethod
    def resolve_answers(capa, context) -> list:
        user = context["request"].user
        answers = list(for_user(CapaAnswer, user).filter(capa=capa))
        evidence = list(for_user(CapaEvidence, user).filter(capa=capa))
        for answer in answers:
            answer.evidence_seen = [e for e in evidence if e.answer_id == answer.pk]
        return answers

    @staticmethod
    def resolve_verifications(capa, context) -> list:
        return list(for_user(CapaVerification, context["request"].user).filter(capa=capa))


def _capas(request):
    return for_user(CorrectiveAction, request.user).select_related("po", "recurrence_of__po")


def _capa(request, capa_id: int) -> CorrectiveAction:
    return get_for_user(CorrectiveAction, request.user, pk=capa_id)


@router.get("/capas", response={200: list[CapaOut], **errors(401)})
def list_capas(
    request,
    po: int | None = None,
    supplier: int | None = None,
    status: str | None = None,
    open: bool = False,
):
    """The caller's CAPAs, newest first. `open`: not closed yet."""
    capas = _capas(request)
    if po is not None:
        capas = capas.filter(po_id=po)
    if supplier is not None:
        capas = capas.filter(supplier_id=supplier)
    if status:
        capas = capas.filter(status=status)
    if open:
        capas = capas.exclude(status="closed")
    return list(capas.order_by("-opened_at", "-pk")[:500])


@router.get("/capas/{int:capa_id}", response={200: CapaDetailOut, **errors(401, 404)})
def get_capa(request, capa_id: int):
    return _capa(request, capa_id)


class OpenIn(Schema):
    milestone: int
    finding_key: str
    owner: int | None = None
    due_on: date | None = None


@router.post("/capas", response={201: CapaDetailOut, **errors(401, 403, 404, 422)})
def open_capa(request, payload: OpenIn):
    """Open a CAPA by hand for one finding of a milestone (the keys are those of its findings:
    `defect:<code>`, `check:<item>`, `production:late`)."""
    ids = PayloadIds(request.user)
    milestone = ids.pick(Milestone, payload.milestone, "milestone")
    owner = ids.pick(User, payload.owner, "owner")
    ids.check()
    capa = services.open_capa(
        by=request.user,
        milestone=milestone,
        finding_key=payload.finding_key,
        owner=owner,
        due_on=payload.due_on,
    )
    return Status(201, capa)


class AnswerIn(Schema):
    whys: list[str]
    root_cause: str
    correction: str
    prevention: str


@router.post(
    "/capas/{int:capa_id}/answer", response={201: CapaDetailOut, **errors(401, 403, 404, 422)}
)
def answer(
    request,
    capa_id: int,
    payload: Form[AnswerIn],
    evidence: File[list[UploadedFile]] = None,
):
    """The supplier's answer, as a form: `whys` (repeated, one to five), `root_cause`,
    `correction`, `prevention`, and up to ten `evidence` photo files."""
    capa = _capa(request, capa_id)
    services.answer_capa(
        by=request.user,
        capa=capa,
        **payload.model_dump(),
        evidence=[(f.name, f.read()) for f in evidence or []],
    )
    return Status(201, _capa(request, capa_id))


class DecisionIn(Schema):
    accept: bool
    note: str = ""


@router.post(
    "/capas/{int:capa_id}/decision", response={200: CapaDetailOut, **errors(401, 403, 404, 422)}
)
def decide(request, capa_id: int, payload: DecisionIn):
    """The QC lead accepts the answer or sends it back (a note says what is missing)."""
    services.decide_answer(
        by=request.user, capa=_capa(request, capa_id), accept=payload.accept, note=payload.note
    )
    return _capa(request, capa_id)


class VerificationIn(Schema):
    milestone: int
    effective: bool
    note: str = ""
    photos: list[UUID] = []
    uuid: UUID | None = None


@router.post(
    "/capas/{int:capa_id}/verifications",
    response={201: CapaDetailOut, **errors(401, 403, 404, 422)},
)
def verify(request, capa_id: int, payload: VerificationIn):
    """At a later milestone: effective closes the CAPA, not effective reopens it. A retry with
    the same `uuid` records nothing twice."""
    capa = _capa(request, capa_id)  # first: another tenant's CAPA is not found, whatever else
    ids = PayloadIds(request.user)
    milestone = ids.pick(Milestone, payload.milestone, "milestone")
    ids.check()
    services.verify_capa(
        by=request.user,
        capa=capa,
        milestone=milestone,
        effective=payload.effective,
        note=payload.note,
        photo_uuids=payload.photos,
        uuid=payload.uuid,
    )
    return Status(201, _capa(request, capa_id))


@router.get(
    "/capa-evidence/{int:evidence_id}/{kind}",
    response={200: None, **errors(401, 404)},
    openapi_extra={
        "responses": {
            200: {
                "description": "The photo",
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def evidence_file(request, evidence_id: int, kind: Literal["thumbnail", "rendition", "original"]):
    """One of the supplier's evidence photos: its thumbnail, rendition (JPEG) or original."""
    evidence = get_for_user(CapaEvidence, request.user, pk=evidence_id)
    return serve_photo(request, evidence.photo, kind)
