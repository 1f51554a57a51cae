from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "qcloop.inspections"
    label = "inspections"

    def ready(self):
        from . import selectors  # noqa: F401  registers the tenancy gates
