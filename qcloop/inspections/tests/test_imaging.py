"""The framework-free photo pipeline with real camera and phone files: formats, orientation,
stripped renditions, EXIF facts from broken files, hostile uploads, integrity flags and
near-duplicates at the calibrated threshold. Pure pytest, no database."""

import io
import itertools
import os
import struct
import zlib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageEnhance, ImageOps

from qcloop.inspections import imaging
from qcloop.inspections.imaging import ExifFacts, PhotoError, integrity_flags, process_photo

PHOTOS = Path(__file__).resolve().parents[3].parent / "shared" / "photos"
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


def real(relative: str) -> bytes:
    if not PHOTOS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PHOTOS} is missing: CI must have the shared photos beside the repo")
        pytest.skip(f"the shared photos are not at {PHOTOS} (see /work/shared/photos/README.md)")
    return (PHOTOS / relative).read_bytes()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_clean_jpeg(data: bytes, size: tuple[int, int]) -> None:
    image = decoded(data)
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == size
    assert not image.getexif()
    assert not {"exif", "icc_profile", "comment", "xmp", "photoshop"} & set(image.info)
    assert b"Exif\x00" not in data and b"http://ns.adobe.com/xap" not in data


def flags_of(facts, **overrides) -> dict[str, str]:
    arguments = dict(
        factory_lat=22.5176,  # Zhongshan
        factory_lon=113.3926,
        factory_tz="Asia/Shanghai",
        inspection_date=date(2026, 3, 18),
        now=NOW,
    )
    arguments.update(overrides)
    return {flag.kind: flag.message for flag in integrity_flags(facts, **arguments)}


# --- formats ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "relative",
    [
        "jpg/Canon_40D.jpg",
        "jpg/exif-org/nikon-e950.jpg",
        "jpg/exif-org/fujifilm-dx10.jpg",
        "jpg/mobile/HMD_Nokia_8.3_5G.jpg",
        "jpg/mobile/jolla.jpg",
        "jpg/tests/42_IndexError.jpg",
        "heic/IMG_5195.HEIC",
        "heic/samplefilehub.heif",
        "heic/mobile/HMD_Nokia_8.3_5G.heif",
    ],
)
def test_every_format_gives_clean_renditions_of_the_right_size(relative):
    data = real(relative)
    photo = process_photo(data)
    assert photo.format == ("heic" if relative.startswith("heic") else "jpeg")
    assert (
        photo.sha256 == process_photo(data).sha256 == __import__("hashlib").sha256(data).hexdigest()
    )
    long_side = max(photo.width, photo.height)
    expected = imaging._fit((photo.width, photo.height), 1600)
    assert photo.rendition_size == expected and max(expected) == min(long_side, 1600)
    assert max(photo.thumbnail_size) == min(long_side, 320)
    assert_clean_jpeg(photo.rendition, photo.rendition_size)
    assert_clean_jpeg(photo.thumbnail, photo.thumbnail_size)
    assert 0 <= photo.phash < 1 << 64


def test_iphone_heic_facts_and_colour():
    photo = process_photo(real("heic/IMG_5195.HEIC"))
    facts = photo.exif
    assert facts.has_exif and facts.make == "Apple" and facts.model == "iPhone 11 Pro Max"
    assert facts.taken_at == datetime(2021, 4, 11, 15, 47, 53, tzinfo=timezone(-timedelta(hours=5)))
    assert facts.latitude == pytest.approx(39.0513, abs=1e-3)
    assert facts.longitude == pytest.approx(-94.2888, abs=1e-3)
    assert (photo.width, photo.height) == (2566, 3313)


def test_mobile_heif_with_gps():
    facts = process_photo(real("heic/mobile/HMD_Nokia_8.3_5G.heif")).exif
    assert facts.latitude == pytest.approx(40.7887, abs=1e-3)
    assert facts.longitude == pytest.approx(-4.0051, abs=1e-3)
    assert facts.altitude is not None


