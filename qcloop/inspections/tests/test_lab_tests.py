"""Accredited lab tests in place of checklist items: the result rules by hand-checked cases
(no database), real certificate PDFs (WeasyPrint and hand-written bytes) against broken ones,
the services and what they refuse, the milestone result on submission and in review, the
gate, the pages, the API and the milestone report."""

from datetime import date, timedelta

import pytest
import weasyprint
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from qcloop.accounts.models import Role
from qcloop.inspections import lab_rules, rules
from qcloop.inspections.lab_tests import record_lab_test, remove_lab_test
from qcloop.inspections.models import LabTest
from qcloop.inspections.recording import (
    answer_check,
    missing_for_submission,
    record_defect,
    record_production,
    submit_inspection,
)
from qcloop.testing import start_inspection

# --- the result, without a database -------------------------------------------------------


def check(code, result=None, on_fail="fail", mandatory=True):
    return rules.CheckOutcome(
        code=code, text=f"item {code}", section="materials", mandatory=mandatory,
        on_fail=on_fail, result=result,
    )  # fmt: skip


def lab(result, replaces=("A",), finding_class="major", name="LM-79 at SGS"):
    return rules.LabOutcome(
        name=name, replaces=tuple(replaces), result=result, finding_class=finding_class
    )


def test_a_passed_lab_test_answers_the_items_it_replaces():
    # A is unanswered by the inspector, B passed: without the lab the result would pend on A.
    # The lab's pass answers A, so both mandatory checks pass: 2 of 2, 1 by lab test.
    result = rules.judge_inspection(None, {}, [check("A"), check("B", "pass")], [lab("pass")])
    assert result.outcome == "pass"
    assert "Lab test LM-79 at SGS passed (in place of A)." in result.reasons
    assert "All 2 mandatory checks passed or do not apply (1 of them by lab test)." in (
        result.reasons
    )


def test_a_pending_lab_test_holds_the_result_at_pending_lab_result():
    result = rules.judge_inspection(None, {}, [check("A"), check("B", "pass")], [lab("pending")])
    assert result.outcome == "pending"
    assert result.reasons[0] == (
        "Pending lab result: LM-79 at SGS (in place of A) — the result is pending."
    )
    # A is the lab's to answer: it is not counted among the unanswered checks.
    assert not any("not answered" in reason for reason in result.reasons)


def test_a_failed_lab_test_fails_even_an_item_that_would_only_pend():
    # A's own rule on a fail is "pending" (the buyer decides); the lab's fail is not the
    # buyer's call: the inspection fails, and the inspector's "pass" on A does not count.
    checks = [check("A", "pass", on_fail="pending"), check("B", "pass")]
    result = rules.judge_inspection(None, {}, checks, [lab("fail", finding_class="critical")])
    assert result.outcome == "fail"
    assert result.reasons[0] == (
        "Lab test LM-79 at SGS failed (in place of A): a critical finding — the inspection fails."
    )
    assert not any("Mandatory check" in reason for reason in result.reasons)


def test_a_fail_elsewhere_outweighs_a_pending_lab_result():
    # One critical defect fails the lot whatever the lab will say.
    result = rules.judge_inspection(None, {"critical": 1}, [check("A")], [lab("pending")])
    assert result.outcome == "fail"
    assert any("Pending lab result" in reason for reason in result.reasons)


def test_a_lab_test_with_a_sampling_plan_and_defects_within_it():
    # 125 units, major Ac 7 / Re 8: 2 majors accepted; the lab passes A: the lot passes.
    plan = {"classes": [{"defect_class": "major", "n": 125, "ac": 7, "re": 8, "aql": "2.5"}]}
    result = rules.judge_inspection(plan, {"major": 2}, [check("A", "fail")], [lab("pass")])
    assert result.outcome == "pass"
    assert result.per_class["major"]["decision"] == "accept"


def test_a_lab_test_replacing_nothing_still_counts():
    result = rules.judge_inspection(None, {}, [check("A", "pass")], [lab("pending", replaces=())])
    assert result.outcome == "pending"
    assert result.reasons[0] == "Pending lab result: LM-79 at SGS — the result is pending."


