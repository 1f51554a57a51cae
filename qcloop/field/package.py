"""What a phone downloads before the visit: everything an inspector needs to record a
milestone with no signal, and what is already recorded. Reads go through the tenancy gate."""

from django.db.models import Q
from django.utils import timezone

from qcloop.core.tenancy import for_user
from qcloop.inspections.inspect_api import inspection
from qcloop.inspections.models import (
    MILESTONE_ORDER,
    DefectClassOverride,
    DefectCode,
    MeasurementChart,
    Milestone,
    MilestoneStatus,
    PhotoAttachment,
)
from qcloop.inspections.services import stream_category

# Milestones a phone may download: those about to be, or being, inspected.
FIELD_STATUSES = [MilestoneStatus.BOOKED, MilestoneStatus.IN_PROGRESS, MilestoneStatus.SUBMITTED]


def my_milestones(user):
    """The milestones the user inspects (or leads) that are booked, in progress or submitted."""
    return (
        for_user(Milestone, user)
        .filter(Q(inspector=user) | Q(po__qc_lead=user), status__in=FIELD_STATUSES)
        .select_related("po__supplier", "po__factory")
        .order_by("inspection_date", "pk")
    )


def milestone_package(user, milestone: Milestone) -> dict:
    po = milestone.po
    state = field_state(milestone)
    return {
        "revision": milestone.revision,
        "downloaded_at": timezone.now(),
        "milestone": {
            "id": milestone.pk,
            "kind": milestone.kind,
            "label": milestone.label,
            "status": milestone.status,
            "inspection_date": milestone.inspection_date,
            "lot_size": milestone.lot_size,
            "sampling": milestone.sampling,
            "sample_draw": milestone.sample_draw,
        },
        "po": _po(po),
        "checklist": milestone.checklist
        and {"version": milestone.checklist.number, "items": milestone.checklist.items},
        "charts": _charts(user, po),
        "defect_codes": _defect_codes(user, po),
        "previous": _previous(milestone),
        "capas": state["capas"],
        "state": state,
    }


def _capas_to_verify(milestone: Milestone) -> list[dict]:
    """The PO's CAPAs opened at earlier milestones and not closed, which the inspector checks,
    and those already verified here (closed by it, perhaps), with what was found."""
    from qcloop.capa.services import capas_to_verify

    # Every sync answers with this: the answers come prefetched, not one query per CAPA.
    verifications = milestone.capa_verifications.select_related("capa__milestone").prefetch_related(
        "capa__answers"
    )
    verified_here = {v.capa_id: v for v in verifications}
    capas = {capa.pk: capa for capa in capas_to_verify(milestone)}
    for verification in verified_here.values():
        capas.setdefault(verification.capa_id, verification.capa)
    rows = []
    for capa in sorted(capas.values(), key=lambda c: c.number):
        answers = list(capa.answers.all())  # oldest first (CapaAnswer.Meta.ordering)
        answer = answers[-1] if answers else None
        here = verified_here.get(capa.pk)
        rows.append(
            {
                "id": capa.pk,
                "reference": capa.reference,
                "title": capa.title,
                "severity": capa.severity,
                "opened_at": capa.milestone.label,
                "status": capa.status,
                "finding": capa.finding,
                "answer": answer
                and {
                    "root_cause": answer.root_cause,
                    "correction": answer.correction,
                    "prevention": answer.prevention,
                },
                "verified_here": here
                and {"effective": here.effective, "note": here.note, "uuid": str(here.uuid)},
            }
        )
    return rows


def field_state(milestone: Milestone) -> dict:
    """What is recorded at the milestone, as the phone shows it."""
    state = inspection(milestone)
    state["revision"] = milestone.revision
    state["photos"] = [_photo(attachment) for attachment in _photos(milestone)]
    state["capas"] = _capas_to_verify(milestone)  # a verification synced may have closed one
    return state


def _po(po) -> dict:
    factory = po.factory
    return {
        "id": po.pk,
        "number": po.number,
        "buyer": po.buyer.name,
        "supplier": po.supplier.name,
        "factory": {
            "name": factory.name,
            "address": factory.address,
            "city": factory.city,
            "latitude": factory.latitude,
            "longitude": factory.longitude,
            "timezone": factory.timezone,
        },
        "quantity": po.quantity,
        "unit": po.unit,
        "carton_count": po.carton_count,
        "ship_date": po.ship_date,
        "destination_market": po.destination_market,
        "lines": [
            {
                "id": line.pk,
                "sku": line.product.sku,
                "name": line.product.name,
                "variant": line.variant,
                "quantity": line.quantity,
            }
            for line in po.lines.select_related("product")
        ],
    }


def _charts(user, po) -> list[dict]:
    products = po.lines.values("product_id")
    charts = for_user(MeasurementChart, user).filter(product_id__in=products)
    return [
        {
            "id": chart.pk,
            "product": chart.product_id,
            "sku": chart.product.sku,
            "size": chart.size,
            "version": chart.version,
            "points": chart.points,
            "defect_class": chart.defect_class,
        }
        for chart in charts.select_related("product")
    ]


def _defect_codes(user, po) -> list[dict]:
    """The library for the PO's product stream, each code in the buyer's class."""
    codes = for_user(DefectCode, user).filter(category__in=[stream_category(po), "general"])
    overrides = dict(
        DefectClassOverride.objects.filter(buyer_id=po.buyer_id).values_list(
            "code_id", "defect_class"
        )
    )
    return [
        {
            "id": code.pk,
            "code": code.code,
            "category": code.category,
            "group": code.group,
            "subgroup": code.subgroup,
            "name": code.name,
            "defect_class": overrides.get(code.pk, code.default_class),
        }
        for code in codes
    ]


def _previous(milestone: Milestone) -> list[dict]:
    """The PO's earlier milestones that were inspected, with what they found."""
    earlier = MILESTONE_ORDER[: MILESTONE_ORDER.index(milestone.kind)]
    previous = (
        Milestone.objects.filter(
            po=milestone.po,
            kind__in=earlier,
            status__in=[MilestoneStatus.SUBMITTED, MilestoneStatus.PUBLISHED],
        )
        .prefetch_related("defects")
        .order_by("inspection_date", "pk")
    )
    return [
        {
            "id": m.pk,
            "label": m.label,
            "kind": m.kind,
            "status": m.status,
            "result": m.result,
            "inspection_date": m.inspection_date,
            "defects": [
                {
                    "description": d.description,
                    "defect_class": d.defect_class,
                    "quantity": d.quantity,
                    "systematic": d.systematic,
                }
                for d in m.defects.all()
            ],
        }
        for m in previous
    ]


def _photos(milestone: Milestone):
    return PhotoAttachment.objects.filter(milestone=milestone).select_related("photo", "defect")


def _photo(attachment: PhotoAttachment) -> dict:
    from qcloop.inspections.inspect_api import photo_file_url

    return {
        "uuid": attachment.uuid,
        "status": attachment.status,
        "error": attachment.error,
        "caption": attachment.caption,
        "finding": attachment.finding,
        "defect": attachment.defect.uuid if attachment.defect else None,
        "item_code": attachment.item_code,
        "loading_step": attachment.loading_step,
        "sha256": attachment.photo.sha256 if attachment.photo else None,
        "awaiting_original": attachment.awaiting_original,
        "flags": attachment.flags,
        "thumbnail_url": photo_file_url(attachment, "thumbnail"),
    }
