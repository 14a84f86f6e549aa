"""Medication the unit prescribes (docs/treatment.md): the medicine, its purpose, start and stop
(a stop needs its reason), effect and side effects, and the titration steps of its dose. A
dopamine-receptor blocker is flagged as a possible cause of dystonia, suggested from the name by
the core (dystonia.drugs, as the drug history does) and always the clinician's to set.

Doses: zero, negative and anything that is not a number are refused. The reference gives no
maximum dose for any medicine (clinical.md 6.1 gives a titration example and starting doses,
not maxima), so no dose is refused as too large below the column's bound (99,999.999); none is
invented. Dates are Europe/London days: a start neither in the future nor before birth, a stop
not before the start; a titration step lies within the medicine's dates (it may be planned up
to a year ahead, an operational bound against typing errors).

Clinicians only; any clinician writes. One transaction per write under the patient's row lock
(a merged record refused, 409), audited with ids only, never the medicine's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.db import transaction

from clinic.accounts.models import User
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records.drug_history import suggests_blocker
from clinic.records.models import Patient
from clinic.scheduling.availability import local_today
from clinic.treatment.models import DoseUnit, Effect, Medication, StopReason, TitrationStep
from clinic.treatment.models.medication import (
    DOSE_DECIMAL_PLACES,
    DOSE_MAX_DIGITS,
    DRUG_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    PURPOSE_MAX_LENGTH,
)
from clinic.treatment.rules import (
    BAD_DATE,
    TreatmentRefused,
    check_choice,
    check_day,
    check_encounter,
    check_text,
    found_for_clinician,
    lock_patient,
    patient_for_treatment,
    refusals_audited,
)

SIDE_EFFECTS_MAX_LENGTH = 2_000
MAX_TIMES_PER_DAY = 24  # hourly: an operational bound
PLANNED_AHEAD = timedelta(days=366)  # how far ahead a titration step may be planned
DOSE_LIMIT = Decimal(10) ** (DOSE_MAX_DIGITS - DOSE_DECIMAL_PLACES) - Decimal("0.001")

DRUG_REQUIRED = "Write the medicine's name."
BAD_FLAG = "Say whether the medicine is a dopamine-receptor blocker."
STOPPED_BEFORE_START = "The date it was stopped cannot be before the date it was started."
STOPPED_REQUIRED = "Give the date it was stopped."
STOP_REASON_REQUIRED = "Give the reason it was stopped."
REASON_WITHOUT_STOP = "Give the date it was stopped, or no reason: it is not stopped."
ALREADY_STOPPED = "This medicine is already recorded as stopped: change its details instead."
BAD_DOSE = "Enter the dose as a number, for example 2.5."
DOSE_NOT_POSITIVE = "The dose must be more than 0."
DOSE_TOO_PRECISE = "The dose can have at most 3 decimal places."
DOSE_TOO_LARGE = f"The dose can be at most {DOSE_LIMIT:,} (the most the record holds)."
BAD_TIMES = f"Enter how many times a day, a whole number from 1 to {MAX_TIMES_PER_DAY}."
STEP_BEFORE_START = "A dose step cannot start before the medicine was started."
STEP_AFTER_STOP = "A dose step cannot start after the medicine was stopped."
STEP_TOO_FAR = "A dose step can be planned at most a year ahead."
STEP_SAME_DAY = "This medicine already has a dose step starting that day: remove it first."
STEPS_OUTSIDE = (
    "This medicine has dose steps outside those dates: remove them first, or keep the dates "
    "around them."
)

_audit = partial(audit_object, object_type="medication")


class MedicationNotFound(Exception):  # noqa: N818 - reads as the event
    """No medication (or dose step) has that identifier."""


@dataclass(frozen=True)
class MedicationDetails:
    """A medication as a form hands it over. ``dopamine_receptor_blocker`` None means "decide
    from the name"; ``encounter`` is one of the patient's encounters' ids, or None."""

    drug: str
    started_on: Any
    dopamine_receptor_blocker: bool | None = None
    purpose: str = ""
    stopped_on: Any = None
    stop_reason: str = ""
    effect: str = Effect.NOT_ASSESSED
    side_effects: str = ""
    encounter: Any = None


