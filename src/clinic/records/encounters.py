"""Encounters (FHIR Encounter): who saw the patient, when and where, with the appointment when
there was one, and the notes. A draft belongs to its clinician, who edits and signs it; once
signed it is locked, and any clinician adds addenda instead (docs/clinical-record.md).

Each write is one transaction, checked as clinical data (clinicians only, after two-factor:
reception and administrators are answered 403, patients 404) and audited; a refusal is
audited outside the transaction it would roll back. Input problems raise EncounterRefused,
whose ``status`` says how a page answers (400 bad input, 403 not the author, 409 a conflict:
a merged duplicate record among them, records/merged.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_object, audit_record
from clinic.directory.models import Site
from clinic.records.access import (
    Access,
    AccessRefused,
    DataCategory,
    access_patient_data,
    refusal_reveals,
)
from clinic.records.locks import busy_as
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import Addendum, Encounter, EncounterKind, Patient
from clinic.scheduling.availability import clinic_tz, local_today
from clinic.scheduling.models import Appointment, AppointmentStatus

# Input bounds (operational choices): a long consultation letter is about 10,000 characters.
NOTES_MAX_LENGTH = 50_000
ADDENDUM_MAX_LENGTH = 10_000
# A clock a little ahead (a laptop, a phone) must not refuse a walk-in started just now.
FUTURE_GRACE = timedelta(minutes=5)

BAD_KIND = "Choose the kind of encounter from the list."
SITE_REQUIRED = "Choose where the patient was seen."
BAD_TIME = "Enter a valid date and time."
IN_FUTURE = "The encounter cannot start in the future."
BEFORE_BIRTH = "The encounter cannot be before the patient's date of birth."
AFTER_DEATH = "The encounter cannot be after the patient's date of death."
NOTES_TOO_LONG = f"Notes can be at most {NOTES_MAX_LENGTH:,} characters."
ADDENDUM_TOO_LONG = f"An addendum can be at most {ADDENDUM_MAX_LENGTH:,} characters."
ADDENDUM_REQUIRED = "Write the addendum."
NUL_CHARACTER = "The text contains a character that cannot be stored (NUL). Remove it."
OTHER_PATIENTS_APPOINTMENT = "That appointment is for another patient."
APPOINTMENT_NOT_SEEN = (
    "This appointment was cancelled or marked as not attended; start an encounter without it."
)
APPOINTMENT_LATER = "This appointment is on {day}: start its encounter on the day."
LOCKED = "This encounter is signed and locked; add an addendum instead."
ALREADY_SIGNED = "This encounter is already signed."
NOT_AUTHOR = "Only the clinician who saw the patient ({name}) can change or sign this draft."
STALE = (
    "These notes were saved elsewhere (another tab or device) since you opened this page, so "
    "yours were not saved. Your text is kept below: compare it with the saved notes, then "
    "save again."
)
NOTES_REQUIRED = "Write the notes before signing."
NOT_SIGNED = "This encounter is not signed yet: change its notes instead of adding an addendum."

# A guess at the kind from the booked service's slug: only a preselection on the form.
_KIND_BY_SERVICE_WORD = (
    ("toxin", EncounterKind.TOXIN_CLINIC),
    ("emg", EncounterKind.EMG),
    ("dbs", EncounterKind.DBS_PROGRAMMING),
    ("therapy", EncounterKind.THERAPY),
    ("follow", EncounterKind.FOLLOW_UP),
)


class EncounterRefused(ValueError):  # noqa: N818 - reads as the event
    """The write cannot be done as asked: ``message`` says why, ``field`` names the input it
    is about (empty for the whole request), ``status`` is the HTTP answer for a page."""

    def __init__(self, message: str, *, field: str = "", status: int = 400) -> None:
        self.message = message
        self.field = field
        self.status = status
        super().__init__(message)


class EncounterNotFound(Exception):  # noqa: N818 - reads as the event
    """No encounter has that identifier."""


_audit = partial(audit_object, object_type="encounter")
_audit_addendum = partial(audit_object, object_type="addendum")


def may_use_encounters(user: Any, patient: Patient, access: Access) -> bool:
    """Clinicians (after two-factor) read and write encounters; nobody else does. A patient's
    own read is allowed by the access rules but has no page yet (docs/clinical-record.md)."""
    if getattr(user, "role", None) != Role.CLINICIAN:
        return False
    return access_patient_data(
        user, patient_user_id=patient.user_id, category=DataCategory.CLINICAL, access=access
    )


def check_clinician(
    context: AuditContext,
    patient: Patient,
    action: AuditAction,
    encounter: Encounter | None = None,
) -> User:
    """The acting clinician, or an audited refusal: 403 for staff, 404 for patients."""
    actor = context.actor
    access = Access.READ if action == AuditAction.READ else Access.WRITE
    if actor is None or not may_use_encounters(actor, patient, access):
        detail = f"encounter {action.value} refused"
        _audit(context, action, encounter, patient, detail, allowed=False)
        # Not even whether an encounter with this id exists is told to non-clinicians (404);
        # a refusal about the patient says so to staff (403).
        reveal = encounter is None and actor is not None and refusal_reveals(actor)
        raise AccessRefused(reveal=reveal)
    return actor


def encounter_not_found(context: AuditContext, encounter_id: int, action: AuditAction) -> None:
    """Audit a guessed or stale identifier (answered 404)."""
    audit_record(
        context=context,
        action=action,
        outcome=AuditOutcome.REFUSED,
        object_type="encounter",
        object_id=encounter_id,
        detail="no such encounter",
    )


def kind_for_service(slug: str) -> str:
    """The kind an appointment's service suggests (a consultation unless its slug says)."""
    for word, kind in _KIND_BY_SERVICE_WORD:
        if word in slug:
            return kind
    return EncounterKind.CONSULTATION


