from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "qcloop.accounts"
    label = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self):
        from . import selectors  # noqa: F401  registers the tenancy gates
