"""Reports as HTML and as PDF, from the same templates and the same content dict.

The PDF is made by WeasyPrint. Its images come straight from storage through a fetcher that
fetches nothing else: a report never reaches the network, and never embeds an original photo
(renditions and thumbnails only, so a 300-photo PO stays a document one can email)."""

import hashlib
from datetime import UTC

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone

STORAGE_SCHEME = "qcloop-storage:"
BODIES = {
    "milestone": "reports/_milestone_body.html",
    "po_summary": "reports/_summary_body.html",
}


def _stylesheet() -> str:
    with open(finders.find("reports/report.css"), encoding="utf-8") as css:
        return css.read()


def stamp_for(version=None) -> dict:
    """What the running footer of each page says: the version and how to verify it, or that
    the document is a draft that nobody should act on."""
    if version is None:
        return {"draft": True, "text": "DRAFT: not published, not for decisions"}
    published = timezone.localtime(version.published_at, UTC).strftime("%d %b %Y %H:%M")
    return {
        "draft": False,
        "number": version.number,
        "code": version.code,
        "published": f"{published} UTC",
        "verify_url": f"{settings.SITE_URL}/verify/",
        "text": f"v{version.number} · published {published} UTC · verify at "
        f"{settings.SITE_URL}/verify/ with code {version.code}",
    }


def document_html(content: dict, stamp: dict, *, pdf: bool) -> str:
    """The whole report as one HTML document (the PDF's source, or a standalone page)."""
    return render_to_string(
        "reports/document.html",
        {
            "c": content,
            "stamp": stamp,
            "pdf": pdf,
            "body": BODIES[content["kind"]],
            "css": _stylesheet() if pdf else "",
            "footer": css_string(f"PO {content['header']['po']} · {stamp['text']}"),
        },
    )


def css_string(text: str) -> str:
    """`text` as a CSS string literal that cannot end the string, or the <style> element."""
    escaped = text.replace("\\", "\\5c ").replace('"', "\\22 ").replace("<", "\\3c ")
    return '"' + " ".join(escaped.split()) + '"'


def render_pdf(content: dict, stamp: dict) -> tuple[bytes, int]:
    """The PDF's bytes and its number of pages."""
    from weasyprint import HTML  # imported here: it loads Pango, which pages do not need

    html = document_html(content, stamp, pdf=True)
    source = HTML(string=html, base_url=settings.SITE_URL, url_fetcher=StorageFetcher())
    document = source.render()
    return document.write_pdf(), len(document.pages)


class StorageFetcher:
    """WeasyPrint's fetcher for report images: `qcloop-storage:<name>` from our storage;
    any other address is refused (no network, no local files)."""

    _fail_on_errors = False

    def __call__(self, url):
        return self.fetch(url)

    def fetch(self, url, headers=None):
        from weasyprint.urls import URLFetcherResponse

        if not url.startswith(STORAGE_SCHEME):
            raise ValueError(f"a report fetches only its own photos, not {url[:80]!r}")
        with default_storage.open(url.removeprefix(STORAGE_SCHEME), "rb") as stored:
            data = stored.read()
        return URLFetcherResponse(url, body=data, headers={"Content-Type": "image/jpeg"})


def store_pdf(version, pdf: bytes, pages: int) -> None:
    """Keep a version's PDF under the hash of its bytes and record that hash."""
    digest = hashlib.sha256(pdf).hexdigest()
    name = default_storage.save(f"reports/{digest[:2]}/{digest}.pdf", ContentFile(pdf))
    version.pdf = name
    version.pdf_sha256 = digest
    version.pdf_bytes = len(pdf)
    version.pdf_pages = pages
    version.save(update_fields=["pdf", "pdf_sha256", "pdf_bytes", "pdf_pages"])
