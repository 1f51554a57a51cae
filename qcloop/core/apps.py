from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "qcloop.core"
    label = "core"
    verbose_name = "qcloop core"
