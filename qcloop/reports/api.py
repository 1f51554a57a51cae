"""Reports in the API: list and read them, fetch a version's content and PDF, take the review
steps, download a PO's photo dossier, and verify a PDF (the one route that needs no caller)."""

from datetime import datetime
from typing import Any, Literal

from django.core.files.storage import default_storage
from django.db.models import Count
from django.http import FileResponse
from django.shortcuts import redirect
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from qcloop.accounts.api import errors
from qcloop.core.files import signed_url
from qcloop.core.tenancy import for_user, get_for_user

from . import dossier, selectors, services, verify
from .dossier_views import dossier_response
from .models import Delivery, Report, ReportVersion

router = Router(tags=["reports"])


class DeliveryCounts(Schema):
    """How the version's emails went: addresses sent to, failing (being retried or given up),
    being sent right now."""

    sent: int = 0
    failed: int = 0
    sending: int = 0


class VersionOut(Schema):
    number: int
    code: str
    published_at: datetime
    superseded_at: datetime | None
    correction_reason: str
    content_sha256: str
    pdf_sha256: str | None
    pdf_bytes: int | None
    pdf_url: str
    # Null for those who do not see the distribution (suppliers).
    deliveries: DeliveryCounts | None

    @staticmethod
    def resolve_deliveries(version) -> dict | None:
        return getattr(version, "delivery_counts", None)

    @staticmethod
    def resolve_pdf_sha256(version) -> str | None:
        return version.pdf_sha256 or None

    @staticmethod
    def resolve_pdf_url(version) -> str:
        return f"/api/reports/{version.report_id}/versions/{version.number}/pdf"


class ReportOut(Schema):
    id: int
    kind: str
    title: str
    po_id: int
    po_number: str
    milestone_id: int | None
    clock_started_at: datetime
    due_at: datetime
    published_at: datetime | None
    on_time: bool | None
    correction_open: bool
    versions: list[VersionOut]

    @staticmethod
    def resolve_po_number(report) -> str:
        return report.po.number

    @staticmethod
    def resolve_correction_open(report) -> bool:
        return report.correction_opened_at is not None

    @staticmethod
    def resolve_versions(report, context) -> list:
        versions = list(report.versions.order_by("number"))
        user = context["request"].user
        if selectors.sees_deliveries(user):
            # One query per report, through the Delivery gate, not one per version.
            counts = (
                for_user(Delivery, user)
                .filter(version__report=report)
                .values_list("version_id", "status")
                .annotate(n=Count("pk"))
                .order_by()
            )
            by_version: dict[int, dict[str, int]] = {v.pk: {} for v in versions}
            for version_id, status, n in counts:
                by_version[version_id][status] = n
            for version in versions:
                version.delivery_counts = by_version[version.pk]
        return versions


def _reports(request):
    return for_user(Report, request.user).select_related("po", "milestone")


@router.get("/reports", response={200: list[ReportOut], **errors(401)})
def list_reports(request, po: int | None = None, published: bool | None = None):
    """The caller's reports, newest first: buyers see published ones only."""
    reports = _reports(request).prefetch_related("versions")
    if po is not None:
        reports = reports.filter(po_id=po)
    if published is not None:
        reports = reports.filter(published_at__isnull=not published)
    return list(reports[:500])


@router.get("/reports/{int:report_id}", response={200: ReportOut, **errors(401, 404)})
def get_report(request, report_id: int):
    return get_for_user(Report, request.user, pk=report_id)


class ContentOut(Schema):
    number: int
    content_sha256: str
    content: dict[str, Any]


@router.get(
    "/reports/{int:report_id}/versions/{int:number}",
    response={200: ContentOut, **errors(401, 404)},
)
def get_version(request, report_id: int, number: int):
    """A version's frozen content: the data of the report, as published."""
    return get_for_user(ReportVersion, request.user, report_id=report_id, number=number)


