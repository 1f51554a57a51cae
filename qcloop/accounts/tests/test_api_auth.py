"""Who may call the API: personal tokens and the browser session; and the API's own pages,
the OpenAPI document and the offline docs."""

import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from qcloop.accounts.models import ApiToken, Role
from qcloop.accounts.services import create_api_token, revoke_api_token
from qcloop.orders.models import PurchaseOrder

PO_URL = "/api/purchase-orders"


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def token(world):
    """A buyer manager's token: (ApiToken, secret)."""
    return create_api_token(user=world.user(Role.BUYER_MANAGER), name="ERP sync")


def po_payload(world) -> dict:
    po = world.po
    return {
        "number": "PO-A-3001",
        "supplier": world.supplier.pk,
        "factory": world.factory.pk,
        "currency": "USD",
        "fob_value": "100.00",
        "carton_count": 1,
        "ex_factory_date": po.ex_factory_date.isoformat(),
        "ship_date": po.ship_date.isoformat(),
        "destination_market": "US",
        "lines": [{"product": world.product.pk, "quantity": 12}],
    }


# --- tokens --------------------------------------------------------------------------------


def test_a_valid_token_is_its_user(world, token):
    _, secret = token

    response = Client().get("/api/me", **bearer(secret))

    assert response.status_code == 200
    me = response.json()
    assert me["email"] == "buyer_manager.a@example.com"
    assert me["organisation"]["id"] == world.buyer.pk
    assert me["organisation"]["kind"] == "buyer"
    assert (me["role"], me["role_label"]) == ("buyer_manager", "Buyer manager")


def test_a_token_records_its_use(token):
    api_token, secret = token

    Client().get("/api/me", **bearer(secret))

    api_token.refresh_from_db()
    assert api_token.last_used_at is not None


def test_a_token_sees_only_its_users_scope(world, other_world, token):
    _, secret = token
    client = Client()

    page = client.get(PO_URL, **bearer(secret)).json()
    assert [po["number"] for po in page["items"]] == ["PO-A-1001"]
    assert client.get(f"{PO_URL}/{other_world.po.pk}", **bearer(secret)).status_code == 404
    assert client.get(f"{PO_URL}/{world.po.pk}", **bearer(secret)).status_code == 200


def test_an_inspectors_token_sees_only_their_milestones(world):
    _, secret = create_api_token(user=world.inspector, name="phone")

    page = Client().get("/api/milestones", **bearer(secret)).json()

    assert [m["kind"] for m in page["items"]] == ["DUPRO"]


def test_a_token_writes_without_csrf(world, token):
    # An integration has no cookie and no CSRF token: the bearer token is the credential.
    _, secret = token
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        PO_URL, po_payload(world), content_type="application/json", **bearer(secret)
    )

    assert response.status_code == 201, response.content
    assert PurchaseOrder.objects.get(number="PO-A-3001").created_by == world.user(
        Role.BUYER_MANAGER
    )


def test_a_token_acts_with_its_users_rights(world):
    _, secret = create_api_token(user=world.user(Role.SUPPLIER_USER), name="portal")

    response = Client().patch(
        f"{PO_URL}/{world.po.pk}",
        {"notes": "ship early"},
        content_type="application/json",
        **bearer(secret),
    )

    assert response.status_code == 403
    assert response.json()["detail"].startswith("Supplier users cannot edit purchase orders")


def test_a_revoked_token_is_401(world, token):
    api_token, secret = token
    revoke_api_token(token=api_token, by=world.user(Role.BUYER_MANAGER))

    response = Client().get("/api/me", **bearer(secret))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid, expired or revoked API token."}


