"""The milestone page: where it stands, and the next step for whoever may take it."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qcloop.accounts.models import Role, User
from qcloop.core.tenancy import for_user, get_for_user

from .models import Milestone
from .services import TRANSITIONS, is_agency_planner, may_transition, transition_milestone
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
    plan_form = None
    if is_agency_planner(request.user, milestone.po):
        plan_form = PlanForm(
            user=request.user,
            initial={
                "window_start": milestone.window_start,
                "window_end": milestone.window_end,
                "inspection_date": milestone.inspection_date,
                "inspector": milestone.inspector,
            },
        )
    return _render(request, milestone, plan_form)


def _render(request, milestone, plan_form, status=200):
    return render(
        request,
        "inspections/milestone_detail.html",
        {
            "milestone": milestone,
            "po": milestone.po,
            "plan_form": plan_form,
            "actions": _actions(request.user, milestone),
        },
        status=status,
    )


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
