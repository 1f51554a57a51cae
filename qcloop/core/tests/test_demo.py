"""The demo program: loaded through the services, complete, idempotent and reproducible."""

import io
from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.test import Client
from django.utils import timezone

from qcloop.accounts.models import Organisation, OrganisationKind, Role, User
from qcloop.analytics.models import MilestoneTally, TrendFlag
from qcloop.core.reference import ProductCategory
from qcloop.core.tenancy import for_user
from qcloop.demo import STAFF_EMAIL, load_demo, plan_orders
from qcloop.inspections.models import Milestone, MilestoneStatus
from qcloop.inspections.planning import default_windows
from qcloop.orders.models import Factory, POLine, POStatus, Product, PurchaseOrder, Supplier
from qcloop.reports.models import Report

TODAY = date(2026, 3, 18)


@pytest.fixture
def demo(db):
    return load_demo(today=TODAY)


def model_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


PO_FIELDS = [
    "number", "currency", "fob_value", "quantity", "unit", "carton_count", "production_start",
    "ex_factory_date", "ship_date", "destination_market", "retailer_compliance", "status",
]  # fmt: skip


def snapshot() -> list[tuple]:
    """The demo's POs by what they say, without database ids."""
    return [
        (
            po.buyer.name,
            po.supplier.code,
            po.factory.name,
            po.qc_lead.email,
            *(getattr(po, name) for name in PO_FIELDS),
            [(line.product.sku, line.variant, line.quantity) for line in po.lines.all()],
            [milestone_row(m) for m in po.milestones.order_by("kind")],
        )
        for po in PurchaseOrder.objects.order_by("buyer__name", "number")
    ]


def milestone_row(m: Milestone) -> tuple:
    inspector = m.inspector.email if m.inspector else None
    return (m.kind, m.status, m.window_start, m.window_end, m.inspection_date, inspector)


def wipe() -> None:
    """Empty the database of everything the demo makes, dependants first."""
    Milestone.objects.all().delete()
    PurchaseOrder.objects.all().delete()
    Product.objects.all().delete()
    Supplier.objects.all().delete()
    Organisation.objects.all().delete()
    User.objects.all().delete()
    assert not any(model_counts()[m._meta.label] for m in (User, Organisation, Factory, POLine))


def test_loads_the_whole_program(demo):
    orgs = Organisation.objects.all()
    assert orgs.filter(kind=OrganisationKind.BUYER).count() == 2
    assert orgs.filter(kind=OrganisationKind.AGENCY).count() == 1
    assert orgs.filter(kind=OrganisationKind.SUPPLIER).count() == 4
    assert Factory.objects.count() == 5
    assert PurchaseOrder.objects.count() == 33
    assert set(Product.objects.values_list("category", flat=True)) == set(ProductCategory.values)
    assert (demo.created, demo.purchase_orders, demo.factories) == (True, 33, 5)
    assert demo.milestones == Milestone.objects.count() == 132
    assert demo.users == User.objects.count()
    agency = orgs.get(kind=OrganisationKind.AGENCY)
    assert agency.timezone == "Asia/Hong_Kong"
    assert set(agency.client_engagements.values_list("buyer__kind", flat=True)) == {"buyer"}
    assert agency.client_engagements.count() == 2
    # A supplier serving both buyers has a record in each buyer's supply base.
    assert any(org.supplier_records.count() == 2 for org in orgs.filter(kind="supplier"))


def test_orders_are_plausible(demo):
    for po in PurchaseOrder.objects.prefetch_related("lines__product", "milestones"):
        assert po.qc_lead.membership.role == Role.QC_LEAD
        assert po.qc_lead.membership.organisation == po.agency
        assert 1 <= po.lines.count() <= 3
        assert 8_000 <= po.fob_value <= 250_000
        assert po.quantity == sum(line.quantity for line in po.lines.all())
        assert 1 <= po.quantity / po.carton_count <= 60
        assert po.factory.supplier == po.supplier and po.supplier.buyer == po.buyer
        for line in po.lines.all():
            assert po.destination_market in line.product.target_markets
        windows = default_windows(po.production_start, po.ex_factory_date, po.ship_date)
        for m in po.milestones.all():
            if m.inspection_date:
                first, last = windows[m.kind]
                assert first <= m.inspection_date <= last, (po.number, m.kind)
            moments = [m.started_at, m.submitted_at, m.published_at]
            known = [moment for moment in moments if moment]
            assert known == sorted(known) and all(t <= timezone.now() for t in known)
    fob = PurchaseOrder.objects.values_list("fob_value", flat=True)
    assert sum(value > 50_000 for value in fob) >= 3
    assert set(PurchaseOrder.objects.values_list("currency", flat=True)) == {"USD", "EUR"}


