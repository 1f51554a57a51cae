"""Distribution of a published report version by email: to the buyer's recipients (and the
supplier's people when the buyer shares its reports with suppliers), the PDF attached when it
fits in a mail and the recipient wants it, linked otherwise, each mail recorded as a Delivery.

The caller renders the PDF first (services.ensure_pdf) and calls `distribute` after the
publication has committed, from a background task: it talks to the mail server."""

import hashlib
import smtplib
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from .models import Delivery, DeliveryStatus, ReportVersion
from .selectors import recipients_of

DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def __getattr__(name: str):
    # MAX_ATTACHMENT_BYTES is read from the settings when asked for, not frozen at import, so
    # that a changed setting (override_settings, the tests' `settings` fixture) holds.
    if name == "MAX_ATTACHMENT_BYTES":
        return max_attachment_bytes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def max_attachment_bytes() -> int:
    """Above this a PDF is linked, not attached: mail servers refuse big mails."""
    return getattr(settings, "QCLOOP_REPORT_ATTACH_MAX_BYTES", DEFAULT_MAX_ATTACHMENT_BYTES)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    attach_pdf: bool


def distribute(version: ReportVersion) -> list[Delivery]:
    """Email a published version to everyone who should have it and record each mail as a
    Delivery. Idempotent: addresses this version was already sent to are skipped (a retried
    task must not mail twice), failed ones are tried again. Returns the deliveries made now."""
    version = _fresh(version)
    if not version.pdf:
        raise ValueError(
            f"{version} has no PDF yet: render it (services.ensure_pdf) before distributing."
        )
    previous = {d.email.lower(): d for d in version.deliveries.all()}
    sent = {email for email, d in previous.items() if d.status == DeliveryStatus.SENT}
    pending = [r for r in recipients_for(version) if r.email.lower() not in sent]
    pdf = _attachment(version) if any(r.attach_pdf for r in pending) else None
    # No transaction around the loop: each Delivery is kept as soon as its mail has gone, so a
    # crash mid-batch loses at most one record and a retry does not mail the others again.
    return [_deliver(version, r, pdf, previous.get(r.email.lower())) for r in pending]


def _fresh(version: ReportVersion) -> ReportVersion:
    # From the database, not the caller's instance: the buyer's sharing choice may have
    # changed since the task was queued.
    return ReportVersion.objects.select_related(
        "report__po__buyer", "report__po__supplier__organisation", "report__milestone"
    ).get(pk=version.pk)


def recipients_for(version: ReportVersion) -> list[Recipient]:
    """The buyer's recipients, then the supplier's people if the buyer shares its reports with
    suppliers; each address once, whatever its case (the first mention wins)."""
    po = version.report.po
    candidates = recipients_of(po.buyer)
    supplier_org = po.supplier.organisation
    if po.buyer.shares_reports_with_suppliers and supplier_org is not None:
        people = supplier_org.memberships.select_related("user").filter(user__is_active=True)
        candidates += [(m.user.email, m.user.full_name, True) for m in people]
    unique: dict[str, Recipient] = {}
    for email, name, attach_pdf in candidates:
        email = email.strip()
        if email and email.lower() not in unique:
            unique[email.lower()] = Recipient(email, name, attach_pdf)
    return list(unique.values())


def _attachment(version: ReportVersion) -> bytes | None:
    """The PDF's bytes when they may be attached; None when it is too big (then linked)."""
    size = version.pdf_bytes if version.pdf_bytes is not None else default_storage.size(version.pdf)
    if size > max_attachment_bytes():
        return None
    with default_storage.open(version.pdf, "rb") as stored:
        pdf = stored.read()
    # The mail states the SHA-256 to verify against: never attach bytes that would fail it.
    if hashlib.sha256(pdf).hexdigest() != version.pdf_sha256:
        raise ValueError(f"The stored PDF of {version} does not match its recorded SHA-256.")
    return pdf


def _deliver(version, recipient: Recipient, pdf: bytes | None, previous) -> Delivery:
    attached = pdf is not None and recipient.attach_pdf
    message = compose(version, recipient, pdf if attached else None)
    # One connection per mail (send(using=...) opens and closes its own): after a refused or
    # oversized mail, or a server that hangs up, the next recipient starts clean instead of
    # inheriting a broken session; a list is a handful of addresses, so the extra handshakes
    # cost nothing next to the PDFs.
    try:
        message.send(using="default")
    except (OSError, ValueError) as error:
        # smtplib's errors are OSErrors; ValueError is an address Django cannot encode. Either
        # way this recipient failed, and the others still get their mail.
        return _record(version, recipient.email, previous, attached, _describe(error))
    return _record(version, recipient.email, previous, attached, "")