def _text(value: str, *, limit: int, too_long: str, field: str) -> str:
    value = (value or "").replace("\r\n", "\n")
    if "\x00" in value:
        raise EncounterRefused(NUL_CHARACTER, field=field)
    if len(value) > limit:
        raise EncounterRefused(too_long, field=field)
    return value


def _notes(value: str) -> str:
    return _text(value, limit=NOTES_MAX_LENGTH, too_long=NOTES_TOO_LONG, field="notes")


def _started_at(patient: Patient, started_at: datetime | None) -> datetime:
    """When a standalone encounter started: now by default; never ahead of the clock by more
    than FUTURE_GRACE, never before the patient's birth or after their death."""
    now = timezone.now()
    if started_at is None:
        return now
    if timezone.is_naive(started_at):
        raise EncounterRefused(BAD_TIME, field="started_at")
    if started_at > now + FUTURE_GRACE:
        raise EncounterRefused(IN_FUTURE, field="started_at")
    day = started_at.astimezone(clinic_tz()).date()
    if day < patient.date_of_birth:
        raise EncounterRefused(BEFORE_BIRTH, field="started_at")
    if patient.date_of_death is not None and day > patient.date_of_death:
        raise EncounterRefused(AFTER_DEATH, field="started_at")
    return started_at


def _check_appointment(appointment: Appointment) -> None:
    if appointment.status not in {AppointmentStatus.BOOKED, AppointmentStatus.FULFILLED}:
        raise EncounterRefused(APPOINTMENT_NOT_SEEN, field="appointment")
    day = appointment.start.astimezone(clinic_tz()).date()
    if day > local_today():
        when = f"{day.day} {day:%B %Y}"
        raise EncounterRefused(APPOINTMENT_LATER.format(day=when), field="appointment")


@contextmanager
def _refusals_audited(
    context: AuditContext,
    action: AuditAction,
    encounter: Encounter | None,
    patient: Patient,
    what: str,
) -> Iterator[None]:
    """Audit an EncounterRefused raised in the block, a lock error refused as busy (409)
    included, then let it go on. Wrap the block around the transaction, so the entry is
    written after the rollback, not undone by it."""
    try:
        with busy_as(EncounterRefused):
            yield
    except EncounterRefused as refusal:
        detail = f"{what} refused: {refusal.message}"
        _audit(context, action, encounter, patient, detail, allowed=False)
        raise


