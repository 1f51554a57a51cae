"""The agency's checklists: read them, and edit one (which makes a new version)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from qcloop.core.tenancy import for_user, get_for_user

from .defaults import SECTIONS
from .library import edit_checklist
from .models import ChecklistTemplate

FIELDS = "code | section | required or optional | fail or pending | check, number or text | text"


def items_to_text(items: list[dict]) -> str:
    return "\n".join(
        " | ".join(
            [
                item["code"],
                item["section"],
                "required" if item["mandatory"] else "optional",
                item["on_fail"],
                item.get("answer", "check"),
                item["text"],
            ]
        )
        for item in items
    )


def text_to_items(text: str) -> list[dict]:
    """One item per line, fields separated by |; a line that cannot be read is named."""
    items, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|", 5)]
        if len(parts) != 6:
            problems.append(f"Line {number}: give six fields ({FIELDS}).")
            continue
        code, section, required, on_fail, answer, what = parts
        if required not in {"required", "optional"}:
            problems.append(f"Line {number}: say required or optional, not {required!r}.")
        items.append(
            {
                "code": code,
                "section": section,
                "mandatory": required == "required",
                "on_fail": on_fail,
                "answer": answer,
                "text": what,
            }
        )
    if problems:
        raise ValidationError({"items": problems})
    return items


class ChecklistForm(forms.Form):
    items = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}))


@login_required
def checklist_list(request):
    templates = for_user(ChecklistTemplate, request.user).prefetch_related("versions")
    return render(request, "inspections/checklists.html", {"templates": templates})


@login_required
def checklist_edit(request, pk: int):
    template = get_for_user(ChecklistTemplate, request.user, pk=pk)
    current = template.current
    form = ChecklistForm(request.POST or None, initial={"items": items_to_text(current.items)})
    if request.method == "POST" and form.is_valid():
        try:
            version = edit_checklist(
                by=request.user, template=template, items=text_to_items(form.cleaned_data["items"])
            )
        except ValidationError as error:
            for problem in error.message_dict.get("items", error.messages):
                form.add_error("items", problem)
        else:
            messages.success(
                request, f"Saved as version {version.number}; booked milestones keep theirs."
            )
            return redirect("inspections:checklist_edit", pk=pk)
    context = {
        "template": template,
        "current": current,
        "form": form,
        "fields": FIELDS,
        "sections": SECTIONS,
    }
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "inspections/checklist_edit.html", context, status=status)
