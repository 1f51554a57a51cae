"""The photo dossier of a PO: every photo the user may see, organised by milestone and finding,
as a ZIP with an index (CSV and HTML) of when and where each was taken, its SHA-256, caption,
integrity flags and the QC lead's word on them. It is how the evidence leaves qcloop and can
still be checked, file by file, by whoever holds it.

Who sees which photos is the photo gate's rule: the agency sees its inspections' photos as
they come in, the buyer and the supplier only those of published milestones.

The ZIP is written while it is sent: zipfile writes to an unseekable sink that the response
drains after every chunk, and each stored file is read in chunks, so memory stays bounded
however many originals a PO has."""

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import groupby

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from qcloop.core.spreadsheets import safe_text
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.inspections.imaging import SOFT_FLAG_KINDS
from qcloop.inspections.models import (
    MILESTONE_ORDER,
    AttachmentStatus,
    Defect,
    Milestone,
    PhotoAttachment,
)
from qcloop.orders.models import PurchaseOrder

ORIGINALS, RENDITIONS = "originals", "renditions"
FILES = (ORIGINALS, RENDITIONS)
CHUNK_BYTES = 1 << 20  # read and sent 1 MiB at a time
NAME_LIMIT = 60

KIND_RANK = {kind: rank for rank, kind in enumerate(MILESTONE_ORDER, 1)}
FINDING_FOLDERS = {
    "defect": "defects",
    "checklist": "checklist",
    "measurement": "measurements",
    "loading": "loading",
    "general": "general",
}
FINDING_RANK = {finding: rank for rank, finding in enumerate(FINDING_FOLDERS)}
FILE_IS = {
    ORIGINALS: "the original, exactly as uploaded",
    RENDITIONS: "a rendition (long side at most 1600 px, metadata removed); "
    "the original is not in this ZIP",
}
AWAITING = "the rendition the phone sent first; the original has not arrived yet"

# Exact basenames Windows will not create, whatever the case.
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(10)}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class DossierEntry:
    """One photo of the dossier: where it goes in the ZIP, which stored file fills it, and the
    facts of its index row. `sha256` is what the index gives for the file in the ZIP: the hash
    recorded at upload for an original, the packed file's own hash for a rendition."""

    path: str
    source: str  # storage name of the file packed
    thumbnail: str  # path of its thumbnail in the ZIP
    thumbnail_source: str
    uploaded: datetime
    milestone_folder: str
    milestone: str
    milestone_status: str
    finding: str
    detail: str
    caption: str
    taken_at: str
    clock_had_zone: str
    latitude: str
    longitude: str
    camera: str
    sha256: str
    original_sha256: str
    file_is: str
    original_name: str
    uploaded_by: str
    uploaded_at: str
    flags: list[dict] = field(default_factory=list)
    justification: str = ""
    note: str = ""

    @property
    def flag_text(self) -> str:
        return " ".join(flag["message"] for flag in self.flags)


@dataclass(frozen=True)
class Dossier:
    """What the ZIP holds, read in full before the first byte is sent: the stream then needs
    only the storage, never the database."""

    po: PurchaseOrder
    files: str
    entries: list[DossierEntry]
    made_by: str
    made_at: datetime
    supplier: str = ""
    factory: str = ""


# --- names -----------------------------------------------------------------------------------


