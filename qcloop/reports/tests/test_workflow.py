"""The review of a report by the QC lead, its publication as immutable versions with their
hashes, corrections that supersede, and the verification of a PDF by anyone holding it."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from qcloop.accounts.models import Role
from qcloop.inspections.models import MilestoneStatus
from qcloop.inspections.recording import record_defect
from qcloop.reports import services, verify
from qcloop.reports.content import content_sha256
from qcloop.reports.models import NoteKind, Report
from qcloop.reports.services import ensure_pdf
from qcloop.testing import PASSWORD, submit_inspection_of

pytestmark = pytest.mark.django_db


def jpeg(seed: int) -> bytes:
    image = Image.effect_noise((640, 480), 40 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def submitted_psi(world, majors=3):
    psi = submit_inspection_of(
        world,
        "PSI",
        defects=[("major", majors, "Shade scratched"), ("minor", 2, "Loose thread")],
        photos=[(jpeg(1), "Scratch on shade"), (jpeg(2), "Carton marks")],
    )
    return psi, Report.objects.get(milestone=psi)


def test_submission_opens_the_report_and_starts_its_24_hour_clock(world):
    psi, report = submitted_psi(world)
    assert report.clock_started_at == psi.submitted_at
    assert report.due_at - report.clock_started_at == timedelta(hours=24)
    assert report.current is None and report.published_at is None


def test_the_buyer_sees_nothing_until_the_qc_lead_approves(world, client):
    _, report = submitted_psi(world)
    client.force_login(world.user(Role.BUYER_MANAGER))
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 404
    client.force_login(world.qc_lead)
    page = client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "DRAFT" in page.upper() and "Shade scratched" in page


def test_send_back_needs_words_and_reopens_the_inspection(world):
    psi, report = submitted_psi(world)
    with pytest.raises(ValidationError, match="what the inspector should change"):
        services.send_back(by=world.qc_lead, report=report, text="  ")
    with pytest.raises(PermissionDenied):
        services.send_back(by=world.inspector, report=report, text="Photo the carton marks")
    services.send_back(by=world.qc_lead, report=report, text="Photo the carton marks")
    psi.refresh_from_db()
    assert psi.status == MilestoneStatus.IN_PROGRESS
    assert report.notes.get().kind == NoteKind.SENT_BACK
    # The resubmission keeps the clock: the buyer has been waiting all along.
    from qcloop.inspections.recording import submit_inspection

    submit_inspection(by=world.inspector, milestone=psi)
    report.refresh_from_db()
    assert report.clock_started_at == psi.submitted_at or report.clock_started_at < timezone.now()
    assert Report.objects.filter(milestone=psi).count() == 1


def test_approval_publishes_version_one_with_the_hash_of_its_content(world):
    psi, report = submitted_psi(world)
    services.comment(by=world.inspector, report=report, text="Scratches on line 2 only.")
    version = services.approve(by=world.qc_lead, report=report, lead_summary="Ship after rework.")
    psi.refresh_from_db()
    assert psi.status == MilestoneStatus.PUBLISHED
    assert version.number == 1 and version.is_current
    assert version.content_sha256 == content_sha256(version.content)
    assert version.content["verdict"]["lead_summary"] == "Ship after rework."
    assert [c["found"] for c in version.content["aql"]["classes"] if c["defect_class"] == "major"]
    assert len(version.content["photos"]) == 2
    assert {n.kind for n in report.notes.all()} == {NoteKind.COMMENT, NoteKind.APPROVED}


def test_the_pdf_is_rendered_once_and_its_bytes_are_what_the_hash_says(world):
    _, report = submitted_psi(world)
    version = ensure_pdf(services.approve(by=world.qc_lead, report=report))
    with default_storage.open(version.pdf, "rb") as stored:
        data = stored.read()
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == version.pdf_sha256
    assert version.pdf_pages >= 2
    assert version.code.encode() in _pdf_text(data)
    assert ensure_pdf(version).pdf == version.pdf  # not rendered again


def _pdf_text(data: bytes) -> bytes:
    import subprocess

    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout


def test_a_correction_is_a_new_version_and_the_old_one_is_kept(world):
    psi, report = submitted_psi(world, majors=3)
    first = ensure_pdf(services.approve(by=world.qc_lead, report=report))
    first_content = dict(first.content)
    with pytest.raises(ValidationError):  # published: recording is closed ...
        record_defect(
            by=world.qc_lead, milestone=psi, quantity=1, description="x", defect_class="minor"
        )
    with pytest.raises(ValidationError, match="why the report is corrected"):
        services.open_correction(by=world.qc_lead, report=report, reason="")
    services.open_correction(by=world.qc_lead, report=report, reason="Two majors were missed.")
    with pytest.raises(ValidationError):  # ... and stays closed to the inspector
        record_defect(
            by=world.inspector, milestone=psi, quantity=1, description="x", defect_class="minor"
        )
    record_defect(
        by=world.qc_lead, milestone=psi, quantity=9, description="Dent", defect_class="major"
    )
    second = services.publish_correction(by=world.qc_lead, report=report)
    first.refresh_from_db()
    assert (first.number, second.number) == (1, 2)
    assert first.superseded_at is not None and second.is_current
    assert first.content == first_content  # the published version never changes
    assert second.correction_reason == "Two majors were missed."
    assert second.content["verdict"]["result"] == "fail"  # 12 majors: Re 8 at code K
    assert second.content_sha256 != first.content_sha256

    old = verify.by_sha256(first.pdf_sha256)
    assert old.status == "superseded" and old.current.number == 2
    assert verify.by_sha256(ensure_pdf(second).pdf_sha256).status == "current"


def test_verification_by_file_code_and_hash(world, client):
    _, report = submitted_psi(world)
    version = ensure_pdf(services.approve(by=world.qc_lead, report=report))
    with default_storage.open(version.pdf, "rb") as stored:
        data = stored.read()
    client.logout()  # anyone holding the PDF may check it
    page = client.post(reverse("reports:verify"), {"pdf": io.BytesIO(data)})
    assert page.status_code == 200 and "Authentic and current" in page.content.decode()
    tampered = data + b"\n% one byte changed is another document\n"
    page = client.post(reverse("reports:verify"), {"pdf": io.BytesIO(tampered)})
    assert page.status_code == 404 and "do not rely on it" in page.content.decode()
    page = client.get(reverse("reports:verify"), {"code": version.code.lower()})
    assert "Authentic and current" in page.content.decode()
    page = client.get(reverse("reports:verify"), {"code": "nonsense"})
    assert page.status_code == 404 and "XXXX-XXXX-XXXX" in page.content.decode()
    answer = client.get("/api/verify", {"sha256": version.pdf_sha256}).json()
    assert answer["status"] == "current" and answer["document"]["version"] == 1


def test_only_the_qc_lead_approves_and_a_buyer_cannot_comment(world):
    _, report = submitted_psi(world)
    with pytest.raises(PermissionDenied):
        services.approve(by=world.inspector, report=report)
    with pytest.raises(PermissionDenied):
        services.comment(by=world.user(Role.BUYER_MANAGER), report=report, text="Hurry")


def test_supplier_sees_published_reports_only_when_the_buyer_shares(world, client):
    _, report = submitted_psi(world)
    services.approve(by=world.qc_lead, report=report)
    client.login(email=world.user(Role.SUPPLIER_USER).email, password=PASSWORD)
    url = reverse("reports:detail", args=[report.pk])
    assert client.get(url).status_code == 404
    services.share_with_suppliers(world.buyer, True)
    assert client.get(url).status_code == 200