def test_every_stage_is_present(demo):
    statuses = set(Milestone.objects.values_list("status", flat=True))
    assert statuses == set(MilestoneStatus.values)
    assert set(PurchaseOrder.objects.values_list("status", flat=True)) == set(POStatus.values)
    assert PurchaseOrder.objects.filter(status=POStatus.CANCELLED).count() == 1
    assert PurchaseOrder.objects.filter(status=POStatus.CLOSED).count() >= 2
    in_work = Milestone.objects.filter(status=MilestoneStatus.IN_PROGRESS)
    assert set(in_work.values_list("inspection_date", flat=True)) == {TODAY}
    booked = Milestone.objects.filter(status=MilestoneStatus.BOOKED)
    assert all(m.inspection_date > TODAY for m in booked)
    for inspector in User.objects.filter(membership_record__role=Role.INSPECTOR):
        assert booked.filter(inspector=inspector).exists(), inspector


def test_a_second_load_changes_nothing(demo):
    before = model_counts()
    again = load_demo(today=TODAY + timedelta(days=3), seed=1)
    assert again == replace(demo, created=False)
    assert model_counts() == before


def test_the_same_seed_and_day_give_the_same_program(db):
    load_demo(today=TODAY)
    first = snapshot()
    wipe()
    load_demo(today=TODAY)
    assert snapshot() == first
    assert len(first) == 33


def test_the_plan_follows_the_seed_and_today():
    plan = plan_orders(TODAY, 2859)
    assert plan == plan_orders(TODAY, 2859)
    other_seed = plan_orders(TODAY, 7)
    assert [p.fob_value for p in plan] != [p.fob_value for p in other_seed]
    shift = timedelta(days=10)
    later = plan_orders(TODAY + shift, 2859)
    assert [p.number for p in later] == [p.number for p in plan]
    assert [p.production_start for p in later] == [p.production_start + shift for p in plan]


def test_every_demo_login_signs_in_with_its_role(demo):
    labels = {label for label, _, _ in demo.logins}
    assert {role.label for role in Role} <= labels
    for label, email, organisation in demo.logins:
        user = User.objects.get(email=email)
        validate_password(demo.password, user=user)
        assert Client().login(email=email, password=demo.password), email
        if email == STAFF_EMAIL:
            assert user.is_superuser and user.is_staff and user.membership is None
            continue
        assert Role(user.membership.role).label == label
        assert user.membership.organisation.name == organisation
    # Everyone else in the demo signs in with the same password.
    for user in User.objects.all():
        assert user.check_password(demo.password), user.email


def test_the_logins_are_printed(db):
    out = io.StringIO()
    result = load_demo(today=TODAY, stdout=out)
    text = out.getvalue()
    assert text.count(result.password) == 1
    for label, email, organisation in result.logins:
        assert label in text and email in text and organisation in text


def test_each_user_sees_only_their_part(demo):
    for manager in User.objects.filter(membership_record__role=Role.BUYER_MANAGER):
        buyer = manager.membership.organisation
        seen = set(for_user(PurchaseOrder, manager))
        assert seen == set(PurchaseOrder.objects.filter(buyer=buyer))
        assert 0 < len(seen) < 33
    for inspector in User.objects.filter(membership_record__role=Role.INSPECTOR):
        seen = set(for_user(PurchaseOrder, inspector))
        assert seen == set(PurchaseOrder.objects.filter(milestones__inspector=inspector))
        assert seen
    for supplier_user in User.objects.filter(membership_record__role=Role.SUPPLIER_USER):
        org = supplier_user.membership.organisation
        seen = set(for_user(PurchaseOrder, supplier_user))
        assert seen == set(PurchaseOrder.objects.filter(supplier__organisation=org))


def test_the_trend_story_is_flagged_through_the_publish_path(demo):
    """Brightway's majors climb at DUPRO and PSI of a Harbor Lane PO, each milestone within
    its Ac, against its earlier lighting lots at about 1.5 per 100: flagged, in the reports;
    Hengrui's housewares lots for Elbwerk hold steady and raise nothing."""
    standing = TrendFlag.objects.filter(escalating=True, cleared_at__isnull=True)
    flag = standing.select_related("po").get(po__supplier__code="HL-V10482", defect_code="")
    assert flag.defect_class == "major" and flag.active and flag.history_lots >= 3
    assert [p["label"] for p in flag.series if not p["history"]] == ["DUPRO", "PSI"]
    assert flag.strength in ("moderate", "strong", "very strong")
    flicker = standing.get(po=flag.po, defect_code="LGT-FUN-002")
    assert flicker.code_name == "Flicker"
    # The flag was raised when the PSI was published, in the demo's own past.
    psi = flag.po.milestones.get(kind="PSI")
    assert flag.raised_at == psi.published_at < timezone.now()
    assert MilestoneTally.objects.get(milestone=psi).published_at == psi.published_at
    report = Report.objects.get(milestone=psi).current
    assert report.content["verdict"]["result"] == "pass"  # ... and yet the PO escalates
    sentences = [f["sentence"] for f in report.content["trends"]["flags"]]
    assert any(s.startswith("Major defects are escalating: 3.0 → 4.5 per 100") for s in sentences)
    summary = Report.objects.get(po=flag.po, kind="po_summary").current
    assert summary.content["trend"]["direction"] == "escalating"
    assert summary.content["trend"]["headline"].startswith("Major defects are escalating")
    assert not TrendFlag.objects.filter(supplier__code="400317").exists()
