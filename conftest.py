"""Test-wide settings: fast password hashing and static files served from the source tree."""

import os

import pytest


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def world(db):
    """One complete tenant: buyer, agency, supplier, their people, a PO with four milestones."""
    from qcloop.testing import build_world

    return build_world("a")


@pytest.fixture
def other_world(db):
    """A second, unrelated tenant: everyone in it is an outsider to `world`."""
    from qcloop.testing import build_world

    return build_world("b")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
