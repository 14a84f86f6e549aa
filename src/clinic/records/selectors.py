"""Reads of patient records: every one checks access and leaves an audit entry."""

from __future__ import annotations

from django.db.models import Q

from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record, audit_record_many
from clinic.records.access import (
    Access,
    DataCategory,
    access_patient_data,
    access_patient_list,
    refuse,
)
from clinic.records.models import Patient

PATIENT_LIST_LIMIT = 100
SEARCH_MAX_LENGTH = 100


class PatientNotFound(Exception):  # noqa: N818 - reads as the event
    """No patient has that identifier."""


def patient_for_user(
    *, context: AuditContext, patient_id: int, category: DataCategory = DataCategory.DEMOGRAPHICS
) -> Patient:
    """The patient, if the actor may read this category of their data.

    Raises PatientNotFound or AccessRefused; both are audited.
    """
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type="patient",
            object_id=patient_id,
            detail="no such patient",
        )
        raise PatientNotFound
    allowed = access_patient_data(
        context.actor, patient_user_id=patient.user_id, category=category, access=Access.READ
    )
    if not allowed:
        raise refuse(
            context,
            object_type="patient",
            object_id=patient.pk,
            patient=patient,
            detail=f"{category.value} read refused",
        )
    audit_record(
        context=context,
        action=AuditAction.READ,
        outcome=AuditOutcome.ALLOWED,
        object_type="patient",
        object_id=patient.pk,
        patient=patient,
        detail=f"{category.value} read",
    )
    return patient


def patient_own_record(*, context: AuditContext) -> Patient | None:
    """The signed-in patient's own record (audited), or ``None`` when they have none."""
    actor = context.actor
    patient = Patient.objects.filter(user=actor).first() if actor is not None else None
    if patient is None:
        return None
    return patient_for_user(context=context, patient_id=patient.pk)


def patients_for_user(*, context: AuditContext, search: str = "") -> list[Patient]:
    """Patients matching the search (name, hospital number or NHS number), first
    PATIENT_LIST_LIMIT; reception and clinicians only. Each patient listed gets an entry."""
    if not access_patient_list(context.actor):
        raise refuse(context, object_type="patient_list", detail="list refused")
    patients = Patient.objects.all()
    for word in search.split()[:5]:
        digits = word.replace("-", "")
        patients = patients.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(hospital_number__iexact=word)
            | Q(nhs_number=digits)
        )
    listed = list(patients[:PATIENT_LIST_LIMIT])
    audit_record_many(
        context=context,
        action=AuditAction.READ,
        object_type="patient",
        patients=listed,
        detail=f"listed in a search for {search!r}" if search else "listed",
    )
    return listed
