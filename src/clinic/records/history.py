"""The history taken at an encounter (FHIR Observation): presenting complaint, age at onset,
first body region, spread, triggers, sensory tricks, what makes it better or worse, course and
variability (docs/clinical-record.md).

Clinicians only (after two-factor): reception, administrators and patients are refused, and
since an encounter is asked for by its id, nobody but a clinician learns whether it exists
(404). The history belongs to its encounter: only the encounter's clinician saves it while a
draft (403 for a colleague), and once signed it is locked (409). Each save carries the
``updated_at`` the writer saw, so a save made elsewhere meanwhile is never overwritten (409).

The age at onset is in completed years, from 0 to the patient's age on the encounter's day
(Europe/London): never after the encounter, never before birth. Each write is one transaction
under the patient's row lock, then the encounter's (the merge's order, so the two never
deadlock; a record merged meanwhile is refused, 409: records/merged.py), audited with counts
only (never the history's words), and it refreshes that encounter's classification in the same
transaction. Refusals are audited outside it; a lock error (someone else changing the record)
is refused as busy (409).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction

from clinic.accounts.models import User
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_object, audit_record
from clinic.records import classification
from clinic.records.access import Access, AccessRefused, refusal_reveals
from clinic.records.encounters import (
    LOCKED,
    NOT_AUTHOR,
    NUL_CHARACTER,
    EncounterNotFound,
    encounter_not_found,
    may_use_encounters,
)
from clinic.records.locks import busy_as
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import Encounter, History, Patient
from clinic.scheduling.availability import clinic_tz
from dystonia.anatomy import SIDED_REGIONS, Region
from dystonia.findings import MAX_AGE_YEARS, Course, Variability

# Input bound (an operational choice): a long history is a few hundred words per part.
HISTORY_TEXT_MAX_LENGTH = 5_000
TEXT_LABELS = {
    "presenting_complaint": "Presenting complaint",
    "spread": "Spread over time",
    "triggers": "Triggers",
    "sensory_tricks": "Sensory tricks",
    "better_with": "Better with",
    "worse_with": "Worse with",
}
VARIABILITY_LABELS = {
    Variability.PERSISTENT.value: "Persistent",
    Variability.ACTION_SPECIFIC.value: "Action-specific",
    Variability.DIURNAL.value: "Diurnal (varies through the day)",
    Variability.PAROXYSMAL.value: "Paroxysmal (comes in attacks)",
}
LIMB_SIDES = ("left", "right")

BAD_TEXT = "Enter text."
TEXT_TOO_LONG = "{label} can be at most {limit:,} characters."
BAD_AGE = "Enter the age at onset as a whole number of years, for example 34."
AGE_NEGATIVE = "The age at onset cannot be less than 0 years."
AGE_OVER_PATIENT = (
    "The age at onset cannot be more than the patient's age on the day of this encounter "
    "({age}): symptoms cannot begin after the encounter."
)
BAD_REGION = "Choose the body region where it began from the list."
SIDE_REQUIRED = "Choose the side of the limb where it began."
SIDE_ONLY_FOR_A_LIMB = "A side is recorded only for a limb: choose a limb, or no side."
BAD_COURSE = "Choose static or progressive, or leave the course blank."
BAD_VARIABILITY = "Choose the variability from the list."
HISTORY_STALE = (
    "This history was saved elsewhere (another tab or device) since you opened this page, so "
    "yours was not saved. Your entries are kept below: compare them with the saved history, "
    "then save again."
)

_audit = partial(audit_object, object_type="history")


class HistoryRefused(ValueError):  # noqa: N818 - reads as the event
    """A history, relative or drug write cannot be done as asked: ``message`` says why,
    ``field`` names the input it is about (empty for the whole request), ``status`` is the
    HTTP answer for a page. ``reason`` is what the audit trail keeps (the message without
    the patient's details filled in)."""

    def __init__(
        self, message: str, *, field: str = "", status: int = 400, reason: str = ""
    ) -> None:
        self.message = message
        self.field = field
        self.status = status
        self.reason = reason or message
        super().__init__(message)


@dataclass(frozen=True)
class HistoryDetails:
    """The history as a form hands it over; ``variability`` holds Variability values."""

    presenting_complaint: str = ""
    age_at_onset_years: int | None = None
    first_region: str = ""
    first_side: str = ""
    spread: str = ""
    triggers: str = ""
    sensory_tricks: str = ""
    better_with: str = ""
    worse_with: str = ""
    course: str = ""
    variability: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HistorySection:
    """The history as the encounter page shows it: ``history`` is None until one is saved;
    ``can_edit`` while a draft whose clinician is the reader."""

    history: History | None
    variability: list[str]
    can_edit: bool


# Who, refusals, and the classification


def check_clinician(
    context: AuditContext,
    patient: Patient,
    action: AuditAction,
    *,
    object_type: str,
    obj: Any = None,
    by_id: bool = False,
) -> User:
    """The acting clinician, or an audited refusal. Asked about a patient, staff are told
    (403); asked for something by its id (``by_id``), nobody but a clinician learns whether
    it exists (404), as for encounters."""
    actor = context.actor
    access = Access.READ if action == AuditAction.READ else Access.WRITE
    if actor is None or not may_use_encounters(actor, patient, access):
        detail = f"{object_type.replace('_', ' ')} {action.value} refused"
        audit_object(context, action, obj, patient, detail, object_type=object_type, allowed=False)
        raise AccessRefused(reveal=not by_id and actor is not None and refusal_reveals(actor))
    return actor


def audit_not_found(
    context: AuditContext, object_type: str, object_id: int, action: AuditAction
) -> None:
    """Audit a guessed or stale identifier (answered 404)."""
    audit_record(
        context=context,
        action=action,
        outcome=AuditOutcome.REFUSED,
        object_type=object_type,
        object_id=object_id,
        detail=f"no such {object_type.replace('_', ' ')}",
    )


@contextmanager
def refusals_audited(
    context: AuditContext,
    action: AuditAction,
    obj: Any,
    patient: Patient,
    *,
    object_type: str,
    about: str = "",
) -> Iterator[None]:
    """Audit a HistoryRefused raised in the block, then let it go on (``about`` names what
    was asked, when ``obj`` does not); a lock error is refused as busy (409). Wrap the block
    around the transaction, so the entry is written after the rollback, not undone by it."""
    try:
        with busy_as(HistoryRefused):
            yield
    except HistoryRefused as refusal:
        what = object_type.replace("_", " ") + (f" ({about})" if about else "")
        detail = f"{what} {action.value} refused: {refusal.reason}"
        audit_object(context, action, obj, patient, detail, object_type=object_type, allowed=False)
        raise


def _refresh_classification(patient: Patient, context: AuditContext | None = None) -> None:
    """Refresh the classification of the patient's unsigned encounters (their relatives or
    drug history changed), under the encounters' row locks taken in id order, so two such
    writes never deadlock. Call inside the write's transaction, so the record and the
    classification drawn from it change together; with ``context`` the new reviews are
    audited."""
    classification.refresh_reviews_for_patient(patient, context=context)


# Checking the input


def completed_years(born: date, on: date) -> int:
    """A person's age in completed years on a day (negative before their birth)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _years(age: int) -> str:
    return f"{age} year" if age == 1 else f"{age} years"


def encounter_day(encounter: Encounter) -> date:
    """The encounter's day in the clinic's time zone."""
    return encounter.started_at.astimezone(clinic_tz()).date()


def check_text(value: Any, *, field: str, label: str, limit: int) -> str:
    """Text as stored: line endings made "\\n", NUL refused, at most ``limit`` characters."""
    if not isinstance(value, str):
        raise HistoryRefused(BAD_TEXT, field=field)
    text = value.replace("\r\n", "\n")
    if "\x00" in text:
        raise HistoryRefused(NUL_CHARACTER, field=field)
    if len(text) > limit:
        raise HistoryRefused(TEXT_TOO_LONG.format(label=label, limit=limit), field=field)
    return text


def check_age_at_onset(value: Any, *, born: date, on: date) -> int | None:
    """The age at onset in completed years: None (not known), or from 0 to the patient's age
    on the encounter's day ``on`` (so never after the encounter, never before birth)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise HistoryRefused(BAD_AGE, field="age_at_onset_years")
    if value < 0:
        raise HistoryRefused(AGE_NEGATIVE, field="age_at_onset_years")
    age = min(completed_years(born, on), MAX_AGE_YEARS)
    if value > age:
        message = AGE_OVER_PATIENT.format(age=_years(age))
        raise HistoryRefused(
            message, field="age_at_onset_years", reason=AGE_OVER_PATIENT.format(age="N")
        )
    return value


def _region_and_side(region: Any, side: Any) -> tuple[str, str]:
    """The first region ("" when not known) and, exactly for a limb, its side."""
    if not isinstance(region, str) or region not in {"", *Region}:
        raise HistoryRefused(BAD_REGION, field="first_region")
    if not isinstance(side, str):
        raise HistoryRefused(SIDE_REQUIRED, field="first_side")
    if region in SIDED_REGIONS:
        if side not in LIMB_SIDES:
            raise HistoryRefused(SIDE_REQUIRED, field="first_side")
        return str(region), str(side)
    if side != "":
        raise HistoryRefused(SIDE_ONLY_FOR_A_LIMB, field="first_side")
    return str(region), ""


def _variability(values: Any) -> list[str]:
    """Distinct Variability values, in the order of the list of choices."""
    allowed = {v.value for v in Variability}
    if not isinstance(values, list | tuple) or any(
        not isinstance(v, str) or v not in allowed for v in values
    ):
        raise HistoryRefused(BAD_VARIABILITY, field="variability")
    return [v.value for v in Variability if v.value in values]


def check_history(details: HistoryDetails, *, patient: Patient, on: date) -> HistoryDetails:
    """The details as stored, or HistoryRefused naming the first problem's field."""
    texts = {
        name: check_text(
            getattr(details, name), field=name, label=label, limit=HISTORY_TEXT_MAX_LENGTH
        )
        for name, label in TEXT_LABELS.items()
    }
    age = check_age_at_onset(details.age_at_onset_years, born=patient.date_of_birth, on=on)
    region, side = _region_and_side(details.first_region, details.first_side)
    if not isinstance(details.course, str) or details.course not in {"", *Course}:
        raise HistoryRefused(BAD_COURSE, field="course")
    return HistoryDetails(
        age_at_onset_years=age,
        first_region=region,
        first_side=side,
        course=str(details.course),
        variability=_variability(details.variability),
        **texts,
    )


def _filled(details: HistoryDetails) -> int:
    """How many parts of the history are recorded (for the audit trail: a count, no words)."""
    return sum(1 for value in asdict(details).values() if value not in ("", None, []))


# Reads


def history_section(*, context: AuditContext, encounter: Encounter) -> HistorySection | None:
    """The encounter's history for its page (one query; an audit entry when there is one),
    or None for anyone but a clinician. Call after the encounter's own audited read."""
    actor = context.actor
    patient = encounter.patient
    if actor is None or not may_use_encounters(actor, patient, Access.READ):
        return None
    history = History.objects.filter(encounter_id=encounter.pk).first()
    if history is not None:
        _audit(context, AuditAction.READ, history, patient, f"history of encounter {encounter.pk}")
    variability = history.variability if history is not None else []
    return HistorySection(
        history=history,
        variability=[VARIABILITY_LABELS.get(str(v), str(v)) for v in variability],
        can_edit=not encounter.is_signed and encounter.clinician_id == actor.pk,
    )


# Writes


def _found(context: AuditContext, encounter_id: int) -> tuple[Encounter, User]:
    encounter = Encounter.objects.select_related("patient").filter(pk=encounter_id).first()
    if encounter is None:
        encounter_not_found(context, encounter_id, AuditAction.UPDATE)
        raise EncounterNotFound
    clinician = check_clinician(
        context,
        encounter.patient,
        AuditAction.UPDATE,
        object_type="history",
        by_id=True,
    )
    return encounter, clinician


def _locked_draft(encounter_id: int, clinician: User) -> Encounter:
    """Inside a transaction: the encounter row, locked; refused once signed (409) or when the
    clinician is not its author (403)."""
    # Only the encounter's row: not the clinician's user row, which audit entries reference.
    locked = (
        Encounter.objects.select_for_update(of=("self",))
        .select_related("clinician", "patient")
        .get(pk=encounter_id)
    )
    if locked.is_signed:
        raise HistoryRefused(LOCKED, status=409)
    if locked.clinician_id != clinician.pk:
        name = locked.clinician.full_name
        raise HistoryRefused(
            NOT_AUTHOR.format(name=name), status=403, reason="not the encounter's clinician"
        )
    return locked


def _write(
    context: AuditContext,
    encounter: Encounter,
    clinician: User,
    details: HistoryDetails,
    expected_updated_at: datetime | None,
) -> History:
    with transaction.atomic():
        # The patient first, as the merge locks it: a merge committed since the encounter was
        # found is refused here, and one running waits for this write (or it for the merge).
        lock_unmerged(encounter.patient_id, HistoryRefused)
        locked = _locked_draft(encounter.pk, clinician)
        history = History.objects.select_for_update().filter(encounter_id=locked.pk).first()
        seen = history.updated_at if history is not None else None
        if seen != expected_updated_at:
            raise HistoryRefused(HISTORY_STALE, status=409)
        created = history is None
        if history is None:
            history = History(encounter=locked)
        for name, value in asdict(details).items():
            setattr(history, name, value)
        history.save()
        action = AuditAction.CREATE if created else AuditAction.UPDATE
        detail = f"history saved ({_filled(details)} of {len(asdict(details))} parts recorded)"
        _audit(context, action, history, encounter.patient, detail)
        # This encounter's review only: the patient's other drafts do not read this history,
        # and locking them too deadlocked two clinicians saving two drafts of one patient.
        classification.refresh_review(locked, context=context)
        return history


def history_save(
    *,
    context: AuditContext,
    encounter_id: int,
    details: HistoryDetails,
    expected_updated_at: datetime | None,
) -> History:
    """Save the history of a draft encounter (its clinician only). ``expected_updated_at``
    is the history's ``updated_at`` as the writer saw it (None when there was none yet): if
    it was saved since, nothing is overwritten. Raises EncounterNotFound, HistoryRefused or
    AccessRefused, all audited."""
    encounter, clinician = _found(context, encounter_id)
    patient = encounter.patient
    with refusals_audited(
        context,
        AuditAction.UPDATE,
        None,
        patient,
        object_type="history",
        about=f"encounter {encounter.pk}",
    ):
        refuse_if_merged(patient, HistoryRefused)
        clean = check_history(details, patient=patient, on=encounter_day(encounter))
        try:
            return _write(context, encounter, clinician, clean, expected_updated_at)
        except IntegrityError:
            # Two first saves at once where rows cannot be locked: the unique encounter column
            # let one in; the other was based on no history, so it is out of date.
            raise HistoryRefused(HISTORY_STALE, status=409) from None
