"""The qcloop command: serve runs web, worker and sweeper together; the sweeper sweeps."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from conftest import subprocess_env
from qcloop.core.sweeper import registered_sweeps, sweep_once


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_serve_runs_web_worker_and_sweeper_and_stops_cleanly(tmp_path):
    port = free_port()
    env = subprocess_env(QCLOOP_DATA_DIR=str(tmp_path), QCLOOP_SWEEPER_INTERVAL="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "qcloop", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert b'"status": "ok"' in wait_for(f"http://127.0.0.1:{port}/health/")
        login = wait_for(f"http://127.0.0.1:{port}/accounts/login/")
        assert b"Sign in" in login
        css = wait_for(f"http://127.0.0.1:{port}/static/qcloop/qcloop.css")
        assert b"--brand" in css  # static files served (whitenoise, hashed names)
        children = subprocess.run(
            ["pgrep", "-f", "-P", str(server.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 3, "web, worker and sweeper"
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "sweeper started" in output and "Starting worker" in output.replace(
        "starting", "Starting"
    )


def test_demo_loads_once_and_says_so_the_second_time(tmp_path):
    env = subprocess_env(QCLOOP_DATA_DIR=str(tmp_path))
    command = [sys.executable, "-m", "qcloop", "demo", "--no-serve"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "http://127.0.0.1:8000/" in first.stdout
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout
    assert (tmp_path / "qcloop.sqlite3").exists()


@pytest.mark.django_db
def test_the_sweeper_deletes_expired_sessions_and_keeps_live_ones():
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="x", expire_date=now - timedelta(1))
    Session.objects.create(session_key="live", session_data="x", expire_date=now + timedelta(1))
    results = sweep_once()
    assert results["expired sessions"] == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    assert set(registered_sweeps()) >= {"expired sessions", "old task results"}


@pytest.mark.django_db
def test_a_failing_sweep_does_not_stop_the_others(monkeypatch):
    from qcloop.core import sweeper

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(sweeper._sweeps, "broken", broken)
    results = sweep_once()
    assert results["broken"] == "failed" and results["expired sessions"] == 0


def test_aql_subcommand_is_wired(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "qcloop", "aql", "--lot", "3200", "--aql", "2.5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "200" in out.stdout


def test_createadmin_makes_a_staff_superuser(tmp_path):
    env = subprocess_env(QCLOOP_DATA_DIR=str(tmp_path), QCLOOP_ADMIN_PASSWORD="Ops-team-2026!")
    command = [sys.executable, "-m", "qcloop", "createadmin", "--email", "ops@example.com"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "Created staff superuser ops@example.com" in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "already exists" in again.stderr
