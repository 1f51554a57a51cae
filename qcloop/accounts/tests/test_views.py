"""Signing in and out, and personal API tokens on their page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from qcloop.accounts.models import ApiToken, Role
from qcloop.accounts.services import create_api_token, user_for_token
from qcloop.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_with_email_and_password_then_out(client, world):
    user = world.user(Role.QC_LEAD)
    bad = client.post(reverse("accounts:login"), {"username": user.email, "password": "nope"})
    assert bad.status_code == 200 and "correct email address and password" in bad.content.decode()
    good = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    assert good.status_code == 302 and good["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get("/").status_code == 302


def test_a_token_is_shown_once_and_can_be_revoked(client, world):
    client.force_login(world.user(Role.BUYER_MANAGER))
    response = client.post(reverse("accounts:tokens"), {"name": "ERP import", "days_valid": "30"})
    secret = response.context["secret"]
    assert secret in response.content.decode()
    assert user_for_token(secret) == world.user(Role.BUYER_MANAGER)
    listing = client.get(reverse("accounts:tokens")).content.decode()
    assert "ERP import" in listing and secret not in listing
    token = ApiToken.objects.get()
    client.post(reverse("accounts:revoke_token", args=[token.pk]))
    assert user_for_token(secret) is None


def test_a_token_needs_a_name(client, world):
    client.force_login(world.user(Role.BUYER_MANAGER))
    response = client.post(reverse("accounts:tokens"), {"name": ""})
    assert response.context["secret"] is None and response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_a_read_only_token_reads_and_is_refused_any_change(client, world):
    from qcloop.orders.models import Supplier

    user = world.user(Role.BUYER_MANAGER)
    client.force_login(user)
    page = client.post(reverse("accounts:tokens"), {"name": "BI dashboard", "access": "read"})
    secret = page.context["secret"]
    assert "Read only" in client.get(reverse("accounts:tokens")).content.decode()
    client.logout()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/api/purchase-orders", **bearer).status_code == 200
    payload = {"code": "V-9", "name": "Dongguan Toys", "country": "CN"}
    refused = client.post("/api/suppliers", payload, content_type="application/json", **bearer)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "This API token is read-only: make a read-and-write token."}
    assert not Supplier.objects.filter(code="V-9").exists()

    _, writer = create_api_token(user=user, name="ERP", access="write")
    made = client.post(
        "/api/suppliers",
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {writer}",
    )
    assert made.status_code == 201


def test_an_unknown_token_access_is_refused(world):
    with pytest.raises(ValidationError, match="read or write"):
        create_api_token(user=world.user(Role.BUYER_MANAGER), name="x", access="admin")
