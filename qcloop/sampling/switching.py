"""The switching rules as a pure state machine, one per stream (supplier x product stream x
defect class), fed one lot result at a time.

Rules (ISO 2859-1:1999 clause 9, with the MIL-STD-105E reduced-plan rule):
  * start on normal inspection;
  * normal -> tightened when 2 of 5 or fewer consecutive lots are not accepted;
  * tightened -> normal after 5 consecutive lots are accepted;
  * normal -> reduced when the switching score reaches 30, production is steady and the
    responsible authority approves (both are inputs: qcloop does not guess them);
  * reduced -> normal when a lot is not accepted, when a lot is accepted with a count
    between Ac and Re (the 105E reduced plans), when production is irregular or delayed, or
    when other conditions warrant it;
  * discontinue when 5 lots (cumulative) are not accepted while on tightened inspection;
    inspection resumes on tightened after the supplier's corrective action (``resume``).

The 1999 switching score, kept while on normal inspection and zero at its start:
  * single sampling, Ac >= 2: +3 if the lot would also have been accepted with the AQL one
    step tighter (same sample size), otherwise reset to 0;
  * single sampling, Ac 0 or 1: +2 if the lot is accepted, otherwise reset to 0;
  * double sampling: +3 if the lot is accepted on the first sample, otherwise reset to 0.

The state after a lot's result is the severity for the next lot.
"""

from dataclasses import asdict, dataclass, replace
from typing import Any

from qcloop.sampling import tables
from qcloop.sampling.classes import ClassPlan
from qcloop.sampling.plans import Decision, DoublePlan, Plan, SinglePlan, judge

STATE_VERSION = 1
SCORE_FOR_REDUCED = 30
LOTS_TO_LEAVE_TIGHTENED = 5
NOT_ACCEPTED_TO_DISCONTINUE = 5
NORMAL_WINDOW = 5
SEVERITIES = ("normal", "tightened", "reduced", "discontinued")


@dataclass(frozen=True, kw_only=True)
class LotResult:
    """What the switching rules need to know about one inspected lot of the stream."""

    lot_id: str
    accepted: bool
    severity: str | None = None  # severity the lot was inspected under (checked if given)
    return_to_normal: bool = False  # reduced: accepted with Ac < count < Re
    scheme: str = "single"
    defects: int | None = None  # single sampling: the count (for the switching score)
    ac: int | None = None  # single sampling: the plan's acceptance number
    tighter_ac: int | None = None  # Ac of the plan one AQL step tighter, same n (Ac >= 2)
    accepted_on_first_sample: bool = False  # double sampling
    production_steady: bool = True  # False: irregular or delayed
    reduced_approved: bool = False  # the responsible authority allows reduced inspection
    other_conditions: str = ""  # anything else that warrants normal inspection, in words

    @classmethod
    def from_inspection(
        cls,
        lot_id: str,
        plan: Plan | ClassPlan,
        defects: int,
        second_defects: int | None = None,
        **context,
    ) -> "LotResult":
        """Judge the lot with its plan and record what the switching score needs."""
        if isinstance(plan, ClassPlan):
            return _from_class_plan(cls, lot_id, plan, defects, **context)
        decision = judge(plan, defects, second_defects)
        if not decision.final:
            raise ValueError("the lot needs its second sample before it can be recorded")
        facts = {
            "lot_id": lot_id,
            "accepted": decision.accepted,
            "severity": plan.severity,
            "return_to_normal": decision is Decision.ACCEPT_RETURN_TO_NORMAL,
        }
        if isinstance(plan, DoublePlan):
            first_only = second_defects is None and decision.accepted
            return cls(scheme="double", accepted_on_first_sample=first_only, **facts, **context)
        return cls(
            defects=defects,
            ac=plan.ac,
            tighter_ac=tighter_acceptance_number(plan),
            **facts,
            **context,
        )