@dataclass(frozen=True)
class DoseDetails:
    """A titration step as a form hands it over (``starts_on`` None: the medicine's start)."""

    dose: Any
    unit: str
    times_per_day: Any
    starts_on: Any = None
    note: str = ""


# Rules


def check_dose(value: Any) -> Decimal:
    """A dose: a finite number above 0 with at most 3 decimals, within the column."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TreatmentRefused(BAD_DOSE, field="dose")
    dose = Decimal(value)
    if not dose.is_finite():
        raise TreatmentRefused(BAD_DOSE, field="dose")
    if dose <= 0:
        raise TreatmentRefused(DOSE_NOT_POSITIVE, field="dose")
    if dose > DOSE_LIMIT:
        raise TreatmentRefused(DOSE_TOO_LARGE, field="dose")
    try:
        exact = dose.quantize(Decimal("0.001"))
    except InvalidOperation:  # pragma: no cover - within the limit it always fits
        raise TreatmentRefused(BAD_DOSE, field="dose") from None
    if exact != dose:
        raise TreatmentRefused(DOSE_TOO_PRECISE, field="dose")
    return exact


def check_medication(details: MedicationDetails, patient: Patient) -> dict[str, Any]:
    """The fields as stored, or TreatmentRefused naming the first problem's field."""
    drug = " ".join(
        check_text(details.drug, field="drug", label="The name", limit=DRUG_MAX_LENGTH).split()
    )
    if not drug:
        raise TreatmentRefused(DRUG_REQUIRED, field="drug")
    flag = details.dopamine_receptor_blocker
    if flag is not None and not isinstance(flag, bool):
        raise TreatmentRefused(BAD_FLAG, field="dopamine_receptor_blocker")
    started_on = check_day(
        details.started_on, field="started_on", label="The date it was started", patient=patient
    )
    stopped_on = check_day(
        details.stopped_on,
        field="stopped_on",
        label="The date it was stopped",
        patient=patient,
        required=False,
    )
    if stopped_on is not None and started_on is not None and stopped_on < started_on:
        raise TreatmentRefused(STOPPED_BEFORE_START, field="stopped_on")
    reason = details.stop_reason
    if reason != "":
        reason = check_choice(reason, StopReason, field="stop_reason", label="Reason")
    if stopped_on is not None and not reason:
        raise TreatmentRefused(STOP_REASON_REQUIRED, field="stop_reason")
    if stopped_on is None and reason:
        raise TreatmentRefused(REASON_WITHOUT_STOP, field="stopped_on")
    return {
        "drug": drug,
        "dopamine_receptor_blocker": suggests_blocker(drug) if flag is None else flag,
        "purpose": check_text(
            details.purpose, field="purpose", label="Purpose", limit=PURPOSE_MAX_LENGTH
        ),
        "started_on": started_on,
        "stopped_on": stopped_on,
        "stop_reason": reason,
        "effect": check_choice(details.effect, Effect, field="effect", label="Effect"),
        "side_effects": check_text(
            details.side_effects,
            field="side_effects",
            label="Side effects",
            limit=SIDE_EFFECTS_MAX_LENGTH,
        ),
        "encounter_id": check_encounter(patient, details.encounter),
    }


