"""Publishing a report mails it with nobody pressing a button, once per address whatever runs
at the same time, again after the mail server was down, and with a signed link that works
without an account. Everything real: the worker, the sweeper's sweep, threads with their own
database connections, and an SMTP server on loopback (the root conftest's `smtp_server`)."""

import hashlib
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qcloop.accounts.models import Role
from qcloop.accounts.services import create_api_token
from qcloop.core.sweeper import registered_sweeps, sweep_once
from qcloop.reports import distribution, links
from qcloop.reports.distribution import distribute, retry_due
from qcloop.reports.models import Delivery, Report
from qcloop.reports.services import add_recipient, approve, remove_recipient, share_with_suppliers
from qcloop.testing import submit_inspection_of

from .mails import attachments_of, deliveries, mail_count, pdf_link_in, publish, received

BUYERS = ["ana@buyer.example", "bo@buyer.example"]


def listed(world, *emails, attach_pdf=True):
    for address in emails:
        add_recipient(world.buyer, {"email": address, "attach_pdf": attach_pdf})


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused, as with a server that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_down(settings) -> dict:
    """Point the mail at a closed port; returns the working configuration, to restore."""
    working = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 10},
        }
    }
    return working


def at_once(*calls):
    """Run the calls in threads released together, each with its own database connection, as
    separate workers would; their results in order."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


# --- publishing is enough ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_publishing_a_report_mails_its_pdf_to_every_recipient(world, smtp_server, run_worker):
    listed(world, *BUYERS)
    psi = submit_inspection_of(world, "PSI", defects=[("major", 2, "Shade scratched")])
    report = Report.objects.get(milestone=psi)
    run_worker()  # the QC lead's and the inspector's mails of the PO and its booking
    smtp_server.messages.clear()

    version = approve(by=world.qc_lead, report=report, lead_summary="Ship after rework.")
    assert smtp_server.messages == []  # the request only queued the work
    run_worker()

    version.refresh_from_db()
    assert version.pdf_sha256
    mails = received(smtp_server)
    assert mail_count(smtp_server) == dict.fromkeys(BUYERS, 1)
    for address in BUYERS:
        assert mails[address]["Subject"].startswith(f"[qcloop] PSI report: PO {world.po.number}")
        [attachment] = attachments_of(mails[address])
        assert hashlib.sha256(attachment.get_content()).hexdigest() == version.pdf_sha256
    assert {(d.status, d.attached, d.attempts) for d in deliveries(version).values()} == {
        ("sent", True, 1)
    }

    run_worker()  # nothing left to do, and nothing goes twice
    assert mail_count(smtp_server) == dict.fromkeys(BUYERS, 1)


@pytest.mark.django_db(transaction=True)
def test_a_version_corrected_before_it_went_out_is_not_mailed(world, smtp_server, run_worker):
    from qcloop.reports.services import open_correction, publish_correction

    listed(world, *BUYERS)
    psi = submit_inspection_of(world, "PSI", defects=[("major", 2, "Shade scratched")])
    report = Report.objects.get(milestone=psi)
    run_worker()
    smtp_server.messages.clear()
    first = approve(by=world.qc_lead, report=report)
    open_correction(by=world.qc_lead, report=report, reason="Wrong carton count.")
    second = publish_correction(by=world.qc_lead, report=report)
    run_worker()  # both versions' tasks run now: only the current one is mailed

    assert mail_count(smtp_server) == dict.fromkeys(BUYERS, 1)
    assert deliveries(first) == {}
    assert {d.status for d in deliveries(second).values()} == {"sent"}
    assert "(corrected, v2)" in received(smtp_server)[BUYERS[0]]["Subject"]


# --- exactly once ------------------------------------------------------------------------------


def claimed(version, email: str, at, attempts: int = 1) -> Delivery:
    """A delivery another worker is sending (or was, when `at` is long past)."""
    return Delivery.objects.create(
        version=version, email=email, status="sending", claimed_at=at, attempts=attempts
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_distributing_at_once_mail_each_address_once(world, version, smtp_server):
    addresses = [f"person{n}@buyer.example" for n in range(12)]
    listed(world, *addresses)

    first, second = at_once(lambda: distribute(version), lambda: distribute(version))

    assert mail_count(smtp_server) == dict.fromkeys(addresses, 1)
    # Each address was claimed by one of the two, and the two together covered the list.
    claimed = [d.email for d in first] + [d.email for d in second]
    assert sorted(claimed) == sorted(addresses)
    assert {(d.status, d.attempts) for d in deliveries(version).values()} == {("sent", 1)}


def test_an_address_is_claimed_whatever_its_case(world, version, smtp_server):
    listed(world, "ana@buyer.example")
    # Another worker is mailing the address as another list spelled it (a user's own email).
    claimed(version, "Ana@Buyer.Example", timezone.now())

    assert distribute(version) == []
    assert smtp_server.messages == []
    assert Delivery.objects.filter(version=version).count() == 1


def test_an_abandoned_claim_is_taken_over_and_a_live_one_is_left_alone(world, version, smtp_server):
    listed(world, *BUYERS)
    now = timezone.now()
    # ana's worker died mid-mail eleven minutes ago; bo's is talking to the server right now.
    claimed(version, "ana@buyer.example", now - distribution.CLAIM_EXPIRES - timedelta(minutes=1))
    claimed(version, "bo@buyer.example", now)

    [taken_over] = distribute(version)
    assert retry_due() == 0  # the sweeper leaves the live claim alone too

    assert mail_count(smtp_server) == {"ana@buyer.example": 1}
    assert (taken_over.email, taken_over.status, taken_over.attempts) == (
        "ana@buyer.example",
        "sent",
        2,
    )
    assert deliveries(version)["bo@buyer.example"].status == "sending"


def test_the_sweeper_takes_over_an_abandoned_claim(world, version, smtp_server):
    listed(world, "ana@buyer.example")
    abandoned = timezone.now() - distribution.CLAIM_EXPIRES - timedelta(minutes=1)
    claimed(version, "ana@buyer.example", abandoned)

    assert retry_due() == 1

    assert mail_count(smtp_server) == {"ana@buyer.example": 1}
    assert deliveries(version)["ana@buyer.example"].status == "sent"


# --- retries -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_mails_held_up_by_a_dead_server_go_once_it_is_back(world, version, smtp_server, settings):
    listed(world, *BUYERS)
    working = server_down(settings)

    made = distribute(version)

    assert smtp_server.messages == []
    assert [(d.status, d.attempts) for d in made] == [("failed", 1), ("failed", 1)]
    for delivery in made:
        assert "ConnectionRefusedError" in delivery.error
        assert delivery.next_attempt_at - delivery.sent_at == distribution.RETRY_DELAYS[0]
    soon = timezone.now() + timedelta(minutes=2)
    assert retry_due() == 0  # not due yet

    # Still down a couple of minutes later: the sweep stops at the first failure instead of
    # waiting out the server's timeout for every address.
    assert retry_due(now=soon) == 1
    assert sorted(d.attempts for d in deliveries(version).values()) == [1, 2]
    retried = max(deliveries(version).values(), key=lambda d: d.attempts)
    assert retried.next_attempt_at - retried.sent_at == distribution.RETRY_DELAYS[1]

    # Back an hour later, with two sweepers running: each address gets one mail.
    settings.MAILERS = working
    later = timezone.now() + timedelta(hours=1)
    first, second = at_once(lambda: retry_due(now=later), lambda: retry_due(now=later))

    assert first + second == 2
    assert mail_count(smtp_server) == dict.fromkeys(BUYERS, 1)
    went = deliveries(version)
    assert {(d.status, d.error, d.next_attempt_at) for d in went.values()} == {("sent", "", None)}
    assert retry_due(now=later + timedelta(days=1)) == 0
    assert mail_count(smtp_server) == dict.fromkeys(BUYERS, 1)


def test_the_sweeper_retries_what_is_due(world, version, smtp_server):
    listed(world, "ana@buyer.example")
    smtp_server.refused.add("ana@buyer.example")
    [failed] = distribute(version)
    smtp_server.refused.clear()
    assert "report deliveries to retry" in registered_sweeps()

    # The minute of waiting has passed.
    Delivery.objects.filter(pk=failed.pk).update(next_attempt_at=timezone.now())
    results = sweep_once()

    assert results["report deliveries to retry"] == 1
    assert mail_count(smtp_server) == {"ana@buyer.example": 1}
    assert deliveries(version)["ana@buyer.example"].status == "sent"


def test_a_failing_address_is_given_up_after_eight_attempts(world, version, smtp_server):
    listed(world, "ghost@buyer.example")
    smtp_server.refused.add("ghost@buyer.example")
    distribute(version)
    waits = []

    for _ in range(distribution.MAX_ATTEMPTS):
        ghost = deliveries(version)["ghost@buyer.example"]
        if ghost.next_attempt_at is None:
            break
        waits.append(ghost.next_attempt_at - ghost.sent_at)
        assert retry_due(now=ghost.next_attempt_at) == 1

    assert waits == list(distribution.RETRY_DELAYS)  # 1, 5, 15, 60 minutes, 2, 4, 8 hours
    ghost = deliveries(version)["ghost@buyer.example"]
    assert (ghost.status, ghost.attempts, ghost.given_up) == ("failed", 8, True)
    assert "550 no such user" in ghost.error  # kept, for people to see why
    assert retry_due(now=timezone.now() + timedelta(days=365)) == 0
    assert smtp_server.messages == []


def test_an_address_taken_off_the_list_is_not_retried(world, version, smtp_server):
    listed(world, *BUYERS)
    smtp_server.refused.add("bo@buyer.example")
    distribute(version)
    smtp_server.refused.clear()
    bo = world.buyer.report_recipients.get(email="bo@buyer.example")
    remove_recipient(world.buyer, bo.pk)

    assert retry_due(now=timezone.now() + timedelta(hours=1)) == 1

    assert mail_count(smtp_server) == {"ana@buyer.example": 1}
    bo = deliveries(version)["bo@buyer.example"]
    assert bo.given_up and "no longer among the recipients" in bo.error


# --- the signed link ---------------------------------------------------------------------------


class Backdated(signing.TimestampSigner):
    """The links' signer as it was `days` ago: the token of a mail sent back then."""

    def __init__(self, days: int):
        super().__init__(salt=links.SALT)
        self.days = days

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - self.days * 24 * 3600)


