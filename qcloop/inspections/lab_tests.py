"""Services for accredited lab tests at a milestone: record, change and remove them, keep
their certificate PDFs, and tell the milestone's result what they decide.

The PO's QC lead and the agency's coordinators record lab tests from planning until the
milestone is published (afterwards only the QC lead, under an open correction of its
report: the lab's report often arrives after the inspection). A submitted milestone's
result is re-judged at once, so the QC lead publishes what the lab found. Certificates are
stored once by their SHA-256, like photos, and served only through the tenancy gate."""

from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from qcloop.accounts.models import User

from . import lab_rules, rules
from .models import DefectClass, InspectionOutcome, LabResult, LabTest, Milestone, MilestoneStatus

MAX_CERTIFICATE_BYTES = getattr(
    settings, "QCLOOP_MAX_CERTIFICATE_BYTES", lab_rules.MAX_CERTIFICATE_BYTES
)
FIELDS = (
    "lab",
    "lab_name",
    "accreditation_number",
    "standard",
    "safety",
    "replaces",
    "sample_units",
    "sample_drawn",
    "sample_id",
    "sent_on",
    "reported_on",
    "report_number",
    "result",
    "measured",
    "note",
)
_TEXT_LIMITS = {
    "lab_name": 200,
    "accreditation_number": 80,
    "standard": 120,
    "sample_drawn": 300,
    "sample_id": 80,
    "report_number": 80,
    "note": 5000,
}


# --- who, and when -------------------------------------------------------------------------


def may_manage(user: User, milestone: Milestone) -> bool:
    """The PO's QC lead and the agency's coordinators and admins."""
    from .services import is_agency_planner

    return is_agency_planner(user, milestone.po)


def is_open(user: User, milestone: Milestone) -> bool:
    """Lab tests are recorded from planning to review; on a published milestone only by the
    QC lead while a correction of its report is open."""
    if milestone.status in {MilestoneStatus.PUBLISHED, MilestoneStatus.CANCELLED}:
        return milestone.status == MilestoneStatus.PUBLISHED and _correcting(user, milestone)
    return True


def _correcting(user: User, milestone: Milestone) -> bool:
    from qcloop.reports.services import correction_open

    return user.pk == milestone.po.qc_lead_id and correction_open(milestone)


def _locked(by: User, milestone: Milestone) -> Milestone:
    milestone = (
        Milestone.objects.select_for_update(of=("self",))
        .select_related("po", "checklist")
        .get(pk=milestone.pk)
    )
    if not may_manage(by, milestone):
        raise PermissionDenied(
            "Only the PO's QC lead and the agency's coordinators record lab tests."
        )
    if milestone.checklist_id is None and milestone.status == MilestoneStatus.PLANNED:
        # Lab tests are often arranged before booking: the checklist they replace items of is
        # the one the milestone would be booked with.
        from .recording import pin_checklist

        pin_checklist(milestone)
        if milestone.checklist_id is not None:
            milestone.save(update_fields=["checklist"])
    if not is_open(by, milestone):
        state = milestone.get_status_display().lower()
        raise ValidationError(
            {
                "milestone": f"The {milestone.label} is {state}: lab tests are recorded until it "
                "is published, then only by the QC lead under a correction of its report."
            }
        )
    return milestone


# --- what the result sees ------------------------------------------------------------------


def lab_outcomes(milestone: Milestone) -> list[rules.LabOutcome]:
    return [
        rules.LabOutcome(
            name=test.name,
            replaces=tuple(test.replaces),
            result=test.result,
            finding_class=test.finding_class,
        )
        for test in milestone.lab_tests.all()
    ]


def replaced_codes(milestone: Milestone) -> set[str]:
    return {code for test in milestone.lab_tests.all() for code in test.replaces}


def _reassess(milestone: Milestone) -> None:
    """A submitted milestone's result follows its lab tests at once: the QC lead reviews and
    publishes what the lab found. (In progress it is judged on submission; a correction is
    re-judged when it is published.)"""
    from .recording import assess

    if milestone.status != MilestoneStatus.SUBMITTED:
        return
    result, observations = assess(milestone)
    milestone.result = result.outcome
    milestone.result_detail = {**result.to_dict(), "observations": observations}
    milestone.save(update_fields=["result", "result_detail", "updated_at"])


def _follow_failure(milestone: Milestone, test: LabTest) -> None:
    """A failed lab test is acted on when it is recorded, as a defect found on the floor is:
    a safety failure reaches the buyer at once; once the milestone is submitted (the lab's
    report often comes after the inspection) its CAPA opens and a failed result is escalated.
    Before submission, submitting opens them."""
    from qcloop.alerts.services import escalate_failed, escalate_lab_failure
    from qcloop.capa.services import open_for_findings

    if test.finding_class == DefectClass.CRITICAL:
        escalate_lab_failure(test)
    if milestone.status in {MilestoneStatus.SUBMITTED, MilestoneStatus.PUBLISHED}:
        open_for_findings(milestone)
    if milestone.status == MilestoneStatus.SUBMITTED and milestone.result == InspectionOutcome.FAIL:
        escalate_failed(milestone)


