from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users and their roles."""

    name = "clinic.accounts"
    label = "accounts"
    verbose_name = "Accounts"