def test_png_made_from_a_real_photo_palette_alpha_and_16_bit(tmp_path):
    source = ImageOps.exif_transpose(decoded(real("jpg/exif-org/canon-ixus.jpg")))
    variants = {
        "rgba": source.convert("RGBA"),
        "palette": source.convert("P", palette=Image.Palette.ADAPTIVE),
        "gray16": Image.fromarray(
            (np.asarray(source.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        ),
    }
    variants["rgba"].putalpha(128)
    for name, image in variants.items():
        out = io.BytesIO()
        image.save(out, "PNG")
        photo = process_photo(out.getvalue())
        assert photo.format == "png" and not photo.has_exif, name
        assert_clean_jpeg(photo.rendition, (640, 480))
        shown = np.asarray(decoded(photo.rendition).convert("L"), dtype=float)
        if name != "rgba":  # half-transparent on white is lighter by design
            original = np.asarray(source.convert("L"), dtype=float)
            assert np.abs(shown - original).mean() < 6, name
        assert shown.mean() > 20, name  # not black: 16-bit was scaled, not clipped


def test_orientation_is_applied_like_a_full_decode():
    for shape, n in itertools.product(["landscape", "portrait"], range(1, 9)):
        data = real(f"jpg/orientation/{shape}_{n}.jpg")
        photo = process_photo(data)
        reference = ImageOps.exif_transpose(decoded(data)).convert("RGB")
        if icc := decoded(data).info.get("icc_profile"):  # 2-8 carry Apple's Generic RGB
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            reference = ImageCms.profileToProfile(reference, source, ImageCms.createProfile("sRGB"))
        assert photo.rendition_size == reference.size, (shape, n)
        assert (photo.width, photo.height) == reference.size
        shown = decoded(photo.rendition).resize((64, 48) if shape == "landscape" else (48, 64))
        expected = reference.resize(shown.size)
        difference = np.abs(np.asarray(shown, float) - np.asarray(expected, float)).mean()
        assert difference < 8, (shape, n, difference)
        # The eight shots are one scene: once oriented, their hashes agree.
        assert (
            imaging.hamming(
                photo.phash, process_photo(real(f"jpg/orientation/{shape}_1.jpg")).phash
            )
            <= 4
        )


def test_large_jpeg_uses_dct_scaling_and_never_upscales():
    photo = process_photo(real("jpg/tests/42_IndexError.jpg"))  # 4032 x 3024
    assert photo.rendition_size == (1600, 1200) and photo.thumbnail_size == (320, 240)
    small = process_photo(real("jpg/Canon_40D.jpg"))  # 100 x 68
    assert small.rendition_size == small.thumbnail_size == (100, 68)


# --- EXIF ---------------------------------------------------------------------------------------


def _gps_by_pillow(data: bytes):
    gps = Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)

    def degrees(values, ref, negative):
        d, m, s = (float(v) for v in values)
        value = d + m / 60 + s / 3600
        return -value if ref == negative else value

    return degrees(gps[2], gps[1], "S"), degrees(gps[4], gps[3], "W")


@pytest.mark.parametrize("name", ["DSCN0010", "DSCN0021", "DSCN0029", "DSCN0042"])
def test_gps_facts_match_pillows_own_reading(name):
    data = real(f"jpg/gps/{name}.jpg")
    facts = process_photo(data).exif
    latitude, longitude = _gps_by_pillow(data)
    assert facts.latitude == pytest.approx(latitude, abs=1e-9)
    assert facts.longitude == pytest.approx(longitude, abs=1e-9)
    assert 43.4 < facts.latitude < 43.5 and 11.8 < facts.longitude < 11.9  # Tuscany
    assert facts.make == "NIKON" and facts.model == "COOLPIX P6000"
    assert facts.taken_at.year == 2008 and facts.taken_at.tzinfo is None
    assert facts.software == "Nikon Transfer 1.1 W"


def test_offset_capture_time_and_editor_software():
    facts = process_photo(real("jpg/mobile/HMD_Nokia_8.3_5G.jpg")).exif
    assert facts.taken_at.utcoffset() == timedelta(hours=3)
    gimp = process_photo(real("jpg/Canon_40D.jpg")).exif
    assert gimp.software == "GIMP 2.4.5" and gimp.modified_at > gimp.taken_at


def test_the_crash_corpus_never_raises_anything_but_photo_error():
    processed = 0
    for path in sorted((PHOTOS / "jpg" / "tests").glob("*")) if real("README.md") else []:
        try:
            photo = process_photo(path.read_bytes())
        except PhotoError:
            continue
        processed += 1
        assert isinstance(photo.exif.exif_problems, list)
        assert isinstance(photo.exif.to_dict(), dict)
    assert processed >= 10


def test_a_file_without_exif():
    facts = process_photo(real("jpg/exif-org/olympus-d320l.jpg")).exif  # JFXX, no EXIF
    assert not facts.has_exif and facts.taken_at is None
    assert set(flags_of(facts)) == {"no_exif"}


# --- hostile and broken files -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "words"),
    [("jpg/corrupted.jpg", "damaged")],
)
def test_a_corrupted_jpeg_is_refused_with_the_reason(relative, words):
    with pytest.raises(PhotoError, match=words):
        process_photo(real(relative))


