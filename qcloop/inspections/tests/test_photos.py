"""Photo evidence end to end with real files: upload, background ingest, content addressing,
integrity flags, reuse across POs, galleries, the gate on the files, the QC lead's review."""

import os
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from conftest import in_ci
from qcloop.accounts.models import Role
from qcloop.inspections.models import AttachmentStatus, Photo, PhotoAttachment
from qcloop.inspections.photos import ingest, review_flags, upload_photo
from qcloop.inspections.services import transition_milestone, update_milestone
from qcloop.testing import start_inspection

PHOTOS = Path(__file__).resolve().parents[3].parent / "shared" / "photos"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shared_photos():
    if not PHOTOS.is_dir():
        if in_ci():
            pytest.fail(f"{PHOTOS} is missing: CI must have the shared photos beside the repo")
        pytest.skip(f"the shared photos are not at {PHOTOS}")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


def started(world, kind="PSI"):
    return start_inspection(world, kind, plan_sample=False)


def uploaded(world, milestone, relative: str, **links) -> PhotoAttachment:
    data = (PHOTOS / relative).read_bytes()
    attachment = upload_photo(
        by=world.inspector, milestone=milestone, data=data, name=os.path.basename(relative), **links
    )
    ingest(attachment.pk)  # what the worker does
    attachment.refresh_from_db()
    return attachment


def kinds(attachment) -> set[str]:
    return {flag["kind"] for flag in attachment.flags}


def test_a_gps_photo_taken_elsewhere_is_stored_once_and_flagged(world):
    psi = started(world)
    first = uploaded(world, psi, "jpg/gps/DSCN0010.jpg", caption="Carton stack")
    assert first.status == AttachmentStatus.READY
    photo = first.photo
    assert len(photo.sha256) == 64 and photo.latitude is not None and photo.camera
    # The Nikon took it in Europe, far from the Zhongshan factory, years before this inspection.
    assert {"far_from_factory", "outside_inspection_day"} <= kinds(first)
    again = uploaded(world, psi, "jpg/gps/DSCN0010.jpg")
    assert again.photo_id == photo.pk and Photo.objects.count() == 1


@pytest.mark.parametrize(
    "relative", ["jpg/Canon_40D.jpg", "heic/IMG_5195.HEIC", "heic/samplefilehub.heif"]
)
def test_every_format_gives_a_rendition_and_a_thumbnail(world, relative):
    from django.core.files.storage import default_storage
    from PIL import Image

    attachment = uploaded(world, started(world), relative)
    assert attachment.status == AttachmentStatus.READY, attachment.error
    with default_storage.open(attachment.photo.rendition) as rendition:
        image = Image.open(rendition)
        assert image.format == "JPEG" and max(image.size) <= 1600
        assert not image.getexif()  # metadata stripped from what is shown


def truncated() -> bytes:
    data = (PHOTOS / "jpg/Canon_40D.jpg").read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize("source", ["jpg/corrupted.jpg", "truncated"])
