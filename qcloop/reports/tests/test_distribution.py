"""A published report reaches the buyer's recipients by email, through a real SMTP conversation
with a server on loopback (the root conftest's `smtp_server`), the PDF attached or linked."""

import hashlib

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.test import Client

from qcloop.accounts.models import Role
from qcloop.reports import distribution, links
from qcloop.reports.distribution import distribute
from qcloop.reports.models import Delivery
from qcloop.reports.services import add_recipient, share_with_suppliers

from .mails import (
    SUMMARY,
    attachments_of,
    deliveries,
    pdf_link_in,
    publish,
    received,
    text_of,
)


def opened(link: str) -> bytes:
    """What someone without an account gets from a link in a mail."""
    response = Client().get(link.removeprefix(django_settings.SITE_URL))
    assert response.status_code == 200, link
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content)


def claim_of(link: str) -> dict:
    token = link.rstrip("/").rsplit("/", 1)[1]
    return signing.TimestampSigner(salt=links.SALT).unsign_object(token)


def test_a_listed_recipient_gets_the_pdf_attached(world, version, smtp_server):
    add_recipient(world.buyer, {"email": "ana@buyer.example", "name": "Ana Lopez"})

    [delivery] = distribute(version)

    mails = received(smtp_server)
    assert set(mails) == {"ana@buyer.example"}  # the list, not the buyer's own people
    mail = mails["ana@buyer.example"]
    assert mail["Subject"] == "[qcloop] PSI report: PO PO-A-1001 — FAIL"
    [attachment] = attachments_of(mail)
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == version.filename
    assert hashlib.sha256(attachment.get_content()).hexdigest() == version.pdf_sha256
    text = text_of(mail)
    assert "Hello Ana Lopez," in text
    assert "Verdict: FAIL" in text
    assert SUMMARY in text
    assert f"{django_settings.SITE_URL}/reports/{version.report_id}/v1/" in text
    assert (
        f"Verify this PDF at {django_settings.SITE_URL}/verify/ with code {version.code}; "
        f"SHA-256 {version.pdf_sha256}"
    ) in text
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "&lt;carton&gt;" in html and "<carton>" not in html
    assert (delivery.email, delivery.status, delivery.attached) == (
        "ana@buyer.example",
        "sent",
        True,
    )


def test_a_recipient_who_wants_no_attachment_gets_a_link(world, version, smtp_server):
    add_recipient(world.buyer, {"email": "ana@buyer.example"})
    add_recipient(world.buyer, {"email": "bo@buyer.example", "attach_pdf": False})

    distribute(version)

    mails = received(smtp_server)
    assert len(attachments_of(mails["ana@buyer.example"])) == 1
    linked = mails["bo@buyer.example"]
    assert attachments_of(linked) == []
    # Signed for this recipient and this version, and it opens without an account.
    link = pdf_link_in(linked)
    assert claim_of(link) == {"v": version.pk, "e": "bo@buyer.example"}
    assert hashlib.sha256(opened(link)).hexdigest() == version.pdf_sha256
    assert "no sign-in needed; the link works for 30 days" in text_of(linked)
    assert not deliveries(version)["bo@buyer.example"].attached


def test_a_pdf_above_the_limit_is_linked_not_attached(world, version, smtp_server, settings):
    limit = version.pdf_bytes - 1
    settings.QCLOOP_REPORT_ATTACH_MAX_BYTES = limit
    assert limit == distribution.MAX_ATTACHMENT_BYTES  # read when asked, not at import
    add_recipient(world.buyer, {"email": "ana@buyer.example"})

    [delivery] = distribute(version)

    mail = received(smtp_server)["ana@buyer.example"]
    assert attachments_of(mail) == []
    assert "linked, not attached, because of its size" in text_of(mail)
    link = pdf_link_in(mail)
    assert claim_of(link) == {"v": version.pk, "e": "ana@buyer.example"}
    assert hashlib.sha256(opened(link)).hexdigest() == version.pdf_sha256
    assert delivery.status == "sent" and not delivery.attached


