"""Photo uploads from a phone: resumable chunks, checked by SHA-256, a rendition made on the
phone first and its original after, and nothing ever stored twice."""

import hashlib
import io
import uuid

import pytest
from django.test import Client
from PIL import Image

from qcloop.accounts.services import create_api_token
from qcloop.field.models import FieldUpload
from qcloop.inspections import recording
from qcloop.inspections.models import Photo, PhotoAttachment
from qcloop.inspections.photos import ingest
from qcloop.testing import start_inspection

pytestmark = pytest.mark.django_db
CHUNK = 64 * 1024


def client_for(user) -> Client:
    _, token = create_api_token(user=user, name="phone")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def declare(api, milestone, data: bytes, part="photo", photo=None, **links):
    body = {
        "id": str(uuid.uuid4()),
        "milestone": milestone.pk,
        "photo": str(photo or uuid.uuid4()),
        "part": part,
        "size": len(data),
        "sha256": sha(data),
        "name": "DSCN0010.jpg",
        **links,
    }
    return api.post("/api/field/uploads", body, "application/json")


def put(api, upload_id, offset: int, chunk: bytes):
    return api.put(
        f"/api/field/uploads/{upload_id}?offset={offset}", chunk, "application/octet-stream"
    )


def send_all(api, upload: dict, data: bytes) -> dict:
    offset = upload["received"]
    while offset < len(data):
        answer = put(api, upload["id"], offset, data[offset : offset + CHUNK])
        assert answer.status_code == 200, answer.content
        offset = answer.json()["received"]
    return answer.json()


def rendition_of(data: bytes) -> bytes:
    """What the phone makes: smaller, JPEG, with the original's EXIF."""
    image = Image.open(io.BytesIO(data))
    exif = image.info.get("exif", b"")
    image.thumbnail((800, 800))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


@pytest.fixture
def psi(world):
    return start_inspection(world, "PSI", plan_sample=False)


@pytest.fixture
def photo(shared_photos) -> bytes:
    return (shared_photos / "jpg" / "gps" / "DSCN0010.jpg").read_bytes()


