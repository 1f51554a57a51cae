"""Report pages: the list, a report with its review and its versions, the PDF of each
version, the turnaround against the SLA, the buyer's recipients, and the public verify page."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qcloop.core.files import signed_url
from qcloop.core.tenancy import for_user, get_for_user

from . import links, selectors, services, summary_logic
from . import verify as verifying
from .dossier import dossier_offer
from .models import Delivery, Report, ReportKind, ReportRecipient, ReportVersion, ReviewNote
from .rendering import BODIES, stamp_for
from .turnaround import lead_turnaround, report_rows


@login_required
def report_list(request):
    reports = for_user(Report, request.user).select_related(
        "po__supplier", "po__qc_lead", "milestone__inspector"
    )
    return render(request, "reports/report_list.html", {"rows": report_rows(reports[:200])})


def _report(request, pk: int) -> Report:
    return get_for_user(Report, request.user, pk=pk)


def _is_agency(user, report: Report) -> bool:
    membership = user.membership
    return membership is not None and membership.organisation_id == report.po.agency_id


@login_required
def report_detail(request, pk: int):
    report = _report(request, pk)
    current = report.current
    agency = _is_agency(request.user, report)
    show_draft = agency and (current is None or report.correction_opened_at is not None)
    content = services.draft_content(report) if show_draft else (current and current.content)
    versions = list(for_user(ReportVersion, request.user).filter(report=report))
    sees_deliveries = selectors.sees_deliveries(request.user)
    if sees_deliveries:
        mailed = list(for_user(Delivery, request.user).filter(version__report=report))
        for version in versions:
            version.mailed = [d for d in mailed if d.version_id == version.pk]
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "c": content,
            "stamp": stamp_for(None) if show_draft else stamp_for(current),
            "body": BODIES[report.kind],
            "current": current,
            "versions": versions,
            "sees_deliveries": sees_deliveries,
            "notes": for_user(ReviewNote, request.user)
            .filter(report=report)
            .select_related("author"),
            "is_reviewer": report.po.qc_lead_id == request.user.pk,
            "agency": agency,
            "awaiting_review": _awaiting_review(report),
            "recommendations": summary_logic.TITLES.items(),
            "stale_sources": _stale_sources(request.user, report, current),
            "dossier": dossier_offer(request.user, report.po),
        },
    )


def _awaiting_review(report: Report) -> bool:
    if report.kind == ReportKind.PO_SUMMARY:
        return report.published_at is None
    return report.milestone.status == "submitted"


def _stale_sources(user, report: Report, current: ReportVersion | None) -> list[str]:
    """Milestone reports corrected since the published summary cited them: the QC lead
    should correct the summary too."""
    if report.kind != ReportKind.PO_SUMMARY or current is None:
        return []
    cited = {m["label"]: m["report"]["code"] for m in current.content["milestones"] if m["report"]}
    now = {
        version.report.milestone.label: version.code
        for version in for_user(ReportVersion, user)
        .filter(report__po=report.po, report__kind=ReportKind.MILESTONE, superseded_at__isnull=True)
        .select_related("report__milestone")
    }
    return [label for label, code in cited.items() if now.get(label, code) != code]


@login_required
def preview_pdf(request, pk: int):
    report = _report(request, pk)
    if not _is_agency(request.user, report):
        raise Http404
    response = HttpResponse(services.draft_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="draft.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _recommendation(request) -> dict | None:
    """The QC lead's recommendation from the summary's review form (None elsewhere)."""
    if "recommendation" not in request.POST:
        return None
    return {
        "code": request.POST.get("recommendation", ""),
        "note": request.POST.get("recommendation_note", ""),
    }


def _refused(request, error: ValidationError | PermissionDenied) -> None:
    problems = error.messages if isinstance(error, ValidationError) else [str(error)]
    for problem in problems:
        messages.error(request, problem)


@login_required
@require_POST
def review(request, pk: int):
    """The review's steps: comment, send back, approve and publish."""
    report = _report(request, pk)
    action, text = request.POST.get("action", ""), request.POST.get("text", "")
    steps = {
        "comment": lambda: services.comment(by=request.user, report=report, text=text),
        "send_back": lambda: services.send_back(by=request.user, report=report, text=text),
        "approve": lambda: services.approve(
            by=request.user,
            report=report,
            lead_summary=text,
            recommendation=_recommendation(request),
        ),
    }
    if action not in steps:
        raise Http404
    try:
        steps[action]()
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    else:
        done = {
            "comment": "Comment added.",
            "send_back": "Sent back to the inspector.",
            "approve": "Approved and published to the buyer.",
        }
        messages.success(request, done[action])
    return redirect("reports:detail", pk=report.pk)


