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


# --- a supplier's CAPA history -----------------------------------------------------------------


@dataclass(frozen=True)
class CapaFact:
    """One of a supplier's CAPAs, as plain values."""

    reference: str
    key: str
    title: str
    severity: str
    po_number: str
    opened_on: date
    due_on: date
    status: str  # open | answered | accepted | closed
    answered_on: date | None = None  # the first answer
    answers_sent_back: int = 0
    verifications: tuple[bool, ...] = ()  # effective or not, in order


@dataclass(frozen=True)
class RecurringFinding:
    key: str
    title: str
    references: tuple[str, ...]  # oldest first
    po_numbers: tuple[str, ...]


@dataclass(frozen=True)
class CapaHistory:
    """What a supplier's corrective actions say of it, for its page and its scorecard."""

    opened: int
    open: int
    overdue: int
    closed: int
    answered_on_time: int  # first answer on or before the due date, of those answered
    answered: int
    accepted_first_time: int  # of the CAPAs with a decided answer
    decided: int
    effective_first_time: int  # of the CAPAs verified at least once
    verified: int
    recurrences: int  # CAPAs whose finding the supplier had a CAPA for before
    recurring: tuple[RecurringFinding, ...]
    recurrence_of: dict  # reference -> the reference of the earlier CAPA for the same finding

    @property
    def on_time_rate(self) -> float | None:
        return self.answered_on_time / self.answered if self.answered else None

    @property
    def recurrence_rate(self) -> float | None:
        return self.recurrences / self.opened if self.opened else None


def history(capas: list[CapaFact], today: date) -> CapaHistory:
    """A supplier's CAPAs summed up. A finding that comes back (the same defect code, the same
    failed check, late again) on any of its POs is a recurrence of the one before: the
    corrective action did not prevent it."""
    capas = sorted(capas, key=lambda c: (c.opened_on, c.reference))
    by_key: dict[str, list[CapaFact]] = {}
    recurrence_of = {}
    for capa in capas:
        earlier = by_key.setdefault(capa.key, [])
        if earlier:
            recurrence_of[capa.reference] = earlier[-1].reference
        earlier.append(capa)
    answered = [c for c in capas if c.answered_on is not None]
    decided = [c for c in capas if c.answers_sent_back or c.status in ("accepted", "closed")]
    verified = [c for c in capas if c.verifications]
    return CapaHistory(
        opened=len(capas),
        open=sum(c.status != "closed" for c in capas),
        overdue=sum(c.status == "open" and c.due_on < today for c in capas),
        closed=sum(c.status == "closed" for c in capas),
        answered_on_time=sum(c.answered_on <= c.due_on for c in answered),
        answered=len(answered),
        accepted_first_time=sum(not c.answers_sent_back for c in decided),
        decided=len(decided),
        effective_first_time=sum(c.verifications[0] for c in verified),
        verified=len(verified),
        recurrences=len(recurrence_of),
        recurring=tuple(
            RecurringFinding(
                key=key,
                title=group[-1].title,
                references=tuple(c.reference for c in group),
                po_numbers=tuple(dict.fromkeys(c.po_number for c in group)),
            )
            for key, group in by_key.items()
            if len(group) > 1
        ),
        recurrence_of=recurrence_of,
    )
