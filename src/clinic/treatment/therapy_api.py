"""Therapy and surgery over the JSON API: referrals with their sessions, and procedures.
Clinicians only; the services check access and audit (channel API)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import django_auth
from pydantic import Strict

from clinic.records.api_support import ErrorOut, Id, StrictBool, idempotent
from clinic.records.api_support import api_context as _context
from clinic.records.record_api import IsoDate
from clinic.treatment import selectors, surgery, therapy
from clinic.treatment.api_support import patient_read, treatment_answered
from clinic.treatment.models import (
    Discipline,
    Procedure,
    ProcedureKind,
    ProcedureSide,
    ReferralStatus,
    TherapyReferral,
    TherapySession,
)
from clinic.treatment.models import surgery as surgery_model
from clinic.treatment.models import therapy as therapy_model

router = Router(auth=django_auth)


# Therapy


class SessionOut(Schema):
    id: int
    held_on: date
    attended: bool
    notes: str
    progress: str


class ReferralOut(Schema):
    id: int
    patient_id: int
    discipline: str
    referred_on: date
    reason: str
    goals: str
    status: str
    discharged_on: date | None
    outcome: str
    encounter_id: int | None
    recorded_at: datetime
    updated_at: datetime
    sessions: list[SessionOut] | None = Field(None, description="With a referral read by its id.")


class ReferralIn(Schema):
    discipline: Discipline
    referred_on: IsoDate
    reason: Annotated[str, Strict(), Field(max_length=therapy_model.REASON_MAX_LENGTH)] = ""
    goals: Annotated[str, Strict(), Field(max_length=therapy_model.GOALS_MAX_LENGTH)] = ""
    status: ReferralStatus = ReferralStatus.REFERRED
    discharged_on: IsoDate | None = None
    outcome: Annotated[str, Strict(), Field(max_length=therapy_model.OUTCOME_MAX_LENGTH)] = ""
    encounter_id: Id | None = None


class SessionIn(Schema):
    held_on: IsoDate
    attended: StrictBool = True
    notes: Annotated[str, Strict(), Field(max_length=therapy_model.SESSION_TEXT_MAX_LENGTH)] = ""
    progress: Annotated[str, Strict(), Field(max_length=therapy_model.SESSION_TEXT_MAX_LENGTH)] = ""


def _referral(
    found: TherapyReferral, sessions: list[TherapySession] | None = None
) -> dict[str, Any]:
    body = ReferralOut.model_validate(found).model_dump(mode="json", exclude={"sessions"})
    body["sessions"] = (
        None
        if sessions is None
        else [SessionOut.model_validate(s).model_dump(mode="json") for s in sessions]
    )
    return body


def _referral_details(payload: ReferralIn) -> therapy.ReferralDetails:
    data = payload.model_dump(exclude={"encounter_id"})
    return therapy.ReferralDetails(**data, encounter=payload.encounter_id)


@router.get(
    "/patients/{patient_id}/therapy-referrals",
    response=list[ReferralOut],
    tags=["therapy"],
    summary="A patient's therapy referrals, newest first (clinicians)",
)
def list_referrals(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    patient = patient_read(request, patient_id, "therapy_referral")
    referrals = selectors.referrals_of(patient)
    selectors.list_read(
        _context(request), patient, object_type="therapy_referral", count=len(referrals)
    )
    return [_referral(r) for r in referrals]


@router.post(
    "/patients/{patient_id}/therapy-referrals",
    response={201: ReferralOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["therapy"],
    summary="Refer to a therapy (Idempotency-Key supported)",
)
def add_referral(request: HttpRequest, patient_id: int, payload: ReferralIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with treatment_answered():
            referral = therapy.referral_add(
                context=_context(request), patient_id=patient_id, details=_referral_details(payload)
            )
        return 201, _referral(referral, [])

    return idempotent(request, run)


@router.get(
    "/therapy-referrals/{referral_id}",
    response={200: ReferralOut, 404: ErrorOut},
    tags=["therapy"],
    summary="A therapy referral with its sessions (clinicians)",
)
def get_referral(request: HttpRequest, referral_id: int) -> dict[str, Any]:
    with treatment_answered():
        found = therapy.referral_for_clinician(context=_context(request), referral_id=referral_id)
    return _referral(found, therapy.sessions_of(found))


@router.put(
    "/therapy-referrals/{referral_id}",
    response={200: ReferralOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["therapy"],
    summary="Change a referral: its status, discharge and outcome",
)
def change_referral(request: HttpRequest, referral_id: int, payload: ReferralIn) -> dict[str, Any]:
    with treatment_answered():
        changed = therapy.referral_update(
            context=_context(request), referral_id=referral_id, details=_referral_details(payload)
        )
    return _referral(changed, therapy.sessions_of(changed))


@router.post(
    "/therapy-referrals/{referral_id}/sessions",
    response={201: SessionOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["therapy"],
    summary="Record a session (409 for a declined referral)",
)
def add_session(request: HttpRequest, referral_id: int, payload: SessionIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with treatment_answered():
            session = therapy.session_add(
                context=_context(request),
                referral_id=referral_id,
                details=therapy.SessionDetails(**payload.model_dump()),
            )
        return 201, SessionOut.model_validate(session).model_dump(mode="json")

    return idempotent(request, run)


# Surgery

Names = Annotated[
    list[Annotated[str, Strict(), Field(max_length=surgery.ITEM_MAX_LENGTH)]],
    Field(max_length=surgery.ITEMS_MAX),
]


class ProcedureOut(Schema):
    id: int
    patient_id: int
    kind: str
    name: str
    title: str
    performed_on: date
    surgeon: str
    hospital: str
    side: str
    nerves: list[str]
    muscles: list[str]
    outcome: str
    complications: str
    encounter_id: int | None
    recorded_at: datetime
    updated_at: datetime


class ProcedureIn(Schema):
    kind: ProcedureKind
    name: Annotated[str, Strict(), Field(max_length=surgery_model.NAME_MAX_LENGTH)] = Field(
        "", description="Required for another procedure."
    )
    performed_on: IsoDate
    surgeon: Annotated[str, Strict(), Field(max_length=surgery_model.NAME_MAX_LENGTH)] = ""
    hospital: Annotated[str, Strict(), Field(max_length=surgery_model.NAME_MAX_LENGTH)] = ""
    side: ProcedureSide | None = Field(None, description="null: not applicable.")
    nerves: Names = []
    muscles: Names = []
    outcome: Annotated[str, Strict(), Field(max_length=surgery_model.TEXT_MAX_LENGTH)] = ""
    complications: Annotated[str, Strict(), Field(max_length=surgery_model.TEXT_MAX_LENGTH)] = ""
    encounter_id: Id | None = None


def _procedure(found: Procedure) -> dict[str, Any]:
    return ProcedureOut.model_validate(found).model_dump(mode="json")


def _procedure_details(payload: ProcedureIn) -> surgery.ProcedureDetails:
    data = payload.model_dump(exclude={"encounter_id"})
    data["side"] = data["side"] or ""
    return surgery.ProcedureDetails(**data, encounter=payload.encounter_id)


@router.get(
    "/patients/{patient_id}/procedures",
    response=list[ProcedureOut],
    tags=["surgery"],
    summary="A patient's procedures, newest first (clinicians)",
)
def list_procedures(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    patient = patient_read(request, patient_id, "procedure")
    procedures = selectors.procedures_of(patient)
    selectors.list_read(_context(request), patient, object_type="procedure", count=len(procedures))
    return [_procedure(p) for p in procedures]


@router.post(
    "/patients/{patient_id}/procedures",
    response={201: ProcedureOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["surgery"],
    summary="Record a procedure (Idempotency-Key supported)",
)
def add_procedure(request: HttpRequest, patient_id: int, payload: ProcedureIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with treatment_answered():
            added = surgery.procedure_add(
                context=_context(request),
                patient_id=patient_id,
                details=_procedure_details(payload),
            )
        return 201, _procedure(added)

    return idempotent(request, run)


@router.get(
    "/procedures/{procedure_id}",
    response={200: ProcedureOut, 404: ErrorOut},
    tags=["surgery"],
    summary="A procedure (clinicians)",
)
def get_procedure(request: HttpRequest, procedure_id: int) -> dict[str, Any]:
    with treatment_answered():
        found = surgery.procedure_for_clinician(
            context=_context(request), procedure_id=procedure_id
        )
    return _procedure(found)


@router.put(
    "/procedures/{procedure_id}",
    response={200: ProcedureOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["surgery"],
    summary="Change a procedure",
)
def change_procedure(
    request: HttpRequest, procedure_id: int, payload: ProcedureIn
) -> dict[str, Any]:
    with treatment_answered():
        changed = surgery.procedure_update(
            context=_context(request),
            procedure_id=procedure_id,
            details=_procedure_details(payload),
        )
    return _procedure(changed)
