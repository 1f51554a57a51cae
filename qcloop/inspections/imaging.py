"""The photo pipeline for inspection evidence, free of Django: bytes in, facts and renditions out.

`process_photo` checks what a file really is (from its bytes, never its name), refuses empty,
truncated, oversize and decompression-bomb files before they cost memory, and returns the
SHA-256 of the original, a metadata-free display rendition and thumbnail, the EXIF facts that
matter for evidence (capture time, camera, editor software, GPS) and a 64-bit perceptual hash.

`integrity_flags` turns those facts into the flags a QC lead reviews (taken elsewhere, on
another day, edited, no EXIF, absurd EXIF); near-duplicates are found by the caller against
stored hashes with `is_near_duplicate` and the calibrated `NEAR_DUPLICATE_DISTANCE`
(see bench/calibrate_phash.py).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile
from scipy.fft import dctn

pillow_heif.register_heif_opener()

DISPLAY_LONG_SIDE = 1600
THUMBNAIL_LONG_SIDE = 320
JPEG_QUALITY = 82
DEFAULT_MAX_BYTES = 40_000_000
DEFAULT_MAX_PIXELS = 60_000_000

# Calibrated on the 83 shared real photos by bench/calibrate_phash.py: the closest two distinct
# photos are 16 bits apart, so 12 keeps a 4-bit margin. It catches ~99 % of recompressed,
# resized, brightened and PNG copies and ~95 % of 3 % crops, but only ~30 % of 6 % crops
# (pHash is not crop-proof). A match is shown for review, never acted on automatically.
NEAR_DUPLICATE_DISTANCE = 12

# Flags that weaken the evidence without suggesting fraud: shown, but not alarming.
SOFT_FLAG_KINDS = frozenset({"no_location"})

EDITOR_SOFTWARE = re.compile(
    r"photoshop|gimp|lightroom|snapseed|picsart|canva|affinity|pixelmator|paint\.net|"
    r"paintshop|paint shop|corel|photoscape|acdsee|luminar|facetune|vsco|capture one|"
    r"darktable|rawtherapee|photo gallery|picasa|fotor|befunky|photopea|polarr|lightx|"
    r"meitu|photo ?editor|photodirector|aperture|\badobe\b",
    re.IGNORECASE,
)

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_ORIENTATION, _MAKE, _MODEL, _SOFTWARE, _DATETIME = 0x0112, 0x010F, 0x0110, 0x0131, 0x0132
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_TIME, _OFFSET_TIME_ORIGINAL = 0x9010, 0x9011
_TRANSPOSE = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_90],
}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1"}
_HEIF_BRANDS |= {b"msf1", b"heif"}
_PILLOW_FORMATS = {"jpeg": ["JPEG", "MPO"], "png": ["PNG"], "heic": ["HEIF"]}
_SRGB = ImageCms.createProfile("sRGB")


class PhotoError(ValueError):
    """The file is not a photo this pipeline accepts; the message says why, for the uploader."""


@dataclass(frozen=True)
class ExifFacts:
    """What the EXIF says, as far as it could be read. Times are naive (camera wall clock)
    unless the camera recorded an offset. Coordinates are decimal degrees in range;
    coordinates read but out of range are kept in `gps_out_of_range` only."""

    has_exif: bool = False
    taken_at: datetime | None = None
    modified_at: datetime | None = None
    make: str | None = None
    model: str | None = None
    software: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    orientation: int | None = None
    gps_out_of_range: tuple[float, float] | None = None
    exif_problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready, for the record."""
        facts = asdict(self)
        for key in ("taken_at", "modified_at"):
            if facts[key] is not None:
                facts[key] = facts[key].isoformat()
        if facts["gps_out_of_range"] is not None:
            facts["gps_out_of_range"] = list(facts["gps_out_of_range"])
        return facts