def test_replaced_items_must_be_on_the_checklist_and_replaced_once():
    with pytest.raises(ValueError, match="replaces Z, not on this checklist"):
        rules.judge_inspection(None, {}, [check("A")], [lab("pass", replaces=("Z",))])
    with pytest.raises(ValueError, match="A is replaced by two lab tests"):
        rules.judge_inspection(
            None, {}, [check("A")], [lab("pass"), lab("fail", name="IEC 62471 at Intertek")]
        )
    with pytest.raises(ValueError, match="result must be pass, fail or pending"):
        lab("maybe")
    with pytest.raises(ValueError, match="major or critical"):
        lab("fail", finding_class="minor")


def test_replace_checks_gives_each_item_the_lab_result():
    replaced = rules.replace_checks(
        [check("A"), check("B", "fail"), check("C", "pass")],
        [lab("pass", replaces=("A",)), lab("pending", replaces=("B",), name="EN 71-3 at BV")],
    )
    assert [(c.code, c.result, c.lab_test) for c in replaced] == [
        ("A", "pass", "LM-79 at SGS"),
        ("B", None, "EN 71-3 at BV"),
        ("C", "pass", ""),
    ]


def test_safety_standards_fail_as_critical_performance_ones_as_major():
    assert lab_rules.finding_class("LM-79") == "major"
    assert lab_rules.finding_class("LM-80") == "major"
    assert lab_rules.finding_class("IEC 62471") == "critical"
    assert lab_rules.finding_class("EN 71-3") == "critical"
    assert lab_rules.finding_class("CPSIA lead") == "critical"
    assert lab_rules.finding_class("FDA 21 CFR") == "critical"
    # Off the list: the QC lead says whether it is a safety standard; the list wins if listed.
    assert lab_rules.finding_class("GB 7000.1", safety=False) == "major"
    assert lab_rules.finding_class("GB 7000.1", safety=True) == "critical"
    assert lab_rules.finding_class("LM-79", safety=True) == "major"


def test_standards_of_the_category_come_first_and_others_warn():
    assert [s.code for s in lab_rules.standards_for("lighting")][:4] == [
        "LM-79", "LM-80", "IEC 62471", "EN 60598",
    ]  # fmt: skip
    assert lab_rules.standard_warning("LM-79", "lighting") is None
    assert "listed for toys, not for lighting" in lab_rules.standard_warning("EN 71-3", "lighting")
    assert "not on qcloop's reference list" in lab_rules.standard_warning("GB 7000.1", "lighting")


def test_labs_other_than_the_known_ones_need_a_name_and_accreditation():
    assert lab_rules.check_lab("sgs", "", "") == {}
    assert set(lab_rules.check_lab("other", "", "")) == {"lab_name", "accreditation_number"}
    assert lab_rules.check_lab("other", "Lumen Lab", "CNAS L1234") == {}
    assert "lab" in lab_rules.check_lab("acme", "", "")
    assert lab_rules.lab_display("other", "Lumen Lab", "CNAS L1234") == (
        "Lumen Lab (accreditation CNAS L1234)"
    )


def test_measured_values_are_read_line_by_line():
    assert lab_rules.parse_measured("Luminous flux: 812 lm\nCCT = 2,700 K\n\n") == [
        {"name": "Luminous flux", "value": "812", "unit": "lm"},
        {"name": "CCT", "value": "2700", "unit": "K"},
    ]
    with pytest.raises(ValueError, match=r"line 2 \('efficacy high'\)"):
        lab_rules.parse_measured("Flux: 812 lm\nefficacy high")


# --- certificates: real PDFs and broken ones ------------------------------------------------


def weasy_pdf(pages: int = 2) -> bytes:
    html = "".join(
        f'<p style="page-break-after: always">LM-79 test report, page {n + 1}</p>'
        for n in range(pages)
    )
    return weasyprint.HTML(string=html).write_pdf()


def test_real_pdfs_are_accepted_with_their_page_count():
    assert lab_rules.check_pdf(lab_rules.minimal_pdf(["SGS report"])).pages == 1
    facts = lab_rules.check_pdf(weasy_pdf(2))
    assert facts.pages == 2 and facts.version.startswith("1.")


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"", "the file is empty"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "not a PDF"),
        (b"<html>certificate</html>", "not a PDF"),
        (lab_rules.minimal_pdf(["cut"])[:-40], "incomplete or damaged"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n9999\n%%EOF\n", "cross-reference offset"),
        (
            b"%PDF-1.4\nxref\n0 1\n0000000000 65535 f \ntrailer<<>>\nstartxref\n9\n%%EOF\n",
            "no pages",
        ),
    ],
)
def test_broken_or_foreign_files_are_refused_by_name(data, problem):
    with pytest.raises(lab_rules.CertificateError, match=problem):
        lab_rules.check_pdf(data)


