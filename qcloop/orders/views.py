"""Pages for POs, suppliers and products. Reads go through the tenancy gate; changes through
the services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from qcloop.core.tenancy import for_user, get_for_user
from qcloop.inspections.selectors import switching_overview

from . import selectors
from .forms import LineFormSet, POForm, line_drafts, show_errors
from .models import Factory, Product, PurchaseOrder, Supplier
from .services import (
    can_create_po,
    can_edit_po,
    create_purchase_order,
    update_purchase_order,
    why_cannot_edit_po,
)

PAGE_SIZE = 25


@login_required
def po_list(request):
    filters = selectors.POFilters.from_query(request.GET)
    orders = selectors.filtered_purchase_orders(request.user, filters)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "choices": selectors.po_filter_choices(request.user),
        "query": selectors.query_without_page(request.GET),
        "can_create": can_create_po(request.user),
    }
    template = "orders/_po_table.html" if request.htmx else "orders/po_list.html"
    return render(request, template, context)


@login_required
def po_detail(request, pk: int):
    po = get_for_user(PurchaseOrder, request.user, pk=pk)
    return render(
        request,
        "orders/po_detail.html",
        {
            "po": po,
            "lines": po.lines.select_related("product"),
            "milestones": selectors.timeline(po),
            "can_edit": can_edit_po(request.user, po),
            "reports": _reports(request.user, po),
            "dossier": _dossier(request.user, po),
            "escalations": _escalations(request.user, po),
        },
    )


def _escalations(user, po):
    from qcloop.alerts.models import Escalation

    return for_user(Escalation, user).filter(po=po).order_by("-raised_at")[:10]


def _reports(user, po):
    from qcloop.reports.models import Report

    return for_user(Report, user).filter(po=po).select_related("milestone").order_by("created_at")


def _dossier(user, po):
    # Imported here, like Report above: reports build on orders, not the other way round.
    from qcloop.reports.dossier import dossier_offer

    return dossier_offer(user, po)


def _with_one_more_line(data):
    """The posted form again with an empty line added: "Add a line" works without JavaScript
    and loses nothing typed so far."""
    data = data.copy()
    data["lines-TOTAL_FORMS"] = str(int(data.get("lines-TOTAL_FORMS") or 0) + 1)
    return data


def _form_page(request, form, formset, po):
    adding = "add_line" in request.POST
    context = {"form": form, "formset": formset, "po": po, "adding": adding}
    return render(request, "orders/po_form.html", context)


@login_required
def po_create(request):
    if not can_create_po(request.user):
        raise PermissionDenied("Only buyer managers and agency coordinators or QC leads enter POs.")
    data = request.POST or None
    if data and "add_line" in data:
        data = _with_one_more_line(data)
    form = POForm(data, user=request.user)
    formset = LineFormSet(data, form_kwargs={"user": request.user}, prefix="lines")
    if _should_save(request) and form.is_valid() and formset.is_valid():
        lines, positions = line_drafts(formset)
        try:
            po = create_purchase_order(
                by=request.user,
                draft=form.draft(lines),
                milestone_kinds=form.cleaned_data["milestones"],
            )
        except ValidationError as error:
            show_errors(error, form, formset, positions)
        else:
            messages.success(
                request, f"PO {po.number} saved with {po.milestones.count()} milestones."
            )
            return redirect("orders:po_detail", pk=po.pk)
    return _form_page(request, form, formset, None)


@login_required
def po_edit(request, pk: int):
    po = get_for_user(PurchaseOrder, request.user, pk=pk)
    if not can_edit_po(request.user, po):
        raise PermissionDenied(why_cannot_edit_po(request.user))
    initial = {name: getattr(po, name) for name in POForm.base_fields if hasattr(po, name)}
    data = request.POST or None
    if data and "add_line" in data:
        data = _with_one_more_line(data)
    form = POForm(data, user=request.user, editing=True, initial=initial)
    line_initial = [
        {"product": line.product, "variant": line.variant, "quantity": line.quantity}
        for line in po.lines.all()
    ]
    formset = LineFormSet(
        data,
        initial=line_initial,
        form_kwargs={"user": request.user},
        prefix="lines",
    )
    if _should_save(request) and form.is_valid() and formset.is_valid():
        lines, positions = line_drafts(formset)
        try:
            update_purchase_order(by=request.user, po=po, changes=form.changes(), lines=lines)
        except ValidationError as error:
            show_errors(error, form, formset, positions)
        else:
            messages.success(request, f"PO {po.number} updated.")
            return redirect("orders:po_detail", pk=po.pk)
    return _form_page(request, form, formset, po)


def _should_save(request) -> bool:
    return request.method == "POST" and "add_line" not in request.POST


@login_required
@require_GET
def factory_options(request):
    """The <option>s of the factory select for the chosen supplier (an htmx fragment)."""
    supplier = get_for_user(Supplier, request.user, pk=request.GET.get("supplier"))
    return render(
        request,
        "orders/_factory_options.html",
        {
            "factories": for_user(Factory, request.user).filter(supplier=supplier),
            "chosen": request.GET.get("factory", ""),
        },
    )


@login_required
def supplier_list(request):
    q = request.GET.get("q", "").strip()
    suppliers = for_user(Supplier, request.user).select_related("buyer")
    if q:
        suppliers = suppliers.filter(Q(name__icontains=q) | Q(code__icontains=q))
    suppliers = suppliers.annotate(
        factory_count=Count("factories", distinct=True),
        po_count=Count("purchase_orders", distinct=True),
    )
    return render(request, "orders/supplier_list.html", {"suppliers": suppliers, "q": q})


@login_required
def supplier_detail(request, pk: int):
    supplier = get_for_user(Supplier, request.user, pk=pk)
    return render(
        request,
        "orders/supplier_detail.html",
        {
            "supplier": supplier,
            "factories": for_user(Factory, request.user).filter(supplier=supplier),
            "orders": for_user(PurchaseOrder, request.user)
            .filter(supplier=supplier)
            .select_related("factory")[:50],
            "switching": switching_overview(request.user, supplier),
            **_capa_history(request.user, supplier),
        },
    )


def _capa_history(user, supplier: Supplier) -> dict:
    from qcloop.capa.selectors import supplier_history

    history, capas = supplier_history(user, supplier)
    rows = [(capa, history.recurrence_of.get(capa.reference)) for capa in capas[:100]]
    return {"capa_history": history, "capa_rows": rows}


@login_required
def product_list(request):
    q = request.GET.get("q", "").strip()
    products = for_user(Product, request.user).select_related("buyer")
    if q:
        products = products.filter(Q(sku__icontains=q) | Q(name__icontains=q))
    return render(request, "orders/product_list.html", {"products": products, "q": q})


@login_required
def product_detail(request, pk: int):
    product = get_for_user(Product, request.user, pk=pk)
    orders = (
        for_user(PurchaseOrder, request.user)
        .filter(lines__product=product)
        .distinct()
        .select_related("supplier")[:50]
    )
    return render(request, "orders/product_detail.html", {"product": product, "orders": orders})