def check_step(details: DoseDetails, medication: Medication | dict[str, Any]) -> dict[str, Any]:
    """A titration step as stored, within the medicine's dates (``medication`` a row, or the
    fields of one about to be added)."""
    started = _value(medication, "started_on")
    stopped = _value(medication, "stopped_on")
    starts_on = details.starts_on if details.starts_on is not None else started
    if not isinstance(starts_on, date) or type(starts_on) is not date:
        raise TreatmentRefused(BAD_DATE, field="starts_on")
    if starts_on < started:
        raise TreatmentRefused(STEP_BEFORE_START, field="starts_on")
    if stopped is not None and starts_on > stopped:
        raise TreatmentRefused(STEP_AFTER_STOP, field="starts_on")
    if starts_on > local_today() + PLANNED_AHEAD:
        raise TreatmentRefused(STEP_TOO_FAR, field="starts_on")
    times = details.times_per_day
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_TIMES_PER_DAY:
        raise TreatmentRefused(BAD_TIMES, field="times_per_day")
    return {
        "starts_on": starts_on,
        "dose": check_dose(details.dose),
        "unit": check_choice(details.unit, DoseUnit, field="unit", label="Unit"),
        "times_per_day": times,
        "note": check_text(details.note, field="note", label="Note", limit=NOTE_MAX_LENGTH),
    }


def _value(medication: Medication | dict[str, Any], name: str) -> Any:
    if isinstance(medication, dict):
        return medication[name]
    return getattr(medication, name)


# Reads


def _found(
    context: AuditContext, medication_id: int, action: AuditAction
) -> tuple[Medication, User]:
    return found_for_clinician(
        context,
        find=lambda: Medication.objects.select_related("patient").filter(pk=medication_id).first(),
        patient_of=lambda found: found.patient,
        object_type="medication",
        object_id=medication_id,
        action=action,
        not_found=MedicationNotFound,
    )


def medication_for_clinician(*, context: AuditContext, medication_id: int) -> Medication:
    """One medication with its patient (an audited read). Raises MedicationNotFound or
    AccessRefused (404 for anyone but a clinician), both audited."""
    medication, _clinician = _found(context, medication_id, AuditAction.READ)
    _audit(context, AuditAction.READ, medication, medication.patient, "medication read")
    return medication


def steps_of(medication: Medication) -> list[TitrationStep]:
    return list(TitrationStep.objects.filter(medication=medication))


def current_step(steps: list[TitrationStep], today: date | None = None) -> TitrationStep | None:
    """The dose taken today: the latest step started by today (steps in date order)."""
    today = today or local_today()
    started = [step for step in steps if step.starts_on <= today]
    return started[-1] if started else None


# Writes


def medication_add(
    *,
    context: AuditContext,
    patient_id: int,
    details: MedicationDetails,
    first_dose: DoseDetails | None = None,
) -> Medication:
    """Prescribe a medicine, with its first dose step when given. Raises PatientNotFound,
    TreatmentRefused or AccessRefused, all audited."""
    patient, clinician = patient_for_treatment(
        context=context, patient_id=patient_id, action=AuditAction.CREATE, object_type="medication"
    )
    with refusals_audited(context, AuditAction.CREATE, None, patient, object_type="medication"):
        values = check_medication(details, patient)
        step = check_step(first_dose, values) if first_dose is not None else None
        with transaction.atomic():
            lock_patient(patient)
            medication = Medication.objects.create(
                patient=patient, prescribed_by=clinician, **values
            )
            if step is not None:
                TitrationStep.objects.create(medication=medication, **step)
            detail = "medication added" + (" with a dose step" if step else "")
            _audit(context, AuditAction.CREATE, medication, patient, detail)
    return medication


def medication_update(
    *, context: AuditContext, medication_id: int, details: MedicationDetails
) -> Medication:
    """Change a medication (stopping it too: a stop needs its reason); the audit entry names
    the fields changed. Its dose steps must stay within the new dates."""
    found, _clinician = _found(context, medication_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="medication"):
        values = check_medication(details, patient)
        with transaction.atomic():
            lock_patient(patient)
            locked = Medication.objects.select_for_update().get(pk=found.pk)
            _steps_within(locked, values["started_on"], values["stopped_on"])
            changed = [name for name, value in values.items() if getattr(locked, name) != value]
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save()
            detail = "medication changed: " + (", ".join(changed) or "nothing")
            _audit(context, AuditAction.UPDATE, locked, patient, detail)
    return locked


