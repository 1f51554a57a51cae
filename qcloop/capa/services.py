"""Every change to a corrective action: opening (by rule when an inspection is submitted, or by
hand), and the rest of its life (see models.py)."""

from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from qcloop.accounts.models import Role, User
from qcloop.inspections.lab_rules import measured_text
from qcloop.inspections.models import (
    MILESTONE_ORDER,
    CheckResult,
    Defect,
    DefectClass,
    LabResult,
    Milestone,
    MilestoneStatus,
    PhotoAttachment,
)
from qcloop.orders.models import PurchaseOrder

from . import rules
from .models import OPEN_STATUSES, CorrectiveAction


def is_po_qc_staff(user: User, po: PurchaseOrder) -> bool:
    """The agency's people who run the PO's quality: its QC lead, coordinators, admins."""
    membership = user.membership
    return (
        membership is not None
        and membership.is_agency
        and membership.organisation_id == po.agency_id
        and membership.role in (Role.QC_LEAD, Role.COORDINATOR, Role.ADMIN)
    )


# --- the findings of a milestone -----------------------------------------------------------------


def findings_of(milestone: Milestone) -> list[rules.Finding]:
    """What the milestone found that may call for a CAPA: its defects (one finding per defect
    code), its failed checklist items and lab tests, and late production."""
    return [
        *_defect_findings(milestone),
        *_check_findings(milestone),
        *_lab_findings(milestone),
        *_late(milestone),
    ]


def _defect_findings(milestone: Milestone) -> list[rules.Finding]:
    grouped: dict[str, rules.Finding] = {}
    order = {DefectClass.CRITICAL: 0, DefectClass.MAJOR: 1, DefectClass.MINOR: 2}
    defects = milestone.defects.select_related("code").order_by("created_at", "pk")
    for defect in defects:
        code = defect.code.code if defect.code else None
        key = rules.defect_key(code, defect.description)
        before = grouped.get(key)
        quantity = defect.quantity + (before.detail["quantity"] if before else 0)
        worst = defect.defect_class
        if before and order[before.severity] < order[worst]:
            worst = before.severity
        grouped[key] = rules.Finding(
            kind="defect",
            key=key,
            severity=worst,
            title=f"{code + ' ' if code else ''}{defect.description}"[:300],
            detail={
                "code": code or "",
                "description": defect.description,
                "quantity": quantity,
                "class": worst,
                "systematic": defect.systematic or bool(before and before.detail["systematic"]),
                "defect_id": (before.detail["defect_id"] if before else defect.pk),
                "sample_size": _sample_size(milestone, worst),
            },
        )
    return list(grouped.values())


def _sample_size(milestone: Milestone, defect_class: str) -> int | None:
    from qcloop.inspections.recording import sample_units

    return sample_units(milestone, defect_class)


def _check_findings(milestone: Milestone) -> list[rules.Finding]:
    if milestone.checklist is None:
        return []
    failed = {
        a.item_code: a for a in milestone.answers.filter(result=CheckResult.FAIL).order_by("pk")
    }
    findings = []
    for item in milestone.checklist.items:
        answer = failed.get(item["code"])
        if answer is None:
            continue
        hard = item.get("on_fail") == "fail"
        findings.append(
            rules.Finding(
                kind="check",
                key=f"check:{item['code']}",
                severity=DefectClass.MAJOR if hard else DefectClass.MINOR,
                title=f"{item['code']} failed: {item['text']}"[:300],
                detail={
                    "code": item["code"],
                    "text": item["text"],
                    "section": item.get("section", ""),
                    "note": answer.note,
                    "value": answer.value,
                },
            )
        )
    return findings


def _lab_findings(milestone: Milestone) -> list[rules.Finding]:
    """A failed accredited lab test: major, critical for a safety standard (its class was set
    when the test was recorded). The key is the standard, so a retest that fails again at a
    later milestone is the same finding coming back."""
    failed = milestone.lab_tests.filter(result=LabResult.FAIL).order_by("created_at", "pk")
    return [
        rules.Finding(
            kind="lab",
            key=f"lab:{test.standard}"[:80],
            severity=test.finding_class,
            title=f"Lab test failed: {test.name}"[:300],
            detail={
                "standard": test.standard,
                "lab": test.lab_display,
                "report_number": test.report_number,
                "sample_id": test.sample_id,
                "measured": measured_text(test.measured),
                "note": test.note,
                "lab_test": str(test.uuid),
            },
        )
        for test in failed
    ]