def test_a_certificate_too_large_is_refused():
    with pytest.raises(lab_rules.CertificateError, match="at most 100 "):
        lab_rules.check_pdf(lab_rules.minimal_pdf(["x"]), max_bytes=100)


# --- services ----------------------------------------------------------------------------------

pytestdb = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


def fields(**changes) -> dict:
    sent = date.today() - timedelta(days=6)
    return {
        "lab": "sgs",
        "standard": "LM-79",
        "sample_units": 3,
        "sample_drawn": "first-off units drawn at random by the inspector, sealed",
        "sample_id": "S-001",
        "sent_on": sent,
        **changes,
    }


def reported(**changes) -> dict:
    return fields(
        result="pass",
        reported_on=date.today() - timedelta(days=1),
        report_number="SGS-GZ-2611",
        **changes,
    )


def dupro(world):
    milestone = start_inspection(world, "DUPRO")
    milestone.refresh_from_db()
    return milestone


def codes(milestone) -> list[str]:
    return [item["code"] for item in milestone.checklist.items]


@pytestdb
def test_a_pass_needs_its_certificate_and_nothing_is_recorded_without(world, media):
    milestone = dupro(world)
    with pytest.raises(ValidationError) as refused:
        record_lab_test(by=world.qc_lead, milestone=milestone, data=reported())
    assert "certificate" in refused.value.message_dict
    assert not LabTest.objects.exists()


@pytestdb
def test_a_broken_certificate_is_refused_naming_the_problem(world, media):
    milestone = dupro(world)
    broken = lab_rules.minimal_pdf(["LM-79"])[:200]
    with pytest.raises(ValidationError) as refused:
        record_lab_test(
            by=world.qc_lead,
            milestone=milestone,
            data=reported(),
            certificate=("sgs.pdf", broken),
        )
    assert refused.value.message_dict["certificate"] == [
        "sgs.pdf: the PDF is incomplete or damaged: it does not end with startxref and %%EOF "
        "(cut short in the upload?)."
    ]
    assert not LabTest.objects.exists()
    assert not default_storage.exists("lab-certificates")


@pytestdb
def test_certificates_are_stored_once_by_their_hash(world, media):
    milestone = dupro(world)
    pdf = weasy_pdf(3)
    first = record_lab_test(
        by=world.qc_lead, milestone=milestone, data=reported(), certificate=("a.pdf", pdf)
    )
    second = record_lab_test(
        by=world.user(Role.COORDINATOR),
        milestone=milestone,
        data=reported(standard="IEC 62471", sample_id="S-002"),
        certificate=("b.pdf", pdf),
    )
    assert first.certificate == second.certificate
    assert first.certificate.endswith(f"{first.certificate_sha256}.pdf")
    assert (first.certificate_pages, second.finding_class) == (3, "critical")
    with default_storage.open(first.certificate, "rb") as stored:
        assert stored.read() == pdf


@pytestdb
def test_bad_input_is_named_field_by_field_and_changes_nothing(world, media):
    milestone = dupro(world)
    other = world.milestones["IPC"]
    with pytest.raises(ValidationError) as refused:
        record_lab_test(
            by=world.qc_lead,
            milestone=milestone,
            data=fields(
                lab="other",
                standard="",
                sample_units=0,
                sample_id="",
                sent_on=date.today() + timedelta(days=2),
                result="maybe",
                replaces=["NOT-AN-ITEM"],
                measured="flux high",
            ),
        )
    errors = refused.value.message_dict
    assert set(errors) == {
        "lab_name",
        "accreditation_number",
        "standard",
        "sample_units",
        "sample_id",
        "sent_on",
        "result",
        "replaces",
        "measured",
    }
    assert "NOT-AN-ITEM is not on the DUPRO's checklist" in errors["replaces"][0]
    assert not LabTest.objects.exists()
    assert other.lab_tests.count() == 0


