"""Scale-out load test: two app servers and two RQ workers on loopback against one PostgreSQL,
one Redis and one S3-compatible bucket, next to the same load on one app server and one worker
(a script, not a test; `qcloop/ops/tests/test_scale_out.py` runs a small bounded load of it).

What it sets up, all thrown away at the end (`--keep` keeps the database and the folder of
the processes' logs):
  a fresh PostgreSQL database `qcloop_scale_<hex>`, a Redis database of its own (`--redis-db`,
  flushed before and after), moto's S3 server on a free port with a private bucket, one
  SECRET_KEY for every process, and a data dir per process (as separate machines have: nothing
  is shared through local files, only through PostgreSQL, Redis and the bucket). It migrates,
  then seeds one tenant per inspector (`qcloop.testing.build_world`: the DUPRO booked, sampled
  and in progress, a measurement chart, an API token for the inspector's phone, the buyer's
  manager who reads the dashboard). The seeding's own mails are queued in the database
  backend, which nothing here runs, so that neither setup's workers carry them.

The load, per setup (2 app servers + 2 workers, then 1 + 1 with `--compare`, on fresh
inspectors each): `--inspectors` phones at once (one thread each, keep-alive connections),
every request sent round-robin to the app servers as a load balancer would. Per round a phone
pushes a field sync of four operations (a defect, two measurement readings, a checklist
answer; each with a uuid made on the phone) and uploads one photo (a small real JPEG made with
Pillow, unique per upload) through the chunked upload API (declare, then PUT chunks of
`--chunk-kb`), so that its ingest job runs on the RQ workers; every `--dashboard-every` rounds
the buyer's manager opens the program dashboard (the page, signed in by the login form).
Nothing is retried: a request that is not 2xx, a connection error, or a sync operation not
acknowledged `applied` is an error.

Printed: per setup, per endpoint and overall: requests, req/s, p50, p95, max and errors; then,
once the queue is drained, the exactly-once check against the database and the bucket (every
record once by uuid, every photo once, ready, with the bytes' SHA-256 and its three files in
the bucket, no chunk or staged file left), which worker processes ran the ingest jobs, and the
throughput ratio 2+2 / 1+1. Exits 1 on any error or failed check.

Also printed: the CPU seconds each group of processes used during the load and the drain
(app servers, RQ workers, moto, PostgreSQL, Redis, this script), against the cores x seconds
there were: on a small machine a second app server cannot add CPU that is not there.

Run:  .venv/bin/python bench/scale_out.py [--inspectors 16] [--rounds 6] [--dashboard-every 3]
      [--chunk-kb 32] [--no-compare] [--keep] [--pg URL] [--redis URL] [--redis-db 12]
(about 3 minutes on 2 cores: ~30 s migrating, then per setup ~25 s of load and ~25-50 s until
the workers have processed every photo; each photo costs a worker ~0.5 s.)
"""

import argparse
import contextlib
import hashlib
import http.client
import io
import json
import math
import os
import random
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PASSWORD = "correct-horse-battery-staple"  # qcloop.testing.PASSWORD, without importing Django
S3_KEYS = {"AWS_ACCESS_KEY_ID": "qcloop-bench", "AWS_SECRET_ACCESS_KEY": "qcloop-bench-secret"}
ENDPOINTS = ["field sync", "upload declare", "upload chunk", "dashboard"]
# As a load balancer does, the phones drop a connection idle for 30 s, well before `qcloop web`
# would close it (its keep-alive is 75 s): neither side races the other's close.
IDLE_SECONDS = 30.0
# What the caller's environment may carry that would point a child elsewhere.
DROPPED = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
DROPPED_PREFIXES = ("QCLOOP_", "EMAIL_", "AWS_", "DJANGO_ALLOW_ASYNC")


@dataclass
class Options:
    inspectors: int = 16
    rounds: int = 6
    dashboard_every: int = 3
    chunk_kb: int = 32
    compare: bool = True
    keep: bool = False
    pg: str = "postgres://postgres@127.0.0.1:5432"
    redis: str = "redis://127.0.0.1:6379"
    redis_db: int = 12
    web_workers: int = 2
    drain_seconds: float = 180.0

    @property
    def redis_url(self) -> str:
        return f"{self.redis.rstrip('/')}/{self.redis_db}"


class Unavailable(RuntimeError):
    """PostgreSQL, Redis or moto_server is not there: nothing to measure."""


def unavailable(options: Options) -> list[str]:
    """What of PostgreSQL, Redis and moto_server cannot be reached (empty when all can)."""
    import psycopg
    from redis import Redis
    from redis.exceptions import RedisError

    problems = []
    try:
        psycopg.connect(f"{options.pg}/postgres", connect_timeout=3).close()
    except psycopg.Error as error:
        problems.append(f"PostgreSQL at {options.pg}: {error}".strip())
    try:
        client = Redis.from_url(options.redis_url, socket_connect_timeout=3)
        client.ping()
        client.close()
    except RedisError as error:
        problems.append(f"Redis at {options.redis_url}: {error}")
    if moto_command() is None:
        problems.append("moto_server is not installed (`make install` installs moto[server])")
    return problems


def moto_command() -> str | None:
    return shutil.which("moto_server", path=str(Path(PYTHON).parent))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- child processes ------------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path


