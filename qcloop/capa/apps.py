from django.apps import AppConfig


class CapaConfig(AppConfig):
    name = "qcloop.capa"
    label = "capa"
    verbose_name = "Corrective actions"

    def ready(self):
        from . import selectors  # noqa: F401  registers the tenancy gates
