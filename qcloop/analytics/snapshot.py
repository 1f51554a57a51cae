"""The monthly program snapshot by email: a buyer's dashboard for one calendar month (headline
figures with the change on the month before, trend flags, the defect trend) as an HTML and text
mail, with every table of the dashboard attached as one XLSX workbook.

It goes to the buyer's report recipients (the list on the recipients page; without a list, the
buyer's own people: `reports.selectors.recipients_of`), one mail per address. The figures are
the buyer's whole program, read in the buyer's time zone: the mail is for the buyer, whoever
asked for it to go.

`send_monthly_snapshots` (the `send_monthly_snapshots` command, run daily from cron) sends last
month's snapshot to every buyer once. The monthly `SnapshotSend` row is the claim: one insert
wins per buyer and month, whatever the number of cron jobs racing; a failed send is taken up
again by the next run, which mails only the addresses that have not had it. A snapshot of a
completed month already sent from the dashboard counts as sent."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from qcloop.accounts.models import Organisation, OrganisationKind
from qcloop.reports.selectors import recipients_of

from .dashboard import (
    HEADLINE_FIGURES,
    Dashboard,
    Scope,
    _figure,
    add_months,
    month_filters,
    month_start,
)
from .exports import FORMATS, to_xlsx
from .models import SnapshotSend, SnapshotStatus, SnapshotTrigger

log = logging.getLogger("qcloop.analytics")

# A claim older than this belongs to a run that died mid-send: it may be taken over.
CLAIM_EXPIRES = timedelta(minutes=30)
# The mail's lists: the strongest flags, the suppliers with the most units.
MAIL_ROWS = 10


@dataclass(frozen=True)
class Snapshot:
    buyer: Organisation
    month: date
    subject: str
    text: str
    html: str
    xlsx: bytes

    @property
    def filename(self) -> str:
        return f"qcloop-snapshot-{self.month:%Y-%m}.xlsx"


def build_snapshot(buyer: Organisation, month: date) -> Snapshot:
    """The snapshot of `buyer`'s program for the calendar month starting `month`."""
    with timezone.override(ZoneInfo(buyer.timezone)):
        board = Dashboard(Scope.of_buyer(buyer), month_filters(month), limit=None)
        context = _context(board, buyer, month)
        text = render_to_string("analytics/snapshot_email.txt", context)
        html = render_to_string("analytics/snapshot_email.html", context)
        xlsx = to_xlsx(board.tables())
    subject = f"[qcloop] {buyer.name}: program snapshot for {month:%B %Y}"
    return Snapshot(buyer, month, subject, text, html, xlsx)


def _context(board: Dashboard, buyer: Organisation, month: date) -> dict:
    now, before = board.headline, board.previous
    figures = []
    for label, key in HEADLINE_FIGURES:
        value, previous = _figure(now, key), _figure(before, key)
        change = None if value is None or previous is None else round(value - previous, 2)
        figures.append({"label": label, "value": value, "previous": previous, "change": change})
    link = f"{settings.SITE_URL}{reverse('analytics:dashboard')}?period={month:%Y-%m}"
    return {
        "buyer": buyer,
        "month": month,
        "previous_month": add_months(month, -1),
        "figures": figures,
        "headline": now,
        "flags": board.flags.rows[:MAIL_ROWS],
        "flag_count": board.flags.total,
        "suppliers": board.supplier_totals.rows[:MAIL_ROWS],
        "supplier_count": board.supplier_totals.total,
        "stages": board.stages,
        "link": link,
    }


def recipients(buyer: Organisation) -> list[str]:
    """The buyer's report recipients, each address once whatever its case."""
    unique: dict[str, str] = {}
    for email, _name, _attach in recipients_of(buyer):
        email = email.strip()
        if email:
            unique.setdefault(email.lower(), email)
    return list(unique.values())


