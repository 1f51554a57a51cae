"""CAPA pages: the list (the supplier's portal: what it must answer), one CAPA with its
finding, answers and verifications, the supplier's answer form and the QC lead's decision."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from qcloop.core.tenancy import for_user, get_for_user
from qcloop.inspections.models import (
    AttachmentStatus,
    Milestone,
    MilestoneStatus,
    PhotoAttachment,
)
from qcloop.inspections.photo_views import serve_photo

from . import services
from .models import CapaAnswer, CapaEvidence, CapaStatus, CapaVerification, CorrectiveAction


@login_required
def capa_list(request):
    capas = for_user(CorrectiveAction, request.user).select_related("po", "supplier", "milestone")
    if request.GET.get("open"):
        capas = capas.exclude(status=CapaStatus.CLOSED)
    return render(
        request, "capa/capa_list.html", {"capas": capas[:300], "open": request.GET.get("open")}
    )


# How the frozen finding reads on the page, in this order; what is empty is left out.
FINDING_LABELS = {
    "milestone": "Found at",
    "code": "Defect code",
    "description": "Defect",
    "class": "Class",
    "quantity": "Units found",
    "sample_size": "Sample size",
    "systematic": "Systematic",
    "section": "Checklist section",
    "text": "Check",
    "value": "Value found",
    "note": "Inspector's note",
    "produced": "Produced",
    "ex_factory_date": "Ex-factory date",
    "projected_completion": "Projected completion",
    "late_by_days": "Days late",
}


def finding_facts(finding: dict) -> list[tuple[str, object]]:
    facts = []
    for key, label in FINDING_LABELS.items():
        value = finding.get(key)
        if value in (None, "", False):
            continue
        facts.append((label, "yes" if value is True else value))
    return facts


@login_required
def capa_detail(request, pk: int, errors=None, status=200):
    capa = get_for_user(CorrectiveAction, request.user, pk=pk)
    photos = for_user(PhotoAttachment, request.user).filter(defect_id=capa.defect_id)
    return render(
        request,
        "capa/capa_detail.html",
        {
            "capa": capa,
            "finding": finding_facts(capa.finding),
            "answers": for_user(CapaAnswer, request.user).filter(capa=capa),
            "verifications": for_user(CapaVerification, request.user).filter(capa=capa),
            "photos": photos if capa.defect_id else [],
            "may_answer": capa.status == CapaStatus.OPEN
            and services._works_for_supplier(request.user, capa.po),
            "may_decide": capa.status == CapaStatus.ANSWERED
            and services.is_po_qc_staff(request.user, capa.po),
            "evidence": for_user(CapaEvidence, request.user).filter(capa=capa),
            "verify_at": _milestones_to_verify_at(request.user, capa),
            "errors": errors or {},
            "posted": request.POST if errors else {},
            "posted_whys": request.POST.getlist("why") if errors else [],
        },
        status=status,
    )


def _milestones_to_verify_at(user, capa: CorrectiveAction) -> list[dict]:
    """The later milestones at which this user may verify the CAPA, with their photos."""
    if capa.status == CapaStatus.CLOSED:
        return []
    candidates = (
        for_user(Milestone, user)
        .filter(po__supplier=capa.supplier_id)
        .exclude(status__in=[MilestoneStatus.CANCELLED, MilestoneStatus.PLANNED])
        .select_related("po")
    )
    later = [
        milestone
        for milestone in candidates
        if services.may_verify_at(capa, milestone)
        and (milestone.inspector_id == user.pk or services.is_po_qc_staff(user, milestone.po))
    ]
    return [
        {
            "milestone": milestone,
            "photos": for_user(PhotoAttachment, user).filter(
                milestone=milestone, status=AttachmentStatus.READY
            ),
        }
        for milestone in later
    ]


@login_required
@require_POST
def answer(request, pk: int):
    capa = get_for_user(CorrectiveAction, request.user, pk=pk)
    try:
        services.answer_capa(
            by=request.user,
            capa=capa,
            whys=request.POST.getlist("why"),
            root_cause=request.POST.get("root_cause", ""),
            correction=request.POST.get("correction", ""),
            prevention=request.POST.get("prevention", ""),
            evidence=[(f.name, f.read()) for f in request.FILES.getlist("evidence")],
        )
    except ValidationError as error:
        return capa_detail(request, pk, errors=error.message_dict, status=422)
    messages.success(request, "Answer sent to the QC lead.")
    return redirect("capa:detail", pk=pk)


@login_required
@require_POST
def decide(request, pk: int):
    capa = get_for_user(CorrectiveAction, request.user, pk=pk)
    try:
        services.decide_answer(
            by=request.user,
            capa=capa,
            accept=request.POST.get("decision") == "accept",
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        return capa_detail(request, pk, errors=error.message_dict, status=422)
    messages.success(request, "Decision recorded.")
    return redirect("capa:detail", pk=pk)


@login_required
@require_POST
def verify(request, pk: int):
    capa = get_for_user(CorrectiveAction, request.user, pk=pk)
    milestone = for_user(Milestone, request.user).filter(pk=request.POST.get("milestone")).first()
    if milestone is None:
        return capa_detail(
            request, pk, errors={"milestone": ["Choose the milestone you verify at."]}, status=422
        )
    try:
        services.verify_capa(
            by=request.user,
            capa=capa,
            milestone=milestone,
            effective=request.POST.get("effective") == "yes",
            note=request.POST.get("note", ""),
            photo_uuids=request.POST.getlist("photo"),
        )
    except ValidationError as error:
        return capa_detail(request, pk, errors=error.message_dict, status=422)
    messages.success(request, "Verification recorded.")
    return redirect("capa:detail", pk=pk)


@login_required
@require_GET
def evidence_file(request, pk: int, kind: str):
    """A supplier's evidence photo, to whoever sees its CAPA."""
    evidence = get_for_user(CapaEvidence, request.user, pk=pk)
    return serve_photo(request, evidence.photo, kind)


@login_required
def open_by_hand(request, pk: int):
    """The QC lead opens a CAPA for a finding of a milestone the rule left alone."""
    milestone = get_for_user(Milestone, request.user, pk=pk)
    if not services.is_po_qc_staff(request.user, milestone.po):
        raise PermissionDenied
    errors, status = {}, 200
    if request.method == "POST":
        try:
            capa = services.open_capa(
                by=request.user,
                milestone=milestone,
                finding_key=request.POST.get("finding", ""),
                owner=_supplier_user(milestone, request.POST.get("owner")),
                due_on=_date(request.POST.get("due_on")),
            )
        except ValidationError as error:
            errors, status = error.message_dict, 422
        else:
            messages.success(request, f"{capa.reference} opened.")
            return redirect("capa:detail", pk=capa.pk)
    return render(
        request,
        "capa/capa_new.html",
        {
            "milestone": milestone,
            "findings": services.findings_without_capa(milestone),
            "owners": services.supplier_people(milestone.po),
            "default_owner": services.default_owner(milestone.po),
            "errors": errors,
            "posted": request.POST if errors else {},
        },
        status=status,
    )


def _supplier_user(milestone: Milestone, value):
    if not value:
        return None
    people = {str(user.pk): user for user in services.supplier_people(milestone.po)}
    if value not in people:
        raise ValidationError({"owner": "Choose the owner among the supplier's people."})
    return people[value]


def _date(value):
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError({"due_on": f"{value!r} is not a date (YYYY-MM-DD)."}) from None
