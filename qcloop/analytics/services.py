"""The analytics' derived data, rewritten when a milestone report is published or corrected.

`record_published` runs inside the transaction that publishes the milestone (see
`qcloop.reports.services.milestone_published`), before the report's content is frozen, so
that the report states the trend as of its own milestone."""

from django.db.models import Sum

from qcloop.inspections.models import Milestone
from qcloop.inspections.services import stream_category

from .flags import TrendReport, refresh_flags
from .models import MilestoneTally

CLASSES = ("critical", "major", "minor")


def record_published(milestone: Milestone) -> TrendReport:
    """The milestone's tally, from its records as published, then the PO's trend flags as of
    its latest published milestone (see `flags`): the trend report they were written from."""
    record_tally(milestone)
    return refresh_flags(milestone)


def sampled_units(milestone: Milestone) -> int:
    """Units inspected for defects: the largest sample of the plan's classes (0: not sampled)."""
    if not milestone.sampling:
        return 0
    return max((c["n"] for c in milestone.sampling["plan"]["classes"]), default=0)


def defect_tally(milestone: Milestone) -> tuple[dict[str, int], dict[str, dict]]:
    """Defects found per class, and per defect code ({code: {"class", "found", "name"}}).
    A defect without a code is counted under its description, lower-cased, so that the same
    uncoded defect at two milestones forms one series."""
    per_class = {name: 0 for name in CLASSES}
    per_code: dict[str, dict] = {}
    rows = (
        milestone.defects.values("defect_class", "code__code", "code__name", "description")
        .annotate(found=Sum("quantity"))
        .order_by()
    )
    for row in rows:
        per_class[row["defect_class"]] += row["found"]
        key = row["code__code"] or row["description"].strip().lower()[:200]
        entry = per_code.setdefault(
            key,
            {
                "class": row["defect_class"],
                "found": 0,
                "name": row["code__name"] or row["description"].strip()[:200],
            },
        )
        entry["found"] += row["found"]
    return per_class, per_code


def record_tally(milestone: Milestone) -> MilestoneTally:
    po = milestone.po
    per_class, per_code = defect_tally(milestone)
    tally, _ = MilestoneTally.objects.update_or_create(
        milestone=milestone,
        defaults={
            "buyer_id": po.buyer_id,
            "po": po,
            "supplier_id": po.supplier_id,
            "factory_id": po.factory_id,
            "category": stream_category(po),
            "market": po.destination_market,
            "kind": milestone.kind,
            "sequence": milestone.sequence,
            "inspected_on": milestone.inspection_date or milestone.window_end,
            "published_at": milestone.published_at or milestone.submitted_at or po.created_at,
            "result": milestone.result,
            "sampled_units": sampled_units(milestone),
            "codes": per_code,
            **per_class,
        },
    )
    return tally
