"""Background work on Redis through RQ: a `django.tasks` backend for several workers.

The default backend (django-tasks-db) keeps the queue in the database, which is right for one
machine. An agency with several app servers and workers sets `QCLOOP_TASKS=rq` and REDIS_URL:
tasks are then RQ jobs. RQ forks a work horse per job; a horse that dies (the out-of-memory
killer in the middle of a PDF) fails its job and RQ retries it, and a whole worker that
vanishes leaves its job in RQ's started registry, which the next worker's maintenance
requeues once the dead worker's heartbeat has expired. Tasks are written to be rerun
(reports, mails and ingests check what is already done), so a retried job finishes once.

Jobs are JSON, not pickles: what sits in Redis is data, never code to unpickle.
"""

from datetime import UTC, datetime
from functools import cached_property
from traceback import format_exception

from django.db import close_old_connections
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskContext, TaskError, TaskResult, TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from redis import Redis
from rq import Queue, Retry, Worker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from .logs import request_id

PERFORM = "qcloop.ops.tasks_backend.perform"
RQ_STATUS = {
    JobStatus.QUEUED: TaskResultStatus.READY,
    JobStatus.DEFERRED: TaskResultStatus.READY,
    JobStatus.SCHEDULED: TaskResultStatus.READY,
    JobStatus.STARTED: TaskResultStatus.RUNNING,
    JobStatus.FINISHED: TaskResultStatus.SUCCESSFUL,
    JobStatus.FAILED: TaskResultStatus.FAILED,
    JobStatus.STOPPED: TaskResultStatus.FAILED,
    JobStatus.CANCELED: TaskResultStatus.FAILED,
}


class RQBackend(BaseTaskBackend):
    supports_defer = True
    supports_get_result = True
    supports_priority = True  # a task above the default priority goes to the front

    def __init__(self, alias, params):
        super().__init__(alias, params)
        self.url = self.options.get("URL", "redis://127.0.0.1:6379/0")
        self.retries = int(self.options.get("RETRIES", 3))
        self.retry_intervals = list(self.options.get("RETRY_INTERVALS", [10, 60, 300]))
        self.job_timeout = int(self.options.get("JOB_TIMEOUT", 900))
        self.result_ttl = int(self.options.get("RESULT_TTL", 14 * 24 * 3600))

    @cached_property
    def connection(self) -> Redis:
        return Redis.from_url(self.url)

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.connection, serializer=JSONSerializer)

    def worker(self, queue_names=None, **options) -> Worker:
        names = sorted(queue_names or self.queues)
        # Maintenance every minute rather than RQ's ten: it requeues the jobs of dead workers.
        options.setdefault("maintenance_interval", 60)
        return Worker(
            [self.queue(name) for name in names],
            connection=self.connection,
            serializer=JSONSerializer,
            **options,
        )

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_string(32),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        options = {
            "args": (task.module_path, result.args, result.kwargs),
            "job_id": result.id,
            "retry": Retry(max=self.retries, interval=self.retry_intervals)
            if self.retries
            else None,
            "job_timeout": self.job_timeout,
            "result_ttl": self.result_ttl,
            "failure_ttl": self.result_ttl,
            "description": task.name,
            # The request that queued the job: its log lines carry the same id.
            "meta": {"request_id": request_id.get()},
        }
        queue = self.queue(task.queue_name)
        if task.run_after is not None:
            job = queue.enqueue_at(task.run_after, PERFORM, **options)
        else:
            job = queue.enqueue(PERFORM, at_front=task.priority > 0, **options)
        object.__setattr__(result, "enqueued_at", _aware(job.enqueued_at) or _now())
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id):
        try:
            job = Job.fetch(result_id, connection=self.connection, serializer=JSONSerializer)
        except NoSuchJobError:
            raise TaskResultDoesNotExist(result_id) from None
        return self._result_of(job)

    def _result_of(self, job: Job) -> TaskResult:
        module_path, args, kwargs = job.args
        status = RQ_STATUS.get(job.get_status(), TaskResultStatus.READY)
        errors = []
        if status == TaskResultStatus.FAILED:
            latest = job.latest_result()
            errors.append(
                TaskError(
                    exception_class_path=job.meta.get("exception", "builtins.Exception"),
                    traceback=(latest.exc_string if latest else "") or "",
                )
            )
        result = TaskResult(
            task=import_string(module_path),
            id=job.id,
            status=status,
            enqueued_at=_aware(job.enqueued_at),
            started_at=_aware(job.started_at),
            last_attempted_at=_aware(job.started_at),
            finished_at=_aware(job.ended_at),
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=errors,
            worker_ids=[job.worker_name] if job.worker_name else [],
        )
        if status == TaskResultStatus.SUCCESSFUL:
            object.__setattr__(result, "_return_value", job.return_value())
        return result

    def queued_count(self) -> int:
        """Jobs waiting in every queue of this backend (the metric of a backlog)."""
        return sum(self.queue(name).count for name in self.queues)


def perform(module_path: str, args: list, kwargs: dict):
    """Run one task inside an RQ work horse, with Django's connections handled as a request
    handles them, and the task signals sent as the other backends send them."""
    from django.tasks import task_backends

    task = import_string(module_path)
    backend = task_backends[task.backend]
    job = get_current_job()
    request_id.set(job.meta.get("request_id", ""))
    result = backend._result_of(job)
    object.__setattr__(result, "status", TaskResultStatus.RUNNING)
    close_old_connections()
    task_started.send(type(backend), task_result=result)
    try:
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
    except BaseException as error:
        job.meta["exception"] = f"{type(error).__module__}.{type(error).__qualname__}"
        job.save_meta()
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        result.errors.append(
            TaskError(job.meta["exception"], traceback="".join(format_exception(error)))
        )
        task_finished.send(type(backend), task_result=result)
        raise
    finally:
        close_old_connections()
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    task_finished.send(type(backend), task_result=result)
    return value


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