def test_the_invalid_folder_holds_valid_images_with_odd_metadata():
    # jpg/invalid/ is "invalid" for EXIF readers (the APP1 holds XMP, not EXIF); libjpeg decodes
    # every one of them without a single warning, so they are accepted, as having no EXIF.
    for path in sorted((PHOTOS / "jpg" / "invalid").glob("*.jpg")) if real("README.md") else []:
        assert not process_photo(path.read_bytes()).has_exif


def test_truncated_and_damaged_copies_of_a_real_photo(tmp_path):
    data = real("jpg/gps/DSCN0010.jpg")
    for cut in (len(data) // 2, len(data) - 100, 600):
        with pytest.raises(PhotoError, match=r"truncated|damaged"):
            process_photo(data[:cut])
    with pytest.raises(PhotoError, match="empty"):
        process_photo(b"")
    with pytest.raises(PhotoError):
        process_photo(b"\xff\xd8\xff" + b"\x00" * 50)


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "a PDF"),
        (b"Invoice 2026-03\nTotal: 1,200 USD\n", "a text file"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "a GIF"),
        (b"PK\x03\x04" + b"\x00" * 40, "a ZIP"),
        (b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2mp41", "a video"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_whatever_its_name(tmp_path, content, looks_like):
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(content)
    with pytest.raises(PhotoError) as caught:
        process_photo(path.read_bytes())
    message = str(caught.value)
    assert "not a JPEG, PNG or HEIC image" in message and looks_like in message


def _png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(30_000, 30_000), (9_000, 8_000), (100_000, 1)])
def test_a_decompression_bomb_is_refused_from_its_header(size):
    bomb = _png_declaring(*size)
    assert len(bomb) < 2000  # tiny on disk, gigabytes once decoded
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(PhotoError, match="pixels"):
        process_photo(bomb, max_pixels=60_000_000 if size[1] > 1 else 50_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5_000_000


def test_an_oversize_upload_is_refused_before_decoding():
    data = real("jpg/gps/DSCN0010.jpg")
    with pytest.raises(PhotoError, match="at most"):
        process_photo(data, max_bytes=100_000)
    with pytest.raises(PhotoError, match="at most"):
        process_photo(b"%PDF" + b"x" * 5000, max_bytes=1000)  # size first, then the kind


def test_a_heic_without_exif_is_processed_and_flagged(tmp_path):
    source = decoded(real("jpg/exif-org/canon-ixus.jpg")).convert("RGB")
    clean = Image.fromarray(np.asarray(source))
    path = tmp_path / "no_exif.heic"
    clean.save(path, "HEIF", quality=70)
    photo = process_photo(path.read_bytes())
    assert photo.format == "heic" and not photo.has_exif
    assert set(flags_of(photo)) == {"no_exif"}


def _with_exif(tmp_path, taken: str, gps: tuple[float, float] | None) -> bytes:
    image = Image.open(io.BytesIO(real("jpg/gps/DSCN0010.jpg")))
    exif = image.getexif()
    exif.get_ifd(0x8769)[0x9003] = taken
    exif.get_ifd(0x8769).pop(0x9004, None)  # DateTimeDigitized, the fallback
    if gps is not None:
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2] = "N", (gps[0], 0.0, 0.0)
        ifd[3], ifd[4] = "E", (gps[1], 0.0, 0.0)
    path = tmp_path / "edited.jpg"
    image.save(path, exif=exif, quality=90)
    return path.read_bytes()


