"""Lab-test pages: the section of the milestone page, the form to record or change a lab
test (the QC lead and the coordinators), its removal, and the certificate PDF, served only
through the tenancy gate."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from qcloop.core.files import signed_url
from qcloop.core.tenancy import for_user, get_for_user

from . import lab_rules, lab_tests
from .models import LabResult, LabTest, Milestone
from .services import stream_category

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
OTHER_STANDARD = "other"


class LabTestForm(forms.Form):
    lab = forms.ChoiceField(choices=list(lab_rules.LABS.items()))
    lab_name = forms.CharField(label="Lab name (other lab)", required=False, max_length=200)
    accreditation_number = forms.CharField(
        label="Accreditation number (other lab)", required=False, max_length=80
    )
    standard = forms.ChoiceField()
    standard_other = forms.CharField(
        label="Standard (if not listed)",
        required=False,
        max_length=120,
        help_text="Typed in by hand: kept with a warning on the report.",
    )
    safety = forms.BooleanField(
        label="It is a safety standard",
        required=False,
        help_text="For a standard not listed: a failure is then critical, not major.",
    )
    replaces = forms.MultipleChoiceField(
        label="Checklist items it replaces",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sample_units = forms.IntegerField(label="Sample units", min_value=1)
    sample_drawn = forms.CharField(
        label="How the sample was drawn",
        max_length=300,
        help_text="e.g. 3 first-off units drawn at random by the inspector, sealed and signed",
    )
    sample_id = forms.CharField(label="Sample id", max_length=80)
    sent_on = forms.DateField(label="Sent to the lab", widget=DATE)
    reported_on = forms.DateField(label="Reported", required=False, widget=DATE)
    report_number = forms.CharField(label="Lab report number", required=False, max_length=80)
    result = forms.ChoiceField(choices=LabResult.choices)
    measured = forms.CharField(
        label="Measured values (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line: 'Luminous flux: 812 lm'.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    certificate = forms.FileField(
        label="Certificate (PDF)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
        help_text="Required for a pass or a fail.",
    )

    def __init__(self, *args, milestone: Milestone, **kwargs):
        super().__init__(*args, **kwargs)
        category = stream_category(milestone.po)
        self.fields["standard"].choices = [
            (s.code, f"{s.code} · {s.title}") for s in lab_rules.standards_for(category)
        ] + [(OTHER_STANDARD, "Another standard (type it in)")]
        items = milestone.checklist.items if milestone.checklist else []
        self.fields["replaces"].choices = [
            (item["code"], f"{item['code']} · {item['text']}") for item in items
        ]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        other = data.pop("standard_other", "")
        data.pop("certificate", None)
        if data["standard"] == OTHER_STANDARD:
            data["standard"] = other
        return data


def _initial(test: LabTest) -> dict:
    listed = test.standard in lab_rules.STANDARDS
    return {
        **{name: getattr(test, name) for name in lab_tests.FIELDS},
        "standard": test.standard if listed else OTHER_STANDARD,
        "standard_other": "" if listed else test.standard,
        "measured": lab_rules.measured_text(test.measured),
    }


def milestone_section(user, milestone: Milestone) -> dict:
    """What the milestone page shows of lab tests, to whoever the gate lets see them."""
    return {
        "lab_tests": for_user(LabTest, user).filter(milestone=milestone),
        "may_add_lab_test": lab_tests.may_manage(user, milestone)
        and lab_tests.is_open(user, milestone),
    }


def _require_manager(user, milestone: Milestone) -> None:
    if not lab_tests.may_manage(user, milestone):
        raise PermissionDenied(
            "Only the PO's QC lead and the agency's coordinators record lab tests."
        )


@login_required
def lab_test_new(request, pk: int):
    milestone = get_for_user(Milestone, request.user, pk=pk)
    _require_manager(request.user, milestone)
    return _form_page(request, milestone, None)


@login_required
def lab_test_edit(request, pk: int):
    test = get_for_user(LabTest, request.user, pk=pk)
    _require_manager(request.user, test.milestone)
    return _form_page(request, test.milestone, test)


def _form_page(request, milestone: Milestone, test: LabTest | None):
    if request.method != "POST":
        initial = _initial(test) if test else {"sample_units": 3}
        form = LabTestForm(initial=initial, milestone=milestone)
        return _render_form(request, milestone, test, form)
    form = LabTestForm(request.POST, request.FILES, milestone=milestone)
    if form.is_valid():
        upload = form.cleaned_data.get("certificate")
        certificate = (upload.name, upload.read()) if upload else None
        try:
            saved = lab_tests.record_lab_test(
                by=request.user,
                milestone=milestone,
                data=form.service_data(),
                certificate=certificate,
                lab_test=test,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Lab test {saved.name} recorded.")
            for warning in saved.warnings:
                messages.warning(request, warning)
            return redirect("inspections:milestone_detail", pk=milestone.pk)
    return _render_form(request, milestone, test, form, status=422)


def _add_errors(form: LabTestForm, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        if field == "standard" and form.cleaned_data.get("standard") == OTHER_STANDARD:
            field = "standard_other"
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


def _render_form(request, milestone, test, form, status=200):
    return render(
        request,
        "inspections/lab_form.html",
        {"milestone": milestone, "po": milestone.po, "test": test, "form": form},
        status=status,
    )


@login_required
@require_POST
def lab_test_delete(request, pk: int):
    test = get_for_user(LabTest, request.user, pk=pk)
    milestone = test.milestone
    try:
        lab_tests.remove_lab_test(by=request.user, lab_test=test)
    except ValidationError as error:
        for problem in error.messages:
            messages.error(request, problem)
    else:
        messages.success(request, f"Lab test {test.name} removed.")
    return redirect("inspections:milestone_detail", pk=milestone.pk)


@login_required
@require_GET
def lab_certificate(request, pk: int):
    """The certificate PDF, only to those the gate lets see the lab test."""
    test = get_for_user(LabTest, request.user, pk=pk, certificate__gt="")
    return certificate_response(test)


def certificate_response(test: LabTest):
    """The PDF of a lab test the caller's gate has already let through."""
    if url := signed_url(test.certificate, filename=test.certificate_name or "certificate.pdf"):
        return redirect(url)
    response = FileResponse(
        default_storage.open(test.certificate, "rb"),
        content_type="application/pdf",
        as_attachment=False,
        filename=test.certificate_name or "certificate.pdf",
    )
    response["Cache-Control"] = "private, max-age=86400"
    response["ETag"] = f'"{test.certificate_sha256[:32]}"'
    return response
