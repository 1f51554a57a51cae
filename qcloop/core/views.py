"""The home page of each role, and the health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from qcloop.accounts.models import Role

from . import selectors


@login_required
def home(request):
    membership = request.user.membership
    if membership is None:
        return render(request, "core/home_unaffiliated.html")
    if membership.is_supplier:
        return render(request, "core/home_supplier.html", selectors.supplier_home(request.user))
    if membership.is_buyer:
        return render(request, "core/home_buyer.html", selectors.buyer_home(request.user))
    if membership.role == Role.INSPECTOR:
        return render(request, "core/home_inspector.html", selectors.inspector_home(request.user))
    if membership.role == Role.QC_LEAD:
        return render(request, "core/home_qc_lead.html", selectors.qc_lead_home(request.user))
    return render(request, "core/home_coordinator.html", selectors.coordinator_home(request.user))


@never_cache
@require_GET
def health(request):
    """Liveness for load balancers: the process answers and the database is reachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": str(error)[:200]}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