def _from_appointment(
    context: AuditContext,
    *,
    clinician: User,
    kind: str,
    appointment: Appointment,
    notes: str,
) -> tuple[Encounter, bool]:
    """One encounter per appointment: under the appointment's row lock, the existing one is
    opened (a double click, or a colleague who started it) instead of a second made."""
    with transaction.atomic():
        lock_unmerged(appointment.patient_id, EncounterRefused)
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        existing = Encounter.objects.filter(appointment=locked).first()
        if existing is not None:
            detail = f"already started for appointment {locked.pk}: opened"
            _audit(context, AuditAction.READ, existing, appointment.patient, detail)
            return existing, False
        _check_appointment(locked)
        encounter = Encounter.objects.create(
            patient_id=locked.patient_id,
            kind=kind,
            clinician=clinician,
            site_id=locked.site_id,
            appointment=locked,
            # The booked time, or now when the patient is seen early.
            started_at=min(locked.start, timezone.now()),
            notes=notes,
        )
        # The kind is clinical (docs/clinical-record.md): the audit trail, which administrators
        # read, names only the appointment.
        detail = f"started from appointment {locked.pk}"
        _audit(context, AuditAction.CREATE, encounter, appointment.patient, detail)
        return encounter, True


def _start_from_appointment(
    context: AuditContext,
    *,
    clinician: User,
    patient: Patient,
    kind: str,
    appointment: Appointment,
    notes: str,
) -> tuple[Encounter, bool]:
    if appointment.patient_id != patient.pk:
        raise EncounterRefused(OTHER_PATIENTS_APPOINTMENT, field="appointment")
    try:
        return _from_appointment(
            context, clinician=clinician, kind=kind, appointment=appointment, notes=notes
        )
    except IntegrityError:
        # Two starts at once where rows cannot be locked (SQLite): the unique appointment
        # column let one in; open that one.
        existing = Encounter.objects.filter(appointment=appointment).first()
        if existing is None:
            raise
        _audit(context, AuditAction.READ, existing, patient, "already started: opened")
        return existing, False


def _start_standalone(
    context: AuditContext,
    *,
    clinician: User,
    patient: Patient,
    kind: str,
    site: Site | None,
    started_at: datetime | None,
    notes: str,
) -> tuple[Encounter, bool]:
    when = _started_at(patient, started_at)
    if site is None:
        raise EncounterRefused(SITE_REQUIRED, field="site")
    with transaction.atomic():
        lock_unmerged(patient.pk, EncounterRefused)
        encounter = Encounter.objects.create(
            patient=patient, kind=kind, clinician=clinician, site=site, started_at=when, notes=notes
        )
        _audit(context, AuditAction.CREATE, encounter, patient, "started")
    return encounter, True


def encounter_start(
    *,
    context: AuditContext,
    patient: Patient,
    kind: str,
    site: Site | None = None,
    started_at: datetime | None = None,
    appointment: Appointment | None = None,
    notes: str = "",
) -> tuple[Encounter, bool]:
    """Start an encounter (clinicians), as ``get_or_create`` does: ``(encounter, created)``.

    From an appointment, the site and time come from it (``site`` and ``started_at`` are
    ignored) and a second start opens the existing encounter. Standalone (a walk-in, a
    telephone review), ``site`` is required and ``started_at`` defaults to now. Raises
    EncounterRefused or AccessRefused, both audited."""
    clinician = check_clinician(context, patient, AuditAction.CREATE)
    with _refusals_audited(context, AuditAction.CREATE, None, patient, "start"):
        refuse_if_merged(patient, EncounterRefused)
        if kind not in EncounterKind.values:
            raise EncounterRefused(BAD_KIND, field="kind")
        notes = _notes(notes)
        if appointment is not None:
            return _start_from_appointment(
                context,
                clinician=clinician,
                patient=patient,
                kind=kind,
                appointment=appointment,
                notes=notes,
            )
        return _start_standalone(
            context,
            clinician=clinician,
            patient=patient,
            kind=kind,
            site=site,
            started_at=started_at,
            notes=notes,
        )


def _found(context: AuditContext, encounter_id: int, action: AuditAction) -> tuple[Encounter, User]:
    """The encounter with its patient, and the acting clinician; EncounterNotFound or
    AccessRefused, both audited."""
    encounter = Encounter.objects.select_related("patient").filter(pk=encounter_id).first()
    if encounter is None:
        encounter_not_found(context, encounter_id, action)
        raise EncounterNotFound
    return encounter, check_clinician(context, encounter.patient, action, encounter)