def safe_name(text: str, limit: int = NAME_LIMIT, fallback: str = "untitled") -> str:
    """A file or folder name every unzip tool and file system takes as it is: ASCII letters,
    digits, '-' and '_' only (so no separator, no '..'), at most `limit` characters."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    name = _UNSAFE.sub("-", ascii_text).strip("-_")[:limit].rstrip("-_")
    if not name:
        return fallback
    return f"{name}_" if name.upper() in _RESERVED else name


def zip_name(po: PurchaseOrder) -> str:
    return f"qcloop-{safe_name(po.number, fallback='po')}-photo-dossier.zip"


def milestone_folder(milestone: Milestone) -> str:
    """'02-DUPRO', '03-PSI-2': numbered by kind, so the folders sort as the inspections happen."""
    rank = KIND_RANK.get(milestone.kind, 9)
    suffix = f"-{milestone.sequence}" if milestone.sequence > 1 else ""
    return f"{rank:02d}-{safe_name(milestone.kind)}{suffix}"


def _extension(fmt: str) -> str:
    return {"jpeg": "jpg"}.get(fmt, safe_name(fmt, 8, "bin").lower())


class _Folders:
    """Folder names made unique: two groups whose names come out alike get '-2', '-3'."""

    def __init__(self):
        self._owner: dict[str, object] = {}
        self._named: dict[object, str] = {}

    def name(self, wanted: str, group: object) -> str:
        if group in self._named:
            return self._named[group]
        name, n = wanted, 1
        while name in self._owner:
            n += 1
            name = f"{wanted}-{n}"
        self._owner[name], self._named[group] = group, name
        return name


# --- which photos, in which order, in which folder -------------------------------------------


def open_dossier(user, po_pk: int, files: str = ORIGINALS) -> Dossier:
    """The dossier of a PO as the user may see it; Http404 for a PO they cannot see, and a
    ValidationError naming `files` for a choice other than originals or renditions."""
    po = get_for_user(PurchaseOrder, user, pk=po_pk)
    if files not in FILES:
        raise ValidationError(
            {"files": f"files must be {' or '.join(FILES)}, not {str(files)[:40]!r}."}
        )
    return Dossier(
        po=po,
        files=files,
        entries=dossier_entries(user, po, files),
        made_by=str(user),
        made_at=timezone.now(),
        supplier=po.supplier.name,
        factory=f"{po.factory.name}, {po.factory.city}",
    )


def dossier_entries(user, po: PurchaseOrder, files: str = ORIGINALS) -> list[DossierEntry]:
    """Every ready photo of the PO the user may see, ordered by milestone (IPC, DUPRO, PSI,
    CLI, then sequence) and finding, each with its unique, safe path inside the ZIP."""
    attachments = list(
        _packed(user, po)
        .select_related("milestone__checklist", "photo", "defect__code", "reading__chart")
        .select_related("uploaded_by")
        .order_by("milestone", "uploaded_at", "id")
    )
    numbers = _group_numbers(user, po, attachments)
    placed = sorted(((_sort_key(a, numbers), a) for a in attachments), key=lambda pair: pair[0])
    width = max(3, len(str(len(placed))))
    folders = _Folders()
    return [
        _entry(attachment, f"{number:0{width}d}", folders, numbers, files)
        for number, (_, attachment) in enumerate(placed, 1)
    ]


def _packed(user, po: PurchaseOrder):
    """The attachments a dossier packs: those the photo gate shows the user, once processed
    (a pending or rejected upload has no file to pack)."""
    return for_user(PhotoAttachment, user).filter(
        milestone__po=po, status=AttachmentStatus.READY, photo__isnull=False
    )


@dataclass(frozen=True)
class DossierOffer:
    """What the user's dossier of a PO would hold, for the pages that offer the download."""

    po: PurchaseOrder
    photos: int
    original_bytes: int  # the files of the originals, before the index and thumbnails


def dossier_offer(user, po: PurchaseOrder) -> DossierOffer | None:
    """The download to offer on the PO's pages, or None when the user may see no photo of the
    PO yet (a buyer before the first published milestone): an empty ZIP helps nobody."""
    totals = _packed(user, po).aggregate(photos=Count("pk"), size=Sum("photo__size_bytes"))
    if not totals["photos"]:
        return None
    return DossierOffer(po=po, photos=totals["photos"], original_bytes=totals["size"] or 0)


def _group_numbers(user, po, attachments) -> dict:
    """Defects numbered D1, D2... per milestone as recorded; loading steps in the order their
    first photo came, as a container is photographed empty, loading, sealed."""
    numbers = {}
    defects = (
        for_user(Defect, user).filter(milestone__po=po).order_by("milestone", "created_at", "id")
    )
    for _, of_milestone in groupby(defects.values_list("milestone", "pk"), key=lambda d: d[0]):
        for n, (_, pk) in enumerate(of_milestone, 1):
            numbers["defect", pk] = n
    steps = [a for a in attachments if a.finding == "loading"]  # in upload order
    for attachment in steps:
        numbers.setdefault(_step_key(attachment), len(numbers))
    return numbers


def _step_key(attachment: PhotoAttachment) -> tuple:
    return ("loading", attachment.milestone_id, attachment.loading_step.casefold())


