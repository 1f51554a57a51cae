from django.apps import AppConfig


class FieldConfig(AppConfig):
    name = "qcloop.field"
    label = "field"

    def ready(self):
        from . import selectors  # noqa: F401  registers the tenancy gates