@pytestdb
def test_an_item_is_replaced_by_one_lab_test_at_most(world, media):
    milestone = dupro(world)
    item = codes(milestone)[0]
    record_lab_test(by=world.qc_lead, milestone=milestone, data=fields(replaces=[item]))
    with pytest.raises(ValidationError, match="already replaced by LM-79 at SGS"):
        record_lab_test(
            by=world.qc_lead,
            milestone=milestone,
            data=fields(standard="IEC 62471", replaces=[item]),
        )


@pytestdb
def test_a_standard_off_the_list_is_kept_with_a_warning(world, media):
    test = record_lab_test(
        by=world.qc_lead, milestone=dupro(world), data=fields(standard="GB 7000.1", safety=True)
    )
    assert test.finding_class == "critical"
    assert "not on qcloop's reference list" in test.warnings[0]


@pytestdb
def test_only_the_qc_lead_and_coordinators_record_and_not_once_published(world, media):
    milestone = dupro(world)
    for role in (Role.INSPECTOR, Role.BUYER_MANAGER, Role.SUPPLIER_USER):
        with pytest.raises(PermissionDenied):
            record_lab_test(by=world.user(role), milestone=milestone, data=fields())
    from qcloop.inspections.models import Milestone

    Milestone.objects.filter(pk=milestone.pk).update(status="published")
    with pytest.raises(ValidationError, match="under a correction of its report"):
        record_lab_test(by=world.qc_lead, milestone=milestone, data=fields())
    assert not LabTest.objects.exists()


@pytestdb
def test_a_lab_test_arranged_before_booking_replaces_items_of_the_checklist_to_come(world, media):
    ipc = world.milestones["IPC"]
    assert ipc.checklist_id is None and ipc.status == "planned"
    test = record_lab_test(by=world.qc_lead, milestone=ipc, data=fields())
    ipc.refresh_from_db()
    assert ipc.checklist_id is not None
    flux = next(i["code"] for i in ipc.checklist.items if "flux and CCT" in i["text"])
    record_lab_test(by=world.qc_lead, milestone=ipc, data={"replaces": [flux]}, lab_test=test)
    assert LabTest.objects.get().replaces == [flux]


# --- the milestone's result: submission, review, report -------------------------------------


def inspected(world, skip: str):
    """The DUPRO in progress: every item passed but `skip`, production counted."""
    milestone = dupro(world)
    for code in codes(milestone):
        if code != skip:
            answer_check(by=world.inspector, milestone=milestone, item_code=code, result="pass")
    record_production(
        by=world.inspector,
        milestone=milestone,
        counted_on=milestone.window_start,
        produced=1300,
        finished=1000,
        packed=0,
    )
    return milestone


@pytestdb
def test_submission_pends_on_the_lab_then_follows_its_report(world, media):
    milestone = inspected(world, skip="")
    item = codes(milestone)[0]
    milestone.answers.filter(item_code=item).delete()
    assert missing_for_submission(milestone)  # the item is unanswered: not submittable
    test = record_lab_test(by=world.qc_lead, milestone=milestone, data=fields(replaces=[item]))
    assert missing_for_submission(milestone) == []  # the lab answers it
    milestone = submit_inspection(by=world.inspector, milestone=milestone)
    assert milestone.result == "pending"
    assert milestone.result_detail["reasons"][0].startswith("Pending lab result: LM-79 at SGS")

    # The lab's report arrives while the QC lead reviews: the result follows at once.
    record_lab_test(
        by=world.qc_lead,
        milestone=milestone,
        data={"result": "pass", "reported_on": date.today(), "measured": "Flux: 812 lm"},
        certificate=("sgs.pdf", weasy_pdf(1)),
        lab_test=test,
    )
    milestone.refresh_from_db()
    assert milestone.result == "pass"
    record_lab_test(by=world.qc_lead, milestone=milestone, data={"result": "fail"}, lab_test=test)
    milestone.refresh_from_db()
    assert milestone.result == "fail"
    assert "a major finding" in milestone.result_detail["reasons"][0]
    remove_lab_test(by=world.qc_lead, lab_test=test)
    milestone.refresh_from_db()
    assert milestone.result == "pending"  # the item is the inspector's again, unanswered