class Children:
    """The processes this run started, each in a session of its own (its group id is its pid):
    stopped with SIGTERM, then killed with its whole group if it does not stop in time."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.running: list[Child] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Child:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name, process, log)
        self.running.append(child)
        return child

    def stop(self, child: Child, grace: float = 20.0) -> None:
        if child.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=grace)
        # Whatever of its group is left (a gunicorn worker, an RQ work horse) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=5)
        if child in self.running:
            self.running.remove(child)

    def stop_all(self) -> None:
        for child in reversed(list(self.running)):
            self.stop(child)


def run_child(args: list[str], env: dict[str, str], what: str, timeout: float = 600) -> str:
    """Run a qcloop process to its end; its stdout, or an error with its output's tail."""
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}):\n{tail(done.stderr)}")
    return done.stdout


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def tracebacks(log: Path, limit: int = 2) -> list[str]:
    """The last tracebacks a server or worker logged."""
    text = log.read_text(errors="replace") if log.exists() else ""
    found, current = [], None
    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            current = [line]
        elif current is not None:
            current.append(line)
            if line and not line.startswith((" ", "\t")):
                found.append("\n".join(current))
                current = None
    return found[-limit:]


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(child: Child, port: int, seconds: float = 120.0) -> None:
    deadline, last = time.monotonic() + seconds, "no answer"
    while True:
        try:
            status, body = http_get(port, "/readyz")
            if status == 200:
                return
            last = f"{status} {body[:300]!r}"
        except OSError as error:
            last = repr(error)
        if child.process.poll() is not None or time.monotonic() > deadline:
            log = child.log.read_text(errors="replace") if child.log.exists() else ""
            raise RuntimeError(
                f"{child.name} did not answer /readyz 200 (last: {last}):\n{tail(log)}"
            )
        time.sleep(0.3)


def start_moto(children: Children) -> str:
    port = free_port()
    args = [moto_command(), "-H", "127.0.0.1", "-p", str(port)]
    child = children.start("moto", args, dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if http_get(port, "/moto-api/")[0] == 200:
                return url
        except OSError:
            pass
        if child.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"moto_server did not start on {url}")
        time.sleep(0.2)


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
    )


def bucket_keys(client, bucket: str) -> list[str]:
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def cpu_seconds(sessions: dict[str, list[int]]) -> dict[str, float]:
    """CPU time so far (user + system) of each group: this run's children by their session (a
    work horse or gunicorn worker that exited is in its parent's reaped-children time),
    PostgreSQL and Redis by name, and this process (the load generator's threads)."""
    names = {session: name for name, ids in sessions.items() for session in ids}
    totals = dict.fromkeys([*sessions, "PostgreSQL", "Redis", "load generator"], 0.0)
    if not os.path.isdir("/proc"):
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        command = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()  # from field 3 (state) on
        session, own, reaped = int(fields[3]), fields[11:13], fields[13:15]
        if int(entry.name) == os.getpid():
            name, counted = "load generator", own  # not the migrate/seed/check children
        elif session in names:
            name, counted = names[session], own + reaped
        elif command == "postgres":
            name, counted = "PostgreSQL", own + reaped
        elif command.startswith("redis-server"):
            name, counted = "Redis", own + reaped
        else:
            continue
        totals[name] += sum(map(int, counted)) / tick
    return totals


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


# --- the phones and the buyers --------------------------------------------------------------------


@dataclass
class Sample:
    endpoint: str
    port: int
    status: int | None
    seconds: float
    error: str = ""


class Recorder:
    """Every request's endpoint, server, status and latency (list.append is atomic)."""

    def __init__(self):
        self.samples: list[Sample] = []
        self.failures: list[Sample] = []
        self.connections = 0
        self.lock = threading.Lock()

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)
        if sample.error:
            self.failures.append(sample)


class Balanced:
    """One device's HTTP client: keep-alive connections to every app server, each request sent
    to the next server in turn, as a round-robin load balancer does."""

    def __init__(self, ports: list[int], first: int, recorder: Recorder, headers: dict):
        self.ports, self.turn, self.recorder, self.headers = ports, first, recorder, headers
        self.connections = {
            port: http.client.HTTPConnection("127.0.0.1", port, timeout=120) for port in ports
        }
        self.last_used = dict.fromkeys(ports, 0.0)
        self.served = dict.fromkeys(ports, 0)  # requests on the current connection

    def _connection(self, port: int) -> http.client.HTTPConnection:
        connection = self.connections[port]
        if connection.sock is not None and (
            time.monotonic() - self.last_used[port] > IDLE_SECONDS
            or select.select([connection.sock], [], [], 0)[0]
        ):
            # Idle too long, or already closed by the server: a new connection, before any
            # byte of the request is sent (as a load balancer's idle timeout below the
            # backend's does). Reusing it would race gunicorn closing it.
            connection.close()
        if connection.sock is None:
            self.served[port] = 0
            with self.recorder.lock:
                self.recorder.connections += 1
        return connection

    def request(self, endpoint: str, method: str, path: str, body=None, headers=None):
        """The response's status and body, or None after a connection error; recorded."""
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        connection = self._connection(port)
        reused = connection.sock is not None
        idle, nth = time.monotonic() - self.last_used[port], self.served[port] + 1
        started, step = time.perf_counter(), "sending"
        try:
            connection.request(method, path, body=body, headers={**self.headers, **(headers or {})})
            step = "waiting for the response"
            response = connection.getresponse()
            step = "reading the response"
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            self.last_used[port] = time.monotonic()
            seconds = time.perf_counter() - started
            where = (
                f"request {nth} on a connection idle {idle:.2f} s" if reused else "new connection"
            )
            what = f"{type(error).__name__} ({error}) {step}, {where}, after {seconds:.2f} s"
            self.recorder.add(Sample(endpoint, port, None, seconds, what))
            return None
        self.served[port] += 1
        seconds = time.perf_counter() - started
        self.last_used[port] = time.monotonic()
        ok = 200 <= response.status < 300
        error = "" if ok else f"HTTP {response.status}: {data[:300]!r}"
        self.recorder.add(Sample(endpoint, port, response.status, seconds, error))
        return response.status, data

    def json(self, endpoint: str, method: str, path: str, payload) -> dict | None:
        answer = self.request(
            endpoint,
            method,
            path,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json"},
        )
        if answer is None or not 200 <= answer[0] < 300:
            return None
        return json.loads(answer[1])

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()


