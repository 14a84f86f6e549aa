"""The audit trail: one entry per read or write of patient data, allowed or refused.

Entries are never changed or deleted: the model and its queryset refuse, and database
triggers refuse updates (and, on PostgreSQL, deletes) too. See docs/audit.md.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone

APPEND_ONLY = "Audit entries are append-only: they cannot be changed or deleted."


class AuditAction(models.TextChoices):
    """What was done."""

    READ = "read", "Read"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    EXPORT = "export", "Export"


class AuditOutcome(models.TextChoices):
    """Whether access was allowed."""

    ALLOWED = "allowed", "Allowed"
    REFUSED = "refused", "Refused"


class AuditChannel(models.TextChoices):
    """Where the request came from."""

    WEB = "web", "Web page"
    API = "api", "JSON API"
    SYSTEM = "system", "System"


class AppendOnlyQuerySet(models.QuerySet["AuditEntry"]):
    """Refuses bulk updates and deletes."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError(APPEND_ONLY)

    def delete(self) -> NoReturn:
        raise PermissionError(APPEND_ONLY)


class AuditEntry(models.Model):
    """Who did what to which patient's data, when, from where, and whether it was allowed."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Copies taken at the time, so the entry reads the same after an account changes.
    actor_email = models.CharField(max_length=254, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    patient = models.ForeignKey(
        "records.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60, blank=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices)
    channel = models.CharField(max_length=10, choices=AuditChannel.choices)
    path = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-pk")
        verbose_name_plural = "audit entries"
        indexes: ClassVar = [models.Index(fields=("patient", "-at"), name="audit_patient_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_email} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError(APPEND_ONLY)
