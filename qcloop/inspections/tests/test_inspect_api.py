"""Running an inspection through the API, as an integration or the field app would."""

import pytest
from django.test import Client

from qcloop.accounts.models import Role
from qcloop.accounts.services import create_api_token
from qcloop.inspections.models import DefectClassOverride, DefectCode
from qcloop.testing import start_inspection

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    _, token = create_api_token(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def started_psi(world):
    return start_inspection(world, "PSI")


def test_a_psi_from_start_to_submit(world):
    psi = started_psi(world)
    api = client_for(world.inspector)
    base = f"/api/milestones/{psi.pk}"
    state = api.get(f"{base}/inspection").json()
    assert state["status"] == "in_progress" and state["missing"]
    answers = [
        {
            "item_code": item["code"],
            "result": "pass",
            "value": "1" if item["answer"] == "number" else "",
        }
        for item in state["checklist"]
    ]
    assert api.post(f"{base}/answers", answers, "application/json").status_code == 200
    code = (
        DefectCode.objects.get(code="LGT-ELE-001")
        if DefectCode.objects.filter(code="LGT-ELE-001").exists()
        else DefectCode.objects.filter(category="lighting").first()
    )
    defect = {"quantity": 3, "code": code.pk, "uuid": "6f1c1f0e-9a43-4a38-9a5c-4d1a1b0c2e11"}
    first = api.post(f"{base}/defects", defect, "application/json")
    again = api.post(f"{base}/defects", defect, "application/json")  # a retry
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    production = {
        "counted_on": str(world.po.ex_factory_date),
        "produced": 3000,
        "finished": 3000,
        "packed": 3000,
    }
    assert api.put(f"{base}/production", production, "application/json").status_code == 200
    submitted = api.post(f"{base}/submit")
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["status"] == "submitted" and body["result"]["outcome"] in {"pass", "fail"}
    twice = api.post(f"{base}/submit")
    assert twice.status_code == 422


def test_bad_input_names_the_field(world):
    psi = started_psi(world)
    api = client_for(world.inspector)
    base = f"/api/milestones/{psi.pk}"
    bad_gtin = api.post(
        f"{base}/cartons", {"carton_number": 1, "barcode": "4006381333932"}, "application/json"
    )
    assert bad_gtin.status_code == 422
    assert bad_gtin.json()["detail"][0]["loc"][-1] == "barcode"
    too_many = api.post(
        f"{base}/defects",
        {"quantity": 500, "description": "x", "defect_class": "minor"},
        "application/json",
    )
    assert too_many.json()["detail"][0]["loc"][-1] == "quantity"
    missing = api.post(f"{base}/submit")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"][-1] == "missing"


def test_a_buyer_overrides_a_defect_class(world):
    code = DefectCode.objects.filter(agency__isnull=True, default_class="minor").first()
    api = client_for(world.user(Role.BUYER_MANAGER))
    response = api.put(
        "/api/defect-overrides",
        {"buyer": world.buyer.pk, "code": code.pk, "defect_class": "major"},
        "application/json",
    )
    assert response.status_code == 204
    assert DefectClassOverride.objects.get(buyer=world.buyer, code=code).defect_class == "major"
    viewer = client_for(world.user(Role.BUYER_VIEWER))
    refused = viewer.put(
        "/api/defect-overrides",
        {"buyer": world.buyer.pk, "code": code.pk, "defect_class": "minor"},
        "application/json",
    )
    assert refused.status_code == 403


def test_an_edited_checklist_is_a_new_version_and_booked_milestones_keep_theirs(world):
    psi = started_psi(world)
    template = psi.checklist.template
    api = client_for(world.user(Role.COORDINATOR))
    items = [
        {
            "code": "X-1",
            "section": "packaging",
            "text": "Cartons double-walled",
            "mandatory": True,
            "on_fail": "fail",
            "answer": "check",
        }
    ]
    response = api.post(
        f"/api/checklists/{template.pk}/versions", {"items": items}, "application/json"
    )
    assert response.status_code == 201 and response.json()["version"] == 2
    psi.refresh_from_db()
    assert psi.checklist.number == 1
    bad = api.post(
        f"/api/checklists/{template.pk}/versions",
        {"items": [{"code": "", "section": "nowhere"}]},
        "application/json",
    )
    assert bad.status_code == 422


def test_a_measurement_chart_is_versioned(world):
    api = client_for(world.user(Role.BUYER_MANAGER))
    chart = {
        "product": world.product.pk,
        "points": [
            {"code": "H", "name": "Height", "spec": "45", "minus": "0.5", "plus": "1", "unit": "cm"}
        ],
    }
    assert api.post("/api/measurement-charts", chart, "application/json").json()["version"] == 1
    assert api.post("/api/measurement-charts", chart, "application/json").json()["version"] == 2
    bad = api.post(
        "/api/measurement-charts", {**chart, "points": [{"code": "H"}]}, "application/json"
    )
    assert bad.status_code == 422


def test_buyers_read_an_inspection_only_once_published(world):
    psi = started_psi(world)
    buyer = client_for(world.user(Role.BUYER_MANAGER))
    assert buyer.get(f"/api/milestones/{psi.pk}/inspection").status_code == 404
    assert client_for(world.qc_lead).get(f"/api/milestones/{psi.pk}/inspection").status_code == 200