def _steps_within(medication: Medication, started_on: date, stopped_on: date | None) -> None:
    steps = TitrationStep.objects.filter(medication=medication)
    outside = steps.filter(starts_on__lt=started_on)
    if stopped_on is not None:
        outside = outside | steps.filter(starts_on__gt=stopped_on)
    if outside.exists():
        raise TreatmentRefused(STEPS_OUTSIDE, field="started_on")


def medication_stop(
    *, context: AuditContext, medication_id: int, stopped_on: Any, stop_reason: str
) -> Medication:
    """Record that a medicine was stopped, and why; refused (409) when it already is."""
    found, _clinician = _found(context, medication_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="medication"):
        if stopped_on is None:
            raise TreatmentRefused(STOPPED_REQUIRED, field="stopped_on")
        with transaction.atomic():
            lock_patient(patient)
            locked = Medication.objects.select_for_update().get(pk=found.pk)
            if locked.stopped_on is not None:
                raise TreatmentRefused(ALREADY_STOPPED, status=409)
            details = MedicationDetails(
                **{
                    **_details_of(locked),
                    "stopped_on": stopped_on,
                    "stop_reason": stop_reason,
                }
            )
            if stopped_on is None:
                raise TreatmentRefused("Give the date it was stopped.", field="stopped_on")
            values = check_medication(details, patient)
            _steps_within(locked, values["started_on"], values["stopped_on"])
            locked.stopped_on, locked.stop_reason = values["stopped_on"], values["stop_reason"]
            locked.save(update_fields=["stopped_on", "stop_reason", "updated_at"])
            _audit(context, AuditAction.UPDATE, locked, patient, "medication stopped")
    return locked


def _details_of(medication: Medication) -> dict[str, Any]:
    fields = {
        name: getattr(medication, name)
        for name in MedicationDetails.__dataclass_fields__
        if name != "encounter"
    }
    return fields | {"encounter": medication.encounter_id}


def details_of(medication: Medication) -> MedicationDetails:
    """The details a form starts from."""
    return MedicationDetails(**_details_of(medication))


def titration_step_add(
    *, context: AuditContext, medication_id: int, details: DoseDetails
) -> TitrationStep:
    """Add a dose step (one per day; within the medicine's dates)."""
    found, _clinician = _found(context, medication_id, AuditAction.UPDATE)
    patient = found.patient
    with (
        refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="medication"),
        transaction.atomic(),
    ):
        lock_patient(patient)
        locked = Medication.objects.select_for_update().get(pk=found.pk)
        values = check_step(details, locked)
        if TitrationStep.objects.filter(medication=locked, starts_on=values["starts_on"]).exists():
            raise TreatmentRefused(STEP_SAME_DAY, field="starts_on", status=409)
        step = TitrationStep.objects.create(medication=locked, **values)
        _audit(context, AuditAction.UPDATE, locked, patient, "titration step added")
    return step


def titration_step_remove(*, context: AuditContext, step_id: int) -> Medication:
    """Remove a dose step entered in error; returns its medication. Removed already (a double
    submit) is MedicationNotFound."""
    step, _clinician = found_for_clinician(
        context,
        find=lambda: (
            TitrationStep.objects.select_related("medication__patient").filter(pk=step_id).first()
        ),
        patient_of=lambda found: found.medication.patient,
        object_type="titration_step",
        object_id=step_id,
        action=AuditAction.DELETE,
        not_found=MedicationNotFound,
    )
    medication = step.medication
    patient = medication.patient
    with (
        refusals_audited(
            context, AuditAction.DELETE, medication, patient, object_type="medication"
        ),
        transaction.atomic(),
    ):
        lock_patient(patient)
        deleted, _ = TitrationStep.objects.filter(pk=step.pk).delete()
        if deleted:
            _audit(context, AuditAction.UPDATE, medication, patient, "titration step removed")
    if not deleted:
        raise MedicationNotFound
    return medication
