"""Backup and restore with real parts: a tenant built through the services, real camera and phone
photos and a published report's PDF, backed up from the test database, restored into the other
engine (SQLite <-> PostgreSQL) by a child process, backed up again there and compared row for
row, field for field and file for file; and the refusals that leave the target as it was."""

import contextlib
import hashlib
import io
import json
import re
import secrets
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core import serializers
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection, connections

from conftest import in_ci, subprocess_env
from qcloop.accounts.models import Organisation, OrganisationKind, User
from qcloop.accounts.services import create_organisation
from qcloop.inspections.models import Photo
from qcloop.inspections.photos import ingest, upload_photo
from qcloop.ops.backup import BackupError, backed_up_models, backup, restore
from qcloop.reports import services as reports
from qcloop.reports.models import Report, ReportVersion
from qcloop.testing import PASSWORD, build_world, start_inspection, submit_inspection_of

# Committed for real: the child processes read and write databases of their own.
pytestmark = pytest.mark.django_db(transaction=True)

POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """A storage of the test's own: the archive holds this test's files and nobody else's."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


def needs_postgres():
    """An admin connection to the local PostgreSQL server; CI must have one, elsewhere the
    test is skipped without it."""
    import psycopg

    try:
        return psycopg.connect(POSTGRES, autocommit=True)
    except psycopg.OperationalError as error:
        if in_ci():
            pytest.fail(f"PostgreSQL is unreachable at 127.0.0.1:5432 ({error}): CI must run it")
        pytest.skip(f"PostgreSQL is unreachable at 127.0.0.1:5432 ({error})")


@contextlib.contextmanager
def fresh_database(engine: str, folder: Path):
    """The DATABASE_URL of a new, empty database of `engine`, dropped afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        yield f"sqlite:///{folder / 'qcloop.sqlite3'}"
        return
    name = f"qcloop_restore_{secrets.token_hex(6)}"
    with needs_postgres() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgres://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(url: str, folder: Path, *args: str) -> tuple[str, float]:
    """Run `qcloop manage ARGS` as an operator would, against `url` with its files in `folder`;
    returns its output and how long it took."""
    env = subprocess_env(
        DATABASE_URL=url, QCLOOP_DATA_DIR=str(folder), QCLOOP_MEDIA_ROOT=str(folder / "media")
    )
    for name in ("QCLOOP_S3_BUCKET", "QCLOOP_STORAGE_BACKEND", "QCLOOP_STORAGE_OPTIONS"):
        env.pop(name, None)  # the child's files go to its own folder, never elsewhere
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "qcloop", "manage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"manage {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip(), time.monotonic() - started


# --- what an archive holds ------------------------------------------------------------------------


@dataclass
class Contents:
    manifest: dict
    rows: dict[str, dict]  # model label -> pk (as JSON) -> row
    files: dict[str, str]  # storage name -> SHA-256 of the bytes in the archive

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def read_archive(path: Path) -> Contents:
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        rows = {}
        for section in manifest["models"]:
            lines = tar.extractfile(section["member"]).read().splitlines()
            rows[section["model"]] = {json.dumps(row["pk"]): row for row in map(json.loads, lines)}
        files = {
            entry["name"]: hashlib.sha256(
                tar.extractfile(f"files/{entry['name']}").read()
            ).hexdigest()
            for entry in manifest["files"]
        }
    return Contents(manifest, rows, files)


def differences(a: Contents, b: Contents) -> list[str]:
    """Every way two archives' data differ: migrations, rows (every field of every row), files.
    Nothing is normalised: both engines must give back exactly what went in."""
    found = []
    if a.manifest["migrations"] != b.manifest["migrations"]:
        found.append("the migrations differ")
    for label in sorted(set(a.rows) | set(b.rows)):
        left, right = a.rows.get(label, {}), b.rows.get(label, {})
        found += [f"{label} {pk}: only in the first" for pk in sorted(set(left) - set(right))]
        found += [f"{label} {pk}: only in the second" for pk in sorted(set(right) - set(left))]
        for pk in sorted(set(left) & set(right)):
            one, two = left[pk]["fields"], right[pk]["fields"]
            found += [
                f"{label} {pk} {name}: {one.get(name)!r} != {two.get(name)!r}"
                for name in sorted(set(one) | set(two))
                if one.get(name) != two.get(name)
            ]
    for name in sorted(set(a.files) | set(b.files)):
        if a.files.get(name) != b.files.get(name):
            found.append(f"file {name}: {a.files.get(name)} != {b.files.get(name)}")
    return found


def assert_archive_holds_the_database(contents: Contents) -> None:
    """Every row of the archive, read back as Django reads it, equals the database's row in
    every field (microseconds and decimals included), and every file the storage's bytes."""
    for model in backed_up_models():
        label = model._meta.label
        stored = {obj.pk: obj for obj in model._base_manager.all()}
        archived = list(serializers.deserialize("python", contents.rows[label].values()))
        assert len(archived) == len(stored), label
        for deserialized in archived:
            row, source = deserialized.object, stored[deserialized.object.pk]
            for field in model._meta.concrete_fields:
                assert field.value_from_object(row) == field.value_from_object(source), (
                    f"{label} {row.pk} {field.name}"
                )
            for name, pks in deserialized.m2m_data.items():
                expected = {obj.pk for obj in getattr(source, name).all()}
                assert set(pks) == expected, f"{label} {row.pk} {name}"
    assert contents.files == stored_files()


def stored_files() -> dict[str, str]:
    found = {}

    def walk(folder):
        folders, files = default_storage.listdir(folder)
        for name in files:
            path = f"{folder}/{name}" if folder else name
            with default_storage.open(path, "rb") as stored:
                found[path] = hashlib.sha256(stored.read()).hexdigest()
        for sub in folders:
            walk(f"{folder}/{sub}" if folder else sub)

    with contextlib.suppress(FileNotFoundError):
        walk("")
    return found


def fingerprint() -> dict:
    """Everything the instance holds: every row of every model and every stored file."""
    state = {
        model._meta.label: serializers.serialize("python", model._base_manager.order_by("pk"))
        for model in backed_up_models()
    }
    state["files"] = stored_files()
    return state


# --- data -----------------------------------------------------------------------------------------


def with_evidence(world, photos: Path) -> None:
    """What a program leaves behind: a published DUPRO report with its PDF, whose defect, loading
    and general photos are a Nikon's GPS JPEG, an iPhone's HEIC and a trail camera's JPEG; a PSI
    in progress with a photo still waiting for the worker (its staged upload and queued task)."""
    dupro = submit_inspection_of(
        world,
        "DUPRO",
        defects=[("major", 2, "Loose stitching on the hem")],
        photos=[
            ((photos / "jpg/gps/DSCN0010.jpg").read_bytes(), "Hem, left side", True),
            ((photos / "heic/mobile/iphone_13_pro_max.HEIC").read_bytes(), "Cartons on pallets"),
            ((photos / "jpg/Reconyx_HC500_Hyperfire.jpg").read_bytes(), "Warehouse"),
        ],
    )
    version = reports.approve(by=world.qc_lead, report=Report.objects.get(milestone=dupro))
    reports.ensure_pdf(version)
    psi = start_inspection(world, "PSI", plan_sample=False)
    upload_photo(
        by=world.inspector,
        milestone=psi,
        data=(photos / "jpg/Canon_40D.jpg").read_bytes(),
        name="Canon_40D.jpg",
        caption="Shade colour",
    )


@pytest.fixture
def archive(world, shared_photos, tmp_path):
    """The world with one ingested photo, backed up: (the archive, the instance as backed up)."""
    milestone = start_inspection(world, "PSI", plan_sample=False)
    attachment = upload_photo(
        by=world.inspector,
        milestone=milestone,
        data=(shared_photos / "jpg/Nikon_D70.jpg").read_bytes(),
        name="Nikon_D70.jpg",
        caption="Carton marks",
    )
    ingest(attachment.pk)
    path = tmp_path / "instance.tar"
    backup(path)
    return path, fingerprint()


def repack(source: Path, target: Path, change) -> Path:
    """A copy of an archive with `change(name, data) -> data` applied to every member."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for member in old:
            data = change(member.name, old.extractfile(member).read())
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
    return target


def with_manifest(**changes):
    def change(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        for key, edit in changes.items():
            manifest[key] = edit(manifest[key])
        return json.dumps(manifest).encode()

    return change


# --- the round trip -------------------------------------------------------------------------------


def test_a_backup_restores_into_the_other_engine_and_back_with_nothing_lost(
    world, other_world, shared_photos, tmp_path
):
    with_evidence(world, shared_photos)
    first = connection.vendor
    other = "postgresql" if first == "sqlite" else "sqlite"
    first_archive = tmp_path / "first.tar.gz"
    started = time.monotonic()
    outcome = backup(first_archive)
    backup_seconds = time.monotonic() - started
    source = read_archive(first_archive)
    assert_archive_holds_the_database(source)
    # The evidence is in it byte for byte: originals hash to the photo's own SHA-256, the PDF
    # to the one the published version carries.
    for photo in Photo.objects.all():
        assert source.files[photo.original] == photo.sha256
        assert {photo.rendition, photo.thumbnail} <= set(source.files)
    version = ReportVersion.objects.get()
    assert version.pdf and source.files[version.pdf] == version.pdf_sha256
    assert source.manifest["source"]["engine"] == first
    assert Photo.objects.count() == 3 and len(source.files) == 3 * 3 + 2  # + PDF, staged upload

    second_archive = tmp_path / "second.tar"
    with fresh_database(other, tmp_path / other) as url:
        restored, restore_seconds = manage(url, tmp_path / other, "restore", str(first_archive))
        manage(url, tmp_path / other, "backup", str(second_archive))
    second = read_archive(second_archive)
    assert second.manifest["source"]["engine"] == other
    assert differences(source, second) == []

    third_archive = tmp_path / "third.tar"
    with fresh_database(first, tmp_path / f"{first}-again") as url:
        manage(url, tmp_path / f"{first}-again", "restore", str(second_archive))
        manage(url, tmp_path / f"{first}-again", "backup", str(third_archive))
    assert differences(source, read_archive(third_archive)) == []

    print(
        f"\nbackup round trip: {source.row_count} rows in {len(source.rows)} models, "
        f"{outcome.files} files ({outcome.file_bytes / 1e6:.1f} MB; archive "
        f"{first_archive.stat().st_size / 1e6:.1f} MB gzip, "
        f"{second_archive.stat().st_size / 1e6:.1f} MB tar) "
        f"{ENGINE_NAMES[first]} -> {ENGINE_NAMES[other]} -> {ENGINE_NAMES[first]}, "
        f"compared: 0 differences; backup {backup_seconds:.1f} s in process, restore "
        f"{restore_seconds:.1f} s as a command ({restored.splitlines()[-1].split('; ')[-1]})"
    )


def test_the_backup_reads_one_snapshot_while_another_connection_writes(world, tmp_path):
    """A whole tenant committed by another connection once the backup has begun reading is in
    no table of the archive, neither the ones read before it nor after; and the writer was not
    held up by the backup (on SQLite it would wait for a backup that took the write lock)."""
    before = {model._meta.label: model._base_manager.count() for model in backed_up_models()}
    problems = []

    def another_user():
        try:
            build_world("c")
        except Exception as error:  # reported below, in the test's own thread
            problems.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    def write_meanwhile(execute, sql, params, many, context):
        if not problems and 'FROM "accounts_organisation"' in sql and not writer.is_alive():
            writer.start()
            writer.join(timeout=60)
            problems.append("done")
        return execute(sql, params, many, context)

    writer = threading.Thread(target=another_user)
    with connection.execute_wrapper(write_meanwhile):
        backup(tmp_path / "snapshot.tar")
    assert problems == ["done"]
    assert Organisation.objects.filter(name="Buyer C Ltd").exists()  # committed, during it
    archived = read_archive(tmp_path / "snapshot.tar")
    assert {label: len(rows) for label, rows in archived.rows.items()} == before


# --- refusals -------------------------------------------------------------------------------------


def test_a_restore_into_an_instance_with_data_is_refused_without_force(archive):
    path, _ = archive
    before = fingerprint()
    with pytest.raises(CommandError, match="already holds data") as refused:
        call_command("restore", str(path))
    assert "accounts.User" in str(refused.value) and "--force" in str(refused.value)
    assert fingerprint() == before


def test_force_replaces_everything_the_instance_holds(archive, world):
    path, at_backup = archive
    build_world("b")
    User.objects.filter(pk=world.inspector.pk).update(full_name="Renamed")
    restore(path, force=True)
    assert fingerprint() == at_backup
    assert User.objects.get(email=world.inspector.email).check_password(PASSWORD)


def test_an_instance_holding_only_what_migrate_made_takes_the_archive(archive):
    path, at_backup = archive
    # Every table emptied and its sequence restarted; migrate's own rows come back.
    call_command("flush", interactive=False, verbosity=0)
    restore(path)
    assert fingerprint() == at_backup
    # The sequences were reset past the restored pks: the next rows get fresh ones.
    create_organisation(name="After Restore Ltd", kind=OrganisationKind.BUYER, country="US")
    build_world("b")


def test_a_truncated_archive_is_refused_and_changes_nothing(archive, tmp_path):
    path, _ = archive
    data = path.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2])
    gzipped = tmp_path / "whole.tar.gz"
    with tarfile.open(path) as old, tarfile.open(gzipped, "w:gz") as new:
        for member in old:
            new.addfile(member, old.extractfile(member))
    cut_gzip = tmp_path / "cut.tar.gz"
    cut_gzip.write_bytes(gzipped.read_bytes()[: gzipped.stat().st_size - 100])
    before = fingerprint()
    for damaged in (cut, cut_gzip):
        with pytest.raises(BackupError, match=r"damaged or truncated|truncated") as refused:
            restore(damaged, force=True)
        assert str(damaged) in str(refused.value)
        assert fingerprint() == before


def test_a_file_altered_in_the_archive_is_refused_and_changes_nothing(archive, tmp_path):
    path, _ = archive
    photo = Photo.objects.get()

    def flip(name, data):
        if name == f"files/{photo.original}":
            return data[:-1] + bytes([data[-1] ^ 0xFF])
        return data

    altered = repack(path, tmp_path / "altered.tar", flip)
    default_storage.delete(photo.original)  # so a restore would have to write it
    before = fingerprint()
    with pytest.raises(BackupError, match="does not match its SHA-256") as refused:
        restore(altered, force=True)
    assert photo.original in str(refused.value)
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            with_manifest(migrations=lambda m: {**m, "orders": m["orders"][:-1]}),
            r"orders: this qcloop has \d{4}_\w+, the archive not",
        ),
        (
            with_manifest(migrations=lambda m: {**m, "capa": [*m["capa"], "0099_future"]}),
            "capa: the archive has 0099_future, this qcloop not",
        ),
        (with_manifest(format_version=lambda v: v + 1), "format version 2; this qcloop reads"),
    ],
    ids=["older-migrations", "newer-migrations", "format-version"],
)
def test_an_archive_of_another_migration_state_or_format_is_refused(
    archive, tmp_path, change, message
):
    path, _ = archive
    other = repack(path, tmp_path / "other.tar", change)
    before = fingerprint()
    with pytest.raises(BackupError, match=message):
        restore(other, force=True)
    assert fingerprint() == before


def test_a_file_missing_from_storage_fails_the_backup_naming_row_and_file(world, archive, tmp_path):
    photo = Photo.objects.get()
    default_storage.delete(photo.thumbnail)
    target = tmp_path / "never.tar.gz"
    with pytest.raises(BackupError, match="missing from storage") as failed:
        backup(target)
    assert re.search(
        rf"inspections\.Photo {photo.pk} thumbnail -> '{photo.thumbnail}'", str(failed.value)
    )
    assert not target.exists() and not list(tmp_path.glob(".never*"))
