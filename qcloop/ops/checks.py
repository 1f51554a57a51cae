"""Readiness: can this app server do its work right now? A load balancer sends it traffic
only while every dependency answers: the database (migrated to this code's schema), the file
storage, and the background queue."""

import time
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends


def database() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        # Serving before `migrate` ran would answer with errors: not ready yet.
        raise RuntimeError(f"{len(pending)} migrations not applied, first {pending[0][0]}")
    return "ok"


def storage() -> str:
    """Write, read back and delete a small file: a bucket that lists but refuses writes is
    not ready for photos."""
    name = f"health/{uuid.uuid4().hex}"
    saved = default_storage.save(name, ContentFile(b"ok"))
    try:
        with default_storage.open(saved, "rb") as handle:
            if handle.read() != b"ok":
                raise RuntimeError("the storage returned other bytes than were written")
    finally:
        default_storage.delete(saved)
    return "ok"


def queue() -> str:
    from qcloop.ops.tasks_backend import RQBackend

    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if isinstance(backend, RQBackend):
        backend.connection.ping()
    return "ok"


CHECKS = {"database": database, "storage": storage, "queue": queue}


def run() -> tuple[bool, dict[str, dict]]:
    results, ready = {}, True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            outcome = {"status": check()}
        except Exception as error:  # any failure of a dependency means "not ready"
            ready = False
            outcome = {"status": "error", "error": f"{type(error).__name__}: {error}"[:300]}
        outcome["ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = outcome
    return ready, results
