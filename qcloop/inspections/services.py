"""State changes for milestones: planning, booking, assignment and the status workflow."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from qcloop.accounts.models import Role, User
from qcloop.orders.models import POStatus, PurchaseOrder

from .models import MILESTONE_ORDER, Milestone, MilestoneKind
from .models import MilestoneStatus as S
from .planning import default_windows

# Which status may follow which. A published milestone is final: a correction is a new report
# version, not a change of status.
TRANSITIONS = {
    S.PLANNED: {S.BOOKED, S.CANCELLED},
    S.BOOKED: {S.PLANNED, S.IN_PROGRESS, S.CANCELLED},
    S.IN_PROGRESS: {S.SUBMITTED, S.CANCELLED},
    S.SUBMITTED: {S.IN_PROGRESS, S.PUBLISHED},
    S.PUBLISHED: set(),
    S.CANCELLED: {S.PLANNED},
}


def is_agency_planner(user: User, po: PurchaseOrder) -> bool:
    """Coordinators and admins of the PO's agency, and the PO's QC lead."""
    membership = user.membership
    if membership is None or membership.organisation_id != po.agency_id:
        return False
    return membership.role in {Role.COORDINATOR, Role.ADMIN} or po.qc_lead_id == user.pk


def may_transition(user: User, milestone: Milestone, to: str) -> bool:
    po = milestone.po
    is_lead = po.qc_lead_id == user.pk
    is_inspector = milestone.inspector_id == user.pk
    if to in {S.IN_PROGRESS} and milestone.status == S.BOOKED:
        return is_inspector or is_lead
    if to == S.SUBMITTED:
        return is_inspector or is_lead
    if milestone.status == S.SUBMITTED:  # send back or publish: the QC lead's review
        return is_lead
    return is_agency_planner(user, po)


def plan_milestones(po: PurchaseOrder, kinds: list[str] | None = None) -> list[Milestone]:
    """Create the PO's milestones with default windows from its dates."""
    kinds = kinds if kinds is not None else [k.value for k in MILESTONE_ORDER]
    unknown = [k for k in kinds if k not in MilestoneKind.values]
    if unknown:
        raise ValidationError(
            {"milestones": f"Unknown milestone {unknown[0]!r}: use IPC, DUPRO, PSI or CLI."}
        )
    windows = default_windows(po.production_start, po.ex_factory_date, po.ship_date)
    return [
        Milestone.objects.create(
            po=po, kind=k, window_start=windows[k][0], window_end=windows[k][1]
        )
        for k in MILESTONE_ORDER
        if k in kinds
    ]


def _check_inspector(milestone: Milestone, inspector: User | None) -> None:
    if inspector is None:
        return
    membership = inspector.membership
    if (
        membership is None
        or membership.organisation_id != milestone.po.agency_id
        or membership.role not in {Role.INSPECTOR, Role.QC_LEAD}
    ):
        raise ValidationError(
            {"inspector": f"{inspector} is not an inspector of the agency monitoring this PO."}
        )


def _check_window(start: date | None, end: date | None) -> None:
    if start is None or end is None:
        raise ValidationError({"window_start": "Enter the planned window."})
    if end < start:
        raise ValidationError({"window_end": "The window cannot end before it starts."})


@transaction.atomic
def add_milestone(
    *, by: User, po: PurchaseOrder, kind: str, window_start: date, window_end: date
) -> Milestone:
    """An extra milestone, e.g. a re-inspection after a failed PSI (the next sequence)."""
    if not is_agency_planner(by, po):
        raise PermissionDenied("Only the agency's coordinators and the QC lead plan milestones.")
    if kind not in MilestoneKind.values:
        raise ValidationError({"kind": f"Unknown milestone {kind!r}: use IPC, DUPRO, PSI or CLI."})
    _check_window(window_start, window_end)
    last = po.milestones.filter(kind=kind).aggregate(n=Max("sequence"))["n"] or 0
    return Milestone.objects.create(
        po=po, kind=kind, sequence=last + 1, window_start=window_start, window_end=window_end
    )


PLANNING_FIELDS = {"window_start", "window_end", "inspection_date", "inspector"}


@transaction.atomic
def update_milestone(*, by: User, milestone: Milestone, changes: dict) -> Milestone:
    """Re-plan a milestone: its window, inspection date or inspector; and, through `status`,
    move it along its workflow."""
    milestone = Milestone.objects.select_for_update().select_related("po").get(pk=milestone.pk)
    status = changes.pop("status", None)
    unknown = set(changes) - PLANNING_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if changes:
        if not is_agency_planner(by, milestone.po):
            raise PermissionDenied(
                "Only the agency's coordinators and the QC lead plan milestones."
            )
        if milestone.status in {S.SUBMITTED, S.PUBLISHED, S.CANCELLED}:
            state = milestone.get_status_display().lower()
            raise ValidationError({"status": f"A {state} milestone is not re-planned."})
        for name, value in changes.items():
            setattr(milestone, name, value)
        _check_window(milestone.window_start, milestone.window_end)
        _check_inspector(milestone, milestone.inspector)
        milestone.save()
    if status is not None and status != milestone.status:
        milestone = transition_milestone(by=by, milestone=milestone, to=status)
    return milestone


@transaction.atomic
def transition_milestone(*, by: User, milestone: Milestone, to: str) -> Milestone:
    """Move a milestone along planned -> booked -> in progress -> submitted -> published."""
    milestone = Milestone.objects.select_for_update().select_related("po").get(pk=milestone.pk)
    if to not in S.values:
        raise ValidationError(
            {"status": f"Unknown status {to!r}: use one of {', '.join(S.values)}."}
        )
    if to not in TRANSITIONS[S(milestone.status)]:
        allowed = ", ".join(sorted(TRANSITIONS[S(milestone.status)])) or "none"
        raise ValidationError(
            {"status": f"A {milestone.status} milestone cannot become {to} (allowed: {allowed})."}
        )
    if not may_transition(by, milestone, to):
        raise PermissionDenied(f"You cannot move this milestone to {to}.")
    if to in {S.BOOKED, S.IN_PROGRESS} and milestone.po.status != POStatus.OPEN:
        state = milestone.po.get_status_display().lower()
        raise ValidationError(
            {"status": f"PO {milestone.po.number} is {state}: it is not inspected."}
        )
    if to == S.BOOKED:
        if milestone.inspection_date is None or milestone.inspector_id is None:
            raise ValidationError(
                {"inspection_date": "Set the inspection date and the inspector before booking."}
            )
        _check_inspector(milestone, milestone.inspector)
    now = timezone.now()
    stamp = {
        S.IN_PROGRESS: "started_at",
        S.SUBMITTED: "submitted_at",
        S.PUBLISHED: "published_at",
        S.CANCELLED: "cancelled_at",
    }.get(to)
    if stamp and not (to == S.IN_PROGRESS and milestone.started_at):
        setattr(milestone, stamp, now)
    milestone.status = to
    milestone.save()
    if to == S.BOOKED and milestone.inspection_date >= timezone.localdate():
        from .tasks import notify_inspector_booked

        transaction.on_commit(lambda: notify_inspector_booked.enqueue(milestone.pk))
    return milestone
