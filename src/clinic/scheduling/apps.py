from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    """Booking across the unit's sites."""

    name = "clinic.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
