"""The demo program: two importers, the Hong Kong QC agency that serves them, four suppliers in
five real manufacturing clusters, and thirty POs at every stage of production.

Everything is made through the services, as a user would make it, inside one transaction.
Randomness comes from `random.Random(seed)` alone and every date is an offset from `today`, so
two loads with the same seed and day give the same program, and the demo always looks live.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from qcloop.accounts.models import (
    Engagement,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from qcloop.accounts.services import add_member, create_organisation, engage_agency
from qcloop.alerts.models import Escalation, NotificationAttempt, NotificationStatus
from qcloop.analytics.models import MilestoneTally, TrendFlag
from qcloop.analytics.services import record_published
from qcloop.capa import rules as capa_rules
from qcloop.capa import services as capa_services
from qcloop.capa.models import CapaAnswer, CorrectiveAction
from qcloop.commercial.demo import load_demo_commercial
from qcloop.core.reference import ProductCategory, QuantityUnit
from qcloop.inspections.lab_demo import load_demo_lab_tests
from qcloop.inspections.models import MILESTONE_ORDER, DefectCode, Milestone, MilestoneKind
from qcloop.inspections.models import MilestoneStatus as MS
from qcloop.inspections.photos import ingest, upload_photo
from qcloop.inspections.planning import default_windows
from qcloop.inspections.recording import (
    answer_checks,
    record_defect,
    record_loading,
    record_production,
    submit_inspection,
)
from qcloop.inspections.rules import container_check_digit
from qcloop.inspections.services import (
    SAMPLED_KINDS,
    plan_sampling,
    transition_milestone,
    update_milestone,
)
from qcloop.orders.models import Factory, POStatus, Product, PurchaseOrder, Supplier
from qcloop.orders.services import (
    LineDraft,
    PODraft,
    create_purchase_order,
    save_factory,
    save_product,
    save_supplier,
    update_purchase_order,
)
from qcloop.reports.content import content_sha256, milestone_content
from qcloop.reports.models import Report, ReportKind, ReportVersion
from qcloop.reports.services import approve, draft_content, report_sla
from qcloop.scheduling.demo import load_demo_scheduling

PASSWORD = "qcloop-demo-2026"
STAFF_EMAIL = "admin@qcloop.example"
STAFF_NAME = "qcloop Admin"

BUYER, AGENCY, SUPPLIER = OrganisationKind.BUYER, OrganisationKind.AGENCY, OrganisationKind.SUPPLIER
VIEWER, MANAGER = Role.BUYER_VIEWER, Role.BUYER_MANAGER
COORDINATOR, QC_LEAD, INSPECTOR = Role.COORDINATOR, Role.QC_LEAD, Role.INSPECTOR
SUPPLIER_USER, ADMIN = Role.SUPPLIER_USER, Role.ADMIN
GARMENTS, FOOTWEAR = ProductCategory.GARMENTS, ProductCategory.FOOTWEAR
ELECTRONICS, LIGHTING = ProductCategory.ELECTRONICS, ProductCategory.LIGHTING
TOYS, HOME, FOOD = (
    ProductCategory.TOYS,
    ProductCategory.FURNITURE_HOME,
    ProductCategory.FOOD_CONTACT,
)

# --- who -----------------------------------------------------------------------------------

# fmt: off
ORGANISATIONS = [
    # key, name, kind, country, time zone, email domain
    ("harbor", "Harbor Lane Brands, Inc.", BUYER, "US", "America/New_York",
     "harborlane.example"),
    ("elbwerk", "Elbwerk Home & Living GmbH", BUYER, "DE", "Europe/Berlin", "elbwerk.example"),
    ("lionrock", "Lion Rock Quality Services Ltd", AGENCY, "HK", "Asia/Hong_Kong",
     "lionrockqc.example"),
    ("brightway", "Zhongshan Brightway Lighting Co., Ltd.", SUPPLIER, "CN", "Asia/Shanghai",
     "brightway-lighting.example"),
    ("hengrui", "Zhejiang Hengrui Home Products Co., Ltd.", SUPPLIER, "CN", "Asia/Shanghai",
     "hengrui-home.example"),
    ("tanphutrung", "Tan Phu Trung Apparel & Footwear Co., Ltd.", SUPPLIER, "VN",
     "Asia/Ho_Chi_Minh", "tanphutrung.example"),
    ("noyyal", "Noyyal Knit Exports Pvt. Ltd.", SUPPLIER, "IN", "Asia/Kolkata",
     "noyyalknit.example"),
]
AGENCY_KEY = "lionrock"

# How long each agency has served each buyer, in days before today.
ENGAGED_FOR_DAYS = {"harbor": 1186, "elbwerk": 612}

PEOPLE = [
    # email local part, organisation, role, full name, phone, time zone ("" = the organisation's)
    ("megan.kowalski", "harbor", MANAGER, "Megan Kowalski", "+1 201 555 0143", ""),
    ("daniel.reyes", "harbor", VIEWER, "Daniel Reyes", "+1 201 555 0178", ""),
    ("katrin.vogt", "elbwerk", MANAGER, "Katrin Vogt", "+49 40 3290 4417", ""),
    ("jonas.petersen", "elbwerk", VIEWER, "Jonas Petersen", "+49 40 3290 4452", ""),
    ("cherry.ho", "lionrock", COORDINATOR, "Cherry Ho Wing-sze", "+852 9123 4601", ""),
    ("raymond.lau", "lionrock", ADMIN, "Raymond Lau Chi-keung", "+852 9123 4688", ""),
    ("ada.wong", "lionrock", QC_LEAD, "Ada Wong Mei-ling", "+852 9361 2274", ""),
    ("tang.jianhua", "lionrock", QC_LEAD, "Tang Jianhua", "+86 139 5742 0816", "Asia/Shanghai"),
    ("tran.minh.quan", "lionrock", QC_LEAD, "Tran Minh Quan", "+84 90 318 4427",
     "Asia/Ho_Chi_Minh"),
    ("kelvin.chan", "lionrock", INSPECTOR, "Kelvin Chan Ka-wai", "+852 6284 1093", ""),
    ("liang.zhiqiang", "lionrock", INSPECTOR, "Liang Zhiqiang", "+86 137 2806 5519",
     "Asia/Shanghai"),
    ("zhou.ting", "lionrock", INSPECTOR, "Zhou Ting", "+86 158 6742 3390", "Asia/Shanghai"),
    ("nguyen.thu.trang", "lionrock", INSPECTOR, "Nguyen Thi Thu Trang", "+84 93 855 2176",
     "Asia/Ho_Chi_Minh"),
    ("karthik.subramanian", "lionrock", INSPECTOR, "Karthik Subramanian", "+91 98430 61274",
     "Asia/Kolkata"),
    ("huang.weiming", "brightway", SUPPLIER_USER, "Huang Weiming", "+86 760 2218 6630", ""),
    ("chen.xiaoyan", "hengrui", SUPPLIER_USER, "Chen Xiaoyan", "+86 574 8812 0457", ""),
    ("le.van.hung", "tanphutrung", SUPPLIER_USER, "Le Van Hung", "+84 28 3892 1045", ""),
    ("senthil.kumar", "noyyal", SUPPLIER_USER, "Senthil Kumar Palanisamy", "+91 421 242 7718",
     ""),
]

# The logins printed after `qcloop demo`: one per role (every demo user has the same password).
LOGINS = ["megan.kowalski", "jonas.petersen", "cherry.ho", "ada.wong", "kelvin.chan",
          "huang.weiming", "raymond.lau"]
STAFF_LABEL, STAFF_ORGANISATION = "Platform staff (Django admin)", "qcloop"

# --- what, where ---------------------------------------------------------------------------

SUPPLIERS = [
    # key, buyer, supplier organisation, buyer's vendor code, contact (PEOPLE key), currency
    ("hl-brightway", "harbor", "brightway", "HL-V10482", "huang.weiming", "USD"),
    ("hl-hengrui", "harbor", "hengrui", "HL-V10517", "chen.xiaoyan", "USD"),
    ("ew-hengrui", "elbwerk", "hengrui", "400317", "chen.xiaoyan", "EUR"),
    ("ew-tanphutrung", "elbwerk", "tanphutrung", "400288", "le.van.hung", "USD"),
    ("ew-noyyal", "elbwerk", "noyyal", "400352", "senthil.kumar", "EUR"),
]

FACTORIES = [
    {"key": "guzhen", "supplier": "hl-brightway", "name": "Brightway Guzhen Plant 2",
     "address": "No. 18 Donghui Road, Haizhou Industrial Zone, Guzhen Town",
     "city": "Zhongshan", "region": "Guangdong", "country": "CN", "cluster": "Guzhen lighting",
     "latitude": "22.611240", "longitude": "113.190470", "timezone": "Asia/Shanghai"},
    {"key": "ningbo", "supplier": "ew-hengrui", "name": "Hengrui Ningbo Housewares Factory",
     "address": "No. 77 Jinyuan Road, Yinzhou Investment Business Park", "city": "Ningbo",
     "region": "Zhejiang", "country": "CN", "cluster": "Ningbo housewares",
     "latitude": "29.817310", "longitude": "121.547180", "timezone": "Asia/Shanghai"},
    {"key": "yunhe", "supplier": "hl-hengrui", "name": "Hengrui Yunhe Wooden Toy Factory",
     "address": "No. 9 Xinchuang Road, Yunhe Industrial Zone, Yunhe County", "city": "Lishui",
     "region": "Zhejiang", "country": "CN", "cluster": "Yunhe wooden toys",
     "latitude": "28.111420", "longitude": "119.573260", "timezone": "Asia/Shanghai"},
    {"key": "cuchi", "supplier": "ew-tanphutrung", "name": "Tan Phu Trung Factory 1",
     "address": "Lot B4, Road N2, Tan Phu Trung Industrial Park, Cu Chi District",
     "city": "Ho Chi Minh City", "region": "Ho Chi Minh City", "country": "VN",
     "cluster": "Ho Chi Minh City garments and footwear",
     "latitude": "10.973150", "longitude": "106.493420", "timezone": "Asia/Ho_Chi_Minh"},
    {"key": "tiruppur", "supplier": "ew-noyyal", "name": "Noyyal Knit Exports Unit 1",
     "address": "SF No. 214, Avinashi Road, Pooluvapatti", "city": "Tiruppur",
     "region": "Tamil Nadu", "country": "IN", "cluster": "Tiruppur knitwear",
     "latitude": "11.108270", "longitude": "77.341090", "timezone": "Asia/Kolkata"},
]

# Who inspects where: inspectors take turns, milestone by milestone, at their factories.
INSPECTORS_BY_FACTORY = {
    "guzhen": ["kelvin.chan", "liang.zhiqiang"],
    "ningbo": ["zhou.ting"],
    "yunhe": ["zhou.ting"],
    "cuchi": ["nguyen.thu.trang"],
    "tiruppur": ["karthik.subramanian"],
}
# One accountable QC lead per PO, by the lead's speciality.
QC_LEAD_BY_CATEGORY = {
    LIGHTING: "ada.wong", ELECTRONICS: "ada.wong",
    TOYS: "tang.jianhua", FOOD: "tang.jianhua", HOME: "tang.jianhua",
    GARMENTS: "tran.minh.quan", FOOTWEAR: "tran.minh.quan",
}

PRODUCTS = {
    # buyer: [(SKU, name, category, target markets, compliance regimes, units per carton,
    #          FOB unit price in the supplier's currency)]
    "harbor": [
        ("HL-LT-2101", "LED desk lamp with USB-A charging port", LIGHTING, "US CA",
         "UL FCC PROP65", 6, "11.80"),
        ("HL-LT-2140", "Rattan pendant light, 15 in", LIGHTING, "US", "UL PROP65", 4, "18.50"),
        ("HL-LT-2217", "Solar LED pathway lights, 8-pack", LIGHTING, "US CA", "PROP65", 6,
         "14.20"),
        ("HL-LT-2260", "LED puck lights with remote, 6-pack", LIGHTING, "US", "UL FCC", 12,
         "9.60"),
        ("HL-EL-3305", "Wi-Fi smart plug, 2-pack", ELECTRONICS, "US", "UL FCC", 24, "7.90"),
        ("HL-EL-3312", "Bluetooth speaker lantern", ELECTRONICS, "US CA", "FCC PROP65", 12,
         "12.40"),
        ("HL-TY-5020", "Wooden stacking rainbow, 7 pieces", TOYS, "US CA",
         "CPSIA ASTM_F963 FSC", 12, "6.75"),
        ("HL-TY-5046", "Wooden train set, 48 pieces", TOYS, "US", "CPSIA ASTM_F963", 8, "16.90"),
        ("HL-TY-5081", "Wooden shape-sorter cube", TOYS, "US", "CPSIA ASTM_F963 FSC", 16,
         "7.60"),
    ],
    "elbwerk": [
        ("EW-GA-1104", "Men's organic cotton crew-neck T-shirt", GARMENTS, "EU GB",
         "OEKO_TEX GOTS REACH", 60, "3.85"),
        ("EW-GA-1118", "Women's jersey sleep set", GARMENTS, "EU GB", "OEKO_TEX REACH", 36,
         "8.40"),
        ("EW-GA-1230", "Women's quilted lightweight jacket", GARMENTS, "EU", "OEKO_TEX REACH",
         20, "17.20"),
        ("EW-FW-2210", "Canvas low-top sneaker", FOOTWEAR, "EU GB", "REACH", 12, "11.50"),
        ("EW-FW-2245", "Women's suede ankle boot", FOOTWEAR, "EU", "REACH", 10, "21.80"),
        ("EW-FC-3101", "Glass storage jar with bamboo lid, 1 l", FOOD, "EU", "LFGB EU_FCM", 12,
         "2.65"),
        ("EW-FC-3120", "Stainless steel lunch box, 2-tier", FOOD, "EU", "LFGB EU_FCM", 24,
         "5.90"),
        ("EW-FC-3155", "Silicone baking mat, set of 2", FOOD, "EU", "LFGB EU_FCM", 48, "3.10"),
        ("EW-HO-4012", "Bamboo bath caddy", HOME, "EU", "REACH FSC", 12, "9.80"),
        ("EW-HO-4030", "Powder-coated steel side table", HOME, "EU", "REACH", 2, "24.50"),
        ("EW-HO-4071", "Bathroom mirror cabinet with LED light", HOME, "EU",
         "CE ROHS WEEE REACH", 1, "68.00"),
    ],
}

# Colours and size runs; a PO that lists a SKU twice orders two of them.
VARIANTS = {
    "HL-LT-2101": ["Brushed nickel", "Matte black"],
    "HL-LT-2140": ["Natural rattan", "Black-washed rattan"],
    "HL-LT-2217": ["Stainless", "Oil-rubbed bronze"],
    "HL-LT-2260": ["Warm white 3000K", "Daylight 5000K"],
    "HL-EL-3312": ["Sage green", "Charcoal"],
    "HL-TY-5020": ["Pastel", "Primary colours"],
    "EW-GA-1104": ["Navy, S-XXL", "Off-white, S-XXL", "Heather grey, S-XXL"],
    "EW-GA-1118": ["Dusty rose, XS-XL", "Navy stripe, XS-XL"],
    "EW-GA-1230": ["Olive, 34-44", "Black, 34-44"],
    "EW-FW-2210": ["White, EU 36-46", "Navy, EU 36-46"],
    "EW-FW-2245": ["Taupe, EU 36-41", "Black, EU 36-41"],
    "EW-HO-4030": ["Anthracite", "Sage"],
}

# Production run length in days, by category (cut to ex-factory).
RUN_DAYS = {
    GARMENTS: (35, 45), FOOTWEAR: (40, 55), ELECTRONICS: (40, 55), LIGHTING: (35, 50),
    TOYS: (40, 55), HOME: (45, 60), FOOD: (35, 50),
}
UNIT_BY_CATEGORY = {FOOTWEAR: QuantityUnit.PAIRS}

# --- where each PO stands ------------------------------------------------------------------

PL, BK, IP, SU, PU, CA = MS.PLANNED, MS.BOOKED, MS.IN_PROGRESS, MS.SUBMITTED, MS.PUBLISHED, \
    MS.CANCELLED
STAGES = {
    # stage: IPC, DUPRO, PSI, CLI, PO status; the milestone the stage turns on and its
    # inspection day (from, to) in days from today
    "not_started":     (PL, PL, PL, PL, "open", "IPC", (10, 28)),
    "ipc_booked":      (BK, PL, PL, PL, "open", "IPC", (1, 4)),
    "ipc_in_progress": (IP, PL, PL, PL, "open", "IPC", (0, 0)),
    "dupro_booked":    (PU, BK, PL, PL, "open", "DUPRO", (1, 5)),
    "dupro_submitted": (PU, SU, PL, PL, "open", "DUPRO", (-1, 0)),
    "dupro_published": (PU, PU, PL, PL, "open", "DUPRO", (-8, -3)),
    "psi_in_progress": (PU, PU, IP, PL, "open", "PSI", (0, 0)),
    "psi_published":   (PU, PU, PU, PL, "open", "PSI", (-2, -1)),
    "cli_booked":      (PU, PU, PU, BK, "open", "CLI", (1, 3)),
    "shipped":         (PU, PU, PU, PU, "shipped", "CLI", (-20, -4)),
    "closed":          (PU, PU, PU, PU, "closed", "CLI", (-75, -40)),
    "cancelled":       (PU, CA, CA, CA, "cancelled", "IPC", (-12, -6)),
}

PURCHASE_ORDERS = [
    # factory, stage, FOB target in thousands (PO currency), market, SKUs (one line each),
    # retailer compliance, notes
    ("guzhen", "closed", 48, "US", "HL-LT-2101 HL-LT-2101", "Target", ""),
    ("guzhen", "shipped", 118, "US", "HL-LT-2217 HL-LT-2217", "Walmart", ""),
    ("guzhen", "cli_booked", 46, "US", "HL-EL-3305", "Walmart", ""),
    ("guzhen", "psi_published", 38, "US", "HL-LT-2140 HL-LT-2140", "", ""),
    ("guzhen", "psi_in_progress", 212, "US", "HL-LT-2101 HL-LT-2101 HL-LT-2260", "Target",
     "Hero SKU of the Target spring reset: photo-documented QC at every milestone."),
    ("guzhen", "dupro_submitted", 27, "US", "HL-EL-3312 HL-EL-3312", "", ""),
    ("guzhen", "dupro_booked", 44, "US", "HL-LT-2260 HL-LT-2101", "Target", ""),
    ("guzhen", "ipc_in_progress", 19, "US", "HL-LT-2140", "",
     "New tooling for the rattan shade: compare first-off units with the golden sample."),
    ("guzhen", "ipc_booked", 84, "CA", "HL-LT-2217", "Walmart", "Walmart Canada programme."),
    ("guzhen", "not_started", 33, "US", "HL-EL-3305 HL-EL-3312", "", ""),
    ("yunhe", "closed", 24, "US", "HL-TY-5020 HL-TY-5020", "Target", ""),
    ("yunhe", "dupro_published", 41, "US", "HL-TY-5046", "", ""),
    ("yunhe", "dupro_submitted", 16, "US", "HL-TY-5081 HL-TY-5020", "Target", ""),
    ("yunhe", "cancelled", 12, "US", "HL-TY-5046", "",
     "Cancelled after the IPC: no ASTM F963 heavy-metal report for the new paint batch."),
    ("yunhe", "not_started", 29, "US", "HL-TY-5020 HL-TY-5081", "Target", ""),
    ("ningbo", "shipped", 22, "EU", "EW-FC-3101 EW-FC-3120", "", ""),
    ("ningbo", "cli_booked", 14, "EU", "EW-FC-3155", "", ""),
    ("ningbo", "psi_published", 36, "EU", "EW-HO-4030 EW-HO-4030", "", ""),
    ("ningbo", "dupro_published", 19, "EU", "EW-FC-3120", "", ""),
    ("ningbo", "dupro_booked", 58, "EU", "EW-HO-4071", "",
     "First electrical product from this supplier: CE, RoHS and WEEE files due at PSI."),
    ("ningbo", "ipc_booked", 17, "EU", "EW-HO-4012", "", ""),
    ("ningbo", "ipc_in_progress", 9, "EU", "EW-FC-3101", "", ""),
    ("cuchi", "shipped", 73, "GB", "EW-FW-2210 EW-FW-2210", "", ""),
    ("cuchi", "psi_in_progress", 48, "EU", "EW-FW-2245 EW-FW-2245", "", ""),
    ("cuchi", "dupro_submitted", 31, "EU", "EW-GA-1230 EW-GA-1230", "", ""),
    ("cuchi", "cli_booked", 26, "EU", "EW-GA-1230", "", ""),
    ("cuchi", "ipc_booked", 95, "EU", "EW-FW-2210 EW-FW-2210 EW-FW-2245", "",
     "New outsole mould: check sole bonding closely at DUPRO."),
    ("tiruppur", "dupro_published", 21, "EU", "EW-GA-1104 EW-GA-1104 EW-GA-1104", "", ""),
    ("tiruppur", "dupro_booked", 34, "GB", "EW-GA-1118 EW-GA-1104", "",
     "GOTS transaction certificate needed before shipment."),
    ("tiruppur", "not_started", 15, "EU", "EW-GA-1118", "", ""),
    # Brightway's earlier lighting lots for Harbor Lane: the baseline its trend is read against.
    ("guzhen", "closed", 52, "US", "HL-LT-2260 HL-LT-2260", "Target", ""),
    ("guzhen", "closed", 61, "US", "HL-LT-2101 HL-LT-2140", "", ""),
    ("guzhen", "closed", 44, "CA", "HL-LT-2217", "Walmart", "Walmart Canada programme."),
]
# fmt: on

# PO numbers as each buyer's ERP makes them: (prefix, first number, digits).
PO_NUMBERING = {"harbor": ("", 4500218000, 10), "elbwerk": ("EW-", 310400, 6)}


@dataclass
class DemoResult:
    """What `load_demo` did (`created`) and how to sign in: (role, email, organisation) per
    role, all with the one demo `password`; then how much of the demo program there is."""

    created: bool
    logins: list[tuple[str, str, str]]
    password: str = PASSWORD
    organisations: int = 0
    users: int = 0
    suppliers: int = 0
    factories: int = 0
    products: int = 0
    purchase_orders: int = 0
    milestones: int = 0


# --- the plan: pure, from the tables, `today` and the seed ----------------------------------


@dataclass
class MilestonePlan:
    kind: str
    status: str
    inspection_date: date | None = None
    inspector: str = ""  # a PEOPLE key
    arrive_minutes: int = 0  # after 08:30 factory time
    work_minutes: int = 0  # from arrival to the submitted report
    review_minutes: int = 0  # from submission to publication by the QC lead
    cancelled_on: date | None = None
    major_rate: float | None = None  # per 100 units: set by the story (ESCALATION), not drawn
    rising_code: str = ""  # the defect name the rise is made of


@dataclass
class OrderPlan:
    buyer: str
    supplier: str
    factory: str
    qc_lead: str
    currency: str
    unit: str
    lines: list[tuple[str, str, int]]  # SKU, variant, quantity
    carton_count: int
    fob_value: Decimal
    production_start: date
    ex_factory_date: date
    ship_date: date
    destination_market: str
    retailer_compliance: str
    notes: str
    status: str
    created_on: date
    created_minutes: int  # after 09:00 at the desk of whoever entered the PO
    milestones: list[MilestonePlan]
    number: str = ""


def _demo_slug(name: str) -> str:
    return slugify(name)[:70]


DEMO_SLUGS = [_demo_slug(row[1]) for row in ORGANISATIONS]
AGENCY_SLUG = _demo_slug(next(row[1] for row in ORGANISATIONS if row[0] == AGENCY_KEY))
_PRODUCTS = {row[0]: (buyer, *row[1:]) for buyer, rows in PRODUCTS.items() for row in rows}
_SUPPLIERS = {row[0]: row for row in SUPPLIERS}
_FACTORY_SUPPLIER = {f["key"]: f["supplier"] for f in FACTORIES}


def plan_orders(today: date, seed: int) -> list[OrderPlan]:
    """The demo's POs, numbered in the order they were entered. Pure: no database."""
    rng = random.Random(seed)
    turns = dict.fromkeys(INSPECTORS_BY_FACTORY, 0)
    plans = [_plan_order(row, today, rng, turns) for row in PURCHASE_ORDERS]
    plans.sort(key=lambda p: p.created_on)  # stable: ties keep the table's order
    _number(plans, rng)
    return plans