def test_an_expired_token_is_401(token):
    api_token, secret = token
    ApiToken.objects.filter(pk=api_token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert Client().get("/api/me", **bearer(secret)).status_code == 401


def test_a_token_not_yet_expired_works(world):
    _, secret = create_api_token(user=world.qc_lead, name="week", days_valid=7)

    assert Client().get("/api/me", **bearer(secret)).status_code == 200


def test_a_deactivated_users_token_is_401(world, token):
    _, secret = token
    user = world.user(Role.BUYER_MANAGER)
    user.is_active = False
    user.save()

    assert Client().get("/api/me", **bearer(secret)).status_code == 401


def test_unknown_and_tampered_tokens_are_401(token):
    _, secret = token
    prefix = secret.split("_")[1]
    client = Client()

    unknown = client.get("/api/me", **bearer("qcl_0123456789ab_" + "x" * 43))
    tampered = client.get("/api/me", **bearer(f"qcl_{prefix}_" + "y" * 43))

    assert unknown.status_code == tampered.status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer nonsense",
        "Bearer qcl_",
        "Bearer qcl_abc",
        "Bearer xyz_0123456789ab_secret",
        "Token qcl_0123456789ab_secret",
        "Basic dXNlcjpwYXNz",
        "qcl_0123456789ab_secret",
    ],
)
def test_malformed_authorization_is_401(world, header):
    response = Client().get(PO_URL, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


def test_a_bad_token_does_not_fall_back_to_the_session(world):
    # Whoever sends a token means that token: a wrong one is refused even with a session.
    client = Client()
    client.force_login(world.user(Role.BUYER_MANAGER))

    assert client.get("/api/me").status_code == 200
    assert client.get("/api/me", **bearer("qcl_0123456789ab_wrong")).status_code == 401


# --- no credentials ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/me"),
        ("get", PO_URL),
        ("post", PO_URL),
        ("get", f"{PO_URL}/1"),
        ("patch", f"{PO_URL}/1"),
        ("get", "/api/suppliers"),
        ("post", "/api/suppliers"),
        ("patch", "/api/suppliers/1"),
        ("get", "/api/factories"),
        ("post", "/api/factories"),
        ("get", "/api/products"),
        ("post", "/api/products"),
        ("get", "/api/milestones"),
        ("post", "/api/milestones"),
        ("patch", "/api/milestones/1"),
    ],
)
def test_every_route_needs_a_caller(world, method, url):
    # A strict client, as a real one: no session, no CSRF cookie, still 401 and not 403.
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(url, {}, content_type="application/json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


# --- the browser session -------------------------------------------------------------------


def test_a_session_reads(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user(Role.QC_LEAD))

    response = client.get("/api/me")

    assert response.status_code == 200
    assert response.json()["role"] == "qc_lead"


def test_a_session_write_without_csrf_token_fails(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user(Role.BUYER_MANAGER))

    response = client.post(PO_URL, po_payload(world), content_type="application/json")

    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF check Failed"}
    assert not PurchaseOrder.objects.filter(number="PO-A-3001").exists()


def test_a_session_write_with_the_csrf_token_works(world):
    # As the docs page does: it carries the CSRF token and sends it back as X-CSRFToken.
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user(Role.BUYER_MANAGER))
    page = client.get("/api/docs").content.decode()
    csrf = re.search(r'data-csrf-token="([^"]+)"', page).group(1)

    response = client.post(
        PO_URL, po_payload(world), content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )

    assert response.status_code == 201, response.content


def test_an_inactive_users_session_is_401(world):
    user = world.user(Role.BUYER_MANAGER)
    client = Client()
    client.force_login(user)
    user.is_active = False
    user.save()

    assert client.get("/api/me").status_code == 401


def test_a_user_without_organisation_sees_nothing(db):
    from qcloop.accounts.models import User

    staff = User.objects.create_user("ops@example.com", "pw-123-long-enough", full_name="Ops")
    _, secret = create_api_token(user=staff, name="ops")

    me = Client().get("/api/me", **bearer(secret)).json()
    page = Client().get(PO_URL, **bearer(secret)).json()

    assert (me["organisation"], me["role"]) == (None, None)
    assert page == {"items": [], "count": 0}


# --- OpenAPI and the docs ------------------------------------------------------------------

