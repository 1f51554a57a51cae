"""State changes for milestones: planning, booking, assignment and the status workflow."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from qcloop.accounts.models import Role, User
from qcloop.orders.models import POStatus, PurchaseOrder

from . import revisions
from .models import MILESTONE_ORDER, Milestone, MilestoneKind, SwitchingStream
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
    milestone = (
        Milestone.objects.select_for_update(of=("self",)).select_related("po").get(pk=milestone.pk)
    )
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
    milestone = (
        Milestone.objects.select_for_update(of=("self",)).select_related("po").get(pk=milestone.pk)
    )
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
        from .recording import pin_checklist

        pin_checklist(milestone)
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
    revisions.stamp(milestone, revisions.STATUS, by)
    if to == S.PUBLISHED:
        from qcloop.reports.services import milestone_published

        milestone_published(milestone, by)
    if to == S.PUBLISHED and milestone.kind == MilestoneKind.PSI and milestone.result_detail:
        # A published PSI is a judged lot of the supplier's stream: it moves the switching.
        found = {name: c["found"] for name, c in milestone.result_detail["per_class"].items()}
        record_lot_results(milestone=milestone, defects=found)
    if to == S.BOOKED and milestone.inspection_date >= timezone.localdate():
        from .tasks import notify_inspector_booked

        transaction.on_commit(lambda: notify_inspector_booked.enqueue(milestone.pk))
    return milestone


# --- sampling: the plan a milestone inspects with ------------------------------------------

SAMPLED_KINDS = {MilestoneKind.DUPRO, MilestoneKind.PSI}


def sampling_defaults(milestone: Milestone) -> dict:
    """The client's sampling terms (per agency and buyer), or the glossary's defaults."""
    from qcloop.accounts.models import Engagement

    engagement = Engagement.objects.filter(
        agency_id=milestone.po.agency_id, buyer_id=milestone.po.buyer_id
    ).first()
    if engagement is None:
        return {
            "aqls": {"critical": "0", "major": "2.5", "minor": "4.0"},
            "level": "II",
            "method": "industry",
        }
    return {
        "aqls": engagement.aqls,
        "level": engagement.inspection_level,
        "method": engagement.sampling_method,
    }


def may_plan_sampling(user: User, milestone: Milestone) -> bool:
    return is_agency_planner(user, milestone.po) or milestone.inspector_id == user.pk


@transaction.atomic
def plan_sampling(
    *,
    by: User,
    milestone: Milestone,
    lot_size: int | None = None,
    aqls: dict[str, str] | None = None,
    level: str | None = None,
    severity: str | None = None,
    method: str | None = None,
    seed: str | None = None,
) -> Milestone:
    """Choose the milestone's ISO 2859-1 plan for every defect class and draw the cartons and
    units to open, from a recorded seed. Once the inspection has started the draw is fixed:
    changing it then would let anyone pick convenient cartons."""
    from qcloop import sampling

    milestone = (
        Milestone.objects.select_for_update(of=("self",)).select_related("po").get(pk=milestone.pk)
    )
    if not may_plan_sampling(by, milestone):
        raise PermissionDenied("Only the agency's planners and the inspector plan the sampling.")
    if milestone.status not in {S.PLANNED, S.BOOKED}:
        state = milestone.get_status_display().lower()
        raise ValidationError({"status": f"The sample of a {state} milestone is fixed."})
    defaults = sampling_defaults(milestone)
    lot_size = milestone.po.quantity if lot_size is None else lot_size
    aqls = aqls or defaults["aqls"]
    terms = {
        "aqls": aqls,
        "level": level or defaults["level"],
        # Unless told otherwise, the switching rules decide: the supplier's history.
        "severity": severity or next_severity(milestone, list(aqls))[0],
        "method": method or defaults["method"],
    }
    _check_sampling_terms(lot_size, terms)
    multi = sampling.multi_class_plan(lot_size, **terms)
    draw = sampling.draw_sample(
        carton_count=milestone.po.carton_count,
        units_to_draw=min(multi.n, lot_size),
        seed=seed,
    )
    milestone.lot_size = lot_size
    milestone.sampling = {**terms, "plan": multi.to_dict()}
    milestone.sample_draw = draw.to_dict()
    milestone.sampling_planned_at = timezone.now()
    milestone.save()
    return milestone


def _check_sampling_terms(lot_size, terms: dict) -> None:
    """Each sampling input checked on its own, so that an error names its field."""
    from qcloop.sampling import METHODS, tables

    checks = [
        ("lot_size", tables.check_lot_size, lot_size),
        ("level", tables.parse_level, terms["level"]),
        ("severity", tables.parse_severity, terms["severity"]),
    ]
    checks += [
        (f"aqls.{name}", lambda v: tables.parse_aql(v, allow_zero=True), aql)
        for name, aql in (terms["aqls"] or {}).items()
    ]
    errors = {}
    for field, check, value in checks:
        try:
            check(value)
        except (ValueError, TypeError) as error:
            errors[field] = str(error)
    if terms["method"] not in METHODS:
        errors["method"] = f"Unknown method {terms['method']!r}: use {' or '.join(METHODS)}."
    if not terms["aqls"]:
        errors["aqls"] = "Give at least one defect class with its AQL."
    if errors:
        raise ValidationError(errors)


# --- switching: normal, tightened, reduced, discontinued -----------------------------------

# From most to least lenient; one sample serves every class, so the strictest state applies.
STRICTNESS = ["reduced", "normal", "tightened"]


def stream_category(po: PurchaseOrder) -> str:
    """The product stream a PO's lot belongs to: the category of its largest line."""
    line = po.lines.select_related("product").order_by("-quantity", "id").first()
    return line.product.category if line else ""


