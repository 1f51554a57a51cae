"""The inspection workspace: what the inspector records, section by section, then submits.

Every form posts to its own small view that calls one service. On success it returns to the
workspace at that section; on a refusal it shows the workspace again with the message next to
the field (422), and nothing was saved. Plain forms: it works on any phone browser."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qcloop.core.tenancy import for_user, get_for_user
from qcloop.orders.models import POLine

from . import recording
from .models import (
    CheckResult,
    Defect,
    DefectClass,
    DefectCode,
    MeasurementChart,
    Milestone,
    MilestoneKind,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DefectForm(forms.Form):
    code = forms.ModelChoiceField(queryset=DefectCode.objects.none(), required=False)
    description = forms.CharField(required=False, max_length=500)
    defect_class = forms.ChoiceField(
        label="Class", choices=[("", "from the code"), *DefectClass.choices], required=False
    )
    quantity = forms.IntegerField(initial=1)
    po_line = forms.ModelChoiceField(label="SKU", queryset=POLine.objects.none(), required=False)
    carton = forms.IntegerField(required=False)
    unit_ref = forms.CharField(label="Unit", required=False, max_length=40)
    systematic = forms.BooleanField(label="Looks systematic", required=False)

    def __init__(self, *args, milestone: Milestone, user, **kwargs):
        super().__init__(*args, **kwargs)
        categories = {"general", *milestone.po.lines.values_list("product__category", flat=True)}
        self.fields["code"].queryset = for_user(DefectCode, user).filter(category__in=categories)
        self.fields["po_line"].queryset = milestone.po.lines.select_related("product")


class ReadingForm(forms.Form):
    chart = forms.ModelChoiceField(queryset=MeasurementChart.objects.none())
    sample_unit = forms.IntegerField(label="Sampled unit no.", min_value=1)
    point_code = forms.CharField(label="Point of measure", max_length=20)
    value = forms.CharField(max_length=20)
    unit = forms.CharField(max_length=8)

    def __init__(self, *args, milestone: Milestone, user, **kwargs):
        super().__init__(*args, **kwargs)
        products = milestone.po.lines.values("product")
        self.fields["chart"].queryset = for_user(MeasurementChart, user).filter(
            product__in=products
        )


class ProductionForm(forms.Form):
    counted_on = forms.DateField(widget=DATE)
    reported_produced = forms.IntegerField(label="Reported by the factory", required=False)
    produced = forms.IntegerField(label="Produced (counted)")
    finished = forms.IntegerField(label="Finished (counted)", initial=0)
    packed = forms.IntegerField(label="Packed (counted)", initial=0)
    materials_on_site = forms.BooleanField(label="All materials on site", required=False)
    packaging_on_site = forms.BooleanField(label="Packaging materials on site", required=False)
    observations = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class CartonForm(forms.Form):
    carton_number = forms.IntegerField(label="Carton no.")
    length_cm = forms.DecimalField(label="Length (cm)", required=False)
    width_cm = forms.DecimalField(label="Width (cm)", required=False)
    height_cm = forms.DecimalField(label="Height (cm)", required=False)
    gross_weight_kg = forms.DecimalField(label="Gross weight (kg)", required=False)
    order_number = forms.CharField(label="Mark: order number", required=False)
    destination = forms.CharField(label="Mark: destination", required=False)
    carton_of = forms.CharField(label="Mark: carton n of N", required=False)
    barcode = forms.CharField(label="Barcode (GTIN)", required=False, max_length=20)
    country_of_origin = forms.CharField(label="Country of origin", required=False, max_length=2)
    languages = forms.CharField(
        label="Label languages", required=False, help_text="Codes as printed: en, fr, de"
    )

    def clean_languages(self) -> list[str]:
        return [c for c in self.cleaned_data["languages"].replace(";", ",").split(",") if c]


class LoadingForm(forms.Form):
    container_number = forms.CharField(max_length=20)
    seal_number = forms.CharField(max_length=40)
    load_pattern = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, milestone: Milestone, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(milestone.po.lines.select_related("product"))
        for line in self.lines:
            label = f"Cartons loaded: {line.product.sku} {line.variant}".strip()
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=label, required=False, min_value=0
            )

    def loaded(self) -> dict[int, int]:
        data = self.cleaned_data
        return {
            line.pk: data[f"line_{line.pk}"]
            for line in self.lines
            if data.get(f"line_{line.pk}") is not None
        }


def _milestone(request, pk: int) -> Milestone:
    milestone = get_for_user(Milestone, request.user, pk=pk)
    if not recording.may_record(request.user, milestone):
        raise PermissionDenied("Only the assigned inspector and the PO's QC lead inspect.")
    return milestone


def _forms(request, milestone: Milestone, bound: dict | None = None) -> dict:
    kwargs = {"milestone": milestone, "user": request.user}
    production = getattr(milestone, "production", None)
    loading = getattr(milestone, "loading", None)
    forms_ = {
        "defect_form": DefectForm(**kwargs),
        "reading_form": ReadingForm(**kwargs),
        "production_form": ProductionForm(initial=_production_initial(production)),
        "carton_form": CartonForm(
            initial={
                "order_number": milestone.po.number,
                "destination": milestone.po.destination_market,
            }
        ),
        "loading_form": LoadingForm(milestone=milestone, initial=_loading_initial(loading)),
    }
    forms_.update(bound or {})
    return forms_


def _production_initial(production) -> dict:
    if production is None:
        return {"materials_on_site": True, "packaging_on_site": True}
    fields = [
        "counted_on",
        "reported_produced",
        "produced",
        "finished",
        "packed",
        "materials_on_site",
        "packaging_on_site",
        "observations",
    ]
    return {name: getattr(production, name) for name in fields}


def _loading_initial(loading) -> dict:
    if loading is None:
        return {}
    return {
        "container_number": loading.container_number,
        "seal_number": loading.seal_number,
        "load_pattern": loading.load_pattern,
    }


def _checklist(milestone: Milestone) -> list[dict]:
    """The checklist's sections with their items and the answers so far."""
    from .defaults import SECTIONS

    if milestone.checklist is None:
        return []
    answers = {a.item_code: a for a in milestone.answers.all()}
    sections = []
    for key, title in SECTIONS:
        items = [
            {**item, "answer_kind": item["answer"], "answer": answers.get(item["code"])}
            for item in milestone.checklist.items
            if item["section"] == key
        ]
        if items:
            sections.append({"key": key, "title": title, "items": items})
    return sections