def test_a_broken_file_is_rejected_with_its_reason_and_nothing_else_changes(world, source):
    psi = started(world)
    data = truncated() if source == "truncated" else (PHOTOS / source).read_bytes()
    attachment = upload_photo(by=world.inspector, milestone=psi, data=data, name="broken.jpg")
    ingest(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.REJECTED and attachment.error
    assert attachment.photo is None and Photo.objects.count() == 0
    psi.refresh_from_db()
    assert psi.status == "in_progress"


def test_a_file_that_is_not_an_image_is_rejected(world):
    psi = started(world)
    attachment = upload_photo(
        by=world.inspector, milestone=psi, data=b"%PDF-1.7\n%\xe2\xe3\n", name="photo.jpg"
    )
    ingest(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.REJECTED and "PDF" in attachment.error


def test_an_oversize_upload_is_refused_before_anything_is_stored(world, settings):
    from qcloop.inspections import photos

    psi = started(world)
    original, photos.MAX_UPLOAD_BYTES = photos.MAX_UPLOAD_BYTES, 1000
    try:
        with pytest.raises(ValidationError) as caught:
            upload_photo(by=world.inspector, milestone=psi, data=b"x" * 2000, name="big.jpg")
    finally:
        photos.MAX_UPLOAD_BYTES = original
    assert list(caught.value.message_dict) == ["file"]
    assert not PhotoAttachment.objects.exists()


def test_a_photo_reused_on_another_po_is_flagged(world):
    from qcloop.orders.services import PODraft, create_purchase_order

    first = uploaded(world, started(world), "jpg/Nikon_D70.jpg")
    assert "reused" not in kinds(first)
    draft = PODraft.of(world.po)
    draft.number = "PO-A-2002"
    other_po = create_purchase_order(by=world.user(Role.BUYER_MANAGER), draft=draft)
    other = other_po.milestones.get(kind="PSI")
    update_milestone(
        by=world.qc_lead,
        milestone=other,
        changes={
            "inspection_date": other.window_start,
            "inspector": world.inspector,
            "status": "booked",
        },
    )
    transition_milestone(by=world.inspector, milestone=other, to="in_progress")
    recycled = uploaded(world, other, "jpg/Nikon_D70.jpg")
    assert "reused" in kinds(recycled)
    assert "PO PO-A-1001" in next(f["message"] for f in recycled.flags if f["kind"] == "reused")


def test_the_gallery_filters_and_the_files_stay_behind_the_gate(world, other_world):
    psi = started(world)
    flagged = uploaded(world, psi, "jpg/gps/DSCN0012.jpg", caption="Label close-up")
    client = Client()
    client.force_login(world.inspector)
    gallery = client.get(
        reverse("inspections:milestone_photos", args=[psi.pk]), {"flag": "far_from_factory"}
    )
    assert "Label close-up" in gallery.content.decode()
    none = client.get(reverse("inspections:milestone_photos", args=[psi.pk]), {"flag": "none"})
    assert "Label close-up" not in none.content.decode()
    thumb = client.get(reverse("inspections:photo_file", args=[flagged.pk, "thumbnail"]))
    assert thumb.status_code == 200 and thumb["Cache-Control"].startswith("private")
    outsider = Client()
    outsider.force_login(other_world.user(Role.COORDINATOR))
    assert (
        outsider.get(reverse("inspections:photo_file", args=[flagged.pk, "original"])).status_code
        == 404
    )
    buyer = Client()
    buyer.force_login(world.user(Role.BUYER_MANAGER))  # not published yet
    assert (
        buyer.get(reverse("inspections:photo_file", args=[flagged.pk, "thumbnail"])).status_code
        == 404
    )


def test_the_qc_lead_reviews_a_flag(world):
    psi = started(world)
    flagged = uploaded(world, psi, "jpg/gps/DSCN0021.jpg")
    with pytest.raises(ValidationError):
        review_flags(by=world.qc_lead, attachment=flagged, justification=" ")
    review_flags(
        by=world.qc_lead,
        attachment=flagged,
        justification="Reference photo of the golden sample, sent by the buyer.",
    )
    flagged.refresh_from_db()
    assert flagged.reviewed_by == world.qc_lead


HOSTILE = Path(__file__).resolve().parents[3] / "tests" / "data" / "photos"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bomb-30000x30000.png", "pixels"),
        ("truncated.jpg", ""),
        ("invoice-not-a-photo.jpg", "PDF"),
    ],
)
def test_hostile_files_are_rejected_and_nothing_else_changes(world, name, reason):
    psi = started(world)
    before = psi.defects.count(), psi.answers.count()
    attachment = upload_photo(
        by=world.inspector, milestone=psi, data=(HOSTILE / name).read_bytes(), name=name
    )
    ingest(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.REJECTED
    assert reason in attachment.error
    assert Photo.objects.count() == 0 and (psi.defects.count(), psi.answers.count()) == before


def test_an_empty_upload_is_refused(world):
    with pytest.raises(ValidationError, match="empty"):
        upload_photo(
            by=world.inspector,
            milestone=started(world),
            data=(HOSTILE / "empty.jpg").read_bytes(),
            name="empty.jpg",
        )


def test_absurd_exif_is_stored_with_flags(world):
    attachment = upload_photo(
        by=world.inspector,
        milestone=started(world),
        data=(HOSTILE / "absurd-exif.jpg").read_bytes(),
        name="a.jpg",
    )
    ingest(attachment.pk)
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.READY
    assert {"absurd_exif", "edited"} <= kinds(attachment)


def test_a_photo_is_linked_to_a_measurement_through_the_api(world):
    from decimal import Decimal

    from qcloop.accounts.services import create_api_token
    from qcloop.inspections.models import MeasurementChart
    from qcloop.inspections.recording import record_reading

    psi = started(world)
    chart = MeasurementChart.objects.create(
        product=world.product,
        points=[
            {"code": "H", "name": "Height", "spec": "45", "minus": "0.5", "plus": "1", "unit": "cm"}
        ],
    )
    reading = record_reading(
        by=world.inspector,
        milestone=psi,
        chart=chart,
        sample_unit=1,
        point_code="H",
        value=Decimal("47"),
        unit="cm",
    )
    _, token = create_api_token(user=world.inspector, name="app")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    with open(PHOTOS / "jpg/Canon_40D.jpg", "rb") as photo:
        response = client.post(
            f"/api/milestones/{psi.pk}/photos",
            {"file": photo, "reading": reading.pk, "caption": "Tape at 47 cm"},
        )
    assert response.status_code == 202, response.content
    attachment = PhotoAttachment.objects.get(pk=response.json()["id"])
    assert attachment.reading == reading and attachment.finding == "measurement"
    ingest(attachment.pk)
    listed = client.get(f"/api/milestones/{psi.pk}/photos").json()
    assert listed[0]["status"] == "ready" and listed[0]["thumbnail_url"]
