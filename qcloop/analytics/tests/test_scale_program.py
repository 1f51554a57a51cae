"""The scale bench's generated program (bench/scale_program.py) at a tiny size: its rows are
consistent with each other and with what the services would have written."""

import importlib.util
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.db.models import Count, Sum

from qcloop.accounts.models import User
from qcloop.alerts.models import Escalation
from qcloop.analytics.models import MilestoneTally, TrendFlag
from qcloop.capa.models import CorrectiveAction
from qcloop.core.tenancy import for_user
from qcloop.inspections.models import Defect, Milestone, MilestoneStatus
from qcloop.orders.models import PurchaseOrder
from qcloop.reports.models import Report, ReportKind

BENCH = Path(__file__).resolve().parents[3] / "bench" / "scale_program.py"


def _bench_module():
    if "scale_program" in sys.modules:
        return sys.modules["scale_program"]
    spec = importlib.util.spec_from_file_location("scale_program", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_program"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def program(db):
    bench = _bench_module()
    size = bench.ProgramSize(pos=20, defects=1500, suppliers=5, products=20, other_pos=5)
    return bench.build_program(size, seed=7, log=lambda *_: None)


def test_four_milestones_per_po_and_a_reinspection_only_without_an_ipc(program):
    assert PurchaseOrder.objects.filter(buyer_id=program.buyer_id).count() == 20
    assert PurchaseOrder.objects.filter(buyer_id=program.other_buyer_id).count() == 5
    assert Milestone.objects.count() == 4 * 25
    for po in PurchaseOrder.objects.prefetch_related("milestones"):
        kinds = Counter(m.kind for m in po.milestones.all())
        assert kinds["DUPRO"] == 1 and kinds["CLI"] == 1
        retried = po.milestones.filter(kind="PSI", sequence=2).exists()
        assert kinds["PSI"] == (2 if retried else 1)
        assert kinds["IPC"] == (0 if retried else 1)
        assert po.quantity == sum(line.quantity for line in po.lines.all())


def test_tallies_are_the_sums_of_the_defect_records(program):
    published = Milestone.objects.filter(status=MilestoneStatus.PUBLISHED)
    assert MilestoneTally.objects.count() == published.count() > 0
    sums = defaultdict(dict)
    for row in Defect.objects.values("milestone", "defect_class").annotate(n=Sum("quantity")):
        sums[row["milestone"]][row["defect_class"]] = row["n"]
    per_code = defaultdict(Counter)
    for row in Defect.objects.values("milestone", "code__code").annotate(n=Sum("quantity")):
        per_code[row["milestone"]][row["code__code"]] = row["n"]
    for tally in MilestoneTally.objects.select_related("milestone", "po"):
        found = sums[tally.milestone_id]
        assert (tally.critical, tally.major, tally.minor) == tuple(
            found.get(name, 0) for name in ("critical", "major", "minor")
        )
        assert {code: e["found"] for code, e in tally.codes.items()} == per_code[tally.pk]
        milestone, po = tally.milestone, tally.po
        assert (tally.buyer_id, tally.supplier_id, tally.factory_id) == (
            po.buyer_id,
            po.supplier_id,
            po.factory_id,
        )
        assert tally.market == po.destination_market and tally.kind == milestone.kind
        assert tally.inspected_on == milestone.inspection_date
        plan = milestone.sampling["plan"] if milestone.sampling else None
        assert tally.sampled_units == (plan["n"] if plan else 0)
        if plan:  # never more defects of a class than units in the sample
            assert max(tally.critical, tally.major, tally.minor) <= plan["n"]


def test_statuses_follow_the_dates_and_reports_open_at_submission(program):
    for m in Milestone.objects.all():
        if m.status == MilestoneStatus.PLANNED:
            assert m.inspector_id is None and m.started_at is None
        if m.status in (MilestoneStatus.SUBMITTED, MilestoneStatus.PUBLISHED):
            assert m.started_at < m.submitted_at and m.result in ("pass", "fail")
            report = Report.objects.get(milestone=m)
            assert report.clock_started_at == m.submitted_at
            assert (report.due_at - report.clock_started_at).total_seconds() == 24 * 3600
            assert report.published_at == m.published_at
        if m.status == MilestoneStatus.PUBLISHED:
            assert m.submitted_at < m.published_at
        else:
            assert m.published_at is None
    for summary in Report.objects.filter(kind=ReportKind.PO_SUMMARY).select_related("po"):
        cli = summary.po.milestones.get(kind="CLI")
        assert summary.clock_started_at == cli.published_at


def test_capas_and_escalations_follow_the_rules(program):
    for capa in CorrectiveAction.objects.select_related("defect", "milestone"):
        assert capa.severity in ("critical", "major")
        assert capa.defect.milestone_id == capa.milestone_id
        assert capa.finding_key == f"defect:{capa.defect.code.code}"
        assert capa.opened_at == capa.milestone.submitted_at
    criticals = Defect.objects.filter(defect_class="critical")
    sources = set(Escalation.objects.values_list("source", flat=True))
    assert {f"defect:{d.uuid}" for d in criticals} <= sources
    failed = Milestone.objects.filter(result="fail").exclude(submitted_at=None)
    assert {f"milestone:{m.pk}:failed" for m in failed} <= sources


def test_each_tenant_sees_its_own_program(program):
    manager = User.objects.get(email=program.manager_email)
    coordinator = User.objects.get(email=program.coordinator_email)
    seen = for_user(MilestoneTally, manager).values("buyer").annotate(n=Count("pk"))
    assert {row["buyer"] for row in seen} == {program.buyer_id}
    served = for_user(MilestoneTally, coordinator).values_list("buyer", flat=True).distinct()
    assert set(served) == {program.buyer_id, program.other_buyer_id}
    assert not for_user(TrendFlag, manager).exclude(buyer_id=program.buyer_id).exists()
