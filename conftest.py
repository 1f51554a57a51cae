"""Test-wide settings: fast password hashing and static files served from the source tree."""

import os
import socket
import sys
from pathlib import Path

import pytest

# Real camera and phone photos beside the repo, used by path and never copied into it.
SHARED_PHOTOS = Path(__file__).resolve().parent.parent / "shared" / "photos"


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    import tempfile

    # SQLite tests use a file, not the in-memory default: pytest-django shares one in-memory
    # connection among the live server's request threads, and concurrent requests then fail.
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        folder = tempfile.mkdtemp(prefix="qcloop-test-db-")
        database["TEST"] = {**database.get("TEST", {}), "NAME": f"{folder}/test.sqlite3"}
    # Uploaded files of the test run go to a folder of their own, never the data dir.
    media = tempfile.mkdtemp(prefix="qcloop-test-media-")
    settings.STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media},
        },
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


class Inbox:
    """What the loopback SMTP server received: (sender, recipients, raw message text).
    Addresses in `refused` are turned away at RCPT, as a server does with an unknown user."""

    def __init__(self):
        self.messages = []
        self.refused = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free loopback port, and Django's mail pointed at it."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    yield inbox
    controller.stop()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def shared_photos() -> Path:
    """The folder of shared photos; CI must have it, elsewhere its tests are skipped."""
    if not SHARED_PHOTOS.is_dir():
        if in_ci():
            pytest.fail(
                f"{SHARED_PHOTOS} is missing: CI must have the shared photos beside the repo"
            )
        pytest.skip(f"the shared photos are not at {SHARED_PHOTOS}")
    return SHARED_PHOTOS


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright. Skipped only outside CI when it is missing."""
    if not os.path.exists(CHROMIUM):
        if in_ci():
            pytest.fail(f"{CHROMIUM} is missing: CI must install the chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM in the test body
    # is still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context on the live server, failing the test on any CSP violation or
    script error."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    # Generous: CI machines are shared and noisy; a wait ends as soon as its condition holds.
    page.set_default_timeout(30_000)
    yield page
    context.close()
    csp = [p for p in problems if "Content Security Policy" in p or "Refused to" in p]
    assert not csp, f"the page broke its Content-Security-Policy: {csp}"


@pytest.fixture
def live_world(transactional_db):
    """`world`, committed, so the live server's thread can see it."""
    from qcloop.testing import build_world

    return build_world("a")


def sign_in(page, user, password=None):
    from qcloop.testing import PASSWORD

    page.goto("/accounts/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", password or PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def screenshot(page):
    """Save a screenshot under test-artifacts/ (for people to look at; not compared)."""
    from pathlib import Path

    folder = Path(__file__).parent / "test-artifacts"
    folder.mkdir(exist_ok=True)

    def take(name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


def subprocess_env(**extra) -> dict[str, str]:
    """The environment for a qcloop child process: this one's, less what only tests set."""
    dropped = {"DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(extra)
    return env


@pytest.fixture
def run_worker():
    """Run the background worker until the queue is empty, as `qcloop worker` would.

    Tests that use it commit for real (`django_db(transaction=True)`): the worker opens and
    closes its own transactions and connections."""
    from django.core.management import call_command

    def run() -> None:
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    return run


def child_database_url() -> str:
    """A DATABASE_URL for a child process to use the test database this test run made."""
    from django.db import connection

    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    user, host, port = config["USER"] or "postgres", config["HOST"], config["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{config['NAME']}"


def media_root() -> str:
    """Where the test run keeps uploaded files (a child process must use the same)."""
    from django.conf import settings

    return settings.STORAGES["default"]["OPTIONS"]["location"]


REDIS_TEST_URL = os.environ.get("QCLOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_url() -> str:
    """A Redis database of the tests' own, emptied before and after. CI must have Redis."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    client = Redis.from_url(REDIS_TEST_URL)
    try:
        client.flushdb()
    except RedisDown:
        if in_ci():
            pytest.fail(f"Redis is not reachable at {REDIS_TEST_URL}: CI must start redis-server")
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL}")
    yield REDIS_TEST_URL
    client.flushdb()
    client.close()


@pytest.fixture
def rq_tasks(settings, redis_url):
    """Background work on Redis through RQ, as a scaled deployment runs it (QCLOOP_TASKS=rq)."""
    settings.TASKS = {
        "default": {
            "BACKEND": "qcloop.ops.tasks_backend.RQBackend",
            "OPTIONS": {"URL": redis_url, "RETRIES": 2, "RETRY_INTERVALS": [0]},
        }
    }
    from django.tasks import task_backends

    return task_backends["default"]


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible server (moto's server mode) on a free loopback port for the session."""
    import shutil
    import subprocess
    import time
    import urllib.request

    command = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if command is None:
        if in_ci():
            pytest.fail("moto_server is missing: `make install` installs moto[server]")
        pytest.skip("moto_server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"moto_server did not start on {url}")
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=30)


S3_KEYS = {"AWS_ACCESS_KEY_ID": "qcloop-test", "AWS_SECRET_ACCESS_KEY": "qcloop-test-secret"}


@pytest.fixture
def s3_storage(settings, s3_server):
    """Files in a fresh private bucket of the S3 server, as QCLOOP_S3_BUCKET configures them;
    yields the boto3 client, the bucket name and the storage options."""
    import uuid

    import boto3

    bucket = f"qcloop-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=bucket)
    from qcloop.settings import s3_storage

    storage = s3_storage(
        bucket,
        endpoint_url=s3_server,
        region_name="us-east-1",
        access_key=S3_KEYS["AWS_ACCESS_KEY_ID"],
        secret_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
        location="",
    )
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    yield client, bucket, storage["OPTIONS"]


def pytest_terminal_summary(terminalreporter):
    """Print the figures the tests counted (qcloop/testing/figures.py), e.g. hostile inputs."""
    from qcloop.testing.figures import FIGURES

    if FIGURES:
        terminalreporter.section("qcloop figures")
        for what, n in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{what}: {n}")
