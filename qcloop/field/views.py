"""The field app's three files: the page (the app shell), its service worker and its web app
manifest. None of them carries anything about the user or their tenant: the app asks the API
for that (see `qcloop.field.api`), so a shell cached on a phone never shows stale data or
another inspector's."""

import hashlib
import json

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# What the phone keeps for offline use, beside the page itself. Order matters only for reading.
SHELL_ASSETS = [
    "qcloop/qcloop.css",
    "field/field.css",
    "field/store.js",
    "field/sync.js",
    "field/photos.js",
    "field/app.js",
    "field/icon-192.png",
    "field/icon-512.png",
]
# The scripts the service worker itself runs (it syncs when no page is open).
WORKER_SCRIPTS = ["field/store.js", "field/sync.js"]


@login_required
@require_GET
@never_cache
def app(request):
    return render(request, "field/app.html")


def shell_version() -> str:
    """A short hash of the shell's files: a deploy that changes any of them changes the
    service worker's text, so browsers install the new worker and refresh their cache."""
    digest = hashlib.sha256()
    for path in SHELL_ASSETS:
        digest.update(static(path).encode())
        found = finders.find(path)
        if found:
            with open(found, "rb") as file:
                digest.update(file.read())
    digest.update(render_app_template_source())
    return digest.hexdigest()[:16]


def render_app_template_source() -> bytes:
    from django.template.loader import get_template

    template = get_template("field/app.html")
    return template.template.source.encode()


@require_GET
def service_worker(request):
    """Served from /field/ so that its scope is the app; never cached by the browser's HTTP
    cache (the browser compares it byte for byte to find an update)."""
    response = render(
        request,
        "field/sw.js",
        {
            "version": shell_version(),
            "assets_json": json.dumps([static(path) for path in SHELL_ASSETS]),
            "worker_scripts_json": json.dumps([static(path) for path in WORKER_SCRIPTS]),
        },
        content_type="application/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request):
    return JsonResponse(
        {
            "name": "qcloop field",
            "short_name": "qcloop",
            "description": "Record QC inspections on the factory floor, with or without signal.",
            "start_url": "/field/",
            "scope": "/field/",
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#f4f6f9",
            "theme_color": "#0f5c8c",
            "icons": [
                {
                    "src": static("field/icon-192.png"),
                    "sizes": "192x192",
                    "type": "image/png",
                    "purpose": "any maskable",
                },
                {
                    "src": static("field/icon-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "any maskable",
                },
            ],
        },
        content_type="application/manifest+json",
    )
