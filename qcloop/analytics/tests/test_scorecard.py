"""Supplier scorecards from the database: figures of a small program against hand-computed
values, per factory, per category and per month (the p-chart), CAPAs, escalations and flags;
the filters; the exports parsed back; who may see what; and the list's query count, which
does not grow with the number of suppliers."""

import csv
import io
import math
from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from qcloop.accounts.models import Role
from qcloop.alerts.models import Escalation
from qcloop.analytics.dashboard import add_months
from qcloop.analytics.models import TrendFlag
from qcloop.analytics.scorecard import Scorecard, Scorecards, parse_filters
from qcloop.analytics.stats import estimate
from qcloop.capa.models import CapaStatus, CorrectiveAction
from qcloop.inspections.models import Milestone
from qcloop.orders.models import PurchaseOrder, Supplier
from qcloop.orders.services import save_supplier
from qcloop.testing import next_po_of

from .builders import at, factory_of, tally

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
M1 = add_months(TODAY, -2)  # the month before last
M2 = add_months(TODAY, -1)  # last month
DASH = "\u2013"  # the interval's en dash on the page


def ex_factory(po, day: date):
    PurchaseOrder.objects.filter(pk=po.pk).update(ex_factory_date=day, ship_date=day)


def reinspection(po, day: date) -> Milestone:
    return Milestone.objects.create(po=po, kind="PSI", sequence=2, window_start=day, window_end=day)


def capa(po, milestone, number, key, opened, **fields):
    values = {
        "finding_kind": "defect",
        "severity": "major",
        "title": f"Finding {key}",
        "due_on": opened.date() + timedelta(days=7),
        "opened_at": opened,
    }
    return CorrectiveAction.objects.create(
        po=po,
        supplier=po.supplier,
        milestone=milestone,
        number=number,
        finding_key=key,
        **(values | fields),
    )


@pytest.fixture
def program(world):
    return build_program(world)


