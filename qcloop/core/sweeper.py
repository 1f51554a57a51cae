"""The sweeper: a loop that runs time-driven work that must not wait for a request.

Apps register sweeps in their `sweeps.py` with `@sweep("name")`. Every sweep must be safe to
run at any moment and from several sweeper processes at once (idempotent, or guarded by row
locks), because a deadline must not depend on a single process staying alive."""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import autodiscover_modules

log = logging.getLogger("qcloop.sweeper")
_sweeps: dict[str, Callable[[], object]] = {}


def sweep(name: str):
    def register(fn: Callable[[], object]) -> Callable[[], object]:
        _sweeps[name] = fn
        return fn

    return register


def registered_sweeps() -> dict[str, Callable[[], object]]:
    autodiscover_modules("sweeps")
    return dict(_sweeps)


def sweep_once() -> dict[str, object]:
    """Run every sweep once. One failing sweep is logged and does not stop the others."""
    results = {}
    for name, fn in registered_sweeps().items():
        try:
            results[name] = fn()
        except Exception:
            log.exception("sweep %s failed", name)
            results[name] = "failed"
    return results


def run_forever(interval: float | None = None, once: bool = False) -> None:
    interval = interval or settings.SWEEPER_INTERVAL_SECONDS
    log.info("sweeper started: %s every %ss", ", ".join(registered_sweeps()), interval)
    while True:
        started = time.monotonic()
        close_old_connections()  # a long-lived loop must not keep a dead connection
        results = sweep_once()
        log.debug("swept: %s", results)
        if once:
            return
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
