"""Writes to patient records: each checks access, runs in one transaction, and is audited. A
merged duplicate record is not changed (merged.RecordMerged, 409, audited)."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from clinic.records.access import (
    Access,
    AccessRefused,
    DataCategory,
    access_create_patient,
    access_patient_data,
    refuse,
)
from clinic.records.duplicates import (
    DuplicateCandidate,
    Person,
    duplicates_for_user,
    likely_duplicates,
)
from clinic.records.merged import refusal_audited, refuse_if_merged
from clinic.records.models import Patient

HOSPITAL_NUMBER_PREFIX = "DC"
DUPLICATE_NHS_NUMBER = "Another patient already has this NHS number."


@dataclass(frozen=True)
class PatientDetails:
    """Validated demographics, as forms and the API hand them over."""

    given_name: str
    family_name: str
    date_of_birth: date
    nhs_number: str | None = None
    email: str = ""
    phone: str = ""
    address: str = ""
    postcode: str = ""
    gp_name: str = ""
    gp_practice: str = ""
    gp_address: str = ""
    gp_email: str = ""
    referrer_name: str = ""
    referrer_organisation: str = ""
    referrer_address: str = ""
    referrer_email: str = ""
    consents_to_email: bool = True
    consents_to_gp_letters: bool = True
    consents_to_research_contact: bool = False
    consent_recorded_on: date | None = None
    date_of_death: date | None = None
    discharged_on: date | None = None

    @property
    def person(self) -> Person:
        """What duplicate detection compares."""
        return Person(self.given_name, self.family_name, self.date_of_birth)


class PatientConflict(Exception):  # noqa: N818 - reads as the event
    """The write would duplicate a unique identifier; ``field`` names it."""

    def __init__(self, *, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class PossibleDuplicates(Exception):  # noqa: N818 - reads as the event
    """Existing patients look like the one being registered; the caller shows them and asks
    for confirmation (``confirm_not_duplicate``) before registering."""

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        self.candidates = candidates
        super().__init__(f"{len(candidates)} patients look alike")


def _new_hospital_number() -> str:
    return f"{HOSPITAL_NUMBER_PREFIX}{secrets.randbelow(10**7):07d}"


def _check_nhs_number_free(nhs_number: str | None, *, except_pk: int | None = None) -> None:
    if not nhs_number:
        return
    others = Patient.objects.filter(nhs_number=nhs_number)
    if except_pk is not None:
        others = others.exclude(pk=except_pk)
    if others.exists():
        raise PatientConflict(field="nhs_number", message=DUPLICATE_NHS_NUMBER)


def _insert(details: PatientDetails, **extra: object) -> Patient:
    """Insert with a fresh hospital number; the unique constraint settles any collision."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Patient.objects.create(
                    hospital_number=_new_hospital_number(), **asdict(details), **extra
                )
        except IntegrityError:
            _check_nhs_number_free(details.nhs_number)
    raise PatientConflict(field="hospital_number", message="Could not allocate a hospital number.")


def _refuse(
    context: AuditContext, action: AuditAction, patient: Patient | None, detail: str
) -> AccessRefused:
    return refuse(
        context,
        action=action,
        object_type="patient",
        object_id=patient.pk if patient else "",
        patient=patient,
        detail=detail,
    )


IDENTITY_FIELDS = ("given_name", "family_name", "date_of_birth", "nhs_number")
# Whether the unit still cares for the patient is for staff to record, not the patient.
CARE_FIELDS = ("date_of_death", "discharged_on")
CONSENT_FIELDS = ("consents_to_email", "consents_to_gp_letters", "consents_to_research_contact")


def _changed(patient: Patient, details: PatientDetails, names: tuple[str, ...]) -> bool:
    return any(getattr(patient, name) != getattr(details, name) for name in names)


def _identity_changed(patient: Patient, details: PatientDetails) -> bool:
    return _changed(patient, details, IDENTITY_FIELDS)