def _sort_key(attachment: PhotoAttachment, numbers: dict) -> tuple:
    milestone = attachment.milestone
    return (
        KIND_RANK.get(milestone.kind, 9),
        milestone.sequence,
        milestone.pk,
        FINDING_RANK[attachment.finding],
        _group(attachment, numbers)[0],
        attachment.uploaded_at,
        attachment.pk,
    )


def _group(attachment: PhotoAttachment, numbers: dict) -> tuple[tuple, str]:
    """The attachment's group within its finding: a sort key and the folder's own name."""
    finding = attachment.finding
    if finding == "defect":
        number = numbers.get(("defect", attachment.defect_id), 0)
        defect = attachment.defect
        code = defect.code.code if defect.code else ""
        label = f"{code} {defect.description}"
        return (number,), f"D{number}-{safe_name(label, fallback='defect')}"
    if finding == "checklist":
        items = attachment.milestone.checklist.items if attachment.milestone.checklist else []
        codes = [item["code"] for item in items]
        position = codes.index(attachment.item_code) if attachment.item_code in codes else 999
        return (position, attachment.item_code), safe_name(attachment.item_code, fallback="item")
    if finding == "measurement":
        reading = attachment.reading
        return (reading.sample_unit, reading.point_code), ""
    if finding == "loading":
        return (numbers[_step_key(attachment)],), safe_name(
            attachment.loading_step, fallback="step"
        )
    return (), ""


def _entry(attachment, number: str, folders: _Folders, numbers: dict, files: str):
    photo, milestone = attachment.photo, attachment.milestone
    group_key, group_name = _group(attachment, numbers)
    folder = f"{milestone_folder(milestone)}/{FINDING_FOLDERS[attachment.finding]}"
    if group_name:
        group = (milestone.pk, attachment.finding, group_key)
        folder = folders.name(f"{folder}/{group_name}", group)
    stem = f"{number}-{photo.sha256[:12]}"
    original = files == ORIGINALS
    extension = _extension(photo.format) if original else "jpg"
    return DossierEntry(
        path=f"{folder}/{stem}.{extension}",
        source=photo.original if original else photo.rendition,
        thumbnail=f"thumbnails/{stem}.jpg",
        thumbnail_source=photo.thumbnail,
        uploaded=attachment.uploaded_at,
        milestone_folder=milestone_folder(milestone),
        milestone=milestone.label,
        milestone_status=milestone.get_status_display(),
        finding=attachment.finding,
        detail=finding_detail(attachment),
        caption=attachment.caption,
        taken_at=_taken_at(photo),
        clock_had_zone="" if photo.taken_at is None else _yes(photo.taken_at_has_offset),
        latitude="" if photo.latitude is None else str(photo.latitude),
        longitude="" if photo.longitude is None else str(photo.longitude),
        camera=photo.camera,
        # An original's hash is the one recorded at upload: checking the file against it
        # proves the file is the evidence. A rendition's is known only once it is packed.
        sha256=photo.sha256 if original else "",
        original_sha256="" if attachment.awaiting_original else photo.sha256,
        file_is=AWAITING if attachment.awaiting_original and original else FILE_IS[files],
        original_name=attachment.original_name,
        uploaded_by=str(attachment.uploaded_by or ""),
        uploaded_at=_utc(attachment.uploaded_at),
        flags=[{**flag, "soft": flag["kind"] in SOFT_FLAG_KINDS} for flag in attachment.flags],
        justification=attachment.justification,
        note=_awaiting_note(photo) if attachment.awaiting_original else "",
    )


def finding_detail(attachment: PhotoAttachment) -> str:
    """What the photo documents, in words: the defect, checklist item, reading or step."""
    if attachment.defect_id:
        defect = attachment.defect
        code = f" ({defect.code.code})" if defect.code else ""
        what = f"{defect.get_defect_class_display()}: {defect.description}{code}"
        return f"{what}, {defect.quantity} unit(s)"
    if attachment.item_code:
        checklist = attachment.milestone.checklist
        item = checklist.item(attachment.item_code) if checklist else None
        return f"{attachment.item_code}: {item['text']}" if item else attachment.item_code
    if attachment.reading_id:
        return _reading_detail(attachment.reading)
    return attachment.loading_step


