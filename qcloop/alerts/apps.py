from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "qcloop.alerts"
    label = "alerts"
    verbose_name = "Escalations"

    def ready(self):
        from . import selectors  # noqa: F401  registers the tenancy gates
