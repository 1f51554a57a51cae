"""Photos and reports in an S3-compatible bucket (moto's server on loopback, as QCLOOP_S3_BUCKET
configures it): stored there by the product's own code, handed out as presigned URLs that
expire in minutes and only after the tenancy gate, and the readiness check names a bucket
that is not there."""

import hashlib
import subprocess
import sys
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from qcloop.accounts.models import Role
from qcloop.inspections.photos import ingest, upload_photo
from qcloop.reports.models import Report
from qcloop.reports.services import approve, ensure_pdf
from qcloop.testing import start_inspection, submit_inspection_of

pytestmark = pytest.mark.django_db


def fetched(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def keys_in(client, bucket: str) -> set[str]:
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"] for item in listed}


def test_a_photo_goes_to_the_bucket_and_out_only_through_the_gate(
    world, other_world, client, s3_storage, shared_photos
):
    s3, bucket, options = s3_storage
    data = sorted((shared_photos / "jpg").glob("*.jpg"))[0].read_bytes()
    attachment = upload_photo_to_dupro(world, data, "line.jpg")
    ingest(attachment.pk)
    attachment.refresh_from_db()
    photo = attachment.photo
    assert {photo.original, photo.rendition, photo.thumbnail} <= keys_in(s3, bucket)
    stored = s3.get_object(Bucket=bucket, Key=photo.original)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == photo.sha256

    url = reverse("inspections:photo_file", args=[attachment.pk, "original"])
    client.force_login(other_world.inspector)
    assert client.get(url).status_code == 404  # an outsider gets no link at all
    client.force_login(world.inspector)
    response = client.get(url)
    assert response.status_code == 302
    signed = response["Location"]
    assert signed.startswith(options["endpoint_url"])
    query = parse_qs(urlsplit(signed).query)
    assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
    assert hashlib.sha256(fetched(signed)).hexdigest() == photo.sha256
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetched(f"{options['endpoint_url']}/{bucket}/{photo.original}")  # unsigned: private
    assert refused.value.code == 403


def test_a_report_pdf_is_kept_in_the_bucket_and_downloaded_by_a_signed_link(
    world, client, s3_storage
):
    s3, bucket, _options = s3_storage
    psi = submit_inspection_of(world, "PSI", defects=[("major", 1, "Scratch on the base")])
    version = ensure_pdf(approve(by=world.qc_lead, report=Report.objects.get(milestone=psi)))
    assert version.pdf in keys_in(s3, bucket)

    client.force_login(world.user(Role.BUYER_VIEWER))
    response = client.get(
        reverse("reports:version_pdf", args=[version.report_id, version.number]) + "?download=1"
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["response-content-disposition"] == [f'attachment; filename="{version.filename}"']
    body = fetched(response["Location"])
    assert body.startswith(b"%PDF") and hashlib.sha256(body).hexdigest() == version.pdf_sha256


def test_not_ready_when_the_bucket_is_missing(client, settings, s3_storage):
    s3, bucket, options = s3_storage
    assert client.get("/readyz").json()["storage"]["status"] == "ok"
    assert not keys_in(s3, bucket), "the readiness probe cleans up after itself"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**options, "bucket_name": "no-such-bucket"},
        },
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "NoSuchBucket" in response.json()["storage"]["error"]


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_a_bucket_restores_into_another_bucket_file_for_file(
    world, client, s3_storage, s3_server, shared_photos, tmp_path
):
    """Files in S3 go into the archive and out into a new instance's own bucket, each under its
    name with the same bytes (SQLite as the target: the other engine is the round trip's)."""
    from conftest import S3_KEYS, subprocess_env
    from qcloop.ops.backup import backup
    from qcloop.ops.tests.test_backup import read_archive

    s3, bucket, _options = s3_storage
    for path in sorted((shared_photos / "jpg").glob("*.jpg"))[:2]:
        attachment = upload_photo_to_dupro(world, path.read_bytes(), path.name)
        ingest(attachment.pk)
    archive = tmp_path / "bucket.tar.gz"
    backup(archive)
    contents = read_archive(archive)
    in_bucket = {
        key: hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
        for key in keys_in(s3, bucket)
    }
    assert contents.files == in_bucket and len(in_bucket) >= 6  # 2 x original, rendition, thumb

    target = f"{bucket}-restored"
    s3.create_bucket(Bucket=target)
    env = subprocess_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'restored.sqlite3'}",
        QCLOOP_DATA_DIR=str(tmp_path / "restored"),
        QCLOOP_S3_BUCKET=target,
        QCLOOP_S3_ENDPOINT_URL=s3_server,
        QCLOOP_S3_REGION="us-east-1",
        **S3_KEYS,
    )
    done = subprocess.run(
        [sys.executable, "-m", "qcloop", "restore", str(archive)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    restored = {
        key: hashlib.sha256(s3.get_object(Bucket=target, Key=key)["Body"].read()).hexdigest()
        for key in keys_in(s3, target)
    }
    assert restored == in_bucket


def upload_photo_to_dupro(world, data: bytes, name: str):
    dupro = world.milestones["DUPRO"]
    if dupro.status != "in_progress":
        dupro = world.milestones["DUPRO"] = start_inspection(world, "DUPRO", plan_sample=False)
    return upload_photo(by=world.inspector, milestone=dupro, data=data, name=name)