def test_absurd_exif_dates_and_null_island(tmp_path):
    future = process_photo(_with_exif(tmp_path, "2099:01:01 10:00:00", None)).exif
    assert future.taken_at == datetime(2099, 1, 1, 10, 0)
    assert "future" in flags_of(future)["absurd_exif"]
    old = process_photo(_with_exif(tmp_path, "1980:05:05 10:00:00", None)).exif
    assert "before 2000" in flags_of(old)["absurd_exif"]
    island = process_photo(_with_exif(tmp_path, "2026:03:18 10:00:00", (0.0, 0.0))).exif
    assert (island.latitude, island.longitude) == (0.0, 0.0)
    flags = flags_of(island)
    assert "0, 0" in flags["absurd_exif"] and "far_from_factory" not in flags
    blank = process_photo(_with_exif(tmp_path, "0000:00:00 00:00:00", None)).exif
    assert blank.taken_at is None and any("blank" in p for p in blank.exif_problems)


# --- integrity flags with hand-made facts -------------------------------------------------------


def test_haversine_against_a_known_distance():
    shanghai, guangzhou = (31.2304, 121.4737), (23.1291, 113.2644)
    assert imaging.haversine_km(*shanghai, *guangzhou) == pytest.approx(1_213, rel=0.01)


def test_far_from_factory_and_no_location():
    shanghai = ExifFacts(
        has_exif=True, taken_at=datetime(2026, 3, 18, 10, 0), latitude=31.2304, longitude=121.4737
    )
    flags = flags_of(shanghai)
    assert set(flags) == {"far_from_factory"}
    assert flags["far_from_factory"].startswith("Taken 1,")
    assert flags["far_from_factory"].endswith("km from the factory (at 31.23 N, 121.47 E).")
    near = ExifFacts(
        has_exif=True, taken_at=datetime(2026, 3, 18, 10, 0), latitude=22.52, longitude=113.39
    )
    assert flags_of(near) == {}
    nowhere = ExifFacts(has_exif=True, taken_at=datetime(2026, 3, 18, 10, 0))
    only = integrity_flags(
        nowhere,
        factory_lat=22.5,
        factory_lon=113.4,
        factory_tz="Asia/Shanghai",
        inspection_date=date(2026, 3, 18),
        now=NOW,
    )
    assert [(flag.kind, flag.soft) for flag in only] == [("no_location", True)]


def test_outside_the_inspection_day_in_the_factory_zone():
    at = ExifFacts(has_exif=True, taken_at=datetime(2026, 3, 12, 14, 5), latitude=22.5176,
                   longitude=113.3926)  # fmt: skip
    message = flags_of(at)["outside_inspection_day"]
    assert message.startswith("Taken on 12 Mar 2026 14:05")
    assert "no time zone" in message and message.endswith("inspection day 18 Mar 2026.")
    # 17 Mar 20:30 in Berlin (+01:00) is 18 Mar 03:30 in Zhongshan: the inspection day.
    berlin = timezone(timedelta(hours=1))
    same_day = ExifFacts(has_exif=True, taken_at=datetime(2026, 3, 17, 20, 30, tzinfo=berlin),
                         latitude=22.5176, longitude=113.3926)  # fmt: skip
    assert flags_of(same_day) == {}
    utc_eve = ExifFacts(has_exif=True, taken_at=datetime(2026, 3, 18, 17, 0, tzinfo=UTC),
                        latitude=22.5176, longitude=113.3926)  # fmt: skip
    message = flags_of(utc_eve, now=NOW + timedelta(days=2))["outside_inspection_day"]
    assert message == (
        "Taken on 19 Mar 2026 01:00 factory time, not on the inspection day 18 Mar 2026."
    )


def test_edited_by_software_or_by_a_later_modification_time():
    base = dict(has_exif=True, taken_at=datetime(2026, 3, 18, 10, 0), latitude=22.5176,
                longitude=113.3926)  # fmt: skip
    photoshop = ExifFacts(**base, software="Adobe Photoshop CS3 Windows")
    assert (
        flags_of(photoshop)["edited"]
        == "Edited with Adobe Photoshop CS3 Windows after it was taken."
    )
    for editor in ["GIMP 2.10", "Snapseed 2.0", "PicsArt", "Canva", "Lightroom Mobile"]:
        assert "edited" in flags_of(ExifFacts(**base, software=editor)), editor
    firmware = ExifFacts(**base, software="Ver.1.00", modified_at=datetime(2026, 3, 18, 10, 0, 30))
    assert flags_of(firmware) == {}
    later = ExifFacts(**base, software="Ver.1.00", modified_at=datetime(2026, 3, 18, 11, 30))
    assert "90 minutes after it was taken" in flags_of(later)["edited"]


