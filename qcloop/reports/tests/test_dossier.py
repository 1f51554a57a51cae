"""The photo dossier of a PO with real photos: a ZIP organised by milestone and finding whose
files hash to the SHA-256 its index gives, an index (CSV and HTML) that says what each photo
shows and whether it is the original, and the tenancy gate on the whole download."""

import csv
import hashlib
import io
import re
import zipfile
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from PIL import Image

from qcloop.accounts.models import Role
from qcloop.accounts.services import create_api_token
from qcloop.inspections.models import PhotoAttachment
from qcloop.inspections.photos import ingest, upload_photo
from qcloop.reports import dossier, services
from qcloop.reports.models import Report
from qcloop.testing import start_inspection, submit_inspection_of

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("dossier")</script> strap & "buckle"'


def url(po, **query) -> str:
    suffix = f"?{urlencode(query)}" if query else ""
    return reverse("reports:dossier", args=[po.pk]) + suffix


def phone_rendition(path) -> bytes:
    """What a phone sends first: a smaller JPEG of the photo, the original to follow."""
    image = Image.open(path).convert("RGB")
    image.thumbnail((64, 64))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def uploaded(world, milestone, data: bytes, name: str, **links) -> PhotoAttachment:
    attachment = upload_photo(
        by=world.inspector, milestone=milestone, data=data, name=name, **links
    )
    ingest(attachment.pk)  # what the worker does
    attachment.refresh_from_db()
    assert attachment.status == "ready", attachment.error
    return attachment


@pytest.fixture
def sources(world, shared_photos):
    """A published DUPRO with a defect, a checklist item, a loading step (whose original has
    not arrived) and a general HEIC photo; a PSI in progress with one photo. Returns each
    attachment's pk with the bytes uploaded."""
    dupro = submit_inspection_of(world, "DUPRO", defects=[("major", 1, "Loose stitching")])
    item = dupro.checklist.items[0]["code"]
    files = {
        "defect": ("jpg/gps/DSCN0010.jpg", {"defect": dupro.defects.get(), "caption": "Hem"}),
        "checklist": ("jpg/Nikon_D70.jpg", {"item_code": item, "caption": SCRIPT}),
        "general": ("heic/IMG_5195.HEIC", {"caption": "=1+1 gate"}),
    }
    made = {}
    for finding, (relative, links) in files.items():
        data = (shared_photos / relative).read_bytes()
        attachment = uploaded(world, dupro, data, relative.rsplit("/", 1)[-1], **links)
        made[finding] = (attachment.pk, data)
    rendition = phone_rendition(shared_photos / "jpg/Canon_40D.jpg")
    made["loading"] = (
        uploaded(
            world,
            dupro,
            rendition,
            "IMG_0042.JPG",
            loading_step="Cartons palletised",
            awaiting_original=True,
        ).pk,
        rendition,
    )
    services.approve(by=world.qc_lead, report=Report.objects.get(milestone=dupro))
    psi = start_inspection(world, "PSI", plan_sample=False)
    psi_data = (shared_photos / "jpg/Canon_40D.jpg").read_bytes()
    made["psi"] = (uploaded(world, psi, psi_data, "Canon_40D.jpg", caption="Shade").pk, psi_data)
    return made


def download(client, user, po, **query):
    client.force_login(user)
    response = client.get(url(po, **query))
    assert response.status_code == 200, response.content
    return response, zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def index_rows(archive) -> list[dict]:
    data = archive.read("index.csv")
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_originals_are_organised_by_milestone_and_finding_and_hash_to_the_index(
    world, sources, client
):
    assert url(world.po) == f"/pos/{world.po.pk}/dossier.zip"
    response, archive = download(client, world.qc_lead, world.po)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        'attachment; filename="qcloop-PO-A-1001-photo-dossier.zip"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert archive.testzip() is None
    rows = index_rows(archive)
    photo = {pk: PhotoAttachment.objects.get(pk=pk).photo for pk, _ in sources.values()}
    expected = [
        ("defect", r"02-DUPRO/defects/D1-Loose-stitching/001-{}\.jpg"),
        ("checklist", r"02-DUPRO/checklist/[A-Za-z0-9_-]+/002-{}\.jpg"),
        ("loading", r"02-DUPRO/loading/Cartons-palletised/003-{}\.jpg"),
        ("general", r"02-DUPRO/general/004-{}\.heic"),
        ("psi", r"03-PSI/general/005-{}\.jpg"),
    ]
    assert len(rows) == len(expected)
    for row, (source, pattern) in zip(rows, expected, strict=True):
        pk, uploaded_bytes = sources[source]
        assert re.fullmatch(pattern.format(photo[pk].sha256[:12]), row["file"]), row["file"]
        data = archive.read(row["file"])
        # The evidence exactly as uploaded, and the hash recorded at upload is the file's own.
        assert data == uploaded_bytes
        assert sha(data) == row["sha256"] == photo[pk].sha256
        assert archive.getinfo(row["file"]).compress_type == zipfile.ZIP_STORED
        stem = row["file"].rsplit("/", 1)[1].rsplit(".", 1)[0]
        thumbnail = Image.open(io.BytesIO(archive.read(f"thumbnails/{stem}.jpg")))
        assert thumbnail.format == "JPEG"
    sums = archive.read("SHA256SUMS").decode().splitlines()
    assert sums == [f"{row['sha256']}  {row['file']}" for row in rows]
    assert archive.getinfo("index.csv").compress_type == zipfile.ZIP_DEFLATED


