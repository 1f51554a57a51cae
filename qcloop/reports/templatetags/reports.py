"""Template helpers of the report documents, shared by their HTML pages and their PDFs."""

from django import template
from django.urls import reverse

from qcloop.reports.rendering import STORAGE_SCHEME

register = template.Library()


@register.simple_tag(takes_context=True)
def photo_src(context, photo: dict, kind: str = "rendition") -> str:
    """A report photo's source: from storage when rendering the PDF, else through the
    photo gate. Only renditions and thumbnails: a report never carries an original."""
    if kind not in {"rendition", "thumbnail"}:
        raise template.TemplateSyntaxError(f"reports show renditions, not {kind!r}")
    if context.get("pdf"):
        return STORAGE_SCHEME + photo[kind]
    return reverse("inspections:photo_file", args=[photo["attachment"], kind])


@register.filter
def rate(value) -> str:
    """Defects per 100 units inspected, or a dash when nothing was sampled."""
    return "—" if value is None else f"{value:.1f}"


@register.filter
def bar_width(value) -> str:
    """A share in percent, clamped for a progress bar drawn in SVG."""
    if value is None:
        return "0"
    return f"{max(0.0, min(100.0, float(value))):.1f}"


@register.filter
def pct(value) -> str:
    """A share already in percent, or a dash when it is not known."""
    return "—" if value is None else f"{value:.0f} %"