def login(port: int, email: str) -> str:
    """Sign in through the login form as a browser does; the Cookie header of the session."""
    from http.cookies import SimpleCookie

    jar = SimpleCookie()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/accounts/login/")
        response = connection.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        token = jar["csrftoken"].value
        form = urlencode({"username": email, "password": PASSWORD, "csrfmiddlewaretoken": token})
        connection.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={token}",
            },
        )
        response = connection.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
    finally:
        connection.close()
    if response.status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"signing in {email} failed: HTTP {response.status}")
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def make_photo(seed: str) -> bytes:
    """A small real JPEG, different for every seed: shapes and a label on a gradient."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    width, height = 960, 720
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        box = (x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=colour)
    draw.text((20, 20), seed, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@dataclass
class Pushed:
    """What the phones sent, to check against the database afterwards: what the server
    acknowledged (it must be there exactly once) apart from what went out in a request that
    failed or an operation it refused (the phone keeps those and sends them again: they may
    be there or not, but never twice)."""

    milestones: set[int] = field(default_factory=set)
    defects: list[str] = field(default_factory=list)
    readings: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    answers: list[tuple[int, str, str]] = field(default_factory=list)  # milestone, item, value
    unacked: dict[str, list] = field(
        default_factory=lambda: {"defects": [], "readings": [], "ops": [], "answers": []}
    )
    photos: dict[str, str] = field(default_factory=dict)  # photo uuid -> sha256, uploaded
    unfinished: list[str] = field(default_factory=list)  # photo uuids of failed uploads
    unfinished_uploads: list[str] = field(default_factory=list)  # their upload ids

    def add(self, other: "Pushed") -> None:
        self.milestones |= other.milestones
        self.defects += other.defects
        self.readings += other.readings
        self.ops += other.ops
        self.answers += other.answers
        for kind, values in other.unacked.items():
            self.unacked[kind] += values
        self.photos |= other.photos
        self.unfinished += other.unfinished
        self.unfinished_uploads += other.unfinished_uploads

    def spec(self) -> dict:
        return {
            "milestones": sorted(self.milestones),
            "defects": self.defects,
            "readings": self.readings,
            "ops": self.ops,
            "answers": self.answers,
            "unacked": self.unacked,
            "photos": self.photos,
            "unfinished": self.unfinished,
        }


def op(kind: str, base: int, **data) -> dict:
    return {"id": str(uuid.uuid4()), "kind": kind, "base_revision": base, "data": data}


def inspect(me: dict, phone: Balanced, buyer: Balanced, rounds: int, every: int, photos, pushed):
    """One inspector's rounds: sync a few records, upload a photo, now and then the dashboard."""
    milestone, revision, device = me["milestone"], me["revision"], str(uuid.uuid4())
    chunk = me["chunk_bytes"]
    for number in range(rounds):
        defect = str(uuid.uuid4())
        readings = [str(uuid.uuid4()), str(uuid.uuid4())]
        item_code, kind = me["items"][number % len(me["items"])]
        value = str(number + 1) if kind == "number" else ""
        ops = [
            op(
                "defect",
                revision,
                uuid=defect,
                description=f"Loose thread, round {number + 1}",
                defect_class=("minor", "major")[number % 2],
                quantity=1,
            ),
            op(
                "reading",
                revision,
                uuid=readings[0],
                chart=me["chart"],
                sample_unit=number + 1,
                point_code="H",
                value="45.2",
                unit="cm",
            ),
            op(
                "reading",
                revision,
                uuid=readings[1],
                chart=me["chart"],
                sample_unit=number + 1,
                point_code="W",
                value="30.1",
                unit="cm",
            ),
            op("answer", revision, item_code=item_code, result="pass", value=value),
        ]
        # What each operation adds, by the uuid it is checked by afterwards.
        records = [
            ("defects", defect),
            ("readings", readings[0]),
            ("readings", readings[1]),
            ("answers", (milestone, item_code, value)),
        ]
        pushed.milestones.add(milestone)
        path = f"/api/field/milestones/{milestone}/sync"
        answer = phone.json("field sync", "POST", path, {"device": device, "ops": ops})
        applied = set()
        if answer is not None:
            revision = answer["revision"]
            for ack in answer["acks"]:
                if ack["status"] == "applied":
                    applied.add(ack["id"])
                else:
                    phone.recorder.failures.append(
                        Sample("field sync", 0, 200, 0.0, f"op {ack['status']}: {ack['errors']}")
                    )
        for sent, (kind, record) in zip(ops, records, strict=True):
            if sent["id"] in applied:
                pushed.ops.append(sent["id"])
                getattr(pushed, kind).append(record)
            else:
                pushed.unacked["ops"].append(sent["id"])
                pushed.unacked[kind].append(record)
        linked = ops[0]["id"] in applied  # the defect the photo shows is on the server
        upload(me, phone, photos[number], chunk, defect if linked else None, pushed)
        if every and (number + 1) % every == 0:
            buyer.request("dashboard", "GET", "/dashboard/")


def upload(me: dict, phone: Balanced, data: bytes, chunk: int, defect, pushed: Pushed) -> None:
    photo, digest = str(uuid.uuid4()), hashlib.sha256(data).hexdigest()
    declared = phone.json(
        "upload declare",
        "POST",
        "/api/field/uploads",
        {
            "id": str(uuid.uuid4()),
            "milestone": me["milestone"],
            "photo": photo,
            "part": "photo",
            "size": len(data),
            "sha256": digest,
            "name": f"IMG_{photo[:8]}.jpg",
            "caption": "Stitching, front panel",
            "defect": defect,
        },
    )
    if declared is None:
        pushed.unfinished.append(photo)
        return
    offset, state = declared["received"], declared
    while offset < len(data):
        answer = phone.request(
            "upload chunk",
            "PUT",
            f"/api/field/uploads/{declared['id']}?offset={offset}",
            data[offset : offset + chunk],
            {"Content-Type": "application/octet-stream"},
        )
        if answer is None or answer[0] != 200:
            pushed.unfinished.append(photo)  # the phone would resume it from `received`
            pushed.unfinished_uploads.append(declared["id"])
            return
        state = json.loads(answer[1])
        offset = state["received"]
    if state["done"] and state["sha256"] == digest:
        pushed.photos[photo] = digest
    else:
        pushed.unfinished.append(photo)
        phone.recorder.failures.append(
            Sample("upload chunk", 0, 200, 0.0, f"photo {photo} not done after its last chunk")
        )


