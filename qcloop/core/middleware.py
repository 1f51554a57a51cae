import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils import timezone


class ViewerTimezoneMiddleware:
    """Show times in the viewer's own zone; they are stored in UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.timezone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.timezone))
            except zoneinfo.ZoneInfoNotFoundError:
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class TextInputGuard:
    """Two kinds of request no page or API route can use, refused at the door with the reason
    rather than by an error deep inside (a 500):

    - a NUL character (0x00) in text: never a user's data, and PostgreSQL refuses to store
      one. Files in uploads are bytes and may hold anything; only text (query, form fields,
      JSON) is looked at;
    - a text body above DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): files go as uploads, in chunks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            where = nul_in(request)
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
            return refusal(
                request,
                f"The request body is larger than the {limit:g} MB accepted for text; "
                "send files as uploads.",
                status=413,
            )
        if where is None:
            return self.get_response(request)
        return refusal(
            request, f"The {where} contains a NUL character (0x00), which is not accepted in text."
        )


def refusal(request, message: str, status: int = 400):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def nul_in(request) -> str | None:
    """Where the request's text holds a NUL character, or None."""
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query.lower() or "\x00" in query:
        return "query string"
    if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
        return None
    kind = request.content_type or ""
    if kind == "application/json":
        # In JSON a NUL is the escape \u0000 (an odd run of backslashes before "u0000"): found
        # in the bytes, without parsing a body the API will parse anyway.
        body = request.body
        return "request body" if b"\x00" in body or JSON_NUL.search(body) else None
    if kind in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        values = (v for key in request.POST for v in [key, *request.POST.getlist(key)])
        return "form" if any("\x00" in v for v in values) else None
    return None
