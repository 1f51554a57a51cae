"""CAPA pages: the list (the supplier's portal: what it must answer), one CAPA with its
finding, answers and verifications, the supplier's answer form and the QC lead's decision."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qcloop.core.tenancy import for_user, get_for_user
from qcloop.inspections.models import PhotoAttachment

from . import services
from .models import CapaAnswer, CapaStatus, CapaVerification, CorrectiveAction


@login_required
def capa_list(request):
    capas = for_user(CorrectiveAction, request.user).select_related("po", "supplier", "milestone")
    if request.GET.get("open"):
        capas = capas.exclude(status=CapaStatus.CLOSED)
    return render(
        request, "capa/capa_list.html", {"capas": capas[:300], "open": request.GET.get("open")}
    )


@login_required
def capa_detail(request, pk: int, errors=None, status=200):
    capa = get_for_user(CorrectiveAction, request.user, pk=pk)
    photos = for_user(PhotoAttachment, request.user).filter(defect_id=capa.defect_id)
    return render(
        request,
        "capa/capa_detail.html",
        {
            "capa": capa,
            "answers": for_user(CapaAnswer, request.user).filter(capa=capa),
            "verifications": for_user(CapaVerification, request.user).filter(capa=capa),
            "photos": photos if capa.defect_id else [],
            "may_answer": capa.status == CapaStatus.OPEN
            and services._works_for_supplier(request.user, capa.po),
            "may_decide": capa.status == CapaStatus.ANSWERED
            and services.is_po_qc_staff(request.user, capa.po),
            "errors": errors or {},
            "posted": request.POST if errors else {},
        },
        status=status,
    )


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