def run_load(people: list[dict], ports: list[int], options: Options, snapshot=dict) -> tuple:
    """All inspectors at once; returns the recorder, what was pushed, the seconds, when the
    load started (epoch) and the CPU time used meanwhile (`snapshot()`: CPU so far)."""
    recorder, pushed = Recorder(), Pushed()
    photos = {
        person["milestone"]: [
            make_photo(f"{person['email']} round {n} {secrets.token_hex(4)}")
            for n in range(options.rounds)
        ]
        for person in people
    }
    devices = []
    for index, person in enumerate(people):
        token = {"Authorization": f"Bearer {person['token']}"}
        phone = Balanced(ports, index, recorder, token)
        buyer = Balanced(ports, index + 1, recorder, {"Cookie": person["cookie"]})
        devices.append((person, phone, buyer))
    # Warm-up, not timed: each phone asks the session route (its chunk size) on every server.
    for person, phone, _ in devices:
        for _ in ports:
            answer = phone.request("warm-up", "GET", "/api/field/session")
            if answer is None or answer[0] != 200:
                raise RuntimeError(f"warm-up failed for {person['email']}: {answer}")
            person["chunk_bytes"] = min(json.loads(answer[1])["chunk_bytes"], 1 << 21)
    recorder.samples.clear()
    recorder.connections = 0
    barrier = threading.Barrier(len(devices) + 1)
    crashed: list[BaseException] = []

    sent: list[Pushed] = []

    def one(person, phone, buyer):
        mine = Pushed()  # one per thread, added up once all are done
        sent.append(mine)
        barrier.wait()
        try:
            inspect(
                person,
                phone,
                buyer,
                options.rounds,
                options.dashboard_every,
                photos[person["milestone"]],
                mine,
            )
        except BaseException as error:  # a bug in this script, not a failed request
            crashed.append(error)
        finally:
            phone.close()
            buyer.close()

    threads = [threading.Thread(target=one, args=device, daemon=True) for device in devices]
    for thread in threads:
        thread.start()
    cpu = snapshot()
    barrier.wait()
    started_at, started = time.time(), time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    cpu = cpu_used(cpu, snapshot())
    if crashed:
        raise crashed[0]
    for mine in sent:
        pushed.add(mine)
    return recorder, pushed, seconds, started_at, cpu


# --- the figures ----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def endpoint_rows(recorder: Recorder, seconds: float) -> list[dict]:
    rows = []
    failures = {}
    for sample in recorder.failures:
        failures[sample.endpoint] = failures.get(sample.endpoint, 0) + 1
    for name in [*ENDPOINTS, "overall"]:
        samples = [s for s in recorder.samples if name in ("overall", s.endpoint)]
        errors = failures.get(name, 0) if name != "overall" else len(recorder.failures)
        times = [s.seconds * 1000 for s in samples]
        rows.append(
            {
                "endpoint": name,
                "requests": len(samples),
                "rate": len(samples) / seconds if seconds else 0.0,
                "p50": percentile(times, 0.50),
                "p95": percentile(times, 0.95),
                "max": max(times) if times else float("nan"),
                "errors": errors,
            }
        )
    return rows


def print_table(phases: list[dict], out) -> None:
    out(
        f"\n{'setup':<22}{'endpoint':<16}{'requests':>9}{'req/s':>9}{'p50 ms':>9}"
        f"{'p95 ms':>9}{'max ms':>9}{'errors':>8}"
    )
    for phase in phases:
        for row in phase["rows"]:
            p50, p95, top = (
                f"{row[k]:>9.0f}" if row["requests"] else f"{'-':>9}" for k in ("p50", "p95", "max")
            )
            out(
                f"{phase['label']:<22}{row['endpoint']:<16}{row['requests']:>9}"
                f"{row['rate']:>9.1f}{p50}{p95}{top}{row['errors']:>8}"
            )


# --- one setup: start, load, drain, check, stop ---------------------------------------------------


def queue_state(redis_url: str) -> dict[str, int]:
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    connection = Redis.from_url(redis_url)
    try:
        queue = Queue("default", connection=connection)
        return {
            "queued": queue.count,
            "started": StartedJobRegistry(queue=queue).count,
            "scheduled": ScheduledJobRegistry(queue=queue).count,
        }
    finally:
        connection.close()


def worker_names(redis_url: str, pids: list[int], seconds: float = 60.0) -> dict[int, str]:
    """The RQ names of the worker processes, once each has registered."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    deadline = time.monotonic() + seconds
    try:
        while True:
            known = {w.pid: w.name for w in Worker.all(connection=connection)}
            if all(pid in known for pid in pids):
                return {pid: known[pid] for pid in pids}
            if time.monotonic() > deadline:
                raise RuntimeError(f"RQ workers {pids} did not register (known: {known})")
            time.sleep(0.3)
    finally:
        connection.close()


def jobs_by_worker(redis_url: str, names: dict[int, str], retries: int = 3) -> dict:
    """Finished and failed jobs of this setup's workers, by worker and task (`retries`: the
    backend's QCLOOP_TASK_RETRIES, 3 by default)."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job
    from rq.registry import FailedJobRegistry, FinishedJobRegistry
    from rq.serializers import JSONSerializer

    connection = Redis.from_url(redis_url)
    try:
        queue = Queue("default", connection=connection, serializer=JSONSerializer)
        result = {pid: {"ingest_photo": 0, "other": 0} for pid in names}
        by_name = {name: pid for pid, name in names.items()}
        retried = 0
        finished = FinishedJobRegistry(queue=queue).get_job_ids()
        for job in Job.fetch_many(finished, connection=connection, serializer=JSONSerializer):
            if job is not None and job.worker_name in by_name:
                task = "ingest_photo" if job.description == "ingest_photo" else "other"
                result[by_name[job.worker_name]][task] += 1
                # A job that failed and then passed on RQ's retry: an error all the same.
                retried += job.retries_left is not None and job.retries_left < retries
        failed = FailedJobRegistry(queue=queue).get_job_ids()
        failed_jobs = Job.fetch_many(failed, connection=connection, serializer=JSONSerializer)
        return {
            "by_worker": result,
            "retried": retried,
            "failed": [j.description for j in failed_jobs if j is not None],
        }
    finally:
        connection.close()


