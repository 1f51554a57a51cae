"""Services for what an inspector records during a milestone, and its submission.

Like every module of services, each function is one atomic change: it checks everything,
then saves everything or raises `ValidationError` naming the field and saves nothing. Records
carry a client-made UUID, so a retried request (a phone on bad signal) returns the record
already saved instead of making a second one."""

import uuid as uuid_module
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum

from qcloop.accounts.models import User
from qcloop.orders.models import POLine

from . import revisions, rules
from .models import (
    CartonCheck,
    CheckAnswer,
    ChecklistTemplate,
    CheckResult,
    Defect,
    DefectClass,
    DefectClassOverride,
    DefectCode,
    InspectionOutcome,
    LoadedCartons,
    LoadingRecord,
    MeasurementChart,
    MeasurementReading,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    ProductionStatus,
)
from .revisions import stamp

# --- who records, and when --------------------------------------------------------------------


def may_record(user: User, milestone: Milestone) -> bool:
    """The assigned inspector, and the PO's QC lead (who may inspect too)."""
    return user.pk in {milestone.inspector_id, milestone.po.qc_lead_id}


def is_open_for_recording(by: User, milestone: Milestone) -> bool:
    """In progress; or published, for the QC lead, while they correct its report."""
    if milestone.status == MilestoneStatus.IN_PROGRESS:
        return True
    if milestone.status != MilestoneStatus.PUBLISHED or by.pk != milestone.po.qc_lead_id:
        return False
    from qcloop.reports.services import correction_open

    return correction_open(milestone)


def _open_for_recording(by: User, milestone: Milestone) -> Milestone:
    milestone = (
        Milestone.objects.select_for_update(of=("self",))
        .select_related("po", "checklist")
        .get(pk=milestone.pk)
    )
    if not may_record(by, milestone):
        raise PermissionDenied("Only the assigned inspector and the PO's QC lead record findings.")
    if not is_open_for_recording(by, milestone):
        state = milestone.get_status_display().lower()
        raise ValidationError(
            {
                "status": f"The {milestone.label} is {state}: findings are recorded while it is in "
                f"progress."
            }
        )
    return milestone


def _replayed(model, uuid, milestone: Milestone):
    """The record a retried request already saved, if any."""
    if uuid is None:
        return None
    found = model.objects.filter(uuid=uuid).first()
    if found is not None and found.milestone_id != milestone.pk:
        raise ValidationError({"uuid": "This record id belongs to another inspection."})
    return found


def _uuid(value) -> uuid_module.UUID:
    return uuid_module.UUID(str(value)) if value else uuid_module.uuid4()


# --- the checklist ------------------------------------------------------------------------------


def pin_checklist(milestone: Milestone) -> None:
    """At booking: the checklist version current then is the one this milestone uses."""
    from .services import stream_category

    template = ChecklistTemplate.objects.filter(
        agency_id=milestone.po.agency_id,
        category=stream_category(milestone.po),
        milestone_kind=milestone.kind,
    ).first()
    if template is not None and milestone.checklist_id is None:
        milestone.checklist = template.current


@transaction.atomic
def answer_check(
    *,
    by: User,
    milestone: Milestone,
    item_code: str,
    result: str = "",
    value: str = "",
    note: str = "",
    uuid=None,
) -> CheckAnswer:
    """Answer one checklist item (answering it again replaces the answer)."""
    milestone = _open_for_recording(by, milestone)
    if milestone.checklist is None:
        raise ValidationError({"item_code": "This milestone has no checklist."})
    item = milestone.checklist.item(item_code)
    if item is None:
        raise ValidationError({"item_code": f"No item {item_code!r} in this checklist."})
    if result not in {"", *CheckResult.values}:
        raise ValidationError({"result": f"Answer pass, fail or na, not {result!r}."})
    if item.get("answer") == "number" and value:
        _number(value, "value")
    answer, _ = CheckAnswer.objects.update_or_create(
        milestone=milestone,
        item_code=item_code,
        defaults={
            "result": result,
            "value": value.strip()[:200],
            "note": note.strip(),
            "answered_by": by,
        },
        create_defaults={
            "uuid": _uuid(uuid),
            "result": result,
            "value": value.strip()[:200],
            "note": note.strip(),
            "answered_by": by,
        },
    )
    stamp(milestone, revisions.answer_key(item_code), by)
    return answer


