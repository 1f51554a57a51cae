"""Switching state per supplier x product stream x defect class, fed by judged lots."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from qcloop.accounts.models import Role
from qcloop.inspections.models import Milestone, SwitchingStream
from qcloop.inspections.services import (
    add_milestone,
    approve_reduced_inspection,
    plan_sampling,
    record_lot_results,
    resume_inspection,
)

pytestmark = pytest.mark.django_db
MAJOR_ONLY = {"major": "2.5"}  # 3000 units, level II: n 125, Ac 7, Re 8 on normal


def lot(world, n: int) -> Milestone:
    """The n-th PSI of the supplier's lighting stream, planned with the switching rules."""
    psi = (
        world.milestones["PSI"]
        if n == 1
        else add_milestone(
            by=world.qc_lead,
            po=world.po,
            kind="PSI",
            window_start=world.po.ex_factory_date,
            window_end=world.po.ex_factory_date,
        )
    )
    return plan_sampling(by=world.qc_lead, milestone=psi, aqls=MAJOR_ONLY, seed=f"lot-{n}")


def stream(world) -> SwitchingStream:
    return SwitchingStream.objects.get(
        supplier=world.supplier, category="lighting", defect_class="major"
    )


def test_two_rejected_lots_in_five_tighten_the_next_plan(world):
    first = lot(world, 1)
    assert first.sampling["severity"] == "normal"
    record_lot_results(milestone=first, defects={"major": 9})  # rejected (Re 8)
    second = lot(world, 2)
    record_lot_results(milestone=second, defects={"major": 2})  # accepted
    third = lot(world, 3)
    record_lot_results(milestone=third, defects={"major": 8})  # rejected: 2 of 3
    fourth = lot(world, 4)
    assert fourth.sampling["severity"] == "tightened"
    major = fourth.sampling["plan"]["classes"][0]
    assert (major["n"], major["ac"], major["re"]) == (125, 5, 6)  # Table II-B, K at 2.5
    assert "tightened" in stream(world).state["severity"]


def test_five_rejections_on_tightened_discontinue_until_corrective_action(world):
    for n in range(1, 3):
        record_lot_results(milestone=lot(world, n), defects={"major": 20})
    for n in range(3, 8):
        record_lot_results(milestone=lot(world, n), defects={"major": 20})
    assert stream(world).state["severity"] == "discontinued"
    with pytest.raises(ValidationError, match="discontinued"):
        lot(world, 8)
    with pytest.raises(PermissionDenied):
        resume_inspection(by=world.user(Role.SUPPLIER_USER), stream=stream(world), note="x")
    resume_inspection(by=world.qc_lead, stream=stream(world), note="CAPA 12 verified")
    assert lot(world, 9).sampling["severity"] == "tightened"


def test_reduced_inspection_needs_the_authoritys_approval(world):
    approve_reduced_inspection(by=world.qc_lead, stream=_started(world), approved=False)
    for n in range(1, 13):  # 12 clean lots: score 36, but no approval
        record_lot_results(milestone=lot(world, n), defects={"major": 0})
    assert stream(world).state["severity"] == "normal"
    approve_reduced_inspection(by=world.qc_lead, stream=stream(world), approved=True)
    record_lot_results(milestone=lot(world, 13), defects={"major": 0})
    assert lot(world, 14).sampling["severity"] == "reduced"


def _started(world) -> SwitchingStream:
    lot(world, 1)
    Milestone.objects.filter(pk=world.milestones["PSI"].pk).update(sampling=None)
    return stream(world)


def test_a_lot_needs_every_class_counted(world):
    psi = plan_sampling(by=world.qc_lead, milestone=world.milestones["PSI"], seed="s")
    with pytest.raises(ValidationError, match="critical"):
        record_lot_results(milestone=psi, defects={"major": 1, "minor": 0})


def test_pages_show_where_the_supplier_stands(world):
    record_lot_results(milestone=lot(world, 1), defects={"major": 9})
    client = Client()
    client.force_login(world.user(Role.BUYER_MANAGER))
    html = client.get(reverse("orders:supplier_detail", args=[world.supplier.pk])).content.decode()
    assert 'id="switching"' in html and "not accepted" in html
    page = client.get(reverse("inspections:milestone_detail", args=[world.milestones["PSI"].pk]))
    assert 'id="switching"' in page.content.decode()
