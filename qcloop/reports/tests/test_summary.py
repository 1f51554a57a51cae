"""The PO summary after the CLI: opened with a 48-hour clock, read from the published milestone
reports, reviewed and published by the QC lead with their recommendation, corrected as a new
version, and rendered as a PDF of the expected shape."""

import subprocess
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse

from qcloop.accounts.models import Role
from qcloop.inspections.models import Milestone
from qcloop.reports import services
from qcloop.reports.models import Report, ReportKind
from qcloop.reports.summary import summary_content, supplier_history
from qcloop.testing import build_world, submit_inspection_of

from .test_workflow import jpeg

pytestmark = pytest.mark.django_db


def publish(world, kind, defects=(), photos=()):
    milestone = submit_inspection_of(world, kind, defects=defects, photos=photos)
    report = Report.objects.get(milestone=milestone)
    return services.approve(by=world.qc_lead, report=report, lead_summary=f"{kind} done.")


def close_capas(world):
    """The supplier closes the DUPRO's corrective actions before the PSI: these tests are about
    the defect rates (a CAPA still open at PSI holds the supplier: capa/tests/test_flags.py)."""
    from django.utils import timezone

    from qcloop.capa.models import CorrectiveAction

    CorrectiveAction.objects.filter(po=world.po).update(status="closed", closed_at=timezone.now())


def monitored(world, dupro=(), psi=(), photos=True):
    """A PO through all four milestones; DUPRO and PSI with the given defects (code K:
    125 units, major Ac 7 / Re 8 at AQL 2.5, minor Ac 10 / Re 11 at 4.0)."""
    publish(world, "IPC")
    dupro_photos = [(jpeg(1), "Line 2 in-line", True)] if photos and dupro else []
    publish(world, "DUPRO", defects=dupro, photos=dupro_photos)
    close_capas(world)
    psi_photos = [(jpeg(2), "Scratch", True), (jpeg(3), "Marks")] if photos else []
    publish(world, "PSI", defects=psi, photos=psi_photos)
    publish(world, "CLI", photos=[(jpeg(4), "Seal")] if photos else [])
    return Report.objects.get(po=world.po, kind=ReportKind.PO_SUMMARY)


def test_the_cli_publication_opens_the_summary_with_a_48_hour_clock(world):
    for kind in ("IPC", "DUPRO", "PSI"):
        publish(world, kind)
    assert not Report.objects.filter(po=world.po, kind=ReportKind.PO_SUMMARY).exists()
    publish(world, "CLI")
    cli = Milestone.objects.get(po=world.po, kind="CLI")
    summary = Report.objects.get(po=world.po, kind=ReportKind.PO_SUMMARY)
    assert summary.clock_started_at == cli.published_at
    assert summary.due_at - summary.clock_started_at == timedelta(hours=48)
    assert summary.published_at is None and summary.current is None


def test_the_summary_reads_the_published_reports_and_cites_them(world):
    summary = monitored(world, dupro=[("major", 2, "Shade scratched")], psi=[("major", 5, "Dent")])
    content = services.draft_content(summary)
    assert [m["label"] for m in content["milestones"]] == ["IPC", "DUPRO", "PSI", "CLI"]
    psi = content["milestones"][2]
    assert psi["result"] == "pass" and psi["sampled_units"] == 125
    major = next(k for k in psi["classes"] if k["defect_class"] == "major")
    assert (major["found"], major["ac"], major["re"]) == (5, 7, 8)
    cited = Report.objects.get(milestone__kind="PSI", po=world.po).current
    assert psi["report"]["code"] == cited.code
    assert psi["report"]["content_sha256"] == cited.content_sha256
    # 2 in 125 at DUPRO (1.6 per 100), 5 in 125 at PSI (4.0): up by 2.4 and by 2.5 times.
    assert content["trend"]["direction"] == "worsening"
    rates = {(p["label"], p["defect_class"]): p for p in content["rates"]}
    assert rates[("PSI", "major")]["rate"] == pytest.approx(4.0)
    assert rates[("PSI", "major")]["low"] == pytest.approx(1.72, abs=0.01)  # Wilson, by hand
    assert rates[("IPC", "major")]["rate"] is None  # the IPC is not sampled
    assert content["recommendation"]["code"] == "tighten_sampling"
    assert "<svg" in content["charts"]["rates"] and "<svg" in content["charts"]["timeline"]
    assert content["photos"]["count"] == 4
    findings = {f["label"]: f for f in content["findings"]}
    assert [p["caption"] for p in findings["PSI"]["photos"]] == ["Scratch"]