@dataclass(frozen=True)
class ProcessedPhoto:
    sha256: str  # of the original bytes: the content address
    format: str  # "jpeg", "png" or "heic" (also a file extension)
    width: int  # the original's pixel size, as displayed (orientation applied)
    height: int
    rendition: bytes  # JPEG, long side <= 1600, no metadata
    rendition_size: tuple[int, int]
    thumbnail: bytes  # JPEG, long side <= 320, no metadata
    thumbnail_size: tuple[int, int]
    phash: int  # 64-bit perceptual hash, unsigned
    exif: ExifFacts

    @property
    def has_exif(self) -> bool:
        return self.exif.has_exif

    @property
    def exif_problems(self) -> list[str]:
        return self.exif.exif_problems


@dataclass(frozen=True)
class Flag:
    kind: str
    message: str

    @property
    def soft(self) -> bool:
        return self.kind in SOFT_FLAG_KINDS


# --- format -------------------------------------------------------------------------------------


def sniff_format(data: bytes) -> str:
    """'jpeg', 'png' or 'heic' from the magic numbers; PhotoError naming what it looks like."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[4:8] == b"ftyp":
        brands = {data[8:12]}
        size = int.from_bytes(data[:4], "big")
        brands |= {data[i : i + 4] for i in range(16, min(size, 64, len(data)) - 3, 4)}
        if brands & {b"avif", b"avis"}:
            raise _not_an_image("an AVIF image")
        if brands & _HEIF_BRANDS:
            return "heic"
        raise _not_an_image("a video or another ISO media file")
    raise _not_an_image(_looks_like(data))


def _not_an_image(what: str) -> PhotoError:
    return PhotoError(f"This file is not a JPEG, PNG or HEIC image (it looks like {what}).")


def _looks_like(data: bytes) -> str:
    head = data[:64]
    known = [
        (b"%PDF", "a PDF"),
        (b"GIF8", "a GIF image"),
        (b"BM", "a BMP image"),
        (b"II*\x00", "a TIFF or camera RAW file"),
        (b"MM\x00*", "a TIFF or camera RAW file"),
        (b"PK\x03\x04", "a ZIP archive or an Office document"),
        (b"\xd0\xcf\x11\xe0", "an old Office document"),
        (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
        (b"8BPS", "a Photoshop document"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
    ]
    for magic, what in known:
        if head.startswith(magic):
            return what
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    text = head.lstrip().lower()
    if text.startswith((b"<svg", b"<?xml")):
        return "an SVG or XML file"
    if text.startswith((b"<!doctype html", b"<html")):
        return "a web page"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "some other kind of file"
    return "a text file"


# --- the pipeline -------------------------------------------------------------------------------


def process_photo(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ProcessedPhoto:
    """Check, fingerprint and render one uploaded photo. Raises PhotoError, and only that."""
    if not data:
        raise PhotoError("The file is empty.")
    if len(data) > max_bytes:
        raise PhotoError(
            f"The file is {_megabytes(len(data))}; photos may be at most {_megabytes(max_bytes)}."
        )
    kind = sniff_format(data)
    label = kind.upper()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Pillow's own bomb protection, turned from a warning into an error (it raises
        # DecompressionBombError by itself past twice its limit).
        if max_pixels <= (Image.MAX_IMAGE_PIXELS or 0):
            warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with _strict_decoding():
                return _process(data, kind, max_pixels)
        except PhotoError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise PhotoError(f"This image declares too many pixels to process ({error}).") from None
        except MemoryError:
            raise PhotoError(f"This {label} image is too large to decode.") from None
        except Exception as error:  # Pillow and libheif raise many kinds on hostile input
            raise PhotoError(
                f"This {label} file is damaged or truncated and cannot be decoded "
                f"({type(error).__name__}: {error})."
            ) from None


_DECODING = threading.Lock()


@contextmanager
def _strict_decoding():
    """Damage is an error while a photo is checked, whatever the process imported before.
    WeasyPrint sets Pillow's global LOAD_TRUNCATED_IMAGES when imported (to draw what it can of
    a broken image in a PDF), and a worker that rendered a report would otherwise let damaged
    photos through half-decoded. The lock keeps threads from restoring it under each other."""
    with _DECODING:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size:,} bytes"


_JPEG_ECS_END = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]")
_JPEG_MARKERS_AFTER_SCAN = set(range(0xC0, 0xD0)) - {0xC8} | set(range(0xDA, 0xF0)) | {0xD9, 0xFE}


def check_jpeg_structure(data: bytes) -> None:
    """Walk the JPEG's segments and entropy-coded data up to the end-of-image marker: a marker
    that cannot be there means damaged image data (which decoders silently paint grey), a
    missing end means a truncated file. Cheap: a regex over the scan data, no decoding."""
    pos, size = 2, len(data)
    while pos < size:
        while pos < size and data[pos] == 0xFF and pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 1 >= size or data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xD9:
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > size:
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > size:
            break
        pos += 2 + length
        if marker == 0xDA:
            end = _JPEG_ECS_END.search(data, pos)
            if end is None:
                break
            following = data[end.end() - 1]
            if following not in _JPEG_MARKERS_AFTER_SCAN:
                raise PhotoError(
                    "This JPEG is damaged: its image data is corrupt "
                    f"(a stray marker 0x{following:02X} at byte {end.end() - 2:,})."
                )
            pos = end.end() - 2
    raise PhotoError("This JPEG is truncated: the file ends before the end of the image.")


def _process(data: bytes, kind: str, max_pixels: int) -> ProcessedPhoto:
    try:
        image = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS[kind])
    except Image.UnidentifiedImageError:
        raise PhotoError(
            f"This file starts like a {kind.upper()} image but its header is damaged or truncated."
        ) from None
    width, height = image.size
    if kind == "jpeg":
        check_jpeg_structure(data)
    if width <= 0 or height <= 0:
        raise PhotoError("This image declares no pixels.")
    if width * height > max_pixels:
        raise PhotoError(
            f"This image declares {width:,} x {height:,} pixels ({width * height / 1e6:,.0f} MP);"
            f" the limit is {max_pixels / 1e6:,.0f} MP."
        )
    if kind != "jpeg":
        # Decode now, so that damage is an error: reading a PNG's EXIF loads the pixels by
        # itself, and read_exif (which never raises) would swallow a broken data stream and
        # let the file through with whatever pixels came before the damage.
        image.load()
    facts = read_exif(image)
    icc = image.info.get("icc_profile")

    target = _fit((width, height), DISPLAY_LONG_SIDE)
    if kind == "jpeg" and target != (width, height):
        # DCT scaling in the decoder: the smallest power-of-two reduction still >= the target.
        image.draft("RGB", target)
    image.load()
    image = _normalise_mode(image)
    if image.size != target:
        # After DCT scaling the rest is under 2x for JPEG: bicubic is sharp enough there and
        # costs 40 % of Lanczos; reducing_gap makes large HEIC/PNG reductions cheap.
        image = image.resize(target, Image.Resampling.BICUBIC, reducing_gap=3.0)
    image = _to_srgb(image, icc, facts.exif_problems)
    image = _orient(image, facts.orientation)
    if facts.orientation in (5, 6, 7, 8):
        width, height = height, width
    thumbnail = image.resize(
        _fit(image.size, THUMBNAIL_LONG_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0
    )
    return ProcessedPhoto(
        sha256=hashlib.sha256(data).hexdigest(),
        format=kind,
        width=width,
        height=height,
        rendition=_jpeg(image),
        rendition_size=image.size,
        thumbnail=_jpeg(thumbnail),
        thumbnail_size=thumbnail.size,
        phash=phash(thumbnail),
        exif=facts,
    )


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The size scaled so its long side is `long_side`, never upscaled."""
    width, height = size
    scale = long_side / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _orient(image: Image.Image, orientation: int | None) -> Image.Image:
    for method in _TRANSPOSE.get(orientation or 1, []):
        image = image.transpose(method)
    return image


