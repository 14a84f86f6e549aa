from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Loads the demonstration data (`manage.py load_demo`)."""

    name = "clinic.demo"
    label = "demo"
    verbose_name = "Demonstration data"
