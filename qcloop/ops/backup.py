"""Backup and restore of a whole qcloop instance: every row of every installed model and every
stored file, in one tar archive that restores into an empty instance on SQLite or PostgreSQL,
whichever engine made it. docs/backup.md says what users get from it.

The archive:
    data/<app_label>.<Model>.jsonl   one row a line, Django's "python" serialization (pks kept)
    files/<storage name>             every file of the default storage, byte for byte
    manifest.json                    written last: format, source engine, migrations, and the
                                     row count and SHA-256 of every member

Nothing is lost silently: a referenced file missing from storage fails the backup, and a
restore verifies the whole archive before it touches anything, loads all rows in one
transaction, and writes and checks the files inside that transaction, so any failure leaves the
target database as it was.
"""

import datetime
import hashlib
import io
import itertools
import json
import os
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = "qcloop-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 2000
COPY_BYTES = 1024 * 1024

# qcloop keeps the storage names of its files in plain fields (content-addressed names chosen by
# the services), not in FileFields, so the backup is told where they are. FileFields are found
# on their own. A name listed here that no longer exists on the model fails every backup.
STORED_FILE_FIELDS = {
    "inspections.Photo": ("original", "rendition", "thumbnail"),
    "inspections.PhotoAttachment": ("staged", "original_staged"),
    "inspections.LabTest": ("certificate",),
    "reports.ReportVersion": ("pdf",),
    "field.FieldUpload": ("chunks",),  # a JSON list of names, in order
}

# Rows that `migrate` itself creates on an empty database: they are not a user's data, and a
# restore replaces them with the archive's. Defect codes of an agency hang off an organisation,
# so the organisation's rows already count as data.
SEEDED_BY_MIGRATE = {"contenttypes.ContentType", "auth.Permission", "inspections.DefectCode"}


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; the message says why and what to do."""


@dataclass
class Outcome:
    """What a backup wrote or a restore loaded, and how long each step took."""

    path: Path
    rows: int = 0
    models: int = 0
    files: int = 0
    file_bytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def archive_bytes(self) -> int:
        return self.path.stat().st_size

    def describe(self, verb: str) -> str:
        steps = ", ".join(f"{step} {secs:.1f} s" for step, secs in self.seconds.items())
        return (
            f"{verb} {self.rows} rows of {self.models} models and {self.files} files "
            f"({self.file_bytes / 1e6:.1f} MB); archive {self.path} "
            f"({self.archive_bytes / 1e6:.1f} MB); {steps}"
        )


class _ExactEncoder(DjangoJSONEncoder):
    # DjangoJSONEncoder cuts datetimes and times to milliseconds (ECMA-262); a backup keeps
    # every microsecond the database holds.
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class _Hashing:
    """A file read through, counting and hashing the bytes that pass."""

    def __init__(self, raw):
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def read(self, size=-1) -> bytes:
        data = self.raw.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


# --- what is in an instance ---------------------------------------------------------------------


def backed_up_models() -> list[type[models.Model]]:
    """Every concrete model of every installed app, each after the models it points at.
    Auto-created many-to-many tables are not listed: their rows travel in the parent's rows."""
    candidates = [m for m in apps.get_models() if m._meta.managed and not m._meta.proxy]
    order, seen = [], set()

    def visit(model):
        if model in seen:
            return
        # Marked before its dependencies: a cycle is cut at one edge, and the foreign keys
        # are checked once at the end of the load anyway (deferred on both engines).
        seen.add(model)
        for dependency in _dependencies(model):
            if dependency in candidates:
                visit(dependency)
        order.append(model)

    for model in sorted(candidates, key=lambda m: m._meta.label):
        visit(model)
    return order


def _dependencies(model) -> list[type[models.Model]]:
    related = [f.related_model for f in model._meta.concrete_fields if f.is_relation]
    related += [f.related_model for f in model._meta.many_to_many]
    return sorted(
        {r._meta.concrete_model for r in related if r is not None} - {model},
        key=lambda m: m._meta.label,
    )


