"""Sign-in throttling, hand-checked: five wrong passwords lock the account for the rest of 15
minutes (even the right password is refused meanwhile, and not checked), thirty from one
address lock the address across accounts, success clears the count, and the lock lifts."""

from datetime import timedelta

import pytest
from django.contrib.auth import hashers
from django.urls import reverse
from django.utils import timezone

from qcloop.accounts import throttle
from qcloop.accounts.models import LoginFailure, Role
from qcloop.testing import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, email: str, password: str, address: str = "198.51.100.7"):
    return client.post(
        reverse("accounts:login"),
        {"username": email, "password": password},
        REMOTE_ADDR=address,
    )


def test_five_wrong_passwords_lock_the_account_and_the_right_one_waits(client, world):
    email = world.user(Role.QC_LEAD).email
    for _ in range(5):
        assert sign_in(client, email, "guess").status_code == 200
    locked = sign_in(client, email, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes" in locked.content.decode()
    assert 14 * 60 < int(locked["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session
    # Another account, from another address, is not affected.
    other = world.user(Role.COORDINATOR).email
    assert sign_in(client, other, PASSWORD, address="203.0.113.9").status_code == 302


def test_while_locked_the_password_is_not_even_checked(client, world, monkeypatch):
    email = world.user(Role.QC_LEAD).email
    for _ in range(5):
        sign_in(client, email, "guess")
    checked = []
    monkeypatch.setattr(hashers, "check_password", lambda *a, **k: checked.append(a) or True)
    assert sign_in(client, email, PASSWORD).status_code == 429
    assert checked == []


def test_the_lock_lifts_when_the_oldest_failure_leaves_the_window(client, world):
    email = world.user(Role.QC_LEAD).email
    for _ in range(5):
        sign_in(client, email, "guess")
    oldest = LoginFailure.objects.order_by("at").first()
    LoginFailure.objects.filter(pk=oldest.pk).update(at=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, email, PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(email=email.lower()).exists(), "success clears"


def test_the_email_is_counted_whatever_its_case(client, world):
    email = world.user(Role.QC_LEAD).email
    for variant in (email.upper(), email.lower(), email.title(), f" {email} ", email):
        sign_in(client, variant, "guess")
    assert sign_in(client, email, PASSWORD).status_code == 429


def test_thirty_failures_from_one_address_lock_it_for_every_account(client, world):
    for index in range(30):
        sign_in(client, f"nobody{index}@example.com", "guess", address="192.0.2.44")
    victim = world.user(Role.BUYER_MANAGER).email
    assert sign_in(client, victim, PASSWORD, address="192.0.2.44").status_code == 429
    assert sign_in(client, victim, PASSWORD, address="192.0.2.45").status_code == 302


def test_the_address_behind_a_proxy_is_the_one_the_proxy_saw(rf, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert throttle.client_address(request) == "198.51.100.7"  # not the forged left part
    del settings.SECURE_PROXY_SSL_HEADER
    assert throttle.client_address(request) == "10.0.0.2"


def test_failures_older_than_a_day_are_forgotten():
    now = timezone.now()
    LoginFailure.objects.create(email="a@example.com", at=now - timedelta(days=2))
    LoginFailure.objects.create(email="a@example.com", at=now - timedelta(hours=2))
    assert throttle.forget_old(now) == 1
    assert LoginFailure.objects.count() == 1