@pytestdb
def test_a_lab_failure_after_submission_opens_its_capa_and_reaches_the_buyer(world, media):
    from qcloop.alerts.models import Escalation
    from qcloop.capa.models import CorrectiveAction

    milestone = inspected(world, skip="")
    item = codes(milestone)[0]
    milestone.answers.filter(item_code=item).delete()
    test = record_lab_test(by=world.qc_lead, milestone=milestone, data=fields(replaces=[item]))
    milestone = submit_inspection(by=world.inspector, milestone=milestone)
    assert not CorrectiveAction.objects.exists() and not Escalation.objects.exists()

    failed = {"result": "fail", "reported_on": date.today(), "report_number": "SGS-GZ-9"}
    for _twice in range(2):  # recorded again (a corrected note): nothing is opened twice
        record_lab_test(
            by=world.qc_lead,
            milestone=milestone,
            data=failed,
            certificate=("sgs.pdf", weasy_pdf(1)),
            lab_test=test,
        )
    capa = CorrectiveAction.objects.get()
    assert (capa.finding_kind, capa.finding_key, capa.severity) == ("lab", "lab:LM-79", "major")
    assert capa.title == "Lab test failed: LM-79 at SGS, report SGS-GZ-9"
    assert capa.finding["sample_id"] == "S-001" and capa.opened_automatically
    # LM-79 measures performance: the buyer hears that the milestone failed, not of a
    # critical finding.
    escalation = Escalation.objects.get()
    assert (escalation.kind, escalation.source) == ("failed", f"milestone:{milestone.pk}:failed")


@pytestdb
def test_a_failed_safety_standard_is_critical_at_once_and_its_capa_opens_on_submission(
    world, media
):
    from qcloop.alerts.models import Escalation
    from qcloop.capa.models import CorrectiveAction

    milestone = inspected(world, skip="")
    test = record_lab_test(
        by=world.qc_lead,
        milestone=milestone,
        data={**reported(standard="EN 60598", sample_id="S-007"), "result": "fail"},
        certificate=("tuv.pdf", weasy_pdf(1)),
    )
    assert test.finding_class == "critical"
    # In progress: the buyer hears at once, as of a critical defect; the CAPA waits for the
    # inspection to be submitted.
    escalation = Escalation.objects.get()
    assert (escalation.kind, escalation.source) == ("critical", f"lab:{test.uuid}")
    assert "S-007 failed EN 60598" in escalation.detail["summary"]
    assert not CorrectiveAction.objects.exists()
    milestone = submit_inspection(by=world.inspector, milestone=milestone)
    assert milestone.result == "fail"
    capa = CorrectiveAction.objects.get()
    assert (capa.finding_key, capa.severity) == ("lab:EN 60598", "critical")


@pytestdb
def test_the_report_shows_the_lab_test_and_the_replaced_item(world, media):
    from qcloop.reports.content import milestone_content

    milestone = inspected(world, skip="")
    item = codes(milestone)[0]
    record_lab_test(
        by=world.qc_lead,
        milestone=milestone,
        data=reported(replaces=[item], measured="Luminous flux: 812 lm"),
        certificate=("sgs.pdf", weasy_pdf(2)),
    )
    record_defect(
        by=world.inspector, milestone=milestone, quantity=1, description="x", defect_class="minor"
    )
    milestone = submit_inspection(by=world.inspector, milestone=milestone)
    content = milestone_content(milestone)
    [row] = content["lab_tests"]
    assert row["standard"] == "LM-79" and row["result"] == "pass" and row["replaces"] == [item]
    assert row["certificate_pages"] == 2 and len(row["certificate_sha256"]) == 64
    assert row["measured"] == [{"name": "Luminous flux", "value": "812", "unit": "lm"}]
    replaced = [i for s in content["checklist"] for i in s["items"] if i["code"] == item]
    assert replaced[0]["lab_test"] == "LM-79 at SGS, report SGS-GZ-2611"
    from django.template.loader import render_to_string

    html = render_to_string("reports/_milestone_body.html", {"c": content})
    assert "Accredited lab tests" in html and "By lab test: LM-79 at SGS" in html


# --- the gate, the pages and the API ------------------------------------------------------------