def _late(milestone: Milestone) -> list[rules.Finding]:
    production = getattr(milestone, "production", None)
    po = milestone.po
    if production is None or production.projected_completion is None:
        return []
    late_by = (production.projected_completion - po.ex_factory_date).days
    if late_by <= 0:
        return []
    return [
        rules.Finding(
            kind="production",
            key="production:late",
            severity=DefectClass.MAJOR,
            title=f"Production projected {late_by} days late",
            detail={
                "produced": production.produced,
                "quantity": po.quantity,
                "projected_completion": production.projected_completion.isoformat(),
                "ex_factory_date": po.ex_factory_date.isoformat(),
                "late_by_days": late_by,
            },
        )
    ]


# --- opening ---------------------------------------------------------------------------------


def default_owner(po: PurchaseOrder) -> User | None:
    """Who answers at the supplier until the QC lead names someone: its first active user."""
    people = supplier_people(po)
    return people[0] if people else None


def next_visit(milestone: Milestone):
    """The start of the PO's next milestone window after this one, if one is planned."""
    rank = MILESTONE_ORDER.index(milestone.kind)
    later = [
        m.window_start
        for m in milestone.po.milestones.exclude(status=MilestoneStatus.CANCELLED)
        if MILESTONE_ORDER.index(m.kind) > rank
        or (m.kind == milestone.kind and m.sequence > milestone.sequence)
    ]
    today = timezone.localdate()
    return min((day for day in later if day > today), default=None)


def _open(
    milestone: Milestone,
    finding: rules.Finding,
    *,
    by: User | None,
    owner: User | None,
    due_on=None,
) -> CorrectiveAction:
    po = PurchaseOrder.objects.select_for_update().get(pk=milestone.po_id)
    number = (po.capas.aggregate(last=Max("number"))["last"] or 0) + 1
    earlier = (
        CorrectiveAction.objects.filter(supplier=po.supplier, finding_key=finding.key)
        .order_by("-opened_at", "-pk")
        .first()
    )
    defect_id = finding.detail.get("defect_id")
    today = timezone.localdate()
    return CorrectiveAction.objects.create(
        po=po,
        supplier=po.supplier,
        milestone=milestone,
        number=number,
        finding_kind=finding.kind,
        finding_key=finding.key,
        defect=Defect.objects.filter(pk=defect_id).first() if defect_id else None,
        severity=finding.severity,
        title=finding.title,
        finding={**finding.detail, "milestone": milestone.label},
        owner=owner if owner is not None else default_owner(po),
        due_on=due_on or rules.due_date(today, finding.severity, next_visit(milestone)),
        opened_automatically=by is None,
        opened_by=by,
        recurrence_of=earlier,
    )


def _open_capa_for(po: PurchaseOrder, key: str) -> CorrectiveAction | None:
    return po.capas.filter(finding_key=key, status__in=OPEN_STATUSES).first()


@transaction.atomic
def open_for_findings(milestone: Milestone) -> list[CorrectiveAction]:
    """By rule, when an inspection is submitted: a CAPA for each critical or major finding that
    has none open on the PO yet. Idempotent: a resubmitted milestone opens nothing twice."""
    opened = []
    for finding in findings_of(milestone):
        if not rules.calls_for_capa(finding):
            continue
        if _open_capa_for(milestone.po, finding.key) is not None:
            continue  # still open from an earlier milestone: it is verified, not reopened
        opened.append(_open(milestone, finding, by=None, owner=None))
    return opened


@transaction.atomic
def open_capa(
    *,
    by: User,
    milestone: Milestone,
    finding_key: str,
    owner: User | None = None,
    due_on=None,
) -> CorrectiveAction:
    """By hand: the QC lead opens a CAPA for one finding of a milestone (a minor defect the rule
    leaves alone, say), naming the owner at the supplier and the due date."""
    po = milestone.po
    if not is_po_qc_staff(by, po):
        raise PermissionDenied("Only the PO's QC lead or coordinators open corrective actions.")
    findings = {f.key: f for f in findings_of(milestone)}
    errors = {}
    finding = findings.get(finding_key)
    if finding is None:
        errors["finding"] = f"{finding_key!r} is not a finding of the {milestone.label}."
    elif _open_capa_for(po, finding_key) is not None:
        errors["finding"] = "A corrective action for this finding is already open on the PO."
    if owner is not None and not _works_for_supplier(owner, po):
        errors["owner"] = f"{owner} does not work for {po.supplier.name}."
    if due_on is not None and due_on < timezone.localdate():
        errors["due_on"] = "The due date is in the past."
    if errors:
        raise ValidationError(errors)
    return _open(milestone, finding, by=by, owner=owner, due_on=due_on)


def findings_without_capa(milestone: Milestone) -> list[rules.Finding]:
    """The milestone's findings a CAPA may still be opened for by hand."""
    return [f for f in findings_of(milestone) if _open_capa_for(milestone.po, f.key) is None]