def _plan_order(row, today: date, rng: random.Random, turns: dict) -> OrderPlan:
    factory, stage, fob_thousands, market, skus, retailer, notes = row
    supplier_key = _FACTORY_SUPPLIER[factory]
    _, buyer, _, _, _, currency = _SUPPLIERS[supplier_key]
    category = _PRODUCTS[skus.split()[0]][2]
    start, ex_factory, ship, day = _plan_dates(stage, category, today, rng)
    lines, cartons, fob = _plan_lines(skus.split(), fob_thousands * 1000, rng)
    milestones = _plan_milestones(stage, day, default_windows(start, ex_factory, ship), today, rng)
    _assign_inspectors(milestones, factory, turns)
    if (factory, stage) == ESCALATION["po"]:
        for step in milestones:
            step.major_rate = ESCALATION["major"].get(step.kind)
            step.rising_code = ESCALATION["defect"] if step.major_rate else ""
    created_on = min(
        start - timedelta(days=rng.randint(14, 35)), today - timedelta(days=rng.randint(1, 4))
    )
    created_minutes = rng.randint(0, 7 * 60)
    return OrderPlan(
        buyer=buyer,
        supplier=supplier_key,
        factory=factory,
        qc_lead=QC_LEAD_BY_CATEGORY[category],
        currency=currency,
        unit=UNIT_BY_CATEGORY.get(category, QuantityUnit.PIECES),
        lines=lines,
        carton_count=cartons,
        fob_value=fob,
        production_start=start,
        ex_factory_date=ex_factory,
        ship_date=ship,
        destination_market=market,
        retailer_compliance=retailer,
        notes=notes,
        status=STAGES[stage][4],
        created_on=created_on,
        created_minutes=created_minutes,
        milestones=milestones,
    )