@router.get(
    "/reports/{int:report_id}/versions/{int:number}/pdf",
    response={200: None, **errors(401, 404)},
    openapi_extra={
        "responses": {
            200: {
                "description": "The PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_pdf(request, report_id: int, number: int):
    version = get_for_user(ReportVersion, request.user, report_id=report_id, number=number)
    version = services.ensure_pdf(version)
    if url := signed_url(version.pdf, filename=version.filename):
        return redirect(url)
    return FileResponse(
        default_storage.open(version.pdf, "rb"),
        content_type="application/pdf",
        filename=version.filename,
    )


@router.get(
    "/purchase-orders/{int:po_id}/dossier",
    response={200: None, **errors(401, 404, 422)},
    openapi_extra={
        "responses": {
            200: {
                "description": "The photo dossier: a ZIP streamed while it is written",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_dossier(
    request,
    po_id: int,
    files: Literal["originals", "renditions"] = Query(
        dossier.ORIGINALS,
        description="`originals`: the photos exactly as uploaded, hashing to the SHA-256 "
        "recorded at upload; `renditions`: JPEGs of at most 1600 px without metadata.",
    ),
):
    """Every photo of the PO the caller may see, by milestone and finding, with index.csv,
    index.html, SHA256SUMS and a README on checking the hashes. The agency gets its
    inspections' photos as they come in; buyers and suppliers those of published milestones."""
    return dossier_response(dossier.open_dossier(request.user, po_id, files))


class TextIn(Schema):
    text: str = ""


class NoteOut(Schema):
    id: int
    kind: str
    text: str
    author: str
    created_at: datetime

    @staticmethod
    def resolve_author(note) -> str:
        return note.author.full_name


@router.post(
    "/reports/{int:report_id}/comments", response={201: NoteOut, **errors(401, 403, 404, 422)}
)
def add_comment(request, report_id: int, payload: TextIn):
    """A comment in the review (the agency's people on the PO)."""
    note = services.comment(by=request.user, report=_report(request, report_id), text=payload.text)
    return Status(201, note)


@router.post(
    "/reports/{int:report_id}/send-back", response={200: ReportOut, **errors(401, 403, 404, 422)}
)
def send_back(request, report_id: int, payload: TextIn):
    """The QC lead sends the inspection back with what to change."""
    report = _report(request, report_id)
    services.send_back(by=request.user, report=report, text=payload.text)
    return _report(request, report_id)


class ApproveIn(TextIn):
    # The PO summary only: the QC lead's own recommendation for the next PO (a code of
    # GET .../versions/{n} `recommendation.considered`), and why; empty keeps qcloop's.
    recommendation: str = ""
    recommendation_note: str = ""

    def chosen(self) -> dict | None:
        if not (self.recommendation or self.recommendation_note):
            return None
        return {"code": self.recommendation, "note": self.recommendation_note}


@router.post(
    "/reports/{int:report_id}/approve", response={200: ReportOut, **errors(401, 403, 404, 422)}
)
def approve(request, report_id: int, payload: ApproveIn):
    """The QC lead approves: version 1 is published to the buyer (`text`: their summary)."""
    services.approve(
        by=request.user,
        report=_report(request, report_id),
        lead_summary=payload.text,
        recommendation=payload.chosen(),
    )
    return _report(request, report_id)


class CorrectionIn(Schema):
    reason: str


@router.post(
    "/reports/{int:report_id}/correction",
    response={200: ReportOut, **errors(401, 403, 404, 422)},
)
def open_correction(request, report_id: int, payload: CorrectionIn):
    services.open_correction(
        by=request.user, report=_report(request, report_id), reason=payload.reason
    )
    return _report(request, report_id)


@router.post(
    "/reports/{int:report_id}/correction/publish",
    response={200: ReportOut, **errors(401, 403, 404, 422)},
)
def publish_correction(request, report_id: int, payload: ApproveIn):
    report = _report(request, report_id)
    services.publish_correction(
        by=request.user,
        report=report,
        lead_summary=payload.text or None,
        recommendation=payload.chosen(),
    )
    return _report(request, report_id)


def _report(request, report_id: int) -> Report:
    return get_for_user(Report, request.user, pk=report_id)


class VerifyOut(Schema):
    status: str
    message: str
    sha256: str | None
    document: dict[str, Any] | None = None
    current: dict[str, Any] | None = None


@router.get("/verify", response={200: VerifyOut, 404: VerifyOut}, auth=None)
def verify_lookup(request, code: str = "", sha256: str = ""):
    """Is the report with this verification code, or this PDF SHA-256, authentic and
    current? No caller needed: anyone holding the PDF may ask."""
    verdict = verify.by_code(code) if code else verify.by_sha256(sha256)
    return Status(404 if verdict.status == "unknown" else 200, verdict.to_dict())


@router.post("/verify", response={200: VerifyOut, 404: VerifyOut, **errors(422)}, auth=None)
def verify_file(request, pdf: File[UploadedFile]):
    """The same, for the PDF file itself (multipart field `pdf`); nothing is kept."""
    verdict = verify.by_file(pdf.chunks())
    return Status(404 if verdict.status == "unknown" else 200, verdict.to_dict())
