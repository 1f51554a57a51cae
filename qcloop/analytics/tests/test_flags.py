"""Trend flags through the real publish path: the supplier's earlier PSIs of the stream as the
baseline, this PO's DUPRO and PSI after them, the flag rows written in the publishing
transaction, and the milestone report and the PO summary stating them.

Every PO here is the world's 3,000 units: code letter K, 125 units inspected at DUPRO and PSI,
major AQL 2.5 (Ac 7 / Re 8), minor AQL 4.0 (Ac 10 / Re 11)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from qcloop.analytics.flags import holm_thresholds, refresh_flags, trend_report
from qcloop.analytics.models import TrendFlag
from qcloop.analytics.services import record_published
from qcloop.inspections.models import Milestone
from qcloop.inspections.services import add_milestone, transition_milestone
from qcloop.orders.models import Product, Supplier
from qcloop.orders.services import save_product, save_supplier
from qcloop.reports import services as report_services
from qcloop.reports.models import Report
from qcloop.reports.rendering import document_html, stamp_for
from qcloop.testing import next_po_of, submit_inspection_of

from .builders import factory_of

pytestmark = pytest.mark.django_db

# The stream's five earlier PSIs: 2, 3, 2, 3, 2 majors in 125 units each, 12 in 625
# (1.92 per 100), and 4 minors each, 20 in 625 (3.2 per 100).
EARLIER_MAJORS = (2, 3, 2, 3, 2)


def publish(world, kind, majors=0, minors=0, defect="Open seam", more=(), days_ago=0):
    """Inspect and publish the world's milestone; `days_ago`: inspected that many days before
    its window (an earlier PO's lot; the test worlds' POs all share their windows)."""
    defects = [("major", majors, defect)] if majors else []
    defects += [("minor", minors, "Loose thread")] if minors else []
    milestone = submit_inspection_of(world, kind, defects=[*defects, *more])
    if days_ago:
        earlier = milestone.inspection_date - timedelta(days=days_ago)
        Milestone.objects.filter(pk=milestone.pk).update(inspection_date=earlier)
    transition_milestone(by=world.qc_lead, milestone=milestone, to="published")
    milestone.refresh_from_db()
    return milestone


def earlier_lots(world, majors=EARLIER_MAJORS, defect="Open seam"):
    """The supplier's earlier POs of the same product, each with its PSI published, a week
    apart, the last two months before this PO's DUPRO."""
    for i, found in enumerate(majors):
        days = 7 * (len(majors) - i) + 60
        publish(next_po_of(world), "PSI", majors=found, minors=4, defect=defect, days_ago=days)


def re_inspection(world):
    psi = world.milestones["PSI"]
    world.milestones["PSI"] = add_milestone(
        by=world.qc_lead,
        po=world.po,
        kind="PSI",
        window_start=psi.window_end,
        window_end=psi.window_end + timedelta(days=2),
    )


def flag(world, defect_class="major", code=""):
    return TrendFlag.objects.get(po=world.po, defect_class=defect_class, defect_code=code)


def test_a_po_rising_above_the_stream_raises_the_major_flag(world):
    earlier_lots(world)
    publish(world, "IPC")
    dupro = publish(world, "DUPRO", majors=3, minors=4)
    assert not TrendFlag.objects.filter(po=world.po, defect_class="major", defect_code="")
    psi = publish(world, "PSI", majors=7, minors=4)

    major = flag(world)
    assert major.active and major.escalating
    assert major.milestone == psi and major.history_lots == 5
    numbers = [po.number for po in world.buyer.purchase_orders_as_buyer.order_by("pk")][1:]
    assert major.series == [
        *(
            {"label": f"PO {number} PSI", "n": 125, "found": found, "history": True}
            for number, found in zip(numbers, EARLIER_MAJORS, strict=True)
        ),
        {"label": "DUPRO", "n": 125, "found": 3, "history": False},
        {"label": "PSI", "n": 125, "found": 7, "history": False},
    ]
    # 2.4 then 5.6 per 100 against 1.92: each within Ac 7, yet a moderate trend.
    assert 0.01 < major.p_value <= 0.05 and major.strength == "moderate"
    assert major.probability == pytest.approx(1 - major.p_value)
    assert major.raised_at == psi.published_at and major.cleared_at is None
    assert major.explanation.startswith(
        "Major defects are escalating: 2.4 → 5.6 per 100 units (DUPRO, PSI), against 1.9 per "
        "100 in the supplier's 5 earlier lots (12 in 625 units); p = 0.0"
    )
    assert "moderate evidence" in major.explanation
    # 5.6 per 100 rising on: the next sample of 125 would more likely fail Ac 7 than pass.
    assert major.projected
    # Minors held at 3.2 per 100: nothing to flag, nothing written.
    assert not TrendFlag.objects.filter(po=world.po, defect_class="minor", defect_code="")
    assert dupro.published_at < psi.published_at


