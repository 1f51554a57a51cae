"""Background work of reports, run by `qcloop worker`.

Publishing a version queues `render_report_pdf` (on commit); once the PDF exists, that task
queues `distribute_report_version`, which mails it to the buyer's recipients. Nobody has to
press anything for the buyer to get the report; what fails is retried by the sweeper."""

from django.tasks import task

from .models import ReportVersion


@task()
def render_report_pdf(version_id: int) -> str:
    """Render a published version's PDF as soon as it is published, so that the first reader
    (or the email to the buyer) does not wait for it, then queue its distribution."""
    from .services import ensure_pdf

    version = ReportVersion.objects.filter(pk=version_id).first()
    if version is None:
        return "gone"
    sha256 = ensure_pdf(version).pdf_sha256
    # A task of its own rather than a call: the mail server's troubles then fail (and show as)
    # the distribution, not the rendering, and a rerun of either does not redo the other.
    # Queued again by a rerun of this task, it mails nobody twice (see distribution.py).
    distribute_report_version.enqueue(version_id)
    return sha256


@task()
def distribute_report_version(version_id: int) -> dict[str, int] | str:
    """Mail a published version to its recipients; {"sent": n, "failed": n} as it went now."""
    from .distribution import distribute
    from .services import ensure_pdf

    version = ReportVersion.objects.filter(pk=version_id).first()
    if version is None:
        return "gone"
    if version.superseded_at is not None:
        # Corrected before it went out: the buyer gets the correction, not both.
        return "superseded"
    # Normally rendered by the task that queued this one; queued by hand, it may not be.
    made = distribute(ensure_pdf(version))
    return {
        "sent": sum(d.status == "sent" for d in made),
        "failed": sum(d.status == "failed" for d in made),
    }