def send_snapshot(
    buyer: Organisation, month: date, *, requested_by=None, record: SnapshotSend | None = None
) -> SnapshotSend:
    """Build and mail the month's snapshot now; a send from the dashboard (`requested_by`) gets
    a row of its own, the monthly run passes the row it claimed. Returns the row, with the
    addresses that accepted the mail and the last error."""
    if record is None:
        record = SnapshotSend.objects.create(
            buyer=buyer,
            month=month,
            trigger=SnapshotTrigger.MANUAL,
            status=SnapshotStatus.SENDING,
            requested_by=requested_by,
            attempts=1,
        )
    record.recipients = recipients(buyer)
    delivered = {address.lower() for address in record.delivered}
    pending = [e for e in record.recipients if e.lower() not in delivered]
    errors = []
    if pending:
        snapshot = build_snapshot(buyer, month)
        for address in pending:
            try:
                _mail(snapshot, address).send(using="default")
            except (OSError, ValueError) as error:  # smtplib's errors are OSErrors
                errors.append(f"{address}: {type(error).__name__}: {error}")
                continue
            record.delivered = [*record.delivered, address]
    record.error = "; ".join(errors)
    record.status = SnapshotStatus.FAILED if errors else SnapshotStatus.SENT
    record.sent_at = timezone.now()
    record.save(update_fields=["recipients", "delivered", "error", "status", "sent_at"])
    if errors:
        log.warning("snapshot of %s for %s: %s", buyer, month, record.error)
    return record


def _mail(snapshot: Snapshot, address: str) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=snapshot.subject,
        body=snapshot.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )
    message.attach_alternative(snapshot.html, "text/html")
    message.attach(snapshot.filename, snapshot.xlsx, FORMATS["xlsx"])
    return message


# --- the monthly run -------------------------------------------------------------------------


def last_month(buyer: Organisation, now=None) -> date:
    """The calendar month before the buyer's today."""
    today = timezone.localtime(now or timezone.now(), ZoneInfo(buyer.timezone)).date()
    return add_months(month_start(today), -1)


def send_monthly_snapshots(now=None) -> list[SnapshotSend]:
    """Last month's snapshot to every buyer that has not had it. Safe to run daily and from
    several machines at once: each buyer and month is claimed once (see the module's note)."""
    sent = []
    for buyer in Organisation.objects.filter(kind=OrganisationKind.BUYER).order_by("pk"):
        month = last_month(buyer, now)
        if _sent_from_dashboard(buyer, month):
            continue
        record = _claim(buyer, month)
        if record is not None:
            sent.append(send_snapshot(buyer, month, record=record))
    return sent


def _sent_from_dashboard(buyer: Organisation, month: date) -> bool:
    """Someone already sent this month's snapshot to everyone, after the month was over."""
    with timezone.override(ZoneInfo(buyer.timezone)):
        over = timezone.make_aware(datetime.combine(add_months(month, 1), time.min))
    return SnapshotSend.objects.filter(
        buyer=buyer,
        month=month,
        trigger=SnapshotTrigger.MANUAL,
        status=SnapshotStatus.SENT,
        claimed_at__gte=over,
    ).exists()


def _claim(buyer: Organisation, month: date) -> SnapshotSend | None:
    """This run's right to send the buyer's monthly snapshot: the row inserted (one insert
    wins), or a failed or abandoned one taken over by a conditional update (one update wins).
    None when it was sent, or another run is sending it."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return SnapshotSend.objects.create(
                buyer=buyer,
                month=month,
                trigger=SnapshotTrigger.MONTHLY,
                status=SnapshotStatus.SENDING,
                claimed_at=now,
                attempts=1,
            )
    except IntegrityError:
        pass
    takeable = Q(status=SnapshotStatus.FAILED) | Q(
        status=SnapshotStatus.SENDING, claimed_at__lt=now - CLAIM_EXPIRES
    )
    row = SnapshotSend.objects.filter(buyer=buyer, month=month, trigger=SnapshotTrigger.MONTHLY)
    if row.filter(takeable).update(
        status=SnapshotStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    ):
        return row.get()
    return None