def test_a_stable_stream_raises_no_flag_and_the_report_says_so(world):
    earlier_lots(world)
    publish(world, "DUPRO", majors=2, minors=4)
    psi = publish(world, "PSI", majors=3, minors=4)
    assert not TrendFlag.objects.filter(po=world.po).exists()
    trends = Report.objects.get(milestone=psi).current.content["trends"]
    assert trends["flags"] == [] and trends["history"]["lots"] == 5
    assert trends["history"]["units"] == 625
    assert trends["statement"].startswith(
        "The trend test flagged no rising defect rate as of PSI: major p = "
    )
    baseline = "the supplier's 5 earlier lots of lighting (625 units: major 1.9, minor 3.2 per 100)"
    assert baseline in trends["statement"]


def test_a_flag_clears_when_a_later_milestone_drops_and_comes_back_raised_again(world):
    earlier_lots(world)
    # 7.2 per 100 against 1.92: p = 0.0025, within the DUPRO's 0.0033 (two thirds of 0.005).
    dupro = publish(world, "DUPRO", majors=9)
    raised = flag(world)
    assert raised.active and raised.raised_at == dupro.published_at
    psi = publish(world, "PSI", majors=0)  # 7.2 then 0: no rising trend
    cleared = flag(world)
    assert not cleared.active and cleared.cleared_at == psi.published_at
    assert not cleared.escalating and cleared.milestone == psi
    assert cleared.raised_at == dupro.published_at
    assert cleared.explanation.startswith("Major defects are not flagged as escalating: 7.2 → 0.0")
    re_inspection(world)
    # 7.2, 0, 9.6 per 100: up again, p = 0.0011 within the PSI #2's 0.0033 (0.005 after the PSI).
    publish(world, "PSI", majors=12)
    again = flag(world)
    assert again.active and again.cleared_at is None
    assert again.raised_at == dupro.published_at  # kept from the first raise
    assert [p["label"] for p in again.series][-3:] == ["DUPRO", "PSI", "PSI #2"]


def test_one_defect_code_rising_is_flagged_though_its_class_is_not(world):
    # Scratches at 2 or 3 in each earlier lot; a loose base never.
    earlier_lots(world, defect="Scratch")
    publish(world, "DUPRO", majors=3, defect="Scratch", more=[("major", 1, "Loose base")])
    psi = publish(world, "PSI", majors=1, defect="Scratch", more=[("major", 4, "Loose base")])
    assert not flag(world, code="loose base").cleared_at
    loose = flag(world, code="loose base")
    assert loose.escalating and loose.code_name == "Loose base" and loose.milestone == psi
    assert [p["found"] for p in loose.series] == [0, 0, 0, 0, 0, 1, 4]
    # Two major codes on the PO, judged together (Holm) at the codes' third of the PSI's 0.03:
    # the stronger (p = 0.0002) against 0.01 / 2 = 0.005.
    assert "Holm threshold 0.0050 over 2 major codes at the PSI" in loose.explanation
    assert loose.explanation.startswith("Loose base (major) is escalating: 0.8 → 3.2 per 100")
    # The class: 4 then 5 in 125 against 1.92 per 100: not enough to flag.
    assert not TrendFlag.objects.filter(po=world.po, defect_class="major", defect_code="")
    assert not TrendFlag.objects.filter(po=world.po, defect_code="scratch")


