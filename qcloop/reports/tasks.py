"""Background work of reports, run by `qcloop worker`."""

from django.tasks import task

from .models import ReportVersion


@task()
def render_report_pdf(version_id: int) -> str:
    """Render a published version's PDF as soon as it is published, so that the first reader
    (or the email to the buyer) does not wait for it."""
    from .services import ensure_pdf

    version = ReportVersion.objects.filter(pk=version_id).first()
    if version is None:
        return "gone"
    return ensure_pdf(version).pdf_sha256