def test_the_index_gives_time_place_finding_flags_and_a_missing_original(world, sources, client):
    _, archive = download(client, world.qc_lead, world.po)
    rows = {"/".join(row["file"].split("/")[:2]): row for row in index_rows(archive)}
    defect = rows["02-DUPRO/defects"]
    assert defect["milestone"] == "DUPRO" and defect["finding"] == "defect"
    assert defect["finding detail"] == "Major: Loose stitching, 1 unit(s)"
    assert defect["taken at"].startswith("2008-") and defect["camera clock had a zone"] == "no"
    assert defect["latitude"] and defect["longitude"] and defect["camera"]
    assert defect["integrity flags"]  # a Nikon photo taken in Europe years ago
    assert defect["original file name"] == "DSCN0010.jpg"
    assert defect["uploaded by"] == str(world.inspector)
    assert defect["uploaded at (UTC)"].endswith("+00:00")
    loading = rows["02-DUPRO/loading"]
    assert loading["finding detail"] == "Cartons palletised"
    assert "original has not arrived" in loading["file is"]
    assert loading["original sha256"] == "" and "Awaiting the original" in loading["note"]
    # A caption that looks like a formula stays text in Excel.
    assert rows["02-DUPRO/general"]["caption"] == "'=1+1 gate"
    assert rows["03-PSI/general"]["caption"] == "Shade"
    readme = archive.read("README.txt").decode()
    assert "sha256sum" in readme and "Get-FileHash" in readme and "PO-A-1001" in readme


def test_renditions_are_light_jpegs_and_give_the_originals_hash_as_such(world, sources, client):
    _, archive = download(client, world.qc_lead, world.po, files="renditions")
    rows = index_rows(archive)
    assert len(rows) == len(sources)
    for row in rows:
        data = archive.read(row["file"])
        image = Image.open(io.BytesIO(data))
        assert row["file"].endswith(".jpg") and image.format == "JPEG"
        assert max(image.size) <= 1600 and not image.getexif()
        assert sha(data) == row["sha256"]
        assert row["file is"].startswith("a rendition") and "not in this ZIP" in row["file is"]
    heic = next(row for row in rows if row["original file name"] == "IMG_5195.HEIC")
    assert heic["original sha256"] == sha(sources["general"][1]) != heic["sha256"]
    assert "original as uploaded" in archive.read("README.txt").decode()


def test_the_html_index_lists_every_photo_self_contained_and_escaped(world, sources, client):
    _, archive = download(client, world.qc_lead, world.po)
    html = archive.read("index.html").decode()
    names = set(archive.namelist())
    for row in index_rows(archive):
        assert f'href="{row["file"]}"' in html and row["sha256"] in html
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references and all(ref in names for ref in references)  # relative, in the ZIP
    assert "<script" not in html.lower() and "&lt;script&gt;alert(&quot;dossier&quot;)" in html
    assert 'class="flags"' in html and 'class="sha"' in html


def test_a_buyer_and_the_supplier_get_published_milestones_only(world, sources, client):
    supplier = world.user(Role.SUPPLIER_USER)
    # The supplier sees the evidence only when the buyer shares its reports with suppliers.
    _, archive = download(client, supplier, world.po)
    assert index_rows(archive) == []
    services.share_with_suppliers(world.buyer, True)
    for role in (Role.BUYER_MANAGER, Role.SUPPLIER_USER):
        _, archive = download(client, world.user(role), world.po)
        files = [row["file"] for row in index_rows(archive)]
        assert len(files) == 4 and all(f.startswith("02-DUPRO/") for f in files)
        assert not any(name.startswith("03-PSI") for name in archive.namelist())
    _, archive = download(client, world.qc_lead, world.po)
    assert any(row["file"].startswith("03-PSI/") for row in index_rows(archive))


def test_outsiders_get_404_and_a_bad_choice_of_files_is_400(world, other_world, client):
    for role in (Role.COORDINATOR, Role.QC_LEAD, Role.BUYER_MANAGER, Role.SUPPLIER_USER):
        client.force_login(other_world.user(role))
        assert client.get(url(world.po)).status_code == 404
        assert client.get(url(world.po, files="bogus")).status_code == 404
    client.logout()
    assert client.get(url(world.po)).status_code == 302  # to sign in
    client.force_login(world.qc_lead)
    bad = client.get(url(world.po, files="thumbnails"))
    assert bad.status_code == 400
    assert "files must be originals or renditions" in bad.content.decode()
    assert client.post(url(world.po)).status_code == 405