def test_the_seed_pattern_without_history_is_worsening_until_the_trend_test_supports_it(world):
    """1.6 % at DUPRO, 4 % at PSI, 5.6 % at the re-inspection: each within Ac 7 of its
    125-unit sample, so every report passes, yet the rate rose at every step. Without earlier
    lots of the supplier the trend test finds it weak evidence (exact p 0.053 over 2, 5, 7 in
    125 each), so the summary says "worsening", not "escalating", with the evidence in
    numbers, and still tightens (analytics/tests/test_flags.py: with the supplier's history
    the same climb is flagged)."""
    from qcloop.inspections.services import add_milestone

    publish(world, "IPC")
    publish(world, "DUPRO", defects=[("major", 2, "Loose base")])
    close_capas(world)
    publish(world, "PSI", defects=[("major", 5, "Loose base")])
    close_capas(world)
    psi = world.milestones["PSI"]
    world.milestones["PSI"] = add_milestone(
        by=world.qc_lead,
        po=world.po,
        kind="PSI",
        window_start=psi.window_end,
        window_end=psi.window_end + timedelta(days=2),
    )
    publish(world, "PSI", defects=[("major", 7, "Loose base")])
    publish(world, "CLI")
    content = services.draft_content(Report.objects.get(po=world.po, kind="po_summary"))
    major = next(c for c in content["trend"]["classes"] if c["defect_class"] == "major")
    assert [p["label"] for p in major["series"]] == ["DUPRO", "PSI", "PSI #2"]
    assert [p["rate"] for p in major["series"]] == [1.6, 4.0, 5.6]
    assert major["direction"] == "worsening" and content["trend"]["flagged"]
    assert major["sentences"][0].startswith(
        "Major defects rose at every milestone, 1.6 → 4.0 → 5.6 per 100 units (DUPRO, PSI, "
        "PSI #2), but the trend test against the supplier's history finds it could be chance "
        "(p = 0.053, weak evidence)"
    )
    assert content["trend"]["flags"] == []  # nothing was flagged by any report
    assert "no earlier lot of this supplier's lighting on record" in content["trend"]["statement"]
    assert content["verdict"]["result"] == "pass"  # ... and yet every PSI passed
    assert content["recommendation"]["code"] == "tighten_sampling"


def test_approval_publishes_with_the_qc_leads_recommendation_and_reasons(world, client):
    summary = monitored(world, psi=[("major", 2, "Dent")])
    computed = services.draft_content(summary)["recommendation"]["code"]
    other = "psi_and_cli_only" if computed != "psi_and_cli_only" else "keep_full_monitoring"
    with pytest.raises(ValidationError, match="Say why"):
        services.approve(by=world.qc_lead, report=summary, recommendation={"code": other})
    with pytest.raises(ValidationError, match="not a recommendation"):
        services.approve(by=world.qc_lead, report=summary, recommendation={"code": "ship_it"})
    summary.refresh_from_db()
    assert summary.published_at is None and summary.current is None  # nothing changed
    version = services.approve(
        by=world.qc_lead,
        report=summary,
        lead_summary="Clean run.",
        recommendation={"code": other, "note": "Third clean PO with this factory."},
    )
    recommendation = version.content["recommendation"]
    assert recommendation["code"] == other and recommendation["overridden"]
    assert recommendation["computed"]["code"] == computed
    assert recommendation["lead_note"] == "Third clean PO with this factory."
    summary.refresh_from_db()
    assert summary.published_at == version.published_at
    with pytest.raises(ValidationError, match="correct it instead"):
        services.approve(by=world.qc_lead, report=summary)
    client.force_login(world.user(Role.BUYER_MANAGER))
    page = client.get(reverse("reports:detail", args=[summary.pk])).content.decode()
    assert "Third clean PO with this factory." in page and "PO summary" in page