# --- record, change, remove ----------------------------------------------------------------


@transaction.atomic
def record_lab_test(
    *,
    by: User,
    milestone: Milestone,
    data: dict,
    certificate: tuple[str, bytes] | None = None,
    lab_test: LabTest | None = None,
) -> LabTest:
    """Record a lab test at the milestone, or change `lab_test`. `data` holds the FIELDS
    (`measured` as "name: value unit" lines or as [{name, value, unit}]); `certificate` is
    (file name, bytes) of the lab's PDF, required once the result is pass or fail. Every
    problem is reported at once, by field, and nothing changes."""
    milestone = _locked(by, milestone)
    if lab_test is not None and lab_test.milestone_id != milestone.pk:
        raise ValidationError({"lab_test": "That lab test is of another milestone."})
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError({name: "This field is not part of a lab test." for name in unknown})
    current = {name: getattr(lab_test, name) for name in FIELDS} if lab_test else {}
    values = {**_defaults(), **current, **data}
    errors: dict[str, str] = {}
    clean = _clean(milestone, values, lab_test, errors)
    stored = _checked_certificate(certificate, errors)
    has_certificate = stored is not None or bool(lab_test and lab_test.certificate)
    needs_certificate = clean["result"] in {LabResult.PASS, LabResult.FAIL}
    if needs_certificate and not has_certificate and "certificate" not in errors:
        errors["certificate"] = (
            f"A {clean['result']} needs the lab's certificate as a PDF: attach it."
        )
    if errors:
        raise ValidationError(errors)
    test = lab_test or LabTest(milestone=milestone, created_by=by)
    for name, value in clean.items():
        setattr(test, name, value)
    if stored is not None:
        name, data_bytes, facts = stored
        test.certificate, test.certificate_sha256 = store_certificate(data_bytes)
        test.certificate_name = name[:200]
        test.certificate_pages, test.certificate_bytes = facts.pages, facts.size_bytes
    test.save()
    _reassess(milestone)
    if test.result == LabResult.FAIL:
        _follow_failure(milestone, test)
    return test


@transaction.atomic
def remove_lab_test(*, by: User, lab_test: LabTest) -> None:
    """The lab test was recorded by mistake: its items go back to the checklist. (Its
    certificate file stays: another test may share the same bytes.)"""
    milestone = _locked(by, lab_test.milestone)
    LabTest.objects.filter(pk=lab_test.pk).delete()
    _reassess(milestone)


def _defaults() -> dict:
    return {
        "lab_name": "",
        "accreditation_number": "",
        "safety": False,
        "replaces": [],
        "sent_on": None,
        "reported_on": None,
        "report_number": "",
        "result": LabResult.PENDING,
        "measured": [],
        "note": "",
    }


def _clean(milestone: Milestone, values: dict, lab_test, errors: dict) -> dict:
    clean = {name: _text(values.get(name), name, errors) for name in _TEXT_LIMITS}
    clean["lab"] = str(values.get("lab") or "")
    errors.update(
        lab_rules.check_lab(clean["lab"], clean["lab_name"], clean["accreditation_number"])
    )
    if clean["lab"] != lab_rules.OTHER_LAB:
        clean["lab_name"], clean["accreditation_number"] = "", ""
    if not clean["standard"]:
        errors["standard"] = "Name the standard tested to (e.g. LM-79, EN 71-3)."
    for name, what in (
        ("sample_drawn", "how the sample was drawn"),
        ("sample_id", "the sample id"),
    ):
        if not clean[name] and name not in errors:
            errors[name] = f"Give {what}."
    clean["safety"] = bool(values.get("safety"))
    clean["finding_class"] = lab_rules.finding_class(clean["standard"], clean["safety"])
    clean["sample_units"] = _units(values.get("sample_units"), errors)
    clean["result"] = _result(values.get("result"), errors)
    clean["replaces"] = _replaces(milestone, values.get("replaces"), lab_test, errors)
    clean["sent_on"], clean["reported_on"] = _dates(values, clean["result"], errors)
    clean["measured"] = _measured(values.get("measured"), errors)
    category = _category(milestone)
    warning = lab_rules.standard_warning(clean["standard"], category) if clean["standard"] else None
    clean["warnings"] = [warning] if warning else []
    return clean


def _text(value, name: str, errors: dict) -> str:
    text = str(value or "").strip()
    if len(text) > _TEXT_LIMITS[name]:
        errors[name] = f"Keep it under {_TEXT_LIMITS[name]:,} characters."
    return text