def build_program(world) -> dict:
    """Supplier A (two factories, three POs) and supplier B (one PO), published milestones in
    the last two months (M1, M2):

    | PO | factory | milestone | day    | units | crit | major | minor | result | ex-factory |
    | P1 | F1      | DUPRO     | M1 d5  | 125   | 0    | 2     | 3     | pass   |            |
    | P1 | F1      | PSI       | M1 d20 | 200   | 0    | 3     | 4     | fail   | M1 d18     |
    | P1 | F1      | PSI #2    | M2 d2  | 200   | 0    | 1     | 2     | pass   |            |
    | P2 | F1      | PSI       | M2 d10 | 80    | 0    | 0     | 1     | pass   | M2 d5      |
    | P3 | F2      | IPC       | M1 d3  | 0     | 0    | 1     | 0     | pass   |            |
    | P3 | F2      | PSI       | M2 d15 | 125   | 1    | 2     | 0     | pass   | M2 d20     |
    | P4 | B       | PSI       | M2 d8  | 315   | 0    | 0     | 2     | pass   | M2 d8      |
    """
    manager = world.user(Role.BUYER_MANAGER)
    f2 = factory_of(world.supplier, "Plant Two", manager)
    p1 = world
    p2 = next_po_of(world)
    p3 = next_po_of(replace(world, factory=f2))
    b = save_supplier(
        by=manager,
        supplier=Supplier(buyer=world.buyer, code="V-B02", name="Bamboo Lamps Ltd", country="VN"),
    )
    p4 = next_po_of(replace(world, supplier=b, factory=factory_of(b, "Plant B", manager)))
    tally(p1.milestones["DUPRO"], M1.replace(day=5), 125, major=2, minor=3)
    tally(p1.milestones["PSI"], M1.replace(day=20), 200, major=3, minor=4, result="fail")
    tally(reinspection(p1.po, M2.replace(day=2)), M2.replace(day=2), 200, major=1, minor=2)
    tally(p2.milestones["PSI"], M2.replace(day=10), 80, minor=1)
    tally(p3.milestones["IPC"], M1.replace(day=3), 0, major=1)
    tally(p3.milestones["PSI"], M2.replace(day=15), 125, critical=1, major=2)
    tally(p4.milestones["PSI"], M2.replace(day=8), 315, minor=2)
    ex_factory(p1.po, M1.replace(day=18))  # PSI 2 days after: within the 3 days' grace
    ex_factory(p2.po, M2.replace(day=5))  # PSI 5 days after: late
    ex_factory(p3.po, M2.replace(day=20))
    ex_factory(p4.po, M2.replace(day=8))
    # CAPAs of A: two closed after 4 and 10 days, one open past due (a recurrence of the
    # first), one accepted (open, not past due: the answer is in), one before the period.
    c1 = capa(p1.po, p1.milestones["DUPRO"], 1, "defect:a", at(M1.replace(day=5)))
    CorrectiveAction.objects.filter(pk=c1.pk).update(
        status=CapaStatus.CLOSED, closed_at=at(M1.replace(day=9), 15)
    )
    capa(
        p1.po,
        p1.milestones["PSI"],
        2,
        "defect:b",
        at(M1.replace(day=20), 8),
        status=CapaStatus.CLOSED,
        closed_at=at(M1.replace(day=20), 8) + timedelta(days=10),
    )
    capa(
        p2.po,
        p2.milestones["PSI"],
        1,
        "defect:a",
        at(M2.replace(day=10)),
        due_on=M2.replace(day=12),
        recurrence_of=c1,
    )
    capa(
        p3.po,
        p3.milestones["PSI"],
        1,
        "defect:c",
        at(M2.replace(day=15)),
        status=CapaStatus.ACCEPTED,
        due_on=M2.replace(day=16),
    )
    capa(
        p3.po,
        p3.milestones["IPC"],
        2,
        "defect:a",
        at(TODAY - timedelta(days=400)),
        status=CapaStatus.CLOSED,
        closed_at=at(TODAY - timedelta(days=300)),
        recurrence_of=c1,
    )
    # Escalations of A: acknowledged after 30 and 90 minutes, one not yet; one long ago.
    for source, po, kind, raised, minutes in (
        ("e1", p3.po, "critical", at(M2.replace(day=15), 10), 30),
        ("e2", p1.po, "failed", at(M1.replace(day=20), 9), 90),
        ("e3", p2.po, "late", at(M2.replace(day=10), 9), None),
        ("e4", p2.po, "late", at(TODAY - timedelta(days=500)), 5),
    ):
        Escalation.objects.create(
            buyer=world.buyer,
            po=po,
            supplier=po.supplier,
            kind=kind,
            source=source,
            title=f"Escalation {source}",
            raised_at=raised,
            acknowledged_at=raised + timedelta(minutes=minutes) if minutes else None,
        )
    flag = {
        "buyer": world.buyer,
        "supplier": world.supplier,
        "defect_class": "major",
        "probability": 0.99,
        "explanation": "Majors rose from 1.0 to 2.5 per 100 over three lots.",
    }
    TrendFlag.objects.create(
        po=p1.po, milestone=p1.milestones["PSI"], escalating=True, p_value=0.004,
        strength="strong", **flag,
    )  # fmt: skip
    TrendFlag.objects.create(
        po=p2.po, milestone=p2.milestones["PSI"], defect_code="LT-01", escalating=True,
        p_value=0.2, strength="weak", cleared_at=timezone.now(), **flag,
    )  # fmt: skip
    TrendFlag.objects.create(
        po=p3.po, milestone=p3.milestones["PSI"], defect_code="LT-02", p_value=0.6,
        strength="none", **flag,
    )  # fmt: skip
    return {"world": world, "a": world.supplier, "b": b, "f1": world.factory, "f2": f2}


def filters(**query):
    parsed = parse_filters(query)
    assert not parsed.errors, parsed.errors
    return parsed


def wilson(found, n):
    return estimate(found, n).low, estimate(found, n).high