def _reading_detail(reading) -> str:
    point = reading.chart.point(reading.point_code) or {}
    name = f" {point['name']}" if point.get("name") else ""
    tolerance = "in tolerance" if reading.in_tolerance else "out of tolerance"
    return (
        f"unit {reading.sample_unit}, {reading.point_code}{name}: "
        f"{reading.value} {reading.unit} ({tolerance})"
    )


def _taken_at(photo) -> str:
    if photo.taken_at is None:
        return ""
    if photo.taken_at_has_offset:
        # The EXIF record keeps the camera's own wall clock and offset; the column, the instant.
        return (photo.exif or {}).get("taken_at") or photo.taken_at.isoformat()
    # A camera clock without a zone was stored as if UTC: given back as it read, zoneless.
    return photo.taken_at.astimezone(UTC).replace(tzinfo=None).isoformat()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _awaiting_note(photo) -> str:
    return (
        "Awaiting the original: the phone sent a rendition first (SHA-256 of that upload "
        f"{photo.sha256}). The original replaces it when it arrives; download again then."
    )


# --- the ZIP, written while it is sent -------------------------------------------------------


class _Sink:
    """An unseekable file for zipfile: it keeps what was written until the response takes it."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _drain(sink: _Sink) -> Iterator[bytes]:
    if data := sink.take():
        yield data


def _member(name: str, when: datetime, deflate: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.astimezone(UTC).timetuple()[:6])
    # Photos are compressed already; only the index files gain from deflate.
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16  # rw-r--r-- when unpacked on Unix
    return info


def _pack_file(archive, sink, name: str, source: str, when: datetime):
    """Copy a stored file into the ZIP chunk by chunk; returns its SHA-256, or None when the
    storage no longer has it (the download goes on and the index says so)."""
    try:
        stored = default_storage.open(source, "rb")
    except OSError:
        return None
    digest = hashlib.sha256()
    with stored, archive.open(_member(name, when), "w") as member:
        while chunk := stored.read(CHUNK_BYTES):
            digest.update(chunk)
            member.write(chunk)
            yield from _drain(sink)
    yield from _drain(sink)
    return digest.hexdigest()


def _pack_bytes(archive, sink, name: str, data: bytes, when: datetime):
    with archive.open(_member(name, when, deflate=True), "w") as member:
        for start in range(0, len(data), CHUNK_BYTES):
            member.write(data[start : start + CHUNK_BYTES])
            yield from _drain(sink)
    yield from _drain(sink)


def stream_dossier(dossier: Dossier) -> Iterator[bytes]:
    """The dossier as ZIP bytes: each photo and its thumbnail, then the index (written last,
    when every file's hash has been taken), SHA256SUMS and README.txt."""
    sink = _Sink()
    packed = []
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for entry in dossier.entries:
            digest = yield from _pack_file(archive, sink, entry.path, entry.source, entry.uploaded)
            packed.append(_checked(entry, digest))
            yield from _pack_file(
                archive, sink, entry.thumbnail, entry.thumbnail_source, entry.uploaded
            )
        for name, data in index_files(dossier, packed):
            yield from _pack_bytes(archive, sink, name, data, dossier.made_at)
    yield from _drain(sink)


def _checked(entry: DossierEntry, digest: str | None) -> DossierEntry:
    """The entry with its file's hash, and a note when the stored file is missing or is no
    longer the one whose hash was recorded at upload."""
    if digest is None:
        return replace(entry, note=_joined(entry.note, "The file is missing from storage."))
    if not entry.sha256:
        return replace(entry, sha256=digest)
    if digest != entry.sha256:
        problem = (
            f"The stored file no longer matches the SHA-256 recorded at upload (it hashes to "
            f"{digest})."
        )
        return replace(entry, note=_joined(entry.note, problem))
    return entry


def _joined(*notes: str) -> str:
    return " ".join(note for note in notes if note)


# --- the index -------------------------------------------------------------------------------

COLUMNS = [
    ("file", "path"),
    ("milestone", "milestone"),
    ("finding", "finding"),
    ("finding detail", "detail"),
    ("caption", "caption"),
    ("taken at", "taken_at"),
    ("camera clock had a zone", "clock_had_zone"),
    ("latitude", "latitude"),
    ("longitude", "longitude"),
    ("camera", "camera"),
    ("sha256", "sha256"),
    ("original sha256", "original_sha256"),
    ("file is", "file_is"),
    ("original file name", "original_name"),
    ("uploaded by", "uploaded_by"),
    ("uploaded at (UTC)", "uploaded_at"),
    ("integrity flags", "flag_text"),
    ("QC lead's justification", "justification"),
    ("note", "note"),
]


def index_files(dossier: Dossier, entries: list[DossierEntry]) -> list[tuple[str, bytes]]:
    return [
        ("index.csv", index_csv(entries)),
        ("index.html", index_html(dossier, entries).encode()),
        ("SHA256SUMS", sha256sums(entries)),
        ("README.txt", readme(dossier, entries).encode()),
    ]


def index_csv(entries: list[DossierEntry]) -> bytes:
    """UTF-8 with a byte order mark, which Excel needs to read it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _ in COLUMNS])
    for entry in entries:
        writer.writerow([safe_text(str(getattr(entry, a))) for _, a in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def index_html(dossier: Dossier, entries: list[DossierEntry]) -> str:
    milestones = [
        {"label": rows[0].milestone, "status": rows[0].milestone_status, "rows": rows}
        for rows in (list(g) for _, g in groupby(entries, key=lambda e: e.milestone_folder))
    ]
    return render_to_string(
        "reports/dossier_index.html",
        {
            "dossier": dossier,
            "po": dossier.po,
            "milestones": milestones,
            "count": len(entries),
            "originals": dossier.files == ORIGINALS,
            # Rendered while streaming, when no viewer's zone may be active: a fixed text.
            "made_at": _utc(dossier.made_at),
        },
    )


def sha256sums(entries: list[DossierEntry]) -> bytes:
    """The format `sha256sum -c SHA256SUMS` checks."""
    lines = [f"{e.sha256}  {e.path}\n" for e in entries if e.sha256]
    return "".join(lines).encode()


README = """\
Photo dossier of PO {po}
Made by {made_by} on {made_at} (UTC) from qcloop. {count} photo(s); {what}

Folders
  01-IPC, 02-DUPRO, 03-PSI, 04-CLI (a re-inspection gets -2, -3): one per inspection.
  Within each: defects/<D number and description>, checklist/<item code>, measurements,
  loading/<step>, general. Files are numbered in the order of index.csv; the 12 characters
  after the number start the SHA-256 of the photo as uploaded.
  thumbnails/ holds the small pictures index.html shows.

Index
  index.html  open it in a browser: one table per inspection, with thumbnails.
  index.csv   the same facts for a spreadsheet: when and where each photo was taken (the
              camera's own clock; "camera clock had a zone" says whether it recorded its
              offset), its SHA-256, caption, uploader, integrity flags and the QC lead's
              justification of them.

Checking that a file is the evidence
  The "sha256" column of index.csv (and SHA256SUMS) gives each file's SHA-256.
  {sha_meaning}
  Compute a file's hash and compare:
    Linux:    sha256sum "{example}"
    macOS:    shasum -a 256 "{example}"
    Windows:  Get-FileHash -Algorithm SHA256 ".\\{windows_example}"
              (PowerShell; it prints the hash in capitals: compare ignoring case)
  All at once, from the folder this file is in:  sha256sum -c SHA256SUMS
"""

SHA_MEANING = {
    ORIGINALS: "It is the hash qcloop recorded when the photo was uploaded: a file whose hash\n"
    "  matches is byte for byte the photo the inspector sent.",
    RENDITIONS: 'It is the hash of the rendition in this ZIP. "original sha256" is the hash of\n'
    "  the original as uploaded, which this ZIP does not contain: download the dossier\n"
    "  with originals to check it.",
}


def readme(dossier: Dossier, entries: list[DossierEntry]) -> str:
    example = entries[0].path if entries else "02-DUPRO/general/001-0123456789ab.jpg"
    what = (
        "the files are the originals, exactly as uploaded."
        if dossier.files == ORIGINALS
        else "the files are renditions (long side at most 1600 px, metadata removed)."
    )
    return README.format(
        po=dossier.po.number,
        made_by=dossier.made_by,
        made_at=_utc(dossier.made_at),
        count=len(entries),
        what=what,
        sha_meaning=SHA_MEANING[dossier.files],
        example=example,
        windows_example=example.replace("/", "\\"),
    )