def supplier_people(po: PurchaseOrder) -> list[User]:
    """Who may own a CAPA at the PO's supplier: its active users."""
    org = po.supplier.organisation
    if org is None:
        return []
    return [
        m.user
        for m in org.memberships.select_related("user")
        .filter(user__is_active=True)
        .order_by("role", "created_at", "pk")
    ]


def _works_for_supplier(user: User, po: PurchaseOrder) -> bool:
    membership = user.membership
    return (
        membership is not None
        and po.supplier.organisation_id is not None
        and membership.organisation_id == po.supplier.organisation_id
    )


# --- the supplier's answer, the QC lead's decision, the verification ---------------------------


def _works_for_capa_supplier(user: User, capa: CorrectiveAction) -> bool:
    return _works_for_supplier(user, capa.po)


def _locked(capa: CorrectiveAction) -> CorrectiveAction:
    return (
        CorrectiveAction.objects.select_for_update()
        .select_related("po", "milestone")
        .get(pk=capa.pk)
    )


# A few photos show a corrective action; more is a folder dump no QC lead will read.
MAX_EVIDENCE_PHOTOS = 10


def _processed_evidence(files) -> list[tuple[str, bytes, object]]:
    """Decode the supplier's evidence photos before anything is saved: one bad file refuses the
    answer with its name and reason, and the supplier's text is kept on the form."""
    from qcloop.inspections import imaging, photos

    files = list(files)
    if len(files) > MAX_EVIDENCE_PHOTOS:
        raise ValidationError(
            {"evidence": f"Send at most {MAX_EVIDENCE_PHOTOS} evidence photos, not {len(files)}."}
        )
    processed, problems = [], []
    for name, data in files:
        try:
            processed.append(
                (name, data, imaging.process_photo(data, max_bytes=photos.MAX_UPLOAD_BYTES))
            )
        except imaging.PhotoError as error:
            problems.append(f"{name or 'A file'}: {error}")
    if problems:
        raise ValidationError({"evidence": problems})
    return processed


@transaction.atomic
def answer_capa(
    *,
    by: User,
    capa: CorrectiveAction,
    whys: list[str],
    root_cause: str,
    correction: str,
    prevention: str,
    evidence=(),
):
    """The supplier's answer: why (one to five whys), the root cause, what was done with the
    units already made, what changes in the process, and photos that show it (`evidence`:
    (file name, bytes) pairs)."""
    from qcloop.inspections.photos import store_photo

    from .models import CapaAnswer, CapaEvidence, CapaStatus

    capa = _locked(capa)
    if not _works_for_capa_supplier(by, capa):
        raise PermissionDenied(f"Only {capa.po.supplier.name}'s people answer this CAPA.")
    whys = [why.strip() for why in whys if why and why.strip()]
    errors = {}
    if capa.status != CapaStatus.OPEN:
        errors["status"] = f"{capa.reference} is {capa.get_status_display().lower()}."
    if not 1 <= len(whys) <= 5:
        errors["whys"] = "Ask why one to five times, one answer per why."
    for name, text in [
        ("root_cause", root_cause),
        ("correction", correction),
        ("prevention", prevention),
    ]:
        if not (text or "").strip():
            errors[name] = f"Say the {name.replace('_', ' ')}."
    if errors:
        raise ValidationError(errors)
    photos = _processed_evidence(evidence)
    answer = CapaAnswer.objects.create(
        capa=capa,
        whys=whys,
        root_cause=root_cause.strip(),
        correction=correction.strip(),
        prevention=prevention.strip(),
        submitted_by=by,
    )
    for name, data, processed in photos:
        CapaEvidence.objects.create(
            capa=capa,
            answer=answer,
            photo=store_photo(processed, data),
            original_name=(name or "")[:200],
            uploaded_by=by,
        )
    capa.status, capa.answered_at = CapaStatus.ANSWERED, timezone.now()
    capa.save(update_fields=["status", "answered_at"])
    return answer


@transaction.atomic
def decide_answer(*, by: User, capa: CorrectiveAction, accept: bool, note: str = ""):
    """The QC lead accepts the answer (the CAPA then waits for a later milestone to verify it)
    or sends it back with what is missing."""
    from .models import AnswerDecision, CapaStatus

    capa = _locked(capa)
    if not is_po_qc_staff(by, capa.po):
        raise PermissionDenied("Only the PO's QC lead or coordinators decide on answers.")
    answer = capa.answers.order_by("-submitted_at", "-pk").first()
    if capa.status != CapaStatus.ANSWERED or answer is None or answer.decision:
        raise ValidationError({"status": f"{capa.reference} has no answer waiting."})
    if not accept and not note.strip():
        raise ValidationError({"note": "Say what the answer lacks when sending it back."})
    now = timezone.now()
    answer.decision = AnswerDecision.ACCEPTED if accept else AnswerDecision.RETURNED
    answer.decision_note, answer.decided_by, answer.decided_at = note.strip(), by, now
    answer.save(update_fields=["decision", "decision_note", "decided_by", "decided_at"])
    if accept:
        capa.status, capa.accepted_at = CapaStatus.ACCEPTED, now
    else:
        capa.status = CapaStatus.OPEN
        if capa.due_on < timezone.localdate():
            capa.due_on = rules.due_date(timezone.localdate(), capa.severity)
    capa.save(update_fields=["status", "accepted_at", "due_on"])
    return answer


