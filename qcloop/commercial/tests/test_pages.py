"""The recommendation on the PO page, the quote page and the fee-schedule page."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from qcloop.accounts.models import Role
from qcloop.accounts.services import create_api_token
from qcloop.commercial.models import FeeSchedule, Quote
from qcloop.commercial.services import save_fee_schedule

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_po_page_shows_the_recommendation_to_the_buyer_not_the_supplier(world):
    page = client_of(world.user(Role.BUYER_VIEWER)).get(f"/pos/{world.po.pk}/").content.decode()
    assert 'id="po-recommendation"' in page and "Recommended service: DUPRO + PSI" in page
    assert "First PO with a new supplier" in page and f"/pos/{world.po.pk}/quote/" in page
    supplier = client_of(world.user(Role.SUPPLIER_USER)).get(f"/pos/{world.po.pk}/")
    assert supplier.status_code == 200 and b"po-recommendation" not in supplier.content
    assert (
        client_of(world.user(Role.SUPPLIER_USER)).get(f"/pos/{world.po.pk}/quote/").status_code
        == 404
    )


def test_the_quote_page_sets_separate_against_bundled_and_issues(world):
    coordinator = client_of(world.user(Role.COORDINATOR))
    url = f"/pos/{world.po.pk}/quote/"
    page = coordinator.get(url + "?milestones=IPC&milestones=DUPRO&milestones=PSI&milestones=CLI")
    text = page.content.decode()
    # 1,190 separate; 892.50 bundled; saving 297.50 (25.00 %).
    assert "USD 1,190.00" in text and "USD 892.50" in text and "USD 297.50" in text
    assert "25.00 %" in text
    issued = coordinator.post(url, {"milestones": ["IPC", "DUPRO", "PSI", "CLI"]})
    assert issued.status_code == 302
    assert Quote.objects.get().bundle_total == Decimal("892.50")
    bad = coordinator.post(url, {"milestones": ["FRI"]})
    assert bad.status_code == 422 and b"Unknown milestone" in bad.content
    assert Quote.objects.count() == 1


def test_the_buyer_accepts_an_option_on_the_quote_page(world):
    client_of(world.user(Role.COORDINATOR)).post(
        f"/pos/{world.po.pk}/quote/", {"milestones": ["IPC", "DUPRO", "PSI", "CLI"]}
    )
    quote = Quote.objects.get()
    buyer = client_of(world.user(Role.BUYER_MANAGER))
    assert b"Accept bundle" in buyer.get(f"/pos/{world.po.pk}/quote/").content
    assert buyer.post(f"/quotes/{quote.pk}/accept/", {"option": "bundle"}).status_code == 302
    quote.refresh_from_db()
    assert (quote.status, quote.accepted_option) == ("accepted", "bundle")


def test_the_fee_page_saves_and_names_the_bad_field(world):
    coordinator = client_of(world.user(Role.COORDINATOR))
    assert coordinator.get("/fees/").status_code == 200
    fields = {"form": "schedule", "country": "VN", "currency": "USD", "psi_fee": "360"}
    assert coordinator.post("/fees/", fields).status_code == 302
    schedule = FeeSchedule.objects.get(country="VN")
    bad = coordinator.post(
        "/fees/", {**fields, "schedule": schedule.pk, "bundle_discount": "45", "cli_fee": "-1"}
    )
    text = bad.content.decode()
    assert bad.status_code == 422 and "between 20 and 30 %, not 45 %" in text
    assert "The CLI fee cannot be negative" in text
    schedule.refresh_from_db()
    assert (schedule.bundle_discount, schedule.cli_fee) == (Decimal("25"), Decimal("230"))
    retainer = coordinator.post(
        "/fees/",
        {"form": "retainer", "buyer": world.buyer.pk, "plan": "percentage", "percentage": "5",
         "monthly_fee": "1000", "pos_per_year": "6"},
    )  # fmt: skip
    assert retainer.status_code == 422 and b"10+ POs a year, not 6" in retainer.content
    assert client_of(world.qc_lead).get("/fees/").status_code == 403


def api(user, method, path, body=None):
    _, token = create_api_token(user=user, name="test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "GET":
        return Client().get(path, **headers)
    return Client().post(path, json.dumps(body or {}), "application/json", **headers)


def test_the_api_gives_the_recommendation_and_issues_quotes(world):
    path = f"/api/purchase-orders/{world.po.pk}"
    answer = api(world.user(Role.BUYER_MANAGER), "GET", f"{path}/recommendation").json()
    assert answer["service"] == "dupro_psi" and answer["score"] == 3
    assert answer["reasons"][0] == {
        "trigger": "first_po",
        "title": "First PO with a new supplier",
        "fact": f"No earlier PO of this buyer with {world.supplier.name}.",
        "weight": 3,
    }
    made = api(
        world.user(Role.COORDINATOR), "POST", f"{path}/quotes", {"milestones": ["PSI", "CLI"]}
    )
    assert made.status_code == 201
    # 380 + 230 = 610.
    assert made.json()["separate_total"] == "610.00" and made.json()["bundle_total"] is None
    listed = api(world.user(Role.BUYER_VIEWER), "GET", f"{path}/quotes").json()
    assert [q["reference"] for q in listed] == [f"Q-{world.po.number}-1"]
    refused = api(world.user(Role.BUYER_MANAGER), "POST", f"{path}/quotes", {})
    assert refused.status_code == 403
    bad = api(world.user(Role.COORDINATOR), "POST", f"{path}/quotes", {"milestones": ["FRI"]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "payload", "milestones"]
    assert Quote.objects.count() == 1


def test_edited_fees_leave_an_issued_quote_alone_in_the_api(world):
    path = f"/api/purchase-orders/{world.po.pk}/quotes"
    api(world.user(Role.COORDINATOR), "POST", path, {"milestones": ["PSI"]})
    save_fee_schedule(
        by=world.user(Role.COORDINATOR), agency=world.agency, values={"psi_fee": "420"}
    )
    assert api(world.user(Role.BUYER_VIEWER), "GET", path).json()[0]["separate_total"] == "380.00"
