"""The milestone page: where it stands, and the next step for whoever may take it."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qcloop.accounts.models import Role, User
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.sampling import AQLS, LEVELS, SEVERITIES, plan_from_dict

from .lab_views import milestone_section
from .models import Milestone
from .protection import protection
from .recording import may_record
from .services import (
    SAMPLED_KINDS,
    TRANSITIONS,
    is_agency_planner,
    may_plan_sampling,
    may_transition,
    plan_sampling,
    sampling_defaults,
    transition_milestone,
)
from .services import update_milestone as update_milestone_service

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ACTION_LABELS = {
    "booked": "Book",
    "planned": "Back to planned",
    "in_progress": "Start inspection",
    "submitted": "Submit for review",
    "published": "Approve and publish",
    "cancelled": "Cancel milestone",
}


class PlanForm(forms.Form):
    window_start = forms.DateField(widget=DATE)
    window_end = forms.DateField(widget=DATE)
    inspection_date = forms.DateField(required=False, widget=DATE)
    inspector = forms.ModelChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspector"].queryset = for_user(User, user).filter(
            membership_record__role__in=[Role.INSPECTOR, Role.QC_LEAD],
            membership_record__organisation=user.membership.organisation,
        )


AQL_CHOICES = [("", "not inspected"), ("0", "0 (nothing accepted)")] + [(a, a) for a in AQLS]


class SamplingForm(forms.Form):
    lot_size = forms.IntegerField(label="Lot size (units)")
    level = forms.ChoiceField(label="Inspection level", choices=[(v, v) for v in LEVELS])
    severity = forms.ChoiceField(choices=[(v, v) for v in SEVERITIES])
    method = forms.ChoiceField(choices=[("industry", "industry practice"), ("strict", "strict")])
    aql_critical = forms.ChoiceField(label="Critical AQL", choices=AQL_CHOICES, required=False)
    aql_major = forms.ChoiceField(label="Major AQL", choices=AQL_CHOICES, required=False)
    aql_minor = forms.ChoiceField(label="Minor AQL", choices=AQL_CHOICES, required=False)

    def aqls(self) -> dict[str, str]:
        data = self.cleaned_data
        classes = ("critical", "major", "minor")
        return {name: data[f"aql_{name}"] for name in classes if data[f"aql_{name}"] != ""}


def _sampling_form(milestone: Milestone, data=None) -> SamplingForm:
    current = milestone.sampling or sampling_defaults(milestone)
    aqls = current["aqls"]
    initial = {
        "lot_size": milestone.lot_size or milestone.po.quantity,
        "level": current["level"],
        "severity": current.get("severity", "normal"),
        "method": current["method"],
        **{f"aql_{name}": aqls.get(name, "") for name in ("critical", "major", "minor")},
    }
    return SamplingForm(data, initial=initial)


def _sampling_view(milestone: Milestone) -> dict | None:
    """The stored plan, with what its major-defect plan protects against."""
    if not milestone.sampling:
        return None
    plan = milestone.sampling["plan"]
    explained = None
    for class_plan in plan["classes"]:
        if class_plan["defect_class"] == "major" and class_plan["standard_plan"]:
            explained = protection(plan_from_dict(class_plan["standard_plan"])).sentences()
    return {
        "terms": milestone.sampling,
        "plan": plan,
        "draw": milestone.sample_draw,
        "explained": explained,
    }


def _actions(user, milestone: Milestone) -> list[tuple[str, str]]:
    if milestone.status == "submitted" and user.pk == milestone.po.qc_lead_id:
        order = ["published", "in_progress"]
    else:
        order = ["booked", "in_progress", "submitted", "published", "planned", "cancelled"]
    allowed = TRANSITIONS[milestone.status]
    return [
        (
            to,
            "Send back for changes"
            if milestone.status == "submitted" and to == "in_progress"
            else ACTION_LABELS[to],
        )
        for to in order
        if to in allowed and may_transition(user, milestone, to)
    ]


@login_required
def milestone_detail(request, pk: int):
    milestone = get_for_user(Milestone, request.user, pk=pk)
    return _render(request, milestone, _plan_form(request.user, milestone))


def _plan_form(user, milestone: Milestone) -> PlanForm | None:
    if not is_agency_planner(user, milestone.po):
        return None
    return PlanForm(
        user=user,
        initial={
            "window_start": milestone.window_start,
            "window_end": milestone.window_end,
            "inspection_date": milestone.inspection_date,
            "inspector": milestone.inspector,
        },
    )


def _findings(user, milestone: Milestone) -> dict | None:
    """What was recorded: for the agency while it is inspected and reviewed, for the buyer and
    the supplier once the QC lead has published it."""
    membership = user.membership
    published = milestone.status == "published"
    agency_side = membership is not None and membership.organisation_id == milestone.po.agency_id
    if not (published or (agency_side and milestone.status in {"in_progress", "submitted"})):
        return None
    answers = {a.item_code: a for a in milestone.answers.all()}
    failed = [
        {**item, "note": answers[item["code"]].note}
        for item in (milestone.checklist.items if milestone.checklist else [])
        if item["code"] in answers and answers[item["code"]].result == "fail"
    ]
    return {
        "defects": milestone.defects.select_related("code", "po_line__product"),
        "failed_checks": failed,
        "answered": sum(1 for a in answers.values() if a.result),
        "production": getattr(milestone, "production", None),
        "cartons": milestone.carton_checks.all(),
        "loading": getattr(milestone, "loading", None),
        "readings_out": milestone.readings.filter(in_tolerance=False).count(),
    }


def _switching(user, milestone: Milestone) -> list[dict]:
    from qcloop.inspections.selectors import switching_overview
    from qcloop.inspections.services import stream_category

    category = stream_category(milestone.po)
    rows = switching_overview(user, milestone.po.supplier)
    return [row for row in rows if row["stream"].category == category]


def _report(user, milestone: Milestone):
    from qcloop.reports.models import Report

    return for_user(Report, user).filter(milestone=milestone).first()


def _render(request, milestone, plan_form, status=200, sampling_form=None):
    can_sample = (
        milestone.kind in SAMPLED_KINDS
        and may_plan_sampling(request.user, milestone)
        and milestone.status in {"planned", "booked"}
    )
    if can_sample and sampling_form is None:
        sampling_form = _sampling_form(milestone)
    return render(
        request,
        "inspections/milestone_detail.html",
        {
            "milestone": milestone,
            "po": milestone.po,
            "plan_form": plan_form,
            "actions": _actions(request.user, milestone),
            "sampling": _sampling_view(milestone),
            "switching": _switching(request.user, milestone),
            "can_inspect": milestone.status == "in_progress"
            and may_record(request.user, milestone),
            "findings": _findings(request.user, milestone),
            "sampling_form": sampling_form if can_sample else None,
            "report": _report(request.user, milestone),
            **_capas(request.user, milestone),
            **milestone_section(request.user, milestone),
        },
        status=status,
    )


def _capas(user, milestone: Milestone) -> dict:
    """The CAPAs this milestone opened, those it is to verify, and whether the user may open
    one by hand."""
    from qcloop.capa import services as capa_services
    from qcloop.capa.models import CorrectiveAction

    visible = for_user(CorrectiveAction, user)
    to_verify = {capa.pk for capa in capa_services.capas_to_verify(milestone)}
    return {
        "capas_opened": visible.filter(milestone=milestone),
        "capas_to_verify": visible.filter(pk__in=to_verify).select_related("milestone", "po"),
        "may_open_capa": milestone.status in {"in_progress", "submitted", "published"}
        and capa_services.is_po_qc_staff(user, milestone.po),
    }


@login_required
@require_POST
def milestone_plan(request, pk: int):
    milestone = get_for_user(Milestone, request.user, pk=pk)
    if not is_agency_planner(request.user, milestone.po):
        raise PermissionDenied("Only the agency's coordinators and the QC lead plan milestones.")
    form = PlanForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            update_milestone_service(
                by=request.user, milestone=milestone, changes=form.cleaned_data
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, f"{milestone.label} re-planned.")
            return redirect("inspections:milestone_detail", pk=milestone.pk)
    return _render(request, milestone, form, status=422)


@login_required
@require_POST
def milestone_transition(request, pk: int):
    milestone = get_for_user(Milestone, request.user, pk=pk)
    to = request.POST.get("to", "")
    try:
        milestone = transition_milestone(by=request.user, milestone=milestone, to=to)
    except ValidationError as error:
        for problem in error.messages:
            messages.error(request, problem)
    else:
        messages.success(
            request, f"{milestone.label} is now {milestone.get_status_display().lower()}."
        )
    return redirect("inspections:milestone_detail", pk=milestone.pk)


@login_required
@require_POST
def milestone_sampling(request, pk: int):
    milestone = get_for_user(Milestone, request.user, pk=pk)
    if not may_plan_sampling(request.user, milestone):
        raise PermissionDenied("Only the agency's planners and the inspector plan the sampling.")
    form = _sampling_form(milestone, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            plan_sampling(
                by=request.user,
                milestone=milestone,
                lot_size=data["lot_size"],
                aqls=form.aqls(),
                level=data["level"],
                severity=data["severity"],
                method=data["method"],
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                name = "aql_" + field.split(".")[1] if field.startswith("aqls.") else field
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
        else:
            messages.success(request, f"{milestone.label}: sampling plan and cartons chosen.")
            return redirect("inspections:milestone_detail", pk=milestone.pk)
    plan_form = _plan_form(request.user, milestone)
    return _render(request, milestone, plan_form, status=422, sampling_form=form)