def test_absurd_coordinates_and_times_by_hand():
    out = ExifFacts(
        has_exif=True, taken_at=datetime(2026, 3, 18, 10, 0), gps_out_of_range=(95.0, 10.0)
    )
    assert "not on Earth" in flags_of(out)["absurd_exif"]
    ahead = ExifFacts(has_exif=True, taken_at=NOW + timedelta(hours=3), latitude=22.5176,
                      longitude=113.3926)  # fmt: skip
    assert "future" in flags_of(ahead)["absurd_exif"]


# --- near-duplicates ----------------------------------------------------------------------------


def _edits(data: bytes) -> dict[str, bytes]:
    image = ImageOps.exif_transpose(decoded(data)).convert("RGB")
    width, height = image.size

    def save(im, fmt="JPEG", **options):
        out = io.BytesIO()
        im.save(out, fmt, **options)
        return out.getvalue()

    dx, dy = round(width * 0.03), round(height * 0.03)
    return {
        "q50": save(image, quality=50),
        "q70": save(image, quality=70),
        "half": save(image.resize((width // 2, height // 2), Image.Resampling.LANCZOS)),
        "quarter": save(image.resize((width // 4, height // 4), Image.Resampling.LANCZOS)),
        "crop 3%": save(image.crop((dx, dy, width - dx, height - dy))),
        "brighter": save(ImageEnhance.Brightness(image).enhance(1.1)),
        "png": save(image, "PNG"),
    }


NEAR_DUPLICATE_SAMPLES = [
    "jpg/gps/DSCN0010.jpg",
    "jpg/gps/DSCN0040.jpg",
    "jpg/exif-org/nikon-e950.jpg",
    "jpg/exif-org/sony-d700.jpg",
    "jpg/tests/22-canon_tags.jpg",
    "jpg/mobile/jolla.jpg",
    "jpg/orientation/landscape_6.jpg",
]


def test_edited_copies_are_near_duplicates_and_distinct_photos_are_not():
    hashes, crops_missed = {}, 0
    for relative in NEAR_DUPLICATE_SAMPLES:
        data = real(relative)
        hashes[relative] = original = process_photo(data).phash
        for kind, copy in _edits(data).items():
            distance = imaging.hamming(original, process_photo(copy).phash)
            if kind == "crop 3%":
                crops_missed += distance > imaging.NEAR_DUPLICATE_DISTANCE
            else:
                assert imaging.is_near_duplicate(original, process_photo(copy).phash), (
                    relative,
                    kind,
                    distance,
                )
    # pHash is not crop-proof: the calibration catches ~95 % of 3 % crops (22-canon_tags is
    # one it misses, at 18 bits).
    assert crops_missed <= 1
    others = sorted(
        str(path.relative_to(PHOTOS))
        for path in (PHOTOS / "jpg").rglob("*.jpg")
        if "orientation" not in str(path) and path.name != "corrupted.jpg"
    )
    for relative in others:
        hashes.setdefault(relative, process_photo(real(relative)).phash)
    for a, b in itertools.combinations(sorted(hashes), 2):
        if "orientation" in a and "orientation" in b:
            continue  # one scene
        assert not imaging.is_near_duplicate(hashes[a], hashes[b]), (a, b)
    assert imaging.hamming(0, (1 << 64) - 1) == 64 and imaging.NEAR_DUPLICATE_DISTANCE == 12


def test_a_png_whose_pixel_data_is_damaged_is_refused():
    """Reading a PNG's EXIF loads its pixels: damage there must still be an error, also in a
    process that imported WeasyPrint (which tells Pillow to tolerate truncated images)."""
    import weasyprint  # noqa: F401 - sets ImageFile.LOAD_TRUNCATED_IMAGES = True
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(out, "PNG")
    data = bytearray(out.getvalue())
    start = data.index(b"IDAT") + 8
    data[start : start + 16] = b"\xff" * 16
    with pytest.raises(PhotoError, match="PNG file is damaged or truncated"):
        process_photo(bytes(data))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "left as WeasyPrint wants it"
