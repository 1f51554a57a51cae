"""A CAPA opened before PSI and still open at PSI is flagged in the PSI report and in the PO
summary; one closed in time is not."""

import pytest
from django.utils import timezone

from qcloop.capa.models import CapaStatus, CorrectiveAction
from qcloop.reports.content import milestone_content
from qcloop.reports.summary import summary_content
from qcloop.testing import submit_inspection_of

pytestmark = pytest.mark.django_db


def test_a_capa_from_dupro_still_open_at_psi_is_flagged_in_the_psi_report_and_summary(world):
    submit_inspection_of(world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    capa = CorrectiveAction.objects.get()
    psi = submit_inspection_of(world, "PSI")
    content = milestone_content(psi)
    assert content["capas"]["open_at_psi"] == [capa.reference]
    assert [row["reference"] for row in content["capas"]["open"]] == [capa.reference]
    summary = summary_content(world.po)
    assert summary["capas"]["opened"] == 1 and summary["capas"]["open_at_psi"] == 1
    assert summary["capas"]["log"][0]["open_at_psi"] is True
    assert summary["recommendation"]["code"] == "hold_and_review_supplier"
    # The DUPRO's own report lists it as open, but it is no PSI: no flag there.
    assert milestone_content(world.milestones["DUPRO"])["capas"]["open_at_psi"] == []


def test_a_capa_closed_before_the_psi_is_not_flagged(world):
    submit_inspection_of(world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    CorrectiveAction.objects.update(status=CapaStatus.CLOSED, closed_at=timezone.now())
    psi = submit_inspection_of(world, "PSI")
    content = milestone_content(psi)
    assert content["capas"]["open_at_psi"] == [] and len(content["capas"]["closed"]) == 1
    summary = summary_content(world.po)
    assert summary["capas"]["open_at_psi"] == 0 and summary["capas"]["verified"] == 1
