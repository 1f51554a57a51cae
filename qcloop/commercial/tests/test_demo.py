"""The demo shows recommendations and quotes."""

import time
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


def test_the_commercial_demo_is_fast(db):
    from qcloop.commercial.demo import load_demo_commercial
    from qcloop.commercial.models import Quote as Q

    load_demo(today=TODAY)
    FeeSchedule.objects.all().delete()
    Retainer.objects.all().delete()
    Q.objects.all().delete()
    agency = PurchaseOrder.objects.first().agency
    started = time.perf_counter()
    load_demo_commercial(agency=agency, today=TODAY)
    assert time.perf_counter() - started < 5