def _plan_dates(stage: str, category: str, today: date, rng: random.Random):
    """Production start, ex-factory and ship dates that put the stage's milestone on its
    inspection day, and that day."""
    *_, status, anchor, (lo, hi) = STAGES[stage]
    run = rng.randint(*RUN_DAYS[category])
    to_port = rng.randint(3, 7)
    offset = rng.randint(lo, hi)
    day = today + timedelta(days=offset)
    if anchor == MilestoneKind.IPC:  # on the second day of production
        start = day - timedelta(days=1)
        ex_factory = start + timedelta(days=run)
    elif anchor == MilestoneKind.DUPRO:  # at 40 % of the run
        start = day - timedelta(days=round(run * 0.4))
        ex_factory = start + timedelta(days=run)
    elif anchor == MilestoneKind.PSI:  # 1-3 days before ex-factory, and ex-factory still ahead
        ex_factory = day + timedelta(days=rng.randint(max(1, 1 - offset), 3))
        start = ex_factory - timedelta(days=run)
    else:  # CLI: loading on the ex-factory day
        ex_factory = day
        start = ex_factory - timedelta(days=run)
    if status in (POStatus.SHIPPED, POStatus.CLOSED):  # the vessel has sailed
        to_port = min(to_port, (today - ex_factory).days)
    return start, ex_factory, ex_factory + timedelta(days=to_port), day


