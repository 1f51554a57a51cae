"""API routes for running an inspection: what the inspector records, its result and its
submission; and the libraries behind them (defect codes, checklists, measurement charts).

Writes go through `qcloop.inspections.recording` and `.library`; every object in a path or a
payload is looked up through the tenancy gate. Records accept a client-made `uuid`, so a
retried request is never a duplicate."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from pydantic import ConfigDict

from qcloop.accounts.api import PayloadIds, errors
from qcloop.accounts.models import Organisation
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.orders.models import POLine, Product

from . import library, recording
from .models import (
    ChecklistTemplate,
    Defect,
    DefectCode,
    MeasurementChart,
    MeasurementReading,
    Milestone,
    PhotoAttachment,
)

router = Router(tags=["inspections"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class AnswerIn(Strict):
    item_code: str
    result: str = Field("", description="pass, fail, na, or empty for not yet")
    value: str = ""
    note: str = ""


class DefectIn(Strict):
    quantity: int
    code: int | None = Field(None, description="A defect code id from /api/defect-codes")
    description: str = ""
    defect_class: str | None = Field(None, description="Default: the code's class")
    po_line: int | None = None
    carton: int | None = None
    unit_ref: str = ""
    systematic: bool = False
    uuid: UUID | None = None


class DefectOut(Schema):
    id: int
    uuid: UUID
    code: int | None = Field(None, alias="code_id")
    description: str
    defect_class: str
    quantity: int
    po_line: int | None = Field(None, alias="po_line_id")
    carton: int | None
    unit_ref: str
    systematic: bool
    from_measurements: bool


class ReadingIn(Strict):
    chart: int
    sample_unit: int
    point_code: str
    value: str
    unit: str
    uuid: UUID | None = None


class ReadingOut(Schema):
    id: int
    uuid: UUID
    chart: int = Field(alias="chart_id")
    sample_unit: int
    point_code: str
    value: Decimal
    unit: str
    in_tolerance: bool


class ProductionIn(Strict):
    counted_on: date
    produced: int
    finished: int = 0
    packed: int = 0
    reported_produced: int | None = None
    materials_on_site: bool = True
    packaging_on_site: bool = True
    observations: str = ""


class ProductionOut(ProductionIn):
    model_config = ConfigDict(extra="ignore")
    projected_completion: date | None
    flags: list[str]


class CartonIn(Strict):
    carton_number: int
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None
    gross_weight_kg: Decimal | None = None
    marks: dict[str, str] = {}
    barcode: str = ""
    country_of_origin: str = ""
    languages: list[str] = Field([], description='Languages on the labels, e.g. ["en", "fr"]')
    uuid: UUID | None = None


class CartonOut(Schema):
    id: int
    uuid: UUID
    carton_number: int
    barcode: str
    problems: list[str]


class LoadingIn(Strict):
    container_number: str
    seal_number: str
    load_pattern: str = ""
    loaded: dict[int, int] = Field({}, description="Cartons loaded per PO line id")


class InspectionOut(Schema):
    milestone: int
    status: str
    checklist: list[dict]
    defects: list[DefectOut]
    readings: list[ReadingOut]
    production: ProductionOut | None
    cartons: list[CartonOut]
    loading: dict | None
    result: dict
    missing: list[str]


def _milestone(request, milestone_id: int) -> Milestone:
    return get_object_or_404(for_user(Milestone, request.user), pk=milestone_id)


def inspection(milestone: Milestone) -> dict:
    milestone.refresh_from_db()
    answers = {a.item_code: a for a in milestone.answers.all()}
    # Items an accredited lab answers: not the inspector's to record before submitting.
    by_lab = {code: test.name for test in milestone.lab_tests.all() for code in test.replaces}
    checklist = [
        {
            **item,
            "result": getattr(answers.get(item["code"]), "result", ""),
            "value": getattr(answers.get(item["code"]), "value", ""),
            "note": getattr(answers.get(item["code"]), "note", ""),
            "lab_test": by_lab.get(item["code"], ""),
        }
        for item in (milestone.checklist.items if milestone.checklist else [])
    ]
    loading = getattr(milestone, "loading", None)
    result, observations = recording.assess(milestone)
    return {
        "milestone": milestone.pk,
        "status": milestone.status,
        "checklist": checklist,
        "defects": list(milestone.defects.all()),
        "readings": list(milestone.readings.all()),
        "production": getattr(milestone, "production", None),
        "cartons": list(milestone.carton_checks.all()),
        "loading": loading
        and {
            "container_number": loading.container_number,
            "seal_number": loading.seal_number,
            "load_pattern": loading.load_pattern,
            "loaded": {row.po_line_id: row.cartons for row in milestone.loaded.all()},
        },
        "result": {**result.to_dict(), "observations": observations},
        "missing": recording.missing_for_submission(milestone),
    }


READ = {200: InspectionOut, **errors(401, 404)}
WRITE = {200: InspectionOut, **errors(401, 403, 404, 422)}


@router.get("/milestones/{int:milestone_id}/inspection", response=READ)
def get_inspection(request, milestone_id: int):
    """Everything recorded so far, and the result as it stands. Buyers and suppliers see it
    once the QC lead has published it."""
    milestone = _milestone(request, milestone_id)
    membership = request.user.membership
    agency_side = membership is not None and membership.organisation_id == milestone.po.agency_id
    if not agency_side and milestone.status != "published":
        raise Http404
    return inspection(milestone)


@router.post("/milestones/{int:milestone_id}/answers", response=WRITE)
def post_answers(request, milestone_id: int, payload: list[AnswerIn]):
    milestone = _milestone(request, milestone_id)
    answers = [answer.model_dump() for answer in payload]
    recording.answer_checks(by=request.user, milestone=milestone, answers=answers)
    return inspection(milestone)


@router.post(
    "/milestones/{int:milestone_id}/defects",
    response={201: DefectOut, **errors(401, 403, 404, 422)},
)
def post_defect(request, milestone_id: int, payload: DefectIn):
    milestone = _milestone(request, milestone_id)
    data = payload.model_dump(exclude={"code", "po_line"})
    ids = PayloadIds(request.user)
    code = ids.pick(DefectCode, payload.code, "code") if payload.code else None
    po_line = ids.pick(POLine, payload.po_line, "po_line") if payload.po_line else None
    ids.check()
    defect = recording.record_defect(
        by=request.user, milestone=milestone, code=code, po_line=po_line, **data
    )
    return Status(201, defect)


@router.delete(
    "/milestones/{int:milestone_id}/defects/{int:defect_id}",
    response={204: None, **errors(401, 403, 404, 422)},
)
def delete_defect(request, milestone_id: int, defect_id: int):
    milestone = _milestone(request, milestone_id)
    defect = get_for_user(Defect, request.user, pk=defect_id, milestone=milestone)
    recording.remove_defect(by=request.user, defect=defect)
    return Status(204, None)


@router.post(
    "/milestones/{int:milestone_id}/readings",
    response={201: ReadingOut, **errors(401, 403, 404, 422)},
)
def post_reading(request, milestone_id: int, payload: ReadingIn):
    milestone = _milestone(request, milestone_id)
    ids = PayloadIds(request.user)
    chart = ids.pick(MeasurementChart, payload.chart, "chart")
    ids.check()
    data = payload.model_dump(exclude={"chart"})
    return Status(
        201, recording.record_reading(by=request.user, milestone=milestone, chart=chart, **data)
    )


@router.put("/milestones/{int:milestone_id}/production", response=WRITE)
def put_production(request, milestone_id: int, payload: ProductionIn):
    milestone = _milestone(request, milestone_id)
    recording.record_production(by=request.user, milestone=milestone, **payload.model_dump())
    return inspection(milestone)


@router.post(
    "/milestones/{int:milestone_id}/cartons",
    response={201: CartonOut, **errors(401, 403, 404, 422)},
)
def post_carton(request, milestone_id: int, payload: CartonIn):
    milestone = _milestone(request, milestone_id)
    check = recording.record_carton_check(
        by=request.user, milestone=milestone, **payload.model_dump()
    )
    return Status(201, check)


@router.put("/milestones/{int:milestone_id}/loading", response=WRITE)
def put_loading(request, milestone_id: int, payload: LoadingIn):
    milestone = _milestone(request, milestone_id)
    recording.record_loading(by=request.user, milestone=milestone, **payload.model_dump())
    return inspection(milestone)


@router.post("/milestones/{int:milestone_id}/submit", response=WRITE)
def post_submit(request, milestone_id: int):
    """Hand the inspection to the QC lead with its result; refused while anything mandatory
    is missing, or when it was already submitted."""
    milestone = _milestone(request, milestone_id)
    recording.submit_inspection(by=request.user, milestone=milestone)
    return inspection(milestone)


# --- libraries --------------------------------------------------------------------------------


class DefectCodeOut(Schema):
    id: int
    code: str
    category: str
    group: str
    subgroup: str
    name: str
    default_class: str


@router.get("/defect-codes", response={200: list[DefectCodeOut], **errors(401)})
def list_defect_codes(request, category: str | None = None, q: str | None = None):
    codes = for_user(DefectCode, request.user)
    if category:
        codes = codes.filter(category__in=[category, "general"])
    if q:
        codes = codes.filter(name__icontains=q) | codes.filter(code__icontains=q)
    return codes


class OverrideIn(Strict):
    buyer: int
    code: int
    defect_class: str | None = Field(None, description="None: back to the library's class")


@router.put("/defect-overrides", response={204: None, **errors(401, 403, 422)})
def put_defect_override(request, payload: OverrideIn):
    ids = PayloadIds(request.user)
    buyer = ids.pick(Organisation, payload.buyer, "buyer")
    code = ids.pick(DefectCode, payload.code, "code")
    ids.check()
    library.set_defect_class(
        by=request.user, buyer=buyer, code=code, defect_class=payload.defect_class
    )
    return Status(204, None)


class ChecklistOut(Schema):
    id: int
    category: str
    milestone_kind: str
    name: str
    version: int
    items: list[dict]

    @staticmethod
    def resolve_version(template):
        return template.current.number if template.current else 0

    @staticmethod
    def resolve_items(template):
        return template.current.items if template.current else []


@router.get("/checklists", response={200: list[ChecklistOut], **errors(401)})
def list_checklists(request):
    return for_user(ChecklistTemplate, request.user).prefetch_related("versions")


class ChecklistEdit(Strict):
    items: list[dict]


@router.post(
    "/checklists/{int:template_id}/versions",
    response={201: ChecklistOut, **errors(401, 403, 404, 422)},
)
def new_checklist_version(request, template_id: int, payload: ChecklistEdit):
    """Edit a checklist: a new version; milestones already booked keep theirs."""
    template = get_for_user(ChecklistTemplate, request.user, pk=template_id)
    library.edit_checklist(by=request.user, template=template, items=payload.items)
    return Status(201, template)


class ChartIn(Strict):
    product: int
    size: str = "one size"
    points: list[dict] = Field(description="[{code, name, spec, minus, plus, unit}]")
    defect_class: str = "major"


class ChartOut(Schema):
    id: int
    product: int = Field(alias="product_id")
    size: str
    version: int
    points: list[dict]
    defect_class: str


@router.get("/measurement-charts", response={200: list[ChartOut], **errors(401)})
def list_charts(request, product: int | None = None):
    charts = for_user(MeasurementChart, request.user)
    return charts.filter(product_id=product) if product else charts


@router.post("/measurement-charts", response={201: ChartOut, **errors(401, 403, 422)})
def post_chart(request, payload: ChartIn):
    ids = PayloadIds(request.user)
    product = ids.pick(Product, payload.product, "product")
    ids.check()
    chart = library.save_measurement_chart(
        by=request.user,
        product=product,
        size=payload.size,
        points=payload.points,
        defect_class=payload.defect_class,
    )
    return Status(201, chart)


# --- photos -----------------------------------------------------------------------------------


class PhotoOut(Schema):
    id: int
    uuid: UUID
    status: str
    error: str
    caption: str
    finding: str
    defect: int | None = Field(None, alias="defect_id")
    item_code: str
    loading_step: str
    sha256: str | None = None
    taken_at: datetime | None = None
    flags: list[dict]
    justification: str
    thumbnail_url: str | None = None
    rendition_url: str | None = None

    @staticmethod
    def resolve_sha256(attachment):
        return attachment.photo.sha256 if attachment.photo else None

    @staticmethod
    def resolve_taken_at(attachment):
        return attachment.photo.taken_at if attachment.photo else None

    @staticmethod
    def resolve_thumbnail_url(attachment):
        return photo_file_url(attachment, "thumbnail")

    @staticmethod
    def resolve_rendition_url(attachment):
        return photo_file_url(attachment, "rendition")


def photo_file_url(attachment, kind: str) -> str | None:
    from django.urls import reverse

    if attachment.status != "ready":
        return None
    return reverse("inspections:photo_file", args=[attachment.pk, kind])


@router.get(
    "/milestones/{int:milestone_id}/photos", response={200: list[PhotoOut], **errors(401, 404)}
)
def list_photos(request, milestone_id: int):
    milestone = _milestone(request, milestone_id)
    return (
        for_user(PhotoAttachment, request.user).filter(milestone=milestone).select_related("photo")
    )


@router.post(
    "/milestones/{int:milestone_id}/photos",
    response={202: PhotoOut, **errors(401, 403, 404, 422)},
)
def post_photo(
    request,
    milestone_id: int,
    file: File[UploadedFile],
    caption: Form[str] = "",
    defect: Form[int | None] = None,
    reading: Form[int | None] = None,
    item_code: Form[str] = "",
    loading_step: Form[str] = "",
    uuid: Form[UUID | None] = None,
):
    """Upload one photo (multipart). Answered at once (202); the worker processes it, and its
    status, flags and file URLs follow in GET .../photos. A retry with the same uuid is the
    same photo."""
    from . import photos

    milestone = _milestone(request, milestone_id)
    ids = PayloadIds(request.user)
    linked = ids.pick(Defect, defect, "defect") if defect else None
    measured = ids.pick(MeasurementReading, reading, "reading") if reading else None
    ids.check()
    attachment = photos.upload_photo(
        by=request.user,
        milestone=milestone,
        data=file,
        name=file.name,
        caption=caption,
        defect=linked,
        reading=measured,
        item_code=item_code,
        loading_step=loading_step,
        uuid=uuid,
    )
    return Status(202, attachment)