def drain_and_verify(env, folder: Path, pushed: Pushed, options: Options, label: str) -> dict:
    """Wait (bounded) until the queue is empty and every photo processed; then the check."""
    spec = folder / f"pushed-{label}.json"
    spec.write_text(json.dumps(pushed.spec()))
    deadline = time.monotonic() + options.drain_seconds
    while True:
        calm = 0
        while calm < 2 and time.monotonic() < deadline:
            state = queue_state(options.redis_url)
            calm = calm + 1 if not any(state.values()) else 0
            time.sleep(0.5)
        check = json.loads(
            run_child([PYTHON, __file__, "--child", "verify", str(spec)], env, "the check")
        )
        if check["photos"]["pending"] == 0 or time.monotonic() > deadline:
            check["queue"] = queue_state(options.redis_url)
            return check
        time.sleep(1)


def run_setup(label, servers, workers, people, env, children, folder, options, out) -> dict:
    out(f"\n== {label}: starting {servers} app server(s) and {workers} worker(s) ...")
    begun = time.perf_counter()
    webs, ports = [], []
    for index in range(servers):
        port = free_port()
        child_env = {**env, "QCLOOP_DATA_DIR": data_dir(folder, f"{label}-web{index + 1}")}
        args = [PYTHON, "-m", "qcloop", "web", "--host", "127.0.0.1", "--port", str(port)]
        args += ["--workers", str(options.web_workers)]
        webs.append(children.start(f"{label}-web{index + 1}", args, child_env))
        ports.append(port)
    rq_workers = [
        children.start(
            f"{label}-worker{index + 1}",
            [PYTHON, "-m", "qcloop", "worker"],
            {**env, "QCLOOP_DATA_DIR": data_dir(folder, f"{label}-worker{index + 1}")},
        )
        for index in range(workers)
    ]
    try:
        for web, port in zip(webs, ports, strict=True):
            wait_ready(web, port)
        names = worker_names(options.redis_url, [w.process.pid for w in rq_workers])
        ready = time.perf_counter() - begun
        for index, person in enumerate(people):
            person["cookie"] = login(ports[index % len(ports)], person["buyer_email"])
        out(
            f"   /readyz 200 on ports {', '.join(map(str, ports))} after {ready:.1f} s; workers "
            f"{', '.join(str(w.process.pid) for w in rq_workers)}; buyers signed in; "
            f"{len(people)} inspectors x {options.rounds} rounds ..."
        )
        groups = {
            "app servers": [web.process.pid for web in webs],
            "RQ workers": [worker.process.pid for worker in rq_workers],
            "moto (S3)": [child.process.pid for child in children.running if child.name == "moto"],
        }

        def snapshot():
            return cpu_seconds(groups)

        recorder, pushed, seconds, started_at, cpu = run_load(people, ports, options, snapshot)
        out(f"   load done in {seconds:.1f} s; waiting for the queue to drain ...")
        before, drain_started = snapshot(), time.perf_counter()
        check = drain_and_verify(env, folder, pushed, options, label)
        drain = (time.perf_counter() - drain_started, cpu_used(before, snapshot()))
        out(f"   drained and checked in {drain[0]:.1f} s; stopping ...")
        jobs = jobs_by_worker(options.redis_url, names)
        problems = []
        for child in [*webs, *rq_workers]:
            if child.process.poll() is not None:
                problems.append(f"{child.name} exited early ({child.process.returncode})")
        logged = {child.name: tracebacks(child.log) for child in [*webs, *rq_workers]}
    finally:
        for child in [*rq_workers, *webs]:
            children.stop(child)
    return {
        "label": label,
        "servers": servers,
        "workers": workers,
        "seconds": seconds,
        "started_at": started_at,
        "rows": endpoint_rows(recorder, seconds),
        "failures": recorder.failures,
        "connections": recorder.connections,
        "by_port": {port: sum(s.port == port for s in recorder.samples) for port in ports},
        "cpu": cpu,
        "drain": drain,
        "pushed": pushed,
        "check": check,
        "jobs": jobs,
        "ports": ports,
        "problems": problems,
        "tracebacks": {name: found for name, found in logged.items() if found},
    }


def data_dir(folder: Path, name: str) -> str:
    """A data dir of the process's own, holding a copy of the collected static files (as each
    machine's image would)."""
    path = folder / "data" / name
    shutil.copytree(folder / "data" / "build" / "static", path / "static")
    return str(path)


