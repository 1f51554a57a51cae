"""What a milestone report shows, gathered from the milestone into one JSON-ready dict.

A published version freezes this dict (and its SHA-256): the HTML page and the PDF of that
version are rendered from it, never from the live records, so a version reads the same for
ever. Times are shown in the factory's time zone, which the report names."""

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils import timezone

from qcloop.inspections.lab_tests import lab_outcomes, lab_test_rows
from qcloop.inspections.models import (
    MILESTONE_ORDER,
    AttachmentStatus,
    DefectClass,
    Milestone,
    MilestoneStatus,
)
from qcloop.inspections.protection import protection
from qcloop.inspections.recording import check_outcomes, packing_list
from qcloop.inspections.rules import replace_checks
from qcloop.sampling import plan_from_dict

CLASSES = [c.value for c in DefectClass]
# 2: a milestone report states the trend test ("trends"), a PO summary its flags
# ("trend.flags"). Versions frozen as 1 lack both and still render.
FORMAT_VERSION = 2


def content_sha256(content: dict) -> str:
    """The hash of a report's content: canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return timezone.localtime(moment, tz).strftime("%d %b %Y %H:%M") if moment else ""


def day_text(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def _pct(part, whole) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def milestone_content(milestone: Milestone, lead_summary: str = "", trend=None) -> dict:
    """Everything the report of `milestone` shows, as it stands now. `trend`: the PO's trend
    report just computed on publication (`analytics.services.record_published`), reused when
    it is as of this milestone rather than assessed a second time."""
    milestone = Milestone.objects.select_related(
        "po__buyer", "po__agency", "po__supplier", "po__factory", "po__qc_lead", "inspector"
    ).get(pk=milestone.pk)
    tz = ZoneInfo(milestone.po.factory.timezone)
    photos = _photo_index(milestone, tz)
    return {
        "format": FORMAT_VERSION,
        "kind": "milestone",
        "header": _header(milestone, tz),
        "verdict": _verdict(milestone, lead_summary),
        "aql": _aql(milestone),
        "changes": _changes(milestone),
        "trends": _trends(milestone, trend),
        "capas": _capas(milestone),
        "production": _production(milestone),
        "integrity": _integrity(photos),
        "defects": _defects(milestone, photos),
        "measurements": _measurements(milestone),
        "checklist": _checklist(milestone, photos),
        "lab_tests": lab_test_rows(milestone),
        "packaging": _packaging(milestone),
        "loading": _loading(milestone, photos),
        "sample_draw": _sample_draw(milestone),
        "photos": photos,
    }


def po_header(po) -> dict:
    """The PO as every report of it names it: who, where, what and when."""
    factory = po.factory
    lines = [
        {
            "sku": line.product.sku,
            "name": line.product.name,
            "variant": line.variant,
            "quantity": line.quantity,
        }
        for line in po.lines.select_related("product")
    ]
    return {
        "po": po.number,
        "po_id": po.pk,
        "buyer": po.buyer.name,
        "agency": po.agency.name if po.agency else "",
        "supplier": po.supplier.name,
        "factory": factory.name,
        "factory_address": f"{factory.address}, {factory.city}, {factory.country}",
        "timezone": factory.timezone,
        "quantity": po.quantity,
        "unit": po.unit,
        "cartons": po.carton_count,
        "ex_factory": day_text(po.ex_factory_date),
        "ship_date": day_text(po.ship_date),
        "market": po.destination_market,
        "retailer_compliance": po.retailer_compliance,
        "lines": lines,
        "qc_lead": po.qc_lead.full_name if po.qc_lead else "",
    }


def _header(milestone: Milestone, tz: ZoneInfo) -> dict:
    return {
        **po_header(milestone.po),
        "milestone_id": milestone.pk,
        "milestone": milestone.kind,
        "label": milestone.label,
        "milestone_name": milestone.get_kind_display(),
        "inspection_date": day_text(milestone.inspection_date),
        "inspector": milestone.inspector.full_name if milestone.inspector else "",
        "started": _local(milestone.started_at, tz),
        "submitted": _local(milestone.submitted_at, tz),
    }


def _verdict(milestone: Milestone, lead_summary: str) -> dict:
    detail = milestone.result_detail or {}
    return {
        "result": milestone.result or "pending",
        "reasons": detail.get("reasons", []),
        "observations": detail.get("observations", []),
        "lead_summary": lead_summary,
    }


def _aql(milestone: Milestone) -> dict:
    """Plan, found and Ac/Re per defect class, and what each plan protects against."""
    if not milestone.sampling:
        return {"sampled": False, "classes": [], "terms": {}}
    plan = milestone.sampling["plan"]
    per_class = (milestone.result_detail or {}).get("per_class", {})
    found = _found(milestone)
    classes = []
    for class_plan in plan["classes"]:
        name = class_plan["defect_class"]
        judged = per_class.get(name, {})
        row = {
            "defect_class": name,
            "aql": class_plan.get("aql"),
            "n": class_plan["n"],
            "ac": class_plan["ac"],
            "re": class_plan["re"],
            "found": judged.get("found", found.get(name, 0)),
            "decision": judged.get("decision", ""),
            "protects": "",
        }
        if class_plan.get("standard_plan"):
            sentences = protection(plan_from_dict(class_plan["standard_plan"])).sentences()
            row["protects"] = sentences[1] if len(sentences) > 2 else sentences[0]
        classes.append(row)
    terms = milestone.sampling
    return {
        "sampled": True,
        "classes": classes,
        "terms": {
            "lot_size": milestone.lot_size,
            "level": terms.get("level"),
            "severity": terms.get("severity", "normal"),
            "method": terms.get("method"),
            "code_letter": plan.get("table_code"),
            "hundred_percent": bool(plan.get("hundred_percent")),
        },
    }


def _found(milestone: Milestone) -> dict[str, int]:
    rows = milestone.defects.values("defect_class").annotate(total=Sum("quantity"))
    return {row["defect_class"]: row["total"] for row in rows}


def _sampled_units(milestone: Milestone) -> int | None:
    if not milestone.sampling:
        return None
    return max(c["n"] for c in milestone.sampling["plan"]["classes"])


def _previous(milestone: Milestone) -> Milestone | None:
    """The milestone before this one on the same PO that has a published report."""
    rank = {kind: i for i, kind in enumerate(MILESTONE_ORDER)}
    earlier = [
        m
        for m in milestone.po.milestones.filter(status=MilestoneStatus.PUBLISHED).exclude(
            pk=milestone.pk
        )
        if (rank[m.kind], m.sequence) < (rank[milestone.kind], milestone.sequence)
    ]
    return max(earlier, key=lambda m: (rank[m.kind], m.sequence), default=None)


def _defect_names(milestone: Milestone) -> dict[str, str]:
    names = {}
    for defect in milestone.defects.select_related("code"):
        key = defect.code.code if defect.code else defect.description.strip().lower()
        names[key] = defect.code.name if defect.code else defect.description
    return names


def _changes(milestone: Milestone) -> dict:
    """What moved since the previous milestone: rates per class, recurring and new defects."""
    previous = _previous(milestone)
    if previous is None:
        return {"previous": None}
    now_units, then_units = _sampled_units(milestone), _sampled_units(previous)
    now_found, then_found = _found(milestone), _found(previous)
    rows = [
        {
            "defect_class": name,
            "then": then_found.get(name, 0),
            "now": now_found.get(name, 0),
            "then_rate": _pct(then_found.get(name, 0), then_units),
            "now_rate": _pct(now_found.get(name, 0), now_units),
        }
        for name in CLASSES
    ]
    now_names, then_names = _defect_names(milestone), _defect_names(previous)
    if now_units is None:  # nothing sampled now (a CLI): nothing can be "no longer found"
        then_names = {key: name for key, name in then_names.items() if key in now_names}
    return {
        "previous": previous.label,
        "previous_result": previous.result or "pending",
        "rows": rows,
        "recurring": sorted(now_names[k] for k in now_names.keys() & then_names.keys()),
        "new": sorted(now_names[k] for k in now_names.keys() - then_names.keys()),
        "gone": sorted(then_names[k] for k in then_names.keys() - now_names.keys()),
    }


def _trends(milestone: Milestone, trend=None) -> dict:
    """The trend test as of this milestone: the flags standing (a rising defect rate against
    the supplier's earlier lots, or one projected over the AQL), or the one line saying it
    found none. Versions published before this section existed simply lack the key."""
    from qcloop.analytics.flags import trend_report

    if trend is None or trend.milestone_id != milestone.pk:
        trend = trend_report(milestone)
    return trend.to_content()


def _capas(milestone: Milestone) -> dict:
    """Corrective actions of the PO opened up to this milestone and where they stand; at a
    PSI, those opened earlier and still not closed are flagged (the buyer ships on it)."""
    from qcloop.capa.selectors import capa_log

    log = capa_log(milestone.po, upto=milestone)
    return {
        "open": [row for row in log if row["is_open"]],
        "closed": [row for row in log if not row["is_open"]],
        "open_at_psi": [row["reference"] for row in log if row["open_at_psi"]],
    }


def _production(milestone: Milestone) -> dict | None:
    production = getattr(milestone, "production", None)
    if production is None:
        return None
    po = milestone.po
    expected = _expected_share(po, production.counted_on)
    return {
        "counted_on": day_text(production.counted_on),
        "ordered": po.quantity,
        "unit": po.unit,
        "reported_produced": production.reported_produced,
        "produced": production.produced,
        "finished": production.finished,
        "packed": production.packed,
        "produced_pct": _pct(production.produced, po.quantity),
        "packed_pct": _pct(production.packed, po.quantity),
        "expected_pct": expected,
        "materials_on_site": production.materials_on_site,
        "packaging_on_site": production.packaging_on_site,
        "projected_completion": day_text(production.projected_completion),
        "ex_factory": day_text(po.ex_factory_date),
        "late": bool(
            production.projected_completion and production.projected_completion > po.ex_factory_date
        ),
        "observations": production.observations,
        "flags": production.flags,
    }


def _expected_share(po, on: date) -> float | None:
    """Where production should be on `on` if it ran evenly from its start to ex-factory."""
    if po.production_start is None or po.ex_factory_date <= po.production_start:
        return None
    span = (po.ex_factory_date - po.production_start).days
    elapsed = min(max((on - po.production_start).days, 0), span)
    return round(100 * elapsed / span, 1)


def _photo_index(milestone: Milestone, tz: ZoneInfo) -> list[dict]:
    """Every ready photo of the milestone, numbered in the order they were taken in."""
    attachments = (
        milestone.photos.filter(status=AttachmentStatus.READY)
        .select_related("photo", "defect", "field_rendition")
        .order_by("uploaded_at", "id")
    )
    index = []
    for number, attachment in enumerate(attachments, start=1):
        photo = attachment.photo
        index.append(
            {
                "n": number,
                "attachment": attachment.pk,
                "sha256": photo.sha256,
                "rendition": photo.rendition,
                "thumbnail": photo.thumbnail,
                "caption": attachment.caption or attachment.original_name,
                "finding": attachment.finding,
                "defect": attachment.defect_id,
                "item_code": attachment.item_code,
                "loading_step": attachment.loading_step,
                "taken_at": _local(photo.taken_at, tz) if photo.taken_at else "",
                "gps": _gps(photo),
                "flags": [flag["message"] for flag in attachment.flags],
                "justification": attachment.justification,
                "reviewed": attachment.reviewed_at is not None,
                "awaiting_original": attachment.awaiting_original,
            }
        )
    return index


def _gps(photo) -> str:
    if photo.latitude is None or photo.longitude is None:
        return ""
    return f"{photo.latitude:.5f}, {photo.longitude:.5f}"


def _integrity(photos: list[dict]) -> dict:
    flagged = [p for p in photos if p["flags"]]
    return {
        "photos": len(photos),
        "flagged": [
            {
                "n": p["n"],
                "caption": p["caption"],
                "flags": p["flags"],
                "justification": p["justification"],
            }
            for p in flagged
        ],
        "unjustified": sum(1 for p in flagged if not p["justification"]),
    }


def _photos_of(photos: list[dict], **match) -> list[dict]:
    return [p for p in photos if all(p[key] == value for key, value in match.items())]


def _defects(milestone: Milestone, photos: list[dict]) -> list[dict]:
    order = {name: i for i, name in enumerate(CLASSES)}
    defects = sorted(
        milestone.defects.select_related("code", "po_line__product"),
        key=lambda d: (order[d.defect_class], -d.quantity, d.pk),
    )
    return [
        {
            "defect_class": d.defect_class,
            "code": d.code.code if d.code else "",
            "description": d.description,
            "quantity": d.quantity,
            "sku": d.po_line.product.sku if d.po_line else "",
            "carton": d.carton,
            "unit_ref": d.unit_ref,
            "systematic": d.systematic,
            "from_measurements": d.from_measurements,
            "photos": _photos_of(photos, defect=d.pk),
        }
        for d in defects
    ]


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _measurements(milestone: Milestone) -> list[dict]:
    """One table per chart: sample units down, points of measure across."""
    tables = {}
    for reading in milestone.readings.select_related("chart__product"):
        chart = reading.chart
        table = tables.setdefault(chart.pk, _chart_table(chart))
        row = table["rows"].setdefault(reading.sample_unit, {})
        row[reading.point_code] = {
            "value": _number(reading.value),
            "ok": reading.in_tolerance,
        }
        table["out"] += 0 if reading.in_tolerance else 1
    result = []
    for table in tables.values():
        codes = [p["code"] for p in table["points"]]
        table["rows"] = [
            {"unit": unit, "cells": [cells.get(code) for code in codes]}
            for unit, cells in sorted(table["rows"].items())
        ]
        result.append(table)
    return result


def _chart_table(chart) -> dict:
    points = [
        {
            "code": p["code"],
            "name": p["name"],
            "spec": f"{p['spec']} -{p['minus']}/+{p['plus']} {p['unit']}",
        }
        for p in chart.points
    ]
    return {
        "chart": f"{chart.product.sku} {chart.size} v{chart.version}",
        "points": points,
        "rows": {},
        "out": 0,
    }


def _checklist(milestone: Milestone, photos: list[dict]) -> list[dict]:
    notes = {a.item_code: a.note for a in milestone.answers.all()}
    sections = {}
    for outcome in replace_checks(check_outcomes(milestone), lab_outcomes(milestone)):
        sections.setdefault(outcome.section, []).append(
            {
                "code": outcome.code,
                "text": outcome.text,
                "mandatory": outcome.mandatory,
                "result": outcome.result or "",
                "lab_test": outcome.lab_test,
                "note": notes.get(outcome.code, ""),
                "photos": _photos_of(photos, item_code=outcome.code),
            }
        )
    return [{"section": name, "items": items} for name, items in sections.items()]


def _packaging(milestone: Milestone) -> list[dict]:
    return [
        {
            "carton": c.carton_number,
            "dimensions": (
                f"{_number(c.length_cm)} x {_number(c.width_cm)} x {_number(c.height_cm)} cm"
                if c.length_cm and c.width_cm and c.height_cm
                else ""
            ),
            "gross_weight": f"{_number(c.gross_weight_kg)} kg" if c.gross_weight_kg else "",
            "marks": c.marks,
            "barcode": c.barcode,
            "country_of_origin": c.country_of_origin,
            "languages": c.languages,
            "problems": c.problems,
        }
        for c in milestone.carton_checks.all()
    ]


def _loading(milestone: Milestone, photos: list[dict]) -> dict | None:
    record = getattr(milestone, "loading", None)
    if record is None:
        return None
    expected = packing_list(milestone.po)
    loaded = {}
    for row in milestone.loaded.select_related("po_line__product"):
        key = f"{row.po_line.product.sku} {row.po_line.variant}".strip()
        loaded[key] = loaded.get(key, 0) + row.cartons
    lines = [
        {"line": key, "expected": expected.get(key), "loaded": loaded.get(key, 0)}
        for key in sorted(expected.keys() | loaded.keys())
    ]
    return {
        "container": record.container_number,
        "seal": record.seal_number,
        "pattern": record.load_pattern,
        "lines": lines,
        "photos": [p for p in photos if p["finding"] == "loading"],
    }


def _sample_draw(milestone: Milestone) -> dict | None:
    draw = milestone.sample_draw
    if not draw:
        return None
    return {
        "seed": draw.get("seed"),
        "algorithm": draw.get("algorithm_description", ""),
        "carton_count": draw.get("carton_count"),
        "units": draw.get("units_to_draw"),
        "draws": draw.get("draws", []),
    }
