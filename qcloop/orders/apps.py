from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "qcloop.orders"
    label = "orders"

    def ready(self):
        from . import selectors  # noqa: F401  registers the tenancy gates
