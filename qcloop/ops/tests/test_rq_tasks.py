"""Background work on Redis through RQ, as several workers on several machines run it: tasks
queued by the product's own code, run by `qcloop worker` processes, retried when a worker dies
in the middle of a report, and finished once. Real Redis, real worker processes, a real SMTP
server on loopback."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.tasks import TaskResultStatus
from rq import Worker
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from conftest import child_database_url, media_root, subprocess_env
from qcloop.reports.models import Delivery, Report, ReportVersion
from qcloop.reports.services import add_recipient, approve
from qcloop.testing import submit_inspection_of

from . import jobs

BUYERS = ["ana@buyer.example", "bo@buyer.example"]
pytestmark = pytest.mark.django_db(transaction=True)


def worker_env(redis_url: str, smtp=None, **extra) -> dict[str, str]:
    env = subprocess_env(
        QCLOOP_TASKS="rq",
        REDIS_URL=redis_url,
        QCLOOP_TASK_RETRIES="2",
        QCLOOP_TASK_RETRY_INTERVALS="0",
        DATABASE_URL=child_database_url(),
        QCLOOP_MEDIA_ROOT=media_root(),
        SECRET_KEY=settings.SECRET_KEY,
        **extra,
    )
    if smtp is not None:
        env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp), EMAIL_USE_TLS="false")
    return env


def run_burst(env: dict[str, str]) -> str:
    """`qcloop worker --burst`: everything queued is run, then the worker stops."""
    done = subprocess.run(
        [sys.executable, "-m", "qcloop", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_a_task_runs_on_a_worker_and_its_result_is_read_back(rq_tasks, redis_url):
    queued = jobs.add.enqueue(2, 3)
    assert queued.status == TaskResultStatus.READY
    assert rq_tasks.queued_count() == 1

    run_burst(worker_env(redis_url))

    done = jobs.add.get_result(queued.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == 5
    assert done.args == [2, 3] and done.worker_ids
    assert done.enqueued_at <= done.started_at <= done.finished_at
    assert rq_tasks.queued_count() == 0


def test_a_failing_task_is_retried_then_kept_as_failed_with_its_error(rq_tasks, redis_url):
    queued = jobs.lose_the_answer.enqueue()
    output = run_burst(worker_env(redis_url))

    failed = jobs.lose_the_answer.get_result(queued.id)
    assert failed.status == TaskResultStatus.FAILED
    [error] = failed.errors
    assert error.exception_class is LookupError
    assert "the factory's answer is missing" in error.traceback
    job = Job.fetch(queued.id, connection=rq_tasks.connection, serializer=JSONSerializer)
    assert job.retries_left == 0
    assert output.count("LookupError") >= 3, "tried once and retried twice"


def test_a_worker_killed_while_it_renders_a_report_is_retried_and_mails_once(
    world, smtp_server, rq_tasks, redis_url, tmp_path
):
    for address in BUYERS:
        add_recipient(world.buyer, {"email": address, "attach_pdf": True})
    psi = submit_inspection_of(world, "PSI", defects=[("major", 2, "Shade scratched")])
    env = worker_env(redis_url, smtp=smtp_server_port())
    run_burst(env)  # the booking's and the submission's mails
    smtp_server.messages.clear()

    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "qcloop", "worker"],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: Worker.count(connection=rq_tasks.connection) == 1, seconds=60)
        time.sleep(1)  # its scheduler process started: that child is not a work horse
        idle = set(children_of(worker.pid))
        report = Report.objects.get(milestone=psi)
        version = approve(by=world.qc_lead, report=report)  # queues the PDF, then the mails
        killed = kill_the_work_horse_mid_job(rq_tasks, worker.pid, idle)
        wait_until(lambda: sent_to_everyone(version), seconds=180)
        time.sleep(2)  # anything that would go twice has had time to
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    output = log.read_text()

    assert "Work-horse terminated unexpectedly" in output, output
    job = Job.fetch(killed, connection=rq_tasks.connection, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    assert job.retries_left == 1, "one retry spent on the killed attempt"
    version.refresh_from_db()
    assert version.pdf_sha256
    assert pdf_files_of(version) == 1, "one PDF, not one per attempt"
    counts = {}
    for _sender, recipients, _content in smtp_server.messages:
        for address in recipients:
            counts[address] = counts.get(address, 0) + 1
    assert counts == dict.fromkeys(BUYERS, 1)


def test_a_job_of_a_worker_that_vanished_is_requeued_by_the_next_worker(rq_tasks, redis_url):
    """The whole worker (not only its work horse) dies with its machine in the middle of a job:
    the job stays marked as started until the dead worker's heartbeat expires; the next
    worker's maintenance then requeues it. RQ's own cleanup is asked to look past that expiry
    (90 s) rather than the test waiting it out."""
    queued = jobs.linger.enqueue(3)
    env = worker_env(redis_url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "qcloop", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: jobs.linger.get_result(queued.id).status == "RUNNING", seconds=60)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the machine is gone: no goodbye, no cleanup
        worker.wait(timeout=30)
    time.sleep(0.5)
    assert jobs.linger.get_result(queued.id).status == TaskResultStatus.RUNNING

    StartedJobRegistry(queue=rq_tasks.queue("default")).cleanup(timestamp=time.time() + 120)
    assert jobs.linger.get_result(queued.id).status == TaskResultStatus.READY
    run_burst(env)

    done = jobs.linger.get_result(queued.id)
    assert done.status == TaskResultStatus.SUCCESSFUL and done.return_value == "done"


# --- helpers -----------------------------------------------------------------------------------


def smtp_server_port() -> int:
    return settings.MAILERS["default"]["OPTIONS"]["port"]


def kill_the_work_horse_mid_job(backend, worker_pid: int, idle: set[int]) -> str:
    """SIGKILL the process running the PDF job (the worker's child that was not there while
    it was idle) as soon as it has started, as the kernel's out-of-memory killer would; the id
    of the job it was running."""
    registry = StartedJobRegistry(queue=backend.queue("default"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=backend.connection, serializer=JSONSerializer)
            horses = sorted(set(children_of(worker_pid)) - idle)
            if job.args[0].endswith("render_report_pdf") and horses:
                os.kill(horses[0], signal.SIGKILL)
                return job_id
        time.sleep(0.02)
    raise AssertionError("the worker never started the report's PDF")


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def wait_until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def sent_to_everyone(version: ReportVersion) -> bool:
    return Delivery.objects.filter(version=version, status="sent").count() == len(BUYERS)


def pdf_files_of(version: ReportVersion) -> int:
    version.refresh_from_db()
    folder = Path(media_root()) / Path(version.pdf).parent
    return sum(1 for path in folder.iterdir() if path.suffix == ".pdf")
