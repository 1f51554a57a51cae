"""Settings come from the environment; production settings pass Django's deploy check."""

import re
import stat
import subprocess
import sys

import pytest

from conftest import subprocess_env

# What a production instance sets (docs/configuration.md).
PRODUCTION = {"ALLOWED_HOSTS": "qc.example.com", "EMAIL_HOST": "smtp.example.com"}


def run_qcloop(args, tmp_path, **env):
    environment = subprocess_env(QCLOOP_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-m", "qcloop", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_value(tmp_path, expression, **env):
    code = (
        f"import django, os; django.setup(); from django.conf import settings; print({expression})"
    )
    environment = subprocess_env(
        QCLOOP_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="qcloop.settings", **env
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def deploy_warnings(result) -> set[str]:
    return set(re.findall(r"\?: \((security\.\w+)\)", result.stdout + result.stderr))


def test_deploy_check_is_clean_apart_from_the_https_items(tmp_path):
    result = run_qcloop(["manage", "check", "--deploy"], tmp_path, **PRODUCTION)
    # Without TLS in front, these four can only be set once HTTPS is there (QCLOOP_HTTPS=true).
    assert deploy_warnings(result) == {
        "security.W004",  # HSTS
        "security.W008",  # redirect to HTTPS
        "security.W012",  # session cookie only over HTTPS
        "security.W016",  # CSRF cookie only over HTTPS
    }, result.stdout + result.stderr


def test_deploy_check_with_https_leaves_only_the_preload_choice(tmp_path):
    result = run_qcloop(
        ["manage", "check", "--deploy"], tmp_path, QCLOOP_HTTPS="true", **PRODUCTION
    )
    # Submitting a domain to the browsers' HSTS preload list is hard to undo: opt-in only.
    assert deploy_warnings(result) == {"security.W021"}, result.stdout + result.stderr
    result = run_qcloop(
        ["manage", "check", "--deploy"],
        tmp_path,
        QCLOOP_HTTPS="true",
        SECURE_HSTS_PRELOAD="true",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_secret_key_is_generated_once_into_the_data_dir(tmp_path):
    first = settings_value(tmp_path, "settings.SECRET_KEY")
    second = settings_value(tmp_path, "settings.SECRET_KEY")
    key_file = tmp_path / "secret_key"
    assert first == second == key_file.read_text().strip() and len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (
        settings_value(tmp_path, "settings.SECRET_KEY", SECRET_KEY="from-env" * 8) == "from-env" * 8
    )


def test_sqlite_is_the_default_in_wal_mode_with_immediate_transactions(tmp_path):
    options = settings_value(tmp_path, "settings.DATABASES['default']")
    assert str(tmp_path / "qcloop.sqlite3") in options
    assert "'transaction_mode': 'IMMEDIATE'" in options and "journal_mode=WAL" in options
    mode = settings_value(
        tmp_path,
        "(lambda c: (c.execute('PRAGMA journal_mode'), c.fetchone()[0])[1])"
        "(__import__('django.db').db.connection.cursor())",
    )
    assert mode == "wal"


def test_database_url_selects_postgresql(tmp_path):
    engine = settings_value(
        tmp_path,
        "settings.DATABASES['default']['ENGINE']",
        DATABASE_URL="postgres://qc:secret@db.internal:5432/qcloop",
    )
    assert engine == "django.db.backends.postgresql"


def test_debug_is_off_unless_asked(tmp_path):
    assert settings_value(tmp_path, "settings.DEBUG") == "False"
    assert settings_value(tmp_path, "settings.DEBUG", DEBUG="true") == "True"


def test_report_links_last_30_days_unless_told_and_never_zero(tmp_path):
    assert settings_value(tmp_path, "settings.QCLOOP_REPORT_LINK_DAYS") == "30"
    assert (
        settings_value(tmp_path, "settings.QCLOOP_REPORT_LINK_DAYS", QCLOOP_REPORT_LINK_DAYS="7")
        == "7"
    )
    for bad in ["0", "two weeks"]:
        result = run_qcloop(["manage", "check"], tmp_path, QCLOOP_REPORT_LINK_DAYS=bad)
        assert result.returncode != 0
        assert "QCLOOP_REPORT_LINK_DAYS must be a whole number of days, at least 1" in (
            result.stderr
        )


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_health(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