def _plan_lines(skus: list[str], fob_target: int, rng: random.Random):
    """Lines in whole cartons whose value comes near the target, and the PO's totals."""
    target = fob_target * rng.uniform(0.9, 1.1)
    weights = [rng.uniform(0.6, 1.4) for _ in skus]
    variants = {sku: rng.sample(VARIANTS.get(sku, [""]), skus.count(sku)) for sku in skus}
    lines, cartons, fob = [], 0, Decimal(0)
    for sku, weight in zip(skus, weights, strict=True):
        per_carton, price = _PRODUCTS[sku][-2:]
        value = target * weight / sum(weights)
        line_cartons = max(1, round(value / (float(price) * per_carton)))
        quantity = line_cartons * per_carton
        lines.append((sku, variants[sku].pop(0), quantity))
        cartons += line_cartons
        fob += Decimal(price) * quantity
    return lines, cartons, fob.quantize(Decimal("0.01"))


def _plan_milestones(stage, anchor_day, windows, today, rng) -> list[MilestonePlan]:
    """Each milestone's status; for those that are booked or further, the inspection day
    (the stage's milestone on `anchor_day`, earlier ones on a day of their window before
    today) and the inspector's working hours."""
    statuses, anchor = STAGES[stage][:4], STAGES[stage][5]
    plans = []
    for kind, status in zip(MILESTONE_ORDER, statuses, strict=True):
        plan = MilestonePlan(kind=kind.value, status=status)
        if status not in (PL, CA):
            plan.inspection_date = (
                anchor_day if kind == anchor else _day_in(windows[kind], today, rng)
            )
            plan.arrive_minutes = rng.randint(0, 75)
            plan.work_minutes = rng.randint(330, 540)
            plan.review_minutes = rng.randint(14 * 60, 26 * 60)
        plans.append(plan)
    if any(plan.status == CA for plan in plans):  # the buyer cancelled after the IPC report
        cancelled_on = plans[0].inspection_date + timedelta(days=rng.randint(2, 4))
        for plan in plans:
            plan.cancelled_on = cancelled_on if plan.status == CA else None
    return plans


def _day_in(window: tuple[date, date], today: date, rng: random.Random) -> date:
    first, last = window[0], min(window[1], today - timedelta(days=1))
    if last < first:
        raise AssertionError(f"No day before {today} in the window {window}.")
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _assign_inspectors(milestones: list[MilestonePlan], factory: str, turns: dict) -> None:
    pool = INSPECTORS_BY_FACTORY[factory]
    for i, plan in enumerate(milestones):
        if plan.inspection_date is not None:
            plan.inspector = pool[(turns[factory] + i) % len(pool)]
    turns[factory] += 1


def _number(plans: list[OrderPlan], rng: random.Random) -> None:
    """Each buyer's PO numbers rise in the order the POs were entered, with gaps for the POs
    the agency does not monitor."""
    counters = {buyer: first + rng.randint(0, 900) for buyer, (_, first, _) in PO_NUMBERING.items()}
    for plan in plans:
        prefix, _, digits = PO_NUMBERING[plan.buyer]
        counters[plan.buyer] += rng.randint(7, 60)
        plan.number = f"{prefix}{counters[plan.buyer]:0{digits}d}"


# --- loading, through the services ---------------------------------------------------------

COORDINATOR_KEY = "cherry.ho"
# Harbor Lane's sourcing team enters its own POs; Elbwerk's are entered by the agency's
# coordinator, as a buying office does.
ENTERED_BY = {"harbor": "megan.kowalski", "elbwerk": COORDINATOR_KEY}
WORKFLOW = [BK, IP, SU, PU]


@dataclass
class _Program:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    factories: dict[str, Factory] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)

    def manager_of(self, buyer: Organisation) -> User:
        return next(
            self.people[key]
            for key, org, role, *_ in PEOPLE
            if role == MANAGER and self.orgs[org] == buyer
        )