def _workspace(request, milestone: Milestone, bound=None, status=200, errors=None):
    result, observations = recording.assess(milestone)
    context = {
        "milestone": milestone,
        "po": milestone.po,
        "sections": _checklist(milestone),
        "check_results": CheckResult.choices,
        "defects": milestone.defects.select_related("code", "po_line__product"),
        "readings": milestone.readings.select_related("chart"),
        "carton_checks": milestone.carton_checks.all(),
        "production": getattr(milestone, "production", None),
        "loading": getattr(milestone, "loading", None),
        "is_cli": milestone.kind == MilestoneKind.CLI,
        "result": result,
        "observations": observations,
        "missing": recording.missing_for_submission(milestone),
        "submit_errors": errors or [],
        **_forms(request, milestone, bound),
    }
    return render(request, "inspections/inspect.html", context, status=status)


@login_required
def inspect(request, pk: int):
    milestone = _milestone(request, pk)
    if not recording.is_open_for_recording(request.user, milestone):
        messages.info(request, f"The {milestone.label} is not in progress: nothing to record.")
        return redirect("inspections:milestone_detail", pk=pk)
    return _workspace(request, milestone)


def _back(milestone: Milestone, anchor: str):
    return redirect(reverse("inspections:inspect", args=[milestone.pk]) + f"#{anchor}")


def _refused(request, milestone, error: ValidationError, form=None, form_name=None):
    """Show the workspace again with each message beside its field."""
    leftovers = []
    for field, problems in error.message_dict.items():
        for problem in problems:
            if form is not None and field in form.fields:
                form.add_error(field, problem)
            else:
                leftovers.append(problem)
    bound = {form_name: form} if form is not None else None
    return _workspace(request, milestone, bound=bound, status=422, errors=leftovers)