@pytestdb
def test_buyer_and_supplier_see_lab_tests_once_published(world, media):
    from qcloop.core.tenancy import for_user
    from qcloop.inspections.models import Milestone
    from qcloop.orders.models import Organisation

    milestone = dupro(world)
    record_lab_test(by=world.qc_lead, milestone=milestone, data=fields())
    seen = {
        role: for_user(LabTest, world.user(role)).count()
        for role in (Role.COORDINATOR, Role.BUYER_VIEWER, Role.SUPPLIER_USER)
    }
    assert seen == {Role.COORDINATOR: 1, Role.BUYER_VIEWER: 0, Role.SUPPLIER_USER: 0}
    Milestone.objects.filter(pk=milestone.pk).update(status="published")
    assert for_user(LabTest, world.user(Role.BUYER_VIEWER)).count() == 1
    assert for_user(LabTest, world.user(Role.SUPPLIER_USER)).count() == 0
    Organisation.objects.filter(pk=world.buyer.pk).update(shares_reports_with_suppliers=True)
    assert for_user(LabTest, world.user(Role.SUPPLIER_USER)).count() == 1


@pytestdb
def test_the_pages_record_a_lab_test_and_serve_its_certificate(world, media):
    milestone = dupro(world)
    client = Client()
    client.force_login(world.qc_lead)
    new = reverse("inspections:lab_test_new", args=[milestone.pk])
    assert b"LM-79 \xc2\xb7 IES LM-79" in client.get(new).content
    item = codes(milestone)[0]
    form = {k: str(v) for k, v in reported().items()} | {"replaces": [item]}

    # A JPEG named .pdf is refused with the reason, and nothing is recorded.
    fake = SimpleUploadedFile("cert.pdf", b"\xff\xd8\xff\xe0fake", content_type="application/pdf")
    response = client.post(new, {**form, "certificate": fake})
    assert response.status_code == 422
    assert b"cert.pdf: the file is not a PDF" in response.content
    assert not LabTest.objects.exists()

    pdf = weasy_pdf(1)
    response = client.post(new, {**form, "certificate": SimpleUploadedFile("sgs.pdf", pdf)})
    assert response.status_code == 302
    test = LabTest.objects.get()
    page = client.get(reverse("inspections:milestone_detail", args=[milestone.pk]))
    assert b"Accredited lab tests" in page.content and b"SGS-GZ-2611" in page.content

    certificate = client.get(reverse("inspections:lab_certificate", args=[test.pk]))
    assert certificate["Content-Type"] == "application/pdf"
    assert b"".join(certificate.streaming_content) == pdf
    buyer = Client()
    buyer.force_login(world.user(Role.BUYER_MANAGER))  # not published yet: not the buyer's
    assert buyer.get(reverse("inspections:lab_certificate", args=[test.pk])).status_code == 404

    from qcloop.inspections.models import Milestone

    Milestone.objects.filter(pk=milestone.pk).update(status="published")
    shown = buyer.get(reverse("inspections:milestone_detail", args=[milestone.pk])).content
    assert b"SGS-GZ-2611" in shown and b"Record a lab test" not in shown  # read, not edit
    assert buyer.get(reverse("inspections:lab_certificate", args=[test.pk])).status_code == 200
    assert buyer.get(reverse("inspections:lab_test_edit", args=[test.pk])).status_code == 403
    Milestone.objects.filter(pk=milestone.pk).update(status="in_progress")

    edit = reverse("inspections:lab_test_edit", args=[test.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {**form, "standard": "other", "standard_other": ""})
    assert response.status_code == 422 and b"Name the standard" in response.content
    assert LabTest.objects.get().standard == "LM-79"
    client.post(reverse("inspections:lab_test_delete", args=[test.pk]))
    assert not LabTest.objects.exists()


@pytestdb
def test_the_api_records_changes_and_removes_lab_tests(world, media):
    from qcloop.accounts.services import create_api_token

    milestone = dupro(world)
    _, token = create_api_token(user=world.qc_lead, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    url = f"/api/milestones/{milestone.pk}/lab-tests"
    item = codes(milestone)[0]
    form = {k: str(v) for k, v in fields().items()} | {"replaces": [item]}
    created = client.post(url, form, **auth)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["result"], body["replaces"], body["certificate"]) == ("pending", [item], None)

    # The lab's report: a pass without its certificate is refused, and nothing changes.
    change = f"/api/lab-tests/{body['id']}"
    refused = client.post(change, {"result": "pass", "reported_on": str(date.today())}, **auth)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "certificate"
    assert LabTest.objects.get().result == "pending"

    pdf = lab_rules.minimal_pdf(["SGS LM-79 report SGS-GZ-2611: pass"])
    changed = client.post(
        change,
        {
            "result": "pass",
            "reported_on": str(date.today()),
            "certificate": SimpleUploadedFile("sgs.pdf", pdf),
        },
        **auth,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["certificate"]["pages"] == 1
    assert changed.json()["sample_id"] == "S-001"  # untouched fields stay
    fetched = client.get(f"{change}/certificate", **auth)
    assert b"".join(fetched.streaming_content) == pdf
    assert client.get(url, **auth).json()[0]["id"] == body["id"]
    # The inspector's view (and the phone's) marks the item the lab answers.
    state = client.get(f"/api/milestones/{milestone.pk}/inspection", **auth).json()
    marked = {i["code"]: i["lab_test"] for i in state["checklist"] if i["lab_test"]}
    assert marked == {item: "LM-79 at SGS"}
    standards = client.get("/api/lab-standards", **auth).json()
    safety = {s["code"]: s["safety"] for s in standards["standards"]}
    assert (safety["EN 71-3"], safety["LM-79"]) == (True, False)
    assert client.delete(change, **auth).status_code == 204
    assert not LabTest.objects.exists()


# --- in Chromium: the QC lead's form, and the inspector's phone ---------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_qc_lead_records_a_lab_test_in_the_browser(page, live_world, tmp_path, screenshot):
    from conftest import sign_in

    milestone = dupro(live_world)
    item = codes(milestone)[0]
    certificate = tmp_path / "SGS-GZ-2611.pdf"
    certificate.write_bytes(weasy_pdf(2))
    sign_in(page, live_world.qc_lead)
    page.goto(reverse("inspections:milestone_detail", args=[milestone.pk]))
    page.click("text=Record a lab test")
    page.select_option("#id_standard", "LM-79")
    page.fill("#id_sample_drawn", "3 first-off units, sealed")
    page.fill("#id_sample_id", "S-001")
    page.fill("#id_sent_on", str(date.today() - timedelta(days=5)))
    page.select_option("#id_result", "pass")
    page.fill("#id_reported_on", str(date.today()))
    page.fill("#id_report_number", "SGS-GZ-2611")
    page.fill("#id_measured", "Luminous flux: 812 lm")
    page.check(f"#replaces input[value='{item}']")
    page.set_input_files("#id_certificate", str(certificate))
    page.click("#lab-test-form button[type=submit]")
    page.wait_for_selector("#lab-tests >> text=SGS-GZ-2611")
    screenshot("lab-test-milestone-page")
    test = LabTest.objects.get()
    assert (test.result, test.replaces, test.certificate_pages) == ("pass", [item], 2)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_phone_leaves_an_item_a_lab_answers_to_the_lab(browser, live_server, live_world):
    from qcloop.field.tests.test_field_browser import answer, download, open_app

    milestone = start_inspection(live_world, "DUPRO", start=False)
    item = codes(milestone)[0]
    record_lab_test(by=live_world.qc_lead, milestone=milestone, data=fields(replaces=[item]))
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(30_000)
    phone = context.new_page()
    try:
        open_app(phone, live_world.inspector)
        download(phone, milestone)
        context.set_offline(True)  # recorded on the phone alone: no sync redraws the screen
        phone.wait_for_selector("#net-state.offline")
        phone.click("#start-inspection")
        phone.wait_for_selector("#sec-checklist .seg-pass input:not([disabled])", state="attached")
        assert "by lab test: LM-79 at SGS" in phone.inner_text(f"[data-item='{item}']")
        for other in milestone.checklist.items:
            if other["code"] != item:
                value = "1" if other.get("answer") == "number" else None
                answer(phone, other["code"], "pass", value)
        # What is left to record before submitting: the production count, not the lab's item.
        phone.wait_for_function("() => document.querySelectorAll('.missing-list li').length === 1")
        assert phone.inner_text(".missing-list") == "Production status (quantities counted)"
    finally:
        context.close()
