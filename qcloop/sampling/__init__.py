"""ISO 2859-1 acceptance sampling by attributes, pure Python (no Django).

The tables are those of MIL-STD-105E / ANSI/ASQ Z1.4-1993, numerically ISO 2859-1; see
docs/sampling.md for the editions, the arrows, 100 % inspection, several defect classes,
the switching rules and provable sample draws.

    >>> p = plan(5000, "2.5")
    >>> (p.code, p.n, p.ac, p.re)
    ('L', 200, 10, 11)
"""

from qcloop.sampling import plans as _plans
from qcloop.sampling.classes import (
    METHODS,
    ClassPlan,
    MultiClassPlan,
    MultiClassResult,
    judge_classes,
    multi_class_plan,
)
from qcloop.sampling.draw import ALGORITHM, CartonDraw, SampleDraw, draw_sample, new_seed
from qcloop.sampling.oc import (
    MODELS,
    aoq,
    aoql,
    aoql_at,
    asn,
    default_model,
    lq,
    lq10,
    oc_curve,
    prob_accept,
    producer_risk,
)
from qcloop.sampling.plans import Decision, DoublePlan, Plan, SinglePlan, plan, plan_from_dict
from qcloop.sampling.switching import (
    LotResult,
    SwitchingState,
    advance,
    resume,
    switching_points,
    tighter_acceptance_number,
)
from qcloop.sampling.tables import AQLS, LEVELS, SCHEMES, SEVERITIES, code_letter

__all__ = [
    "ALGORITHM",
    "AQLS",
    "LEVELS",
    "METHODS",
    "MODELS",
    "SCHEMES",
    "SEVERITIES",
    "CartonDraw",
    "ClassPlan",
    "Decision",
    "DoublePlan",
    "LotResult",
    "MultiClassPlan",
    "MultiClassResult",
    "Plan",
    "SampleDraw",
    "SinglePlan",
    "SwitchingState",
    "advance",
    "aoq",
    "aoql",
    "aoql_at",
    "asn",
    "code_letter",
    "default_model",
    "draw_sample",
    "judge",
    "judge_classes",
    "lq",
    "lq10",
    "multi_class_plan",
    "new_seed",
    "oc_curve",
    "plan",
    "plan_from_dict",
    "prob_accept",
    "producer_risk",
    "resume",
    "switching_points",
    "tighter_acceptance_number",
]


def judge(
    plan: Plan | MultiClassPlan,
    defects: int | dict[str, int],
    second_defects: int | None = None,
) -> Decision | MultiClassResult:
    """Accept, reject, take the second sample (double plans), or accept but return to normal
    (reduced plans). For a multi-class plan, ``defects`` maps each class to its count."""
    if isinstance(plan, MultiClassPlan):
        if second_defects is not None or not isinstance(defects, dict):
            raise ValueError("a multi-class plan is judged with one count per defect class")
        return judge_classes(plan, defects)
    if isinstance(defects, dict):
        raise ValueError("a single- or double-sampling plan is judged with one defect count")
    return _plans.judge(plan, defects, second_defects)