def load_demo(*, today: date | None = None, seed: int = 2859, stdout=None) -> DemoResult:
    """Load the demo program unless it is there already (then change nothing). Dates are
    relative to `today` (default: the current date); `stdout`, when given, gets the logins."""
    today = today or timezone.localdate()
    with transaction.atomic():
        created = not Organisation.objects.filter(slug=AGENCY_SLUG).exists()
        if created:
            _load(today, seed)
        result = _result(created)
    if stdout is not None:
        print_logins(result, stdout)
    return result


def _load(today: date, seed: int) -> None:
    _RECYCLED.clear()  # the recycled photo is per load
    taken = list(Organisation.objects.filter(slug__in=DEMO_SLUGS).values_list("name", flat=True))
    if taken:
        raise ValidationError(
            f"Cannot load the demo: the database already has {', '.join(taken)}. "
            "Load it into an empty database."
        )
    program = _Program()
    _create_organisations(program)
    _create_people(program)
    _create_staff()
    _create_supply_base(program)
    plans = plan_orders(today, seed)
    orders = [_create_order(program, plan) for plan in plans]
    # The milestones were published in the order the POs were entered, then backdated: the
    # tallies and trend flags are rewritten in the order they were published, each flag from
    # the lots known when its milestone was; then the reports are frozen with them.
    _replay_analytics(program)
    # After every PO exists and its dates are set: a CAPA's recurrence is of the supplier's
    # earlier CAPA in time, whichever PO was entered first; then the reports are frozen.
    _follow_capas(program)
    _link_recurrences(program)
    for po in orders:
        _backdate_reports(po)
    # A summary reads the supplier's earlier lots, whichever PO was entered first.
    _publish_summaries(program)
    _backdate_setup(program, today, plans[0].created_on)
    load_demo_scheduling(today=today)  # progress reports; one PO whose ship date is at risk
    load_demo_commercial(agency=program.orgs[AGENCY_KEY], today=today)
    load_demo_lab_tests(today=today)  # an LM-79 report in place of an IPC check


def _create_organisations(program: _Program) -> None:
    for key, name, kind, country, tz, _ in ORGANISATIONS:
        program.orgs[key] = create_organisation(name=name, kind=kind, country=country, timezone=tz)
    agency = program.orgs[AGENCY_KEY]
    for key, _, kind, *_ in ORGANISATIONS:
        if kind == BUYER:
            engage_agency(agency=agency, buyer=program.orgs[key])


def _email(local: str, org_key: str) -> str:
    return f"{local}@{next(row[5] for row in ORGANISATIONS if row[0] == org_key)}"


def _create_people(program: _Program) -> None:
    for local, org, role, name, phone, tz in PEOPLE:
        program.people[local] = add_member(
            organisation=program.orgs[org],
            email=_email(local, org),
            full_name=name,
            role=role,
            password=PASSWORD,
            timezone=tz or None,
            phone=phone,
        )


def _create_staff() -> None:
    # Platform staff have no membership, so no service makes them; as `qcloop createadmin`.
    if User.objects.filter(email__iexact=STAFF_EMAIL).exists():
        raise ValidationError({"email": f"A user with the email {STAFF_EMAIL} already exists."})
    User.objects.create_superuser(STAFF_EMAIL, PASSWORD, full_name=STAFF_NAME)


def _create_supply_base(program: _Program) -> None:
    orgs, people = program.orgs, program.people
    for key, buyer, org_key, code, contact, _ in SUPPLIERS:
        org, person = orgs[org_key], people[contact]
        program.suppliers[key] = save_supplier(
            by=program.manager_of(orgs[buyer]),
            supplier=Supplier(
                buyer=orgs[buyer],
                organisation=org,
                code=code,
                name=org.name,
                country=org.country,
                contact_name=person.full_name,
                contact_email=person.email,
                contact_phone=person.phone,
            ),
        )
    for row in FACTORIES:
        data = dict(row)
        key, supplier = data.pop("key"), program.suppliers[data.pop("supplier")]
        data["latitude"], data["longitude"] = Decimal(data["latitude"]), Decimal(data["longitude"])
        program.factories[key] = save_factory(
            by=program.manager_of(supplier.buyer), factory=Factory(supplier=supplier, **data)
        )
    for buyer, rows in PRODUCTS.items():
        for sku, name, category, markets, regimes, per_carton, _ in rows:
            product = Product(
                buyer=orgs[buyer],
                sku=sku,
                name=name,
                category=category,
                target_markets=markets.split(),
                compliance_regimes=regimes.split(),
                description=f"Export carton of {per_carton}.",
            )
            program.products[sku] = save_product(
                by=program.manager_of(orgs[buyer]), product=product
            )


def _create_order(program: _Program, plan: OrderPlan) -> PurchaseOrder:
    draft = PODraft(
        number=plan.number,
        buyer=program.orgs[plan.buyer],
        agency=program.orgs[AGENCY_KEY],
        supplier=program.suppliers[plan.supplier],
        factory=program.factories[plan.factory],
        qc_lead=program.people[plan.qc_lead],
        currency=plan.currency,
        fob_value=plan.fob_value,
        unit=plan.unit,
        carton_count=plan.carton_count,
        production_start=plan.production_start,
        ex_factory_date=plan.ex_factory_date,
        ship_date=plan.ship_date,
        destination_market=plan.destination_market,
        retailer_compliance=plan.retailer_compliance,
        notes=plan.notes,
        lines=[LineDraft(program.products[sku], qty, variant) for sku, variant, qty in plan.lines],
    )
    po = create_purchase_order(by=program.people[ENTERED_BY[plan.buyer]], draft=draft)
    milestones = {m.kind: m for m in po.milestones.all()}
    lead = program.people[plan.qc_lead]
    for step in plan.milestones:
        _run_milestone(program, milestones[step.kind], step, lead)
    if plan.status != POStatus.OPEN:
        coordinator = program.people[COORDINATOR_KEY]
        po = update_purchase_order(by=coordinator, po=po, changes={"status": plan.status})
    _backdate_order(program, po, plan)
    return po


def _run_milestone(program: _Program, milestone: Milestone, step: MilestonePlan, lead: User):
    """Book, start, submit and publish as the people who do it: the coordinator books IPC and
    DUPRO, the QC lead PSI and CLI; the inspector starts and submits; the QC lead publishes."""
    coordinator = program.people[COORDINATOR_KEY]
    if step.status == PL:
        return
    if step.status == CA:
        transition_milestone(by=coordinator, milestone=milestone, to=CA)
        return
    booker = lead if step.kind in (MilestoneKind.PSI, MilestoneKind.CLI) else coordinator
    inspector = program.people[step.inspector]
    milestone = update_milestone(
        by=booker,
        milestone=milestone,
        changes={"inspection_date": step.inspection_date, "inspector": inspector, "status": BK},
    )
    if step.kind in SAMPLED_KINDS:
        # A seed derived from the PO keeps the demo's carton draws reproducible.
        seed = f"demo-{milestone.po.number}-{step.kind}"
        milestone = plan_sampling(by=booker, milestone=milestone, seed=seed)
    actors = {IP: inspector, SU: inspector, PU: lead}
    for status in WORKFLOW[1 : WORKFLOW.index(step.status) + 1]:
        if status == SU:
            _carry_out(milestone, inspector, step)
            milestone = submit_inspection(by=inspector, milestone=milestone)
        else:
            milestone = transition_milestone(by=actors[status], milestone=milestone, to=status)


# --- what inspectors found ---------------------------------------------------------------------
# A demo inspection records what a real one would: the checklist (a few optional items failed),
# the production count, defects per class drawn around the plan's acceptance numbers (so that
# some lots fail), and at the CLI the container. Each milestone has its own seeded generator.

SHARE_PRODUCED = {MilestoneKind.IPC: 0.06, MilestoneKind.DUPRO: 0.42, MilestoneKind.PSI: 1.0}