@transaction.atomic
def answer_checks(*, by: User, milestone: Milestone, answers: list[dict]) -> int:
    """Save several answers at once ({item_code, result, value, note}); all or none."""
    errors = {}
    saved = 0
    for answer in answers:
        try:
            with transaction.atomic():
                answer_check(by=by, milestone=milestone, **answer)
                saved += 1
        except ValidationError as error:
            for message in error.messages:
                errors.setdefault(f"item.{answer.get('item_code')}", []).append(message)
    if errors:
        raise ValidationError(errors)
    return saved


def _number(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationError({field: f"{value!r} is not a number."}) from None
    if not number.is_finite():
        raise ValidationError({field: f"{value!r} is not a number."})
    return number


# --- defects --------------------------------------------------------------------------------------


def class_for(code: DefectCode, milestone: Milestone) -> str:
    """The code's class for this buyer: the buyer's override, else the library's default."""
    override = DefectClassOverride.objects.filter(buyer_id=milestone.po.buyer_id, code=code).first()
    return override.defect_class if override else code.default_class


def sample_units(milestone: Milestone, defect_class: str) -> int | None:
    """How many units the class is judged on, from the milestone's stored plan."""
    if not milestone.sampling:
        return None
    for class_plan in milestone.sampling["plan"]["classes"]:
        if class_plan["defect_class"] == defect_class:
            return class_plan["n"]
    return milestone.sampling["plan"]["n"]


@transaction.atomic
def record_defect(
    *,
    by: User,
    milestone: Milestone,
    quantity: int,
    code: DefectCode | None = None,
    description: str = "",
    defect_class: str | None = None,
    po_line: POLine | None = None,
    carton: int | None = None,
    unit_ref: str = "",
    systematic: bool = False,
    uuid=None,
) -> Defect:
    """Defects of one kind found in the sample."""
    milestone = _open_for_recording(by, milestone)
    if (already := _replayed(Defect, uuid, milestone)) is not None:
        return already
    errors = {}
    defect_class = defect_class or (class_for(code, milestone) if code else None)
    if defect_class not in DefectClass.values:
        errors["defect_class"] = "Choose critical, major or minor (or a defect code)."
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        errors["quantity"] = f"The quantity must be at least 1, not {quantity!r}."
    description = (description or (code.name if code else "")).strip()
    if not description:
        errors["description"] = "Say what the defect is, or choose a defect code."
    if po_line is not None and po_line.po_id != milestone.po_id:
        errors["po_line"] = "That SKU is not on this PO."
    if carton is not None and not 1 <= carton <= milestone.po.carton_count:
        errors["carton"] = f"Cartons are numbered 1 to {milestone.po.carton_count}."
    judged = _judged_classes(milestone)
    if not errors and judged and defect_class not in judged | {DefectClass.CRITICAL}:
        errors["defect_class"] = (
            f"This inspection's plan judges {', '.join(sorted(judged))} defects, not "
            f"{defect_class}."
        )
    if not errors:
        _check_defects_fit_the_sample(milestone, defect_class, quantity)
    if errors:
        raise ValidationError(errors)
    defect = Defect.objects.create(
        milestone=milestone,
        code=code,
        description=description,
        defect_class=defect_class,
        quantity=quantity,
        po_line=po_line,
        carton=carton,
        unit_ref=unit_ref.strip()[:40],
        systematic=systematic,
        uuid=_uuid(uuid),
        created_by=by,
    )
    stamp(milestone, revisions.defect_key(defect.uuid), by)
    if defect_class == DefectClass.CRITICAL:
        from qcloop.alerts.services import escalate_critical

        escalate_critical(defect)
    return defect


def _judged_classes(milestone: Milestone) -> set[str]:
    if not milestone.sampling:
        return set()
    return {c["defect_class"] for c in milestone.sampling["plan"]["classes"]}


def _check_defects_fit_the_sample(milestone, defect_class, quantity, exclude_pk=None) -> None:
    n = sample_units(milestone, defect_class)
    if n is None:
        return
    found = milestone.defects.filter(defect_class=defect_class).exclude(pk=exclude_pk)
    total = (found.aggregate(total=Sum("quantity"))["total"] or 0) + quantity
    if total > n:
        raise ValidationError(
            {
                "quantity": f"{total} {defect_class} defects in a sample of {n} units: a unit is "
                f"counted once per class, so there cannot be more."
            }
        )


@transaction.atomic
def remove_defect(*, by: User, defect: Defect) -> None:
    milestone = _open_for_recording(by, defect.milestone)
    if defect.from_measurements:
        raise ValidationError({"defect": "Measurement defects follow the readings: fix those."})
    defect.delete()
    stamp(milestone, revisions.defect_key(defect.uuid), by)


# --- measurements -------------------------------------------------------------------------------


@transaction.atomic
def record_reading(
    *,
    by: User,
    milestone: Milestone,
    chart: MeasurementChart,
    sample_unit: int,
    point_code: str,
    value,
    unit: str,
    uuid=None,
) -> MeasurementReading:
    """One reading of one point of measure on one sampled unit, checked against the chart
    version it was taken with. Units out of tolerance become defects by rule."""
    milestone = _open_for_recording(by, milestone)
    if (already := _replayed(MeasurementReading, uuid, milestone)) is not None:
        return already
    if not milestone.po.lines.filter(product_id=chart.product_id).exists():
        raise ValidationError({"chart": f"{chart.product.sku} is not on this PO."})
    point = chart.point(point_code)
    if point is None:
        raise ValidationError({"point_code": f"No point {point_code!r} on chart {chart}."})
    n = milestone.sampling["plan"]["n"] if milestone.sampling else None
    if (
        isinstance(sample_unit, bool)
        or not isinstance(sample_unit, int)
        or sample_unit < 1
        or (n is not None and sample_unit > n)
    ):
        raise ValidationError({"sample_unit": f"Sampled units are numbered 1 to {n or 'n'}."})
    number = _number(value, "value")
    tolerance = rules.Tolerance(
        Decimal(str(point["spec"])),
        Decimal(str(point["minus"])),
        Decimal(str(point["plus"])),
        point["unit"],
    )
    try:
        in_tolerance, _ = rules.check_reading(number, unit, tolerance)
    except ValueError as error:
        raise ValidationError({"value": str(error)}) from None
    reading, _ = MeasurementReading.objects.update_or_create(
        milestone=milestone,
        chart=chart,
        sample_unit=sample_unit,
        point_code=point_code,
        defaults={"value": number, "unit": unit, "in_tolerance": in_tolerance},
        create_defaults={
            "value": number,
            "unit": unit,
            "in_tolerance": in_tolerance,
            "uuid": _uuid(uuid),
        },
    )
    _sync_measurement_defects(milestone, chart)
    stamp(milestone, revisions.reading_key(chart.pk, sample_unit, point_code), by)
    return reading


def _sync_measurement_defects(milestone: Milestone, chart: MeasurementChart) -> None:
    """Each sampled unit with a reading out of tolerance counts once, as one defect of the
    chart's class (the rule), kept in step with the readings."""
    from .defaults import MEASUREMENT_DEFECT_CODE

    readings = milestone.readings.filter(chart=chart)
    failing = rules.units_out_of_tolerance(
        [(r.sample_unit, r.point_code, r.in_tolerance) for r in readings]
    )
    existing = milestone.defects.filter(from_measurements=True, description__endswith=str(chart))
    if not failing:
        existing.delete()
        return
    description = f"Out of tolerance: {len(failing)} unit(s), chart {chart}"
    defect = existing.first()
    if defect is None:
        _check_defects_fit_the_sample(milestone, chart.defect_class, len(failing))
        Defect.objects.create(
            milestone=milestone,
            code=DefectCode.objects.filter(
                agency__isnull=True, code=MEASUREMENT_DEFECT_CODE
            ).first(),
            description=description,
            defect_class=chart.defect_class,
            quantity=len(failing),
            from_measurements=True,
        )
        return
    _check_defects_fit_the_sample(milestone, chart.defect_class, len(failing), defect.pk)
    defect.quantity, defect.description = len(failing), description
    defect.save(update_fields=["quantity", "description"])


# --- production, packaging, loading ---------------------------------------------------------


@transaction.atomic
def record_production(
    *,
    by: User,
    milestone: Milestone,
    counted_on: date,
    produced: int,
    finished: int = 0,
    packed: int = 0,
    reported_produced: int | None = None,
    materials_on_site: bool = True,
    packaging_on_site: bool = True,
    observations: str = "",
) -> ProductionStatus:
    """Production as counted on the floor, with the projection and flags it gives."""
    milestone = _open_for_recording(by, milestone)
    po = milestone.po
    errors = {}
    for name, count in [("produced", produced), ("finished", finished), ("packed", packed)]:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            errors[name] = f"Give the count as a whole number, 0 or more, not {count!r}."
    if not errors:
        if produced > po.quantity * 2:
            errors["produced"] = f"{produced} produced for an order of {po.quantity}: recount."
        if finished > produced:
            errors["finished"] = "More finished than produced."
        if packed > finished:
            errors["packed"] = "More packed than finished."
    if errors:
        raise ValidationError(errors)
    start = po.production_start or milestone.window_start
    try:
        projection = rules.project_completion(
            po.quantity, produced, start, counted_on, po.ex_factory_date
        )
    except ValueError as error:
        raise ValidationError({"counted_on": str(error)}) from None
    flags = [
        flag
        for flag in (
            _late(projection),
            rules.packaging_flag(projection.completion_share, packaging_on_site),
            rules.reported_vs_counted(reported_produced, produced) if reported_produced else None,
            None if materials_on_site else "Materials are not all on site.",
        )
        if flag
    ]
    status, _ = ProductionStatus.objects.update_or_create(
        milestone=milestone,
        defaults={
            "counted_on": counted_on,
            "produced": produced,
            "finished": finished,
            "packed": packed,
            "reported_produced": reported_produced,
            "materials_on_site": materials_on_site,
            "packaging_on_site": packaging_on_site,
            "observations": observations.strip(),
            "projected_completion": projection.projected_completion,
            "flags": flags,
        },
    )
    stamp(milestone, revisions.PRODUCTION, by)
    if projection.late_by_days and projection.late_by_days > 0:
        from qcloop.alerts.services import escalate_late

        escalate_late(
            milestone,
            late_by_days=projection.late_by_days,
            projected_completion=projection.projected_completion,
        )
    return status


def _late(projection) -> str | None:
    if projection.late_by_days and projection.late_by_days > 0:
        return (
            f"At the measured pace production completes on "
            f"{projection.projected_completion:%d %b %Y}, {projection.late_by_days} days after "
            f"the ex-factory date."
        )
    return None


@transaction.atomic
def record_carton_check(
    *,
    by: User,
    milestone: Milestone,
    carton_number: int,
    length_cm=None,
    width_cm=None,
    height_cm=None,
    gross_weight_kg=None,
    marks: dict | None = None,
    barcode: str = "",
    country_of_origin: str = "",
    languages: list[str] | None = None,
    uuid=None,
) -> CartonCheck:
    """One opened carton against the packaging spec and the PO's shipping marks."""
    milestone = _open_for_recording(by, milestone)
    if (already := _replayed(CartonCheck, uuid, milestone)) is not None:
        return already
    po = milestone.po
    if not 1 <= carton_number <= po.carton_count:
        raise ValidationError({"carton_number": f"Cartons are numbered 1 to {po.carton_count}."})
    if barcode:
        try:
            barcode = rules.check_gtin(barcode)
        except ValueError as error:
            raise ValidationError({"barcode": str(error)}) from None
    measured = {
        "length_cm": length_cm,
        "width_cm": width_cm,
        "height_cm": height_cm,
        "gross_weight_kg": gross_weight_kg,
    }
    marks = marks or {}
    problems = (
        list(rules.check_carton_marks(marks, po.number, po.destination_market, po.carton_count))
        if marks
        else []
    )
    spec = _packaging_spec(po)
    if spec.get("carton") and all(v is not None for v in measured.values()):
        problems += rules.check_carton(
            {k: Decimal(str(v)) for k, v in measured.items()}, spec["carton"]
        )
    if barcode and spec.get("gtin") and barcode != spec["gtin"]:
        problems.append(f"Barcode {barcode} is not the SKU's GTIN {spec['gtin']}.")
    if country_of_origin and country_of_origin != po.factory.country:
        problems.append(
            f"Country of origin marked {country_of_origin}; the goods are made in "
            f"{po.factory.country}."
        )
    languages = sorted({code.strip().lower() for code in (languages or []) if code.strip()})
    problems += _language_problems(po, spec, languages)
    recorded = {
        **measured,
        "marks": marks,
        "barcode": barcode,
        "languages": languages,
        "country_of_origin": country_of_origin,
        "problems": problems,
    }
    check, _ = CartonCheck.objects.update_or_create(
        milestone=milestone,
        carton_number=carton_number,
        defaults=recorded,
        create_defaults={**recorded, "uuid": _uuid(uuid)},
    )
    stamp(milestone, revisions.carton_key(carton_number), by)
    return check


def _language_problems(po, spec: dict, found: list[str]) -> list[str]:
    """Labels must speak the destination market's languages (or those the spec names)."""
    from qcloop.core.reference import LANGUAGE_NAMES, required_languages

    if not found:
        return []  # not checked on this carton
    required = required_languages(po.destination_market, spec.get("languages"))
    missing = [code for code in required if code not in found]
    names = ", ".join(LANGUAGE_NAMES.get(code, code) for code in missing)
    return [f"Labels lack {names}, required for {po.destination_market}."] if missing else []


def _packaging_spec(po) -> dict:
    """The packaging spec of the PO's largest line's product (carton size, weight, GTIN)."""
    line = po.lines.select_related("product").order_by("-quantity").first()
    return (line.product.packaging_spec or {}) if line else {}


@transaction.atomic
def record_loading(
    *,
    by: User,
    milestone: Milestone,
    container_number: str,
    seal_number: str,
    load_pattern: str = "",
    loaded: dict[int, int] | None = None,
) -> LoadingRecord:
    """The container (ISO 6346 number, seal) and the cartons loaded per PO line."""
    milestone = _open_for_recording(by, milestone)
    if milestone.kind != MilestoneKind.CLI:
        raise ValidationError({"kind": "Loading is recorded at the CLI."})
    errors = {}
    try:
        container_number = rules.check_container_number(container_number)
    except ValueError as error:
        errors["container_number"] = str(error)
    if not seal_number.strip():
        errors["seal_number"] = "Enter the seal number."
    lines = {line.pk: line for line in milestone.po.lines.all()}
    for line_id, cartons in (loaded or {}).items():
        if line_id not in lines:
            errors[f"loaded.{line_id}"] = "That line is not on this PO."
        elif isinstance(cartons, bool) or not isinstance(cartons, int) or cartons < 0:
            errors[f"loaded.{line_id}"] = f"Give cartons as a whole number, not {cartons!r}."
    if errors:
        raise ValidationError(errors)
    record, _ = LoadingRecord.objects.update_or_create(
        milestone=milestone,
        defaults={
            "container_number": container_number,
            "seal_number": seal_number.strip(),
            "load_pattern": load_pattern.strip(),
        },
    )
    for line_id, cartons in (loaded or {}).items():
        LoadedCartons.objects.update_or_create(
            milestone=milestone, po_line=lines[line_id], defaults={"cartons": cartons}
        )
    stamp(milestone, revisions.LOADING, by)
    return record


def packing_list(po) -> dict[str, int]:
    """Cartons expected per SKU: from each product's units per carton, else in proportion to
    the PO's carton count."""
    expected = {}
    for line in po.lines.select_related("product"):
        per_carton = (line.product.packaging_spec or {}).get("units_per_carton")
        if per_carton:
            cartons = -(-line.quantity // int(per_carton))
        else:
            cartons = round(po.carton_count * line.quantity / po.quantity)
        key = f"{line.product.sku} {line.variant}".strip()
        expected[key] = expected.get(key, 0) + cartons
    return expected


# --- the result and the submission ----------------------------------------------------------


def defects_by_class(milestone: Milestone) -> dict[str, int]:
    totals = dict.fromkeys(DefectClass.values, 0)
    for row in milestone.defects.values("defect_class").annotate(total=Sum("quantity")):
        totals[row["defect_class"]] = row["total"]
    return totals


def check_outcomes(milestone: Milestone) -> list:
    if milestone.checklist is None:
        return []
    answers = {a.item_code: a.result or None for a in milestone.answers.all()}
    return [
        rules.CheckOutcome(
            code=item["code"],
            text=item["text"],
            section=item["section"],
            mandatory=item["mandatory"],
            on_fail=item["on_fail"],
            result=answers.get(item["code"]),
        )
        for item in milestone.checklist.items
    ]


def assess(milestone: Milestone):
    """The milestone's result as it stands: AQL per class plus the checklist rules and the
    lab tests, with the production, packaging and loading findings as further reasons."""
    from .lab_tests import lab_outcomes

    plan = milestone.sampling["plan"] if milestone.sampling else None
    judged = _judged_classes(milestone) | {DefectClass.CRITICAL}
    found = {name: n for name, n in defects_by_class(milestone).items() if n or name in judged}
    result = rules.judge_inspection(plan, found, check_outcomes(milestone), lab_outcomes(milestone))
    observations = []
    production = getattr(milestone, "production", None)
    if production is not None:
        observations += production.flags
    for check in milestone.carton_checks.all():
        observations += [f"Carton {check.carton_number}: {p}" for p in check.problems]
    if milestone.kind == MilestoneKind.CLI:
        observations += _loading_problems(milestone)
    return result, observations


def _loading_problems(milestone: Milestone) -> list[str]:
    loaded = {}
    for row in milestone.loaded.select_related("po_line__product"):
        key = f"{row.po_line.product.sku} {row.po_line.variant}".strip()
        loaded[key] = loaded.get(key, 0) + row.cartons
    if not loaded:
        return []
    return list(rules.compare_loading(packing_list(milestone.po), loaded).problems)


def missing_for_submission(milestone: Milestone) -> list[str]:
    """What must be recorded before the inspector can submit."""
    from .lab_tests import replaced_codes

    missing = []
    if milestone.checklist is not None:
        answered = set(milestone.answers.exclude(result="").values_list("item_code", flat=True))
        answered |= replaced_codes(milestone)  # the lab answers those
        missing += [
            f"{item['code']} {item['text']}"
            for item in milestone.checklist.items
            if item["mandatory"] and item["code"] not in answered
        ]
    counts_production = milestone.kind in {
        MilestoneKind.IPC,
        MilestoneKind.DUPRO,
        MilestoneKind.PSI,
    }
    if counts_production and not ProductionStatus.objects.filter(milestone=milestone).exists():
        missing.append("Production status (quantities counted)")
    if (
        milestone.kind == MilestoneKind.CLI
        and not LoadingRecord.objects.filter(milestone=milestone).exists()
    ):
        missing.append("Container number and seal")
    return missing


@transaction.atomic
def submit_inspection(*, by: User, milestone: Milestone) -> Milestone:
    """The inspector hands the inspection to the QC lead, with its result and the reasons."""
    from .services import transition_milestone

    current = Milestone.objects.select_for_update().get(pk=milestone.pk)
    if current.status == MilestoneStatus.SUBMITTED:
        raise ValidationError({"status": f"The {current.label} has already been submitted."})
    milestone = _open_for_recording(by, current)
    missing = missing_for_submission(milestone)
    if missing:
        raise ValidationError({"missing": [f"Not recorded yet: {item}" for item in missing]})
    result, observations = assess(milestone)
    milestone.result = result.outcome
    milestone.result_detail = {**result.to_dict(), "observations": observations}
    milestone.save(update_fields=["result", "result_detail", "updated_at"])
    milestone = transition_milestone(by=by, milestone=milestone, to=MilestoneStatus.SUBMITTED)
    from qcloop.alerts.services import escalate_failed
    from qcloop.capa.services import open_for_findings
    from qcloop.reports.services import open_report

    open_report(milestone)
    if milestone.result == InspectionOutcome.FAIL:
        escalate_failed(milestone)
    open_for_findings(milestone)
    return milestone
