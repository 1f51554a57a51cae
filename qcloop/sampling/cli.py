"""``qcloop aql``: print the sampling plan for a lot and its OC figures.

qcloop aql --lot 5000 --aql 2.5 --level II [--severity tightened] [--scheme double] [--json]
"""

import argparse
import json
import sys
from typing import Any

from qcloop.sampling import oc
from qcloop.sampling.plans import DoublePlan, Plan, plan
from qcloop.sampling.tables import LEVELS, SCHEMES, SEVERITIES

# Multiples of the AQL at which the OC curve is printed.
OC_MULTIPLES = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0)


def main(argv: list[str] | None = None) -> int:
    """Entry point; ``argv`` may start with the subcommand name ``aql``. Returns the exit
    status: 0 on success, 2 on invalid input."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "aql":
        args = args[1:]
    try:
        options = _parser().parse_args(args)
    except SystemExit as stop:  # argparse already printed usage or help
        return int(stop.code or 0)
    try:
        found = plan(options.lot, options.aql, options.level, options.severity, options.scheme)
        model = options.model or oc.default_model(found)
        report = figures(found, model)
    except ValueError as error:
        print(f"qcloop aql: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if options.json else render(report))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qcloop aql",
        description="ISO 2859-1 (MIL-STD-105E / ANSI Z1.4) sampling plan and OC figures",
    )
    parser.add_argument("--lot", type=int, required=True, help="lot size in units")
    parser.add_argument("--aql", required=True, help="AQL as printed, e.g. 0.65, 2.5, 10")
    parser.add_argument("--level", default="II", help=f"inspection level: {', '.join(LEVELS)}")
    parser.add_argument("--severity", default="normal", help=", ".join(SEVERITIES))
    parser.add_argument("--scheme", default="single", help=", ".join(SCHEMES))
    parser.add_argument(
        "--model",
        choices=oc.MODELS,
        help="OC model (default: binomial for AQL up to 10, Poisson above)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def figures(found: Plan, model: str) -> dict[str, Any]:
    """The plan and its operating characteristics as plain data."""
    aql = found.aql_percent / 100
    points = [aql * multiple for multiple in OC_MULTIPLES if aql > 0]
    if model != "poisson":
        points = [p for p in points if p <= 1]
    report: dict[str, Any] = {
        "plan": found.to_dict(),
        "model": model,
        "oc": [{"p": p, "pa": oc.prob_accept(found, p, model)} for p in points],
        "producer_risk": oc.producer_risk(found, model),
        "lq10": oc.lq10(found, model),
        "aoql": oc.aoql(found, model),
    }
    if isinstance(found, DoublePlan):
        report["asn_at_aql"] = oc.asn(found, aql, model)
    return report


def render(report: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    found = report["plan"]
    unit = "per 100 units" if report["model"] == "poisson" else "%"
    lines = [
        f"Lot {found['lot_size']}, AQL {found['aql']}, level {found['level']}, "
        f"{found['severity']} inspection, {found['scheme']} sampling",
        f"Code letter {found['table_code']} (Table I); plan from Table {found['table']}, "
        f"row {found['code']}",
        _plan_line(found),
        *[f"  note: {note}" for note in found["notes"]],
        f"OC curve ({report['model']} model), p in {unit}:",
        f"  {'p':>10}  {'Pa':>8}",
        *[f"  {point['p'] * 100:>10.3f}  {point['pa']:>8.4f}" for point in report["oc"]],
        f"Producer's risk at the AQL: {report['producer_risk'] * 100:.2f} %",
        f"LQ10 (quality accepted 10 % of the time): {_quality(report['lq10'], unit)}",
        f"AOQL: {_quality(report['aoql'], unit)}",
    ]
    if "asn_at_aql" in report:
        lines.append(f"Average sample number at the AQL: {report['asn_at_aql']:.1f}")
    return "\n".join(lines)


def _plan_line(found: dict[str, Any]) -> str:
    full = " (100 % inspection)" if found["hundred_percent"] else ""
    if found["scheme"] == "double":
        return (
            f"First sample n1 = {found['n1']}: Ac1 {found['ac1']}, Re1 {found['re1']}; "
            f"second sample n2 = {found['n2']}: cumulative Ac2 {found['ac2']}, "
            f"Re2 {found['re2']}{full}"
        )
    return f"Sample n = {found['n']}: accept Ac {found['ac']}, reject Re {found['re']}{full}"


def _quality(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value * 100:.3f} {unit}"


if __name__ == "__main__":
    raise SystemExit(main())
