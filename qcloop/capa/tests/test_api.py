"""The CAPA loop over the API and the field app: the QC lead opens one by hand, the supplier
answers with an evidence photo, the QC lead accepts, and the PSI inspector's phone verifies it
offline, its photo arriving after the verification."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from qcloop.accounts.services import create_api_token
from qcloop.capa.models import CapaStatus, CapaVerification, CorrectiveAction
from qcloop.inspections.photos import ingest, upload_photo
from qcloop.testing import start_inspection, submit_inspection_of
from qcloop.testing.tenancy import _jpeg

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    _, token = create_api_token(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_open_answer_decide_over_the_api(world):
    dupro = submit_inspection_of(world, "DUPRO", defects=[("minor", 3, "Label smudged")])
    assert not CorrectiveAction.objects.exists()  # minor: the rule leaves it alone
    lead = api(world.qc_lead)
    bad = lead.post(
        "/api/capas", {"milestone": dupro.pk, "finding_key": "defect:nope"}, "application/json"
    )
    assert bad.status_code == 422 and "not a finding" in bad.content.decode()
    opened = lead.post(
        "/api/capas",
        {"milestone": dupro.pk, "finding_key": "defect:text:label smudged"},
        "application/json",
    )
    assert opened.status_code == 201, opened.content
    capa = opened.json()
    assert capa["status"] == "open" and capa["severity"] == "minor"
    assert capa["owner_id"] == world.users["supplier_user"].pk

    supplier = api(world.users["supplier_user"])
    assert [c["reference"] for c in supplier.get("/api/capas?open=true").json()] == [
        capa["reference"]
    ]
    photo = SimpleUploadedFile("relabelled.jpg", _jpeg((640, 480), (30, 160, 90)), "image/jpeg")
    answered = supplier.post(
        f"/api/capas/{capa['id']}/answer",
        {
            "whys": ["Ink smudged", "Labels stacked wet"],
            "root_cause": "No drying time before stacking",
            "correction": "All 3,000 labels replaced",
            "prevention": "Ten minutes on the drying rack",
            "evidence": [photo],
        },
    )
    assert answered.status_code == 201, answered.content
    (answer,) = answered.json()["answers"]
    assert answer["whys"] == ["Ink smudged", "Labels stacked wet"]
    assert len(answer["evidence"]) == 1
    rendition = supplier.get(answer["evidence"][0])
    assert rendition.status_code == 200 and rendition["Content-Type"] == "image/jpeg"
    decided = lead.post(f"/api/capas/{capa['id']}/decision", {"accept": True}, "application/json")
    assert decided.status_code == 200 and decided.json()["status"] == "accepted"
    # The supplier may not decide on its own answer.
    assert (
        supplier.post(
            f"/api/capas/{capa['id']}/decision", {"accept": True}, "application/json"
        ).status_code
        == 403
    )


def test_the_psi_phone_verifies_offline_and_its_photo_arrives_later(world):
    submit_inspection_of(world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    capa = CorrectiveAction.objects.get()
    CorrectiveAction.objects.filter(pk=capa.pk).update(status=CapaStatus.ACCEPTED)
    psi = start_inspection(world, "PSI")
    phone = api(world.inspector)
    pkg = phone.get(f"/api/field/milestones/{psi.pk}/package").json()
    assert [c["reference"] for c in pkg["state"]["capas"]] == [capa.reference]
    photo_uuid, verification_uuid = uuid.uuid4(), uuid.uuid4()
    op = {
        "id": str(uuid.uuid4()),
        "kind": "capa_verify",
        "base_revision": pkg["revision"],
        "data": {
            "uuid": str(verification_uuid),
            "capa": capa.pk,
            "effective": True,
            "note": "Torque checked on 20 units: all at 1.2 N·m",
            "photos": [str(photo_uuid)],
        },
    }
    body = {"device": str(uuid.uuid4()), "ops": [op]}
    first = phone.post(f"/api/field/milestones/{psi.pk}/sync", body, "application/json").json()
    assert [a["status"] for a in first["acks"]] == ["applied"]
    # The answer was lost on the way back: the phone sends the same operation again.
    again = phone.post(f"/api/field/milestones/{psi.pk}/sync", body, "application/json").json()
    assert [a["status"] for a in again["acks"]] == ["duplicate"]
    capa.refresh_from_db()
    assert capa.status == CapaStatus.CLOSED
    verification = CapaVerification.objects.get()
    assert verification.uuid == verification_uuid and not verification.evidence.exists()
    (shown,) = again["state"]["capas"]
    assert shown["verified_here"]["effective"] is True
    # The photo the verification names arrives afterwards; then it is its evidence.
    attachment = upload_photo(
        by=world.inspector, milestone=psi, data=_jpeg((800, 600), (120, 120, 40)), uuid=photo_uuid
    )
    ingest(attachment.pk)
    assert list(verification.evidence) == [attachment]
    page = Client()
    page.force_login(world.qc_lead)
    detail = page.get(f"/capas/{capa.pk}/").content.decode()
    assert f"/photos/{attachment.pk}/thumbnail/" in detail and "Torque checked" in detail


def test_a_phone_verification_of_an_unknown_capa_is_refused_with_the_reason(world):
    psi = start_inspection(world, "PSI")
    phone = api(world.inspector)
    op = {
        "id": str(uuid.uuid4()),
        "kind": "capa_verify",
        "base_revision": 0,
        "data": {"uuid": str(uuid.uuid4()), "capa": 999999, "effective": True},
    }
    answer = phone.post(
        f"/api/field/milestones/{psi.pk}/sync",
        {"device": str(uuid.uuid4()), "ops": [op]},
        "application/json",
    ).json()
    (ack,) = answer["acks"]
    assert ack["status"] == "rejected" and "999999" in ack["errors"]["capa"][0]
    assert not CapaVerification.objects.exists()