def verdict(phase: dict) -> list[str]:
    """What is wrong with a setup's run (empty when nothing)."""
    check, pushed, wrong = phase["check"], phase["pushed"], []
    if phase["failures"]:
        wrong.append(f"{len(phase['failures'])} request errors")
    for kind in ("defects", "readings", "ops"):
        part = check[kind]
        if part["once"] != part["pushed"] or part["extra"] or part["duplicated"]:
            wrong.append(f"{kind}: {part}")
    answers = check["answers"]
    if answers["once"] != answers["items"] or answers["stale"]:
        wrong.append(f"answers: {answers}")
    photos = check["photos"]
    expected = len(pushed.photos)
    if pushed.unfinished:
        wrong.append(f"photos: {len(pushed.unfinished)} uploads did not complete")
    if photos["ready_with_files"] != expected or photos["duplicated"] or photos["missing"]:
        wrong.append(f"photos: {photos}")
    if photos["uploads_open"] or photos["chunks_left"]:
        wrong.append(f"uploads not closed: {photos}")
    if check["bucket"]["staging_left"]:
        wrong.append(f"staged files left in the bucket: {check['bucket']}")
    ingests = [counts["ingest_photo"] for counts in phase["jobs"]["by_worker"].values()]
    if sum(ingests) != expected:
        wrong.append(f"ingest jobs finished {sum(ingests)}, photos uploaded {expected}")
    if phase["jobs"]["retried"]:
        wrong.append(f"{phase['jobs']['retried']} jobs passed only on a retry")
    if len(ingests) > 1 and expected >= 2 * len(ingests) and not all(ingests):
        wrong.append(f"not every worker ran ingest jobs: {phase['jobs']['by_worker']}")
    if phase["jobs"]["failed"]:
        wrong.append(f"failed jobs: {phase['jobs']['failed']}")
    wrong += phase["problems"]
    return wrong


def print_checks(phase: dict, out) -> None:
    check, label = phase["check"], phase["label"]
    d, r, o, a, p = (check[k] for k in ("defects", "readings", "ops", "answers", "photos"))
    records = {k: d[k] + r[k] for k in d}
    unacked = ""
    if records["unacked"] or o["unacked"]:
        unacked = (
            f" (and {records['unacked']} sent in failed requests or refused, not acknowledged: "
            f"{records['unacked_present']} of them present, for the phone to send again)"
        )
    out(
        f"{label}: records (defects + readings, by uuid): {records['pushed']} pushed and "
        f"acknowledged, {records['once']} present once, {records['missing']} missing, "
        f"{records['duplicated']} duplicated, {records['extra']} extra{unacked}; sync ops: "
        f"{o['pushed']} applied, {o['once']} receipts once; checklist answers: {a['once']} of "
        f"{a['items']} items once, {a['stale']} stale"
    )
    out(
        f"{label}: photos: {len(phase['pushed'].photos)} uploaded ({p['unfinished']} uploads "
        f"broken off), {p['present']} present once "
        f"({p['missing']} missing, {p['duplicated']} duplicated), {p['ready']} ready, "
        f"{p['ready_with_files']} with the SHA-256 sent and its 3 files in the bucket, "
        f"{p['pending']} pending, {p['rejected']} rejected; uploads open {p['uploads_open']}, "
        f"chunks left {p['chunks_left']}; staged/chunk objects left in the bucket "
        f"{check['bucket']['staging_left']}"
    )
    last = p["last_ready_at"]
    after = f"{last - phase['started_at']:.1f} s" if last else "-"
    workers = "; ".join(
        f"pid {pid}: {counts['ingest_photo']} ingest + {counts['other']} other"
        for pid, counts in phase["jobs"]["by_worker"].items()
    )
    out(
        f"{label}: jobs by worker process: {workers}; failed {len(phase['jobs']['failed'])}, "
        f"retried {phase['jobs']['retried']}; "
        f"queue after drain {check['queue']}; last photo ready {after} after the load started "
        f"(load {phase['seconds']:.1f} s); {phase['connections']} TCP connections opened during "
        f"the load (keep-alive)"
    )
    cores = os.cpu_count() or 1
    drain_seconds, drain_cpu = phase["drain"]
    out(
        f"{label}: CPU seconds during the load ({cores} cores x {phase['seconds']:.1f} s = "
        f"{cores * phase['seconds']:.0f} available): {cpu_line(phase['cpu'])}; while draining "
        f"and checking ({drain_seconds:.1f} s): {cpu_line(drain_cpu)}"
    )


def cpu_line(used: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.1f}" for name, seconds in used.items()) or "-"


# --- the whole run --------------------------------------------------------------------------------


def child_env(base: dict[str, str], database_url: str, options: Options, s3: str, bucket: str):
    env = {k: v for k, v in base.items() if k not in DROPPED and not k.startswith(DROPPED_PREFIXES)}
    env.update(
        DJANGO_SETTINGS_MODULE="qcloop.settings",
        PYTHONUNBUFFERED="1",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        QCLOOP_TASKS="rq",
        REDIS_URL=options.redis_url,
        QCLOOP_S3_BUCKET=bucket,
        QCLOOP_S3_ENDPOINT_URL=s3,
        QCLOOP_S3_REGION="us-east-1",
        QCLOOP_FIELD_CHUNK_BYTES=str(options.chunk_kb * 1024),
        **S3_KEYS,
    )
    return env


def run(options: Options, base_env: dict[str, str] | None = None, out=print) -> dict:
    """The whole benchmark; returns every setup's figures and checks and `ok`. Raises
    Unavailable when PostgreSQL, Redis or moto_server is missing."""
    import psycopg
    from redis import Redis

    if options.rounds > 125:
        raise ValueError("at most 125 rounds: a DUPRO samples 125 units, one reading per round")
    problems = unavailable(options)
    if problems:
        raise Unavailable("; ".join(problems))
    base_env = dict(os.environ if base_env is None else base_env)
    setups = [("2 web + 2 workers", 2, 2)]
    if options.compare:
        setups.append(("1 web + 1 worker", 1, 1))
    name = f"qcloop_scale_{secrets.token_hex(6)}"
    redis = Redis.from_url(options.redis_url)
    with contextlib.ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="qcloop-scale-"))
        if options.keep:
            out(f"keeping the processes' logs and data dirs in {folder}")
        else:
            stack.callback(shutil.rmtree, folder, True)
        with psycopg.connect(f"{options.pg}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        if not options.keep:
            stack.callback(drop_database, options.pg, name)
        redis.flushdb()
        stack.callback(redis.close)
        stack.callback(redis.flushdb)
        children = Children(folder)
        stack.callback(children.stop_all)
        s3 = start_moto(children)
        bucket = f"qcloop-scale-{secrets.token_hex(4)}"
        s3_client(s3).create_bucket(Bucket=bucket)
        env = child_env(base_env, f"{options.pg}/{name}", options, s3, bucket)
        out(
            f"cores: {os.cpu_count()}; database {name}, Redis {options.redis_url}, bucket "
            f"{bucket} on {s3}; migrating ..."
        )
        started = time.perf_counter()
        build = {**env, "QCLOOP_DATA_DIR": str(folder / "data" / "build")}
        static = subprocess.Popen(
            [PYTHON, "-m", "qcloop", "manage", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=build,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            run_child([PYTHON, "-m", "qcloop", "manage", "migrate", "--noinput"], build, "migrate")
        finally:
            _, errors = static.communicate(timeout=300)
        if static.returncode != 0:
            raise RuntimeError(f"collectstatic failed:\n{tail(errors.decode())}")
        migrated = time.perf_counter() - started
        count = options.inspectors * len(setups)
        out(f"migrated in {migrated:.0f} s; seeding {count} inspectors' tenants ...")
        # The seeding's own background jobs (the booking and QC lead mails) go to the database
        # backend, which nothing here runs: neither setup's workers carry them.
        seeding = {**build, "QCLOOP_TASKS": "db"}
        seeded = json.loads(
            run_child(
                [PYTHON, __file__, "--child", "seed", str(count)], seeding, "seeding", timeout=900
            )
        )
        out(f"seeded in {time.perf_counter() - started - migrated:.0f} s")
        phases = []
        for index, (label, servers, workers) in enumerate(setups):
            people = seeded[index * options.inspectors : (index + 1) * options.inspectors]
            phase = run_setup(label, servers, workers, people, env, children, folder, options, out)
            keys = bucket_keys(s3_client(s3), bucket)
            # The chunks of an upload broken off stay for the phone to resume (and for the
            # sweeper, later): not a leftover.
            resumable = tuple(f"field-uploads/{u}/" for u in phase["pushed"].unfinished_uploads)
            staged = [k for k in keys if k.startswith(("field-uploads/", "uploads/"))]
            phase["check"]["bucket"] = {
                "objects": len(keys),
                "staging_left": sum(not key.startswith(resumable) for key in staged),
            }
            phases.append(phase)
        return report(phases, options, out)


def drop_database(pg: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(phases: list[dict], options: Options, out) -> dict:
    out(
        f"\n{options.inspectors} inspectors at once, {options.rounds} rounds each: per round a "
        f"field sync (4 ops) and a photo in {options.chunk_kb} KiB chunks; the buyer's "
        f"dashboard every {options.dashboard_every} rounds. Round-robin over the app servers "
        f"({options.web_workers} gunicorn workers x 4 threads each), no retries; errors = "
        f"non-2xx, connection errors and sync ops not acknowledged 'applied'."
    )
    print_table(phases, out)
    out("")
    wrong = {}
    for phase in phases:
        print_checks(phase, out)
        wrong[phase["label"]] = verdict(phase)
    if len(phases) == 2:
        (big, small) = phases
        rate = [next(r for r in p["rows"] if r["endpoint"] == "overall") for p in phases]
        ingest_big = len(big["pushed"].photos) / max(
            1e-9, (big["check"]["photos"]["last_ready_at"] or 0) - big["started_at"]
        )
        ingest_small = len(small["pushed"].photos) / max(
            1e-9, (small["check"]["photos"]["last_ready_at"] or 0) - small["started_at"]
        )
        out(
            f"\nthroughput 2+2 / 1+1: {rate[0]['rate'] / rate[1]['rate']:.2f}x requests/s "
            f"({rate[0]['rate']:.1f} vs {rate[1]['rate']:.1f}); p95 {rate[0]['p95']:.0f} vs "
            f"{rate[1]['p95']:.0f} ms; photos ready per second from the load's start "
            f"{ingest_big:.1f} vs {ingest_small:.1f} ({ingest_big / ingest_small:.2f}x)."
        )
        out(
            f"Noisy {os.cpu_count()}-core machine: every process (both setups' servers, workers, "
            f"PostgreSQL, Redis, moto and the {options.inspectors} client threads) shares the "
            "same cores, so read ratios, not absolute figures; the 2+2 setup ran first."
        )
    for label, problems in wrong.items():
        phase = next(p for p in phases if p["label"] == label)
        for sample in phase["failures"][:5]:
            out(f"{label}: ERROR {sample.endpoint} port {sample.port}: {sample.error}")
        for name, found in phase["tracebacks"].items():
            for text in found:
                out(f"{label}: {name} logged:\n{text}")
        for problem in problems:
            out(f"{label}: FAILED {problem}")
    ok = not any(wrong.values())
    out("\nOK: no errors, everything present exactly once and processed." if ok else "\nFAILED")
    return {"ok": ok, "phases": phases, "problems": wrong}


# --- the children's parts (run with the same environment, Django set up from it) ------------------


def child_seed(count: int) -> None:
    """`count` tenants, each with its inspector's DUPRO in progress; prints them as JSON."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.test.utils import override_settings

    # Seven users a tenant, each hashed with Argon2, would be most of the seeding time: this
    # throwaway process hashes with PBKDF2 at few rounds instead. The app servers verify such
    # a hash (PBKDF2 is in their list) and rehash it with Argon2 at the buyer's sign-in,
    # before the load starts.
    PBKDF2PasswordHasher.iterations = 1000
    hashers = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=hashers):
        people = [seed_one(index) for index in range(count)]
    print(json.dumps(people))


def seed_one(index: int) -> dict:
    from qcloop.accounts.models import Role
    from qcloop.accounts.services import create_api_token
    from qcloop.inspections.models import MeasurementChart
    from qcloop.testing import build_world, start_inspection

    world = build_world(f"s{index}")
    point = {"minus": "1", "plus": "1", "unit": "cm"}
    chart = MeasurementChart.objects.create(
        product=world.product,
        points=[
            {"code": "H", "name": "Height", "spec": "45", **point},
            {"code": "W", "name": "Width", "spec": "30", **point},
        ],
    )
    dupro = start_inspection(world, "DUPRO")  # booked, sampled (125 units), in progress
    _, token = create_api_token(user=world.inspector, name="phone")
    if dupro.checklist is None:
        raise RuntimeError(f"the DUPRO of {world.po.number} has no checklist to answer")
    return {
        "email": world.inspector.email,
        "token": token,
        "milestone": dupro.pk,
        "revision": dupro.revision,
        "chart": chart.pk,
        "items": [(item["code"], item.get("answer", "")) for item in dupro.checklist.items],
        "buyer_email": world.user(Role.BUYER_MANAGER).email,
    }


def child_verify(path: str) -> None:
    """Count what the phones sent in the database and the bucket; prints the counts as JSON."""
    from collections import Counter

    from django.core.files.storage import default_storage
    from django.db.models import Count

    from qcloop.field.models import FieldUpload, SyncReceipt
    from qcloop.inspections.models import CheckAnswer, Defect, MeasurementReading, PhotoAttachment

    spec = json.loads(Path(path).read_text())
    in_milestones = {"milestone_id__in": spec["milestones"]}

    def once(model, key: str, kind: str) -> dict:
        sent, unacked = spec[kind], spec["unacked"][kind]
        rows = model.objects.filter(**{f"{key}__in": sent + unacked}).values(key)
        counts = {str(row[key]): row["n"] for row in rows.annotate(n=Count("id"))}
        mine = model.objects.filter(**in_milestones)
        return {
            "pushed": len(sent),
            "once": sum(1 for value in sent if counts.get(value) == 1),
            "missing": sum(1 for value in sent if value not in counts),
            "duplicated": sum(n - 1 for n in counts.values() if n > 1),
            "unacked": len(unacked),
            "unacked_present": sum(1 for value in unacked if value in counts),
            # Rows at these milestones that no phone sent.
            "extra": mine.exclude(**{f"{key}__in": sent + unacked}).count(),
        }

    result = {
        "defects": once(Defect, "uuid", "defects"),
        "readings": once(MeasurementReading, "uuid", "readings"),
        "ops": once(SyncReceipt, "op_id", "ops"),
    }
    last = {(m, item): value for m, item, value in spec["answers"]}
    uncertain = {(m, item) for m, item, _ in spec["unacked"]["answers"]}
    rows, stale = Counter(), 0
    for answer in CheckAnswer.objects.filter(**in_milestones):
        key = (answer.milestone_id, answer.item_code)
        rows[key] += 1
        stale += key in last and key not in uncertain and answer.value != last[key]
    result["answers"] = {
        "items": len(last),
        "once": sum(1 for key in last if rows[key] == 1),
        "stale": stale,
    }
    sent, unfinished = spec["photos"], spec["unfinished"]
    attachments = PhotoAttachment.objects.filter(uuid__in=[*sent, *unfinished])
    attachments = list(attachments.select_related("photo"))
    seen = Counter(str(a.uuid) for a in attachments)
    ready = [a for a in attachments if a.status == "ready" and a.photo is not None]
    with_files = 0
    for attachment in ready:
        photo, expected = attachment.photo, sent.get(str(attachment.uuid))
        names = (photo.original, photo.rendition, photo.thumbnail)
        if photo.sha256 == expected and all(map(default_storage.exists, names)):
            with_files += 1
    uploads = FieldUpload.objects.filter(photo_uuid__in=list(sent))
    last_ready = max((a.photo.created_at for a in ready), default=None)
    result["photos"] = {
        "present": sum(1 for value in sent if seen[value] == 1),
        "missing": sum(1 for value in sent if value not in seen),
        "duplicated": sum(n - 1 for n in seen.values() if n > 1),
        "ready": sum(1 for a in ready if str(a.uuid) in sent),
        "ready_with_files": with_files,
        "pending": sum(a.status == "pending" for a in attachments),
        "rejected": sum(a.status == "rejected" for a in attachments),
        "uploads_open": uploads.filter(completed_at__isnull=True).count(),
        "chunks_left": sum(1 for u in uploads if u.chunks),
        "unfinished": len(unfinished),
        "last_ready_at": last_ready.timestamp() if last_ready else None,
    }
    print(json.dumps(result))


def child_main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    kind, argument = argv
    if kind == "seed":
        child_seed(int(argument))
    else:
        child_verify(argument)
    return 0


# --- the command line -----------------------------------------------------------------------------


def parse(argv: list[str]) -> Options:
    defaults = Options()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inspectors", type=int, default=defaults.inspectors)
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--dashboard-every", type=int, default=defaults.dashboard_every)
    parser.add_argument("--chunk-kb", type=int, default=defaults.chunk_kb)
    parser.add_argument(
        "--compare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the same load on one app server and one worker (default: on)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and the folder of logs"
    )
    parser.add_argument("--pg", default=defaults.pg)
    parser.add_argument("--redis", default=defaults.redis)
    parser.add_argument("--redis-db", type=int, default=defaults.redis_db)
    parser.add_argument("--web-workers", type=int, default=defaults.web_workers)
    args = parser.parse_args(argv)
    return Options(
        inspectors=args.inspectors,
        rounds=args.rounds,
        dashboard_every=args.dashboard_every,
        chunk_kb=args.chunk_kb,
        compare=args.compare,
        keep=args.keep,
        pg=args.pg.rstrip("/"),
        redis=args.redis,
        redis_db=args.redis_db,
        web_workers=args.web_workers,
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    options = parse(argv)

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C and SIGTERM both end in the cleanup (stop every child, drop the database), also
    # when started in the background, where a shell leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop)
    started = time.perf_counter()
    try:
        outcome = run(options)
    except Unavailable as missing:
        print(f"cannot run: {missing}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: every process stopped, what the run made removed", file=sys.stderr)
        return 130
    print(f"total {time.perf_counter() - started:.0f} s (setup, both loads, checks, cleanup)")
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
