"""The HTTP API under /api/, with OpenAPI docs at /api/docs."""

from ninja import NinjaAPI

api = NinjaAPI(title="qcloop API", version="1", urls_namespace="api")
