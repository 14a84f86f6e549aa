"""Medication over the JSON API: a patient's medicines with today's dose, prescribing (with a
first dose), changing, stopping, and dose steps. Clinicians only; the services check access and
audit (channel API)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth
from pydantic import Strict

from clinic.records.api_support import ErrorOut, Id, StrictBool, idempotent
from clinic.records.api_support import api_context as _context
from clinic.records.record_api import IsoDate, WholeNumber
from clinic.treatment import medication, selectors
from clinic.treatment.api_support import Number, patient_read, treatment_answered
from clinic.treatment.models import (
    DoseUnit,
    Effect,
    Medication,
    StopReason,
    TitrationStep,
)
from clinic.treatment.models import medication as medication_model

router = Router(auth=django_auth, tags=["medication"])


# Medication


class StepOut(Schema):
    id: int
    starts_on: date
    dose: Decimal
    unit: str
    times_per_day: int
    note: str


class MedicationOut(Schema):
    id: int
    patient_id: int
    drug: str
    dopamine_receptor_blocker: bool
    purpose: str
    started_on: date
    stopped_on: date | None
    stop_reason: str
    effect: str
    side_effects: str
    encounter_id: int | None
    prescribed_by: str
    recorded_at: datetime
    updated_at: datetime
    current_dose: StepOut | None
    titration_steps: list[StepOut]


class DoseIn(Schema):
    dose: Number
    unit: DoseUnit
    times_per_day: WholeNumber
    starts_on: IsoDate | None = Field(None, description="null: the medicine's start.")
    note: Annotated[str, Strict(), Field(max_length=medication_model.NOTE_MAX_LENGTH)] = ""


class MedicationIn(Schema):
    drug: Annotated[str, Strict(), Field(max_length=medication_model.DRUG_MAX_LENGTH)]
    dopamine_receptor_blocker: StrictBool | None = Field(
        None, description="null: decided from the medicine's name."
    )
    purpose: Annotated[str, Strict(), Field(max_length=medication_model.PURPOSE_MAX_LENGTH)] = ""
    started_on: IsoDate
    stopped_on: IsoDate | None = None
    stop_reason: StopReason | None = None
    effect: Effect = Effect.NOT_ASSESSED
    side_effects: Annotated[str, Strict(), Field(max_length=medication.SIDE_EFFECTS_MAX_LENGTH)] = (
        ""
    )
    encounter_id: Id | None = None


class NewMedicationIn(MedicationIn):
    first_dose: DoseIn | None = None


class StopIn(Schema):
    stopped_on: IsoDate
    stop_reason: StopReason


def _step(step: TitrationStep) -> dict[str, Any]:
    return StepOut.model_validate(step).model_dump(mode="json")


def _medication(found: Medication, steps: list[TitrationStep] | None = None) -> dict[str, Any]:
    steps = medication.steps_of(found) if steps is None else steps
    current = medication.current_step(steps)
    return {
        "id": found.pk,
        "patient_id": found.patient_id,
        "drug": found.drug,
        "dopamine_receptor_blocker": found.dopamine_receptor_blocker,
        "purpose": found.purpose,
        "started_on": found.started_on,
        "stopped_on": found.stopped_on,
        "stop_reason": found.stop_reason,
        "effect": found.effect,
        "side_effects": found.side_effects,
        "encounter_id": found.encounter_id,
        "prescribed_by": found.prescribed_by.full_name,
        "recorded_at": found.recorded_at,
        "updated_at": found.updated_at,
        "current_dose": _step(current) if current and not found.stopped_on else None,
        "titration_steps": [_step(s) for s in steps],
    }


def _medication_details(payload: MedicationIn) -> medication.MedicationDetails:
    data = payload.model_dump(exclude={"first_dose", "encounter_id"})
    data["stop_reason"] = data["stop_reason"] or ""
    return medication.MedicationDetails(**data, encounter=payload.encounter_id)


def _dose(payload: DoseIn) -> medication.DoseDetails:
    return medication.DoseDetails(**payload.model_dump())


@router.get(
    "/patients/{patient_id}/medications",
    response=list[MedicationOut],
    tags=["medication"],
    summary="A patient's medication, newest first, with today's dose (clinicians)",
)
def list_medications(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    patient = patient_read(request, patient_id, "medication")
    entries = selectors.medication_entries(patient)
    selectors.list_read(_context(request), patient, object_type="medication", count=len(entries))
    return [_medication(e.medication, list(e.medication.titration_steps.all())) for e in entries]


@router.post(
    "/patients/{patient_id}/medications",
    response={201: MedicationOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["medication"],
    summary="Prescribe a medicine, with its first dose (Idempotency-Key supported)",
)
def add_medication(request: HttpRequest, patient_id: int, payload: NewMedicationIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with treatment_answered():
            added = medication.medication_add(
                context=_context(request),
                patient_id=patient_id,
                details=_medication_details(payload),
                first_dose=_dose(payload.first_dose) if payload.first_dose else None,
            )
        return 201, MedicationOut(**_medication(added)).model_dump(mode="json")

    return idempotent(request, run)


@router.get(
    "/medications/{medication_id}",
    response={200: MedicationOut, 404: ErrorOut},
    tags=["medication"],
    summary="A medicine with its dose steps (clinicians)",
)
def get_medication(request: HttpRequest, medication_id: int) -> dict[str, Any]:
    with treatment_answered():
        found = medication.medication_for_clinician(
            context=_context(request), medication_id=medication_id
        )
    return _medication(found)


@router.put(
    "/medications/{medication_id}",
    response={200: MedicationOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["medication"],
    summary="Change a medicine (a stop needs its reason)",
)
def change_medication(
    request: HttpRequest, medication_id: int, payload: MedicationIn
) -> dict[str, Any]:
    with treatment_answered():
        changed = medication.medication_update(
            context=_context(request),
            medication_id=medication_id,
            details=_medication_details(payload),
        )
    return _medication(changed)


@router.post(
    "/medications/{medication_id}/stop",
    response={200: MedicationOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["medication"],
    summary="Record that a medicine was stopped, and why (409 if it already was)",
)
def stop_medication(request: HttpRequest, medication_id: int, payload: StopIn) -> dict[str, Any]:
    with treatment_answered():
        stopped = medication.medication_stop(
            context=_context(request),
            medication_id=medication_id,
            stopped_on=payload.stopped_on,
            stop_reason=str(payload.stop_reason.value),
        )
    return _medication(stopped)


@router.post(
    "/medications/{medication_id}/steps",
    response={201: StepOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["medication"],
    summary="Add a dose step (one per day, within the medicine's dates)",
)
def add_step(request: HttpRequest, medication_id: int, payload: DoseIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with treatment_answered():
            step = medication.titration_step_add(
                context=_context(request), medication_id=medication_id, details=_dose(payload)
            )
        return 201, _step(step)

    return idempotent(request, run)


@router.delete(
    "/titration-steps/{step_id}",
    response={204: None, 404: ErrorOut, 409: ErrorOut},
    tags=["medication"],
    summary="Remove a dose step entered in error",
)
def remove_step(request: HttpRequest, step_id: int) -> Status[None]:
    with treatment_answered():
        medication.titration_step_remove(context=_context(request), step_id=step_id)
    return Status(204, None)