def _uuids(values, errors: dict) -> list[str]:
    try:
        return sorted({str(UUID(str(value))) for value in values})
    except ValueError:
        errors["evidence"] = "Name evidence photos by their uuid."
        return []


def is_later(milestone: Milestone, than: Milestone) -> bool:
    rank = MILESTONE_ORDER.index
    return (rank(milestone.kind), milestone.sequence) > (rank(than.kind), than.sequence)


def has_later_visit(capa: CorrectiveAction) -> bool:
    """The CAPA's own PO still has a milestone after the one that opened it."""
    # .all(): the milestones capas_to_verify prefetched, read on every sync
    milestones = [m for m in capa.po.milestones.all() if m.status != MilestoneStatus.CANCELLED]
    return any(is_later(m, capa.milestone) for m in milestones)


def may_verify_at(capa: CorrectiveAction, milestone: Milestone) -> bool:
    """At a later milestone of its PO; or, when its PO has no visit left after the one that
    opened it (a finding at the CLI), at a visit to the supplier for another PO after it."""
    if milestone.po_id == capa.po_id:
        return is_later(milestone, capa.milestone)
    return (
        milestone.po.supplier_id == capa.supplier_id
        and capa.opened_at < (milestone.submitted_at or timezone.now())
        and not has_later_visit(capa)
    )


def capas_to_verify(milestone: Milestone) -> list[CorrectiveAction]:
    """The CAPAs this visit checks: the PO's own, opened at earlier milestones and not closed,
    then those carried over from the supplier's other POs."""
    still_open = (
        CorrectiveAction.objects.filter(status__in=OPEN_STATUSES)
        .select_related("milestone", "po")
        .prefetch_related("po__milestones", "answers")
    )
    own = still_open.filter(po=milestone.po_id)
    carried = still_open.filter(supplier=milestone.po.supplier_id).exclude(po=milestone.po_id)
    return [capa for capa in [*own, *carried] if may_verify_at(capa, milestone)]


@transaction.atomic
def verify_capa(
    *,
    by: User,
    capa: CorrectiveAction,
    milestone: Milestone,
    effective: bool,
    note: str = "",
    photo_uuids=(),
    uuid=None,
):
    """At a later milestone the inspector finds the corrective action effective (the CAPA
    closes) or not (it reopens for a new answer, with a new due date). `photo_uuids` name the
    milestone's photos that show it; a phone's may arrive after the verification."""
    from .models import CapaStatus, CapaVerification

    if uuid is not None and (done := CapaVerification.objects.filter(uuid=uuid).first()):
        return done  # a phone's retry
    capa = _locked(capa)
    if not (milestone.inspector_id == by.pk or is_po_qc_staff(by, milestone.po)):
        raise PermissionDenied("Only the milestone's inspector or the PO's QC lead verify.")
    errors = {}
    if not may_verify_at(capa, milestone):
        errors["milestone"] = (
            f"{capa.reference} opened at {capa.milestone.label} of PO {capa.po.number}: verify "
            "it at a later milestone of that PO, or at the supplier's next PO after its last."
        )
    if capa.status == CapaStatus.CLOSED:
        errors["status"] = f"{capa.reference} is closed already."
    if not effective and not note.strip():
        errors["note"] = "Say what shows the action is not effective."
    photo_uuids = _uuids(photo_uuids, errors)
    elsewhere = PhotoAttachment.objects.filter(uuid__in=photo_uuids).exclude(milestone=milestone)
    if elsewhere.exists():
        errors["evidence"] = "Evidence photos must be of this milestone."
    if errors:
        raise ValidationError(errors)
    verification = CapaVerification.objects.create(
        capa=capa,
        milestone=milestone,
        effective=effective,
        note=note.strip(),
        verified_by=by,
        photo_uuids=photo_uuids,
        **({"uuid": uuid} if uuid is not None else {}),
    )
    if effective:
        capa.status, capa.closed_at = CapaStatus.CLOSED, timezone.now()
    else:
        capa.status = CapaStatus.OPEN
        capa.due_on = rules.due_date(timezone.localdate(), capa.severity, next_visit(milestone))
    capa.save(update_fields=["status", "closed_at", "due_on"])
    return verification
