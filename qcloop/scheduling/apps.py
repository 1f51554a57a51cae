from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "qcloop.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self):
        # The tenancy gates; the hooks by which counts re-plan and the QC lead is kept.
        from . import selectors, signals  # noqa: F401
