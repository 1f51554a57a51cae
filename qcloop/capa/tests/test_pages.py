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
