"""A milestone stores the ISO 2859-1 plan it inspects with and the cartons drawn for it."""

import math

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from qcloop.accounts.models import Engagement, Role
from qcloop.inspections.services import plan_sampling, transition_milestone, update_milestone
from qcloop.sampling import draw_sample

pytestmark = pytest.mark.django_db


def test_the_clients_terms_give_the_plan_and_a_reproducible_draw(world):
    dupro = plan_sampling(by=world.qc_lead, milestone=world.milestones["DUPRO"], seed="s-1")
    # 3000 units at level II: code K, 125 units. Critical 0 -> 0/1, major 2.5 -> 7/8,
    # minor 4.0 -> 10/11 (ISO 2859-1 Table II-A).
    classes = {
        c["defect_class"]: (c["n"], c["ac"], c["re"]) for c in dupro.sampling["plan"]["classes"]
    }
    assert classes == {"critical": (125, 0, 1), "major": (125, 7, 8), "minor": (125, 10, 11)}
    assert (dupro.lot_size, dupro.sampling["method"], dupro.sampling["level"]) == (
        3000,
        "industry",
        "II",
    )
    draw = dupro.sample_draw
    assert draw["seed"] == "s-1" and draw["algorithm"] == "qcloop-draw-v1"
    assert len(draw["cartons"]) == math.ceil(math.sqrt(250)) and draw["units_to_draw"] == 125
    # Anyone holding the seed re-derives exactly these cartons.
    assert list(draw_sample(250, 125, seed="s-1").cartons) == draw["cartons"]


def test_the_agency_sets_sampling_terms_per_client(world):
    Engagement.objects.filter(agency=world.agency, buyer=world.buyer).update(
        sampling_method="strict", aql_major="1.0", inspection_level="I"
    )
    dupro = plan_sampling(by=world.user(Role.COORDINATOR), milestone=world.milestones["DUPRO"])
    assert dupro.sampling["method"] == "strict" and dupro.sampling["level"] == "I"
    major = next(c for c in dupro.sampling["plan"]["classes"] if c["defect_class"] == "major")
    assert major["aql"] == "1.0"


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"lot_size": 1}, "lot_size"),
        ({"aqls": {"major": "3.3"}}, "aqls.major"),
        ({"level": "IV"}, "level"),
        ({"severity": "lenient"}, "severity"),
        ({"method": "guess"}, "method"),
    ],
)
def test_bad_terms_name_their_field_and_store_nothing(world, terms, field):
    with pytest.raises(ValidationError) as caught:
        plan_sampling(by=world.qc_lead, milestone=world.milestones["DUPRO"], **terms)
    assert list(caught.value.message_dict) == [field]
    world.milestones["DUPRO"].refresh_from_db()
    assert world.milestones["DUPRO"].sampling is None


def test_the_draw_is_fixed_once_the_inspection_starts(world):
    dupro = world.milestones["DUPRO"]
    update_milestone(
        by=world.qc_lead,
        milestone=dupro,
        changes={"inspection_date": dupro.window_start, "status": "booked"},
    )
    plan_sampling(by=world.inspector, milestone=dupro, seed="first")
    transition_milestone(by=world.inspector, milestone=dupro, to="in_progress")
    with pytest.raises(ValidationError, match="is fixed"):
        plan_sampling(by=world.qc_lead, milestone=dupro, seed="second")
    dupro.refresh_from_db()
    assert dupro.sample_draw["seed"] == "first"


@pytest.mark.parametrize("role", [Role.BUYER_MANAGER, Role.SUPPLIER_USER])
def test_only_the_agency_and_the_inspector_plan_the_sampling(world, role):
    with pytest.raises(PermissionDenied):
        plan_sampling(by=world.user(role), milestone=world.milestones["DUPRO"])


def test_the_milestone_page_shows_the_plan_and_the_cartons(world):
    client = Client()
    client.force_login(world.user(Role.COORDINATOR))
    url = reverse("inspections:milestone_sampling", args=[world.milestones["PSI"].pk])
    data = {
        "lot_size": "3000",
        "level": "II",
        "severity": "normal",
        "method": "industry",
        "aql_critical": "0",
        "aql_major": "2.5",
        "aql_minor": "",
    }
    assert client.post(url, data).status_code == 302
    page = client.get(reverse("inspections:milestone_detail", args=[world.milestones["PSI"].pk]))
    html = page.content.decode()
    assert 'id="sampling-plan"' in html and "Cartons to open: 16 of 250, 125 units" in html
    assert "accepts a lot with" in html  # what the major plan protects against
    world.milestones["PSI"].refresh_from_db()
    assert set(world.milestones["PSI"].sampling["aqls"]) == {"critical", "major"}
    bad = client.post(url, {**data, "lot_size": "1"})
    assert bad.status_code == 422 and "lot size must be" in bad.content.decode()


def test_the_api_plans_and_returns_the_sampling(world):
    from qcloop.accounts.services import create_api_token

    _, token = create_api_token(user=world.qc_lead, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/milestones/{world.milestones['DUPRO'].pk}/sampling"
    response = client.post(url, {"aqls": {"major": "0.65"}, "seed": "abc"}, "application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sample_draw"]["seed"] == "abc"
    assert body["sampling"]["plan"]["classes"][0]["defect_class"] == "major"
    bad = client.post(url, {"level": "IV"}, "application/json")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "payload", "level"]
