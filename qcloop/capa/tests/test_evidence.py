"""The supplier's evidence photos: real camera files are decoded, kept and shown to whoever sees
the CAPA; a broken file refuses the whole answer with its name, and nothing is saved."""

import pytest
from django.test import Client

from qcloop.capa.models import CapaAnswer, CapaEvidence, CapaStatus, CorrectiveAction
from qcloop.inspections.models import Photo
from qcloop.testing import build_world, submit_inspection_of

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


ANSWER = {
    "why": ["Shade screws loose", "No torque setting on the driver", "", "", ""],
    "root_cause": "The driver's clutch was never set",
    "correction": "All 2,400 packed units re-torqued",
    "prevention": "Clutch set and checked at each shift start",
}


@pytest.fixture
def capa(world):
    submit_inspection_of(world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    return CorrectiveAction.objects.get()


def test_evidence_photos_come_with_the_answer_and_are_shown_to_the_buyer(
    world, capa, shared_photos
):
    supplier = _client(world.users["supplier_user"])
    jpeg = shared_photos / "jpg" / "Canon_40D.jpg"
    heic = shared_photos / "heic" / "IMG_5195.HEIC"
    with jpeg.open("rb") as one, heic.open("rb") as two:
        response = supplier.post(f"/capas/{capa.pk}/answer/", {**ANSWER, "evidence": [one, two]})
    assert response.status_code == 302
    capa.refresh_from_db()
    assert capa.status == CapaStatus.ANSWERED
    evidence = list(CapaEvidence.objects.order_by("pk"))
    assert [e.original_name for e in evidence] == ["Canon_40D.jpg", "IMG_5195.HEIC"]
    assert {e.answer_id for e in evidence} == {capa.answers.get().pk}
    assert evidence[0].photo.camera.startswith("Canon") and evidence[1].photo.format == "heic"
    buyer = _client(world.users["buyer_manager"])
    page = buyer.get(f"/capas/{capa.pk}/").content.decode()
    assert f"/capas/evidence/{evidence[0].pk}/thumbnail/" in page
    thumbnail = buyer.get(f"/capas/evidence/{evidence[1].pk}/thumbnail/")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"
    assert b"".join(thumbnail.streaming_content)[:2] == b"\xff\xd8"
    stranger = _client(build_world("b").users["buyer_manager"])
    assert stranger.get(f"/capas/evidence/{evidence[0].pk}/thumbnail/").status_code == 404


def test_a_broken_evidence_file_refuses_the_answer_naming_it_and_keeps_the_text(
    world, capa, shared_photos
):
    supplier = _client(world.users["supplier_user"])
    good = shared_photos / "jpg" / "Nikon_D70.jpg"
    broken = shared_photos / "jpg" / "corrupted.jpg"
    photos_before = Photo.objects.count()
    with good.open("rb") as one, broken.open("rb") as two:
        response = supplier.post(f"/capas/{capa.pk}/answer/", {**ANSWER, "evidence": [one, two]})
    assert response.status_code == 422
    page = response.content.decode()
    assert "corrupted.jpg" in page
    # What the supplier typed is on the form again, every why included.
    assert "The driver&#x27;s clutch was never set" in page
    assert 'value="No torque setting on the driver"' in page
    capa.refresh_from_db()
    assert capa.status == CapaStatus.OPEN
    assert CapaAnswer.objects.count() == 0 and CapaEvidence.objects.count() == 0
    assert Photo.objects.count() == photos_before


def test_more_than_ten_evidence_photos_are_refused(world, capa, shared_photos):
    from django.core.exceptions import ValidationError

    from qcloop.capa.services import answer_capa

    data = (shared_photos / "jpg" / "Canon_40D.jpg").read_bytes()
    with pytest.raises(ValidationError) as error:
        answer_capa(
            by=world.users["supplier_user"],
            capa=capa,
            whys=["x"],
            root_cause="x",
            correction="x",
            prevention="x",
            evidence=[(f"{n}.jpg", data) for n in range(11)],
        )
    assert "at most 10" in str(error.value)
    assert CapaAnswer.objects.count() == 0