def _locked_draft(
    encounter_id: int, clinician: User, expected_updated_at: datetime | None, *, signed: str
) -> Encounter:
    """Inside a transaction: the encounter row, locked, refused (with ``signed`` as the
    message) once signed, when the clinician is not its author, or when it changed since
    ``expected_updated_at``."""
    # Only the encounter's row: not the clinician's user row, which audit entries (and the
    # other writes of the same clinician) reference.
    locked = (
        Encounter.objects.select_for_update(of=("self",))
        .select_related("clinician")
        .get(pk=encounter_id)
    )
    if locked.is_signed:
        raise EncounterRefused(signed, status=409)
    if locked.clinician_id != clinician.pk:
        raise EncounterRefused(NOT_AUTHOR.format(name=locked.clinician.full_name), status=403)
    if expected_updated_at is not None and locked.updated_at != expected_updated_at:
        raise EncounterRefused(STALE, field="notes", status=409)
    return locked


def encounter_update_notes(
    *, context: AuditContext, encounter_id: int, notes: str, expected_updated_at: datetime
) -> Encounter:
    """Replace a draft's notes (its clinician only). ``expected_updated_at`` is the
    ``updated_at`` the writer last saw: if someone saved since, nothing is overwritten.
    Raises EncounterNotFound, EncounterRefused or AccessRefused, all audited."""
    encounter, clinician = _found(context, encounter_id, AuditAction.UPDATE)
    patient = encounter.patient
    with _refusals_audited(context, AuditAction.UPDATE, encounter, patient, "notes"):
        refuse_if_merged(patient, EncounterRefused)
        notes = _notes(notes)
        with transaction.atomic():
            lock_unmerged(patient.pk, EncounterRefused)
            locked = _locked_draft(encounter.pk, clinician, expected_updated_at, signed=LOCKED)
            locked.notes = notes
            locked.save(update_fields=["notes", "updated_at"])
            detail = f"notes saved ({len(notes):,} characters)"
            _audit(context, AuditAction.UPDATE, locked, patient, detail)
            return locked


def encounter_sign(
    *, context: AuditContext, encounter_id: int, expected_updated_at: datetime | None = None
) -> Encounter:
    """Sign and lock a draft (its clinician only; the notes must not be empty). With
    ``expected_updated_at`` (the confirmation page sends it), notes changed since they were
    shown are not signed unseen. Signing twice is refused and changes nothing."""
    encounter, clinician = _found(context, encounter_id, AuditAction.UPDATE)
    patient = encounter.patient
    # The audit of a refusal sits outside the transaction, so the rollback keeps it.
    with _refusals_audited(context, AuditAction.UPDATE, encounter, patient, "sign"):
        refuse_if_merged(patient, EncounterRefused)
        with transaction.atomic():
            lock_unmerged(patient.pk, EncounterRefused)
            locked = _locked_draft(
                encounter.pk, clinician, expected_updated_at, signed=ALREADY_SIGNED
            )
            if not locked.notes.strip():
                raise EncounterRefused(NOTES_REQUIRED, field="notes")
            from clinic.records import classification  # noqa: PLC0415 - it imports this module

            if classification.classification_blocks_signing(locked):
                raise EncounterRefused(classification.PENDING_AT_SIGNING, status=409)
            locked.signed_at = timezone.now()
            locked.signed_by = clinician
            locked.save(update_fields=["signed_at", "signed_by", "updated_at"])
            _audit(context, AuditAction.UPDATE, locked, patient, "signed and locked")
            return locked


def addendum_add(*, context: AuditContext, encounter_id: int, text: str) -> Addendum:
    """Add a note to a signed encounter (any clinician): the way to correct or add to it.
    Raises EncounterNotFound, EncounterRefused or AccessRefused, all audited."""
    encounter, author = _found(context, encounter_id, AuditAction.CREATE)
    patient = encounter.patient
    with _refusals_audited(context, AuditAction.CREATE, encounter, patient, "addendum"):
        refuse_if_merged(patient, EncounterRefused)
        text = _text(text, limit=ADDENDUM_MAX_LENGTH, too_long=ADDENDUM_TOO_LONG, field="text")
        if not text.strip():
            raise EncounterRefused(ADDENDUM_REQUIRED, field="text")
        with transaction.atomic():
            lock_unmerged(patient.pk, EncounterRefused)
            locked = Encounter.objects.select_for_update().get(pk=encounter.pk)
            if not locked.is_signed:
                raise EncounterRefused(NOT_SIGNED, status=409)
            addendum = Addendum.objects.create(encounter=locked, text=text.strip(), author=author)
            detail = f"addendum to encounter {locked.pk} ({len(addendum.text):,} characters)"
            _audit_addendum(context, AuditAction.CREATE, addendum, patient, detail)
            return addendum
