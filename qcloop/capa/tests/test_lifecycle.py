"""A CAPA from DUPRO: the supplier answers (five whys), the QC lead sends it back then accepts,
and the PSI verifies it: effective closes it, not effective reopens it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qcloop.capa import services
from qcloop.capa.models import CapaStatus, CorrectiveAction
from qcloop.testing import start_inspection, submit_inspection_of

pytestmark = pytest.mark.django_db

ANSWER = dict(
    whys=["Screws loose", "Driver torque low", "Clutch worn", "No daily torque check"],
    root_cause="No daily torque check on the line 2 drivers.",
    correction="All 1,300 units made re-torqued and re-checked.",
    prevention="Torque checked at every shift start; results on the line board.",
)


@pytest.fixture
def capa(world):
    submit_inspection_of(world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    return CorrectiveAction.objects.get()


def test_only_the_supplier_answers_and_a_bad_answer_changes_nothing(world, capa):
    with pytest.raises(PermissionDenied):
        services.answer_capa(by=world.qc_lead, capa=capa, **ANSWER)
    with pytest.raises(ValidationError) as error:
        services.answer_capa(
            by=world.users["supplier_user"],
            capa=capa,
            **{**ANSWER, "whys": ["a", "b", "c", "d", "e", "f"], "prevention": " "},
        )
    assert {"whys", "prevention"} <= set(error.value.message_dict)
    capa.refresh_from_db()
    assert capa.status == CapaStatus.OPEN and not capa.answers.exists()


def test_sent_back_then_accepted_then_verified_effective_at_psi(world, capa):
    supplier = world.users["supplier_user"]
    services.answer_capa(by=supplier, capa=capa, **{**ANSWER, "whys": ["Screws loose"]})
    with pytest.raises(ValidationError):
        services.decide_answer(by=world.qc_lead, capa=capa, accept=False)  # needs a note
    services.decide_answer(
        by=world.qc_lead, capa=capa, accept=False, note="One why is not a cause."
    )
    capa.refresh_from_db()
    assert capa.status == CapaStatus.OPEN
    services.answer_capa(by=supplier, capa=capa, **ANSWER)
    services.decide_answer(by=world.qc_lead, capa=capa, accept=True)
    capa.refresh_from_db()
    assert capa.status == CapaStatus.ACCEPTED
    assert [a.decision for a in capa.answers.all()] == ["returned", "accepted"]
    dupro = world.milestones["DUPRO"]
    with pytest.raises(ValidationError) as error:
        services.verify_capa(by=world.qc_lead, capa=capa, milestone=dupro, effective=True)
    assert "later milestone" in error.value.message_dict["milestone"][0]
    psi = start_inspection(world, "PSI")
    assert services.capas_to_verify(psi) == [capa]
    uuid = "0b6c1f0e-2b8e-4b9c-9f59-1f7c3d2a9e01"
    first = services.verify_capa(
        by=world.inspector, capa=capa, milestone=psi, effective=True, uuid=uuid
    )
    again = services.verify_capa(
        by=world.inspector, capa=capa, milestone=psi, effective=True, uuid=uuid
    )
    assert first.pk == again.pk  # a phone's retry
    capa.refresh_from_db()
    assert capa.status == CapaStatus.CLOSED and capa.closed_at is not None
    assert services.capas_to_verify(psi) == []


def test_not_effective_reopens_it_for_a_new_answer(world, capa):
    psi = start_inspection(world, "PSI")
    with pytest.raises(ValidationError):
        services.verify_capa(by=world.inspector, capa=capa, milestone=psi, effective=False)
    services.verify_capa(
        by=world.inspector,
        capa=capa,
        milestone=psi,
        effective=False,
        note="Screws still loose on 3 of 20 units checked.",
    )
    capa.refresh_from_db()
    assert capa.status == CapaStatus.OPEN and capa.verifications.get().effective is False
    with pytest.raises(PermissionDenied):
        services.verify_capa(
            by=world.users["supplier_user"], capa=capa, milestone=psi, effective=True
        )


def test_the_same_defect_coming_back_after_its_capa_closed_is_a_recurrence(world, capa):
    from qcloop.capa.rules import Finding

    capa.status = CapaStatus.CLOSED
    capa.save()
    finding = Finding("defect", capa.finding_key, "major", capa.title, {"quantity": 1})
    again = services._open(world.milestones["PSI"], finding, by=None, owner=None)
    assert again.recurrence_of == capa


def test_the_psi_package_lists_the_capas_to_verify(world, capa):
    from qcloop.field.package import milestone_package

    psi = start_inspection(world, "PSI", start=False)
    [listed] = milestone_package(world.inspector, psi)["capas"]
    assert listed["reference"] == capa.reference and listed["opened_at"] == "DUPRO"


def test_an_overdue_answer_is_flagged_to_the_qc_lead_once(world, capa, smtp_server):
    from datetime import timedelta

    from qcloop.capa.sweeps import flag_overdue

    assert flag_overdue(today=capa.due_on) == 0  # due today is not overdue
    assert flag_overdue(today=capa.due_on + timedelta(days=1)) == 1
    assert flag_overdue(today=capa.due_on + timedelta(days=2)) == 0
    [(_, recipients, message)] = smtp_server.messages
    assert recipients == [world.qc_lead.email] and capa.reference in message


def test_a_cli_finding_is_verified_at_the_suppliers_next_po(world):
    from qcloop.field.package import milestone_package
    from qcloop.testing import next_po_of

    submit_inspection_of(world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    submit_inspection_of(world, "CLI", defects=[("major", 1, "Carton crushed")])
    dupro_capa, cli_capa = CorrectiveAction.objects.order_by("number")
    again = next_po_of(world)
    next_dupro = start_inspection(again, "DUPRO")
    # The CLI's CAPA has no visit left on its PO: it is carried to the next PO's visit. The
    # DUPRO's is not: its own PSI is still to come.
    assert services.capas_to_verify(next_dupro) == [cli_capa]
    pkg = milestone_package(world.inspector, next_dupro)
    assert [c["reference"] for c in pkg["capas"]] == [cli_capa.reference]
    with pytest.raises(ValidationError) as error:
        services.verify_capa(
            by=world.inspector, capa=dupro_capa, milestone=next_dupro, effective=True
        )
    assert "later milestone of that PO" in error.value.message_dict["milestone"][0]
    services.verify_capa(by=world.inspector, capa=cli_capa, milestone=next_dupro, effective=True)
    cli_capa.refresh_from_db()
    assert cli_capa.status == CapaStatus.CLOSED
    assert cli_capa.verifications.get().milestone == next_dupro


def test_an_inspector_sees_the_capas_carried_to_their_visit_only(world):
    from qcloop.core.tenancy import for_user
    from qcloop.testing import next_po_of

    submit_inspection_of(world, "CLI", defects=[("major", 1, "Carton crushed")])
    capa = CorrectiveAction.objects.get()
    again = next_po_of(world)
    from qcloop.inspections.models import Milestone

    # The inspector of the first PO's CLI sees it through that PO; move that visit away.
    Milestone.objects.filter(po=world.po).update(inspector=None)
    assert not for_user(CorrectiveAction, world.inspector).filter(pk=capa.pk).exists()
    start_inspection(again, "DUPRO")
    assert for_user(CorrectiveAction, world.inspector).filter(pk=capa.pk).exists()
