"""The monthly snapshot email, through a real SMTP server on loopback: who gets it, what it
says, the XLSX attached, and never twice for the same buyer and month."""

import io
from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from qcloop.accounts.models import Role
from qcloop.analytics.models import SnapshotSend, SnapshotStatus, TrendFlag
from qcloop.analytics.snapshot import send_monthly_snapshots
from qcloop.reports.models import ReportRecipient
from qcloop.reports.tests.mails import attachments_of, html_of, mail_count, received, text_of

from .test_dashboard import LAST_MONTH, program, tally  # noqa: F401  (program: a fixture)

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def recipients(program):  # noqa: F811
    buyer = program["world"].buyer
    for email, name in [("qa@buyer-a.example", "QA desk"), ("ceo@buyer-a.example", "CEO")]:
        ReportRecipient.objects.create(buyer=buyer, email=email, name=name)
    return ["ceo@buyer-a.example", "qa@buyer-a.example"]


def test_the_monthly_run_mails_last_months_snapshot_to_the_report_recipients(
    program,  # noqa: F811
    recipients,
    smtp_server,
):
    world = program["world"]
    TrendFlag.objects.create(
        buyer=world.buyer,
        po=program["p3"].po,
        supplier=program["second"],
        milestone=program["p3"].milestones["PSI"],
        defect_class="major",
        escalating=True,
        p_value=0.004,
        probability=0.99,
        strength="strong",
        explanation="Majors rose from 0.5 to 3.0 per 100.",
        raised_at=timezone.make_aware(datetime.combine(LAST_MONTH.replace(day=26), time(9))),
    )
    out = io.StringIO()
    call_command("send_monthly_snapshots", stdout=out)
    assert "Buyer A Ltd" in out.getvalue() and "sent to 2 of 2 recipients" in out.getvalue()
    # Only the buyer with recipients and data: the other buyers of the test database are
    # none here; each address gets one mail of its own.
    assert mail_count(smtp_server) == dict.fromkeys(recipients, 1)
    mail = received(smtp_server)["qa@buyer-a.example"]
    assert mail["Subject"] == f"[qcloop] Buyer A Ltd: program snapshot for {LAST_MONTH:%B %Y}"
    assert mail["To"] == "qa@buyer-a.example"
    text = text_of(mail)
    # The month: 280 units, 8 majors (2.86 per 100); the month before: 325 units, 4 majors.
    assert "Major defects per 100 units: 2.86 (was 1.23 in" in text
    assert "Units inspected: 280 (was 325 in" in text
    assert "Majors rose from 0.5 to 3.0 per 100." in text
    assert "Second Lamps Ltd: 1 inspection, 200 units, major 3.0 per 100" in text
    assert f"/dashboard/?period={LAST_MONTH:%Y-%m}" in text
    html = html_of(mail)
    assert "<strong>2.86</strong>" in html and "+1.63" in html
    [attachment] = attachments_of(mail)
    assert attachment.get_content_type() == XLSX
    assert attachment.get_filename() == f"qcloop-snapshot-{LAST_MONTH:%Y-%m}.xlsx"
    book = load_workbook(io.BytesIO(attachment.get_content()))
    headline = {row[0]: row for row in book["Headline figures"].iter_rows(values_only=True)}
    assert headline["Units inspected"][1:] == (280, 325, -45)
    assert book["Trend flags"]["G2"].value == "strong"
    record = SnapshotSend.objects.get()
    assert (record.month, record.status, sorted(record.delivered)) == (
        LAST_MONTH,
        SnapshotStatus.SENT,
        recipients,
    )
    # The next day's run: nothing more.
    smtp_server.messages.clear()
    assert send_monthly_snapshots(now=timezone.now() + timedelta(days=1)) == []
    assert smtp_server.messages == []
    out = io.StringIO()
    call_command("send_monthly_snapshots", stdout=out)
    assert "Nothing to send" in out.getvalue() and smtp_server.messages == []


def test_without_a_recipient_list_the_buyers_people_get_it(world, smtp_server):
    tally(world.milestones["DUPRO"], LAST_MONTH.replace(day=4), 125, major=1)
    [record] = send_monthly_snapshots()
    people = {world.user(Role.BUYER_VIEWER).email, world.user(Role.BUYER_MANAGER).email}
    assert set(record.delivered) == people
    # Every buyer organisation is sent its snapshot; the agency's and supplier's people never.
    assert set(mail_count(smtp_server)) == people