def _units(value, errors: dict) -> int:
    try:
        units = int(str(value).strip())
    except (TypeError, ValueError):
        units = 0
    if isinstance(value, bool) or units < 1 or units > 100_000:
        errors["sample_units"] = (
            f"Give the units sent to the lab as a whole number, 1 or more, not {value!r}."
        )
        return 1
    return units


def _result(value, errors: dict) -> str:
    if value not in LabResult.values:
        errors["result"] = f"The result is pass, fail or pending, not {value!r}."
        return LabResult.PENDING
    return value


def _replaces(milestone: Milestone, value, lab_test, errors: dict) -> list[str]:
    codes = [value] if isinstance(value, str) else list(value or [])
    if not all(isinstance(code, str) for code in codes):
        errors["replaces"] = "Name the checklist items by their codes."
        return []
    codes = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    items = {item["code"] for item in (milestone.checklist.items if milestone.checklist else [])}
    unknown = [code for code in codes if code not in items]
    if unknown:
        errors["replaces"] = (
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not on the "
            f"{milestone.label}'s checklist: a lab test replaces items of this milestone only."
        )
        return []
    others = milestone.lab_tests.exclude(pk=lab_test.pk if lab_test else None)
    taken = {code: test for test in others for code in test.replaces}
    twice = [code for code in codes if code in taken]
    if twice:
        errors["replaces"] = (
            f"{', '.join(twice)} already replaced by {taken[twice[0]].name}: an item is "
            "replaced by one lab test at most."
        )
    return codes


def _dates(values: dict, result: str, errors: dict) -> tuple[date | None, date | None]:
    sent = _date(values.get("sent_on"), "sent_on", errors)
    reported = _date(values.get("reported_on"), "reported_on", errors)
    if sent is None and "sent_on" not in errors:
        errors["sent_on"] = "Give the day the sample was sent to the lab."
    today = timezone.localdate()
    if sent and sent > today:
        errors["sent_on"] = "The sample cannot have been sent in the future."
    if result in {LabResult.PASS, LabResult.FAIL} and reported is None:
        errors.setdefault("reported_on", f"A {result} has a report date: give it.")
    if reported and reported > today:
        errors["reported_on"] = "The report date is in the future."
    if sent and reported and reported < sent:
        errors["reported_on"] = "The lab cannot report before the sample was sent."
    return sent, reported


def _date(value, name: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[name] = f"Give the date as YYYY-MM-DD, not {value!r}."
        return None


def _measured(value, errors: dict) -> list[dict]:
    try:
        if isinstance(value, list):
            return lab_rules.parse_measured(
                "\n".join(f"{v['name']}: {v['value']} {v.get('unit', '')}" for v in value)
            )
        return lab_rules.parse_measured(str(value or ""))
    except (ValueError, KeyError, TypeError) as error:
        errors["measured"] = f"Measured values: {error}."
        return []


def _category(milestone: Milestone) -> str:
    from .services import stream_category

    return stream_category(milestone.po)


# --- the certificate PDF -------------------------------------------------------------------


def _checked_certificate(certificate, errors: dict):
    if certificate is None:
        return None
    name, data = certificate
    try:
        facts = lab_rules.check_pdf(data, max_bytes=MAX_CERTIFICATE_BYTES)
    except lab_rules.CertificateError as error:
        errors["certificate"] = f"{name or 'The certificate'}: {error}."
        return None
    return name or "certificate.pdf", data, facts


def store_certificate(data: bytes) -> tuple[str, str]:
    """Store the PDF once by its SHA-256; returns (storage name, hash)."""
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    name = f"lab-certificates/{sha[:2]}/{sha}.pdf"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return name, sha


# --- as reports and pages show them --------------------------------------------------------


def lab_test_rows(milestone: Milestone) -> list[dict]:
    """The milestone's lab tests as plain values (JSON-ready): the milestone report freezes
    them in its content, and the certificate is named by its SHA-256."""
    rows = []
    for test in milestone.lab_tests.all():
        rows.append(
            {
                "id": test.pk,
                "lab": test.lab_display,
                "standard": test.standard,
                "standard_title": getattr(lab_rules.STANDARDS.get(test.standard), "title", ""),
                "safety": test.finding_class == lab_rules.CRITICAL,
                "finding_class": test.finding_class,
                "replaces": list(test.replaces),
                "sample": f"{test.sample_units} unit{'s' if test.sample_units != 1 else ''}, "
                f"{test.sample_drawn} (sample {test.sample_id})",
                "sent_on": test.sent_on.strftime("%d %b %Y") if test.sent_on else "",
                "reported_on": test.reported_on.strftime("%d %b %Y") if test.reported_on else "",
                "report_number": test.report_number,
                "result": test.result,
                "measured": list(test.measured),
                "certificate_sha256": test.certificate_sha256,
                "certificate_pages": test.certificate_pages,
                "warnings": list(test.warnings),
            }
        )
    return rows