def api_get(client, user, po, **query):
    _, token = create_api_token(user=user, name="dossier")
    suffix = f"?{urlencode(query)}" if query else ""
    path = f"/api/purchase-orders/{po.pk}/dossier{suffix}"
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_api_streams_the_same_zip_as_the_page(world, other_world, sources, client):
    buyer = world.user(Role.BUYER_MANAGER)
    for files in ("originals", "renditions"):
        response = api_get(client, buyer, world.po, files=files)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert response["Content-Disposition"] == (
            'attachment; filename="qcloop-PO-A-1001-photo-dossier.zip"'
        )
        assert response["Cache-Control"] == "private, no-store"
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        _, page_archive = download(client, buyer, world.po, files=files)
        pairs = [(row["file"], row["sha256"]) for row in index_rows(archive)]
        assert len(pairs) == 4 and pairs == [
            (row["file"], row["sha256"]) for row in index_rows(page_archive)
        ]
    default = api_get(client, buyer, world.po)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(default.streaming_content)))
    first = index_rows(archive)[0]
    assert archive.read(first["file"]) == sources["defect"][1]  # originals unless asked


def test_the_api_refuses_a_bad_choice_of_files_and_outsiders(world, other_world, client):
    bad = api_get(client, world.qc_lead, world.po, files="thumbnails")
    assert bad.status_code == 422
    (error,) = bad.json()["detail"]
    assert error["loc"] == ["query", "files"] and "originals" in error["msg"]
    for role in (Role.COORDINATOR, Role.BUYER_MANAGER, Role.SUPPLIER_USER):
        refused = api_get(client, other_world.user(role), world.po)
        assert (refused.status_code, refused.json()) == (404, {"detail": "Not Found"})
    assert client.get(f"/api/purchase-orders/{world.po.pk}/dossier").status_code == 401


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, "JPEG")
    return out.getvalue()


def test_the_pages_offer_the_dossier_to_whoever_may_see_a_photo_of_the_po(world, client):
    action = f'action="{url(world.po)}"'
    buyer, supplier = world.user(Role.BUYER_MANAGER), world.user(Role.SUPPLIER_USER)
    agency = (world.qc_lead, world.user(Role.COORDINATOR))

    def po_page(user) -> str:
        client.force_login(user)
        return client.get(reverse("orders:po_detail", args=[world.po.pk])).content.decode()

    assert not any(action in po_page(user) for user in (*agency, buyer))  # no photo yet
    photos = [(jpeg((200, 40, 40)), "Hem", True), (jpeg((40, 200, 40)), "Carton")]
    dupro = submit_inspection_of(
        world, "DUPRO", defects=[("major", 1, "Loose stitching")], photos=photos
    )
    # Submitted: the agency sees its photos, the buyer and the supplier once published.
    for user in agency:
        assert action in po_page(user)
    assert action not in po_page(buyer) and action not in po_page(supplier)
    html = po_page(world.qc_lead)
    assert "Photo dossier (ZIP)" in html and "The 2 photos of PO PO-A-1001" in html
    assert 'value="originals" checked' in html and 'value="renditions"' in html
    offer = dossier.dossier_offer(world.qc_lead, world.po)
    assert (offer.photos, offer.original_bytes) == (2, sum(len(data) for data, *_ in photos))

    report = Report.objects.get(milestone=dupro)
    services.approve(by=world.qc_lead, report=report)
    assert action in po_page(buyer)
    assert action not in po_page(supplier)  # until the buyer shares its reports
    services.share_with_suppliers(world.buyer, True)
    assert action in po_page(supplier)
    for page in (  # as the buyer
        reverse("inspections:po_photos", args=[world.po.pk]),
        reverse("reports:detail", args=[report.pk]),
    ):
        assert action in client.get(page).content.decode(), page


def test_memory_stays_bounded_the_zip_is_sent_in_chunks(
    world, sources, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(dossier, "CHUNK_BYTES", 4096)
    built = dossier.open_dossier(world.qc_lead, world.po.pk)
    with django_assert_num_queries(0):  # all read before the first byte goes out
        chunks = list(dossier.stream_dossier(built))
    # A chunk is one read of a file plus a few headers, never a whole photo or the archive.
    assert max(len(chunk) for chunk in chunks) <= 4096 + 8192
    assert len(chunks) > sum(len(data) for _, data in sources.values()) / 4096
    assert zipfile.ZipFile(io.BytesIO(b"".join(chunks))).testzip() is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Loose stitching", "Loose-stitching"),
        ("../../etc/passwd", "etc-passwd"),
        ("C:\\Windows\\evil", "C-Windows-evil"),
        ("Côté épaule", "Cote-epaule"),
        ("线头", "untitled"),
        ("CON", "CON_"),
        ("x" * 200, "x" * dossier.NAME_LIMIT),
    ],
)
def test_names_in_the_zip_are_safe(text, expected):
    assert dossier.safe_name(text) == expected


def test_folder_names_that_come_out_alike_are_told_apart():
    folders = dossier._Folders()
    assert folders.name("checklist/A-1", "A/1") == "checklist/A-1"
    assert folders.name("checklist/A-1", "A-1") == "checklist/A-1-2"
    assert folders.name("checklist/A-1", "A/1") == "checklist/A-1"
