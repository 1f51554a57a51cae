from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running qcloop: health, metrics, logs, the Redis task backend, backups."""

    name = "qcloop.ops"
    label = "ops"
    verbose_name = "qcloop operations"