@login_required
@require_POST
def correction(request, pk: int):
    report = _report(request, pk)
    action = request.POST.get("action", "")
    steps = {
        "open": lambda: services.open_correction(
            by=request.user, report=report, reason=request.POST.get("reason", "")
        ),
        "publish": lambda: services.publish_correction(
            by=request.user,
            report=report,
            lead_summary=request.POST.get("text"),
            recommendation=_recommendation(request),
        ),
        "drop": lambda: services.drop_correction(by=request.user, report=report),
    }
    if action not in steps:
        raise Http404
    try:
        steps[action]()
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    else:
        done = {
            "open": "Correction opened: record the changes, then publish the corrected version.",
            "publish": "Corrected version published; the previous one is kept as superseded.",
            "drop": "Correction dropped: the published version stays current.",
        }
        messages.success(request, done[action])
    return redirect("reports:detail", pk=report.pk)


def _version(request, pk: int, number: int) -> ReportVersion:
    return get_for_user(ReportVersion, request.user, report_id=pk, number=number)


@login_required
def version_html(request, pk: int, number: int):
    version = _version(request, pk, number)
    report = version.report
    return render(
        request,
        "reports/version.html",
        {
            "report": report,
            "version": version,
            "c": version.content,
            "stamp": stamp_for(version),
            "body": BODIES[report.kind],
            "current": report.current,
        },
    )


def _pdf_response(request, version: ReportVersion, max_age: int) -> FileResponse:
    """A version's PDF, rendered first if need be; `?download=1` saves it instead."""
    version = services.ensure_pdf(version)
    download = request.GET.get("download") == "1"
    if url := signed_url(version.pdf, filename=version.filename, download=download):
        return redirect(url)
    response = FileResponse(
        default_storage.open(version.pdf, "rb"),
        content_type="application/pdf",
        as_attachment=download,
        filename=version.filename,
    )
    response["Cache-Control"] = f"private, max-age={max_age}"
    response["ETag"] = f'"{version.pdf_sha256}"'
    return response


@login_required
def version_pdf(request, pk: int, number: int):
    return _pdf_response(request, _version(request, pk, number), max_age=86400)


def linked_pdf(request, token: str):
    """The PDF behind the signed link in a report's email: for that recipient's eyes, with no
    account. A token that is not ours, altered or expired answers 404 like any unknown URL."""
    version = links.version_for_token(token)
    if version is None:
        raise Http404
    # The token is the permission: keep it out of shared caches, search engines and the
    # Referer of anything the PDF viewer opens.
    response = _pdf_response(request, version, max_age=3600)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
def turnaround(request):
    reports = for_user(Report, request.user).select_related(
        "po__supplier", "po__qc_lead", "milestone"
    )
    return render(
        request,
        "reports/turnaround.html",
        {"leads": lead_turnaround(reports), "rows": report_rows(reports[:300])},
    )


class RecipientForm(forms.ModelForm):
    class Meta:
        model = ReportRecipient
        fields = ["email", "name", "attach_pdf"]


def _buyer_manager(user):
    membership = user.membership
    if membership is None or not membership.is_buyer:
        raise Http404
    return membership


@login_required
def recipients(request):
    """The buyer's distribution list, and whether its suppliers see published reports."""
    membership = _buyer_manager(request.user)
    buyer = membership.organisation
    may_edit = membership.role in {"buyer_manager", "admin"}
    form = RecipientForm()
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Only the buyer's managers change who receives reports.")
        form = _change_recipients(request, buyer)
        if form is None:
            return redirect("reports:recipients")
    return render(
        request,
        "reports/recipients.html",
        {
            "buyer": buyer,
            "listed": for_user(ReportRecipient, request.user),
            "fallback": selectors.recipients_of(buyer),
            "form": form,
            "may_edit": may_edit,
        },
        status=422 if form.errors else 200,
    )


def _change_recipients(request, buyer):
    action = request.POST.get("action")
    if action == "share":
        services.share_with_suppliers(buyer, request.POST.get("share") == "1")
        messages.success(request, "Saved.")
        return None
    if action == "remove":
        services.remove_recipient(buyer, request.POST.get("id", ""))
        return None
    form = RecipientForm(request.POST)
    if form.is_valid():
        try:
            services.add_recipient(buyer, form.cleaned_data)
        except ValidationError as error:
            form.add_error("email", error.messages[0])
            return form
        messages.success(request, f"{form.cleaned_data['email']} will receive published reports.")
        return None
    return form


def verify(request):
    """Anyone holding a report PDF (or its code) can check it: no sign-in."""
    verdict = None
    if request.method == "POST" and request.FILES.get("pdf"):
        verdict = verifying.by_file(request.FILES["pdf"].chunks())
    elif request.GET.get("code"):
        verdict = verifying.by_code(request.GET["code"])
    elif request.GET.get("sha256"):
        verdict = verifying.by_sha256(request.GET["sha256"])
    status = 200 if verdict is None or verdict.status != "unknown" else 404
    return render(request, "reports/verify.html", {"verdict": verdict}, status=status)
