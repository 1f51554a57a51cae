from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "qcloop.analytics"
    label = "analytics"
    verbose_name = "Quality intelligence"

    def ready(self):
        from . import selectors  # noqa: F401  registers the tenancy gates
