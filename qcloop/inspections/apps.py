from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "qcloop.inspections"
    label = "inspections"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import selectors  # noqa: F401  registers the tenancy gates

        post_migrate.connect(_install_library, sender=self)


def _install_library(**kwargs):
    from .library import install_defect_library

    install_defect_library()
