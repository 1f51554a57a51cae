"""The demo shows recommendations and quotes."""

from datetime import date

import pytest
from django.test import Client

from qcloop.accounts.models import User
from qcloop.commercial.models import FeeSchedule, Quote, Retainer
from qcloop.commercial.risk import Service
from qcloop.commercial.services import recommend_service
from qcloop.demo import load_demo
from qcloop.orders.models import PurchaseOrder

TODAY = date(2026, 3, 18)


@pytest.fixture
def demo(db):
    return load_demo(today=TODAY)


def test_the_demo_has_fees_a_retainer_and_quotes(demo):
    assert set(FeeSchedule.objects.values_list("country", flat=True)) == {"", "VN", "IN"}
    assert Retainer.objects.get().buyer.name == "Harbor Lane Brands, Inc."
    quotes = list(Quote.objects.select_related("po"))
    assert len(quotes) == 4 and {q.status for q in quotes} == {"issued", "accepted"}
    assert all(q.valid_until > TODAY for q in quotes)
    coordinator = User.objects.get(email="cherry.ho@lionrockqc.example")
    services = {
        recommend_service(by=coordinator, po=po).service for po in PurchaseOrder.objects.all()
    }
    assert services == set(Service)
    page = Client()
    page.force_login(coordinator)
    text = page.get(f"/pos/{quotes[0].po_id}/quote/").content.decode()
    assert quotes[0].reference in text and "Separate milestones" in text


def test_the_commercial_demo_is_made_again_the_same(db):
    """Its fees, retainer and quotes come from the program, not from chance: a second run on
    the same program gives the same quotes and totals."""
    from qcloop.commercial.demo import load_demo_commercial

    def quotes() -> list[tuple]:
        return list(
            Quote.objects.order_by("po__number", "pk").values_list(
                "po__number", "status", "separate_total", "bundle_total", "retainer_total"
            )
        )

    load_demo(today=TODAY)
    first = quotes()
    FeeSchedule.objects.all().delete()
    Retainer.objects.all().delete()
    Quote.objects.all().delete()
    load_demo_commercial(agency=PurchaseOrder.objects.first().agency, today=TODAY)
    assert quotes() == first and len(first) == 4
