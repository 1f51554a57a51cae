"""The tenancy harness at work: no route shows or changes another tenant's data.

See qcloop/testing/tenancy.py for how each route is aimed at the victim."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from qcloop.accounts.services import create_api_token
from qcloop.core.tenancy import gated_models
from qcloop.inspections.models import Milestone
from qcloop.orders.models import Factory, POLine, Product, PurchaseOrder, Supplier
from qcloop.testing import build_world
from qcloop.testing.tenancy import (
    API_MACHINERY,
    API_ROUTES,
    PAGE_ROUTES,
    api_operations,
    api_url_paths,
    body_of,
    leaked,
    outsiders,
    page_routes,
    prepare_victim,
)

pytestmark = pytest.mark.django_db
REFUSED = {403, 404, 422}


@pytest.fixture
def scene(db):
    victim_world = build_world("a")
    stranger = build_world("b")
    people = outsiders(victim_world, stranger)
    return prepare_victim(victim_world), people


def fingerprint(victim) -> str:
    """Everything the victim owns, to prove that no request changed it."""
    rows = [
        list(PurchaseOrder.objects.filter(pk=victim.po.pk).values()),
        list(POLine.objects.filter(po=victim.po).values()),
        list(Milestone.objects.filter(po=victim.po).values()),
        list(Supplier.objects.filter(pk=victim.supplier.pk).values()),
        list(Factory.objects.filter(pk=victim.factory.pk).values()),
        list(Product.objects.filter(pk=victim.product.pk).values()),
    ]
    return json.dumps(rows, default=str, sort_keys=True)


def counts() -> tuple[int, ...]:
    from qcloop.commercial import models as commercial
    from qcloop.inspections import models as inspections
    from qcloop.scheduling import models as scheduling

    kinds = (
        PurchaseOrder,
        Supplier,
        Factory,
        Product,
        Milestone,
        inspections.Defect,
        inspections.CheckAnswer,
        inspections.MeasurementChart,
        inspections.ChecklistVersion,
        inspections.DefectClassOverride,
        inspections.ProductionStatus,
        inspections.CartonCheck,
        inspections.LoadingRecord,
        inspections.LabTest,
        commercial.FeeSchedule,
        commercial.Retainer,
        commercial.Quote,
        scheduling.ProgressReport,
        scheduling.Booking,
        scheduling.ScheduleChange,
        scheduling.DayOff,
        # Not CalendarFeed: a feed is its user's own, and an outsider's POST to the feeds
        # page makes the outsider's feed, which touches nothing of the victim's.
    )
    return tuple(m.objects.count() for m in kinds)


def page_request(client, method, url, body):
    return client.post(url, body or {}) if method == "POST" else client.get(url)


def api_request(client, method, url, body, token, multipart=False):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "GET":
        return client.get(url, **headers)
    if multipart:
        return client.post(url, body, **headers)
    payload = json.dumps(body if body is not None else {})
    return client.generic(method, url, payload, "application/json", **headers)


# --- completeness: a route the harness cannot exercise fails it ----------------------------


def test_every_page_route_is_known_to_the_harness():
    unknown = sorted(set(page_routes()) - set(PAGE_ROUTES))
    assert not unknown, f"Teach qcloop/testing/tenancy.py PAGE_ROUTES these routes: {unknown}"
    stale = sorted(set(PAGE_ROUTES) - set(page_routes()))
    assert not stale, f"PAGE_ROUTES names routes that no longer exist: {stale}"


def test_every_api_operation_is_known_to_the_harness():
    unknown = sorted(set(api_operations()) - set(API_ROUTES))
    assert not unknown, f"Teach qcloop/testing/tenancy.py API_ROUTES these operations: {unknown}"
    stale = sorted(set(API_ROUTES) - set(api_operations()))
    assert not stale, f"API_ROUTES names operations that no longer exist: {stale}"
    # Every URL under /api/ is an operation of the schema, or the API's own machinery.
    documented = {operation.split(" ", 1)[1] for operation in api_operations()}
    undocumented = {name for name, path in api_url_paths().items() if path not in documented}
    assert undocumented <= API_MACHINERY, undocumented - API_MACHINERY


def test_every_domain_model_has_a_tenancy_gate():
    from django.apps import apps

    domain = {
        m
        for m in apps.get_models()
        if m._meta.app_label in {"accounts", "orders", "inspections", "analytics"}
    }
    assert domain - gated_models() == set()


# --- the walk ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAGE_ROUTES))
def test_page_route_leaks_nothing(scene, name):
    victim, people = scene
    probe = PAGE_ROUTES[name]
    url = reverse(name, kwargs=probe.kwargs(victim) if probe.kwargs else None)
    url += probe.query(victim) if probe.query else ""
    body = probe.body(victim) if probe.body else None
    before, before_counts = fingerprint(victim), counts()
    for who, user in people.items():
        client = Client()
        client.force_login(user)
        for method in probe.methods:
            response = page_request(client, method, url, body)
            where = f"{method} {url} as {who}"
            assert response.status_code < 500, where
            if probe.kind == "object":
                assert response.status_code == 404, f"{where}: {response.status_code}, not 404"
            answer = body_of(response)
            assert not leaked(victim, answer), f"{where} shows {leaked(victim, answer)}"
    assert fingerprint(victim) == before and counts() == before_counts
    if probe.kind == "object":
        insider = Client()
        insider.force_login(victim.user(probe.insider))
        for method in probe.methods:
            response = page_request(insider, method, url, body)
            assert response.status_code not in (404, 500), (
                f"{method} {url} as the victim's {probe.insider} answered "
                f"{response.status_code}: the probe is not aimed at a real object"
            )
            if probe.insider_sees:
                assert probe.insider_sees(victim) in body_of(response), (
                    f"{method} {url} as the victim's {probe.insider} lacks what they may see"
                )


@pytest.mark.parametrize("operation", sorted(API_ROUTES))
def test_api_operation_leaks_nothing(scene, operation):
    victim, people = scene
    probe = API_ROUTES[operation]
    method, path = operation.split(" ", 1)
    url = re.sub(r"{(\w+)}", lambda m: str(probe.kwargs(victim)[m.group(1)]), path)
    url += probe.query(victim) if probe.query else ""
    body = probe.body(victim) if probe.body else None
    before, before_counts = fingerprint(victim), counts()
    for who, user in people.items():
        _, token = create_api_token(user=user, name="harness")
        if probe.multipart:
            body = probe.body(victim)  # a fresh file for every request
        response = api_request(Client(), method, url, body, token, probe.multipart)
        where = f"{operation} as {who}"
        assert response.status_code < 500, where
        if probe.kind == "object":
            assert response.status_code == 404, f"{where}: {response.status_code}, not 404"
        elif probe.kind == "create":
            assert response.status_code in REFUSED, f"{where}: {response.status_code}"
        answer = body_of(response)
        assert not leaked(victim, answer), f"{where} shows {leaked(victim, answer)}"
    assert fingerprint(victim) == before and counts() == before_counts
    if probe.kind in {"object", "create"}:
        _, token = create_api_token(user=victim.user(probe.insider), name="insider")
        if probe.multipart:
            body = probe.body(victim)
        response = api_request(Client(), method, url, body, token, probe.multipart)
        answer = body_of(response)
        assert response.status_code not in (404, 500) and response.status_code < 500, (
            f"{operation} as the victim's {probe.insider} answered {response.status_code} "
            f"{answer[:300]!r}: the probe is not aimed at a real object"
        )
        if probe.insider_sees:
            assert probe.insider_sees(victim) in answer, (
                f"{operation} as the victim's {probe.insider} lacks what they may see"
            )


def test_the_admin_turns_away_non_staff(scene):
    victim, people = scene
    urls = [
        reverse("admin:index"),
        reverse("admin:orders_purchaseorder_changelist"),
        reverse("admin:orders_purchaseorder_change", args=[victim.po.pk]),
    ]
    for who, user in people.items():
        client = Client()
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, f"{url} as {who}"
            assert response["Location"].startswith(reverse("admin:login"))


def test_an_anonymous_visitor_sees_nothing(scene):
    victim, _ = scene
    client = Client()
    for name, probe in PAGE_ROUTES.items():
        if probe.kind == "public":
            continue
        url = reverse(name, kwargs=probe.kwargs(victim) if probe.kwargs else None)
        response = client.get(url) if "GET" in probe.methods else client.post(url)
        assert response.status_code in (302, 405), f"{url}: {response.status_code}"
        assert not leaked(victim, body_of(response))
    for operation, probe in API_ROUTES.items():
        if probe.kind == "public":
            continue
        method, path = operation.split(" ", 1)
        url = re.sub(r"{(\w+)}", lambda m, p=probe: str(p.kwargs(victim)[m.group(1)]), path)
        response = client.generic(method, url)
        assert response.status_code == 401, f"{operation}: {response.status_code}"
