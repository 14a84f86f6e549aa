"""Reads of patient records: every one checks access and leaves an audit entry."""

from __future__ import annotations

import re

from django.db.models import Exists, OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record, audit_record_many
from clinic.records.access import (
    Access,
    DataCategory,
    access_patient_data,
    access_patient_list,
    refuse,
)
from clinic.records.models import (
    ClassificationReview,
    Diagnosis,
    DiagnosisKind,
    Patient,
    ReviewDecision,
    VerificationStatus,
)
from dystonia.classification import NamedForm

PATIENT_LIST_LIMIT = 100
SEARCH_MAX_LENGTH = 100
SEARCH_WORDS = 5
UNKNOWN_FORM = "Choose a form of dystonia from the list."
# A word that looks like a code (G24.3, 8A02, 13753008) is also looked for among the codes.
_CODE_LIKE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.]*")


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


def _diagnosis_matches(term: str) -> Exists:
    """The patient has a diagnosis (not refuted, not entered in error) whose label has every
    word of ``term``, or one of whose codes starts with a code-like word."""
    diagnoses = Diagnosis.objects.filter(patient=OuterRef("pk")).exclude(
        verification_status__in=[VerificationStatus.REFUTED, VerificationStatus.ENTERED_IN_ERROR]
    )
    diagnoses = diagnoses.alias(codes_text=Cast("codes", TextField()))
    for word in term.split()[:SEARCH_WORDS]:
        match = Q(label__icontains=word)
        if _CODE_LIKE.fullmatch(word):
            # Code.as_dict() values are JSON strings: a code starting with the word follows a
            # quotation mark, on SQLite and PostgreSQL alike.
            match |= Q(codes_text__icontains=f'"{word}')
        diagnoses = diagnoses.filter(match)
    return Exists(diagnoses)


def _has_form(field: str, form: str) -> Q:
    """A space-separated list of form ids (ClassificationReview.forms) holding ``form``."""
    return (
        Q(**{field: form})
        | Q(**{f"{field}__startswith": f"{form} "})
        | Q(**{f"{field}__endswith": f" {form}"})
        | Q(**{f"{field}__contains": f" {form} "})
    )


def _form_matches(form: str) -> Q:
    """The form is among those of a current (newest of its encounter) classification review
    of the patient that was not overridden, or of a confirmed review behind one of their
    dystonia diagnoses (not refuted, not entered in error). An overridden review's forms are
    the ones the clinician rejected."""
    newest = (
        ClassificationReview.objects.filter(encounter=OuterRef("encounter"))
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    reviews = (
        ClassificationReview.objects.filter(encounter__patient=OuterRef("pk"))
        .filter(pk=Subquery(newest))
        .exclude(decision=ReviewDecision.OVERRIDDEN)
        .filter(_has_form("forms", form))
    )
    diagnoses = (
        Diagnosis.objects.filter(patient=OuterRef("pk"), kind=DiagnosisKind.DYSTONIA)
        .exclude(
            verification_status__in=[
                VerificationStatus.REFUTED,
                VerificationStatus.ENTERED_IN_ERROR,
            ]
        )
        .filter(classification_review__decision=ReviewDecision.CONFIRMED)
        .filter(_has_form("classification_review__forms", form))
    )
    return Q(Exists(reviews)) | Q(Exists(diagnoses))


# The forms a clinician may search by, for a select.
FORM_CHOICES = [(form.value, form.label) for form in NamedForm]


def may_search_clinically(user: object) -> bool:
    """Clinicians (after two-factor) also search by diagnosis and form; reception never."""
    return access_patient_list(user) and getattr(user, "role", None) == Role.CLINICIAN


def _search_detail(search: str, *, clinical: bool) -> str:
    """The audit entry's detail: the name or number searched for, never a diagnosis or form
    (administrators read the trail and see no clinical data)."""
    parts = [f"for {search!r}"] if search else []
    if clinical:
        parts.append("by diagnosis or form")
    return f"listed in a search {' '.join(parts)}" if parts else "listed"


def patients_for_user(
    *, context: AuditContext, search: str = "", diagnosis: str = "", form: str = ""
) -> list[Patient]:
    """Patients matching the search (name, hospital number or NHS number), first
    PATIENT_LIST_LIMIT, never a merged duplicate; reception and clinicians only. Clinicians
    also search by ``diagnosis`` (words of a label, or a code such as G24.3) and by ``form``
    (a dystonia.classification.NamedForm value); anyone else asking so is refused, audited.
    Raises ValueError (UNKNOWN_FORM) for a form that is not one. Each patient listed gets an
    entry. One query, whatever the search, and one for the audit."""
    actor = context.actor
    if not access_patient_list(actor):
        raise refuse(context, object_type="patient_list", detail="list refused")
    clinical = bool(diagnosis.strip() or form)
    if clinical and not may_search_clinically(actor):
        raise refuse(context, object_type="patient_list", detail="clinical search refused")
    if form and form not in {f.value for f in NamedForm}:
        raise ValueError(UNKNOWN_FORM)
    patients = Patient.objects.filter(merged_into__isnull=True)
    for word in search.split()[:SEARCH_WORDS]:
        digits = word.replace("-", "")
        patients = patients.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(hospital_number__iexact=word)
            | Q(nhs_number=digits)
        )
    if diagnosis.strip():
        patients = patients.filter(_diagnosis_matches(diagnosis))
    if form:
        patients = patients.filter(_form_matches(form))
    listed = list(patients[:PATIENT_LIST_LIMIT])
    audit_record_many(
        context=context,
        action=AuditAction.READ,
        object_type="patient",
        patients=listed,
        detail=_search_detail(search, clinical=clinical),
    )
    return listed