def test_holm_judges_the_smallest_p_first_and_stops_at_the_first_that_fails():
    # Three codes: 0.01 <= 0.05 / 3 is rejected; 0.03 > 0.05 / 2 stops the procedure, and
    # 0.04 is judged against the same 0.025 (not its own 0.05).
    assert holm_thresholds([0.04, 0.01, 0.03], 0.05) == pytest.approx([0.025, 0.05 / 3, 0.025])
    assert holm_thresholds([0.001, 0.02], 0.05) == pytest.approx([0.025, 0.05])
    assert holm_thresholds([], 0.05) == []


def _other_supplier(world, category="lighting"):
    """The same buyer's second supplier (another stream), with a factory and a product."""
    manager = world.user("buyer_manager")
    supplier = save_supplier(
        by=manager,
        supplier=Supplier(buyer=world.buyer, code="V-OTHER", name="Other Co", country="CN"),
    )
    factory = factory_of(supplier, "Other plant", manager)
    product = save_product(
        by=manager,
        product=Product(buyer=world.buyer, sku=f"SKU-{category}", name="Lamp", category=category),
    )
    return supplier, factory, product


def test_only_the_suppliers_own_lots_of_the_category_enter_the_baseline(world, other_world):
    from dataclasses import replace

    # Another buyer's supplier of lamps, the same buyer's other supplier of lamps, and this
    # supplier's own toys: all inspected and published before, all at a low rate that would
    # make this PO's 5.6 per 100 stand out. None of them is this PO's stream.
    publish(next_po_of(other_world), "PSI", majors=1, days_ago=90)
    supplier, factory, product = _other_supplier(world)
    other = next_po_of(replace(world, supplier=supplier, factory=factory, product=product))
    publish(other, "PSI", days_ago=90)
    toys = save_product(
        by=world.user("buyer_manager"),
        product=Product(buyer=world.buyer, sku="SKU-TOY", name="Train", category="toys"),
    )
    publish(next_po_of(replace(world, product=toys)), "PSI", majors=1, days_ago=90)

    publish(world, "DUPRO", majors=3)
    psi = publish(world, "PSI", majors=7)
    report = trend_report(Milestone.objects.select_related("po").get(pk=psi.pk))
    assert report.history == 0
    assert [lot.label for lot in report.lots] == ["DUPRO", "PSI"]
    # Without earlier lots, 3 then 7 in 125 is not enough on its own.
    assert not TrendFlag.objects.filter(po=world.po, defect_class="major", defect_code="")
    trends = Report.objects.get(milestone=psi).current.content["trends"]
    assert trends["history"]["lots"] == 0
    assert "no earlier lot of this supplier's lighting on record" in trends["statement"]


def test_a_later_lot_is_not_an_earlier_one(world):
    """A PSI of another PO inspected after this PO's PSI, or published after it, is not in
    its baseline: the flag is what was known when the milestone was published."""
    inspected_before, published_after = next_po_of(world), next_po_of(world)
    publish(inspected_before, "PSI", majors=2, days_ago=30)
    publish(world, "DUPRO", majors=3)
    psi = publish(world, "PSI", majors=7)
    publish(published_after, "PSI", majors=0, days_ago=30)
    # A lot inspected the day after this PSI, published before it: also not earlier.
    inspected_after = next_po_of(world)
    publish(inspected_after, "PSI", majors=0, days_ago=-1)
    report = trend_report(Milestone.objects.select_related("po").get(pk=psi.pk))
    assert [lot.label for lot in report.lots] == [
        f"PO {inspected_before.po.number} PSI",
        "DUPRO",
        "PSI",
    ]


