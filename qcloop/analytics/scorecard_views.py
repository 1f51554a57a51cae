"""The supplier scorecards' pages: every supplier side by side, one supplier's scorecard, and
their tables as CSV and XLSX."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from qcloop.core.reference import ProductCategory
from qcloop.core.tenancy import get_for_user
from qcloop.orders.models import Supplier
from qcloop.reports.summary_logic import LATE_GRACE_DAYS

from .exports import FORMATS, export_response
from .scorecard import (
    Scorecard,
    ScorecardFilters,
    Scorecards,
    may_see_scorecards,
    parse_filters,
    sees_escalations,
)
from .scorecard_logic import SORTS


def _reader(request):
    if not may_see_scorecards(request.user):
        raise Http404("No scorecards here.")
    return request.user


def _context(request, filters: ScorecardFilters) -> dict:
    return {
        "filters": filters,
        "categories": ProductCategory.choices,
        "sorts": SORTS.items(),
        "sees_escalations": sees_escalations(request.user),
        "grace_days": LATE_GRACE_DAYS,
    }


def _export_links(names, route: str, *args) -> dict:
    """{"by_factory": {"name", "csv", "xlsx"}, ...}: each table's download links."""
    return {
        name.replace("-", "_"): {
            "name": name,
            **{fmt: reverse(route, args=[*args, name, fmt]) for fmt in FORMATS},
        }
        for name in names
    }


@login_required
@require_GET
def scorecards(request):
    user = _reader(request)
    filters = parse_filters(request.GET)
    context = _context(request, filters)
    if not filters.errors:
        context["cards"] = Scorecards(user, filters)
    status = 400 if filters.errors else 200
    return render(request, "analytics/scorecards.html", context, status=status)


@login_required
@require_GET
def scorecard(request, pk: int):
    user = _reader(request)
    supplier = get_for_user(Supplier, user, pk=pk)
    filters = parse_filters(request.GET)
    context = _context(request, filters) | {"supplier": supplier}
    if not filters.errors:
        card = Scorecard(user, filters, supplier)
        context |= {
            "card": card,
            "charts": card.chart_json(),
            "exports": _export_links(card.TABLE_NAMES, "analytics:scorecard_export", supplier.pk),
        }
    status = 400 if filters.errors else 200
    return render(request, "analytics/scorecard.html", context, status=status)


def _export(board, filters: ScorecardFilters, name: str, fmt: str, stem: str):
    # "all" is one workbook of every table; a CSV holds one table only.
    wanted = board.TABLE_NAMES if (name == "all" and fmt == "xlsx") else [name]
    tables = [board.table(n) for n in wanted if n != "all"]
    return export_response(
        tables, name, fmt, stem=f"{stem}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}"
    )


def _bad_filters(filters: ScorecardFilters) -> HttpResponse:
    # A spreadsheet of nothing would pass for data: say what is wrong instead.
    return HttpResponse(
        "\n".join(filters.errors) + "\n", status=400, content_type="text/plain; charset=utf-8"
    )


@login_required
@require_GET
def scorecards_export(request, name: str, fmt: str):
    user = _reader(request)
    if fmt not in FORMATS:
        raise Http404(f"No export format {fmt!r}: csv or xlsx.")
    filters = parse_filters(request.GET)
    if filters.errors:
        return _bad_filters(filters)
    return _export(Scorecards(user, filters), filters, name, fmt, stem="scorecards")


@login_required
@require_GET
def scorecard_export(request, pk: int, name: str, fmt: str):
    user = _reader(request)
    supplier = get_for_user(Supplier, user, pk=pk)
    if fmt not in FORMATS:
        raise Http404(f"No export format {fmt!r}: csv or xlsx.")
    filters = parse_filters(request.GET)
    if filters.errors:
        return _bad_filters(filters)
    stem = f"scorecard-{slugify(supplier.code) or supplier.pk}"
    return _export(Scorecard(user, filters, supplier), filters, name, fmt, stem=stem)
