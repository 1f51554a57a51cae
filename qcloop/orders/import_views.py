"""Pages for importing POs from a spreadsheet (upload -> mapping -> preview -> import) and
for exporting the PO list back to XLSX. The file waits between the steps in storage under a
token of the user's own (see `import_services`); the mapping and the options travel with each
form, so every step reads the file afresh and nothing half-done is kept anywhere."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from . import import_services, importing, selectors
from .import_services import XLSX, ImportRefused, UploadGone
from .importing import FIELDS, ImportFileError, Options
from .services import buyers_managed_by

PREVIEW_POS = 50  # POs shown in the preview table; the counts and every error cover them all
SAMPLE_ROWS = 5


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        help_text=(
            f"Excel (.xlsx) or CSV, up to {importing.MAX_BYTES // 1024 // 1024} MB and "
            f"{importing.MAX_ROWS:,} rows: one row per PO line, the PO's columns repeated or "
            "left blank on its later rows."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
    )
    buyer = forms.ModelChoiceField(queryset=None, help_text="The buyer whose POs these are.")

    def __init__(self, *args, buyers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["buyer"].queryset = buyers
        self.only_buyer = buyers.first() if buyers.count() == 1 else None
        if self.only_buyer:
            self.fields["buyer"].required = False
            self.fields["buyer"].widget = forms.HiddenInput()

    def clean_buyer(self):
        return self.cleaned_data.get("buyer") or self.only_buyer

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > importing.MAX_BYTES:
            raise ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{importing.MAX_BYTES // 1024 // 1024} MB. Split it into several files."
            )
        return upload


def _importing_buyers(user):
    buyers = buyers_managed_by(user).order_by("name")
    if not buyers.exists():
        raise PermissionDenied("Only buyer managers and agency coordinators or QC leads enter POs.")
    return buyers


@login_required
def po_import(request):
    buyers = _importing_buyers(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, buyers=buyers)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            token = import_services.store_upload(
                user=request.user,
                data=upload.read(),
                filename=upload.name,
                buyer=form.cleaned_data["buyer"],
            )
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            return redirect("orders:po_import_mapping", token=token)
    return render(request, "orders/import_upload.html", {"form": form})


def _upload(request, token: str):
    try:
        upload = import_services.open_upload(user=request.user, token=token)
        return upload, upload.table()
    except (UploadGone, ImportFileError):
        raise Http404("This upload is gone: it was imported, or it is older than a day.") from None


def _guessed(table) -> tuple[dict[str, int], Options]:
    mapping = importing.guess_mapping(table.headers)
    date_columns = [mapping[f.key] for f in FIELDS if f.kind == "date" and f.key in mapping]
    values = [cells[i] for _, cells in table.rows[:500] for i in date_columns if i < len(cells)]
    day_first = importing.guess_day_first(values)
    return mapping, Options(day_first=True if day_first is None else day_first)


def _posted(post, table) -> tuple[dict[str, int], Options]:
    """The mapping and options a step's form carries."""
    mapping = {}
    for f in FIELDS:
        value = post.get(f"map_{f.key}", "")
        if value.isdigit():
            mapping[f.key] = int(value)
    decimal_comma = {"1": True, "0": False}.get(post.get("decimal_comma", ""))
    return mapping, Options(
        day_first=post.get("day_first", "1") == "1", decimal_comma=decimal_comma
    )


def _mapping_page(request, upload, table, mapping, options, problems=()):
    context = {
        "upload": upload,
        "table": table,
        "columns": [(i, table.column_name(i)) for i in range(len(table.headers))],
        "fields": [(f, mapping.get(f.key)) for f in FIELDS],
        "options": options,
        "sample": [
            (number, (list(cells) + [None] * len(table.headers))[: len(table.headers)])
            for number, cells in table.rows[:SAMPLE_ROWS]
        ],
        "problems": problems,
    }
    return render(request, "orders/import_mapping.html", context)


@login_required
def po_import_mapping(request, token: str):
    """GET: the guessed mapping; POST (back from the preview): the mapping chosen so far."""
    upload, table = _upload(request, token)
    chosen = _posted(request.POST, table) if request.method == "POST" else _guessed(table)
    return _mapping_page(request, upload, table, *chosen)


def _plan(request, upload, table):
    mapping, options = _posted(request.POST, table)
    try:
        plan = import_services.validate(
            user=request.user, buyer=upload.buyer, table=table, mapping=mapping, options=options
        )
    except ValidationError as error:
        return None, _mapping_page(request, upload, table, mapping, options, error.messages)
    return plan, (mapping, options)


def _preview_page(request, upload, plan, chosen, refused=None):
    mapping, options = chosen
    return render(
        request,
        "orders/import_preview.html",
        {
            "upload": upload,
            "plan": plan,
            "issues": refused if refused is not None else plan.issues,
            "refused": refused is not None,
            "shown": plan.candidates[:PREVIEW_POS],
            "hidden": [(f"map_{key}", index) for key, index in mapping.items()],
            "options": options,
        },
    )


@login_required
@require_POST
def po_import_preview(request, token: str):
    upload, table = _upload(request, token)
    plan, chosen = _plan(request, upload, table)
    if plan is None:
        return chosen  # the mapping page again, with what is wrong with the mapping
    return _preview_page(request, upload, plan, chosen)


@login_required
@require_POST
def po_import_confirm(request, token: str):
    upload, table = _upload(request, token)
    plan, chosen = _plan(request, upload, table)
    if plan is None:
        return chosen
    skip = request.POST.get("skip_invalid") == "1"
    try:
        result = import_services.import_plan(by=request.user, plan=plan, skip_invalid=skip)
    except ImportRefused as refused:
        return _preview_page(request, upload, plan, chosen, refused.issues)
    if result.rejected_xlsx:
        import_services.keep_rejected(user=request.user, token=token, data=result.rejected_xlsx)
    import_services.discard_upload(user=request.user, token=token, keep_rejected=True)
    messages.success(
        request,
        _count(len(result.created), "PO")
        + " imported"
        + (f"; {_count(len(plan.rejected_rows), 'row')} skipped." if result.skipped else "."),
    )
    return render(
        request,
        "orders/import_done.html",
        {"upload": upload, "plan": plan, "result": result, "token": token},
    )


@login_required
@require_GET
def po_import_rejected(request, token: str):
    try:
        data = import_services.rejected_file(user=request.user, token=token)
    except UploadGone:
        raise Http404("The rejected rows of this import are gone (they are kept a day).") from None
    return _xlsx(data, "rejected-rows.xlsx")


@login_required
@require_GET
def po_export(request):
    """The PO list with its current filters, in the column shape the importer reads."""
    filters = selectors.POFilters.from_query(request.GET)
    orders = selectors.filtered_purchase_orders(request.user, filters)
    day = timezone.localdate()
    return _xlsx(import_services.export_xlsx(orders), f"purchase-orders-{day}.xlsx")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
