"""What the machines around qcloop read: liveness, readiness with each dependency named,
request ids in the logs and headers, and the metrics an operator watches, hand-checked."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from qcloop.alerts.models import Escalation, Notification
from qcloop.ops import logs
from qcloop.ops.metrics import Metric, quantile, render
from qcloop.reports.models import Report

from . import jobs

TOKEN = "scrape-" + "x" * 32


def test_liveness_asks_nothing_of_the_dependencies(client):
    response = client.get("/livez")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_database_storage_and_queue_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert {body[name]["status"] for name in ("database", "storage", "queue")} == {"ok"}


@pytest.mark.django_db
def test_not_ready_names_the_storage_that_refuses_writes(client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker)},
        },
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["status"] == "ok" and body["queue"]["status"] == "ok"
    assert body["storage"]["status"] == "error" and body["storage"]["error"]


@pytest.mark.django_db
def test_not_ready_when_redis_is_down(client, settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "qcloop.ops.tasks_backend.RQBackend",
            "OPTIONS": {"URL": "redis://127.0.0.1:1/0"},  # nothing listens on port 1
        }
    }
    body = client.get("/readyz").json()
    assert body["status"] == "error" and body["queue"]["status"] == "error"
    assert "Connection" in body["queue"]["error"]


@pytest.mark.django_db
def test_a_request_id_is_kept_from_the_load_balancer_or_made_and_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="qcloop.request"):
        given = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-7f3a9c01")
        made = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id; drop table")
    assert given["X-Request-ID"] == "lb-7f3a9c01"
    assert made["X-Request-ID"] != "bad id; drop table" and len(made["X-Request-ID"]) == 32
    first, second = (r for r in caplog.records if r.name == "qcloop.request")
    assert first.request_id == "lb-7f3a9c01" and first.status == 200
    assert first.path == "/accounts/login/" and first.duration_ms >= 0
    assert second.request_id == made["X-Request-ID"]


def test_a_json_log_line_carries_the_request_id_and_the_extras():
    token = logs.request_id.set("req-12345678")
    try:
        record = logging.LogRecord(
            "qcloop.x", logging.WARNING, __file__, 1, "PO %s late", ("A1",), None
        )
        record.po = "A1"
        logs.RequestIdFilter().filter(record)
        line = json.loads(logs.JsonFormatter().format(record))
    finally:
        logs.request_id.reset(token)
    assert line["message"] == "PO A1 late" and line["level"] == "WARNING"
    assert line["request_id"] == "req-12345678" and line["po"] == "A1"
    assert line["time"].endswith("+00:00")


def test_a_job_carries_the_request_id_that_queued_it(rq_tasks):
    from rq.job import Job
    from rq.serializers import JSONSerializer

    token = logs.request_id.set("req-abcdef01")
    try:
        queued = jobs.add.enqueue(1, 1)
    finally:
        logs.request_id.reset(token)
    job = Job.fetch(queued.id, connection=rq_tasks.connection, serializer=JSONSerializer)
    assert job.meta["request_id"] == "req-abcdef01"


def test_quantiles_by_nearest_rank():
    twenty = [float(n) for n in range(1, 21)]
    assert quantile(twenty, 0.5) == 10.0
    assert quantile(twenty, 0.95) == 19.0  # ceil(0.95 * 20) = 19, not 20 from float noise
    assert quantile(twenty, 1.0) == 20.0
    assert quantile([7.0], 0.95) == 7.0 and quantile([], 0.95) == 0.0


def test_the_text_format_escapes_labels():
    text = render([Metric("m", "Help.").add(1.5, queue='a"b').add(2)])
    assert text == '# HELP m Help.\n# TYPE m gauge\nm{queue="a\\"b"} 1.5\nm 2\n'


def test_metrics_need_the_token(client, settings):
    settings.QCLOOP_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.QCLOOP_METRICS_TOKEN = TOKEN
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404


@pytest.mark.django_db
def test_metrics_count_the_backlog_the_escalation_latency_and_the_report_sla(
    world, client, settings
):
    settings.QCLOOP_METRICS_TOKEN = TOKEN
    now = timezone.now()
    for index, seconds in enumerate([20, 40, 60, 600]):
        raised = now - timedelta(hours=1, minutes=index)
        escalation = Escalation.objects.create(
            buyer=world.po.buyer,
            po=world.po,
            supplier=world.po.supplier,
            kind="critical",
            source=f"metrics:{index}",
            title="Exposed live wire",
            raised_at=raised,
            ack_due_at=now - timedelta(minutes=1) if index == 0 else now + timedelta(hours=1),
        )
        Notification.objects.create(
            escalation=escalation,
            channel_kind="email",
            target=f"buyer{index}@example.com",
            status="sent",
            sent_at=raised + timedelta(seconds=seconds),
        )
    Report.objects.filter(po=world.po).delete()
    milestones = world.milestones
    Report.objects.create(  # open and overdue
        po=world.po,
        milestone=milestones["IPC"],
        kind="milestone",
        clock_started_at=now - timedelta(hours=30),
        due_at=now - timedelta(hours=6),
    )
    Report.objects.create(  # published on time
        po=world.po,
        milestone=milestones["DUPRO"],
        kind="milestone",
        clock_started_at=now - timedelta(days=3),
        due_at=now - timedelta(days=2),
        published_at=now - timedelta(days=2, hours=3),
    )
    Report.objects.create(  # published late
        po=world.po,
        milestone=milestones["PSI"],
        kind="milestone",
        clock_started_at=now - timedelta(days=5),
        due_at=now - timedelta(days=4),
        published_at=now - timedelta(days=3),
    )
    jobs.add.enqueue(1, 2)  # the test settings' database queue

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    figures = dict(
        line.rsplit(" ", 1) for line in response.text.splitlines() if not line.startswith("#")
    )
    assert figures['qcloop_escalation_latency_seconds{quantile="0.5"}'] == "40"
    assert figures['qcloop_escalation_latency_seconds{quantile="0.95"}'] == "600"
    assert figures["qcloop_escalations_sent_24h"] == "4"
    assert figures["qcloop_escalations_unacknowledged_overdue"] == "1"
    assert figures["qcloop_reports_open"] == "1" and figures["qcloop_reports_overdue"] == "1"
    assert figures['qcloop_reports_published_30d{sla="met"}'] == "1"
    assert figures['qcloop_reports_published_30d{sla="missed"}'] == "1"
    assert figures["qcloop_report_sla_ratio"] == "0.5"
    assert int(figures['qcloop_task_queue_depth{backend="db",queue="*"}']) >= 1
