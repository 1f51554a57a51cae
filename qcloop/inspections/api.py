"""API routes for milestones: the inspections of a PO, their planning and their workflow.

Reads go through the milestone gate (an inspector sees only the milestones assigned to them);
writes only through `qcloop.inspections.services`. A PATCH re-plans the window, date and
inspector and, through `status`, moves the milestone along its workflow."""

from datetime import date, datetime

from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from qcloop.accounts.api import PayloadIds, errors
from qcloop.accounts.models import User
from qcloop.core.tenancy import for_user
from qcloop.orders.models import PurchaseOrder

from . import services
from .models import Milestone, MilestoneKind, MilestoneStatus


class MilestoneOut(Schema):
    id: int
    po: int
    po_number: str
    kind: str
    sequence: int
    label: str
    status: str
    window_start: date
    window_end: date
    inspection_date: date | None
    inspector: int | None
    inspector_name: str | None
    started_at: datetime | None
    submitted_at: datetime | None
    published_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime
    lot_size: int | None = Field(None, description="Units in the lot the sample is drawn from.")
    sampling: dict | None = Field(
        None, description="The ISO 2859-1 terms and the resolved plan of every defect class."
    )
    sample_draw: dict | None = Field(
        None, description="Cartons and units to open, with the seed and algorithm to re-derive."
    )

    @staticmethod
    def resolve_po(milestone):
        return milestone.po_id

    @staticmethod
    def resolve_po_number(milestone):
        return milestone.po.number

    @staticmethod
    def resolve_inspector(milestone):
        return milestone.inspector_id

    @staticmethod
    def resolve_inspector_name(milestone):
        return milestone.inspector.full_name if milestone.inspector else None


class MilestoneIn(Schema):
    """A milestone beyond the planned four, e.g. a re-inspection after a failed PSI."""

    model_config = ConfigDict(extra="forbid")
    po: int
    kind: MilestoneKind
    window_start: date
    window_end: date


class MilestonePatch(Schema):
    model_config = ConfigDict(extra="forbid")
    window_start: date = None
    window_end: date = None
    inspection_date: date | None = None
    inspector: int | None = None
    status: MilestoneStatus = Field(
        None, description="A move along the workflow, e.g. planned -> booked -> in_progress."
    )


class SamplingIn(Schema):
    """The ISO 2859-1 terms; whatever is left out comes from the client's terms."""

    model_config = ConfigDict(extra="forbid")
    lot_size: int | None = None
    aqls: dict[str, str] | None = Field(
        None, description='AQL per defect class, e.g. {"critical": "0", "major": "2.5"}'
    )
    level: str | None = None
    severity: str | None = Field(None, description="Default: from the switching rules.")
    method: str | None = Field(None, description="industry or strict")
    seed: str | None = Field(None, description="Re-use a seed to re-derive a draw.")


# A calendar's question: what happens in these days? The inspection date once set, else the
# planned window, must fall in (or overlap) the range.
CALENDAR_RANGE = "The inspection date, or else the planned window, falls in this range."


class MilestoneFilters(FilterSchema):
    po: int | None = None
    kind: MilestoneKind | None = None
    status: MilestoneStatus | None = None
    inspector: int | None = None
    date_from: date | None = Field(None, description=CALENDAR_RANGE)
    date_to: date | None = Field(None, description=CALENDAR_RANGE)

    def filter_po(self, value: int | None) -> Q:
        return Q(po_id=value)

    def filter_inspector(self, value: int | None) -> Q:
        return Q(inspector_id=value)

    def filter_date_from(self, value: date | None) -> Q:
        if value is None:
            return Q()
        return Q(inspection_date__gte=value) | Q(
            inspection_date__isnull=True, window_end__gte=value
        )

    def filter_date_to(self, value: date | None) -> Q:
        if value is None:
            return Q()
        return Q(inspection_date__lte=value) | Q(
            inspection_date__isnull=True, window_start__lte=value
        )


router = Router(tags=["milestones"])


def _milestones(user):
    return for_user(Milestone, user).select_related("po", "inspector")


@router.get("/milestones", response={200: list[MilestoneOut], **errors(401, 422)})
@paginate
def list_milestones(request, filters: Query[MilestoneFilters]):
    return filters.filter(_milestones(request.user))


@router.get("/milestones/{int:milestone_id}", response={200: MilestoneOut, **errors(401, 404)})
def get_milestone(request, milestone_id: int):
    return get_object_or_404(_milestones(request.user), pk=milestone_id)


@router.post("/milestones", response={201: MilestoneOut, **errors(401, 403, 422)})
def add_milestone(request, payload: MilestoneIn):
    ids = PayloadIds(request.user)
    po = ids.pick(PurchaseOrder, payload.po, "po")
    ids.check()
    milestone = services.add_milestone(
        by=request.user,
        po=po,
        kind=payload.kind.value,
        window_start=payload.window_start,
        window_end=payload.window_end,
    )
    return Status(201, _milestones(request.user).get(pk=milestone.pk))


@router.patch(
    "/milestones/{int:milestone_id}", response={200: MilestoneOut, **errors(401, 403, 404, 422)}
)
def patch_milestone(request, milestone_id: int, payload: MilestonePatch):
    milestone = get_object_or_404(_milestones(request.user), pk=milestone_id)
    changes = payload.model_dump(exclude_unset=True)
    if "inspector" in changes:
        ids = PayloadIds(request.user)
        changes["inspector"] = ids.pick(User, changes["inspector"], "inspector")
        ids.check()
    if "status" in changes:
        changes["status"] = changes["status"].value
    services.update_milestone(by=request.user, milestone=milestone, changes=changes)
    return get_object_or_404(_milestones(request.user), pk=milestone.pk)


@router.post(
    "/milestones/{int:milestone_id}/sampling",
    response={200: MilestoneOut, **errors(401, 403, 404, 422)},
)
def plan_sampling(request, milestone_id: int, payload: SamplingIn):
    """Choose the sampling plan and draw the cartons to open (before the inspection starts)."""
    milestone = get_object_or_404(_milestones(request.user), pk=milestone_id)
    services.plan_sampling(by=request.user, milestone=milestone, **payload.model_dump())
    return get_object_or_404(_milestones(request.user), pk=milestone.pk)