ROUTES = {
    "/api/me": {"get"},
    "/api/purchase-orders": {"get", "post"},
    "/api/purchase-orders/{po_id}": {"get", "patch"},
    "/api/purchase-orders/{po_id}/dossier": {"get"},
    "/api/purchase-orders/{po_id}/progress-reports": {"get", "post"},
    "/api/purchase-orders/{po_id}/schedule": {"get"},
    "/api/purchase-orders/{po_id}/bookings": {"get"},
    "/api/milestones/{milestone_id}/booking": {"post"},
    "/api/purchase-orders/import": {"post"},
    "/api/purchase-orders/{po_id}/quotes": {"get", "post"},
    "/api/purchase-orders/{po_id}/recommendation": {"get"},
    "/api/lab-standards": {"get"},
    "/api/milestones/{milestone_id}/lab-tests": {"get", "post"},
    "/api/lab-tests/{lab_test_id}": {"get", "post", "delete"},
    "/api/lab-tests/{lab_test_id}/certificate": {"get"},
    "/api/suppliers": {"get", "post"},
    "/api/suppliers/{supplier_id}": {"get", "patch"},
    "/api/factories": {"get", "post"},
    "/api/factories/{factory_id}": {"get", "patch"},
    "/api/products": {"get", "post"},
    "/api/products/{product_id}": {"get", "patch"},
    "/api/milestones": {"get", "post"},
    "/api/milestones/{milestone_id}": {"get", "patch"},
    "/api/milestones/{milestone_id}/sampling": {"post"},
    "/api/milestones/{milestone_id}/inspection": {"get"},
    "/api/milestones/{milestone_id}/answers": {"post"},
    "/api/milestones/{milestone_id}/defects": {"post"},
    "/api/milestones/{milestone_id}/defects/{defect_id}": {"delete"},
    "/api/milestones/{milestone_id}/readings": {"post"},
    "/api/milestones/{milestone_id}/production": {"put"},
    "/api/milestones/{milestone_id}/cartons": {"post"},
    "/api/milestones/{milestone_id}/loading": {"put"},
    "/api/milestones/{milestone_id}/submit": {"post"},
    "/api/milestones/{milestone_id}/photos": {"get", "post"},
    "/api/defect-codes": {"get"},
    "/api/defect-overrides": {"put"},
    "/api/checklists": {"get"},
    "/api/checklists/{template_id}/versions": {"post"},
    "/api/measurement-charts": {"get", "post"},
    "/api/field/session": {"get"},
    "/api/field/milestones": {"get"},
    "/api/field/milestones/{milestone_id}/package": {"get"},
    "/api/field/milestones/{milestone_id}/sync": {"post"},
    "/api/field/uploads": {"post"},
    "/api/field/uploads/{upload_id}": {"get", "put"},
    "/api/reports": {"get"},
    "/api/reports/{report_id}": {"get"},
    "/api/reports/{report_id}/versions/{number}": {"get"},
    "/api/reports/{report_id}/versions/{number}/pdf": {"get"},
    "/api/reports/{report_id}/comments": {"post"},
    "/api/reports/{report_id}/send-back": {"post"},
    "/api/reports/{report_id}/approve": {"post"},
    "/api/reports/{report_id}/correction": {"post"},
    "/api/reports/{report_id}/correction/publish": {"post"},
    "/api/verify": {"get", "post"},
    "/api/capas": {"get", "post"},
    "/api/capas/{capa_id}": {"get"},
    "/api/capas/{capa_id}/answer": {"post"},
    "/api/capas/{capa_id}/decision": {"post"},
    "/api/capas/{capa_id}/verifications": {"post"},
    "/api/capa-evidence/{evidence_id}/{kind}": {"get"},
    "/api/escalations": {"get"},
    "/api/escalations/{escalation_id}": {"get"},
    "/api/escalations/{escalation_id}/acknowledge": {"post"},
    "/api/escalations/{escalation_id}/notifications/{notification_id}/replay": {"post"},
}
# Actions that take no body: the route names all there is to do.
BODYLESS = ("/submit", "/acknowledge", "/replay")


def test_openapi_lists_every_route_with_its_schemas(db):
    response = Client().get("/api/openapi.json")

    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "qcloop API"
    assert {path: set(ops) for path, ops in spec["paths"].items()} == ROUTES
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiTokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["BrowserSessionAuth"]["in"] == "cookie"
    public = {"/api/verify"}  # anyone holding a report PDF may check it
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path not in public:
                assert operation["security"], (method, path)
                assert "401" in operation["responses"], (method, path)
            responses = operation["responses"]
            ok = (
                responses.get("200")
                or responses.get("201")
                or responses.get("202")
                or responses["204"]
            )
            if path.endswith(("/pdf", "/certificate")):
                assert "application/pdf" in ok["content"], (method, path)
            elif path.startswith("/api/capa-evidence/"):
                assert ok["content"]["image/jpeg"]["schema"]["format"] == "binary"
            elif path.endswith("/dossier"):
                assert set(ok["content"]) == {"application/zip"}, (method, path)
                assert ok["content"]["application/zip"]["schema"]["format"] == "binary"
            elif "204" not in responses:
                assert ok["content"]["application/json"]["schema"], (method, path)
            if method in {"post", "patch", "put"} and not path.endswith(BODYLESS):
                content = operation["requestBody"]["content"]
                body = (
                    content.get("application/json")
                    or content.get("multipart/form-data")
                    or content["application/octet-stream"]  # a chunk of a photo upload
                )
                assert body["schema"], (method, path)
                assert "422" in operation["responses"]
    schemas = spec["components"]["schemas"]
    assert schemas["POOut"]["properties"]["fob_value"]["type"] == "string"
    assert {"lines", "milestones", "currency"} <= set(schemas["POOut"]["properties"])
    assert "loc" in schemas["FieldErrorOut"]["properties"]


def test_the_docs_page_works_offline_under_the_csp(db):
    response = Client().get("/api/docs")

    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        assert not re.match(r"(https?:)?//", asset), asset
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    # No inline script for the CSP to block: every <script> either loads a file or is data.
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert '"validatorUrl": null' in page  # no call to validator.swagger.io
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
