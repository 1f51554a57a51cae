"""The photo dossier download: every photo of a PO the user may see, as a ZIP streamed while
it is written (see qcloop.reports.dossier). The API's route answers with the same response."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from . import dossier


def dossier_response(built: dossier.Dossier) -> StreamingHttpResponse:
    response = StreamingHttpResponse(dossier.stream_dossier(built), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{dossier.zip_name(built.po)}"'
    # Photos of a tenant: never in a shared cache, nor kept by the browser after the download.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def po_dossier(request, pk: int):
    """`?files=originals` (the default: the evidence as uploaded) or `?files=renditions` (the
    light ~1600 px JPEGs)."""
    files = request.GET.get("files") or dossier.ORIGINALS
    try:
        built = dossier.open_dossier(request.user, pk, files)
    except ValidationError as error:
        return HttpResponseBadRequest(
            " ".join(error.messages), content_type="text/plain; charset=utf-8"
        )
    return dossier_response(built)
