"""The figures an operator watches, in Prometheus's text format: the background backlog, how
fast critical findings reach the buyer, and whether reports meet their turnaround.

Each figure is computed when scraped, from indexed columns and bounded windows (the last 24
hours of escalations, 30 days of reports), so a scrape stays cheap at 100,000 POs a year."""

import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import F
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django.utils import timezone

ESCALATION_WINDOW = timedelta(hours=24)
REPORT_WINDOW = timedelta(days=30)


@dataclass
class Metric:
    name: str
    help: str
    kind: str = "gauge"
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> "Metric":
        self.samples.append((labels, value))
        return self


def render(metrics: list[Metric]) -> str:
    """Prometheus text exposition format 0.0.4."""
    lines = []
    for metric in metrics:
        lines += [f"# HELP {metric.name} {metric.help}", f"# TYPE {metric.name} {metric.kind}"]
        for labels, value in metric.samples:
            inside = ",".join(f'{key}="{_escape(val)}"' for key, val in sorted(labels.items()))
            lines.append(
                f"{metric.name}{{{inside}}} {_number(value)}"
                if inside
                else f"{metric.name} {_number(value)}"
            )
    return "\n".join(lines) + "\n"


def quantile(values: list[float], q: float) -> float:
    """The q-quantile by the nearest-rank method (no interpolation: a latency that happened)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = math.ceil(round(q * len(ordered), 9))  # round: 0.95 * 20 is 19.000000000000004
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def collect() -> list[Metric]:
    return [*task_metrics(), *escalation_metrics(), *report_metrics()]


def task_metrics() -> list[Metric]:
    from qcloop.ops.tasks_backend import RQBackend

    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    depth = Metric("qcloop_task_queue_depth", "Background jobs waiting to run.")
    failed = Metric("qcloop_task_failed", "Background jobs that failed and were kept.")
    if isinstance(backend, RQBackend):
        from rq.registry import FailedJobRegistry

        for name in sorted(backend.queues):
            queue = backend.queue(name)
            depth.add(queue.count, queue=name, backend="rq")
            failed.add(FailedJobRegistry(queue=queue).count, queue=name, backend="rq")
    else:
        from django_tasks_db.models import DBTaskResult

        depth.add(DBTaskResult.objects.ready().count(), queue="*", backend="db")
        failed.add(DBTaskResult.objects.failed().count(), queue="*", backend="db")
    return [depth, failed]


def escalation_metrics() -> list[Metric]:
    from qcloop.alerts.models import Escalation, Notification, NotificationStatus

    now = timezone.now()
    since = now - ESCALATION_WINDOW
    latencies = [
        (sent - raised).total_seconds()
        for raised, sent in Notification.objects.filter(
            round=1, level=1, sent_at__gte=since, escalation__raised_at__gte=since
        ).values_list("escalation__raised_at", "sent_at")
    ]
    latency = Metric(
        "qcloop_escalation_latency_seconds",
        "From a critical finding to its first notification handed to the channel, last 24 h.",
    )
    for q in (0.5, 0.95, 1.0):
        latency.add(quantile(latencies, q), quantile=str(q))
    waiting = Notification.objects.filter(
        status__in=[
            NotificationStatus.PENDING,
            NotificationStatus.FAILED,
            NotificationStatus.SENDING,
        ]
    )
    return [
        latency,
        Metric("qcloop_escalations_sent_24h", "Escalations notified in the last 24 h.").add(
            len(latencies)
        ),
        Metric("qcloop_notifications_waiting", "Escalation notifications not yet sent.").add(
            waiting.count()
        ),
        Metric(
            "qcloop_escalations_unacknowledged_overdue",
            "Escalations past their acknowledgement deadline that nobody acknowledged.",
        ).add(Escalation.objects.filter(acknowledged_at__isnull=True, ack_due_at__lt=now).count()),
    ]


def report_metrics() -> list[Metric]:
    from qcloop.reports.models import Report

    now = timezone.now()
    unpublished = Report.objects.filter(published_at__isnull=True)
    recent = Report.objects.filter(published_at__gte=now - REPORT_WINDOW)
    on_time = recent.filter(published_at__lte=F("due_at")).count()
    total = recent.count()
    return [
        Metric("qcloop_reports_open", "Reports not yet published.").add(unpublished.count()),
        Metric("qcloop_reports_overdue", "Unpublished reports past their due time.").add(
            unpublished.filter(due_at__lt=now).count()
        ),
        Metric("qcloop_reports_published_30d", "Reports first published in the last 30 days.")
        .add(on_time, sla="met")
        .add(total - on_time, sla="missed"),
        Metric(
            "qcloop_report_sla_ratio", "Share of the last 30 days' reports published on time."
        ).add(on_time / total if total else 1.0),
    ]


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