def test_a_refused_address_is_tried_again_alone_on_the_next_run(
    program,  # noqa: F811
    recipients,
    smtp_server,
):
    smtp_server.refused.add("ceo@buyer-a.example")
    [record] = send_monthly_snapshots()
    assert record.status == SnapshotStatus.FAILED
    assert record.delivered == ["qa@buyer-a.example"]
    assert "ceo@buyer-a.example" in record.error
    smtp_server.refused.clear()
    smtp_server.messages.clear()
    [again] = send_monthly_snapshots()
    assert again.pk == record.pk and again.status == SnapshotStatus.SENT and again.attempts == 2
    assert mail_count(smtp_server) == {"ceo@buyer-a.example": 1}
    assert send_monthly_snapshots() == []


def test_a_claim_held_by_another_run_is_left_alone(program, recipients, smtp_server):  # noqa: F811
    buyer = program["world"].buyer
    SnapshotSend.objects.create(
        buyer=buyer, month=LAST_MONTH, trigger="monthly", status=SnapshotStatus.SENDING
    )
    assert send_monthly_snapshots() == []
    assert smtp_server.messages == []
    # Abandoned (a run that died mid-send): taken over.
    SnapshotSend.objects.update(claimed_at=timezone.now() - timedelta(hours=1))
    [record] = send_monthly_snapshots()
    assert record.status == SnapshotStatus.SENT and len(smtp_server.messages) == 2


def test_a_manager_sends_a_snapshot_from_the_dashboard(program, recipients, smtp_server):  # noqa: F811
    world = program["world"]
    client = Client()
    client.force_login(world.user(Role.BUYER_MANAGER))
    month = f"{LAST_MONTH:%Y-%m}"
    page = client.get(f"/dashboard/?period={month}").content.decode()
    assert 'id="snapshot-form"' in page
    response = client.post("/dashboard/snapshot/", {"period": month}, follow=True)
    assert f"Snapshot of {LAST_MONTH:%B %Y} sent to 2 recipients of Buyer A Ltd." in (
        response.content.decode()
    )
    assert mail_count(smtp_server) == dict.fromkeys(recipients, 1)
    # Sent after the month ended: the monthly run does not send it again.
    assert send_monthly_snapshots() == []
    assert len(smtp_server.messages) == 2


def test_a_coordinator_sends_the_snapshot_of_their_client(program, recipients, smtp_server):  # noqa: F811
    client = Client()
    client.force_login(program["world"].user(Role.COORDINATOR))
    response = client.post("/dashboard/snapshot/", {"period": f"{LAST_MONTH:%Y-%m}"})
    assert response.status_code == 302
    assert mail_count(smtp_server) == dict.fromkeys(recipients, 1)


@pytest.mark.parametrize("role", [Role.BUYER_VIEWER, Role.QC_LEAD, Role.INSPECTOR])
def test_others_cannot_send_it(program, recipients, smtp_server, role):  # noqa: F811
    client = Client()
    client.force_login(program["world"].user(role))
    response = client.post("/dashboard/snapshot/", {"period": f"{LAST_MONTH:%Y-%m}"})
    assert response.status_code == 404 and smtp_server.messages == []
    if role == Role.BUYER_VIEWER:
        page = client.get(f"/dashboard/?period={LAST_MONTH:%Y-%m}").content.decode()
        assert 'id="snapshot-form"' not in page


def test_a_bad_or_missing_month_sends_nothing(program, recipients, smtp_server):  # noqa: F811
    client = Client()
    client.force_login(program["world"].user(Role.BUYER_MANAGER))
    response = client.post("/dashboard/snapshot/", {"period": "2025-13"}, follow=True)
    assert "period: &#x27;2025-13&#x27; is not a calendar month" in response.content.decode()
    response = client.post("/dashboard/snapshot/", {}, follow=True)
    assert "period: choose a month (YYYY-MM) to send its snapshot." in response.content.decode()
    assert smtp_server.messages == [] and not SnapshotSend.objects.exists()
