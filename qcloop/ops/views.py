"""Endpoints for the machines around qcloop: the load balancer and the metrics scraper."""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import checks, metrics


@never_cache
@require_GET
def live(request):
    """Liveness: the process answers. Nothing else is checked, so that a database outage does
    not make the orchestrator restart every app server at once."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    ok, results = checks.run()
    return JsonResponse({"status": "ok" if ok else "error", **results}, status=200 if ok else 503)


@never_cache
@require_GET
def metrics_page(request):
    """Prometheus text format, for a scraper holding QCLOOP_METRICS_TOKEN; without the setting
    the page does not exist (the figures are the agencies' business)."""
    token = settings.QCLOOP_METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(offered.encode(), token.encode()):
        raise Http404
    return HttpResponse(
        metrics.render(metrics.collect()), content_type="text/plain; version=0.0.4; charset=utf-8"
    )
