"""API routes for accredited lab tests at a milestone: list, record (a form with the
certificate PDF), change, remove, fetch the certificate, and the reference lists of labs and
standards. Reads go through the lab-test gate; writes through `lab_tests` services."""

from datetime import date, datetime
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from qcloop.accounts.api import errors
from qcloop.core.tenancy import for_user

from . import lab_rules, lab_tests
from .lab_views import certificate_response
from .models import LabResult, LabTest, Milestone

router = Router(tags=["lab tests"])


class CertificateOut(Schema):
    name: str
    sha256: str
    pages: int | None
    size_bytes: int | None
    url: str


class LabTestOut(Schema):
    id: int
    uuid: UUID
    milestone: int
    lab: str
    lab_display: str
    lab_name: str
    accreditation_number: str
    standard: str
    safety: bool
    finding_class: str
    replaces: list[str]
    sample_units: int
    sample_drawn: str
    sample_id: str
    sent_on: date | None
    reported_on: date | None
    report_number: str
    result: str
    measured: list[dict]
    note: str
    warnings: list[str]
    certificate: CertificateOut | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_milestone(test):
        return test.milestone_id

    @staticmethod
    def resolve_safety(test):
        return test.finding_class == lab_rules.CRITICAL

    @staticmethod
    def resolve_certificate(test):
        if not test.certificate:
            return None
        return {
            "name": test.certificate_name,
            "sha256": test.certificate_sha256,
            "pages": test.certificate_pages,
            "size_bytes": test.certificate_bytes,
            "url": f"/api/lab-tests/{test.pk}/certificate",
        }


_FIELD_HELP = (
    "`lab` (sgs, intertek, tuv_sud, tuv_rheinland, bureau_veritas, or other with `lab_name` "
    "and `accreditation_number`), `standard` (a code of GET /api/lab-standards, or free text "
    "with a warning; `safety` says whether such a one is a safety standard), `replaces` "
    "(repeated: checklist item codes of this milestone), `sample_units`, `sample_drawn`, "
    "`sample_id`, `sent_on`, `reported_on`, `report_number`, `result` (pass, fail, pending), "
    "`measured` ('name: value unit' lines), `note`, and the `certificate` PDF (required for "
    "a pass or a fail)."
)


class LabTestIn(Schema):
    lab: str
    lab_name: str = ""
    accreditation_number: str = ""
    standard: str
    safety: bool = False
    replaces: list[str] = []
    sample_units: int
    sample_drawn: str
    sample_id: str
    sent_on: date
    reported_on: date | None = None
    report_number: str = ""
    result: LabResult = LabResult.PENDING
    measured: str = ""
    note: str = ""


class LabTestChange(Schema):
    lab: str = None
    lab_name: str = None
    accreditation_number: str = None
    standard: str = None
    safety: bool = None
    replaces: list[str] = None
    sample_units: int = None
    sample_drawn: str = None
    sample_id: str = None
    sent_on: date = None
    reported_on: date | None = None
    report_number: str = None
    result: LabResult = None
    measured: str = None
    note: str = None


class StandardOut(Schema):
    code: str
    title: str
    categories: list[str]
    safety: bool


class ReferenceOut(Schema):
    labs: dict[str, str]
    standards: list[StandardOut]


def _visible(request):
    return for_user(LabTest, request.user).select_related("milestone")


def _certificate(upload) -> tuple[str, bytes] | None:
    return (upload.name, upload.read()) if upload else None


def _data(payload: Schema, partial: bool) -> dict:
    data = payload.model_dump(exclude_unset=partial)
    if isinstance(data.get("result"), LabResult):
        data["result"] = data["result"].value
    return data


@router.get("/lab-standards", response={200: ReferenceOut, **errors(401)})
def lab_standards(request):
    """The labs and standards qcloop knows. A safety standard's failure is a critical
    finding; a performance standard's (LM-79, LM-80) a major one."""
    return {
        "labs": lab_rules.LABS,
        "standards": [
            {"code": s.code, "title": s.title, "categories": list(s.categories), "safety": s.safety}
            for s in lab_rules.STANDARDS.values()
        ],
    }


@router.get(
    "/milestones/{int:milestone_id}/lab-tests",
    response={200: list[LabTestOut], **errors(401, 404)},
)
def list_lab_tests(request, milestone_id: int):
    milestone = get_object_or_404(for_user(Milestone, request.user), pk=milestone_id)
    return _visible(request).filter(milestone=milestone)


@router.post(
    "/milestones/{int:milestone_id}/lab-tests",
    response={201: LabTestOut, **errors(401, 403, 404, 422)},
    description=f"Record a lab test, as a form: {_FIELD_HELP}",
)
def record_lab_test(
    request,
    milestone_id: int,
    payload: Form[LabTestIn],
    certificate: File[UploadedFile] = None,
):
    milestone = get_object_or_404(for_user(Milestone, request.user), pk=milestone_id)
    test = lab_tests.record_lab_test(
        by=request.user,
        milestone=milestone,
        data=_data(payload, partial=False),
        certificate=_certificate(certificate),
    )
    return Status(201, _visible(request).get(pk=test.pk))


@router.get("/lab-tests/{int:lab_test_id}", response={200: LabTestOut, **errors(401, 404)})
def get_lab_test(request, lab_test_id: int):
    return get_object_or_404(_visible(request), pk=lab_test_id)


@router.post(
    "/lab-tests/{int:lab_test_id}",
    response={200: LabTestOut, **errors(401, 403, 404, 422)},
    description="Change a lab test, as a form like its recording: only the fields sent "
    "change; attach `certificate` to add or replace the PDF (the lab's report arrives: send "
    "`result`, `reported_on`, `report_number` and the certificate).",
)
def change_lab_test(
    request,
    lab_test_id: int,
    payload: Form[LabTestChange],
    certificate: File[UploadedFile] = None,
):
    test = get_object_or_404(_visible(request), pk=lab_test_id)
    lab_tests.record_lab_test(
        by=request.user,
        milestone=test.milestone,
        data=_data(payload, partial=True),
        certificate=_certificate(certificate),
        lab_test=test,
    )
    return _visible(request).get(pk=test.pk)


@router.delete("/lab-tests/{int:lab_test_id}", response={204: None, **errors(401, 403, 404, 422)})
def remove_lab_test(request, lab_test_id: int):
    test = get_object_or_404(_visible(request), pk=lab_test_id)
    lab_tests.remove_lab_test(by=request.user, lab_test=test)
    return Status(204, None)


@router.get(
    "/lab-tests/{int:lab_test_id}/certificate",
    response={200: None, **errors(401, 404)},
    openapi_extra={
        "responses": {
            200: {
                "description": "The lab's certificate",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def lab_certificate(request, lab_test_id: int):
    """The certificate PDF of a lab test, to those who may see the lab test."""
    test = get_object_or_404(_visible(request), pk=lab_test_id, certificate__gt="")
    return certificate_response(test)
