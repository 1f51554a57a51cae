"""The HTTP API under /api/, with OpenAPI docs at /api/docs.

Every route needs a caller (API token or browser session) and reads through the tenancy gate.
Errors have one shape, ninja's own: 422 `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`
for bad input, whether pydantic or a service found it; `{"detail": "..."}` for 401, 403, 404.
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI, Swagger

from qcloop.accounts.api import ApiTokenAuth, BrowserSessionAuth
from qcloop.accounts.api import router as accounts_router
from qcloop.alerts.api import router as alerts_router
from qcloop.capa.api import router as capa_router
from qcloop.commercial.api import router as commercial_router
from qcloop.field.api import router as field_router
from qcloop.inspections.api import router as inspections_router
from qcloop.inspections.inspect_api import router as inspect_router
from qcloop.inspections.lab_api import router as lab_router
from qcloop.orders.api import router as orders_router
from qcloop.reports.api import router as reports_router
from qcloop.scheduling.api import router as scheduling_router

# Where a service's field errors sit in the request: every write route takes its body as the
# parameter `payload`, so ninja names body fields ("body", "payload", field, ...).
BODY_LOC = ("body", "payload")

api = NinjaAPI(
    title="qcloop API",
    version="1",
    description=(
        "Purchase orders, suppliers, factories, products and inspection milestones. "
        "Authenticate with a personal API token (`Authorization: Bearer qcl_...`) or, "
        "in the browser, with your signed-in session."
    ),
    urls_namespace="api",
    auth=[ApiTokenAuth(), BrowserSessionAuth()],
    # ninja serves Swagger UI from its own static files (no CDN) with no inline script, so the
    # page works under the site's CSP. No validator: it would call validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)
api.add_router("", accounts_router)
api.add_router("", orders_router)
api.add_router("", inspections_router)
api.add_router("", inspect_router)
api.add_router("", lab_router)
api.add_router("", field_router)
api.add_router("", reports_router)
api.add_router("", capa_router)
api.add_router("", commercial_router)
api.add_router("", alerts_router)
api.add_router("", scheduling_router)


def field_loc(path: str) -> list[str | int]:
    """A service's field path ("lines.0.quantity") as a ninja loc, list indexes as ints."""
    if path == NON_FIELD_ERRORS:
        return list(BODY_LOC)
    return [*BODY_LOC, *(int(part) if part.isdigit() else part for part in path.split("."))]


def field_errors(error: ValidationError) -> list[dict]:
    by_field = error.error_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error}
    return [
        {"loc": field_loc(path), "msg": message, "type": item.code or "value_error"}
        for path, errors in by_field.items()
        for item in (errors.error_list if isinstance(errors, ValidationError) else errors)
        for message in item
    ]


@api.exception_handler(ValidationError)
def invalid(request, error: ValidationError):
    return api.create_response(request, {"detail": field_errors(error)}, status=422)


@api.exception_handler(PermissionDenied)
def forbidden(request, error: PermissionDenied):
    message = str(error) or "You are not allowed to do this."
    return api.create_response(request, {"detail": message}, status=403)


@api.exception_handler(Http404)
def not_found(request, error: Http404):
    # The same answer whether the object is missing or another tenant's.
    return api.create_response(request, {"detail": "Not Found"}, status=404)