def _from_class_plan(cls, lot_id, class_plan: ClassPlan, defects: int, **context) -> LotResult:
    if isinstance(defects, bool) or not isinstance(defects, int) or defects < 0:
        raise ValueError(f"defects must be a whole number, 0 or more; got {defects!r}")
    accepted = defects < class_plan.re
    standard = class_plan.standard_plan
    tighter = None
    if standard is not None and class_plan.ac == standard.ac:
        tighter = tighter_acceptance_number(standard)
    return cls(
        lot_id=lot_id,
        accepted=accepted,
        return_to_normal=class_plan.ac < defects < class_plan.re,
        defects=defects,
        ac=class_plan.ac,
        tighter_ac=tighter,
        severity=standard.severity if standard else None,
        **context,
    )


def tighter_acceptance_number(plan: SinglePlan) -> int | None:
    """Ac of the normal plan at the same code letter (same n) one AQL step tighter: what the
    1999 switching score compares against when Ac >= 2."""
    if plan.severity != "normal" or plan.ac < 2 or plan.aql not in tables.AQLS[1:]:
        return None  # the score is kept on normal inspection only
    tighter = tables.AQLS[tables.AQLS.index(plan.aql) - 1]
    cell = tables.master_table("single", "normal").cell(plan.code, tighter)
    if cell in tables.ARROWS or cell == "":
        return None
    return tables.parse_numbers(cell)[0]


def switching_points(lot: LotResult) -> int | None:
    """Points the lot adds to the switching score, or None when it resets the score."""
    if lot.scheme == "double":
        return 3 if lot.accepted and lot.accepted_on_first_sample else None
    if lot.ac is None:
        raise ValueError("single sampling lots need the plan's Ac for the switching score")
    if lot.ac >= 2:
        if lot.defects is None or lot.tighter_ac is None:
            raise ValueError("with Ac >= 2 the score needs the defect count and the tighter Ac")
        return 3 if lot.accepted and lot.defects <= lot.tighter_ac else None
    return 2 if lot.accepted else None


@dataclass(frozen=True, kw_only=True)
class SwitchingState:
    """Where a stream stands: the severity for its next lot and why, in words."""

    severity: str = "normal"
    since_lot: str | None = None  # the lot whose result brought this severity
    reason: str = "start of the stream"
    recent_normal: tuple[bool, ...] = ()  # accepted? for up to 5 latest lots on normal
    switching_score: int = 0
    consecutive_accepted: int = 0  # on tightened
    not_accepted_on_tightened: int = 0  # cumulative since tightened began
    lots_inspected: int = 0

    @classmethod
    def start(cls, severity: str = "normal", reason: str = "") -> "SwitchingState":
        """A new stream; normal unless the responsible authority designates otherwise."""
        if severity not in ("normal", "tightened", "reduced"):
            raise ValueError(f"a stream starts on normal, tightened or reduced; got {severity!r}")
        return cls(severity=severity, reason=reason or f"start of the stream: {severity}")

    @property
    def explanation(self) -> str:
        """The state in words for reports, e.g. "tightened since lot PO 4411: 2 of the last
        4 lots were not accepted"."""
        head = self.severity if self.severity != "discontinued" else "inspection discontinued"
        since = f" since lot {self.since_lot}" if self.since_lot else ""
        return f"{head}{since}: {self.reason}{self._progress()}"

    def _progress(self) -> str:
        if self.severity == "tightened":
            return (
                f" ({self.consecutive_accepted} of {LOTS_TO_LEAVE_TIGHTENED} consecutive "
                f"acceptances to return to normal; {self.not_accepted_on_tightened} of "
                f"{NOT_ACCEPTED_TO_DISCONTINUE} non-accepted lots before discontinuation)"
            )
        if self.severity == "normal":
            rejected = self.recent_normal.count(False)
            recent = (
                f"{rejected} of the last {len(self.recent_normal)} lots not accepted; "
                if rejected
                else ""
            )
            return f" ({recent}switching score {self.switching_score} of {SCORE_FOR_REDUCED})"
        return ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["recent_normal"] = list(self.recent_normal)
        data["version"] = STATE_VERSION
        data["explanation"] = self.explanation
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SwitchingState":
        if data.get("version", STATE_VERSION) != STATE_VERSION:
            raise ValueError(f"unknown switching state version {data.get('version')!r}")
        values = {k: v for k, v in data.items() if k not in ("version", "explanation")}
        values["recent_normal"] = tuple(values.get("recent_normal", ()))
        state = cls(**values)
        if state.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {state.severity!r}; allowed: {SEVERITIES}")
        return state