# What each supplier's process turns out, in defects per 100 units inspected (major, minor),
# by the buyer's vendor code. Tan Phu Trung runs closest to its AQLs: its lots fail now and
# then. The trend test reads each supplier's PSIs of a category as the baseline.
DEFECT_RATES = {
    "HL-V10482": {"major": 1.5, "minor": 3.0},  # Brightway lighting and electronics
    "HL-V10517": {"major": 1.5, "minor": 2.5},  # Hengrui wooden toys
    "400317": {"major": 1.5, "minor": 3.0},  # Hengrui housewares
    "400288": {"major": 3.5, "minor": 4.5},  # Tan Phu Trung garments and footwear
    "400352": {"major": 2.0, "minor": 3.5},  # Noyyal knitwear
}
# The seed's escalation (a defect at 2 % at DUPRO, 4 % at PSI, ...): on Harbor Lane's shipped
# Brightway lighting PO the majors climb while each milestone passes its plan, the rise all
# one defect. No single report would flag it; the supplier's earlier lots, at about 2 per
# 100, are the baseline the trend test flags it against.
ESCALATION = {
    "po": ("guzhen", "shipped"),
    "major": {MilestoneKind.DUPRO: 3.0, MilestoneKind.PSI: 4.5},
    "defect": "Flicker",
}
CONTAINER_OWNERS = ["MSKU", "TCNU", "CSQU", "OOLU", "HLXU", "CMAU"]


def _carry_out(milestone: Milestone, inspector: User, step: MilestonePlan) -> None:
    milestone.refresh_from_db()
    day = step.inspection_date
    rng = random.Random(f"demo-{milestone.po.number}-{milestone.label}")
    _answer_checklist(milestone, inspector, rng)
    if milestone.kind in SHARE_PRODUCED:
        _count_production(milestone, inspector, day, rng)
    if milestone.sampling:
        _find_defects(milestone, inspector, rng, step)
    if milestone.kind == MilestoneKind.CLI:
        _load_container(milestone, inspector, rng)
    if milestone.kind in (MilestoneKind.PSI, MilestoneKind.CLI):
        _take_photos(milestone, inspector, day, rng)


# Photos: seeded noise images (distinct to the perceptual hash) carrying EXIF that places
# them at the factory on the inspection day. The first PSI photo is recycled onto the next
# PO's PSI, and one CLI photo was taken 1,200 km away, so the integrity checks have something
# to show.
_RECYCLED: dict[str, bytes] = {}


def _take_photos(milestone: Milestone, inspector: User, day: date, rng: random.Random) -> None:
    factory = milestone.po.factory
    shots = [("Cartons opened for the sample", 0.0), ("Shipping marks, carton 1", 0.0)]
    if milestone.kind == MilestoneKind.CLI and rng.random() < 0.5:
        shots.append(("Container seal", 11.0))  # degrees north: far from any demo factory
    for caption, shift in shots:
        data = _demo_photo(rng, day, factory, caption, shift)
        _upload(milestone, inspector, data, caption)
    if milestone.kind == MilestoneKind.PSI:
        if "psi" in _RECYCLED:
            _upload(milestone, inspector, _RECYCLED.pop("psi"), "Product close-up")
        else:
            _RECYCLED["psi"] = data


def _upload(milestone: Milestone, inspector: User, data: bytes, caption: str, defect=None):
    attachment = upload_photo(
        by=inspector,
        milestone=milestone,
        data=data,
        name=f"IMG_{milestone.pk:04d}.jpg",
        caption=caption,
        defect=defect,
    )
    ingest(attachment.pk)  # at once: the demo should not wait for the worker