def test_without_a_list_the_buyers_people_get_it(world, version, smtp_server):
    distribute(version)

    buyers_people = {m.user.email for m in world.buyer.memberships.select_related("user")}
    assert buyers_people == {
        world.user(Role.BUYER_VIEWER).email,
        world.user(Role.BUYER_MANAGER).email,
    }
    assert set(received(smtp_server)) == buyers_people
    assert all(len(attachments_of(m)) == 1 for m in received(smtp_server).values())


def test_the_suppliers_people_get_it_only_when_the_buyer_shares(world, version, smtp_server):
    supplier_user = world.user(Role.SUPPLIER_USER).email
    add_recipient(world.buyer, {"email": "ana@buyer.example"})

    distribute(version)
    assert set(received(smtp_server)) == {"ana@buyer.example"}

    smtp_server.messages.clear()
    share_with_suppliers(world.buyer, True)  # the stale world.buyer still says False
    [delivery] = distribute(version)

    assert set(received(smtp_server)) == {supplier_user}
    assert (delivery.email, delivery.status) == (supplier_user, "sent")


def test_an_address_on_both_lists_is_mailed_once(world, version, smtp_server):
    supplier_user = world.user(Role.SUPPLIER_USER).email
    add_recipient(world.buyer, {"email": supplier_user.upper(), "attach_pdf": False})
    share_with_suppliers(world.buyer, True)

    made = distribute(version)

    assert [d.email.lower() for d in made] == [supplier_user]
    [(_sender, recipients, _content)] = smtp_server.messages
    assert [r.lower() for r in recipients] == [supplier_user]
    assert not made[0].attached  # the buyer's list comes first, with its choice


def test_a_second_distribution_sends_nothing_new(world, version, smtp_server):
    add_recipient(world.buyer, {"email": "ana@buyer.example"})
    distribute(version)
    smtp_server.messages.clear()

    assert distribute(version) == []
    assert smtp_server.messages == []
    assert Delivery.objects.filter(version=version).count() == 1


def test_a_refused_address_fails_alone_and_is_retried(world, version, smtp_server):
    add_recipient(world.buyer, {"email": "ana@buyer.example"})
    add_recipient(world.buyer, {"email": "ghost@buyer.example"})
    smtp_server.refused.add("ghost@buyer.example")

    distribute(version)

    assert set(received(smtp_server)) == {"ana@buyer.example"}
    went = deliveries(version)
    assert went["ana@buyer.example"].status == "sent"
    ghost = went["ghost@buyer.example"]
    assert ghost.status == "failed"
    assert "550 no such user" in ghost.error

    smtp_server.messages.clear()
    smtp_server.refused.clear()
    [retried] = distribute(version)

    assert set(received(smtp_server)) == {"ghost@buyer.example"}
    assert (retried.pk, retried.status, retried.error) == (ghost.pk, "sent", "")


def test_a_correction_says_so(world, report, version, pdf, smtp_server):
    add_recipient(world.buyer, {"email": "ana@buyer.example"})
    corrected = publish(world, report, pdf, number=2, correction_reason="Carton count was 240.")

    distribute(corrected)

    mail = received(smtp_server)["ana@buyer.example"]
    assert mail["Subject"] == "[qcloop] PSI report (corrected, v2): PO PO-A-1001 — FAIL"
    assert "It corrects the earlier version: Carton count was 240." in text_of(mail)
    assert f"/reports/{report.pk}/v2/" in text_of(mail)


def test_a_version_without_its_pdf_is_refused(world, report, smtp_server):
    add_recipient(world.buyer, {"email": "ana@buyer.example"})
    unrendered = publish(world, report, pdf=None)

    with pytest.raises(ValueError, match="has no PDF yet: render it"):
        distribute(unrendered)

    assert smtp_server.messages == []
    assert not Delivery.objects.filter(version=unrendered).exists()
