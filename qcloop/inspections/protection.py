"""What a sampling plan protects a buyer against, as figures and in words. Pure: no Django.

Used by the AQL calculator page and by milestones to explain the plan they inspect with."""

from dataclasses import dataclass

from qcloop.sampling import DoublePlan, Plan, aoql_at, asn, default_model, lq10, oc_curve
from qcloop.sampling import producer_risk as risk_at_aql

CURVE_POINTS = 41


@dataclass(frozen=True)
class Protection:
    plan: Plan
    model: str
    producer_risk: float  # share of lots exactly at the AQL that are rejected
    lq10: float | None  # lot quality accepted only 10 % of the time
    aoql: float  # worst average outgoing quality
    aoql_at: float  # incoming quality where it is reached
    asn_at_aql: float | None  # double plans: expected units inspected at the AQL
    curve: list[tuple[float, float]]  # (p, Pa) for the OC chart

    @property
    def unit(self) -> str:
        # Above AQL 10 the tables are in nonconformities per 100 units, not percent defective.
        return "nonconformities per 100 units" if self.model == "poisson" else "% defective"

    def sentences(self) -> list[str]:
        aql = self.plan.aql_percent
        lines = [
            f"A lot that is exactly at the AQL ({aql:g} {self.unit}) is accepted "
            f"{1 - self.producer_risk:.1%} of the time and rejected {self.producer_risk:.1%}.",
        ]
        if self.lq10 is not None:
            lines.append(
                f"This plan accepts a lot with {self.lq10 * 100:.1f} {self.unit} 10 % of the "
                f"time: worse lots than that usually fail, better ones may well pass."
            )
        lines.append(
            f"If rejected lots are sorted 100 %, the average outgoing quality is never worse "
            f"than {self.aoql * 100:.2f} {self.unit} (the worst case, when lots come in at "
            f"{self.aoql_at * 100:.1f} {self.unit})."
        )
        return lines


def protection(plan: Plan, model: str | None = None) -> Protection:
    model = model or default_model(plan)
    worst_p, worst = aoql_at(plan, model)
    curve = oc_curve(plan, model=model, points=CURVE_POINTS)
    return Protection(
        plan=plan,
        model=model,
        producer_risk=risk_at_aql(plan, model),
        lq10=lq10(plan, model),
        aoql=worst,
        aoql_at=worst_p,
        asn_at_aql=asn(plan, plan.aql_percent / 100, model)
        if isinstance(plan, DoublePlan)
        else None,
        curve=curve,
    )