def linked_pdf_url(token: str) -> str:
    return reverse("reports:linked_pdf", args=[token])


@pytest.fixture
def linked_mail(world, version, smtp_server, settings):
    """An oversized PDF, so linked in the mail to ana; the mail's link as a path."""
    settings.QCLOOP_REPORT_ATTACH_MAX_BYTES = version.pdf_bytes - 1
    listed(world, "ana@buyer.example")
    distribute(version)
    link = pdf_link_in(received(smtp_server)["ana@buyer.example"])
    return link.removeprefix(settings.SITE_URL)


def test_the_signed_link_gives_the_linked_pdf_to_someone_without_an_account(version, linked_mail):
    response = Client().get(linked_mail)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "public" not in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == version.pdf_sha256


def test_a_tampered_link_is_404(world, report, version, pdf, linked_mail):
    token = linked_mail.rstrip("/").rsplit("/", 1)[1]
    payload, timestamp, signature = token.rsplit(":", 2)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    # Another version of the same report, its id put in the signed payload by hand.
    other = Report.objects.get(pk=report.pk).versions.create(
        number=2, content={}, content_sha256="0" * 64, published_by=world.qc_lead
    )
    forged_payload = signing.b64_encode(
        signing.JSONSerializer().dumps({"v": other.pk, "e": "ana@buyer.example"})
    ).decode()
    foreign = signing.TimestampSigner(salt="another.purpose").sign_object({"v": version.pk})

    for bad in [
        f"{payload}:{timestamp}:{flipped}",
        f"{forged_payload}:{timestamp}:{signature}",
        foreign,  # signed by us, but for something else
        "not-a-token",
    ]:
        assert Client().get(linked_pdf_url(bad)).status_code == 404, bad


