"""Hostile input at the doors people and systems use: NUL characters, bodies too big for text,
broken JSON, SQL-looking and unicode-edge strings, and photos that are broken, bombs, polyglots
or named to climb out of their folder. Each gets a clear error (4xx naming the problem) or is
stored safely and given back exactly; nothing answers 500, nothing half-made is left behind.
The run's summary prints how many hostile inputs were tried (qcloop/testing/figures.py)."""

import io
import json
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from qcloop.accounts.models import Role
from qcloop.accounts.services import create_api_token
from qcloop.inspections.models import AttachmentStatus, PhotoAttachment
from qcloop.inspections.photos import ingest
from qcloop.orders.models import Supplier
from qcloop.testing import start_inspection
from qcloop.testing.figures import count

pytestmark = pytest.mark.django_db
CORPUS_DIR = Path(__file__).resolve().parents[3] / "tests" / "data" / "photos"


def tried(what: str) -> None:
    count(f"hostile inputs tried ({what})")


SQL_LOOKING = [
    "'; DROP TABLE orders_purchaseorder; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM accounts_user WHERE ('1'='1",
    "1; SELECT pg_sleep(10)",
]
UNICODE_EDGES = [
    "\u202egpj.exe",  # right-to-left override: shows as "exe.jpg"
    "👩\u200d🔧 Nguyễn Thị Ánh",  # a ZWJ emoji and Vietnamese diacritics
    "e\u0301\u0301\u0301 combining",  # stacked combining accents
    "\U0001d518\U0001d52b\U0001d526 \U0002070e 4-byte",  # outside the basic plane
    "\ufeffBOM first",
    "Zero\u200bwidth",
    "the six characters \\u0000 are text, not a NUL",
]


def api_client(client, user):
    _, token = create_api_token(user=user, name="hostile")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def supplier(code: str, name: str) -> dict:
    return {"code": code, "name": name, "country": "CN"}


def test_nul_characters_are_refused_at_every_kind_of_door(client, world):
    manager = world.user(Role.BUYER_MANAGER)
    api = api_client(client, manager)
    before = Supplier.objects.count()
    json_body = "application/json"
    cases = [
        ("json body", lambda: api.post("/api/suppliers", supplier("V-1", "a\x00b"), json_body)),
        ("json key", lambda: api.post("/api/suppliers", {"na\x00me": "x"}, json_body)),
        ("query", lambda: api.get("/api/purchase-orders?search=a%00b")),
    ]  # fmt: skip
    for what, call in cases:
        tried("NUL characters")
        response = call()
        assert response.status_code == 400, (what, response.content)
        assert "NUL character (0x00)" in response.json()["detail"]
    client.defaults.pop("HTTP_AUTHORIZATION")
    client.force_login(manager)
    tried("NUL characters")
    page = client.post("/accounts/tokens/", {"name": "ERP\x00", "access": "read"})
    assert page.status_code == 400 and b"NUL character" in page.content
    assert Supplier.objects.count() == before
    assert not manager.api_tokens.filter(name__startswith="ERP").exists()


def test_a_text_body_too_big_is_refused_naming_the_limit(client, world):
    api = api_client(client, world.user(Role.BUYER_MANAGER))
    tried("oversized or broken bodies")
    body = json.dumps(supplier("V-1", "x" * (3 * 1024 * 1024)))
    response = api.post("/api/suppliers", body, content_type="application/json")
    assert response.status_code == 413
    assert "larger than the 2.5 MB accepted for text" in response.json()["detail"]
    tried("oversized or broken bodies")
    broken = api.post(
        "/api/suppliers", b'{"code": "V-1", "name": ', content_type="application/json"
    )
    assert broken.status_code == 400
    assert not Supplier.objects.filter(code="V-1").exists()


