"""Handing out stored files (photos, certificates, report PDFs) once the tenancy gate has let
the caller through: local files are streamed by the view; on S3-compatible storage the view
redirects to a presigned URL that works for a few minutes only, so app servers do not carry
the bytes and a leaked link soon expires."""

from django.conf import settings
from django.core.files.storage import default_storage


def signed_url(name: str, *, filename: str = "", download: bool = False) -> str | None:
    """A short-lived URL straight to the object store, or None when files are local."""
    if not getattr(default_storage, "querystring_auth", False):
        return None
    parameters = {}
    if filename:
        disposition = "attachment" if download else "inline"
        parameters["ResponseContentDisposition"] = f'{disposition}; filename="{filename}"'
    return default_storage.url(
        name, parameters=parameters, expire=settings.QCLOOP_SIGNED_URL_SECONDS
    )
