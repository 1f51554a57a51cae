"""When a finding calls for a corrective action, and by when the supplier must answer. Pure
Python: the services feed it plain values.

By rule a CAPA opens for every critical or major defect, for every failed checklist item that
fails the milestone (a hard non-conformity), and for production projected late. Minor defects
are left to the report unless the QC lead opens one by hand."""

from dataclasses import dataclass
from datetime import date, timedelta

# Days the supplier has to answer, by severity: a critical finding cannot wait a week.
ANSWER_DAYS = {"critical": 2, "major": 5, "minor": 10}
# The answer must be in before the next visit, so that the inspector can verify it there; but
# never less than this, or the supplier has no time to find a root cause.
MIN_ANSWER_DAYS = 1
AUTOMATIC_SEVERITIES = ("critical", "major")


@dataclass(frozen=True)
class Finding:
    """A finding of one milestone that may call for a CAPA."""

    kind: str  # defect | check | production
    key: str  # what it is whatever milestone sees it: "defect:LT-WRK-03"
    severity: str  # critical | major | minor
    title: str
    detail: dict


def calls_for_capa(finding: Finding) -> bool:
    return finding.severity in AUTOMATIC_SEVERITIES


def due_date(opened_on: date, severity: str, next_visit: date | None = None) -> date:
    """The severity's answer time, brought forward to the day before the next visit."""
    due = opened_on + timedelta(days=ANSWER_DAYS.get(severity, ANSWER_DAYS["minor"]))
    if next_visit is not None:
        due = min(due, next_visit - timedelta(days=1))
    return max(due, opened_on + timedelta(days=MIN_ANSWER_DAYS))


def defect_key(code: str | None, description: str) -> str:
    """Defects are the same finding when their code is; uncoded ones when their words are."""
    if code:
        return f"defect:{code}"
    words = " ".join(description.lower().split())[:60]
    return f"defect:text:{words}"
