"""A generated QC program at scale, for timing the analytics pages (bench/dashboard_scale.py).

One buyer (the timed tenant) served by one QC agency: ~40 suppliers with 1-3 factories, ~300
products over the categories, N purchase orders over ~24 months (ex-factory dates from 23
months ago to 2 months ahead), each with its four milestones (IPC, DUPRO, PSI, CLI; a PO whose
PSI failed has a PSI #2 re-inspection and was bought without an IPC, so the program keeps
four milestones per PO), defect records, reports, CAPAs, escalations, the analytics' tallies
and trend flags. A small second buyer, served by the same agency, makes the tenancy filters
real.

The people, organisations, suppliers, factories and products are made through the real
services. The bulk (POs, lines, milestones, defects, reports, CAPAs and their answers and
verifications, escalations and their notifications, tallies, trend flags) is written with
COPY on PostgreSQL and executemany on SQLite, with primary keys chosen here so that no row
needs a round trip; the rows are what the services would have made:

* statuses follow the dates: inspected more than three days ago -> published (a few left
  submitted: reports overdue), in the last three days -> submitted or published, today -> in
  progress, within ten days -> booked (inspector and sampling plan), later -> planned;
* DUPRO and PSI carry the real ISO 2859-1 plan (`qcloop.sampling.multi_class_plan`, the
  engagement's AQLs at level II) and the real carton draw; results and `result_detail` come
  from `qcloop.inspections.rules.judge_inspection`;
* defects are one record per defect kind and unit (now and then 2-3 units, systematic),
  coded from the shipped library of the PO's category, never more per class than the sample;
* reports open at submission and are due 24 h later (`report_sla`), PO summaries at the
  CLI's publication; CAPAs open by rule (`capa.rules`: each critical or major finding with
  none open on the PO), due by `rules.due_date`, answered, accepted and verified at a later
  visit as time allows, recurrences linked to the supplier's earlier CAPA of the same
  finding; escalations for every critical defect and failed milestone
  (sources as `alerts.services` names them), acknowledged or not, with their notifications;
* a tally per published milestone summed from its defect records (as
  `analytics.services.record_tally` does), and trend flags from the real
  `analytics.trends.assess` over the supplier-category stream's earlier lots and the PO's
  sampled milestones, replayed milestone by milestone.

Not generated (none of the timed pages reads them): checklist answers, production counts,
photos, measurements, report versions and review notes, switching streams.

Rates: most suppliers stable at 0.8-2.5 % major and 1.5-3.5 % minor per sampled unit, four
escalating over the last five months. The defect budget (`defects`) is met by the
unsampled visits' records (IPC first-off checks, CLI carton condition), so the sampled
rates stay as stated whatever the budget; below the sampled milestones' own expectation the
sampled rates are scaled down instead.
"""

import json
import math
import random
import time
import uuid
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

import numpy as np
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from qcloop import sampling
from qcloop.accounts.models import OrganisationKind, Role
from qcloop.accounts.services import add_member, create_organisation, engage_agency
from qcloop.alerts.models import (
    Escalation,
    EscalationContact,
    EscalationKind,
    Notification,
    NotificationChannel,
    NotificationStatus,
)
from qcloop.analytics import flags
from qcloop.analytics.models import MilestoneTally, TrendFlag
from qcloop.capa import rules as capa_rules
from qcloop.capa.models import (
    AnswerDecision,
    CapaAnswer,
    CapaStatus,
    CapaVerification,
    CorrectiveAction,
    FindingKind,
)
from qcloop.core.reference import ProductCategory, QuantityUnit
from qcloop.inspections import rules as inspection_rules
from qcloop.inspections.models import Defect, DefectCode, Milestone, MilestoneStatus
from qcloop.orders.models import (
    Factory,
    POLine,
    POStatus,
    Product,
    PurchaseOrder,
    Supplier,
)
from qcloop.orders.services import save_factory, save_product, save_supplier
from qcloop.reports.models import Report, ReportKind
from qcloop.reports.services import report_sla

PASSWORD = "qcloop-bench-2026"
AQLS = {"critical": "0", "major": "2.5", "minor": "4.0"}
CLASSES = ("critical", "major", "minor")
S = MilestoneStatus

CATEGORY_WEIGHTS = {
    ProductCategory.GARMENTS: 30,
    ProductCategory.FOOTWEAR: 12,
    ProductCategory.ELECTRONICS: 14,
    ProductCategory.LIGHTING: 12,
    ProductCategory.TOYS: 10,
    ProductCategory.FURNITURE_HOME: 14,
    ProductCategory.FOOD_CONTACT: 8,
}
UNIT_PRICE = {  # USD FOB per unit, low and high
    "garments": (6, 18),
    "footwear": (12, 30),
    "electronics": (8, 40),
    "lighting": (10, 35),
    "toys": (4, 15),
    "furniture_home": (20, 120),
    "food_contact": (3, 10),
}
UNITS_PER_CARTON = {
    "garments": 48,
    "footwear": 12,
    "electronics": 20,
    "lighting": 8,
    "toys": 24,
    "furniture_home": 2,
    "food_contact": 36,
}
RUN_DAYS = {"furniture_home": (45, 70), "electronics": (35, 60)}  # others (30, 55)
MARKET_WEIGHTS = {"US": 40, "EU": 25, "GB": 10, "CA": 8, "AU": 7, "JP": 5, "MX": 5}
SITES = {  # country: (time zone, cities with coordinates)
    "CN": ("Asia/Shanghai", [("Dongguan", 23.02, 113.75), ("Ningbo", 29.87, 121.54)]),
    "VN": ("Asia/Ho_Chi_Minh", [("Binh Duong", 11.17, 106.65), ("Hai Phong", 20.86, 106.68)]),
    "BD": ("Asia/Dhaka", [("Gazipur", 24.00, 90.42)]),
    "IN": ("Asia/Kolkata", [("Tiruppur", 11.11, 77.34), ("Moradabad", 28.84, 78.77)]),
    "TR": ("Europe/Istanbul", [("Denizli", 37.78, 29.09)]),
    "KH": ("Asia/Phnom_Penh", [("Phnom Penh", 11.56, 104.92)]),
}
COUNTRY_WEIGHTS = {"CN": 55, "VN": 15, "BD": 10, "IN": 10, "TR": 5, "KH": 5}
ESCALATING_MONTHS = 5  # how far back the escalating suppliers' rise starts


