"""Installing the shipped defect library and the default checklists."""

from django.db import transaction

from .defaults import CHECKLISTS, DEFECT_LIBRARY
from .models import ChecklistTemplate, ChecklistVersion, DefectCode


def install_defect_library(**kwargs) -> int:
    """qcloop's own defect codes (no agency), brought up to date; safe to run at every
    migrate."""
    for entry in DEFECT_LIBRARY:
        DefectCode.objects.update_or_create(
            agency=None,
            code=entry["code"],
            defaults={
                k: entry.get(k, "")
                for k in ("category", "group", "subgroup", "name", "default_class")
            },
        )
    return len(DEFECT_LIBRARY)


@transaction.atomic
def install_default_checklists(agency, by=None) -> int:
    """Give an agency its own editable copy of the default checklists (version 1 of each)."""
    made = 0
    for (category, kind), items in CHECKLISTS.items():
        template, created = ChecklistTemplate.objects.get_or_create(
            agency=agency,
            category=category,
            milestone_kind=kind,
            defaults={"name": f"{kind} · {category.replace('_', ' ')}"},
        )
        if created:
            ChecklistVersion.objects.create(template=template, number=1, items=items, created_by=by)
            made += 1
    return made


@transaction.atomic
def edit_checklist(*, by, template: ChecklistTemplate, items: list[dict]) -> ChecklistVersion:
    """A new version of the checklist; milestones already booked keep theirs."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from qcloop.accounts.selectors import is_agency_staff

    if not is_agency_staff(by) or by.membership.organisation_id != template.agency_id:
        raise PermissionDenied("Only the agency's coordinators and QC leads edit its checklists.")
    problems = _item_problems(items)
    if problems:
        raise ValidationError({"items": problems})
    number = (template.current.number if template.current else 0) + 1
    return ChecklistVersion.objects.create(
        template=template, number=number, items=items, created_by=by
    )


def _item_problems(items) -> list[str]:
    from .defaults import SECTIONS

    sections = {key for key, _ in SECTIONS}
    problems, codes = [], set()
    for i, item in enumerate(items if isinstance(items, list) else []):
        where = f"item {i + 1}"
        if not str(item.get("code", "")).strip() or item.get("code") in codes:
            problems.append(f"{where}: each item needs its own code.")
        codes.add(item.get("code"))
        if item.get("section") not in sections:
            problems.append(f"{where}: unknown section {item.get('section')!r}.")
        if not str(item.get("text", "")).strip():
            problems.append(f"{where}: say what to check.")
        if item.get("on_fail") not in {"fail", "pending"}:
            problems.append(f"{where}: a failed item either fails or pends the inspection.")
        if item.get("answer", "check") not in {"check", "number", "text"}:
            problems.append(f"{where}: answer is check, number or text.")
    if not isinstance(items, list) or not items:
        problems.append("A checklist needs at least one item.")
    return problems


@transaction.atomic
def save_measurement_chart(*, by, product, size: str, points: list[dict], defect_class="major"):
    """A new version of the chart of points of measure for a SKU and size. Readings keep the
    version they were checked against."""
    from decimal import Decimal, InvalidOperation

    from django.core.exceptions import PermissionDenied, ValidationError

    from qcloop.orders.services import can_manage_for_buyer

    from .models import DefectClass, MeasurementChart

    if not can_manage_for_buyer(by, product.buyer):
        raise PermissionDenied("You cannot edit this buyer's measurement charts.")
    problems, codes = [], set()
    for i, point in enumerate(points if isinstance(points, list) else []):
        try:
            spec, minus, plus = (Decimal(str(point[k])) for k in ("spec", "minus", "plus"))
        except (KeyError, InvalidOperation, TypeError):
            problems.append(f"point {i + 1}: give spec, minus and plus as numbers.")
            continue
        if spec <= 0 or minus < 0 or plus < 0:
            problems.append(f"point {i + 1}: spec must be positive, tolerances 0 or more.")
        if not point.get("code") or point["code"] in codes or not point.get("unit"):
            problems.append(f"point {i + 1}: each point needs its own code and a unit.")
        codes.add(point.get("code"))
    if not points or not isinstance(points, list):
        problems.append("A chart needs at least one point of measure.")
    if defect_class not in DefectClass.values:
        problems.append(f"Unknown defect class {defect_class!r}.")
    if problems:
        raise ValidationError({"points": problems})
    size = (size or "one size").strip()
    last = MeasurementChart.objects.filter(product=product, size=size).order_by("-version").first()
    return MeasurementChart.objects.create(
        product=product,
        size=size,
        version=(last.version + 1) if last else 1,
        points=points,
        defect_class=defect_class,
    )


@transaction.atomic
def set_defect_class(*, by, buyer, code: DefectCode, defect_class: str | None):
    """A buyer's own class for a defect code; None goes back to the library's default."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from qcloop.orders.services import can_manage_for_buyer

    from .models import DefectClass, DefectClassOverride

    if not can_manage_for_buyer(by, buyer):
        raise PermissionDenied("You cannot change this buyer's defect classes.")
    if defect_class is None:
        DefectClassOverride.objects.filter(buyer=buyer, code=code).delete()
        return None
    if defect_class not in DefectClass.values:
        raise ValidationError({"defect_class": "Use critical, major or minor."})
    override, _ = DefectClassOverride.objects.update_or_create(
        buyer=buyer, code=code, defaults={"defect_class": defect_class}
    )
    return override