def test_the_supplier_figures_are_the_sums_of_its_published_milestones(program):
    world = program["world"]
    card = Scorecard(world.user(Role.BUYER_VIEWER), filters(), program["a"])
    s = card.total
    # PSI lots: P1 (200), P1 #2 (200), P2 (80), P3 (125) = 605 units; the DUPRO is not a lot.
    assert (s.psi.lots, s.psi.units) == (4, 605)
    assert (s.psi.critical, s.psi.major, s.psi.minor) == (1, 6, 7)
    assert s.psi_major.rate == pytest.approx(100 * 6 / 605)
    assert (s.psi_major.low, s.psi_major.high) == wilson(6, 605)
    # Every sampled milestone adds the DUPRO (125); the IPC sampled nothing and is left out.
    assert (s.sampled.lots, s.sampled.units) == (5, 730)
    assert (s.sampled.critical, s.sampled.major, s.sampled.minor) == (1, 8, 10)
    # First PSIs: P1 failed, P2 and P3 passed (P1's re-inspection does not count).
    assert (s.first_pass.part, s.first_pass.whole) == (2, 3)
    assert s.first_pass.percent == pytest.approx(200 / 3)
    assert s.first_pass.uncertain
    # On time: P1 (2 days after ex-factory, within grace) and P3; P2 was 5 days late.
    assert (s.on_time.part, s.on_time.whole) == (2, 3)
    assert s.pos == 3


def test_capas_opened_in_the_period_their_closure_and_recurrences(program):
    card = Scorecard(program["world"].user(Role.BUYER_VIEWER), filters(), program["a"])
    c = card.total.capas
    # Four opened in the period (the one from 400 days ago is not); two not closed.
    assert (c.opened, c.still_open, c.open_past_due, c.recurrences) == (4, 2, 1, 1)
    # Closed after 4 and 10 calendar days: median 7, 90th percentile 4 + 0.9 * 6 = 9.4.
    assert c.closure.closed == 2
    assert c.closure.median_days == 7
    assert c.closure.p90_days == pytest.approx(9.4)
    assert c.recurrence_share.percent == 25.0
    assert [(r["finding_key"], r["times"], r["pos"]) for r in card.recurring] == [
        ("defect:a", 1, 1)
    ]


def test_escalations_per_ten_pos_and_the_time_to_acknowledge(program):
    card = Scorecard(program["world"].user(Role.BUYER_VIEWER), filters(), program["a"])
    e = card.total.escalations
    assert e.by_kind == {"critical": 1, "failed": 1, "late": 1}
    assert e.total == 3
    assert e.per_ten_pos == 10.0  # 3 escalations in 3 POs inspected
    assert e.acknowledged == 2
    assert e.median_minutes_to_acknowledge == 60.0  # 30 and 90


def test_only_standing_trend_flags(program):
    card = Scorecard(program["world"].user(Role.BUYER_VIEWER), filters(), program["a"])
    assert [(f.po.number, f.strength) for f in card.flags] == [("PO-A-1001", "strong")]
    assert card.total.active_flags == 1


def test_per_factory_and_per_category(program):
    card = Scorecard(program["world"].user(Role.BUYER_VIEWER), filters(), program["a"])
    f1, f2 = card.by_factory  # "Plant A", "Plant Two"
    assert (f1.name, f2.name) == ("Plant A", "Plant Two")
    # F1: PSI lots 200 + 200 + 80; first PSIs P1 (fail) and P2 (pass); P2 late.
    assert (f1.psi.lots, f1.psi.units, f1.psi.major, f1.psi.minor) == (3, 480, 4, 7)
    assert (f1.first_pass.part, f1.first_pass.whole) == (1, 2)
    assert (f1.on_time.part, f1.on_time.whole) == (1, 2)
    assert f1.pos == 2
    # F2: one PSI of 125 units with a critical.
    assert (f2.psi.units, f2.psi.critical, f2.psi.major) == (125, 1, 2)
    assert f2.psi_critical.rate == pytest.approx(0.8)
    assert (f2.first_pass.part, f2.on_time.part, f2.pos) == (1, 1, 1)
    (lighting,) = card.by_category
    assert lighting.name == "Lighting" and lighting.psi.units == 605


