"""Fixtures of the distribution tests: a PDF, a published PSI report and its version 1."""

from datetime import timedelta

import pytest
import weasyprint
from django.utils import timezone

from qcloop.reports.models import Report

from .mails import publish


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return weasyprint.HTML(string="<h1>PSI report</h1><p>PO PO-A-1001</p>").write_pdf()


@pytest.fixture
def report(world):
    now = timezone.now()
    return Report.objects.create(
        po=world.po,
        milestone=world.milestones["PSI"],
        kind="milestone",
        clock_started_at=now - timedelta(hours=5),
        due_at=now + timedelta(hours=19),
        published_at=now,
    )


@pytest.fixture
def version(world, report, pdf):
    return publish(world, report, pdf)
