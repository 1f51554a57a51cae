"""Distribution of a published report version by email: to the buyer's recipients (and the
supplier's people when the buyer shares its reports with suppliers), the PDF attached when it
fits in a mail and the recipient wants it, linked otherwise (a signed link that works without
an account, see links.py), each mail recorded as a Delivery.

Nobody has to ask for it: publishing queues the PDF's rendering (tasks.render_report_pdf),
which queues `distribute` (tasks.distribute_report_version) once the PDF exists. Failed mails
are tried again by the sweeper (`retry_due`, registered in sweeps.py) with a growing delay.

Each address is mailed once per version, however many workers and sweepers run. The Delivery
row is the claim: before a mail goes out, its row is inserted as `sending` (the unique
constraint on version and address lets one insert win) or moved to `sending` from `failed` by a
conditional update (one update wins). Only the winner talks to the mail server, and afterwards
records `sent` or `failed` on the row it claimed. A claim older than CLAIM_EXPIRES is taken to
be a crashed worker's and may be claimed again. That is the one case where a mail can go twice:
a worker that dies after the mail server accepted the mail but before it recorded `sent`
leaves a claim that looks abandoned, and the address is mailed again. So: exactly once while
workers live, at least once when they crash.

Call these from a background task or the sweeper, outside any transaction: a claim must be
committed, and so seen by the other workers, before its mail goes out."""

import hashlib
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from . import links
from .models import Delivery, DeliveryStatus, ReportVersion
from .selectors import recipients_of

log = logging.getLogger("qcloop.reports")

DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Far longer than one mail can take (the SMTP timeout is 20 s per command): a claim this old
# belongs to a worker that died, not to one still talking to the mail server.
CLAIM_EXPIRES = timedelta(minutes=10)
# The wait after the 1st, 2nd, ... failed attempt. After the last one qcloop gives up on the
# address and keeps the row as failed, with its error, for people to see.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
RETRY_BATCH = 200


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
    Delivery. Idempotent: addresses this version was already sent to (or is being sent to by
    another worker right now) are skipped, failed ones are tried again at once whatever their
    retry time. Returns the deliveries this call made."""
    version = _fresh(version)
    _require_pdf(version)
    sent = set(
        version.deliveries.filter(status=DeliveryStatus.SENT)
        .annotate(address=Lower("email"))
        .values_list("address", flat=True)
    )
    pending = [r for r in recipients_for(version) if r.email.lower() not in sent]
    pdf = _attachment(version) if any(r.attach_pdf for r in pending) else None
    # No transaction around the loop: each claim and each outcome is committed on its own, so
    # that other workers see them at once and a crash mid-batch loses at most one record.
    # A failing mail server does not stop the loop (as it stops the sweeper's): every address
    # must get its row now, failed if need be, or the sweeper would never know to retry it.
    made = []
    for recipient in pending:
        claim = _claim(version, recipient.email)
        if claim is not None:
            made.append(_deliver(version, recipient, pdf, claim)[0])
    return made


def retry_due(now: datetime | None = None) -> int:
    """The sweeper's part: try again the failed deliveries whose time has come and take over
    claims abandoned by crashed workers. Safe with several sweepers at once: each delivery is
    claimed before it is sent, and a delivery claimed by another is skipped. Returns how many
    were tried.

    When the mail server itself fails (unreachable, timing out, refusing the session), the pass
    stops: the others would wait for the same timeout and fail alike, while the sweeper has
    other deadlines to keep. They stay due and go out on a later pass, once it answers."""
    now = now or timezone.now()
    abandoned = Q(status=DeliveryStatus.SENDING, claimed_at__lt=timezone.now() - CLAIM_EXPIRES)
    due = Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
    rows = list(
        Delivery.objects.filter(abandoned | due)
        .order_by(F("next_attempt_at").asc(nulls_first=True), "pk")
        .values_list("version_id", "email")[:RETRY_BATCH]
    )
    by_version: dict[int, list[str]] = defaultdict(list)
    for version_id, email in rows:
        by_version[version_id].append(email)
    tried = 0
    for version_id, emails in by_version.items():
        count, server_down = _retry_version(version_id, emails, now)
        tried += count
        if server_down:
            log.warning("the mail server fails: the deliveries still due wait for the next pass")
            break
    return tried


def _retry_version(version_id: int, emails: list[str], now: datetime) -> tuple[int, bool]:
    try:
        version = _fresh(ReportVersion(pk=version_id))
    except ReportVersion.DoesNotExist:
        return 0, False  # deleted meanwhile, and its deliveries with it
    current = {r.email.lower(): r for r in recipients_for(version)}
    wanted = [current[e.lower()] for e in emails if e.lower() in current]
    unusable = ""
    try:
        pdf = _attachment(version) if any(r.attach_pdf for r in wanted) else None
    except ValueError as error:
        # A stored PDF that fails its hash is recorded on each delivery (and retried, in case
        # the storage recovers) instead of failing the sweep and starving every other version.
        pdf, unusable = None, str(error)
    tried = 0
    for email in emails:
        claim = _claim(version, email, due_by=now)
        if claim is None:
            continue  # another sweeper or worker has it, or it went meanwhile
        tried += 1
        recipient = current.get(email.lower())
        if unusable:
            _finish(claim, attached=False, error=unusable)
            continue
        if recipient is None:
            # Taken off the buyer's list (or sharing with suppliers stopped) since the first
            # attempt: the buyer's wish as it is now counts, so no more attempts.
            error = "Not sent: no longer among the recipients of this report."
            _finish(claim, attached=False, error=error, retry=False)
            continue
        _delivery, server_down = _deliver(version, recipient, pdf, claim)
        if server_down:
            return tried, True
    return tried, False


def _fresh(version: ReportVersion) -> ReportVersion:
    # From the database, not the caller's instance: the buyer's sharing choice may have
    # changed since the task was queued.
    return ReportVersion.objects.select_related(
        "report__po__buyer", "report__po__supplier__organisation", "report__milestone"
    ).get(pk=version.pk)


def _require_pdf(version: ReportVersion) -> None:
    if not version.pdf:
        raise ValueError(
            f"{version} has no PDF yet: render it (services.ensure_pdf) before distributing."
        )


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


# --- the claim -------------------------------------------------------------------------------


def _claim(version: ReportVersion, email: str, due_by: datetime | None = None):
    """This worker's right to mail `email` the version, as its Delivery row now `sending`; None
    when it is not to be mailed now: sent already, being sent by another worker, or (for the
    sweeper, `due_by` given) failed but not due yet.

    The claim is one statement that succeeds for one caller only, whatever the interleaving: an
    UPDATE whose WHERE names the states that may be claimed (the database re-checks it on the
    row it locks, so a second UPDATE finds the row `sending` and changes nothing), or an INSERT
    that the unique constraint on (version, lower(email)) lets through once."""
    now = timezone.now()
    claimable = Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - CLAIM_EXPIRES)
    if due_by is None:
        claimable |= Q(status=DeliveryStatus.FAILED)
    else:
        claimable |= Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=due_by)
    row = Delivery.objects.filter(version=version).alias(address=Lower("email"))
    row = row.filter(address=email.lower())
    claimed = row.filter(claimable).update(
        status=DeliveryStatus.SENDING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
    )
    if claimed:
        return row.get()
    if due_by is not None:
        return None  # the sweeper only retries rows that exist
    try:
        with transaction.atomic():  # a savepoint: the losing INSERT must not spoil a caller's
            return Delivery.objects.create(
                version=version,
                email=email,
                status=DeliveryStatus.SENDING,
                claimed_at=now,
                attempts=1,
            )
    except IntegrityError:
        return None  # the row exists: sent, or claimed by another worker a moment ago


def _finish(claim: Delivery, *, attached: bool, error: str, retry: bool = True) -> Delivery:
    """Record how the claimed attempt went, on the row only while the claim is still ours."""
    now = timezone.now()
    claim.status = DeliveryStatus.FAILED if error else DeliveryStatus.SENT
    claim.attached = attached  # as the mail was (or would have been) sent
    claim.error = error
    claim.sent_at = now
    claim.next_attempt_at = None
    if error and retry and claim.attempts < MAX_ATTEMPTS:
        claim.next_attempt_at = now + RETRY_DELAYS[claim.attempts - 1]
    elif error:
        log.warning("gave up mailing %s to %s: %s", claim.version_id, claim.email, error)
    fields = ["status", "attached", "error", "sent_at", "next_attempt_at"]
    ours = Delivery.objects.filter(
        pk=claim.pk, status=DeliveryStatus.SENDING, claimed_at=claim.claimed_at
    )
    if not ours.update(**{name: getattr(claim, name) for name in fields}):
        # Presumed dead and taken over: the other worker's outcome is the one recorded.
        log.warning("claim on %s was taken over before it finished", claim)
    return claim


# --- one mail ----------------------------------------------------------------------------------

# Failures of this one mail; anything else that goes wrong is the mail server's.
_MAIL_FAILURES = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, ValueError)


def _deliver(version, recipient: Recipient, pdf: bytes | None, claim: Delivery):
    """Send the claimed mail and record the outcome. Returns the delivery and whether the mail
    server itself failed (rather than this address or this mail)."""
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
        delivery = _finish(claim, attached=attached, error=_describe(error))
        return delivery, not isinstance(error, _MAIL_FAILURES)
    return _finish(claim, attached=attached, error=""), False


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
    word = _decision(version.content)
    return f"[qcloop] {title}: PO {report.po.number}{f' — {word}' if word else ''}"


def _decision(content: dict) -> str:
    """What the buyer acts on, in a few words: a milestone's verdict; for the PO summary,
    the recommendation for the supplier's next PO."""
    if content.get("kind") == "po_summary":
        return f"next PO: {content['recommendation']['title']}"
    result = (content.get("verdict") or {}).get("result")
    return result.upper() if result else ""


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
    if version.content.get("kind") == "po_summary":
        recommendation = version.content["recommendation"]
        paragraphs.append((f"Recommendation for the next PO: {recommendation['title']}.", ""))
    elif verdict.get("result"):
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
    download = pdf_link(version, recipient.email)
    days = links.link_days()
    if not recipient.attach_pdf:
        return (
            f"You asked for the PDF as a link, not an attachment (no sign-in needed; the link "
            f"works for {days} days):",
            download,
        )
    megabytes = (version.pdf_bytes or 0) / 1024 / 1024
    limit = max_attachment_bytes() / 1024 / 1024
    return (
        f"The PDF is linked, not attached, because of its size ({megabytes:.1f} MB; mails "
        f"carry at most {limit:.1f} MB; no sign-in needed, the link works for {days} days):",
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


def pdf_link(version: ReportVersion, email: str) -> str:
    """The signed link that gives this recipient the version's PDF without an account."""
    token = links.pdf_token(version, email)
    return settings.SITE_URL + _path("reports:linked_pdf", [token], f"/reports/pdf/{token}/")


def _verify_url() -> str:
    return settings.SITE_URL + _path("reports:verify", [], "/verify/")


def _path(name: str, args: list, fallback: str) -> str:
    # The reports' URLs may not be wired into a deployment's urlconf; their paths are stable.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback
