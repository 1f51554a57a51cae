"""Structured logs: one JSON object a line, each with the request id that caused it.

A request gets an id (the load balancer's X-Request-ID when it sends a sane one, otherwise a
new one), answered back in the X-Request-ID header and carried by every log line written
while the request runs, and by the background jobs it queues: one id follows a report from
the click to the mail. QCLOOP_LOG_FORMAT=json turns the format on (docs/deploy.md)."""

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str] = ContextVar("request_id", default="")
SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# The attributes every LogRecord has; anything else on a record was passed as `extra`.
STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

log = logging.getLogger("qcloop.request")
PROBES = {"/health/", "/livez", "/readyz", "/metrics"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            {
                k: v
                for k, v in record.__dict__.items()
                if k not in STANDARD and not k.startswith("_")
            }
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RequestIdMiddleware:
    """First in the chain: the id exists before anything logs, and every request is logged
    once with its outcome and duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get("X-Request-ID", "")
        rid = offered if SANE_ID.match(offered) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            # A load balancer probes every few seconds: its lines would bury everything else.
            level = logging.DEBUG if request.path in PROBES else logging.INFO
            log.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": getattr(getattr(request, "user", None), "pk", None),
                },
            )
            return response
        finally:
            request_id.reset(token)
