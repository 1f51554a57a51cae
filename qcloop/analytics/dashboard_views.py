"""The program dashboard's pages: the dashboard itself, its tables as CSV and XLSX, and the
snapshot email sent on request."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_POST

from qcloop.core.reference import ProductCategory, markets
from qcloop.orders.models import PurchaseOrder, Supplier

from . import snapshot
from .dashboard import (
    DRIFT_MONTHS,
    Dashboard,
    Scope,
    add_months,
    may_send_snapshot,
    parse_filters,
)
from .exports import FORMATS, export_response

# The months offered in the period menu (any other month may still be asked for by URL).
MONTH_CHOICES = 36


def _choices(scope: Scope, filters) -> dict:
    orders = scope.of(PurchaseOrder)
    market_codes = orders.order_by().values_list("destination_market", flat=True).distinct()
    names = markets()
    today = timezone.localdate()
    months = [add_months(today, -back) for back in range(MONTH_CHOICES)]
    if filters.period.kind == "month" and filters.period.start not in months:
        months.append(filters.period.start)
    return {
        "months": [(f"{m:%Y-%m}", f"{m:%B %Y}") for m in months],
        "suppliers": scope.of(Supplier)
        .filter(pk__in=orders.values("supplier"))
        .only("pk", "name")
        .order_by("name"),
        "categories": ProductCategory.choices,
        "markets": sorted((code, names.get(code, code)) for code in market_codes),
        "buyers": list(scope.buyers().only("pk", "name")),
    }


@login_required
@require_GET
def dashboard(request):
    scope = Scope.of_user(request.user)
    filters = parse_filters(request.GET, scope)
    context = {
        "filters": filters,
        "choices": _choices(scope, filters),
        "may_send_snapshot": may_send_snapshot(request.user),
        "table_names": Dashboard.TABLE_NAMES,
    }
    if not filters.errors:
        board = Dashboard(scope, filters)
        context |= {"board": board, "charts": board.charts(), "tables": _tables_by_name(board)}
        context["drift_months"] = DRIFT_MONTHS
    status = 400 if filters.errors else 200
    return render(request, "analytics/dashboard.html", context, status=status)


# Every supplier month by month (hundreds of rows at scale) is offered as a file only: the
# page draws it as the trend chart and sums it per supplier.
EXPORT_ONLY = {"defect-trends"}


def _tables_by_name(board: Dashboard) -> dict:
    return {
        name.replace("-", "_"): _shown(board.table(name))
        for name in Dashboard.TABLE_NAMES
        if name not in EXPORT_ONLY
    }


@dataclass(frozen=True)
class ShownTable:
    """A table as the page prints it: the same cells as the export, as text in the viewer's
    time zone, numbers marked to be right-aligned."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[tuple[str, bool]]]


def _cell(value) -> tuple[str, bool]:
    if value is None:
        return "—", False
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT"), False
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT"), False
    if isinstance(value, bool):
        return ("yes" if value else ""), False
    if isinstance(value, int | float):
        return formats.number_format(value, use_l10n=True), True
    return str(value), False


def _shown(table) -> ShownTable:
    rows = [[_cell(value) for value in row] for row in table.rows]
    return ShownTable(table.name, table.title, table.columns, rows)


@login_required
@require_GET
def dashboard_export(request, name: str, fmt: str):
    """One table (or "all", XLSX: every table) with every row, under the page's filters. Bad
    filters answer 400 with their message: a spreadsheet of nothing would pass for data."""
    scope = Scope.of_user(request.user)
    if fmt not in FORMATS:
        raise Http404(f"No export format {fmt!r}: csv or xlsx.")
    filters = parse_filters(request.GET, scope)
    if filters.errors:
        return HttpResponse(
            "\n".join(filters.errors) + "\n", status=400, content_type="text/plain; charset=utf-8"
        )
    board = Dashboard(scope, filters, limit=None)
    # "all" is one workbook of every table; a CSV holds one table only.
    wanted = Dashboard.TABLE_NAMES if (name == "all" and fmt == "xlsx") else [name]
    tables = [board.table(n) for n in wanted if n != "all"]
    return export_response(tables, name, fmt, stem=_stem(filters))


def _stem(filters) -> str:
    period = filters.period
    if period.kind == "month":
        return f"dashboard-{period.start:%Y-%m}"
    return f"dashboard-{period.start:%Y%m%d}-{period.end:%Y%m%d}"


@login_required
@require_POST
def dashboard_snapshot(request):
    """Email the chosen month's snapshot now to the buyer's report recipients. An agency
    coordinator sends it for one buyer they serve: the filter's, or their only client."""
    if not may_send_snapshot(request.user):
        raise Http404("No snapshot to send here.")
    scope = Scope.of_user(request.user)
    filters = parse_filters(request.POST, scope)
    back = reverse("analytics:dashboard") + "?" + filters.query()
    if filters.errors:
        for error in filters.errors:
            messages.error(request, error)
        return HttpResponseRedirect(back)
    if filters.period.kind != "month":
        messages.error(request, "period: choose a month (YYYY-MM) to send its snapshot.")
        return HttpResponseRedirect(back)
    membership = request.user.membership
    if membership.is_buyer:
        buyer = membership.organisation
    else:
        buyers = list(scope.buyers()[:2])
        buyer = filters.buyer or (buyers[0] if len(buyers) == 1 else None)
        if buyer is None:
            messages.error(request, "buyer: choose the buyer whose snapshot to send.")
            return HttpResponseRedirect(back)
    sent = snapshot.send_snapshot(buyer, filters.period.start, requested_by=request.user)
    if sent.error:
        messages.error(request, f"The snapshot was not sent to everyone: {sent.error}")
    elif not sent.delivered:
        messages.error(request, f"{buyer} has no report recipients to send the snapshot to.")
    else:
        messages.success(
            request,
            f"Snapshot of {filters.period.start:%B %Y} sent to {len(sent.delivered)} "
            f"recipient{'s' if len(sent.delivered) != 1 else ''} of {buyer}.",
        )
    return HttpResponseRedirect(back)