def _file_fields(model) -> list[str]:
    """The fields of `model` whose values are names in the default storage."""
    names = list(STORED_FILE_FIELDS.get(model._meta.label, ()))
    for name in names:
        try:
            model._meta.get_field(name)
        except Exception as error:
            raise BackupError(
                f"STORED_FILE_FIELDS names {model._meta.label}.{name}, which the model no "
                "longer has: update qcloop/ops/backup.py."
            ) from error
    for f in model._meta.concrete_fields:
        if isinstance(f, models.FileField):
            if f.storage is not default_storage:
                raise BackupError(
                    f"{model._meta.label}.{f.name} keeps its files in a storage of its own; "
                    "the backup knows only the default storage."
                )
            names.append(f.name)
    return names


def applied_migrations() -> dict[str, list[str]]:
    """The migrations recorded as applied, per installed app."""
    installed = {config.label for config in apps.get_app_configs()}
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if app in installed:
            applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def _migrations_on_disk() -> dict[str, list[str]]:
    """The migrations this code has, which `migrate` applies to an empty database."""
    installed = {config.label for config in apps.get_app_configs()}
    found: dict[str, list[str]] = {}
    for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations:
        if app in installed:
            found.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(found.items())}


# --- backup -------------------------------------------------------------------------------------


def backup(path) -> Outcome:
    """Write the instance to one archive at `path` (.tar, or .tar.gz / .tgz to compress). The
    rows are read in one transaction snapshot; the file appears only once it is complete."""
    path = Path(path).resolve()
    mode = _write_mode(path)
    outcome = Outcome(path)
    started = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    try:
        with tarfile.open(partial, mode) as tar:
            with _snapshot():
                manifest = _manifest_head()
                references = _write_rows(tar, manifest, outcome)
            outcome.seconds["rows"] = time.monotonic() - started
            mark = time.monotonic()
            manifest["files"] = _write_files(tar, references, outcome)
            outcome.seconds["files"] = time.monotonic() - mark
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    outcome.seconds["total"] = time.monotonic() - started
    return outcome


def _write_mode(path: Path) -> str:
    if path.name.endswith((".tar.gz", ".tgz")):
        return "w:gz"
    if path.name.endswith(".tar"):
        return "w"
    raise BackupError(f"{path.name}: a backup is a .tar or .tar.gz file; name it so.")


@contextmanager
def _snapshot():
    """One transaction in which every read sees the same moment of the database."""
    if connection.in_atomic_block:
        raise BackupError("A backup reads in a transaction of its own; run it outside one.")
    if connection.vendor == "sqlite":
        # qcloop's SQLite transactions are IMMEDIATE (they take the write lock at BEGIN): a
        # backup only reads, so it begins DEFERRED and under WAL writers carry on beside it.
        connection.ensure_connection()
        mode, connection.transaction_mode = connection.transaction_mode, "DEFERRED"
        try:
            with transaction.atomic():
                yield
        finally:
            connection.transaction_mode = mode
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Allowed only as the transaction's first statement; the snapshot is then
                # taken at the first query, and every later query reads that same one.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _manifest_head() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        qcloop_version = version("qcloop")
    except PackageNotFoundError:
        qcloop_version = "unknown"
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "qcloop_version": qcloop_version,
        "source": {"engine": connection.vendor, "name": connection.display_name},
        "migrations": applied_migrations(),
        "models": [],
    }


def _write_rows(tar, manifest: dict, outcome: Outcome) -> dict[str, str]:
    """Every model's rows as a member of `tar`; returns each referenced storage name with the
    first row that references it ("inspections.Photo 12 original")."""
    references: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="qcloop-backup-") as scratch:
        for model in backed_up_models():
            label = model._meta.label
            member, spool = f"data/{label}.jsonl", Path(scratch) / f"{label}.jsonl"
            rows, sha = _dump_rows(model, spool, references)
            with spool.open("rb") as spooled:
                _add_member(tar, member, spool.stat().st_size, spooled)
            spool.unlink()  # disk use stays at one model's rows, as memory does
            manifest["models"].append(
                {"model": label, "member": member, "rows": rows, "sha256": sha}
            )
            outcome.rows += rows
            outcome.models += 1
    return references


def _dump_rows(model, spool: Path, references: dict[str, str]) -> tuple[int, str]:
    """The model's rows as JSON lines into `spool`, noting the storage names they hold."""
    label, file_fields = model._meta.label, _file_fields(model)
    serializer = serializers.get_serializer("python")()
    sha, rows = hashlib.sha256(), 0
    with spool.open("wb") as out:
        for batch in itertools.batched(_rows_of(model), BATCH):
            for row in serializer.serialize(batch):
                line = json.dumps(row, cls=_ExactEncoder).encode() + b"\n"
                sha.update(line)
                out.write(line)
                rows += 1
                for name in file_fields:
                    for stored in _names_in(row["fields"][name]):
                        references.setdefault(stored, f"{label} {row['pk']} {name}")
    return rows, sha.hexdigest()