def test_the_p_chart_of_a_factory_by_month(program):
    card = Scorecard(program["world"].user(Role.BUYER_VIEWER), filters(), program["a"])
    chart = next(c for c in card.charts if c["name"] == "Plant A")["charts"]["all"]
    # M1: DUPRO 125 units (5 defects) + PSI 200 (7); M2: PSI #2 200 (3) + P2's PSI 80 (1).
    assert [(p.label, p.units, p.found) for p in chart.points] == [
        (f"{M1:%Y-%m}", 325, 12),
        (f"{M2:%Y-%m}", 280, 4),
    ]
    centre = 16 / 605
    assert chart.centre == pytest.approx(100 * centre)
    for point in chart.points:
        sigma = math.sqrt(centre * (1 - centre) / point.units)
        assert point.upper_limit == pytest.approx(100 * (centre + 3 * sigma))
        assert point.lower_limit == pytest.approx(100 * max(0.0, centre - 3 * sigma))
    assert not chart.signals
    major = next(c for c in card.charts if c["name"] == "Plant A")["charts"]["major"]
    assert [p.found for p in major.points] == [5, 1]
    data = card.chart_json()
    assert data["classes"] == ["all", "critical", "major", "minor"]
    assert [f["name"] for f in data["factories"]] == ["Plant A", "Plant Two"]


def test_the_list_side_by_side_and_sorted(program):
    cards = Scorecards(program["world"].user(Role.BUYER_VIEWER), filters(sort="major-best"))
    a, b = program["a"], program["b"]
    by_name = {s.name: s for s in cards.scores}
    assert set(by_name) == {a.name, b.name}
    sa, sb = by_name[a.name], by_name[b.name]
    assert (sa.psi.units, sa.psi.major, sa.pos) == (605, 6, 3)
    assert (sa.capas.opened, sa.capas.recurrences, sa.escalations.total) == (4, 1, 3)
    assert sa.active_flags == 1
    assert (sb.psi.units, sb.psi.major, sb.pos) == (315, 0, 1)
    assert sb.capas.opened == 0 and sb.escalations.total == 0
    # B: 0 in 315 (upper 1.2) ranks above A: 6 in 605 (upper 2.1).
    assert sb.psi_major.high == pytest.approx(wilson(0, 315)[1])
    assert [s.name for s in cards.scores] == [b.name, a.name]
    assert cards.not_inspected == 0


def test_the_period_and_the_category_narrow_the_figures(program):
    user = program["world"].user(Role.BUYER_VIEWER)
    last_month = filters(
        **{"from": M2.isoformat(), "to": (add_months(M2, 1) - timedelta(1)).isoformat()}
    )
    s = Scorecard(user, last_month, program["a"]).total
    # M2 only: P1 #2 (200), P2 (80), P3 (125); P1's first PSI was in M1.
    assert (s.psi.units, s.first_pass.whole, s.pos) == (405, 2, 3)
    assert s.capas.opened == 2
    toys = Scorecards(user, filters(category="toys"))
    assert toys.scores == [] and toys.not_inspected == 2
    lighting = Scorecards(user, filters(category="lighting"))
    assert len(lighting.scores) == 2


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"from": "2025-13-01"}, "from: '2025-13-01' is not a date (YYYY-MM-DD)."),
        ({"from": "2025-05-02", "to": "2025-05-01"}, "from: 2025-05-02 is after to (2025-05-01)."),
        ({"from": "2015-01-01", "to": "2025-01-01"}, "from/to: at most 60 months at a time."),
        ({"category": "weapons"}, "category: 'weapons' is not a product category"),
        ({"sort": "cheapest"}, "sort: 'cheapest' is not a way to sort"),
    ],
)
def test_bad_filters_are_named_and_show_no_figures(program, query, error):
    parsed = parse_filters(query)
    assert parsed.errors and parsed.errors[0].startswith(error)
    client = Client()
    client.force_login(program["world"].user(Role.BUYER_VIEWER))
    response = client.get(reverse("analytics:scorecards"), query)
    assert response.status_code == 400
    assert error.split(":")[0] in response.content.decode()
    assert b"table-scorecards" not in response.content
    export = client.get(reverse("analytics:scorecards_export", args=["scorecards", "csv"]), query)
    assert export.status_code == 400


