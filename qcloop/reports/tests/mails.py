"""Helpers of the distribution tests: a published version made by hand, and the mails the
loopback SMTP server (the root conftest's `smtp_server`) received, parsed."""

import email
import email.policy
import re

from django.conf import settings

from qcloop.reports.models import Delivery, ReportVersion
from qcloop.reports.rendering import store_pdf

SUMMARY = "Hold the shipment: 4 majors > Ac 3 & the <carton> drop test failed."


def publish(world, report, pdf: bytes | None, number: int = 1, **extra) -> ReportVersion:
    version = ReportVersion.objects.create(
        report=report,
        number=number,
        content={"verdict": {"result": "fail", "reasons": [], "lead_summary": SUMMARY}},
        content_sha256="0" * 64,
        published_by=world.qc_lead,
        **extra,
    )
    if pdf is not None:
        store_pdf(version, pdf, pages=1)
    return version


def received(inbox) -> dict[str, email.message.EmailMessage]:
    """The mails the server accepted, parsed, by envelope recipient."""
    mails = {}
    for _sender, recipients, content in inbox.messages:
        parsed = email.message_from_bytes(content.encode(), policy=email.policy.default)
        mails.update({address.lower(): parsed for address in recipients})
    return mails


def mail_count(inbox) -> dict[str, int]:
    """How many mails each envelope recipient got."""
    counts: dict[str, int] = {}
    for _sender, recipients, _content in inbox.messages:
        for address in recipients:
            counts[address.lower()] = counts.get(address.lower(), 0) + 1
    return counts


def text_of(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def html_of(mail) -> str:
    return mail.get_body(preferencelist=("html",)).get_content()


def attachments_of(mail) -> list:
    return list(mail.iter_attachments())


def pdf_link_in(mail) -> str:
    """The one signed PDF link of a mail, checked to be the same in its text and its HTML."""
    pattern = re.escape(settings.SITE_URL) + r"/reports/pdf/[^/\s\"<]+/"
    [link] = re.findall(pattern, text_of(mail))
    assert f'href="{link}"' in html_of(mail)
    return link


def deliveries(version) -> dict[str, Delivery]:
    return {d.email.lower(): d for d in Delivery.objects.filter(version=version)}