def test_a_photo_sent_in_chunks_becomes_one_checked_photo(world, psi, photo):
    api = client_for(world.inspector)
    declared = declare(api, psi, photo, caption="Carton 12, side")
    assert declared.status_code == 201
    upload = declared.json()
    assert upload["received"] == 0 and not upload["done"] and upload["sha256"] is None
    done = send_all(api, upload, photo)
    assert done["done"] and done["sha256"] == sha(photo)
    attachment = PhotoAttachment.objects.get(uuid=upload["photo"])
    assert attachment.caption == "Carton 12, side" and attachment.status == "pending"
    ingest(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.status == "ready" and attachment.photo.sha256 == sha(photo)
    assert FieldUpload.objects.get(pk=upload["id"]).chunks == []  # the pieces are cleaned up


def test_an_interrupted_upload_resumes_where_the_server_stopped(world, psi, photo):
    api = client_for(world.inspector)
    upload = declare(api, psi, photo).json()
    assert put(api, upload["id"], 0, photo[:CHUNK]).json()["received"] == CHUNK
    # The answer to the second chunk was lost; the phone asks where to resume.
    assert put(api, upload["id"], CHUNK, photo[CHUNK : 2 * CHUNK]).status_code == 200
    resent = put(api, upload["id"], CHUNK, photo[CHUNK : 2 * CHUNK])
    assert resent.status_code == 409 and resent.json()["received"] == 2 * CHUNK
    status = api.get(f"/api/field/uploads/{upload['id']}").json()
    assert status["received"] == 2 * CHUNK
    # Declaring it again (the phone lost its own record of it) says the same.
    assert declare_again(api, psi, photo, upload).json()["received"] == 2 * CHUNK
    done = send_all(api, status, photo)
    assert done["done"] and done["sha256"] == sha(photo)
    # The last answer was lost too: the last chunk again is harmless.
    last = len(photo) - (len(photo) % CHUNK or CHUNK)
    assert put(api, upload["id"], last, photo[last:]).json()["done"]
    assert PhotoAttachment.objects.filter(milestone=psi).count() == 1


def declare_again(api, milestone, data, upload):
    body = {
        "id": upload["id"],
        "milestone": milestone.pk,
        "photo": upload["photo"],
        "part": upload["part"],
        "size": len(data),
        "sha256": sha(data),
    }
    answer = api.post("/api/field/uploads", body, "application/json")
    assert answer.status_code == 200
    return answer


def test_bytes_that_do_not_match_the_announced_sha256_start_over(world, psi, photo):
    api = client_for(world.inspector)
    upload = declare(api, psi, photo).json()
    damaged = photo[:-10] + b"\0" * 10
    put(api, upload["id"], 0, damaged[:CHUNK])
    answer = put(api, upload["id"], CHUNK, damaged[CHUNK:])
    assert answer.status_code == 422
    assert "sha256" in str(answer.json()["detail"][0]["loc"])
    assert api.get(f"/api/field/uploads/{upload['id']}").json()["received"] == 0
    assert not PhotoAttachment.objects.filter(milestone=psi).exists()
    assert send_all(api, {**upload, "received": 0}, photo)["done"]


def test_the_original_follows_its_rendition_and_becomes_the_evidence(world, psi, photo):
    api = client_for(world.inspector)
    small = rendition_of(photo)
    photo_id = uuid.uuid4()
    send_all(api, declare(api, psi, small, part="rendition", photo=photo_id).json(), small)
    attachment = PhotoAttachment.objects.get(uuid=photo_id)
    ingest(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.awaiting_original and attachment.photo.sha256 == sha(small)
    assert attachment.photo.taken_at is not None  # the phone kept the EXIF in its rendition
    send_all(api, declare(api, psi, photo, part="original", photo=photo_id).json(), photo)
    ingest(attachment.pk)
    attachment.refresh_from_db()
    assert not attachment.awaiting_original and attachment.original_staged == ""
    assert attachment.photo.sha256 == sha(photo)
    assert attachment.field_rendition.sha256 == sha(small)
    assert "rendition_mismatch" not in {flag["kind"] for flag in attachment.flags}
    assert PhotoAttachment.objects.filter(milestone=psi).count() == 1
    assert Photo.objects.count() == 2


def test_an_original_that_is_not_the_rendition_is_flagged(world, psi, photo, shared_photos):
    api = client_for(world.inspector)
    small = rendition_of(photo)
    other = (shared_photos / "jpg" / "Nikon_D70.jpg").read_bytes()
    photo_id = uuid.uuid4()
    send_all(api, declare(api, psi, small, part="rendition", photo=photo_id).json(), small)
    send_all(api, declare(api, psi, other, part="original", photo=photo_id).json(), other)
    attachment = PhotoAttachment.objects.get(uuid=photo_id)
    ingest(attachment.pk)  # one job does both, in order
    attachment.refresh_from_db()
    assert attachment.photo.sha256 == sha(other)
    assert "rendition_mismatch" in {flag["kind"] for flag in attachment.flags}


def test_a_photo_of_a_defect_waits_for_the_defect(world, psi, photo):
    api = client_for(world.inspector)
    defect_id = uuid.uuid4()
    early = declare(api, psi, photo, defect=str(defect_id))
    assert early.status_code == 422 and "defect" in str(early.json())
    recording.record_defect(
        by=world.inspector,
        milestone=psi,
        description="Dent",
        defect_class="major",
        quantity=1,
        uuid=defect_id,
    )
    upload = declare(api, psi, photo, defect=str(defect_id)).json()
    send_all(api, upload, photo)
    assert PhotoAttachment.objects.get(uuid=upload["photo"]).defect.uuid == defect_id


def test_uploads_are_private_to_their_sender(world, other_world, psi, photo):
    api = client_for(world.inspector)
    upload = declare(api, psi, photo).json()
    for outsider in (client_for(other_world.inspector), client_for(world.user("buyer_manager"))):
        assert outsider.get(f"/api/field/uploads/{upload['id']}").status_code == 404
        assert put(outsider, upload["id"], 0, photo[:CHUNK]).status_code == 404
    assert declare(client_for(other_world.inspector), psi, photo).status_code == 404
    assert api.get(f"/api/field/uploads/{upload['id']}").json()["received"] == 0


def test_bad_declarations_are_refused_with_the_reason(world, psi, photo):
    api = client_for(world.inspector)
    body = {
        "id": str(uuid.uuid4()),
        "milestone": psi.pk,
        "photo": str(uuid.uuid4()),
        "part": "photo",
        "size": len(photo),
        "sha256": "not-a-hash",
    }
    assert api.post("/api/field/uploads", body, "application/json").status_code == 422
    too_big = {**body, "sha256": sha(photo), "size": 10**10}
    answer = api.post("/api/field/uploads", too_big, "application/json")
    assert answer.status_code == 422 and "size" in str(answer.json())
    wrong_item = {**body, "sha256": sha(photo), "item_code": "NOPE"}
    answer = api.post("/api/field/uploads", wrong_item, "application/json")
    assert answer.status_code == 422 and "NOPE" in str(answer.json())
    assert not FieldUpload.objects.exists()


def test_uploads_abandoned_for_a_month_are_swept_and_finished_ones_kept(world, psi, photo):
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from qcloop.field.sweeps import delete_abandoned_uploads

    api = client_for(world.inspector)
    abandoned = declare(api, psi, photo).json()
    put(api, abandoned["id"], 0, photo[:CHUNK])
    finished = declare(api, psi, photo).json()
    chunk_files = FieldUpload.objects.get(pk=abandoned["id"]).chunks
    assert all(default_storage.exists(name) for name in chunk_files)
    assert delete_abandoned_uploads() == 0
    month_ago = timezone.now() - timedelta(days=31)
    FieldUpload.objects.update(updated_at=month_ago)
    FieldUpload.objects.filter(pk=finished["id"]).update(completed_at=month_ago)
    assert delete_abandoned_uploads() == 1
    assert list(FieldUpload.objects.values_list("pk", flat=True)) == [uuid.UUID(finished["id"])]
    assert not any(default_storage.exists(name) for name in chunk_files)