def patient_create(
    *, context: AuditContext, details: PatientDetails, confirm_not_duplicate: bool = False
) -> Patient:
    """Register a patient (reception and clinicians). Unless ``confirm_not_duplicate``,
    raises PossibleDuplicates (the look-alikes shown are audited) when existing patients look
    like this one (duplicates.py); a confirmed registration names them in its audit entry."""
    if not access_create_patient(context.actor):
        raise _refuse(context, AuditAction.CREATE, None, "create refused")
    _check_nhs_number_free(details.nhs_number)
    if not confirm_not_duplicate:
        candidates = duplicates_for_user(context=context, new=details.person)
        if candidates:
            raise PossibleDuplicates(candidates)
    with transaction.atomic():
        look_alikes = likely_duplicates(details.person) if confirm_not_duplicate else []
        patient = _insert(details)
        detail = "registered"
        if look_alikes:
            numbers = ", ".join(c.patient.hospital_number for c in look_alikes)
            detail = f"registered; confirmed not the same person as {numbers}"
        audit_record(
            context=context,
            action=AuditAction.CREATE,
            outcome=AuditOutcome.ALLOWED,
            object_type="patient",
            object_id=patient.pk,
            patient=patient,
            detail=detail,
        )
    return patient


def _with_consent_date(patient: Patient, details: PatientDetails) -> PatientDetails:
    """A change of consent is a consent recorded today, unless a date was given with it."""
    consent_changed = _changed(patient, details, CONSENT_FIELDS)
    date_given = details.consent_recorded_on != patient.consent_recorded_on
    if consent_changed and not date_given:
        return replace(details, consent_recorded_on=timezone.localdate())
    return details


def patient_update(*, context: AuditContext, patient_id: int, details: PatientDetails) -> Patient:
    """Change a patient's demographics (reception, clinicians, or the patient themselves).
    Raises AccessRefused or RecordMerged (audited), or PatientConflict."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise _refuse(context, AuditAction.UPDATE, None, f"no such patient {patient_id}")
    allowed = access_patient_data(
        context.actor,
        patient_user_id=patient.user_id,
        category=DataCategory.DEMOGRAPHICS,
        access=Access.WRITE,
    )
    if not allowed:
        raise _refuse(context, AuditAction.UPDATE, patient, "demographics update refused")
    actor = context.actor
    if actor is not None and actor.role == Role.PATIENT and _identity_changed(patient, details):
        # Patients keep their contact details up to date; identity is checked by staff.
        raise _refuse(context, AuditAction.UPDATE, patient, "identity change by patient refused")
    if actor is not None and actor.role == Role.PATIENT and _changed(patient, details, CARE_FIELDS):
        raise _refuse(context, AuditAction.UPDATE, patient, "care dates change by patient refused")
    with refusal_audited(context, AuditAction.UPDATE, patient, patient, object_type="patient"):
        refuse_if_merged(patient)
        _check_nhs_number_free(details.nhs_number, except_pk=patient.pk)
        with transaction.atomic():
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            refuse_if_merged(locked)  # merged since it was read above
            details = _with_consent_date(locked, details)
            changed = [
                name for name, value in asdict(details).items() if getattr(locked, name) != value
            ]
            for name, value in asdict(details).items():
                setattr(locked, name, value)
            locked.save()
            audit_record(
                context=context,
                action=AuditAction.UPDATE,
                outcome=AuditOutcome.ALLOWED,
                object_type="patient",
                object_id=locked.pk,
                patient=locked,
                detail="changed: " + (", ".join(changed) or "nothing"),
            )
    return locked


def patient_self_register(*, context: AuditContext, user: User, details: PatientDetails) -> Patient:
    """The record a patient's own sign-up creates, linked to their account; flagged so
    staff can check it against existing records. Call inside the sign-up transaction."""
    patient = _insert(details, user=user, registered_by_patient=True)
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        outcome=AuditOutcome.ALLOWED,
        object_type="patient",
        object_id=patient.pk,
        patient=patient,
        detail="self-registered at sign-up",
    )
    return patient