def _rows_of(model):
    # The base manager: a default manager that hides rows (archived, soft-deleted) must not
    # hide them from the backup. Many-to-many values are prefetched per chunk, by pk.
    prefetch = [
        models.Prefetch(f.name, queryset=f.related_model._base_manager.only("pk").order_by("pk"))
        for f in model._meta.many_to_many
        if f.remote_field.through._meta.auto_created
    ]
    queryset = model._base_manager.order_by("pk").prefetch_related(*prefetch)
    return queryset.iterator(chunk_size=BATCH)


def _names_in(value) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(name) for name in value]


def _write_files(tar, references: dict[str, str], outcome: Outcome) -> list[dict]:
    """Every file of the default storage into `tar`. A file a row names must be there; one that
    no row names (an import waiting for its second step) is kept too."""
    stored = set(_stored_names(default_storage))
    missing = [
        f"{where} -> {name!r}"
        for name, where in sorted(references.items())
        if name not in stored and not default_storage.exists(name)
    ]
    if missing:
        shown = "; ".join(missing[:20]) + (
            f"; and {len(missing) - 20} more" if len(missing) > 20 else ""
        )
        raise BackupError(
            f"{len(missing)} file(s) named by rows are missing from storage (model pk field -> "
            f"file): {shown}. Nothing was written; restore the files or fix the rows first."
        )
    entries = []
    for name in sorted(stored | set(references)):
        try:
            entry = _add_stored_file(tar, name)
        except FileNotFoundError as error:
            if name in references:
                raise BackupError(
                    f"{references[name]} -> {name!r} vanished from storage during the backup: "
                    "run it again (stop the worker if it keeps happening)."
                ) from error
            continue  # a transient file no row named, deleted while we listed: not data
        entry["referenced"] = name in references
        entries.append(entry)
        outcome.files += 1
        outcome.file_bytes += entry["size"]
    return entries


def _stored_names(storage, folder: str = "") -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from _stored_names(storage, f"{folder}/{sub}" if folder else sub)


def _add_stored_file(tar, name: str) -> dict:
    size = default_storage.size(name)
    with default_storage.open(name, "rb") as stored:
        hashing = _Hashing(stored)
        _add_member(tar, f"files/{name}", size, hashing)
    return {"name": name, "size": size, "sha256": hashing.sha256.hexdigest()}


def _add_bytes(tar, name: str, data: bytes) -> None:
    _add_member(tar, name, len(data), io.BytesIO(data))


def _add_member(tar, name: str, size: int, source) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, int(time.time())
    tar.addfile(info, source)  # reads exactly `size` bytes from `source`, or fails


# --- restore ------------------------------------------------------------------------------------


def restore(path, *, force: bool = False, stdout=None, verbosity: int = 1) -> Outcome:
    """Load an archive into this instance, which must hold no data yet (or `force`: what it
    holds is replaced). Nothing is changed until the whole archive has been verified; the rows
    then go in in one transaction that also covers writing the files, so a file that cannot be
    written keeps every row out (the files written before it stay, named by no row)."""
    path = Path(path).resolve()
    outcome = Outcome(path)
    started = time.monotonic()
    with _open_archive(path) as tar:
        manifest, members = _verify(tar, path)
        outcome.seconds["verify"] = time.monotonic() - started
        _check_migrations(manifest["migrations"], _migrations_on_disk(), "has")
        _refuse_unless_empty(force)
        _check_storage(manifest["files"])
        mark = time.monotonic()
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0), stdout=stdout)
        _check_migrations(manifest["migrations"], applied_migrations(), "has applied")
        outcome.seconds["migrate"] = time.monotonic() - mark
        _load(tar, manifest, members, outcome)
    outcome.seconds["total"] = time.monotonic() - started
    return outcome