def test_the_refresh_reads_a_handful_of_rows_whatever_the_codes(
    world, django_assert_max_num_queries
):
    earlier_lots(world)
    codes = [("major", 1, f"Defect {i}") for i in range(6)] + [("minor", 2, "Loose thread")]
    psi = submit_inspection_of(world, "PSI", defects=codes)
    Milestone.objects.filter(pk=psi.pk).update(status="published", published_at=psi.submitted_at)
    psi.refresh_from_db()
    record_published(psi)  # the tally, and the first flags
    # The PO's tallies, the history, the PO's milestones (the plans), its flags and one bulk
    # write: nothing per code.
    with django_assert_max_num_queries(5):
        refresh_flags(psi)


# --- in the reports ----------------------------------------------------------------------------


def _rising(world):
    earlier_lots(world)
    publish(world, "IPC")
    publish(world, "DUPRO", majors=3, minors=4)
    return publish(world, "PSI", majors=7, minors=4)


SENTENCE = "Major defects are escalating: 2.4 → 5.6 per 100 units (DUPRO, PSI), against 1.9 per 100"


def test_the_milestone_report_states_the_flag_as_of_its_milestone(world, client):
    psi = _rising(world)
    version = Report.objects.get(milestone=psi).current
    trends = version.content["trends"]
    assert trends["as_of"] == "PSI" and trends["statement"] == ""
    # Every major is an open seam, so the code's series is the class's (p = 0.0196): within
    # the class's 0.02 at the PSI, not within its codes' 0.01. The class's flag says it once.
    assert [(f["defect_class"], f["code"]) for f in trends["flags"]] == [("major", "")]
    assert trends["flags"][0]["sentence"].startswith(SENTENCE)
    assert trends["flags"][0]["sentence"] in flag(world).explanation
    html = document_html(version.content, stamp_for(version), pdf=True)
    assert SENTENCE in html
    # The DUPRO's report, frozen before, still says what was known then.
    dupro = Report.objects.get(milestone__po=world.po, milestone__kind="DUPRO").current
    assert dupro.content["trends"]["flags"] == []
    client.force_login(world.user("buyer_manager"))
    page = client.get(reverse("reports:version", args=[version.report_id, version.number]))
    assert SENTENCE in page.content.decode()


def test_the_po_summary_heads_with_the_statistical_flag_and_tightens(world):
    _rising(world)
    publish(world, "CLI")
    summary = Report.objects.get(po=world.po, kind="po_summary")
    content = report_services.draft_content(summary)
    trend = content["trend"]
    assert trend["direction"] == "escalating" and trend["flagged"]
    assert trend["headline"].startswith(SENTENCE)
    major = next(f for f in trend["flags"] if f["code"] == "")
    assert major["raised_at"] == "PSI" and major["active"]
    # The DUPRO's CAPAs still open at PSI hold the supplier first; the flag tightens too.
    rules = {rule["code"]: rule for rule in content["recommendation"]["considered"]}
    assert rules["tighten_sampling"]["fired"]
    assert any(r.startswith(SENTENCE) for r in rules["tighten_sampling"]["reasons"])
    html = document_html(content, stamp_for(None), pdf=True)
    assert SENTENCE in html


def test_versions_frozen_before_the_trend_section_still_render_and_are_assessed(world):
    from qcloop.reports.models import ReportVersion

    _rising(world)
    publish(world, "CLI")
    # As if every milestone report of the PO had been published before the section existed.
    for version in ReportVersion.objects.filter(report__po=world.po, report__kind="milestone"):
        old = {key: value for key, value in version.content.items() if key != "trends"}
        ReportVersion.objects.filter(pk=version.pk).update(content={**old, "format": 1})
    psi = Report.objects.get(milestone__po=world.po, milestone__kind="PSI").current
    html = document_html(psi.content, stamp_for(psi), pdf=True)
    assert "PSI report" in html and 'id="trend"' not in html
    # The summary then assesses the PO as of its last published milestone.
    summary = Report.objects.get(po=world.po, kind="po_summary")
    trend = report_services.draft_content(summary)["trend"]
    assert trend["direction"] == "escalating" and trend["headline"].startswith(SENTENCE)
    assert trend["as_of"] == "CLI"