def test_an_expired_link_is_404_and_the_setting_says_when(version, settings):
    old = links.pdf_token(version, "ana@buyer.example", using=Backdated(days=31))
    assert Client().get(linked_pdf_url(old)).status_code == 404  # the default: 30 days

    two_days_old = links.pdf_token(version, "ana@buyer.example", using=Backdated(days=2))
    assert Client().get(linked_pdf_url(two_days_old)).status_code == 200
    settings.QCLOOP_REPORT_LINK_DAYS = 1
    assert Client().get(linked_pdf_url(two_days_old)).status_code == 404


def test_a_link_to_a_version_that_is_gone_is_404(world, version, pdf):
    gone = publish(world, version.report, pdf, number=2)
    token = links.pdf_token(gone, "ana@buyer.example")
    gone.delete()

    assert Client().get(linked_pdf_url(token)).status_code == 404


# --- who sees the deliveries -------------------------------------------------------------------


@pytest.fixture
def mailed(world, version, smtp_server):
    """Version 1 sent to ana, refused for ghost."""
    listed(world, "ana@buyer.example", "ghost@buyer.example")
    smtp_server.refused.add("ghost@buyer.example")
    distribute(version)
    share_with_suppliers(world.buyer, True)  # so the supplier sees the report itself
    return version


@pytest.mark.parametrize("role", [Role.BUYER_VIEWER, Role.BUYER_MANAGER, Role.QC_LEAD])
def test_the_buyer_and_the_agency_see_the_deliveries_on_the_report_page(world, mailed, role):
    client = Client()
    client.force_login(world.user(role))

    page = client.get(reverse("reports:detail", args=[mailed.report_id])).content.decode()

    assert "ana@buyer.example" in page and "ghost@buyer.example" in page
    assert "550 no such user" in page
    assert "delivery-status-sent" in page and "delivery-status-failed" in page


def test_the_supplier_does_not_see_the_deliveries(world, mailed):
    client = Client()
    client.force_login(world.user(Role.SUPPLIER_USER))

    response = client.get(reverse("reports:detail", args=[mailed.report_id]))

    assert response.status_code == 200  # the report itself, shared with suppliers
    page = response.content.decode()
    assert "ana@buyer.example" not in page and "Email to" not in page


def test_the_api_counts_the_deliveries_for_the_buyer_only(world, mailed):
    def versions_as(role):
        _, token = create_api_token(user=world.user(role), name="test")
        response = Client().get(
            f"/api/reports/{mailed.report_id}", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 200
        return response.json()["versions"]

    [buyers] = versions_as(Role.BUYER_MANAGER)
    assert buyers["deliveries"] == {"sent": 1, "failed": 1, "sending": 0}
    [suppliers] = versions_as(Role.SUPPLIER_USER)
    assert suppliers["deliveries"] is None