def _normalise_mode(image: Image.Image) -> Image.Image:
    """8-bit L, RGB or CMYK, whatever came in: palette, alpha (put on white), 16-bit, float."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        array = np.asarray(image)
        if mode.startswith("I;16") or (mode == "I" and array.max(initial=0) > 255):
            array = array.astype(np.uint32) >> 8
        image = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), "L")
        mode = "L"
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "1":
        image = image.convert("L")
    if image.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")
    return image


def _to_srgb(image: Image.Image, icc: bytes | None, problems: list[str]) -> Image.Image:
    """8-bit RGB in sRGB: the embedded colour profile applied when it is not sRGB already."""
    if icc and image.mode in ("RGB", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            description = ImageCms.getProfileDescription(source) or ""
            if "srgb" not in description.lower() or image.mode == "CMYK":
                return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as error:
            problems.append(f"colour profile unusable, colours taken as sRGB ({error})")
    return image if image.mode == "RGB" else image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    image.info.clear()  # no comment, profile or EXIF travels into what is shown
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


# --- perceptual hash ----------------------------------------------------------------------------


def phash(image: Image.Image) -> int:
    """pHash: 32x32 grayscale, 2-D DCT, the 8x8 lowest AC frequencies (rows and columns 1-8,
    so the DC term is left out), each bit = above their median. Hash a small rendition: the
    result barely depends on the input size, and it costs nothing."""
    small = image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    low = dctn(pixels, type=2, norm="ortho")[1:9, 1:9].ravel()
    bits = low > np.median(low)
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def is_near_duplicate(a: int, b: int) -> bool:
    return hamming(a, b) <= NEAR_DUPLICATE_DISTANCE


# --- EXIF ---------------------------------------------------------------------------------------


def read_exif(image: Image.Image) -> ExifFacts:
    """The facts, never an exception: whatever cannot be read goes to `exif_problems`."""
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exif = image.getexif()
            main = dict(exif)
        except Exception as error:
            return ExifFacts(exif_problems=[f"EXIF unreadable ({type(error).__name__}: {error})"])
        sub = _ifd(exif, _EXIF_IFD, "EXIF", problems)
        gps = _ifd(exif, _GPS_IFD, "GPS", problems)
    problems += [f"EXIF warning: {w.message}" for w in caught]
    main.pop(_EXIF_IFD, None)
    main.pop(_GPS_IFD, None)
    orientation = main.get(_ORIENTATION)
    if orientation is not None and (not isinstance(orientation, int) or not 1 <= orientation <= 8):
        problems.append(f"Orientation {orientation!r} is not 1-8; the photo is shown as stored")
        orientation = None
    if not image.info.get("exif"):
        # Pillow also reads the orientation from XMP: kept for display, but that is no EXIF.
        return ExifFacts(orientation=orientation, exif_problems=problems)
    if not (main or sub or gps):
        problems.append("an EXIF block is present but holds no readable tag")
        return ExifFacts(orientation=orientation, exif_problems=problems)

    taken = _datetime(sub, _DATETIME_ORIGINAL, "DateTimeOriginal", problems)
    taken_offset = _offset(sub, _OFFSET_TIME_ORIGINAL, "OffsetTimeOriginal", problems)
    if taken is None:
        taken = _datetime(sub, _DATETIME_DIGITIZED, "DateTimeDigitized", problems)
    if taken is not None and taken_offset is not None:
        taken = taken.replace(tzinfo=taken_offset)
    modified = _datetime(main, _DATETIME, "DateTime", problems)
    modified_offset = _offset(sub, _OFFSET_TIME, "OffsetTime", problems)
    if modified is not None and modified_offset is not None:
        modified = modified.replace(tzinfo=modified_offset)

    latitude, longitude, altitude, out_of_range = _gps(gps, problems)
    return ExifFacts(
        has_exif=True,
        taken_at=taken,
        modified_at=modified,
        make=_text(main, _MAKE, "Make", problems),
        model=_text(main, _MODEL, "Model", problems),
        software=_text(main, _SOFTWARE, "Software", problems),
        latitude=latitude,
        longitude=longitude,
        altitude=altitude,
        orientation=orientation,
        gps_out_of_range=out_of_range,
        exif_problems=problems,
    )


def _ifd(exif: Image.Exif, tag: int, name: str, problems: list[str]) -> dict:
    try:
        return dict(exif.get_ifd(tag))
    except Exception as error:
        problems.append(f"{name} IFD unreadable ({type(error).__name__}: {error})")
        return {}


def _text(tags: dict, tag: int, name: str, problems: list[str]) -> str | None:
    value = tags.get(tag)
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        problems.append(f"{name} is not text ({value!r:.60})")
        return None
    value = value.replace("\x00", "").strip()
    return value or None


_DATETIME_PATTERN = re.compile(r"(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def _datetime(tags: dict, tag: int, name: str, problems: list[str]) -> datetime | None:
    text = _text(tags, tag, name, problems)
    if text is None:
        return None
    if text.strip(" :0") == "":
        problems.append(f"{name} is blank ({text!r})")
        return None
    match = _DATETIME_PATTERN.match(text)
    if match is None:
        problems.append(f"{name} is not a date and time ({text!r:.40})")
        return None
    try:
        return datetime(*(int(part) for part in match.groups()))
    except ValueError:
        problems.append(f"{name} is not a real date and time ({text!r:.40})")
        return None


_OFFSET_PATTERN = re.compile(r"([+-])(\d{2}):(\d{2})$")


def _offset(tags: dict, tag: int, name: str, problems: list[str]) -> timezone | None:
    text = _text(tags, tag, name, problems)
    if text is None:
        return None
    match = _OFFSET_PATTERN.match(text)
    if match is None:
        problems.append(f"{name} is not an offset like +08:00 ({text!r:.20})")
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        problems.append(f"{name} is out of range ({text!r})")
        return None
    return timezone(-delta if sign == "-" else delta)


def _gps(gps: dict, problems: list[str]):
    """(latitude, longitude, altitude, out_of_range) from the GPS IFD."""
    if not gps:
        return None, None, None, None
    latitude = _coordinate(gps, 2, 1, "NS", "latitude", problems)
    longitude = _coordinate(gps, 4, 3, "EW", "longitude", problems)
    altitude = None
    if 6 in gps:
        altitude = _number(gps[6])
        if altitude is None:
            problems.append(f"GPS altitude unreadable ({gps[6]!r:.40})")
        elif _ref(gps.get(5)) in ("1", "\x01"):
            altitude = -altitude  # below sea level
    if latitude is None or longitude is None:
        if (latitude is None) != (longitude is None):
            problems.append("GPS has only one of latitude and longitude")
        return None, None, altitude, None
    if abs(latitude) > 90 or abs(longitude) > 180:
        problems.append(f"GPS position out of range ({latitude:.4f}, {longitude:.4f})")
        return None, None, altitude, (latitude, longitude)
    return latitude, longitude, altitude, None


def _coordinate(gps: dict, tag: int, ref_tag: int, refs: str, name: str, problems: list[str]):
    value = gps.get(tag)
    if value is None:
        return None
    parts = value if isinstance(value, tuple | list) else (value,)
    numbers = [_number(part) for part in parts[:3]]
    if not numbers or any(number is None for number in numbers):
        problems.append(f"GPS {name} unreadable ({value!r:.60})")
        return None
    degrees = sum(number / 60**i for i, number in enumerate(numbers))
    ref = _ref(gps.get(ref_tag))
    if ref is None:
        problems.append(f"GPS {name} has no {'/'.join(refs)} reference; read as {refs[0]}")
    elif ref not in refs:
        problems.append(f"GPS {name} reference {ref!r} is not {'/'.join(refs)}; read as {refs[0]}")
    return -degrees if ref == refs[1] else degrees


def _ref(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, int):
        return chr(value) if 0 <= value < 256 else None
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip().upper()
    return value[:1] or None


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


# --- integrity ----------------------------------------------------------------------------------


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius = 6371.0088  # mean Earth radius
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(min(1.0, math.sqrt(a)))


def _when(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y %H:%M}"


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def integrity_flags(
    photo: ProcessedPhoto | ExifFacts,
    *,
    factory_lat: float | None,
    factory_lon: float | None,
    factory_tz: str,
    inspection_date: date,
    max_distance_km: float = 2.0,
    now: datetime,
) -> list[Flag]:
    """The integrity flags of one photo for one inspection. Pure: everything comes in."""
    facts = photo.exif if isinstance(photo, ProcessedPhoto) else photo
    if not facts.has_exif:
        return [Flag("no_exif", "The photo carries no EXIF: no capture time or place to check.")]
    zone = ZoneInfo(factory_tz)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    flags: list[Flag] = []
    absurd: list[str] = []

    # Place.
    if facts.gps_out_of_range is not None:
        lat, lon = facts.gps_out_of_range
        absurd.append(f"its GPS position ({lat:.4f}, {lon:.4f}) is not on Earth")
    elif facts.latitude is None or facts.longitude is None:
        flags.append(
            Flag("no_location", "The photo has EXIF but no GPS position: weaker evidence.")
        )
    elif facts.latitude == 0 and facts.longitude == 0:
        absurd.append("its GPS position is exactly 0, 0 (a blank, not a place)")
    elif factory_lat is not None and factory_lon is not None:
        distance = haversine_km(factory_lat, factory_lon, facts.latitude, facts.longitude)
        if distance > max_distance_km:
            shown = f"{distance:,.0f}" if distance >= 10 else f"{distance:.1f}"
            lat = f"{abs(facts.latitude):.2f} {'N' if facts.latitude >= 0 else 'S'}"
            lon = f"{abs(facts.longitude):.2f} {'E' if facts.longitude >= 0 else 'W'}"
            flags.append(
                Flag("far_from_factory", f"Taken {shown} km from the factory (at {lat}, {lon}).")
            )

    # Time.
    taken = facts.taken_at
    if taken is not None:
        naive = taken.tzinfo is None
        local = taken.replace(tzinfo=zone) if naive else taken.astimezone(zone)
        # A naive time may be the camera's zone, not the factory's: allow a day before
        # calling it "in the future".
        if local > now + (timedelta(days=1) if naive else timedelta(minutes=10)):
            absurd.append(f"it was taken in the future ({_when(local)} factory time)")
        elif local.year < 2000:
            absurd.append(f"it was taken before 2000 ({_when(local)})")
        elif local.date() != inspection_date:
            how = "camera time with no time zone, read as factory time" if naive else "factory time"
            flags.append(
                Flag(
                    "outside_inspection_day",
                    f"Taken on {_when(local)} {how}, not on the inspection day "
                    f"{_day(inspection_date)}.",
                )
            )

    # Editing.
    if facts.software and EDITOR_SOFTWARE.search(facts.software):
        flags.append(Flag("edited", f"Edited with {facts.software} after it was taken."))
    elif taken is not None and facts.modified_at is not None:
        later = _later_by(facts.modified_at, taken)
        if later is not None and later > timedelta(minutes=1):
            flags.append(
                Flag(
                    "edited",
                    f"Modified {_duration(later)} after it was taken "
                    f"(EXIF DateTime {_when(facts.modified_at)}).",
                )
            )

    if absurd:
        flags.append(Flag("absurd_exif", "The EXIF is not believable: " + "; ".join(absurd) + "."))
    return flags


def _later_by(modified: datetime, taken: datetime) -> timedelta | None:
    if (modified.tzinfo is None) != (taken.tzinfo is None):
        modified, taken = modified.replace(tzinfo=None), taken.replace(tzinfo=None)
    return modified - taken


def _duration(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes < 120:
        return f"{minutes:.0f} minutes"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} hours"
    return f"{delta.days:,} days"
