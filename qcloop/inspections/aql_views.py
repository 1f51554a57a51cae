"""The AQL calculator: the ISO 2859-1 plan for a lot and what it protects against."""

from django import forms
from django.shortcuts import render

from qcloop.sampling import AQLS, LEVELS, SCHEMES, SEVERITIES, plan

from .protection import protection


class PlanForm(forms.Form):
    lot = forms.IntegerField(label="Lot size (units)", min_value=2, max_value=10_000_000)
    aql = forms.ChoiceField(label="AQL", choices=[(a, a) for a in AQLS], initial="2.5")
    level = forms.ChoiceField(
        label="Inspection level", choices=[(v, v) for v in LEVELS], initial="II"
    )
    severity = forms.ChoiceField(choices=[(v, v) for v in SEVERITIES], initial="normal")
    scheme = forms.ChoiceField(choices=[(v, v) for v in SCHEMES], initial="single")


def aql_calculator(request):
    """Open to everyone: it shows no one's data, and buyers share links to it."""
    form = PlanForm(request.GET or None, initial={"lot": 3200})
    result = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            found = plan(data["lot"], data["aql"], data["level"], data["severity"], data["scheme"])
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            result = protection(found)
    chart = None
    if result:
        chart = {
            "points": [{"x": round(p * 100, 4), "y": round(pa, 6)} for p, pa in result.curve],
            "aql": result.plan.aql_percent,
            "lq10": result.lq10 * 100 if result.lq10 is not None else None,
            "unit": result.unit,
        }
    return render(request, "inspections/aql.html", {"form": form, "result": result, "chart": chart})
