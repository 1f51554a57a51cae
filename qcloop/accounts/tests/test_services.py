"""Organisations, memberships and API tokens."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from qcloop.accounts.models import ApiToken, OrganisationKind, Role, User
from qcloop.accounts.services import (
    add_member,
    create_api_token,
    create_organisation,
    engage_agency,
    revoke_api_token,
    user_for_token,
)

pytestmark = pytest.mark.django_db


def test_a_role_must_fit_the_organisation_kind():
    supplier = create_organisation(
        name="Acme Factory", kind=OrganisationKind.SUPPLIER, country="CN"
    )
    with pytest.raises(ValidationError) as caught:
        add_member(organisation=supplier, email="x@example.com", full_name="X", role=Role.QC_LEAD)
    assert list(caught.value.message_dict) == ["role"]
    assert not User.objects.filter(email="x@example.com").exists()


def test_emails_are_unique_whatever_their_case(world):
    with pytest.raises(ValidationError) as caught:
        add_member(
            organisation=world.buyer,
            email="BUYER_VIEWER.A@example.com",
            full_name="Dup",
            role=Role.BUYER_VIEWER,
        )
    assert list(caught.value.message_dict) == ["email"]


def test_organisation_slugs_stay_unique():
    first = create_organisation(name="Same Name", kind=OrganisationKind.BUYER, country="US")
    second = create_organisation(name="Same Name", kind=OrganisationKind.BUYER, country="US")
    assert (first.slug, second.slug) == ("same-name", "same-name-2")


def test_unknown_country_or_time_zone_is_refused():
    with pytest.raises(ValidationError) as caught:
        create_organisation(name="X", kind=OrganisationKind.BUYER, country="QQ", timezone="Nowhere")
    assert set(caught.value.message_dict) == {"country", "timezone"}


def test_an_engagement_links_an_agency_to_a_buyer(world):
    with pytest.raises(ValidationError):
        engage_agency(agency=world.buyer, buyer=world.agency)
    assert engage_agency(agency=world.agency, buyer=world.buyer).pk  # idempotent


def test_a_token_is_stored_only_as_a_hash_and_works_until_revoked(world):
    user = world.user(Role.BUYER_MANAGER)
    token, secret = create_api_token(user=user, name="ERP")
    assert secret.startswith(f"qcl_{token.prefix}_")
    assert secret not in token.token_hash and len(token.token_hash) == 64
    assert user_for_token(secret) == user
    revoke_api_token(token=token, by=user)
    assert user_for_token(secret) is None


def test_expired_malformed_and_forged_tokens_are_refused(world):
    user = world.user(Role.BUYER_MANAGER)
    token, secret = create_api_token(user=user, name="ERP", days_valid=1)
    assert user_for_token(secret) == user
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert user_for_token(secret) is None
    _, good = create_api_token(user=user, name="Other")
    assert user_for_token(good[:-1] + ("A" if good[-1] != "A" else "B")) is None
    for junk in ["", "qcl_", "Bearer x", "qcl_nope_nope", "x_y_z"]:
        assert user_for_token(junk) is None


def test_a_deactivated_users_token_stops_working(world):
    user = world.user(Role.BUYER_MANAGER)
    _, secret = create_api_token(user=user, name="ERP")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert user_for_token(secret) is None


def test_only_the_owner_revokes_a_token(world):
    token, _ = create_api_token(user=world.user(Role.BUYER_MANAGER), name="ERP")
    with pytest.raises(ValidationError):
        revoke_api_token(token=token, by=world.user(Role.BUYER_VIEWER))


def test_a_token_needs_a_name(world):
    with pytest.raises(ValidationError) as caught:
        create_api_token(user=world.user(Role.BUYER_MANAGER), name="  ")
    assert list(caught.value.message_dict) == ["name"]


def test_a_weak_password_is_refused(world):
    with pytest.raises(ValidationError) as caught:
        add_member(
            organisation=world.buyer,
            email="weak@example.com",
            full_name="Weak",
            role=Role.BUYER_VIEWER,
            password="password",
        )
    assert list(caught.value.message_dict) == ["password"]
    assert not User.objects.filter(email="weak@example.com").exists()