@contextmanager
def _open_archive(path: Path):
    if not path.is_file():
        raise BackupError(f"{path}: no such file.")
    try:
        # Opened apart from the `with` below: a failure to open is the archive's fault, one
        # inside the body is reported by the body.
        tar = tarfile.open(path, "r:*")  # noqa: SIM115
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        reason = str(error).splitlines()[0].rstrip(":")
        raise BackupError(
            f"{path} is not a tar archive, or is damaged ({reason}); nothing was restored."
        ) from error
    with tar:
        yield tar


def _verify(tar, path: Path) -> tuple[dict, dict[str, tarfile.TarInfo]]:
    """Read every member once, checking its hash and row count against the manifest."""
    found: dict[str, tuple[tarfile.TarInfo, str, int]] = {}
    manifest = None
    try:
        for member in tar:
            if not member.isfile():
                continue
            source = tar.extractfile(member)
            if member.name == MANIFEST:
                manifest = json.loads(source.read())
                continue
            sha, lines = hashlib.sha256(), 0
            while chunk := source.read(COPY_BYTES):
                sha.update(chunk)
                lines += chunk.count(b"\n")
            found[member.name] = (member, sha.hexdigest(), lines)
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as error:
        raise BackupError(
            f"{path} is damaged or truncated ({error}); nothing was restored."
        ) from error
    if manifest is None:
        raise BackupError(f"{path} has no {MANIFEST}: it is truncated or not a qcloop backup.")
    _check_format(manifest, path)
    try:
        return manifest, _check_members(manifest, found, path)
    except (KeyError, TypeError, AttributeError) as error:
        raise BackupError(f"{path} has an incomplete manifest ({error!r} is wrong).") from error


def _check_members(manifest: dict, found: dict, path: Path) -> dict[str, tarfile.TarInfo]:
    problems = []
    expected = {}
    for entry in manifest["models"]:
        expected[entry["member"]] = (entry["sha256"], entry["rows"], f"rows of {entry['model']}")
    for entry in manifest["files"]:
        if entry["name"].startswith("/") or ".." in entry["name"].split("/"):
            problems.append(f"file name {entry['name']!r} is not a storage name")
        expected[f"files/{entry['name']}"] = (entry["sha256"], None, f"file {entry['name']!r}")
    for member, (sha, rows, what) in expected.items():
        if member not in found:
            problems.append(f"the {what} are missing" if rows is not None else f"{what} is missing")
        elif found[member][1] != sha:
            problems.append(
                f"the {what} do not match their SHA-256"
                if rows is not None
                else f"{what} does not match its SHA-256 (altered or damaged)"
            )
        elif rows is not None and found[member][2] != rows:
            problems.append(f"the {what}: {found[member][2]} lines, the manifest says {rows}")
    problems += [f"{name} is not in the manifest" for name in sorted(set(found) - set(expected))]
    known = {m._meta.label for m in backed_up_models()}
    archived = {entry["model"] for entry in manifest["models"]}
    problems += [f"this qcloop has no model {label}" for label in sorted(archived - known)]
    problems += [
        f"the archive has no rows section for {label}" for label in sorted(known - archived)
    ]
    if problems:
        raise BackupError(f"{path} cannot be restored: " + "; ".join(problems) + ".")
    return {name: info for name, (info, _, _) in found.items()}


def _check_format(manifest: dict, path: Path) -> None:
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a qcloop backup (its manifest is not {FORMAT!r}).")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BackupError(
            f"{path} is a qcloop backup of format version {version}; this qcloop reads format "
            f"version {FORMAT_VERSION}. Restore it with the qcloop version that made it."
        )


def _check_migrations(archived: dict, target: dict, verb: str) -> None:
    problems = []
    for app in sorted(set(archived) | set(target)):
        here, there = set(target.get(app, [])), set(archived.get(app, []))
        problems += [
            f"{app}: this qcloop {verb} {name}, the archive not" for name in sorted(here - there)
        ]
        problems += [
            f"{app}: the archive has {name}, this qcloop not" for name in sorted(there - here)
        ]
    if problems:
        raise BackupError(
            "The archive was made at another migration state: "
            + "; ".join(problems)
            + ". Restore it with the qcloop version that made it, then upgrade."
        )


