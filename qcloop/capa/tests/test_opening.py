"""CAPAs open by rule when an inspection is submitted, and by hand for the rest."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qcloop.capa import rules, services
from qcloop.capa.models import CapaStatus, CorrectiveAction
from qcloop.testing import submit_inspection_of

pytestmark = pytest.mark.django_db


def test_major_and_critical_defects_open_a_capa_at_submission_minor_ones_do_not(world):
    submit_inspection_of(
        world,
        "DUPRO",
        defects=[("major", 2, "Loose shade screws"), ("minor", 1, "Dust in the diffuser")],
    )
    [capa] = CorrectiveAction.objects.all()
    assert capa.status == CapaStatus.OPEN and capa.opened_automatically
    assert capa.severity == "major" and "Loose shade screws" in capa.title
    assert capa.owner == world.users["supplier_user"]
    assert capa.finding["quantity"] == 2 and capa.finding["milestone"] == "DUPRO"
    assert capa.reference == f"CAPA-{world.po.number}-1"
    assert capa.due_on > capa.opened_at.date()
    # Submitting again (sent back, resubmitted) opens nothing twice.
    assert services.open_for_findings(world.milestones["DUPRO"]) == []
    assert CorrectiveAction.objects.count() == 1


def test_the_qc_lead_opens_one_by_hand_for_a_minor_finding(world):
    submit_inspection_of(world, "DUPRO", defects=[("minor", 1, "Dust in the diffuser")])
    dupro = world.milestones["DUPRO"]
    key = rules.defect_key(None, "Dust in the diffuser")
    with pytest.raises(PermissionDenied):
        services.open_capa(by=world.users["supplier_user"], milestone=dupro, finding_key=key)
    with pytest.raises(ValidationError) as error:
        services.open_capa(by=world.qc_lead, milestone=dupro, finding_key="defect:nothing")
    assert "finding" in error.value.message_dict
    assert not CorrectiveAction.objects.exists()
    capa = services.open_capa(by=world.qc_lead, milestone=dupro, finding_key=key)
    assert capa.opened_by == world.qc_lead and not capa.opened_automatically
    with pytest.raises(ValidationError):
        services.open_capa(by=world.qc_lead, milestone=dupro, finding_key=key)


def test_due_dates_follow_severity_and_come_before_the_next_visit():
    opened = date(2026, 3, 2)
    assert rules.due_date(opened, "critical") == date(2026, 3, 4)
    assert rules.due_date(opened, "major") == date(2026, 3, 7)
    assert rules.due_date(opened, "major", next_visit=date(2026, 3, 5)) == date(2026, 3, 4)
    # Never less than a day, even when the next visit is tomorrow.
    assert rules.due_date(opened, "major", next_visit=date(2026, 3, 3)) == date(2026, 3, 3)


def test_defects_are_one_finding_by_code_or_by_words():
    assert rules.defect_key("LT-WRK-03", "x") == "defect:LT-WRK-03"
    assert rules.defect_key(None, "  Loose   Screws ") == rules.defect_key(None, "loose screws")
