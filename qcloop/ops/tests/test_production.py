"""`qcloop serve --production`: refuses to start on a failed deployment check, and otherwise
serves with JSON logs, each line with its request id, and probes that skip the HTTPS redirect."""

import json
import signal
import subprocess
import sys
import time
import urllib.request

from conftest import subprocess_env
from qcloop.core.tests.test_commands import free_port, wait_for


def test_production_refuses_a_mail_backend_that_sends_nothing(tmp_path):
    env = subprocess_env(QCLOOP_DATA_DIR=str(tmp_path))
    env.pop("EMAIL_HOST", None)
    done = subprocess.run(
        [sys.executable, "-m", "qcloop", "serve", "--production"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "mail.E001" in done.stderr and "deployment checks failed" in done.stderr


def test_production_serves_with_json_logs_and_plain_http_probes(tmp_path):
    port = free_port()
    env = subprocess_env(
        QCLOOP_DATA_DIR=str(tmp_path),
        EMAIL_HOST="127.0.0.1",
        QCLOOP_HTTPS="true",
        SECRET_KEY="production-test-" + "k" * 50,
    )
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "qcloop", "serve", "--production", "--port", str(port)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        # Migrations and static files first: generous on a busy machine.
        assert b'"status": "ok"' in wait_for(f"http://127.0.0.1:{port}/livez", seconds=240), (
            log.read_text()
        )
        ready = json.loads(wait_for(f"http://127.0.0.1:{port}/readyz"))
        assert ready["database"]["status"] == "ok"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/accounts/login/", headers={"X-Request-ID": "lb-prod-0001"}
        )
        opener = urllib.request.build_opener(NoRedirect)
        assert _status_of(opener, request) == 301, "pages go to HTTPS; the probes did not"
        time.sleep(1)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    [login] = [line for line in lines if line.get("path") == "/accounts/login/"]
    assert login["request_id"] == "lb-prod-0001" and login["status"] == 301
    assert login["logger"] == "qcloop.request" and "duration_ms" in login
    assert any(line["logger"] == "qcloop.sweeper" for line in lines)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _status_of(opener, request) -> int:
    try:
        return opener.open(request, timeout=10).status
    except urllib.error.HTTPError as answer:
        return answer.code