def advance(state: SwitchingState, lot: LotResult) -> SwitchingState:
    """The stream's state after one more lot."""
    if state.severity == "discontinued":
        raise ValueError(
            "inspection is discontinued: call resume() after the supplier's corrective action"
        )
    if lot.severity is not None and lot.severity != state.severity:
        raise ValueError(
            f"lot {lot.lot_id} was inspected {lot.severity} but the stream is on {state.severity}"
        )
    counted = replace(state, lots_inspected=state.lots_inspected + 1)
    step = {"normal": _on_normal, "tightened": _on_tightened, "reduced": _on_reduced}
    return step[state.severity](counted, lot)


def resume(state: SwitchingState, note: str = "corrective action taken") -> SwitchingState:
    """Restart a discontinued stream on tightened inspection after corrective action."""
    if state.severity != "discontinued":
        raise ValueError(f"only a discontinued stream resumes; this one is {state.severity}")
    reason = f"resumed after corrective action ({note})"
    return SwitchingState(severity="tightened", reason=reason, lots_inspected=state.lots_inspected)


def _on_normal(state: SwitchingState, lot: LotResult) -> SwitchingState:
    window = (*state.recent_normal, lot.accepted)[-NORMAL_WINDOW:]
    points = switching_points(lot)
    score = 0 if points is None else state.switching_score + points
    if window.count(False) >= 2:
        span = len(window) - window.index(False)
        reason = f"2 of the last {span} lots were not accepted"
        return _enter(state, "tightened", lot, reason)
    if score >= SCORE_FOR_REDUCED and lot.production_steady and lot.reduced_approved:
        reason = (
            f"switching score {score} reached {SCORE_FOR_REDUCED}, production steady, "
            "reduced inspection approved"
        )
        return _enter(state, "reduced", lot, reason)
    return replace(state, recent_normal=window, switching_score=score)


def _on_tightened(state: SwitchingState, lot: LotResult) -> SwitchingState:
    consecutive = state.consecutive_accepted + 1 if lot.accepted else 0
    not_accepted = state.not_accepted_on_tightened + (0 if lot.accepted else 1)
    if not_accepted >= NOT_ACCEPTED_TO_DISCONTINUE:
        reason = (
            f"{not_accepted} lots were not accepted while on tightened inspection; "
            "resume on tightened after the supplier's corrective action"
        )
        return _enter(state, "discontinued", lot, reason)
    if consecutive >= LOTS_TO_LEAVE_TIGHTENED:
        reason = f"{consecutive} consecutive lots were accepted on tightened inspection"
        return _enter(state, "normal", lot, reason)
    return replace(state, consecutive_accepted=consecutive, not_accepted_on_tightened=not_accepted)


def _on_reduced(state: SwitchingState, lot: LotResult) -> SwitchingState:
    if not lot.accepted:
        return _enter(state, "normal", lot, "the lot was not accepted on reduced inspection")
    if lot.return_to_normal:
        reason = (
            "the lot was accepted with a count between Ac and Re, which returns the "
            "stream to normal"
        )
        return _enter(state, "normal", lot, reason)
    if not lot.production_steady:
        return _enter(state, "normal", lot, "production was irregular or delayed")
    if lot.other_conditions:
        return _enter(state, "normal", lot, f"other conditions: {lot.other_conditions}")
    return state


def _enter(state: SwitchingState, severity: str, lot: LotResult, reason: str) -> SwitchingState:
    """A switch: counters of the new severity start from zero."""
    return SwitchingState(
        severity=severity, since_lot=lot.lot_id, reason=reason, lots_inspected=state.lots_inspected
    )