@dataclass
class ProgramSize:
    pos: int = 20_000
    defects: int = 2_000_000
    suppliers: int = 40
    products: int = 300
    months: int = 24
    other_pos: int | None = None  # the second tenant's; default 1 % of `pos`, at least 5

    @property
    def second_pos(self) -> int:
        return self.other_pos if self.other_pos is not None else max(5, self.pos // 100)


@dataclass
class Program:
    buyer_id: int
    other_buyer_id: int
    agency_id: int
    manager_email: str
    coordinator_email: str
    supplier_ids: list[int]
    escalating_supplier_ids: list[int] = field(default_factory=list)  # rising of late
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# --- writing rows fast -----------------------------------------------------------------------


class Writer:
    """Rows straight into tables: COPY on PostgreSQL, executemany on SQLite. Values are Python
    values, converted here as Django would store them."""

    def __init__(self):
        self.vendor = connection.vendor
        self.counts: dict[str, int] = defaultdict(int)

    def _converters(self, model, fields):
        converters = []
        for name in fields:
            kind = model._meta.get_field(name).get_internal_type()
            converters.append(self._converter(kind))
        return converters

    def _converter(self, kind):
        if kind == "JSONField":
            return lambda v: None if v is None else json.dumps(v)
        if self.vendor != "sqlite":
            return None
        if kind == "DateTimeField":
            adapt = connection.ops.adapt_datetimefield_value
            return lambda v: None if v is None else adapt(v)
        if kind == "DateField":
            return lambda v: None if v is None else v.isoformat()
        if kind == "UUIDField":
            return lambda v: None if v is None else v.hex
        if kind == "DecimalField":
            return lambda v: None if v is None else str(v)
        return None

    def write(self, model, fields: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table = model._meta.db_table
        columns = [model._meta.get_field(name).column for name in fields]
        converters = self._converters(model, fields)
        if any(converters):
            rows = [
                tuple(c(v) if c else v for c, v in zip(converters, row, strict=True))
                for row in rows
            ]
        quote = connection.ops.quote_name
        column_list = ", ".join(quote(c) for c in columns)
        with transaction.atomic(), connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {quote(table)} ({column_list}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {quote(table)} ({column_list}) VALUES ({marks})", rows
                )
        self.counts[model.__name__] += len(rows)

    def reset_sequences(self, models) -> None:
        if self.vendor != "postgresql":
            return  # SQLite's AUTOINCREMENT follows the largest key inserted
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)


class Buffer:
    """Rows of one model gathered until flushed (in the order the buffers were made)."""

    def __init__(self, writer: Writer, model, fields: list[str]):
        self.writer, self.model, self.fields, self.rows = writer, model, fields, []

    def flush(self) -> None:
        self.writer.write(self.model, self.fields, self.rows)
        self.rows = []


def next_id(model) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


# --- the set-up, through the services ------------------------------------------------------------


@dataclass
class Tenant:
    buyer: object
    manager: object
    suppliers: list  # [(Supplier, [Factory], categories, profile, supplier user)]
    products: dict  # category -> [Product]
    tag: str


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _profile(rng: random.Random, escalating: bool) -> dict:
    return {
        "major": rng.uniform(0.008, 0.025),
        "minor": rng.uniform(0.015, 0.035),
        "critical": rng.uniform(0.00005, 0.0003),
        "escalating": escalating,
    }


def _make_supply_base(rng, buyer, manager, tag: str, suppliers: int, products: int) -> Tenant:
    made = []
    escalating = (
        set(rng.sample(range(suppliers), min(4, suppliers // 10))) if tag == "NW" else set()
    )
    for i in range(suppliers):
        country = _pick(rng, COUNTRY_WEIGHTS)
        zone, cities = SITES[country]
        name = f"{tag} Supplier {i + 1:02d} {country}"
        org = create_organisation(
            name=f"{name} Co", kind=OrganisationKind.SUPPLIER, country=country, timezone=zone
        )
        person = add_member(
            organisation=org,
            email=f"quality.{tag.lower()}{i + 1:02d}@supplier.example",
            full_name=f"Quality Manager {tag}{i + 1:02d}",
            role=Role.SUPPLIER_USER,
        )
        supplier = save_supplier(
            by=manager,
            supplier=Supplier(
                buyer=buyer,
                organisation=org,
                code=f"V-{tag}{i + 1:03d}",
                name=name,
                country=country,
            ),
        )
        factories = []
        for j in range(rng.choice([1, 1, 2, 2, 3])):
            city, lat, lon = rng.choice(cities)
            factories.append(
                save_factory(
                    by=manager,
                    factory=Factory(
                        supplier=supplier,
                        name=f"{name} plant {j + 1}",
                        address=f"{rng.randint(1, 400)} Industrial Road",
                        city=city,
                        country=country,
                        latitude=Decimal(f"{lat + rng.uniform(-0.2, 0.2):.6f}"),
                        longitude=Decimal(f"{lon + rng.uniform(-0.2, 0.2):.6f}"),
                        timezone=zone,
                    ),
                )
            )
        categories = [_pick(rng, CATEGORY_WEIGHTS)]
        if rng.random() < 0.3:
            second = _pick(rng, CATEGORY_WEIGHTS)
            if second not in categories:
                categories.append(second)
        made.append((supplier, factories, categories, _profile(rng, i in escalating), person))
    catalogue: dict[str, list] = defaultdict(list)
    needed = {c for s in made for c in s[2]}
    for i in range(products):
        category = _pick(rng, CATEGORY_WEIGHTS) if i >= len(needed) else sorted(needed)[i]
        product = save_product(
            by=manager,
            product=Product(
                buyer=buyer,
                sku=f"{tag}-{category[:3].upper()}-{i + 1:04d}",
                name=f"{ProductCategory(category).label} item {i + 1}",
                category=category,
                target_markets=["US", "EU"],
            ),
        )
        catalogue[category].append(product)
    # A supplier's category with no product of its own falls back to the first category.
    for supplier in made:
        supplier[2][:] = [c for c in supplier[2] if catalogue.get(c)] or [next(iter(catalogue))]
    return Tenant(buyer, manager, made, catalogue, tag)


def _people(rng, agency, tag: str, leads: int, inspectors: int):
    coordinator = add_member(
        organisation=agency,
        email=f"coordinator@{tag}.agency.example",
        full_name="Coordinator Bench",
        role=Role.COORDINATOR,
        password=PASSWORD,
    )
    qc_leads = [
        add_member(
            organisation=agency,
            email=f"lead{i + 1}@{tag}.agency.example",
            full_name=f"QC Lead {i + 1}",
            role=Role.QC_LEAD,
        )
        for i in range(leads)
    ]
    crew = [
        add_member(
            organisation=agency,
            email=f"inspector{i + 1}@{tag}.agency.example",
            full_name=f"Inspector {i + 1}",
            role=Role.INSPECTOR,
        )
        for i in range(inspectors)
    ]
    return coordinator, qc_leads, crew


def _buyer(name: str, country: str, slug: str):
    buyer = create_organisation(name=name, kind=OrganisationKind.BUYER, country=country)
    manager = add_member(
        organisation=buyer,
        email=f"manager@{slug}.example",
        full_name=f"Manager {name}",
        role=Role.BUYER_MANAGER,
        password=PASSWORD,
    )
    return buyer, manager


# --- the plan of one PO ------------------------------------------------------------------------


@dataclass
class MilestoneRow:
    id: int
    po: "PORow"
    kind: str
    sequence: int
    window_start: date
    window_end: date
    day: date  # the inspection day
    status: str = S.PLANNED
    inspector_id: int | None = None
    plan: dict | None = None
    sampling: dict | None = None
    draw: dict | None = None
    planned_at: datetime | None = None
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    published_at: datetime | None = None
    cancelled_at: datetime | None = None
    result: str = ""
    result_detail: dict | None = None
    found: dict = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    codes: dict = field(default_factory=dict)  # code -> {"class","found","name"}
    first_defect: dict = field(default_factory=dict)  # finding key -> (defect id, row)

    @property
    def label(self) -> str:
        return f"{self.kind} #{self.sequence}" if self.sequence > 1 else self.kind

    @property
    def n(self) -> int:
        return self.plan["n"] if self.plan else 0

    @property
    def recorded(self) -> bool:
        return self.status in (S.IN_PROGRESS, S.SUBMITTED, S.PUBLISHED)


@dataclass
class PORow:
    id: int
    number: str
    buyer_id: int
    agency_id: int
    supplier: Supplier
    factory: Factory
    qc_lead: object
    profile: dict
    category: str
    lines: list  # [(line id, product, quantity)]
    quantity: int
    cartons: int
    start: date
    ex_factory: date
    ship: date
    market: str
    fob: Decimal
    created_at: datetime
    status: str = POStatus.OPEN
    milestones: list = field(default_factory=list)
    person: object = None  # the supplier's quality manager: CAPA owner and answerer


def _at(day: date, hours: float) -> datetime:
    return datetime.combine(day, clock(0), tzinfo=UTC) + timedelta(hours=hours)


class Generator:
    def __init__(self, size: ProgramSize, seed: int, today: date, now: datetime):
        self.size, self.today, self.now = size, today, now
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.plans: dict[int, dict] = {}
        self.codes = self._codes()
        self._habits: dict = {}

    def _codes(self) -> dict[tuple[str, str], list]:
        by: dict[tuple[str, str], list] = defaultdict(list)
        general = defaultdict(list)
        for code in DefectCode.objects.filter(agency__isnull=True).order_by("code"):
            entry = (code.pk, code.code, code.name)
            if code.category == "general":
                general[code.default_class].append(entry)
            else:
                by[(code.category, code.default_class)].append(entry)
        for category in ProductCategory.values:
            for name in CLASSES:
                by[(category, name)] += general[name]
        return by

    def habits(self, supplier_id: int, category: str, defect_class: str):
        """A supplier's defects of one class, cumulative weights over the codes: a few codes
        make most of them (Pareto), as on any production line, each supplier its own few."""
        key = (supplier_id, category, defect_class)
        if key not in self._habits:
            codes = list(self.codes[(category, defect_class)])
            random.Random(f"{key}").shuffle(codes)
            weights, total = [], 0.0
            for rank in range(len(codes)):
                total += 1 / (rank + 1) ** 1.4
                weights.append(total)
            self._habits[key] = (codes, weights)
        return self._habits[key]

    def plan_of(self, lot_size: int) -> dict:
        if lot_size not in self.plans:
            plan = sampling.multi_class_plan(lot_size, aqls=AQLS, level="II", method="industry")
            self.plans[lot_size] = plan.to_dict()
        return self.plans[lot_size]

    # -- a PO and its milestones --

    def po(self, ids, tenant: Tenant, leads, crew, index: int, agency_id: int) -> PORow:
        rng = self.rng
        supplier, factories, categories, profile, person = rng.choices(
            tenant.suppliers, weights=[s[3]["weight"] for s in tenant.suppliers]
        )[0]
        category = rng.choice(categories)
        span = self.size.months * 30
        ex_factory = self.today - timedelta(days=span - 60) + timedelta(days=rng.randrange(span))
        low, high = RUN_DAYS.get(category, (30, 55))
        start = ex_factory - timedelta(days=rng.randint(low, high))
        ship = ex_factory + timedelta(days=rng.randint(4, 12))
        quantity_total = int(min(150_000, max(1_500, rng.lognormvariate(math.log(25_000), 0.7))))
        products = rng.sample(tenant.products[category], min(len(tenant.products[category]), 4))
        count = rng.choice([1, 1, 2, 2, 3, 4])
        shares = sorted((rng.random() for _ in range(count)), reverse=True)
        total_share = sum(shares)
        per_carton = UNITS_PER_CARTON[category]
        lines = []
        for product, share in zip(products[:count], shares, strict=False):
            cartons = max(1, round(quantity_total * share / total_share / per_carton))
            lines.append([next(ids["line"]), product, cartons * per_carton])
        quantity = sum(line[2] for line in lines)
        price = rng.uniform(*UNIT_PRICE[category])
        lead = leads[list(CATEGORY_WEIGHTS).index(category) % len(leads)]
        po = PORow(
            id=next(ids["po"]),
            number=f"{tenant.tag}-{4_500_000 + index}",
            buyer_id=tenant.buyer.pk,
            agency_id=agency_id,
            supplier=supplier,
            factory=rng.choice(factories),
            qc_lead=lead,
            profile=profile,
            category=category,
            lines=lines,
            quantity=quantity,
            cartons=max(1, math.ceil(quantity / per_carton)),
            start=start,
            ex_factory=ex_factory,
            ship=ship,
            market=_pick(rng, MARKET_WEIGHTS),
            fob=Decimal(f"{quantity * price:.2f}"),
            created_at=_at(start - timedelta(days=rng.randint(25, 45)), rng.uniform(1, 10)),
            person=person,
        )
        self._milestones(ids, po, crew)
        return po

    def _milestones(self, ids, po: PORow, crew) -> None:
        rng = self.rng
        run = (po.ex_factory - po.start).days
        days = {
            "IPC": po.start + timedelta(days=rng.randint(1, 3)),
            "DUPRO": po.start + timedelta(days=round(run * rng.uniform(0.4, 0.55))),
            "PSI": po.ex_factory - timedelta(days=rng.randint(0, 3)),
        }
        days["CLI"] = days["PSI"] + timedelta(days=rng.randint(3, 6))
        inspectors = [crew[(po.factory.pk * 7 + k) % len(crew)] for k in range(2)]
        cancelled = po.start > self.today + timedelta(days=14) and rng.random() < 0.01
        for kind in ("IPC", "DUPRO", "PSI", "CLI"):
            po.milestones.append(self._milestone(ids, po, kind, 1, days[kind], inspectors))
        for milestone in po.milestones:
            self._advance(milestone, cancelled)
        psi = po.milestones[2]
        if psi.status == S.PUBLISHED and psi.result == "fail":
            # The re-inspection a week later; the PO was bought without an IPC (the one visit
            # a rushed programme skips), so the program keeps four milestones per PO.
            again = psi.day + timedelta(days=rng.randint(6, 10))
            cli = po.milestones[3]
            po.milestones[0].id = None
            del po.milestones[0]
            retry = self._milestone(ids, po, "PSI", 2, again, inspectors)
            self._advance(retry, False)
            po.milestones.insert(2, retry)
            cli.day = again + timedelta(days=rng.randint(2, 4))
            cli.window_start = cli.day - timedelta(days=2)
            cli.window_end = cli.day + timedelta(days=1)
            self._reset(cli)
            self._advance(cli, False)
            po.ship = max(po.ship, cli.day)
        last = po.milestones[-1]
        if cancelled:
            po.status = POStatus.CANCELLED
        elif last.status == S.PUBLISHED and po.ship < self.today:
            po.status = (
                POStatus.CLOSED if po.ship < self.today - timedelta(90) else POStatus.SHIPPED
            )

    def _milestone(self, ids, po, kind, sequence, day, inspectors) -> MilestoneRow:
        return MilestoneRow(
            id=next(ids["milestone"]),
            po=po,
            kind=kind,
            sequence=sequence,
            window_start=day - timedelta(days=2),
            window_end=day + timedelta(days=1),
            day=day,
            inspector_id=self.rng.choice(inspectors).pk,
        )

    def _reset(self, m: MilestoneRow) -> None:
        m.status, m.plan, m.sampling, m.draw = S.PLANNED, None, None, None
        m.started_at = m.submitted_at = m.published_at = None
        m.result, m.result_detail = "", None
        m.found, m.codes = dict.fromkeys(CLASSES, 0), {}

    def _advance(self, m: MilestoneRow, cancelled: bool) -> None:
        """The milestone's status and times as of now, and what the inspector found."""
        rng, ahead = self.rng, (m.day - self.today).days
        if cancelled:
            m.status, m.inspector_id = S.CANCELLED, None
            m.cancelled_at = _at(self.today - timedelta(days=rng.randint(0, 5)), 3)
            return
        if ahead > 10:
            m.inspector_id = None
            return
        m.status = S.BOOKED
        if m.kind in ("DUPRO", "PSI"):
            m.plan = self.plan_of(m.po.quantity)
            m.sampling = {"aqls": AQLS, "level": "II", "severity": "normal", "method": "industry"}
            m.sampling["plan"] = m.plan
            m.planned_at = _at(m.day - timedelta(days=rng.randint(3, 9)), rng.uniform(1, 9))
            m.draw = sampling.draw_sample(
                carton_count=m.po.cartons,
                units_to_draw=min(m.n, m.po.quantity),
                seed=f"bench-{m.po.number}-{m.label}",
            ).to_dict()
        if ahead > 0:
            return
        m.started_at = _at(m.day, rng.uniform(0.5, 2.5))  # a factory morning in Asia
        if m.started_at > self.now:
            return
        m.status = S.IN_PROGRESS
        submitted = m.started_at + timedelta(hours=rng.uniform(4.5, 8))
        if ahead == 0 or submitted > self.now:
            return
        m.status, m.submitted_at = S.SUBMITTED, submitted
        late = rng.random() < 0.08
        hours = rng.uniform(25, 60) if late else rng.lognormvariate(math.log(8), 0.6)
        published = submitted + timedelta(hours=min(hours, 23.5) if not late else hours)
        if published < self.now and rng.random() > 0.006:
            m.status, m.published_at = S.PUBLISHED, published
        self._judge_draw(m)

    def _rates(self, m: MilestoneRow) -> dict[str, float]:
        profile = m.po.profile
        rise = 1.0
        if profile["escalating"]:
            months_back = (self.today - m.day).days / 30
            if months_back < ESCALATING_MONTHS:
                rise = 1 + 2.0 * (1 - months_back / ESCALATING_MONTHS)
                if m.kind == "PSI":
                    rise *= 1 + 0.5 * m.sequence
        return {name: profile[name] * rise * self.sampled_scale for name in CLASSES}

    sampled_scale = 1.0

    def _judge_draw(self, m: MilestoneRow) -> None:
        """Counts per class for a submitted milestone, so that its result is known at once
        (the re-inspection depends on it); the records are drawn to these counts later."""
        if m.plan:
            rates = self._rates(m)
            for name in CLASSES:
                m.found[name] = int(min(m.n, self.np.binomial(m.n, min(0.5, rates[name]))))
            found = dict(m.found)
        else:
            found = {name: int(self.np.poisson(self.unsampled[m.kind][name])) for name in CLASSES}
            m.found = found
            found = {k: v for k, v in found.items() if v or k == "critical"}
        result = inspection_rules.judge_inspection(m.plan, found, [])
        m.result = result.outcome
        m.result_detail = {**result.to_dict(), "observations": []}

    # Records per visit without a sample; the budget scales major and minor, not critical.
    unsampled = {
        "IPC": {"critical": 0.02, "major": 1.0, "minor": 9.0},
        "CLI": {"critical": 0.0, "major": 0.5, "minor": 9.5},
    }


# --- the whole program -----------------------------------------------------------------------


def _counter(start: int):
    value = start
    while True:
        yield value
        value += 1


def build_program(size: ProgramSize, *, seed: int = 2859, workers: int = 1, log=print) -> Program:
    """Generate the program in the current database (migrated, with the shipped defect
    library). Returns who to sign in as and the row counts."""
    began = time.monotonic()
    rng = random.Random(seed)
    now = timezone.now()
    today = now.date()
    # --- people and supply base, through the services
    with transaction.atomic():
        agency = create_organisation(
            name="Lion Rock Quality Assurance",
            kind=OrganisationKind.AGENCY,
            country="HK",
            timezone="Asia/Hong_Kong",
        )
        coordinator, leads, crew = _people(rng, agency, "lionrock", 6, 30)
        buyer, manager = _buyer("Northwind Home & Apparel", "US", "northwind")
        other, other_manager = _buyer("Fjord Living AB", "SE", "fjord")
        for client in (buyer, other):
            engage_agency(agency=agency, buyer=client)
            EscalationContact.objects.create(
                buyer=client,
                level=1,
                name=f"QA desk {client.name}",
                email=f"qa@{client.slug}.example",
            )
        main = _make_supply_base(rng, buyer, manager, "NW", size.suppliers, size.products)
        second = _make_supply_base(
            rng,
            other,
            other_manager,
            "FJ",
            max(2, size.suppliers // 10),
            max(8, size.products // 20),
        )
    for tenant in (main, second):
        for supplier in tenant.suppliers:
            supplier[3]["weight"] = rng.lognormvariate(0, 0.8)
    log(
        f"  set-up (organisations, people, {len(main.suppliers) + len(second.suppliers)} "
        f"suppliers, products) in {time.monotonic() - began:.1f} s"
    )

    generator = Generator(size, seed, today, now)
    ids = {
        "po": _counter(next_id(PurchaseOrder)),
        "line": _counter(next_id(POLine)),
        "milestone": _counter(next_id(Milestone)),
    }
    step = time.monotonic()
    pos: list[PORow] = []
    for index in range(size.pos):
        pos.append(generator.po(ids, main, leads, crew, index, agency.pk))
    for index in range(size.second_pos):
        pos.append(generator.po(ids, second, leads, crew, index, agency.pk))
    pos.sort(key=lambda p: (p.start, p.id))
    _calibrate(generator, pos, size.defects)
    log(f"  planned {len(pos)} POs in {time.monotonic() - step:.1f} s")

    writer = Writer()
    step = time.monotonic()
    _write_orders(writer, pos, manager)
    _write_milestones(writer, pos)
    log(f"  POs, lines, milestones written in {time.monotonic() - step:.1f} s")
    step = time.monotonic()
    defects = _write_defects(writer, generator, pos)
    log(f"  {defects} defects written in {time.monotonic() - step:.1f} s")
    step = time.monotonic()
    _write_tallies(writer, pos)
    _write_reports(writer, generator, pos)
    capas = _write_capas(writer, generator, pos)
    _write_escalations(writer, generator, pos, {buyer.pk: manager, other.pk: other_manager})
    log(f"  tallies, reports, {capas} CAPAs, escalations in {time.monotonic() - step:.1f} s")
    step = time.monotonic()
    flagged = _write_flags(writer, generator, pos, workers)
    writer.reset_sequences(
        [
            PurchaseOrder,
            POLine,
            Milestone,
            Defect,
            Report,
            CorrectiveAction,
            CapaAnswer,
            CapaVerification,
            Escalation,
            Notification,
            TrendFlag,
        ]
    )
    log(f"  {flagged} trend flags (replayed publications) in {time.monotonic() - step:.1f} s")
    step = time.monotonic()
    # As autovacuum leaves a settled database: statistics, and on PostgreSQL the visibility
    # map too, without which the covering indexes cannot answer from the index alone (VACUUM
    # cannot run in a transaction, as a test's is: there statistics only).
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    statement = "VACUUM ANALYZE" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(statement)
    log(f"  {statement} in {time.monotonic() - step:.1f} s")
    return Program(
        buyer_id=buyer.pk,
        other_buyer_id=other.pk,
        agency_id=agency.pk,
        manager_email=manager.email,
        coordinator_email=coordinator.email,
        supplier_ids=[s[0].pk for s in main.suppliers],
        escalating_supplier_ids=[s[0].pk for s in main.suppliers if s[3]["escalating"]],
        counts=dict(writer.counts),
        seconds=time.monotonic() - began,
    )


def _calibrate(generator: Generator, pos: list[PORow], target: int) -> None:
    """Scale the unsampled visits' defects (or, below the sampled ones' own expectation, the
    sampled rates) so that the expected number of records meets the budget. The counts
    drawn at submission are redrawn here with the calibrated figures."""
    mean_records_per_unit = 1 / 1.05  # quantity 1, now and then 2-3 (see _split)
    sampled = unsampled = 0.0
    for po in pos:
        for m in po.milestones:
            if not m.recorded:
                continue
            if m.plan:
                sampled += sum(generator._rates(m)[c] * m.n for c in CLASSES)
            else:
                unsampled += 1
    sampled *= mean_records_per_unit
    if sampled >= target or unsampled == 0:
        generator.sampled_scale = target / sampled if sampled else 1.0
        per_visit = 0.0
    else:
        per_visit = (target - sampled) / unsampled / mean_records_per_unit
    base = {k: v["major"] + v["minor"] for k, v in Generator.unsampled.items()}
    generator.unsampled = {
        kind: {c: rates[c] * (1 if c == "critical" else per_visit / base[kind]) for c in CLASSES}
        for kind, rates in Generator.unsampled.items()
    }
    # Redraw the counts and results with the calibrated rates; a PSI that changes verdict
    # keeps its milestones (the re-inspection was decided at the time) but not its result:
    # redrawn until it agrees, which holds the program's shape.
    for po in pos:
        for m in po.milestones:
            if m.submitted_at is None:
                if m.status == S.IN_PROGRESS:
                    m.found = dict.fromkeys(CLASSES, 0)
                continue
            wanted = m.result
            for _ in range(50):
                generator._judge_draw(m)
                if m.kind != "PSI" or m.result == wanted or m.sequence > 1:
                    break


def _write_orders(writer: Writer, pos: list[PORow], manager) -> None:
    po_fields = [
        "id", "number", "buyer", "agency", "supplier", "factory", "qc_lead", "currency",
        "fob_value", "quantity", "unit", "carton_count", "production_start", "ex_factory_date",
        "ship_date", "destination_market", "retailer_compliance", "new_material_or_tooling",
        "hero_sku", "complex_product", "status", "notes", "created_by", "created_at",
        "updated_at",
    ]  # fmt: skip
    rows, lines = [], []
    for po in pos:
        unit = QuantityUnit.PAIRS if po.category == "footwear" else QuantityUnit.PIECES
        rows.append((
            po.id, po.number, po.buyer_id, po.agency_id, po.supplier.pk, po.factory.pk,
            po.qc_lead.pk, "USD", po.fob, po.quantity, unit, po.cartons, po.start,
            po.ex_factory, po.ship, po.market, "", False, False, False, po.status, "",
            manager.pk, po.created_at, po.created_at,
        ))  # fmt: skip
        for line_id, product, quantity in po.lines:
            lines.append((line_id, po.id, product.pk, "", quantity))
    writer.write(PurchaseOrder, [_fk(PurchaseOrder, f) for f in po_fields], rows)
    writer.write(POLine, ["id", "po_id", "product_id", "variant", "quantity"], lines)


def _fk(model, name: str) -> str:
    """A field's attribute name (supplier -> supplier_id) for the writer's field lookup."""
    f = model._meta.get_field(name)
    return f.attname if f.is_relation else name


def _write_milestones(writer: Writer, pos: list[PORow]) -> None:
    fields = [
        "id", "po_id", "kind", "sequence", "window_start", "window_end", "inspection_date",
        "status", "inspector_id", "lot_size", "sampling", "sample_draw", "sampling_planned_at",
        "result", "result_detail", "started_at", "submitted_at", "published_at",
        "cancelled_at", "created_at", "updated_at", "revision",
    ]  # fmt: skip
    rows = []
    for po in pos:
        for m in po.milestones:
            booked = m.status != S.PLANNED and m.status != S.CANCELLED
            updated = m.published_at or m.submitted_at or m.started_at or po.created_at
            rows.append((
                m.id, po.id, m.kind, m.sequence, m.window_start, m.window_end,
                m.day if booked else None, m.status, m.inspector_id,
                po.quantity if m.plan else None, m.sampling, m.draw, m.planned_at, m.result,
                m.result_detail, m.started_at, m.submitted_at, m.published_at, m.cancelled_at,
                po.created_at, updated, 0,
            ))  # fmt: skip
    writer.write(Milestone, fields, rows)


# --- defects -----------------------------------------------------------------------------------


def _split(rng: random.Random, found: int) -> list[int]:
    """Units of one defect kind per record: mostly one, now and then two (rarely three: the
    same fault on units in a row, systematic)."""
    parts = []
    while found > 0:
        draw = rng.random()
        quantity = 1 if draw < 0.96 else min(found, 2 if draw < 0.99 else 3)
        parts.append(quantity)
        found -= quantity
    return parts


def _write_defects(writer: Writer, generator: Generator, pos: list[PORow]) -> int:
    fields = [
        "id", "milestone_id", "code_id", "description", "defect_class", "quantity",
        "po_line_id", "carton", "unit_ref", "systematic", "from_measurements", "uuid",
        "created_by_id", "created_at",
    ]  # fmt: skip
    buffer = Buffer(writer, Defect, fields)
    rng, ids, total = generator.rng, _counter(next_id(Defect)), 0
    generator.criticals = []  # (milestone, defect id, uuid, description, code, quantity, at)
    for po in pos:
        for m in po.milestones:
            if not m.recorded:
                continue
            if m.status == S.IN_PROGRESS:
                # Half-way through: some of what will be found is recorded.
                generator._judge_draw(m)
                m.found = {k: v // 2 for k, v in m.found.items()}
                m.result, m.result_detail = "", None
            cartons = m.draw["cartons"] if m.draw else None
            end = m.submitted_at or generator.now
            span = max(60.0, (end - m.started_at).total_seconds() - 60)
            for name in CLASSES:
                codes, weights = generator.habits(po.supplier.pk, po.category, name)
                for quantity in _split(rng, m.found[name]):
                    pk = next(ids)
                    code_id, code, label = rng.choices(codes, cum_weights=weights)[0]
                    line_id = rng.choice(po.lines)[0]
                    carton = rng.choice(cartons) if cartons else rng.randint(1, po.cartons)
                    made = uuid.UUID(int=rng.getrandbits(128), version=4)
                    at = m.started_at + timedelta(seconds=rng.uniform(30, span))
                    buffer.rows.append((
                        pk, m.id, code_id, label, name, quantity, line_id, carton, "",
                        quantity > 2, False, made, m.inspector_id, at,
                    ))  # fmt: skip
                    entry = m.codes.setdefault(code, {"class": name, "found": 0, "name": label})
                    entry["found"] += quantity
                    key = capa_rules.defect_key(code, label)
                    first = m.first_defect.get(key)
                    if first is None or at < first[1]:
                        m.first_defect[key] = (pk, at, name, quantity > 2)
                    if name == "critical":
                        generator.criticals.append((m, pk, made, label, code, quantity, at))
                    total += 1
            if len(buffer.rows) >= 100_000:
                buffer.flush()
    buffer.flush()
    return total


# --- derived and follow-up rows ------------------------------------------------------------------


def _write_tallies(writer: Writer, pos: list[PORow]) -> None:
    fields = [
        "milestone_id", "buyer_id", "po_id", "supplier_id", "factory_id", "category", "market",
        "kind", "sequence", "inspected_on", "published_at", "result", "sampled_units",
        "critical", "major", "minor", "codes",
    ]  # fmt: skip
    rows = []
    for po in pos:
        # The stream: the category of the largest line (as inspections.stream_category).
        category = max(po.lines, key=lambda line: (line[2], -line[0]))[1].category
        for m in po.milestones:
            if m.status != S.PUBLISHED:
                continue
            rows.append((
                m.id, po.buyer_id, po.id, po.supplier.pk, po.factory.pk, category, po.market,
                m.kind, m.sequence, m.day, m.published_at, m.result,
                max((c["n"] for c in m.plan["classes"]), default=0) if m.plan else 0,
                m.found["critical"], m.found["major"], m.found["minor"], m.codes,
            ))  # fmt: skip
    writer.write(MilestoneTally, fields, rows)


def _write_reports(writer: Writer, generator: Generator, pos: list[PORow]) -> None:
    fields = [
        "id", "po_id", "milestone_id", "kind", "clock_started_at", "due_at", "published_at",
        "lead_summary", "correction_reason", "created_at",
    ]  # fmt: skip
    ids, rows = _counter(next_id(Report)), []
    sla, summary_sla = report_sla(), report_sla(ReportKind.PO_SUMMARY)
    for po in pos:
        for m in po.milestones:
            if m.submitted_at is None:
                continue
            started = m.submitted_at
            rows.append((
                next(ids), po.id, m.id, ReportKind.MILESTONE, started, started + sla,
                m.published_at, "", "", started,
            ))  # fmt: skip
        cli = po.milestones[-1]
        if cli.kind == "CLI" and cli.published_at is not None:
            started = cli.published_at
            published = started + timedelta(hours=generator.rng.lognormvariate(math.log(20), 0.5))
            rows.append((
                next(ids), po.id, None, ReportKind.PO_SUMMARY, started, started + summary_sla,
                published if published < generator.now else None, "", "", started,
            ))  # fmt: skip
    writer.write(Report, fields, rows)


def _next_visit(po: PORow, m: MilestoneRow, opened_on: date) -> date | None:
    later = [
        x.window_start
        for x in po.milestones
        if x.status != S.CANCELLED and x is not m and x.day > m.day
    ]
    return min((day for day in later if day > opened_on), default=None)


def _write_capas(writer: Writer, generator: Generator, pos: list[PORow]) -> int:
    """CAPAs by rule at each submission, then their answers and verifications as time allows.
    Verified at the PO's next visit after acceptance, else at the supplier's next inspection."""
    rng, now = generator.rng, generator.now
    ids = _counter(next_id(CorrectiveAction))
    capas = []
    for po in pos:
        standing: dict[str, dict] = {}  # finding key -> the PO's latest CAPA of it
        number = 0
        for m in po.milestones:
            if m.submitted_at is None:
                continue
            for key, (defect_id, _, severity, systematic) in sorted(m.first_defect.items()):
                if severity not in capa_rules.AUTOMATIC_SEVERITIES:
                    continue
                if key in standing and _open_at(standing[key], m.submitted_at):
                    continue  # open from an earlier milestone: verified there, not reopened
                number += 1
                capa = _capa(rng, now, po, m, key, defect_id, severity, systematic, number)
                capa["id"] = next(ids)
                _verify_on_po(capa, po, m)
                standing[key] = capa
                capas.append(capa)
    _verify_at_supplier(capas, pos)
    # Recurrences: the supplier's latest earlier CAPA of the same finding.
    latest: dict[tuple[int, str], int] = {}
    for capa in sorted(capas, key=lambda c: (c["opened_at"], c["id"])):
        capa["recurrence_of"] = latest.get((capa["supplier"], capa["key"]))
        latest[(capa["supplier"], capa["key"])] = capa["id"]
    _write_capa_rows(writer, generator, capas)
    return len(capas)


def _open_at(capa: dict, moment: datetime) -> bool:
    return capa["closed_at"] is None or capa["closed_at"] > moment


def _capa(rng, now, po, m, key, defect_id, severity, systematic, number) -> dict:
    opened = m.submitted_at
    code = key.removeprefix("defect:")
    entry = m.codes.get(code, {})
    due = capa_rules.due_date(opened.date(), severity, _next_visit(po, m, opened.date()))
    capa = {
        "po": po, "supplier": po.supplier.pk, "milestone": m, "number": number, "key": key,
        "defect": defect_id, "severity": severity, "opened_at": opened, "due_on": due,
        "title": f"{code} {entry.get('name', '')}"[:300],
        "finding": {
            "code": code, "description": entry.get("name", ""),
            "quantity": entry.get("found", 1), "class": severity, "systematic": systematic,
            "defect_id": defect_id, "sample_size": m.n or None, "milestone": m.label,
        },
        "answered_at": None, "accepted_at": None, "closed_at": None, "verified_by": None,
        "verified_at_milestone": None,
    }  # fmt: skip
    if rng.random() < 0.05:
        return capa  # the supplier never answers
    answered = opened + timedelta(days=rng.lognormvariate(math.log(2.5), 0.6))
    if answered < now:
        capa["answered_at"] = answered
        accepted = answered + timedelta(hours=rng.uniform(4, 48))
        if accepted < now:
            capa["accepted_at"] = accepted
    return capa


def _verify_on_po(capa: dict, po: PORow, m: MilestoneRow) -> None:
    accepted = capa["accepted_at"]
    if accepted is None:
        return
    for later in po.milestones:
        if later.day > m.day and later.started_at and later.started_at > accepted:
            if later.submitted_at is not None:
                capa["closed_at"] = later.submitted_at
                capa["verified_at_milestone"] = later
            return


def _verify_at_supplier(capas: list[dict], pos: list[PORow]) -> None:
    visits: dict[int, list] = defaultdict(list)
    for po in pos:
        for m in po.milestones:
            if m.submitted_at is not None:
                visits[po.supplier.pk].append((m.started_at, m.id, m))
    for row in visits.values():
        row.sort(key=lambda v: (v[0], v[1]))
    starts = {k: [v[0] for v in row] for k, row in visits.items()}
    for capa in capas:
        if capa["closed_at"] is not None or capa["accepted_at"] is None:
            continue
        po, m, accepted = capa["po"], capa["milestone"], capa["accepted_at"]
        if any(
            x.day > m.day
            and x.status != S.CANCELLED
            and not (x.started_at and x.started_at < accepted)
            for x in po.milestones
        ):
            continue  # a visit after the acceptance is still to come on its own PO
        row = visits[capa["supplier"]]
        i = bisect_right(starts[capa["supplier"]], capa["accepted_at"])
        if i < len(row):
            later = row[i][2]
            capa["closed_at"] = later.submitted_at
            capa["verified_at_milestone"] = later


def _write_capa_rows(writer: Writer, generator: Generator, capas: list[dict]) -> None:
    today, now = generator.today, generator.now
    fields = [
        "id", "po_id", "supplier_id", "milestone_id", "number", "finding_kind", "finding_key",
        "defect_id", "severity", "title", "finding", "owner_id", "due_on", "status",
        "opened_automatically", "opened_by_id", "opened_at", "answered_at", "accepted_at",
        "closed_at", "overdue_flagged_at", "recurrence_of_id",
    ]  # fmt: skip
    answer_fields = [
        "id", "capa_id", "whys", "root_cause", "correction", "prevention", "submitted_by_id",
        "submitted_at", "decision", "decision_note", "decided_by_id", "decided_at",
    ]  # fmt: skip
    verification_fields = [
        "id", "capa_id", "milestone_id", "effective", "note", "photo_uuids", "verified_by_id",
        "verified_at", "uuid",
    ]  # fmt: skip
    rows, answers, verifications = [], [], []
    answer_ids = _counter(next_id(CapaAnswer))
    verification_ids = _counter(next_id(CapaVerification))
    rng = generator.rng
    for c in capas:
        po = c["po"]
        if c["closed_at"]:
            status = CapaStatus.CLOSED
        elif c["accepted_at"]:
            status = CapaStatus.ACCEPTED
        elif c["answered_at"]:
            status = CapaStatus.ANSWERED
        else:
            status = CapaStatus.OPEN
        overdue = None
        if status == CapaStatus.OPEN and c["due_on"] < today:
            overdue = _at(c["due_on"] + timedelta(days=1), 1)
            overdue = overdue if overdue < now else None
        rows.append((
            c["id"], po.id, c["supplier"], c["milestone"].id, c["number"], FindingKind.DEFECT,
            c["key"], c["defect"], c["severity"], c["title"], c["finding"], po.person.pk,
            c["due_on"], status, True, None, c["opened_at"], c["answered_at"], c["accepted_at"],
            c["closed_at"], overdue, c["recurrence_of"],
        ))  # fmt: skip
        if c["answered_at"]:
            decided = c["accepted_at"]
            answers.append((
                next(answer_ids), c["id"],
                ["Operator skipped the in-line check", "No check sheet at the station"],
                "The work instruction for the station did not include the check.",
                "Affected units re-inspected and reworked before packing.",
                "Check added to the work instruction; line leader signs the sheet hourly.",
                po.person.pk, c["answered_at"],
                AnswerDecision.ACCEPTED if decided else "", "", po.qc_lead.pk if decided else None,
                decided,
            ))  # fmt: skip
        if c["closed_at"]:
            visit = c["verified_at_milestone"]
            verifications.append((
                next(verification_ids), c["id"], visit.id, True,
                "Corrective action in place; the finding did not recur in the sample.", [],
                visit.inspector_id, c["closed_at"] - timedelta(hours=1),
                uuid.UUID(int=rng.getrandbits(128), version=4),
            ))  # fmt: skip
    writer.write(CorrectiveAction, fields, rows)
    writer.write(CapaAnswer, answer_fields, answers)
    writer.write(CapaVerification, verification_fields, verifications)


def _write_escalations(writer: Writer, generator: Generator, pos: list[PORow], managers) -> None:
    rng, now = generator.rng, generator.now
    fields = [
        "id", "buyer_id", "po_id", "supplier_id", "milestone_id", "kind", "source", "title",
        "detail", "raised_at", "level", "round", "ack_due_at", "acknowledged_at",
        "acknowledged_by_id", "acknowledged_via",
    ]  # fmt: skip
    note_fields = [
        "escalation_id", "channel_kind", "target", "target_name", "level", "round", "status",
        "attempts", "next_attempt_at", "claimed_at", "sent_at", "error", "uuid", "created_at",
    ]  # fmt: skip
    ids = _counter(next_id(Escalation))
    contacts = {c.buyer_id: c for c in EscalationContact.objects.filter(level=1)}
    raised = []  # (m, kind, source, title, summary extra, at)
    for m, _pk, made, label, code, quantity, at in generator.criticals:
        title = f"Critical defect at {m.label} of PO {m.po.number}: {label}"
        defect = {"code": code, "description": label, "quantity": quantity, "class": "critical"}
        raised.append((m, EscalationKind.CRITICAL, f"defect:{made}", title, {"defect": defect}, at))
    for po in pos:
        for m in po.milestones:
            if m.submitted_at is not None and m.result == "fail":
                reasons = m.result_detail["reasons"][:10]
                title = f"{m.label} of PO {po.number} failed"
                extra = {"reasons": reasons}
                raised.append((m, EscalationKind.FAILED, f"milestone:{m.id}:failed", title, extra,
                               m.submitted_at))  # fmt: skip
    rows, notes = [], []
    for m, kind, source, title, extra, at in sorted(raised, key=lambda r: (r[5], r[2])):
        po, pk = m.po, next(ids)
        detail = {
            "po": po.number, "supplier": po.supplier.name, "factory": po.factory.name,
            "milestone": m.label, "qc_lead": po.qc_lead.full_name, **extra,
            "summary": title + ".",
        }  # fmt: skip
        age = (now - at).total_seconds() / 60
        acknowledged = None
        if rng.random() < 0.95:
            acknowledged = at + timedelta(minutes=rng.lognormvariate(math.log(35), 0.8))
            acknowledged = acknowledged if acknowledged < now else None
        level = round_ = 1 if acknowledged or age < 120 else 2
        ack_due = None if acknowledged else at + timedelta(minutes=120 * round_)
        manager = managers[po.buyer_id]
        rows.append((
            pk, po.buyer_id, po.id, po.supplier.pk, m.id, kind, source, title[:300], detail, at,
            level, round_, ack_due, acknowledged, manager.pk if acknowledged else None,
            "page" if acknowledged else "",
        ))  # fmt: skip
        contact = contacts[po.buyer_id]
        for email, name, lvl in ((contact.email, contact.name, 1),
                                 (po.qc_lead.email, po.qc_lead.full_name, 0)):  # fmt: skip
            sent = at + timedelta(seconds=rng.uniform(1, 8))
            notes.append((
                pk, NotificationChannel.EMAIL, email, name, lvl, 1, NotificationStatus.SENT, 1,
                None, sent, sent, "", uuid.UUID(int=rng.getrandbits(128), version=4), at,
            ))  # fmt: skip
    writer.write(Escalation, fields, rows)
    writer.write(Notification, note_fields, notes)


def _write_flags(writer: Writer, generator: Generator, pos: list[PORow], workers: int) -> int:
    """Each publication replayed through the real trend code (`analytics.flags`: the
    stream's history, the PO's sampled lots, Holm per class over the codes, raise / update /
    clear) in memory, the POs shared out over `workers` processes."""
    global _FLAG_POS, _FLAG_STREAMS, _FLAG_SINCE
    _FLAG_SINCE = generator.now - timedelta(days=REPLAY_DAYS)
    streams: dict[tuple[int, str], list] = defaultdict(list)
    for po in pos:
        for m in po.milestones:
            if m.kind == "PSI" and m.plan and m.status == S.PUBLISHED:
                streams[(po.buyer_id, po.supplier.pk, po.category)].append(m)
    for row in streams.values():
        row.sort(key=lambda m: (m.day, m.published_at, m.id))
    _FLAG_POS = [po for po in pos if any(m.status == S.PUBLISHED for m in po.milestones)]
    _FLAG_STREAMS = {k: (row, [m.day for m in row]) for k, row in streams.items()}
    chunks = [range(i, len(_FLAG_POS), workers * 8) for i in range(workers * 8)]
    if workers > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_flags_of_chunk, chunks)
    else:
        parts = [_flags_of_chunk(chunk) for chunk in chunks]
    rows = [row for part in parts for row in part]
    fields = [
        "buyer_id", "po_id", "supplier_id", "milestone_id", "defect_class", "defect_code",
        "code_name", "escalating", "projected", "p_value", "probability", "strength",
        "explanation", "series", "history_lots", "raised_at", "updated_at", "cleared_at",
    ]  # fmt: skip
    writer.write(TrendFlag, fields, rows)
    return len(rows)


_FLAG_POS: list = []
_FLAG_STREAMS: dict = {}
_FLAG_SINCE: datetime | None = None
REPLAY_DAYS = 90  # POs published within: every publication replayed


def _flags_of_chunk(indices) -> list[tuple]:
    rows = []
    for i in indices:
        po = _FLAG_POS[i]
        for flag in _flags_of_po(po).values():
            rows.append((
                po.buyer_id, po.id, po.supplier.pk, flag.milestone_id, flag.defect_class,
                flag.defect_code, flag.code_name, flag.escalating, flag.projected, flag.p_value,
                flag.probability, flag.strength, flag.explanation, flag.series,
                flag.history_lots, flag.raised_at, flag.updated_at, flag.cleared_at,
            ))  # fmt: skip
    return rows


def _rank(m: MilestoneRow) -> tuple[int, int]:
    return (("IPC", "DUPRO", "PSI", "CLI").index(m.kind), m.sequence)


def _tally_lot(m: MilestoneRow, *, history: bool) -> "flags.Lot":
    label = f"PO {m.po.number} {m.label}" if history else m.label
    found = {name: m.found[name] for name in flags.ASSESSED_CLASSES}
    return flags.Lot(label, m.n, found, m.codes, history, m.day, m.kind)


def _history(po: PORow, as_of: MilestoneRow) -> list[MilestoneRow]:
    """As flags._history_rows: the stream's last lots inspected by and published before."""
    row, days = _FLAG_STREAMS.get((po.buyer_id, po.supplier.pk, po.category), ([], []))
    earlier = []
    for m in reversed(row[: bisect_right(days, as_of.day)]):
        if m.po is not po and m.published_at < as_of.published_at:
            earlier.append(m)
            if len(earlier) == flags.HISTORY_LOTS:
                break
    # Newest inspection first as the query orders them, then oldest first for the series.
    earlier.sort(key=lambda m: (m.day, m.published_at, m.id), reverse=True)
    return list(reversed(earlier))


def _plans(po: PORow, as_of: MilestoneRow, moment: datetime) -> tuple[dict, dict]:
    """As flags._plans, with the sampling each milestone had at the moment of publication."""
    ordered = sorted((m for m in po.milestones if m.status != S.CANCELLED), key=_rank)
    here = _rank(as_of)

    def plan_at(m):
        return m.sampling if m.sampling and m.planned_at and m.planned_at <= moment else None

    later = [m for m in ordered if _rank(m) > here]
    upcoming = next((m for m in later if m.kind in ("DUPRO", "PSI")), None)
    if upcoming is not None and plan_at(upcoming):
        label = upcoming.label
        source = {"of": label, "planned": True, "source": f"the plan of the {label}"}
        return flags._plan_classes(plan_at(upcoming)), source
    done = [m for m in ordered if _rank(m) <= here and plan_at(m)]
    if not done:
        return {}, {}
    label = done[-1].label
    nothing = "not yet planned" if upcoming else "none planned on this PO"
    return flags._plan_classes(plan_at(done[-1])), {
        "of": label,
        "planned": False,
        "source": f"the plan of the {label}, the best guess for the next sample ({nothing})",
    }


def _flags_of_po(po: PORow) -> dict:
    """refresh_flags at each of the PO's publications, in the order they happened."""
    existing: dict[tuple[str, str], TrendFlag] = {}
    published = sorted(
        (m for m in po.milestones if m.status == S.PUBLISHED), key=lambda m: m.published_at
    )
    # Every publication for the POs still moving (flags raised and cleared as they happened);
    # only the latest for the older ones, whose flags then carry that publication's time.
    recent = published and published[-1].published_at > _FLAG_SINCE
    for k in range(len(published)) if recent else range(len(published) - 1, len(published)):
        rows = sorted(published[: k + 1], key=_rank)
        as_of, moment = rows[-1], rows[-1].published_at
        mine = [m for m in rows if _rank(m) < _rank(as_of)] + [as_of]
        history = _history(po, as_of)
        lots = [_tally_lot(m, history=True) for m in history]
        lots += [_tally_lot(m, history=False) for m in mine if m.n > 0]
        plans, source = _plans(po, as_of, moment)
        seen = set()
        for series in flags.assess_lots(lots, len(history), plans, source):
            key = (series.defect_class, series.code)
            seen.add(key)
            row = existing.get(key)
            if row is None:
                if series.flagged:
                    row = TrendFlag(
                        defect_class=series.defect_class, defect_code=series.code, raised_at=moment
                    )
                    flags._fill(row, series, as_of.id, moment)
                    existing[key] = row
                continue
            was_active = row.active
            flags._fill(row, series, as_of.id, moment)
            if series.flagged:
                row.cleared_at = None
            elif was_active:
                row.cleared_at = moment
        for key, row in existing.items():
            if key not in seen and row.active:
                row.cleared_at = row.updated_at = moment
    return existing