@login_required
@require_POST
def record_answer(request, pk: int):
    """The whole checklist in one post: one round trip however many items were answered."""
    milestone = _milestone(request, pk)
    codes = request.POST.getlist("item_code")
    answers = [
        {
            "item_code": code,
            "result": request.POST.get(f"result-{code}", ""),
            "value": request.POST.get(f"value-{code}", ""),
            "note": request.POST.get(f"note-{code}", ""),
        }
        for code in codes
        if any(request.POST.get(f"{f}-{code}") for f in ("result", "value", "note"))
    ]
    try:
        saved = recording.answer_checks(by=request.user, milestone=milestone, answers=answers)
    except ValidationError as error:
        return _refused(request, milestone, error)
    messages.success(request, f"Checklist saved ({saved} answers).")
    return _back(milestone, "checklist")


def _post(request, pk: int, form_name: str, anchor: str, make_form, save):
    """Bind the section's form, save it through its service, and go back to the section;
    or show the workspace again with the problems beside the fields (422)."""
    milestone = _milestone(request, pk)
    form = make_form(request.POST, milestone)
    if not form.is_valid():
        return _refused(request, milestone, ValidationError({}), form, form_name)
    try:
        save(milestone, form.cleaned_data, form)
    except ValidationError as error:
        return _refused(request, milestone, error, form, form_name)
    return _back(milestone, anchor)


@login_required
@require_POST
def record_defect(request, pk: int):
    def save(milestone, data, form):
        recording.record_defect(
            by=request.user,
            milestone=milestone,
            quantity=data["quantity"],
            code=data["code"],
            description=data["description"],
            defect_class=data["defect_class"] or None,
            po_line=data["po_line"],
            carton=data["carton"],
            unit_ref=data["unit_ref"],
            systematic=data["systematic"],
        )

    def make(post, milestone):
        return DefectForm(post, milestone=milestone, user=request.user)

    return _post(request, pk, "defect_form", "defects", make, save)


@login_required
@require_POST
def remove_defect(request, pk: int, defect_pk: int):
    milestone = _milestone(request, pk)
    defect = get_for_user(Defect, request.user, pk=defect_pk, milestone=milestone)
    try:
        recording.remove_defect(by=request.user, defect=defect)
    except ValidationError as error:
        return _refused(request, milestone, error)
    return _back(milestone, "defects")


@login_required
@require_POST
def record_reading(request, pk: int):
    def save(milestone, data, form):
        recording.record_reading(
            by=request.user,
            milestone=milestone,
            chart=data["chart"],
            sample_unit=data["sample_unit"],
            point_code=data["point_code"].strip(),
            value=data["value"],
            unit=data["unit"].strip(),
        )

    def make(post, milestone):
        return ReadingForm(post, milestone=milestone, user=request.user)

    return _post(request, pk, "reading_form", "measurements", make, save)


@login_required
@require_POST
def record_production(request, pk: int):
    def save(milestone, data, form):
        recording.record_production(by=request.user, milestone=milestone, **data)

    return _post(
        request,
        pk,
        "production_form",
        "production",
        lambda post, milestone: ProductionForm(post),
        save,
    )


@login_required
@require_POST
def record_carton(request, pk: int):
    def save(milestone, data, form):
        data = dict(data)
        marks = {key: data.pop(key) for key in ("order_number", "destination", "carton_of")}
        recording.record_carton_check(
            by=request.user,
            milestone=milestone,
            marks={k: v for k, v in marks.items() if v},
            **data,
        )

    return _post(
        request, pk, "carton_form", "packaging", lambda post, milestone: CartonForm(post), save
    )


@login_required
@require_POST
def record_loading(request, pk: int):
    def save(milestone, data, form):
        recording.record_loading(
            by=request.user,
            milestone=milestone,
            container_number=data["container_number"],
            seal_number=data["seal_number"],
            load_pattern=data["load_pattern"],
            loaded=form.loaded(),
        )

    return _post(
        request,
        pk,
        "loading_form",
        "loading",
        lambda post, milestone: LoadingForm(post, milestone=milestone),
        save,
    )


@login_required
@require_POST
def submit(request, pk: int):
    milestone = _milestone(request, pk)
    try:
        milestone = recording.submit_inspection(by=request.user, milestone=milestone)
    except ValidationError as error:
        if milestone.status != "in_progress":
            messages.error(request, " ".join(error.messages))
            return redirect("inspections:milestone_detail", pk=pk)
        return _refused(request, milestone, error)
    messages.success(
        request, f"{milestone.label} submitted to the QC lead: {milestone.get_result_display()}."
    )
    return redirect("inspections:milestone_detail", pk=pk)