def switching_streams(po: PurchaseOrder, classes: list[str]) -> dict[str, SwitchingStream]:
    from qcloop.sampling import SwitchingState

    category = stream_category(po)
    return {
        name: SwitchingStream.objects.get_or_create(
            supplier_id=po.supplier_id,
            category=category,
            defect_class=name,
            defaults={"state": SwitchingState.start().to_dict()},
        )[0]
        for name in classes
    }


def next_severity(milestone: Milestone, classes: list[str]) -> tuple[str, dict[str, str]]:
    """The severity for the milestone's sample and, per class, why."""
    from qcloop.sampling import SwitchingState

    states = {
        name: SwitchingState.from_dict(stream.state)
        for name, stream in switching_streams(milestone.po, classes).items()
    }
    stopped = {name: s for name, s in states.items() if s.severity == "discontinued"}
    if stopped:
        name, state = next(iter(stopped.items()))
        raise ValidationError(
            {
                "severity": f"Acceptance inspection of {milestone.po.supplier} is discontinued for "
                f"{name} defects ({state.explanation}); it resumes on tightened "
                f"inspection once the supplier's corrective action is accepted."
            }
        )
    severity = max((s.severity for s in states.values()), key=STRICTNESS.index, default="normal")
    return severity, {name: state.explanation for name, state in states.items()}


@transaction.atomic
def record_lot_results(
    *,
    milestone: Milestone,
    defects: dict[str, int],
    production_steady: bool = True,
    other_conditions: str = "",
) -> dict[str, SwitchingStream]:
    """Feed a judged lot (the defects found per class in the milestone's sample) into the
    supplier's switching streams: the next lot's severity follows from it."""
    from qcloop.sampling import LotResult, advance

    if not milestone.sampling:
        raise ValidationError({"sampling": "The milestone has no sampling plan to judge with."})
    plans = {c["defect_class"]: _class_plan(c) for c in milestone.sampling["plan"]["classes"]}
    missing = set(plans) - set(defects)
    if missing:
        raise ValidationError({"defects": f"Give the count for {', '.join(sorted(missing))}."})
    streams = switching_streams(milestone.po, list(plans))
    for name, stream in streams.items():
        lot = LotResult.from_inspection(
            f"PO {milestone.po.number} {milestone.label}",
            plans[name],
            defects[name],
            production_steady=production_steady,
            reduced_approved=stream.reduced_approved,
            other_conditions=other_conditions,
        )
        stream.state = advance(_state(stream), lot).to_dict()
        stream.save()
    return streams


def _state(stream: SwitchingStream):
    from qcloop.sampling import SwitchingState

    return SwitchingState.from_dict(stream.state) if stream.state else SwitchingState.start()


def _class_plan(data: dict):
    from qcloop.sampling import ClassPlan, plan_from_dict

    standard = plan_from_dict(data["standard_plan"]) if data["standard_plan"] else None
    return ClassPlan(**{**data, "standard_plan": standard})


def _require_stream_authority(user: User, stream: SwitchingStream) -> None:
    from qcloop.accounts.selectors import is_agency_staff
    from qcloop.core.tenancy import for_user
    from qcloop.orders.models import Supplier

    visible = for_user(Supplier, user).filter(pk=stream.supplier_id).exists()
    if not (visible and is_agency_staff(user)):
        raise PermissionDenied("Only the agency's QC leads and coordinators decide on switching.")


@transaction.atomic
def approve_reduced_inspection(*, by: User, stream: SwitchingStream, approved: bool):
    """The responsible authority's consent (or its withdrawal) to reduced inspection."""
    _require_stream_authority(by, stream)
    stream.reduced_approved = approved
    stream.save(update_fields=["reduced_approved", "updated_at"])
    return stream


@transaction.atomic
def resume_inspection(*, by: User, stream: SwitchingStream, note: str) -> SwitchingStream:
    """After the supplier's corrective action: a discontinued stream resumes on tightened."""
    from qcloop.sampling import resume

    _require_stream_authority(by, stream)
    if not note.strip():
        raise ValidationError({"note": "Say which corrective action allows inspection again."})
    try:
        stream.state = resume(_state(stream), note.strip()).to_dict()
    except ValueError as error:
        raise ValidationError({"state": str(error)}) from None
    stream.save()
    return stream
