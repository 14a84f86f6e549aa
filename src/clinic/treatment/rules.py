"""What every treatment service shares: its refusal, the checks of text, days and choices, who
may read and write (clinicians only, as the rest of the clinical record: records.history's
check_clinician), audited refusals and lock errors as busy (records/locks.py), the merged-record
lock (records/merged.py), and the optional link to one of the patient's encounters.

A write is one transaction: lock_unmerged(patient) first, then the rows, then the audit entry;
a refusal is audited after the rollback (refusals_audited wraps the transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

from clinic.accounts.models import User
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records import selectors as records_selectors
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.history import audit_not_found, check_clinician
from clinic.records.locks import busy_as
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import Encounter, Patient
from clinic.scheduling.availability import local_today

T = TypeVar("T")

BAD_TEXT = "Enter text."
TEXT_TOO_LONG = "{label} can be at most {limit:,} characters."
REQUIRED = "{label}: this is required."
BAD_DATE = "Enter a real date, for example 31/03/2026."
IN_FUTURE = "{label} cannot be in the future."
BEFORE_BIRTH = "{label} cannot be before the patient's date of birth."
BAD_CHOICE = "{label}: choose from the list."
BAD_FLAG = "{label}: answer yes or no."
BAD_ENCOUNTER = "Choose one of this patient's encounters, or none."


class TreatmentRefused(ValueError):  # noqa: N818 - reads as the event
    """A treatment write cannot be done as asked: ``message`` says why, ``field`` names the
    input it is about (empty for the whole request), ``status`` is the HTTP answer (400 bad
    input, 409 a conflict with the record's state). ``reason`` is what the audit trail keeps
    (the message without any clinical detail)."""

    def __init__(
        self, message: str, *, field: str = "", status: int = 400, reason: str = ""
    ) -> None:
        self.message = message
        self.field = field
        self.status = status
        self.reason = reason or message
        super().__init__(message)


# Checking the input


def check_text(value: Any, *, field: str, label: str, limit: int, required: bool = False) -> str:
    """Text as stored: line endings made "\\n", NUL refused, at most ``limit`` characters,
    surrounding spaces trimmed; empty refused when ``required``."""
    if not isinstance(value, str):
        raise TreatmentRefused(BAD_TEXT, field=field)
    text = value.replace("\r\n", "\n")
    if "\x00" in text:
        raise TreatmentRefused(NUL_CHARACTER, field=field)
    if len(text) > limit:
        raise TreatmentRefused(TEXT_TOO_LONG.format(label=label, limit=limit), field=field)
    text = text.strip()
    if required and not text:
        raise TreatmentRefused(REQUIRED.format(label=label), field=field)
    return text


def check_day(
    value: Any,
    *,
    field: str,
    label: str,
    patient: Patient,
    required: bool = True,
    future: bool = False,
) -> date | None:
    """A day (a date, not a date-time), neither before the patient's birth nor, unless
    ``future``, after today (Europe/London)."""
    if value is None:
        if required:
            raise TreatmentRefused(REQUIRED.format(label=label), field=field)
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TreatmentRefused(BAD_DATE, field=field)
    if not future and value > local_today():
        raise TreatmentRefused(IN_FUTURE.format(label=label), field=field)
    if value < patient.date_of_birth:
        raise TreatmentRefused(BEFORE_BIRTH.format(label=label), field=field)
    return value


def required_day(value: Any, *, field: str, label: str, patient: Patient) -> date:
    """check_day for a day that must be given."""
    day = check_day(value, field=field, label=label, patient=patient)
    if day is None:  # pragma: no cover - check_day refuses None when required
        raise TreatmentRefused(REQUIRED.format(label=label), field=field)
    return day


def check_choice(value: Any, choices: Any, *, field: str, label: str) -> str:
    """One of ``choices`` (a TextChoices class or an iterable of values)."""
    allowed = {str(choice) for choice in getattr(choices, "values", choices)}
    if not isinstance(value, str) or value not in allowed:
        raise TreatmentRefused(BAD_CHOICE.format(label=label), field=field)
    return value


def check_flag(value: Any, *, field: str, label: str) -> bool:
    if not isinstance(value, bool):
        raise TreatmentRefused(BAD_FLAG.format(label=label), field=field)
    return value


def check_encounter(patient: Patient, encounter_id: Any) -> int | None:
    """The id of one of the patient's encounters, or None; another patient's, or an unknown
    id, is refused the same way (nothing about it is told)."""
    if encounter_id is None:
        return None
    if isinstance(encounter_id, bool) or not isinstance(encounter_id, int):
        raise TreatmentRefused(BAD_ENCOUNTER, field="encounter")
    if not Encounter.objects.filter(pk=encounter_id, patient_id=patient.pk).exists():
        raise TreatmentRefused(BAD_ENCOUNTER, field="encounter")
    return encounter_id


# Who, and auditing


def patient_for_treatment(
    *, context: AuditContext, patient_id: int, action: AuditAction, object_type: str
) -> tuple[Patient, User]:
    """The patient whose treatment a clinician reads or adds to, and the clinician. Raises
    records.selectors.PatientNotFound or AccessRefused (403 for staff), both audited."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        audit_not_found(context, "patient", patient_id, action)
        raise records_selectors.PatientNotFound
    clinician = check_clinician(context, patient, action, object_type=object_type)
    return patient, clinician


def found_for_clinician(
    context: AuditContext,
    *,
    find: Callable[[], T | None],
    patient_of: Callable[[T], Patient],
    object_type: str,
    object_id: int,
    action: AuditAction,
    not_found: type[Exception],
) -> tuple[T, User]:
    """A row asked for by its id, and the clinician asking. Nobody but a clinician learns
    whether it exists (404); an unknown id is audited and raises ``not_found``."""
    row = find()
    if row is None:
        audit_not_found(context, object_type, object_id, action)
        raise not_found
    clinician = check_clinician(
        context, patient_of(row), action, object_type=object_type, obj=row, by_id=True
    )
    return row, clinician


@contextmanager
def refusals_audited(
    context: AuditContext,
    action: AuditAction,
    obj: Any,
    patient: Patient,
    *,
    object_type: str,
) -> Iterator[None]:
    """Audit a TreatmentRefused raised in the block, then let it go on; a lock error is
    refused as busy (409); a merged record is refused (409) before anything else. Wrap the
    block around the transaction, so the entry is written after the rollback."""
    try:
        with busy_as(TreatmentRefused):
            refuse_if_merged(patient, TreatmentRefused)
            yield
    except TreatmentRefused as refusal:
        detail = f"{object_type.replace('_', ' ')} {action.value} refused: {refusal.reason}"
        audit_object(context, action, obj, patient, detail, object_type=object_type, allowed=False)
        raise


def lock_patient(patient: Patient) -> Patient:
    """Inside the write's transaction, first: the patient's row locked, refused (409) if it
    was merged meanwhile (records/merged.py)."""
    return lock_unmerged(patient.pk, TreatmentRefused)
