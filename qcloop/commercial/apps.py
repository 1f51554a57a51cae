from django.apps import AppConfig


class CommercialConfig(AppConfig):
    name = "qcloop.commercial"
    label = "commercial"
    verbose_name = "Service recommendation and quotes"

    def ready(self):
        from . import selectors  # noqa: F401  registers the tenancy gates
