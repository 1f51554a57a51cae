"""Photo pages: upload, galleries per milestone and per PO, the files themselves (through the
tenancy gate only), and the QC lead's review of flags."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from qcloop.core.files import signed_url
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.orders.models import PurchaseOrder

from . import imaging, photos
from .models import AttachmentStatus, Defect, MeasurementReading, Milestone, PhotoAttachment

FINDINGS = [
    ("defect", "Defects"),
    ("checklist", "Checklist items"),
    ("measurement", "Measurements"),
    ("loading", "Loading"),
    ("general", "General"),
]
FLAG_KINDS = [
    ("any", "Any flag"),
    ("reused", "Reused"),
    ("far_from_factory", "Far from factory"),
    ("outside_inspection_day", "Outside the inspection day"),
    ("edited", "Edited"),
    ("no_exif", "No EXIF"),
    ("absurd_exif", "Absurd EXIF"),
    ("rendition_mismatch", "Original differs from its rendition"),
    ("original_unreadable", "Original unreadable"),
    ("none", "No flag"),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class UploadForm(forms.Form):
    files = MultipleFileField(label="Photos")
    caption = forms.CharField(max_length=300, required=False)
    defect = forms.ModelChoiceField(queryset=Defect.objects.none(), required=False)
    item_code = forms.CharField(label="Checklist item", max_length=40, required=False)
    reading = forms.ModelChoiceField(
        label="Measurement", queryset=MeasurementReading.objects.none(), required=False
    )
    loading_step = forms.CharField(label="Loading step", max_length=60, required=False)

    def __init__(self, *args, milestone: Milestone, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["defect"].queryset = milestone.defects.all()
        self.fields["reading"].queryset = milestone.readings.all()


def _hard(flags: list[dict]) -> list[dict]:
    return [flag for flag in flags if flag["kind"] not in imaging.SOFT_FLAG_KINDS]


def _filtered(attachments, finding: str, flag: str):
    rows = [a for a in attachments if not finding or a.finding == finding]
    if flag == "any":
        return [a for a in rows if a.flags]
    if flag == "none":
        return [a for a in rows if not a.flags]
    if flag:
        return [a for a in rows if any(f["kind"] == flag for f in a.flags)]
    return rows


def _gallery(request, attachments, context: dict):
    finding, flag = request.GET.get("finding", ""), request.GET.get("flag", "")
    rows = _filtered(list(attachments), finding, flag)
    context.update(
        photos=rows,
        finding=finding,
        flag=flag,
        findings=FINDINGS,
        flag_kinds=FLAG_KINDS,
        flagged=sum(1 for a in attachments if _hard(a.flags) and not a.justification),
        soft_kinds=imaging.SOFT_FLAG_KINDS,
    )
    return render(request, "inspections/photos.html", context)


@login_required
def milestone_photos(request, pk: int):
    milestone = get_for_user(Milestone, request.user, pk=pk)
    attachments = for_user(PhotoAttachment, request.user).filter(milestone=milestone)
    can_upload = photos.recording.may_record(request.user, milestone) and milestone.status in {
        "in_progress",
        "submitted",
    }
    return _gallery(
        request,
        attachments.select_related("photo", "defect", "milestone"),
        {
            "milestone": milestone,
            "po": milestone.po,
            "upload_form": UploadForm(milestone=milestone) if can_upload else None,
            "can_review": milestone.po.qc_lead_id == request.user.pk,
        },
    )


@login_required
def po_photos(request, pk: int):
    # Imported here: reports build on inspections, not the other way round.
    from qcloop.reports.dossier import dossier_offer

    po = get_for_user(PurchaseOrder, request.user, pk=pk)
    attachments = for_user(PhotoAttachment, request.user).filter(milestone__po=po)
    return _gallery(
        request,
        attachments.select_related("photo", "defect", "milestone"),
        {
            "po": po,
            "milestone": None,
            "upload_form": None,
            "can_review": False,
            "dossier": dossier_offer(request.user, po),
        },
    )


@login_required
@require_POST
def upload(request, pk: int):
    milestone = get_for_user(Milestone, request.user, pk=pk)
    form = UploadForm(request.POST, request.FILES, milestone=milestone)
    if not form.is_valid():
        messages.error(request, "Choose one or more photos to upload.")
        return redirect("inspections:milestone_photos", pk=pk)
    data = form.cleaned_data
    added, refused = 0, []
    for upload_file in request.FILES.getlist("files"):
        try:
            photos.upload_photo(
                by=request.user,
                milestone=milestone,
                data=upload_file,
                name=upload_file.name,
                caption=data["caption"],
                defect=data["defect"],
                item_code=data["item_code"],
                reading=data["reading"],
                loading_step=data["loading_step"],
            )
            added += 1
        except ValidationError as error:
            refused.append(f"{upload_file.name}: {' '.join(error.messages)}")
    if added:
        messages.success(request, f"{added} photo(s) received; they are being processed.")
    for problem in refused:
        messages.error(request, problem)
    return redirect("inspections:milestone_photos", pk=pk)


@login_required
@require_GET
def photo_file(request, pk: int, kind: str):
    """A photo's thumbnail, rendition or original, only to those who may see the attachment."""
    attachment = get_for_user(PhotoAttachment, request.user, pk=pk, status=AttachmentStatus.READY)
    return serve_photo(request, attachment.photo, kind)


def serve_photo(request, photo, kind: str):
    """One file of a photo the caller's gate has already let through."""
    if kind not in {"thumbnail", "rendition", "original"}:
        raise Http404
    etag = f'"{photo.sha256[:32]}-{kind}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()
    name = getattr(photo, kind)
    if url := signed_url(name):
        return redirect(url)
    response = FileResponse(
        default_storage.open(name, "rb"), content_type="image/jpeg" if kind != "original" else None
    )
    # Private: the gate decided; a browser may keep it, no shared cache may.
    response["Cache-Control"] = "private, max-age=86400"
    response["ETag"] = etag
    return response


@login_required
@require_POST
def review(request, pk: int):
    attachment = get_for_user(PhotoAttachment, request.user, pk=pk)
    try:
        photos.review_flags(
            by=request.user,
            attachment=attachment,
            justification=request.POST.get("justification", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Review recorded.")
    return redirect(
        reverse("inspections:milestone_photos", args=[attachment.milestone_id])
        + f"#photo-{attachment.pk}"
    )
