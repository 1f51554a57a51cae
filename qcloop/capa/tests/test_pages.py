"""The supplier answers a CAPA in its portal; the QC lead decides on the answer."""

import pytest
from django.test import Client

from qcloop.capa.models import CapaStatus, CorrectiveAction
from qcloop.testing import submit_inspection_of

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_supplier_answers_in_its_portal_and_the_qc_lead_accepts(world):
    submit_inspection_of(world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    capa = CorrectiveAction.objects.get()
    supplier = _client(world.users["supplier_user"])
    listing = supplier.get("/capas/").content.decode()
    assert capa.reference in listing
    page = supplier.get(f"/capas/{capa.pk}/").content.decode()
    assert 'id="answer-form"' in page and "Loose shade screws" in page
    bad = supplier.post(f"/capas/{capa.pk}/answer/", {"why": ["Loose"], "root_cause": ""})
    assert bad.status_code == 422 and b"Say the root cause" in bad.content
    capa.refresh_from_db()
    assert capa.status == CapaStatus.OPEN
    supplier.post(
        f"/capas/{capa.pk}/answer/",
        {
            "why": ["Screws loose", "Torque low", "", "", ""],
            "root_cause": "No torque check",
            "correction": "Units re-torqued",
            "prevention": "Check at shift start",
        },
    )
    capa.refresh_from_db()
    assert capa.status == CapaStatus.ANSWERED
    assert capa.answers.get().whys == ["Screws loose", "Torque low"]
    lead = _client(world.qc_lead)
    assert 'id="decide-form"' in lead.get(f"/capas/{capa.pk}/").content.decode()
    lead.post(f"/capas/{capa.pk}/decide/", {"decision": "accept"})
    capa.refresh_from_db()
    assert capa.status == CapaStatus.ACCEPTED


def test_the_qc_lead_opens_a_capa_by_hand_from_the_milestone_page(world):
    dupro = submit_inspection_of(world, "DUPRO", defects=[("minor", 3, "Label smudged")])
    lead = _client(world.qc_lead)
    milestone_page = lead.get(f"/milestones/{dupro.pk}/").content.decode()
    assert f"/milestones/{dupro.pk}/capas/new/" in milestone_page
    form = lead.get(f"/milestones/{dupro.pk}/capas/new/").content.decode()
    assert "Label smudged" in form and world.users["supplier_user"].full_name in form
    bad = lead.post(
        f"/milestones/{dupro.pk}/capas/new/",
        {"finding": "defect:text:label smudged", "due_on": "2020-01-01"},
    )
    assert bad.status_code == 422 and b"The due date is in the past" in bad.content
    assert not CorrectiveAction.objects.exists()
    response = lead.post(
        f"/milestones/{dupro.pk}/capas/new/",
        {
            "finding": "defect:text:label smudged",
            "owner": world.users["supplier_user"].pk,
            "due_on": "",
        },
    )
    capa = CorrectiveAction.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/capas/{capa.pk}/"
    assert capa.severity == "minor" and not capa.opened_automatically
    assert capa.opened_by == world.qc_lead
    # The finding has its CAPA now: the form no longer offers it.
    assert "Label smudged" not in lead.get(f"/milestones/{dupro.pk}/capas/new/").content.decode()
    # Nobody else opens one.
    supplier = _client(world.users["supplier_user"])
    assert supplier.get(f"/milestones/{dupro.pk}/capas/new/").status_code == 403


def test_the_psi_inspector_verifies_on_the_capa_page_with_a_photo_of_the_psi(world):
    from qcloop.inspections.photos import ingest, upload_photo
    from qcloop.testing import start_inspection
    from qcloop.testing.tenancy import _jpeg

    submit_inspection_of(world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    capa = CorrectiveAction.objects.get()
    CorrectiveAction.objects.filter(pk=capa.pk).update(status=CapaStatus.ACCEPTED)
    psi = start_inspection(world, "PSI")
    photo = upload_photo(by=world.inspector, milestone=psi, data=_jpeg((640, 480), (90, 40, 40)))
    ingest(photo.pk)
    inspector = _client(world.inspector)
    assert f"/capas/{capa.pk}/" in inspector.get(f"/milestones/{psi.pk}/").content.decode()
    page = inspector.get(f"/capas/{capa.pk}/").content.decode()
    assert 'id="verify-form"' in page and str(photo.uuid) in page
    refused = inspector.post(
        f"/capas/{capa.pk}/verify/", {"milestone": psi.pk, "effective": "no", "note": ""}
    )
    assert refused.status_code == 422 and b"not effective" in refused.content
    inspector.post(
        f"/capas/{capa.pk}/verify/",
        {"milestone": psi.pk, "effective": "no", "note": "Still loose", "photo": [photo.uuid]},
    )
    capa.refresh_from_db()
    assert capa.status == CapaStatus.OPEN  # reopened for a new answer
    verification = capa.verifications.get()
    assert list(verification.evidence) == [photo]
