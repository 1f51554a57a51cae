from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "qcloop.reports"
    label = "reports"

    def ready(self):
        from . import selectors  # noqa: F401  registers the tenancy gates
