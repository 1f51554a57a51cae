"""The demo's lab test: an LM-79 photometric report from SGS in place of the lux-meter check
at the IPC of a lighting PO with new tooling (the seed's example of a lab-test swap)."""

from datetime import date, timedelta

from django.utils import timezone

from .lab_rules import minimal_pdf
from .lab_tests import record_lab_test
from .models import LabTest, Milestone, MilestoneStatus

MEASURED = (
    "Luminous flux: 812 lm\nLuminous efficacy: 101.5 lm/W\nCCT: 2720 K\nCRI Ra: 83.4\n"
    "Input power: 8.0 W"
)


def load_demo_lab_tests(*, today: date | None = None) -> LabTest | None:
    """The LM-79 test on the IPC in progress of a lighting PO, passed, with its certificate;
    None when the program has no such IPC."""
    milestone = (
        Milestone.objects.filter(
            kind="IPC",
            status=MilestoneStatus.IN_PROGRESS,
            po__lines__product__category="lighting",
        )
        .select_related("po__qc_lead", "checklist")
        .order_by("pk")
        .first()
    )
    if milestone is None or milestone.checklist is None:
        return None
    flux = [i["code"] for i in milestone.checklist.items if "flux and CCT" in i["text"]]
    # Never in the future, whatever day the demo is loaded for.
    day = min(today or timezone.localdate(), timezone.localdate())
    number = f"SGS-GZ-{day:%y}-{milestone.po.number[-5:]}"
    certificate = minimal_pdf(
        [
            "SGS-CSTC Standards Technical Services Co., Ltd. - Guangzhou Branch",
            f"Test report {number}",
            "IES LM-79-19: electrical and photometric measurement of SSL products",
            f"Applicant PO {milestone.po.number}; sample LM79-{milestone.po.number[-5:]}, 3 units",
            *MEASURED.splitlines(),
            "Conclusion: PASS against the buyer's specification",
        ]
    )
    return record_lab_test(
        by=milestone.po.qc_lead,
        milestone=milestone,
        data={
            "lab": "sgs",
            "standard": "LM-79",
            "replaces": flux,
            "sample_units": 3,
            "sample_drawn": "first-off units drawn at random from the pilot run, sealed and "
            "signed by the inspector",
            "sample_id": f"LM79-{milestone.po.number[-5:]}",
            "sent_on": day - timedelta(days=12),
            "reported_on": day - timedelta(days=2),
            "report_number": number,
            "result": "pass",
            "measured": MEASURED,
        },
        certificate=(f"{number}.pdf", certificate),
    )
