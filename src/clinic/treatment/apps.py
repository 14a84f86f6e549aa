from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    """Medication, therapy, deep brain stimulation and surgery (docs/treatment.md)."""

    name = "clinic.treatment"
    label = "treatment"
    verbose_name = "Treatment"

    def ready(self) -> None:
        # The patient timeline asks every registered source (records never imports treatment).
        from clinic.treatment import timeline_sources  # noqa: PLC0415 - needs the app registry

        timeline_sources.register()