@pytest.mark.parametrize("text", SQL_LOOKING + UNICODE_EDGES)
def test_sql_looking_and_unicode_edge_strings_are_kept_exactly(client, world, text):
    tried("SQL-looking and unicode-edge text")
    api = api_client(client, world.user(Role.BUYER_MANAGER))
    made = api.post("/api/suppliers", supplier("V-77", text), content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["name"] == text
    assert Supplier.objects.get(pk=made.json()["id"]).name == text
    listed = api.get("/api/suppliers").json()
    assert text in [row["name"] for row in listed.get("items", listed)]
    assert Supplier.objects.filter(buyer=world.buyer).count() == 2, "nothing else changed"


def jpeg(colour=(120, 90, 60), size=(320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def png_with_broken_data() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(out, "PNG")
    data = bytearray(out.getvalue())
    at = data.index(b"IDAT") + 8
    data[at : at + 16] = b"\xff" * 16  # the compressed pixels no longer inflate
    return bytes(data)


PHOTOS_REFUSED = {
    "truncated.jpg": lambda: (CORPUS_DIR / "truncated.jpg").read_bytes(),
    "bomb-30000x30000.png": lambda: (CORPUS_DIR / "bomb-30000x30000.png").read_bytes(),
    "invoice-not-a-photo.jpg": lambda: (CORPUS_DIR / "invoice-not-a-photo.jpg").read_bytes(),
    "broken-idat.png": png_with_broken_data,
    "garbage.heic": lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x13" * 400,
    "page.jpg": lambda: b"<!doctype html><script>alert(document.cookie)</script>",
    "drawing.jpg": lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
}
POLYGLOT_TAIL = b"<html><script>alert(1)</script>" + b"PK\x05\x06" + b"\x00" * 18
PHOTOS_STORED_SAFELY = {
    "../../../etc/passwd.jpg": jpeg,
    "..\\..\\windows\\win.ini.jpg": lambda: jpeg((1, 2, 3)),
    "/absolute/path.jpg": lambda: jpeg((4, 5, 6)),
    "photo\u202egpj.exe.jpg": lambda: jpeg((7, 8, 9)),
    ("x" * 400) + ".jpg": lambda: jpeg((10, 11, 12)),
    # A polyglot: a real JPEG with an HTML page and a ZIP's end record after its last marker.
    "polyglot.jpg": lambda: jpeg((13, 14, 15)) + POLYGLOT_TAIL,
}  # fmt: skip


def upload_as_inspector(client, world, name: str, data: bytes):
    """The world's inspector sends one photo to their DUPRO, in progress, through the API."""
    tried("hostile photo files")
    dupro = start_inspection(world, "DUPRO", plan_sample=False)
    api = api_client(client, world.inspector)
    response = api.post(
        f"/api/milestones/{dupro.pk}/photos", {"file": _named(name, data), "caption": "hostile"}
    )
    return dupro, api, response


def _named(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


@pytest.mark.parametrize("name", sorted(PHOTOS_REFUSED))
def test_a_photo_that_is_not_a_usable_image_is_rejected_with_its_reason(client, world, name):
    dupro, _api, response = upload_as_inspector(client, world, name, PHOTOS_REFUSED[name]())
    assert response.status_code in {202, 422}, response.content
    if response.status_code == 422:
        assert response.json()["detail"]
        assert not PhotoAttachment.objects.filter(milestone=dupro).exists()
        return
    ingest(response.json()["id"])
    attachment = PhotoAttachment.objects.get(pk=response.json()["id"])
    assert attachment.status == AttachmentStatus.REJECTED and attachment.error
    assert attachment.photo is None and not attachment.staged, "nothing half-made kept"


@pytest.mark.parametrize("name", sorted(PHOTOS_STORED_SAFELY))
def test_a_photo_with_a_hostile_name_or_tail_is_stored_safely(client, world, name):
    dupro, api, response = upload_as_inspector(client, world, name, PHOTOS_STORED_SAFELY[name]())
    assert response.status_code == 202, response.content
    ingest(response.json()["id"])
    attachment = PhotoAttachment.objects.select_related("photo").get(pk=response.json()["id"])
    assert attachment.status == AttachmentStatus.READY, attachment.error
    photo = attachment.photo
    for stored in (photo.original, photo.rendition, photo.thumbnail):
        assert ".." not in stored and not stored.startswith(("/", "\\")), stored
        assert default_storage.exists(stored)
    with default_storage.open(photo.rendition, "rb") as handle:
        rendition = handle.read()
    assert b"<script>" not in rendition and b"PK\x05\x06" not in rendition, "re-encoded"
    page = api.get(f"/api/milestones/{dupro.pk}/photos")
    assert page.status_code == 200