def _demo_photo(rng: random.Random, day: date, factory, caption: str, shift: float = 0.0):
    """Seeded noise (distinct to the perceptual hash) under a caption strip, with EXIF that
    places it at the factory (or `shift` degrees north of it) on the inspection day."""
    import io

    from PIL import Image, ImageDraw

    lat, lon, tz = float(factory.latitude) + shift, float(factory.longitude), factory.timezone
    noise = bytes(rng.getrandbits(8) for _ in range(48 * 36 * 3))
    image = Image.frombytes("RGB", (48, 36), noise).resize((960, 720), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 650, 960, 720), fill=(24, 32, 44))
    draw.text((24, 668), caption[:60], fill=(255, 255, 255), font_size=30)
    taken = datetime.combine(day, time(10, rng.randint(0, 59)), tzinfo=ZoneInfo(tz))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 13"
    details = exif.get_ifd(0x8769)
    details[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    details[0x9011] = taken.strftime("%z")[:3] + ":" + taken.strftime("%z")[3:]
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
    gps[3], gps[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    return buffer.getvalue()


def _dms(degrees: float) -> tuple[float, float, float]:
    whole = int(degrees)
    minutes = (degrees - whole) * 60
    return (float(whole), float(int(minutes)), round((minutes - int(minutes)) * 60, 2))


def _answer_checklist(milestone: Milestone, inspector: User, rng: random.Random) -> None:
    if milestone.checklist is None:
        return
    answers = [
        {
            "item_code": item["code"],
            "result": "fail" if not item["mandatory"] and rng.random() < 0.1 else "pass",
            "value": str(rng.randint(1, 5)) if item["answer"] == "number" else "",
        }
        for item in milestone.checklist.items
    ]
    answer_checks(by=inspector, milestone=milestone, answers=answers)


def _count_production(milestone: Milestone, inspector: User, day: date, rng) -> None:
    po = milestone.po
    share = SHARE_PRODUCED[milestone.kind]
    produced = min(po.quantity, max(1, round(po.quantity * share * rng.uniform(0.85, 1.05))))
    if milestone.kind == MilestoneKind.PSI:
        produced = po.quantity  # a PSI is booked when production is complete
    packed = produced if milestone.kind == MilestoneKind.PSI else round(produced * 0.3)
    record_production(
        by=inspector,
        milestone=milestone,
        counted_on=max(day, po.production_start or day),
        produced=produced,
        finished=packed,
        packed=packed,
        reported_produced=round(produced * rng.choice([1.0, 1.0, 1.03, 1.12])),
        packaging_on_site=milestone.kind != MilestoneKind.DUPRO or rng.random() > 0.25,
    )


def _find_defects(
    milestone: Milestone, inspector: User, rng: random.Random, step: MilestonePlan
) -> None:
    po = milestone.po
    category = po.lines.order_by("-quantity").first().product.category
    rates = DEFECT_RATES[po.supplier.code]
    for class_plan in milestone.sampling["plan"]["classes"]:
        name, units = class_plan["defect_class"], class_plan["n"]
        if name == "critical":
            # The story's milestones pass: a critical defect would fail the lot on its own.
            found = 1 if rng.random() < 0.04 and step.major_rate is None else 0
        else:
            rate = rates[name]
            # Each unit of the sample is defective with the process's rate: a stable stream
            # scatters around it, and a lot fails its plan only now and then.
            found = sum(1 for _ in range(units) if rng.random() < rate / 100)
        codes = list(
            DefectCode.objects.filter(agency__isnull=True, category=category, default_class=name)
        ) or [None]
        rise = 0
        if name == "major" and step.major_rate is not None:
            # The story's rise: the supplier's usual share spread as ever, the rest one defect.
            total = round(units * step.major_rate / 100)
            found = min(total, round(units * rates[name] / 100))
            rise = total - found
        rising = next((c for c in codes if c and c.name == step.rising_code), None)
        photographed = name == "minor"  # the first critical and major defect get a photo
        batches = _batches(rng, found, codes) + _batches(rng, rise, [rising])
        for quantity, code in batches:
            defect = record_defect(
                by=inspector,
                milestone=milestone,
                quantity=quantity,
                code=code,
                description="" if code else f"{name} defect",
                defect_class=name,
                carton=rng.randint(1, po.carton_count),
                # The same fault on three units in a row, now and then: a process, not chance.
                systematic=quantity > 2 and rng.random() < 0.15,
            )
            if not photographed:
                day = milestone.inspection_date
                caption = f"{defect.code.name if defect.code else defect.description}, close-up"
                data = _demo_photo(rng, day, po.factory, caption)
                _upload(milestone, inspector, data, caption, defect=defect)
                photographed = True


def _batches(rng: random.Random, count: int, codes: list) -> list[tuple[int, object]]:
    """`count` defects as an inspector records them: 1 to 3 units at a time, each of a code."""
    batches = []
    while count > 0:
        quantity = min(count, rng.randint(1, 3))
        batches.append((quantity, rng.choice(codes)))
        count -= quantity
    return batches


def _load_container(milestone: Milestone, inspector: User, rng: random.Random) -> None:
    owner = rng.choice(CONTAINER_OWNERS)
    first_ten = f"{owner}{rng.randint(100000, 999999)}"
    container = f"{first_ten}{container_check_digit(first_ten)}"
    record_loading(
        by=inspector,
        milestone=milestone,
        container_number=container,
        seal_number=f"{owner[:2]}{rng.randint(1000000, 9999999)}",
        load_pattern="Heavy cartons on the floor, SKUs in blocks, door end marked.",
        loaded={
            line.pk: max(
                1, round(milestone.po.carton_count * line.quantity / milestone.po.quantity)
            )
            for line in milestone.po.lines.all()
        },
    )


# --- history -------------------------------------------------------------------------------
# The services stamp creation and each workflow step with the current time; a demo loaded in
# one go would then show a CLI "published" seconds after its IPC. These updates move only those
# timestamps to when the work happened (the inspection day in the factory's time zone, the
# report that evening, publication the next day), never later than now, and change nothing else.


def _at(day: date, hour: int, minute: int, tz: str) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZoneInfo(tz)) + timedelta(minutes=minute)


def _backdate_order(program: _Program, po: PurchaseOrder, plan: OrderPlan) -> None:
    now = timezone.now()
    entered_by = program.people[ENTERED_BY[plan.buyer]]
    created = min(_at(plan.created_on, 9, plan.created_minutes, entered_by.timezone), now)
    PurchaseOrder.objects.filter(pk=po.pk).update(created_at=created)
    Milestone.objects.filter(po=po).update(created_at=created)
    factory_tz = program.factories[plan.factory].timezone
    agency_tz = program.orgs[AGENCY_KEY].timezone
    for step in plan.milestones:
        stamps = {}
        if step.status in (IP, SU, PU):
            started = _at(step.inspection_date, 8, 30 + step.arrive_minutes, factory_tz)
            submitted = started + timedelta(minutes=step.work_minutes)
            published = submitted + timedelta(minutes=step.review_minutes)
            moments = [
                ("started_at", started),
                ("submitted_at", submitted),
                ("published_at", published),
            ]
            stamps = dict(moments[: WORKFLOW.index(step.status)])  # the steps it went through
        elif step.status == CA:
            stamps = {"cancelled_at": _at(step.cancelled_on, 10, 0, agency_tz)}
        stamps = {name: min(moment, now) for name, moment in stamps.items()}
        if stamps:
            Milestone.objects.filter(po=po, kind=step.kind, sequence=1).update(**stamps)
    _follow_escalations(program, po)


# --- the follow-up: corrective actions and escalations -----------------------------------------
# What happened after each finding, in the program's past: most suppliers answered their CAPAs
# within a few days and most answers were accepted; the next visit verified them, mostly
# effective. Some answers are still awaited, so the flags have something to show. Every
# escalation of the past was acknowledged by the buyer within the hour.

CAPA_ANSWERS = {
    "defect": (
        [
            "The defect was not caught on the line",
            "The in-line check skipped this point",
            "The check sheet did not list it",
            "The check sheet predates this model",
        ],
        "The in-line check sheet was written for the previous model and does not cover this point.",
        "Every unit of the lot re-checked on this point; {quantity} reworked.",
        "Check sheet revised for this model; line leaders trained; first-article check at each "
        "shift start.",
    ),
    "check": (
        ["The check failed", "The requirement did not reach the line", "It was on the PO only"],
        "The PO requirement was not copied into the factory's work instructions.",
        "The affected cartons re-packed to the requirement.",
        "Buyer requirements copied into the work instructions at order intake, checked by QA.",
    ),
    "production": (
        ["Output below plan", "One line down for a week", "No backup for the moulding machine"],
        "A single moulding machine with no backup held up the line.",
        "Overtime and a second shift on the bottleneck until the plan is met.",
        "A second mould ordered; weekly capacity review with the buyer's plan.",
    ),
    "lab": (
        ["The lab test failed", "The material was not the approved one", "A sub-supplier changed"],
        "A sub-supplier changed the material without telling the factory.",
        "The lot re-made with the approved material; a retest booked at the same lab.",
        "Material changes need the buyer's approval; incoming material tested per lot.",
    ),
}


def _follow_capas(program: _Program) -> None:
    """Each CAPA's life after the inspection that opened it, oldest first (a CLI's CAPA is
    verified at the supplier's next PO)."""
    now = timezone.now()
    capas = CorrectiveAction.objects.filter(po__buyer__in=program.orgs.values())
    for capa in capas.select_related("milestone", "po"):
        opened = capa.milestone.submitted_at
        next_visit = capa_services.next_visit(capa.milestone)
        CorrectiveAction.objects.filter(pk=capa.pk).update(
            opened_at=opened,
            due_on=capa_rules.due_date(opened.date(), capa.severity, next_visit),
        )
    for capa in capas.select_related("milestone", "po", "owner").order_by("opened_at", "pk"):
        rng = random.Random(f"demo-{capa.reference}")
        answered = capa.opened_at + timedelta(hours=rng.randint(10, 80))
        if capa.owner is None or rng.random() < 0.2 or answered > now:
            continue  # the supplier has not answered (yet)
        _demo_answer(capa, answered, rng)
        decided = answered + timedelta(hours=rng.randint(2, 20))
        if decided > now:
            continue
        lead = capa.po.qc_lead
        capa_services.decide_answer(by=lead, capa=capa, accept=True)
        capa.answers.update(decided_at=decided)
        CorrectiveAction.objects.filter(pk=capa.pk).update(accepted_at=decided)
        _demo_verification(capa, decided, rng)


def _demo_answer(capa, answered: datetime, rng: random.Random) -> None:
    whys, root_cause, correction, prevention = CAPA_ANSWERS[capa.finding_kind]
    answer = capa_services.answer_capa(
        by=capa.owner,
        capa=capa,
        whys=whys[: rng.randint(2, len(whys))],
        root_cause=root_cause,
        correction=correction.format(quantity=capa.finding.get("quantity", "the units")),
        prevention=prevention,
    )
    CapaAnswer.objects.filter(pk=answer.pk).update(submitted_at=answered)
    CorrectiveAction.objects.filter(pk=capa.pk).update(answered_at=answered)


def _demo_verification(capa, accepted: datetime, rng: random.Random) -> None:
    """At the first visit after the answer was accepted, during the inspection."""
    visits = Milestone.objects.filter(po__supplier=capa.supplier_id, submitted_at__gt=accepted)
    later = [
        m for m in visits.select_related("po", "inspector") if capa_services.may_verify_at(capa, m)
    ]
    if not later:
        return
    visit = min(later, key=lambda m: m.submitted_at)
    effective = rng.random() < 0.8
    capa_services.verify_capa(
        by=visit.inspector,
        capa=capa,
        milestone=visit,
        effective=effective,
        note="" if effective else "The same defect found again on the line.",
    )
    verified = visit.submitted_at - timedelta(minutes=25)
    capa.verifications.update(verified_at=verified)
    if effective:
        CorrectiveAction.objects.filter(pk=capa.pk).update(closed_at=verified)
    else:
        due = capa_rules.due_date(verified.date(), capa.severity)
        CorrectiveAction.objects.filter(pk=capa.pk).update(due_on=due)


def _link_recurrences(program: _Program) -> None:
    """Each CAPA's recurrence is the supplier's last earlier CAPA for the same finding."""
    for supplier in program.suppliers.values():
        last: dict[str, CorrectiveAction] = {}
        for capa in supplier.capas.order_by("opened_at", "pk"):
            earlier = last.get(capa.finding_key)
            CorrectiveAction.objects.filter(pk=capa.pk).update(recurrence_of=earlier)
            last[capa.finding_key] = capa


def _follow_escalations(program: _Program, po: PurchaseOrder) -> None:
    """Raised when the inspection was submitted, handed over within seconds, acknowledged by
    the buyer's manager within the hour."""
    now = timezone.now()
    manager = program.manager_of(po.buyer)
    for escalation in po.escalations.exclude(milestone=None).select_related("milestone"):
        rng = random.Random(f"demo-{escalation.source}")
        raised = escalation.milestone.submitted_at or escalation.milestone.started_at
        sent = raised + timedelta(seconds=rng.randint(1, 4))
        acknowledged = raised + timedelta(minutes=rng.randint(12, 55))
        if acknowledged > now:
            continue  # raised just now: the demo's workers send it
        escalation.notifications.update(
            status=NotificationStatus.SENT, attempts=1, sent_at=sent, created_at=raised
        )
        NotificationAttempt.objects.bulk_create(
            NotificationAttempt(notification=n, started_at=sent, finished_at=sent, ok=True)
            for n in escalation.notifications.all()
        )
        Escalation.objects.filter(pk=escalation.pk).update(
            raised_at=raised,
            ack_due_at=None,
            acknowledged_at=acknowledged,
            acknowledged_by=manager,
            acknowledged_via="page",
        )


def _replay_analytics(program: _Program) -> None:
    """As `qcloop manage rebuild_analytics` does, for the demo's buyers only."""
    buyers = [org for org in program.orgs.values() if org.kind == BUYER]
    TrendFlag.objects.filter(buyer__in=buyers).delete()
    MilestoneTally.objects.filter(buyer__in=buyers).delete()
    published = Milestone.objects.filter(po__buyer__in=buyers, status=PU).select_related("po")
    for milestone in published.order_by("published_at", "pk"):
        record_published(milestone)


def _backdate_reports(po: PurchaseOrder) -> None:
    """Each milestone report opened at its inspection's submission and published with it.
    A version freezes the times it shows, so it is frozen again from the backdated record
    (inside the load's transaction, before anyone could have read it)."""
    for report in Report.objects.filter(po=po, kind=ReportKind.MILESTONE).select_related(
        "milestone"
    ):
        milestone = report.milestone
        if milestone.submitted_at is None:
            continue
        Report.objects.filter(pk=report.pk).update(
            clock_started_at=milestone.submitted_at,
            due_at=milestone.submitted_at + report_sla(),
            published_at=milestone.published_at,
        )
        report.notes.update(created_at=milestone.published_at or milestone.submitted_at)
        for version in report.versions.all():
            content = milestone_content(milestone, report.lead_summary)
            ReportVersion.objects.filter(pk=version.pk).update(
                content=content,
                content_sha256=content_sha256(content),
                published_at=milestone.published_at,
            )


# The QC leads' word on their PO summaries, by what the rules recommend.
SUMMARY_WORDS = {
    "hold_and_review_supplier": "Discussed with the buyer: no new PO until the factory's QA "
    "manager has answered for the critical finding.",
    "tighten_sampling": "The defect rate moved the wrong way between milestones; tightened "
    "sampling until two clean PSIs in a row.",
    "add_dupro_recheck": "Quality held, the schedule did not: a second DUPRO keeps the next "
    "run honest about its progress.",
    "psi_and_cli_only": "A clean run from a proven factory.",
    "drop_ipc": "Set-up was right first time; the IPC can go on the next PO.",
    "keep_full_monitoring": "A sound PO; the factory's record is still too short to relax.",
}


def _publish_summaries(program: _Program) -> None:
    """The QC lead publishes each PO summary within two days of the CLI report."""
    now = timezone.now()
    summaries = Report.objects.filter(
        kind=ReportKind.PO_SUMMARY, po__buyer__in=program.orgs.values()
    ).select_related("po__qc_lead")
    for summary in summaries:
        cli = summary.po.milestones.filter(kind=MilestoneKind.CLI).order_by("sequence").first()
        started = cli.published_at
        recommended = draft_content(summary)["recommendation"]["code"]
        version = approve(
            by=summary.po.qc_lead, report=summary, lead_summary=SUMMARY_WORDS[recommended]
        )
        rng = random.Random(f"demo-summary-{summary.po.number}")
        published = min(started + timedelta(hours=rng.randint(18, 44)), now)
        Report.objects.filter(pk=summary.pk).update(
            clock_started_at=started,
            due_at=started + report_sla(ReportKind.PO_SUMMARY),
            published_at=published,
        )
        summary.notes.update(created_at=published)
        ReportVersion.objects.filter(pk=version.pk).update(published_at=published)


def _backdate_setup(program: _Program, today: date, first_po_on: date) -> None:
    """Organisations, people and the supply base were registered three weeks before the first
    PO; the engagements started years before (the business predates qcloop)."""
    registered = min(_at(first_po_on - timedelta(days=21), 10, 0, "UTC"), timezone.now())
    orgs = Organisation.objects.filter(pk__in=[o.pk for o in program.orgs.values()])
    orgs.update(created_at=registered)
    Membership.objects.filter(organisation__in=orgs).update(created_at=registered)
    User.objects.filter(Q(membership_record__organisation__in=orgs) | Q(email=STAFF_EMAIL)).update(
        date_joined=registered
    )
    Supplier.objects.filter(buyer__in=orgs).update(created_at=registered)
    Product.objects.filter(buyer__in=orgs).update(created_at=registered)
    for key, days in ENGAGED_FOR_DAYS.items():
        Engagement.objects.filter(agency=program.orgs[AGENCY_KEY], buyer=program.orgs[key]).update(
            started_on=today - timedelta(days=days)
        )


# --- the result and the logins -------------------------------------------------------------


def _logins() -> list[tuple[str, str, str]]:
    names = {row[0]: row[1] for row in ORGANISATIONS}
    rows = {local: (org, role) for local, org, role, *_ in PEOPLE}
    logins = [
        (Role(rows[local][1]).label, _email(local, rows[local][0]), names[rows[local][0]])
        for local in LOGINS
    ]
    return [*logins, (STAFF_LABEL, STAFF_EMAIL, STAFF_ORGANISATION)]


def _result(created: bool) -> DemoResult:
    orgs = Organisation.objects.filter(slug__in=DEMO_SLUGS)
    buyers = orgs.filter(kind=BUYER)
    users = User.objects.filter(Q(membership_record__organisation__in=orgs) | Q(email=STAFF_EMAIL))
    return DemoResult(
        created=created,
        logins=_logins(),
        password=PASSWORD,
        organisations=orgs.count(),
        users=users.count(),
        suppliers=Supplier.objects.filter(buyer__in=buyers).count(),
        factories=Factory.objects.filter(supplier__buyer__in=buyers).count(),
        products=Product.objects.filter(buyer__in=buyers).count(),
        purchase_orders=PurchaseOrder.objects.filter(buyer__in=buyers).count(),
        milestones=Milestone.objects.filter(po__buyer__in=buyers).count(),
    )


def print_logins(result: DemoResult, stdout) -> None:
    """The demo logins as a table, and the one password they share."""
    lines = []
    if result.created:
        lines.append(
            f"Loaded the demo program: {result.purchase_orders} POs with {result.milestones} "
            f"milestones, {result.products} products, {result.factories} factories, "
            f"{result.users} users."
        )
    rows = [("Role", "Email", "Organisation"), *result.logins]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    table.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", *(f"  {line}".rstrip() for line in table), ""]
    lines.append(f"Password for every demo user: {result.password}")
    # One write of whole lines: Django's OutputWrapper adds a newline to each write.
    stdout.write("\n".join(lines) + "\n")