def _record(version, email: str, previous: Delivery | None, attached: bool, error: str):
    delivery = previous or Delivery(version=version, email=email)
    delivery.status = DeliveryStatus.FAILED if error else DeliveryStatus.SENT
    delivery.attached = attached  # as the mail was (or would have been) sent
    delivery.error = error
    delivery.sent_at = timezone.now()
    delivery.save()
    return delivery


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {reply.decode(errors='replace')}"
            for address, (code, reply) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"
    return f"{type(error).__name__}: {error}"


# --- the mail ----------------------------------------------------------------------------------


def subject(version: ReportVersion) -> str:
    report = version.report
    title = (
        report.title if version.number == 1 else f"{report.title} (corrected, v{version.number})"
    )
    result = (version.content.get("verdict") or {}).get("result")
    verdict = f" — {result.upper()}" if result else ""
    return f"[qcloop] {title}: PO {report.po.number}{verdict}"


def compose(version: ReportVersion, recipient: Recipient, pdf: bytes | None):
    """The mail to one recipient; `pdf` is attached when given, otherwise linked."""
    paragraphs = _paragraphs(version, recipient, attached=pdf is not None)
    message = EmailMultiAlternatives(
        subject=subject(version),
        body="\n\n".join(f"{text} {link}".strip() for text, link in paragraphs) + "\n",
        to=[recipient.email],
        # RFC 3834: out-of-office robots must not answer it.
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(_html(paragraphs), "text/html")
    if pdf is not None:
        message.attach(version.filename, pdf, "application/pdf")
    return message


def _paragraphs(version, recipient: Recipient, attached: bool) -> list[tuple[str, str]]:
    """The body as (text, link) paragraphs, shared by the plain text and the HTML."""
    report, verdict = version.report, version.content.get("verdict") or {}
    published = timezone.localtime(version.published_at, UTC)
    paragraphs = [
        (f"Hello {recipient.name}," if recipient.name else "Hello,", ""),
        (
            f"The {report.title} of PO {report.po.number} ({report.po.supplier.name}) is "
            f"published: version {version.number}, {published:%d %b %Y %H:%M} UTC.",
            "",
        ),
    ]
    if version.number > 1:
        reason = version.correction_reason or "no reason given"
        paragraphs.append((f"It corrects the earlier version: {reason}", ""))
    if verdict.get("result"):
        paragraphs.append((f"Verdict: {verdict['result'].upper()}", ""))
    if verdict.get("lead_summary"):
        # From the frozen content, not the report: the summary as it was published.
        paragraphs.append((f"The QC lead's summary: {verdict['lead_summary']}", ""))
    paragraphs += [
        _pdf_sentence(version, recipient, attached),
        ("Read the report:", _url("reports:version", version, f"v{version.number}/")),
        (
            f"Verify this PDF at {_verify_url()} with code {version.code}; "
            f"SHA-256 {version.pdf_sha256}",
            "",
        ),
    ]
    return paragraphs


def _pdf_sentence(version, recipient: Recipient, attached: bool) -> tuple[str, str]:
    if attached:
        return f"The PDF is attached ({version.filename}).", ""
    download = _url("reports:version_pdf", version, f"v{version.number}.pdf")
    if not recipient.attach_pdf:
        return "You asked for the PDF as a link, not an attachment:", download
    megabytes = (version.pdf_bytes or 0) / 1024 / 1024
    limit = max_attachment_bytes() / 1024 / 1024
    return (
        f"The PDF is linked, not attached, because of its size ({megabytes:.1f} MB; mails "
        f"carry at most {limit:.1f} MB):",
        download,
    )


def _html(paragraphs: list[tuple[str, str]]) -> str:
    # format_html escapes every value: names, summaries and reasons are people's free text.
    return format_html_join(
        "\n",
        "<p>{}</p>",
        (
            (format_html('{} <a href="{}">{}</a>', text, link, link) if link else text,)
            for text, link in paragraphs
        ),
    )


def _url(name: str, version: ReportVersion, tail: str) -> str:
    """An absolute link to a version's page or PDF."""
    args = [version.report_id, version.number]
    return settings.SITE_URL + _path(name, args, f"/reports/{version.report_id}/{tail}")


def _verify_url() -> str:
    return settings.SITE_URL + _path("reports:verify", [], "/verify/")


def _path(name: str, args: list, fallback: str) -> str:
    # The reports' URLs may not be wired into a deployment's urlconf; their paths are stable.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback
