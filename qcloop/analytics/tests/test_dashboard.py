"""The program dashboard: figures against hand-computed values, filters, bad filters, exports,
who may see it, and tenancy."""

import csv
import io
from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from qcloop.accounts.models import Role
from qcloop.alerts.models import Escalation
from qcloop.analytics.dashboard import Dashboard, Scope, add_months, parse_filters
from qcloop.analytics.models import TrendFlag
from qcloop.analytics.stats import estimate
from qcloop.capa.models import CapaStatus, CorrectiveAction
from qcloop.orders.models import Supplier
from qcloop.orders.services import save_supplier
from qcloop.reports.models import Report
from qcloop.testing import next_po_of

from .builders import factory_of, tally

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_MONTH = add_months(TODAY, -1)  # "M2"
MONTH_BEFORE = add_months(TODAY, -2)  # "M1"


def second_supplier(world):
    manager = world.user(Role.BUYER_MANAGER)
    supplier = save_supplier(
        by=manager,
        supplier=Supplier(buyer=world.buyer, code="V-A02", name="Second Lamps Ltd", country="VN"),
    )
    factory = factory_of(supplier, "Plant Two", manager, "Hanoi", "VN", "Asia/Ho_Chi_Minh")
    return supplier, factory


@pytest.fixture
def program(world):
    """Two suppliers, three POs, five published milestones in the last two months:

    | PO (supplier) | milestone | month | units | critical | major | minor | result |
    | P1 (A)        | IPC       | M1    | 0     | 1        | 1     | 0     | pass   |
    | P1 (A)        | DUPRO     | M1    | 125   | 0        | 3     | 5     | pass   |
    | P2 (A)        | DUPRO     | M2    | 80    | 0        | 2     | 0     | fail   |
    | P3 (Second)   | DUPRO     | M1    | 200   | 0        | 1     | 4     | pass   |
    | P3 (Second)   | PSI       | M2    | 200   | 0        | 6     | 2     | pass   |

    The IPC sampled no units: its defects count as found, not in any rate."""
    p2 = next_po_of(world)
    supplier, factory = second_supplier(world)
    p3 = next_po_of(replace(world, supplier=supplier, factory=factory))
    tally(world.milestones["IPC"], MONTH_BEFORE.replace(day=3), 0, critical=1, major=1)
    tally(world.milestones["DUPRO"], MONTH_BEFORE.replace(day=10), 125, major=3, minor=5)
    tally(p2.milestones["DUPRO"], LAST_MONTH.replace(day=5), 80, major=2, result="fail")
    tally(p3.milestones["DUPRO"], MONTH_BEFORE.replace(day=20), 200, major=1, minor=4)
    tally(p3.milestones["PSI"], LAST_MONTH.replace(day=25), 200, major=6, minor=2)
    return {"world": world, "p2": p2, "p3": p3, "second": supplier}


def board_of(user, **query) -> Dashboard:
    scope = Scope.of_user(user)
    filters = parse_filters(query, scope)
    assert not filters.errors, filters.errors
    return Dashboard(scope, filters)


def rows_of(table) -> list[dict]:
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def test_monthly_rates_per_supplier_and_for_the_program_are_sums_of_the_tallies(program):
    world = program["world"]
    board = board_of(world.user(Role.BUYER_VIEWER))
    by_month = {r.month: r for r in board.program_trend}
    m1, m2 = by_month[MONTH_BEFORE], by_month[LAST_MONTH]
    # M1: 125 + 200 units; majors 3 + 1 (the IPC's is unsampled); minors 5 + 4.
    assert (m1.inspections, m1.units, m1.critical) == (3, 325, 1)
    assert m1.major.rate == pytest.approx(100 * 4 / 325)
    assert m1.minor.rate == pytest.approx(100 * 9 / 325)
    # M2: 80 + 200 units; majors 2 + 6; minors 0 + 2; one failed.
    assert (m2.inspections, m2.units, m2.failed) == (2, 280, 1)
    assert m2.major.rate == pytest.approx(100 * 8 / 280)
    assert m2.minor.rate == pytest.approx(100 * 2 / 280)
    assert (m2.major.low, m2.major.high) == (estimate(8, 280).low, estimate(8, 280).high)
    # Twelve months, the empty ones included (nothing inspected: no rate).
    assert len(board.program_trend) == 12 and by_month[TODAY.replace(day=1)].major.rate is None
    per_supplier = {(r.month, r.supplier): r for r in board.supplier_trend}
    assert per_supplier[(MONTH_BEFORE, "Supplier A Co")].major.rate == pytest.approx(2.4)
    assert per_supplier[(MONTH_BEFORE, "Second Lamps Ltd")].major.rate == pytest.approx(0.5)
    assert per_supplier[(LAST_MONTH, "Supplier A Co")].major.rate == pytest.approx(2.5)
    assert per_supplier[(LAST_MONTH, "Second Lamps Ltd")].major.rate == pytest.approx(3.0)
    # The chart: the top suppliers by units (Second: 400, A: 205), then the program.
    assert [name for name, _ in board.chart_series] == [
        "Second Lamps Ltd",
        "Supplier A Co",
        "All suppliers",
    ]
    charts = board.charts()
    month_index = charts["months"].index(f"{LAST_MONTH:%Y-%m}")
    assert charts["suppliers"][0]["major"][month_index] == 3.0
    assert charts["program"]["major"]["rate"][month_index] == pytest.approx(2.86)


def test_the_monthly_view_compares_with_the_month_before(program):
    world = program["world"]
    board = board_of(world.user(Role.BUYER_MANAGER), period=f"{LAST_MONTH:%Y-%m}")
    now, before = board.headline, board.previous
    assert (now.inspections, now.units, now.failed, now.pos_inspected) == (2, 280, 1, 2)
    assert (before.inspections, before.units, before.critical) == (3, 325, 1)
    assert now.major.rate == pytest.approx(100 * 8 / 280)
    headline = {row["Figure"]: row for row in rows_of(board.table("headline"))}
    major = headline["Major defects per 100 units"]
    assert list(major.values())[1:] == [2.86, 1.23, 1.63]
    assert list(headline["Inspections published"].values())[1:] == [2, 3, -1]
    # The supplier table covers the month only.
    suppliers = rows_of(board.table("supplier-defects"))
    assert [(r["Supplier"], r["Units"], r["Major"]) for r in suppliers] == [
        ("Second Lamps Ltd", 200, 6),
        ("Supplier A Co", 80, 2),
    ]


def test_filters_narrow_every_figure(program):
    world = program["world"]
    user = world.user(Role.BUYER_VIEWER)
    month = f"{LAST_MONTH:%Y-%m}"
    second = board_of(user, period=month, supplier=str(program["second"].pk))
    assert second.headline.units == 200 and second.headline.major.rate == pytest.approx(3.0)
    assert second.headline.pos_in_production == 1
    assert board_of(user, period=month, category="toys").headline.inspections == 0
    assert board_of(user, period=month, category="toys").headline.pos_in_production == 0
    assert board_of(user, period=month, market="US").headline.inspections == 2
    assert board_of(user, period=month, market="DE").headline.inspections == 0
    start, end = MONTH_BEFORE.replace(day=15), LAST_MONTH.replace(day=10)
    ranged = board_of(user, **{"from": start.isoformat(), "to": end.isoformat()})
    # P3's DUPRO (M1 day 20) and P2's DUPRO (M2 day 5): 200 + 80 units, majors 1 + 2.
    assert (ranged.headline.units, ranged.headline.major.found) == (280, 3)


def test_pos_by_next_milestone(program):
    world = program["world"]
    from qcloop.inspections.models import MilestoneStatus

    p2 = program["p2"]
    world.po.milestones.filter(kind__in=["IPC", "DUPRO"]).update(status=MilestoneStatus.PUBLISHED)
    p2.po.milestones.update(status=MilestoneStatus.PUBLISHED)
    board = board_of(world.user(Role.BUYER_VIEWER))
    assert board.headline.pos_in_production == 3
    assert dict(board.stages) == {"IPC": 1, "DUPRO": 0, "PSI": 1, "CLI": 0, "All done": 1}


def test_reports_capas_escalations_and_flags(program):
    world, p3 = program["world"], program["p3"]
    now = timezone.now()
    psi = world.milestones["PSI"]
    Report.objects.create(
        po=world.po,
        milestone=psi,
        kind="milestone",
        clock_started_at=now - timedelta(hours=30),
        due_at=now - timedelta(hours=6),
    )
    Report.objects.create(
        po=p3.po,
        milestone=p3.milestones["DUPRO"],
        kind="milestone",
        clock_started_at=now - timedelta(hours=10),
        due_at=now + timedelta(hours=14),
    )
    # A CAPA from the DUPRO, still open after the PSI was done; another closed.
    psi.submitted_at = now - timedelta(days=1)
    psi.save(update_fields=["submitted_at"])
    capa = dict(
        po=world.po,
        supplier=world.supplier,
        milestone=world.milestones["DUPRO"],
        finding_kind="defect",
        severity="major",
        due_on=TODAY,
    )
    CorrectiveAction.objects.create(number=1, finding_key="defect:a", title="Loose screws", **capa)
    CorrectiveAction.objects.create(
        number=2,
        finding_key="defect:b",
        title="Scratches",
        status=CapaStatus.CLOSED,
        closed_at=now,
        **capa,
    )
    Escalation.objects.create(
        buyer=world.buyer,
        po=world.po,
        supplier=world.supplier,
        kind="critical",
        source="t:1",
        title="Exposed live wire",
        raised_at=now - timedelta(hours=5),
        acknowledged_at=now - timedelta(hours=2),
    )
    Escalation.objects.create(
        buyer=world.buyer,
        po=p3.po,
        supplier=p3.supplier,
        kind="failed",
        source="t:2",
        title="PSI failed",
        raised_at=now - timedelta(hours=1),
    )
    flag = dict(buyer=world.buyer, milestone=p3.milestones["PSI"], defect_class="major")
    TrendFlag.objects.create(
        po=p3.po,
        supplier=p3.supplier,
        escalating=True,
        p_value=0.004,
        probability=0.99,
        strength="strong",
        explanation="Majors rose from 0.5 to 3.0 per 100.",
        **flag,
    )
    TrendFlag.objects.create(
        po=world.po,
        supplier=world.supplier,
        defect_code="LT-01",
        escalating=True,
        p_value=0.2,
        probability=0.8,
        strength="weak",
        explanation="cleared",
        cleared_at=now,
        **{**flag, "milestone": world.milestones["PSI"]},
    )
    board = board_of(world.user(Role.COORDINATOR))
    h = board.headline
    assert h.reports_overdue == 1
    assert (h.open_capas, h.capas_open_after_psi) == (1, 1)
    assert (h.escalations, h.escalations_unacknowledged) == (2, 1)
    assert h.mean_hours_to_acknowledge == 3.0
    assert h.active_flags == 1
    [overdue] = rows_of(board.table("reports-overdue"))
    assert overdue["PO"] == world.po.number and overdue["Hours late"] == 6.0
    [open_capa] = rows_of(board.table("open-capas"))
    assert open_capa["CAPA"] == f"CAPA-{world.po.number}-1"
    assert open_capa["Still open after PSI"] == "yes"
    escalations = rows_of(board.table("escalations"))
    assert [e["What"] for e in escalations] == ["PSI failed", "Exposed live wire"]
    assert escalations[1]["Hours to acknowledge"] == 3.0
    by_month = rows_of(board.table("escalations-by-month"))
    assert sum(r["Raised"] for r in by_month) == 2 and sum(r["Acknowledged"] for r in by_month) == 1
    [standing] = rows_of(board.table("trend-flags"))
    assert (standing["PO"], standing["Strength"], standing["p-value"]) == (
        p3.po.number,
        "strong",
        0.004,
    )
    history = {r["Month"]: r for r in rows_of(board.table("flag-history"))}
    assert (history[f"{TODAY:%Y-%m}"]["Raised"], history[f"{TODAY:%Y-%m}"]["Still standing"]) == (
        2,
        1,
    )
    # The page shows them, with their export links.
    client = Client()
    client.force_login(world.user(Role.BUYER_VIEWER))
    page = client.get("/dashboard/").content.decode()
    assert "Majors rose from 0.5 to 3.0 per 100." in page and "Exposed live wire" in page
    assert "/dashboard/export/trend-flags.csv" in page and "/dashboard/export/all.xlsx" in page


def test_long_lists_show_the_first_rows_and_count_the_rest(program, monkeypatch):
    world = program["world"]
    now = timezone.now()
    for i in range(5):
        Escalation.objects.create(
            buyer=world.buyer,
            po=world.po,
            supplier=world.supplier,
            kind="late",
            source=f"late:{i}",
            title=f"Late {i}",
            raised_at=now - timedelta(minutes=i),
        )
    scope = Scope.of_user(world.user(Role.BUYER_VIEWER))
    filters = parse_filters({}, scope)
    board = Dashboard(scope, filters, limit=2)
    assert [e.title for e in board.escalations.rows] == ["Late 0", "Late 1"]
    assert board.escalations.more == 3
    assert len(Dashboard(scope, filters, limit=None).table("escalations").rows) == 5


def test_a_milestone_published_through_the_services_reaches_the_dashboard(world):
    from qcloop.reports import services
    from qcloop.testing import submit_inspection_of

    day = LAST_MONTH.replace(day=12)
    dupro = world.milestones["DUPRO"]
    # The inspection happened last month, production having started a fortnight before.
    type(dupro).objects.filter(pk=dupro.pk).update(window_start=day, window_end=day)
    type(world.po).objects.filter(pk=world.po.pk).update(production_start=day - timedelta(14))
    world.milestones["DUPRO"].refresh_from_db()
    submit_inspection_of(
        world, "DUPRO", defects=[("major", 2, "Loose screws"), ("minor", 3, "Scuff")]
    )
    services.approve(by=world.qc_lead, report=Report.objects.get(milestone=dupro))
    board = board_of(world.user(Role.BUYER_MANAGER), period=f"{LAST_MONTH:%Y-%m}")
    # 3000 units, general level II: code K, 125 units for major and minor alike.
    assert (board.headline.inspections, board.headline.units) == (1, 125)
    assert board.headline.major.rate == pytest.approx(1.6)
    assert board.headline.minor.rate == pytest.approx(2.4)


def test_the_number_of_queries_does_not_grow_with_the_program(program):
    world = program["world"]
    client = Client()
    client.force_login(world.user(Role.BUYER_VIEWER))
    with CaptureQueriesContext(connection) as small:
        assert client.get("/dashboard/").status_code == 200
    for _ in range(3):
        more = next_po_of(world)
        tally(more.milestones["DUPRO"], LAST_MONTH.replace(day=2), 50, major=1)
    with CaptureQueriesContext(connection) as large:
        assert client.get("/dashboard/").status_code == 200
    assert len(large) == len(small)


# --- bad filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=2025-13", "period: '2025-13' is not a calendar month (YYYY-MM) or 'live'."),
        ("period=last", "period: 'last' is not a calendar month (YYYY-MM) or 'live'."),
        ("category=shoes", "category: 'shoes' is not a product category"),
        ("market=XX", "market: 'XX' is not a market"),
        ("supplier=abc", "supplier: no supplier #abc in your program."),
        ("from=2025-02-30", "from: '2025-02-30' is not a date (YYYY-MM-DD)."),
        ("from=2025-03-01&to=2025-02-01", "from: 2025-03-01 is after to (2025-02-01)."),
        ("period=2025-01&from=2025-01-01", "period: choose a month or from/to dates, not both."),
    ],
)
def test_a_bad_filter_is_named_on_the_page_and_nothing_else_is_shown(world, query, message):
    client = Client()
    client.force_login(world.user(Role.BUYER_VIEWER))
    response = client.get(f"/dashboard/?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert message.replace("'", "&#x27;") in page
    assert 'id="headline"' not in page and "dashboard-data" not in page
    export = client.get(f"/dashboard/export/headline.csv?{query}")
    assert export.status_code == 400 and message in export.content.decode()


def test_a_month_not_begun_yet_is_refused(world):
    scope = Scope.of_user(world.user(Role.BUYER_VIEWER))
    future = add_months(TODAY, 1)
    filters = parse_filters({"period": f"{future:%Y-%m}"}, scope)
    assert filters.errors == [f"period: {future:%Y-%m} has not begun yet (today is {TODAY})."]


def test_another_tenants_supplier_reads_as_unknown_and_shows_nothing(world, other_world):
    tally(other_world.milestones["DUPRO"], LAST_MONTH, 125, major=9)
    client = Client()
    client.force_login(world.user(Role.BUYER_MANAGER))
    theirs = other_world.supplier.pk
    response = client.get(f"/dashboard/?supplier={theirs}")
    page = response.content.decode()
    assert response.status_code == 400
    assert f"supplier: no supplier #{theirs} in your program." in page
    assert other_world.supplier.name not in page and other_world.po.number not in page
    export = client.get(f"/dashboard/export/defect-trends.csv?supplier={theirs}")
    assert export.status_code == 400 and other_world.supplier.name not in export.content.decode()
    # Unfiltered, the other tenant's tallies are not counted.
    assert board_of(world.user(Role.BUYER_MANAGER)).headline.units == 0
    assert other_world.supplier.name not in client.get("/dashboard/").content.decode()


def test_an_agency_narrows_to_one_buyer_but_not_to_a_stranger(world, other_world):
    coordinator = world.user(Role.COORDINATOR)
    scope = Scope.of_user(coordinator)
    assert not parse_filters({"buyer": str(world.buyer.pk)}, scope).errors
    assert parse_filters({"buyer": str(other_world.buyer.pk)}, scope).errors == [
        f"buyer: no buyer #{other_world.buyer.pk} among the clients you serve."
    ]
    # A buyer's people see their own program: there is no buyer to choose.
    buyer_scope = Scope.of_user(world.user(Role.BUYER_MANAGER))
    assert parse_filters({"buyer": str(world.buyer.pk)}, buyer_scope).errors


# --- who sees it -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.BUYER_VIEWER, 200),
        (Role.BUYER_MANAGER, 200),
        (Role.COORDINATOR, 200),
        (Role.QC_LEAD, 200),
        (Role.ADMIN, 200),
        (Role.INSPECTOR, 404),
        (Role.SUPPLIER_USER, 404),
    ],
)
def test_who_sees_the_dashboard(world, role, status):
    client = Client()
    client.force_login(world.user(role))
    assert client.get("/dashboard/").status_code == status
    assert client.get("/dashboard/export/headline.csv").status_code == status
    home = client.get("/").content.decode()
    assert ('href="/dashboard/"' in home) == (status == 200)


def test_an_anonymous_visitor_is_sent_to_sign_in(world):
    response = Client().get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- exports -----------------------------------------------------------------------------------


def test_csv_export_holds_the_tables_rows(program):
    world = program["world"]
    client = Client()
    client.force_login(world.user(Role.BUYER_VIEWER))
    response = client.get(f"/dashboard/export/defect-trends.csv?period={LAST_MONTH:%Y-%m}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    expected_name = f"dashboard-{LAST_MONTH:%Y-%m}-defect-trends.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{expected_name}"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    program_m2 = next(
        r for r in rows if r["Month"] == f"{LAST_MONTH:%Y-%m}" and r["Supplier"] == "All suppliers"
    )
    assert (program_m2["Units"], program_m2["Major"], program_m2["Major per 100"]) == (
        "280",
        "8",
        "2.86",
    )
    second_m1 = next(
        r
        for r in rows
        if r["Month"] == f"{MONTH_BEFORE:%Y-%m}" and r["Supplier"] == "Second Lamps Ltd"
    )
    assert (second_m1["Minor"], second_m1["Minor per 100"]) == ("4", "2.0")


def test_xlsx_of_all_tables_has_one_sheet_each(program):
    world = program["world"]
    client = Client()
    client.force_login(world.user(Role.BUYER_VIEWER))
    response = client.get(f"/dashboard/export/all.xlsx?period={LAST_MONTH:%Y-%m}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == len(Dashboard.TABLE_NAMES)
    sheet = book["Defect rates by supplier"]
    header = [c.value for c in sheet[1]]
    values = {
        row[header.index("Supplier")]: row for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    second = values["Second Lamps Ltd"]
    assert second[header.index("Units")] == 200 and second[header.index("Major")] == 6
    assert second[header.index("Major per 100")] == 3.0
    headline = book["Headline figures"]
    assert headline["A1"].value == "Figure" and headline["B2"].value == 3  # POs in production
    single = client.get("/dashboard/export/headline.xlsx")
    assert load_workbook(io.BytesIO(single.content)).sheetnames == ["Headline figures"]


def test_unknown_tables_and_formats_answer_404(world):
    client = Client()
    client.force_login(world.user(Role.BUYER_VIEWER))
    assert client.get("/dashboard/export/nothing.csv").status_code == 404
    assert client.get("/dashboard/export/headline.pdf").status_code == 404
    assert client.get("/dashboard/export/all.csv").status_code == 404


def test_the_live_period_is_the_last_twelve_months(world):
    scope = Scope.of_user(world.user(Role.BUYER_VIEWER))
    period = parse_filters({}, scope, today=date(2026, 3, 14)).period
    assert (period.kind, period.start, period.end) == ("live", date(2025, 4, 1), date(2026, 3, 14))
    assert len(period.months) == 12
    month = parse_filters({"period": "2026-02"}, scope, today=date(2026, 3, 14)).period
    assert (month.start, month.end, month.months[0]) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
        date(2025, 3, 1),
    )
    assert month.previous.start == date(2026, 1, 1) and month.previous.end == date(2026, 1, 31)


def test_a_supplier_above_its_own_control_limit_is_listed_as_drifting(program):
    """Supplier A: seven months of 200 units with 2 majors each, then last month 14 in 200.
    Pooled with the fixture's M1/M2 tallies (125 units 3 majors, 80 units 2 majors):
    centre = (7 x 2 + 14 + 3 + 2) / (7 x 200 + 200 + 125 + 80) = 33 / 1805 = 1.83 %. Last
    month holds 200 + 80 = 280 units and 16 majors: 5.71 %, against the upper limit
    1.83 + 3 sqrt(0.0183 x 0.9817 / 280) = 1.83 + 2.40 = 4.22 % for 280 units: drifting.
    The Second supplier has two months only (fewer than six): no chart is judged."""
    world = program["world"]
    for months_back in range(3, 10):
        po = next_po_of(world)
        tally(po.milestones["PSI"], add_months(TODAY, -months_back).replace(day=12), 200, major=2)
    po = next_po_of(world)
    tally(po.milestones["PSI"], LAST_MONTH.replace(day=15), 200, major=14)
    board = board_of(world.user(Role.BUYER_VIEWER))
    [drift] = board.drifting
    assert (drift.supplier, drift.defect_class, drift.month) == (
        "Supplier A Co",
        "major",
        LAST_MONTH,
    )
    assert (drift.units, drift.found) == (280, 16)
    centre = 33 / 1805
    assert drift.centre == pytest.approx(100 * centre)
    assert drift.rate == pytest.approx(100 * 16 / 280)
    upper = centre + 3 * (centre * (1 - centre) / 280) ** 0.5
    assert drift.upper_limit == pytest.approx(100 * upper)
    [row] = rows_of(board.table("drifting-suppliers"))
    assert row["Supplier"] == "Supplier A Co" and row["Month"] == f"{LAST_MONTH:%Y-%m}"
    # The month of the fixture's own rates (M1: 3 in 125, 2.4 %) is within its limit.
    assert all(d.month == LAST_MONTH for d in board.drifting)