def _refuse_unless_empty(force: bool) -> None:
    tables = set(connection.introspection.table_names())
    held = [
        f"{model._meta.label} ({count} rows)"
        for model in backed_up_models()
        if model._meta.label not in SEEDED_BY_MIGRATE
        and model._meta.db_table in tables
        and (count := model._base_manager.count())
    ]
    if held and not force:
        shown = ", ".join(held[:8]) + (f" and {len(held) - 8} more models" if len(held) > 8 else "")
        raise BackupError(
            f"This instance already holds data: {shown}. Nothing was changed. Restore into an "
            "empty database, or pass --force to replace everything in this one."
        )


def _check_storage(files: list[dict]) -> None:
    """A name already in the target storage must hold the same bytes: a restore neither
    overwrites a different file nor lets the storage save under another name."""
    clashes = [
        entry["name"]
        for entry in files
        if default_storage.exists(entry["name"])
        and _stored_sha256(entry["name"]) != entry["sha256"]
    ]
    if clashes:
        raise BackupError(
            f"The file storage already holds other files under {len(clashes)} of the archive's "
            f"names ({', '.join(clashes[:5])}). Nothing was changed; restore into empty storage."
        )


def _stored_sha256(name: str) -> str:
    sha = hashlib.sha256()
    with default_storage.open(name, "rb") as stored:
        while chunk := stored.read(COPY_BYTES):
            sha.update(chunk)
    return sha.hexdigest()


def _load(tar, manifest: dict, members: dict, outcome: Outcome) -> None:
    from django.contrib.contenttypes.models import ContentType

    models_ = backed_up_models()
    sections = {entry["model"]: entry for entry in manifest["models"]}
    mark = time.monotonic()
    with transaction.atomic():
        with connection.constraint_checks_disabled():
            _flush()
            for model in models_:
                section = sections[model._meta.label]
                _load_rows(model, tar.extractfile(members[section["member"]]))
                outcome.rows += section["rows"]
                outcome.models += 1
        try:
            connection.check_constraints(table_names=[m._meta.db_table for m in models_])
        except DatabaseError as error:
            raise BackupError(f"The archive's rows do not hold together: {error}.") from error
        _check_counts(models_, sections)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models_):
                cursor.execute(sql)
        outcome.seconds["rows"] = time.monotonic() - mark
        mark = time.monotonic()
        # Inside the transaction: a file that cannot be written rolls the rows back too.
        for entry in manifest["files"]:
            _restore_file(tar, members[f"files/{entry['name']}"], entry)
            outcome.files += 1
            outcome.file_bytes += entry["size"]
        outcome.seconds["files"] = time.monotonic() - mark
    ContentType.objects.clear_cache()  # its pks are the archive's now


def _flush() -> None:
    # Everything goes, the rows `migrate` made included: the archive brings its own.
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        for sql in connection.ops.sql_flush(no_style(), tables):
            cursor.execute(sql)


def _load_rows(model, source) -> None:
    label = model._meta.label
    rows = (json.loads(line) for line in source)
    objects = serializers.deserialize("python", rows, ignorenonexistent=False)
    pk = None
    try:
        for deserialized in objects:
            pk = deserialized.object.pk
            # raw: signal handlers leave restored rows alone, and auto_now fields keep their
            # values; force_insert: one INSERT per row, the table being empty.
            deserialized.save(force_insert=True)
    except (DatabaseError, DeserializationError, ValueError) as error:
        raise BackupError(f"{label} row {pk} could not be restored: {error}.") from error


def _check_counts(models_, sections: dict) -> None:
    short = [
        f"{model._meta.label}: {count} of {sections[model._meta.label]['rows']}"
        for model in models_
        if (count := model._base_manager.count()) != sections[model._meta.label]["rows"]
    ]
    if short:
        raise BackupError(f"Rows did not all arrive ({'; '.join(short)}); nothing was restored.")


def _restore_file(tar, member: tarfile.TarInfo, entry: dict) -> None:
    name = entry["name"]
    if default_storage.exists(name):
        return  # the same bytes, checked by _check_storage
    content = File(tar.extractfile(member), name=name)
    content.size = member.size
    saved = default_storage.save(name, content)
    if saved != name:
        default_storage.delete(saved)
        raise BackupError(
            f"The file storage stored {name!r} as {saved!r}; rows name it {name!r}, so nothing "
            "was restored."
        )
    if _stored_sha256(name) != entry["sha256"]:
        raise BackupError(
            f"{name!r} reads back from storage with another SHA-256; nothing was restored."
        )
