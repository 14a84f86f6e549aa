from django.apps import AppConfig


class InformationConfig(AppConfig):
    """Public information pages."""

    name = "clinic.information"
    label = "information"
    verbose_name = "Public information"