def test_the_default_period_is_the_last_twelve_months():
    parsed = parse_filters({})
    assert parsed.start == add_months(TODAY, -11) and parsed.end == TODAY


# --- the pages and their exports -----------------------------------------------------------------


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_pages_show_the_figures_with_their_intervals(program):
    client = client_of(program["world"].user(Role.BUYER_VIEWER))
    page = client.get(reverse("analytics:scorecard", args=[program["a"].pk])).content.decode()
    low, high = wilson(6, 605)
    assert f'{100 * 6 / 605:.1f}</span> <span class="interval">({low:.1f}{DASH}{high:.1f})' in page
    assert "6 in 605 units" in page
    assert "2 of 3 POs" in page  # first-time pass and on time
    assert "uncertain" in page
    assert 'id="pchart-' in page and 'id="scorecard-data"' in page
    assert "Majors rose from 1.0 to 2.5 per 100" in page
    assert "How the figures are counted" in page
    listing = client.get(reverse("analytics:scorecards")).content.decode()
    assert program["a"].name in listing and program["b"].name in listing
    # B found nothing in 315 units: 0.0 with its upper bound, not "perfect".
    assert f'0.0</span> <span class="interval">(0.0{DASH}{wilson(0, 315)[1]:.1f})' in listing
    assert "perfect" not in listing.split("How the figures are counted")[0]


def parse_csv(response) -> list[dict]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_the_exports_parse_back_to_the_figures(program):
    client = client_of(program["world"].user(Role.BUYER_VIEWER))
    a = program["a"]
    rows = parse_csv(client.get(reverse("analytics:scorecards_export", args=["scorecards", "csv"])))
    row = next(r for r in rows if r["Supplier"] == a.name)
    assert (row["PSI units"], row["PSI major"], row["CAPAs opened"]) == ("605", "6", "4")
    assert float(row["PSI major per 100"]) == round(100 * 6 / 605, 2)
    assert float(row["Major 95% high"]) == round(wilson(6, 605)[1], 2)
    assert row["CAPA median days to close"] == "7.0"
    summary = parse_csv(
        client.get(reverse("analytics:scorecard_export", args=[a.pk, "summary", "csv"]))
    )
    figures = {r["Figure"]: r for r in summary}
    assert figures["First-time pass rate at PSI %"]["Basis"] == "2 of 3 POs"
    assert float(figures["On-time production %"]["Value"]) == round(200 / 3, 2)
    chart = parse_csv(
        client.get(reverse("analytics:scorecard_export", args=[a.pk, "p-chart", "csv"]))
    )
    plant_a_all = [r for r in chart if r["Factory"] == "Plant A" and r["Defect class"] == "all"]
    assert [(r["Units"], r["Defects"]) for r in plant_a_all] == [("325", "12"), ("280", "4")]
    book = client.get(reverse("analytics:scorecard_export", args=[a.pk, "all", "xlsx"]))
    assert book["Content-Disposition"].startswith(
        f'attachment; filename="scorecard-v-a01-{TODAY.year}'
    )
    sheets = load_workbook(io.BytesIO(book.content))
    assert sheets.sheetnames == [
        "Scorecard",
        "By factory",
        "By category",
        "p-chart by factory and month",
        "Trend flags standing",
        "Findings that came back",
    ]
    by_factory = sheets["By factory"]
    assert [c.value for c in by_factory[2]][:4] == ["Plant A", 2, 3, 480]
    for bad in (["nope", "csv"], ["summary", "pdf"], ["all", "csv"]):
        url = reverse("analytics:scorecard_export", args=[a.pk, *bad])
        assert client.get(url).status_code == 404


# --- who sees what -------------------------------------------------------------------------------


def test_another_buyer_sees_neither_page_nor_export(program, other_world):
    a = program["a"]
    for user in other_world.users.values():
        client = client_of(user)
        for url in (
            reverse("analytics:scorecard", args=[a.pk]),
            reverse("analytics:scorecard_export", args=[a.pk, "summary", "csv"]),
        ):
            assert client.get(url).status_code == 404, (user, url)
        listing = client.get(reverse("analytics:scorecards"))
        assert a.name.encode() not in listing.content


def test_a_supplier_sees_only_its_own_scorecard_and_no_escalations(program):
    supplier_user = program["world"].user(Role.SUPPLIER_USER)
    client = client_of(supplier_user)
    assert client.get(reverse("analytics:scorecard", args=[program["b"].pk])).status_code == 404
    page = client.get(reverse("analytics:scorecard", args=[program["a"].pk]))
    assert page.status_code == 200
    assert b"Escalations per 10 POs" not in page.content
    cards = Scorecards(supplier_user, filters())
    assert [s.name for s in cards.scores] == [program["a"].name]
    assert cards.scores[0].escalations is None
    listing = client.get(reverse("analytics:scorecards")).content.decode()
    assert program["b"].name not in listing
    rows = parse_csv(client.get(reverse("analytics:scorecards_export", args=["scorecards", "csv"])))
    assert [r["Supplier"] for r in rows] == [program["a"].name]
    assert "Escalations" not in rows[0]


def test_inspectors_have_no_scorecards_agency_staff_do(program):
    world = program["world"]
    client = client_of(world.inspector)
    assert client.get(reverse("analytics:scorecards")).status_code == 404
    assert client.get(reverse("analytics:scorecard", args=[program["a"].pk])).status_code == 404
    coordinator = Scorecards(world.user(Role.COORDINATOR), filters())
    assert {s.name for s in coordinator.scores} == {program["a"].name, program["b"].name}
    assert next(s for s in coordinator.scores if s.name == program["a"].name).psi.units == 605


def test_the_list_runs_the_same_queries_for_more_suppliers(program):
    world = program["world"]
    client = client_of(world.user(Role.BUYER_VIEWER))
    url = reverse("analytics:scorecards")
    client.get(url)
    with CaptureQueriesContext(connection) as two:
        client.get(url)
    manager = world.user(Role.BUYER_MANAGER)
    for n in range(3):
        c = save_supplier(
            by=manager,
            supplier=Supplier(buyer=world.buyer, code=f"V-C{n}", name=f"Cedar {n}", country="CN"),
        )
        more = next_po_of(replace(world, supplier=c, factory=factory_of(c, f"Plant C{n}", manager)))
        tally(more.milestones["PSI"], M2.replace(day=3), 50, major=1)
    with CaptureQueriesContext(connection) as five:
        response = client.get(url)
    assert response.content.count(b"data-supplier=") == 5
    assert len(five) == len(two)


def test_published_through_the_services_the_scorecard_counts_the_records(world):
    from qcloop.analytics.tests.test_tally import publish

    psi = publish(world, "PSI", defects=(("major", 3, "Open seam"), ("minor", 4, "Loose thread")))
    day = psi.inspection_date
    card = Scorecard(
        world.user(Role.BUYER_MANAGER),
        filters(**{"from": day.isoformat(), "to": day.isoformat()}),
        world.supplier,
    )
    s = card.total
    # 3000 units at level II: 125 inspected (see testing.start_inspection).
    assert (s.psi.units, s.psi.major, s.psi.minor) == (125, 3, 4)
    assert (s.psi_major.low, s.psi_major.high) == wilson(3, 125)
    assert s.first_pass.whole == 1 and s.first_pass.part == (1 if psi.result == "pass" else 0)
    # The PSI's window is before the planned ex-factory date.
    assert (s.on_time.part, s.on_time.whole) == (1, 1)
