from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit trail."""

    name = "clinic.audit"
    label = "audit"
    verbose_name = "Audit trail"
