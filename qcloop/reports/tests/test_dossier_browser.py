"""The photo dossier downloaded in Chromium from the PO page, as a buyer does it."""

import csv
import hashlib
import io
import zipfile

import pytest

from conftest import sign_in
from qcloop.accounts.models import Role
from qcloop.inspections.models import PhotoAttachment
from qcloop.inspections.photos import ingest, upload_photo
from qcloop.reports import services
from qcloop.reports.models import Report
from qcloop.testing import start_inspection, submit_inspection_of

pytestmark = pytest.mark.browser


def downloaded(page, files: str) -> zipfile.ZipFile:
    page.check(f"#dossier-download input[value={files}]")
    with page.expect_download() as info:
        page.click("#dossier-download button[type=submit]")
    download = info.value
    assert download.suggested_filename == "qcloop-PO-A-1001-photo-dossier.zip"
    with open(download.path(), "rb") as saved:
        return zipfile.ZipFile(io.BytesIO(saved.read()))


def index_rows(archive) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))


def test_a_buyer_downloads_the_photo_dossier_from_the_po_page(
    page, live_world, shared_photos, screenshot
):
    world = live_world
    dupro = submit_inspection_of(
        world,
        "DUPRO",
        defects=[("major", 1, "Loose stitching")],
        photos=[
            ((shared_photos / "jpg/gps/DSCN0010.jpg").read_bytes(), "Hem", True),
            ((shared_photos / "jpg/Canon_40D.jpg").read_bytes(), "Cartons"),
        ],
    )
    services.approve(by=world.qc_lead, report=Report.objects.get(milestone=dupro))
    # A PSI under way: its photo is the agency's until the PSI is published.
    psi = start_inspection(world, "PSI", plan_sample=False)
    unpublished = upload_photo(
        by=world.inspector,
        milestone=psi,
        data=(shared_photos / "jpg/Nikon_D70.jpg").read_bytes(),
        name="Nikon_D70.jpg",
    )
    ingest(unpublished.pk)
    published = {
        a.photo.sha256
        for a in PhotoAttachment.objects.filter(milestone=dupro).select_related("photo")
    }

    sign_in(page, world.user(Role.BUYER_MANAGER))
    page.goto(f"/pos/{world.po.pk}/")
    section = page.locator("#dossier")
    assert "The 2 photos of PO PO-A-1001 you may see" in section.inner_text()
    screenshot("po-detail-dossier")

    archive = downloaded(page, "originals")
    names = set(archive.namelist())
    assert {"index.csv", "index.html", "SHA256SUMS", "README.txt"} <= names
    rows = index_rows(archive)
    assert len(rows) == 2 and all(row["file"].startswith("02-DUPRO/") for row in rows)
    for row in rows:
        data = archive.read(row["file"])
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert row["sha256"] in published  # the originals, byte for byte
        assert f'href="{row["file"]}"' in archive.read("index.html").decode()
    assert not any(name.startswith("03-PSI") for name in names)

    archive = downloaded(page, "renditions")
    rows = index_rows(archive)
    assert len(rows) == 2 and all(row["file"].endswith(".jpg") for row in rows)
    assert all(row["original sha256"] in published for row in rows)
    assert {row["sha256"] for row in rows}.isdisjoint(published)  # not the originals

    # The report and the PO's photos offer the same download.
    page.click("#po-reports >> text=DUPRO report")
    assert page.locator("#dossier").is_visible()
    screenshot("report-detail-dossier")
    page.goto(f"/pos/{world.po.pk}/photos/")
    page.select_option("#dossier-download select", "renditions")
    with page.expect_download() as info:
        page.click("#dossier-download button")
    assert len(index_rows(zipfile.ZipFile(info.value.path()))) == 2
    screenshot("po-photos-dossier")
