from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """Patients and the clinical record."""

    name = "clinic.records"
    label = "records"
    verbose_name = "Patient records"