def test_a_correction_rereads_the_milestone_reports(world, client):
    summary = monitored(world, psi=[("major", 2, "Dent")])
    first = services.approve(by=world.qc_lead, report=summary)
    psi_report = Report.objects.get(milestone__kind="PSI", po=world.po)
    services.open_correction(by=world.qc_lead, report=psi_report, reason="Missed dents.")
    from qcloop.inspections.recording import record_defect

    record_defect(
        by=world.qc_lead,
        milestone=psi_report.milestone,
        quantity=9,
        description="Dent",
        defect_class="major",
    )
    services.publish_correction(by=world.qc_lead, report=psi_report)
    client.force_login(world.qc_lead)
    page = client.get(reverse("reports:detail", args=[summary.pk])).content.decode()
    assert 'id="stale-sources"' in page and "PSI" in page
    services.open_correction(by=world.qc_lead, report=summary, reason="PSI report corrected.")
    second = services.publish_correction(by=world.qc_lead, report=summary)
    first.refresh_from_db()
    assert first.superseded_at is not None and second.number == 2
    psi = next(m for m in second.content["milestones"] if m["label"] == "PSI")
    assert psi["result"] == "fail" and psi["report"]["version"] == 2
    assert second.content["recommendation"]["code"] in {
        "tighten_sampling",
        "hold_and_review_supplier",
    }
    page = client.get(reverse("reports:detail", args=[summary.pk])).content.decode()
    assert 'id="stale-sources"' not in page


def test_the_supplier_history_is_the_first_psi_of_earlier_pos(world):
    from qcloop.orders.services import LineDraft, PODraft, create_purchase_order

    po = world.po
    earlier = create_purchase_order(
        by=world.user(Role.BUYER_MANAGER),
        draft=PODraft(
            number=f"{po.number}-0",
            buyer=po.buyer,
            agency=po.agency,
            supplier=po.supplier,
            factory=po.factory,
            qc_lead=world.qc_lead,
            currency="USD",
            fob_value=po.fob_value,
            carton_count=po.carton_count,
            production_start=po.production_start - timedelta(days=60),
            ex_factory_date=po.ex_factory_date - timedelta(days=60),
            ship_date=po.ship_date - timedelta(days=60),
            destination_market="US",
            lines=[LineDraft(world.product, 3000)],
        ),
    )
    past = type(world)(**{**world.__dict__, "po": earlier})
    past.milestones = {m.kind: m for m in earlier.milestones.all()}
    publish(past, "PSI", defects=[("major", 9, "Dent")])  # Re 8: failed
    assert supplier_history(po) == [
        {
            "po": earlier.number,
            "inspected": past.milestones["PSI"].window_start.strftime("%d %b %Y"),
            "result": "fail",
        }
    ]
    # Another buyer's supplier is another history, even for the same factory's people.
    assert supplier_history(build_world("z").po) == []


def test_the_summary_pdf_has_its_sections_and_the_verification_code(world):
    summary = monitored(world, dupro=[("major", 1, "Scuff")], psi=[("major", 3, "Dent")])
    version = services.ensure_pdf(services.approve(by=world.qc_lead, report=summary))
    with default_storage.open(version.pdf, "rb") as stored:
        data = stored.read()
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    text = " ".join(text.lower().split())
    for heading in (
        "Recommendation for the next PO",
        "The milestones at a glance",
        "Trend analysis",
        "Production timeline",
        "Corrective actions (CAPA log)",
        "What each milestone found",
        "The supplier's record",
        "Sources and verification",
        "Annex: the photo register",
    ):
        assert heading.lower() in text, heading
    assert version.code.lower() in text
    assert version.pdf_pages >= 6


def test_a_summary_of_a_po_without_photos_or_samples_still_renders(world):
    summary = monitored(world, photos=False)
    content = summary_content(world.po)
    assert content["photos"] == {"groups": [], "count": 0}
    assert all(not f["photos"] for f in content["findings"])
    assert services.draft_pdf(summary).startswith(b"%PDF-")


def test_photo_numbers_are_told_as_ranges():
    from qcloop.reports.summary import number_ranges

    assert number_ranges([7, 1, 2, 3, 5, 8, 3]) == "1-3, 5, 7-8"
    assert number_ranges([4]) == "4" and number_ranges([]) == ""


def test_the_published_summary_is_mailed_with_the_recommendation(world, smtp_server):
    from email import message_from_string, policy

    from qcloop.reports.distribution import distribute

    summary = monitored(world, psi=[("major", 2, "Dent")])
    version = services.ensure_pdf(services.approve(by=world.qc_lead, report=summary))
    deliveries = distribute(version)
    assert deliveries and all(d.status == "sent" for d in deliveries)
    mail = message_from_string(smtp_server.messages[0][2], policy=policy.default)
    title = version.content["recommendation"]["title"]
    assert mail["Subject"] == f"[qcloop] PO summary: PO {world.po.number} — next PO: {title}"
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    assert f"Recommendation for the next PO: {title}." in text.get_payload(decode=True).decode()
