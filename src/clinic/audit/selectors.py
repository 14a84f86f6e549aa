"""Reads of the audit trail: the administrators' search, and a patient's own access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from clinic.audit.models import AuditEntry
from clinic.records.access import AccessRefused, access_audit_log, refusal_reveals
from clinic.records.models import Patient

EXPORT_ROW_LIMIT = 50_000


@dataclass(frozen=True)
class AuditFilters:
    """What the administrators' search narrows by; empty means any."""

    actor_email: str = ""
    hospital_number: str = ""
    outcome: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries_for_admin(*, user: object, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Entries matching the filters, newest first; administrators only."""
    if not access_audit_log(user):
        raise AccessRefused(reveal=refusal_reveals(user))
    entries = AuditEntry.objects.select_related("patient")
    if filters.actor_email:
        entries = entries.filter(actor_email__icontains=filters.actor_email)
    if filters.hospital_number:
        entries = entries.filter(patient__hospital_number__iexact=filters.hospital_number)
    if filters.outcome:
        entries = entries.filter(outcome=filters.outcome)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.date_from:
        entries = entries.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to:
        entries = entries.filter(at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return entries


def access_log_for_patient(*, patient: Patient) -> QuerySet[AuditEntry]:
    """Who has read or changed this patient's record, newest first (for the patient)."""
    return AuditEntry.objects.filter(patient=patient)
