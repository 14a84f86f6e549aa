"""Deep brain stimulation over the JSON API: systems with their leads and battery (and the
alert when low), battery checks, programming sessions with each setting's charge density and
the warning when it exceeds the lead's published limit, and the pathway advisor. Clinicians
only; the services check access and audit (channel API). A setting's refusal names the
parameter ``settings`` (its message says which value)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import django_auth
from pydantic import Strict

from clinic.records.api_support import (
    NOT_FOUND,
    ApiProblem,
    ErrorOut,
    Id,
    IsoDatetime,
    StrictBool,
    idempotent,
)
from clinic.records.api_support import api_context as _context
from clinic.records.record_api import IsoDate, WholeNumber
from clinic.treatment import dbs, dbs_programming, selectors
from clinic.treatment.api_support import Number, patient_read, treatment_answered
from clinic.treatment.dbs_programming import ProgrammingDetails, SettingDetails
from clinic.treatment.models import (
    AmplitudeUnit,
    BatteryCheck,
    BatteryStatus,
    DbsLead,
    DbsProgramming,
    DbsSystem,
    DbsTarget,
    Hemisphere,
    MriStatus,
)
from clinic.treatment.models.dbs import MAX_CONTACTS, MODEL_MAX_LENGTH, NOTES_MAX_LENGTH

router = Router(auth=django_auth, tags=["deep brain stimulation"])

ModelName = Annotated[str, Strict(), Field(max_length=MODEL_MAX_LENGTH)]
Notes = Annotated[str, Strict(), Field(max_length=NOTES_MAX_LENGTH)]
Key = Annotated[str, Strict(), Field(max_length=40)]
Polarity = Literal["-", "+", "off"]


class LeadIn(Schema):
    hemisphere: Hemisphere
    model: Key = Field(description="A catalogue lead (3387, 3389) or 'other' with model_other.")
    model_other: ModelName = ""
    contact_count: WholeNumber


class LeadChangeIn(Schema):
    model: Key
    model_other: ModelName = ""
    contact_count: WholeNumber


class SystemIn(Schema):
    target: DbsTarget
    target_other: ModelName = ""
    implanted_on: IsoDate
    generator: Key = Field(description="A catalogue generator ('vercise') or 'other'.")
    generator_model: ModelName = Field("", description="The other generator's model.")
    rechargeable: StrictBool
    mri_status: MriStatus = MriStatus.UNKNOWN
    notes: Notes = ""


class NewSystemIn(SystemIn):
    leads: list[LeadIn] = Field(default_factory=list, max_length=2)


class BatteryIn(Schema):
    checked_on: IsoDate
    status: BatteryStatus
    percent: WholeNumber | None = None


class SettingIn(Schema):
    hemisphere: Hemisphere
    contacts: dict[Key, Polarity] = Field(
        max_length=MAX_CONTACTS + 1,
        description='Polarity by contact and the case: {"1": "-", "case": "+"}; others off.',
    )
    amplitude: Number
    amplitude_unit: AmplitudeUnit
    pulse_width_us: WholeNumber
    frequency_hz: Number
    impedances: dict[Key, WholeNumber] = Field(
        default_factory=dict, max_length=MAX_CONTACTS, description="Ohms by active contact."
    )


class ProgrammingIn(Schema):
    programmed_at: IsoDatetime
    encounter_id: Id | None = None
    side_effects: Notes = ""
    notes: Notes = ""
    settings: list[SettingIn] = Field(max_length=2)


class LeadOut(Schema):
    id: int
    hemisphere: str
    model: str
    model_name: str
    contact_count: int


class BatteryOut(Schema):
    id: int
    checked_on: date
    status: str
    percent: int | None


class SystemOut(Schema):
    id: int
    patient_id: int
    target: str
    target_other: str
    implanted_on: date
    generator: str
    generator_name: str
    rechargeable: bool
    mri_status: str
    notes: str
    leads: list[LeadOut]
    latest_battery: BatteryOut | None
    battery_alert: str | None = Field(description="Set when the latest check is low or worse.")
    recorded_at: datetime
    updated_at: datetime


class SettingOut(Schema):
    hemisphere: str
    lead_id: int
    contacts: dict[str, str]
    amplitude: Decimal
    amplitude_unit: str
    pulse_width_us: int
    frequency_hz: Decimal
    impedances: dict[str, int]
    charge_density: dict[str, float] = Field(description="µC/cm²/phase by active contact.")
    charge_density_checked: bool = Field(description="False: the lead has no published limit.")
    warnings: list[str]


class ProgrammingOut(Schema):
    id: int
    system_id: int
    programmed_at: datetime
    clinician: str
    encounter_id: int | None
    side_effects: str
    notes: str
    settings: list[SettingOut]


class OptionOut(Schema):
    treatment: str
    label: str
    line: str
    text: str
    source: str
    tried: list[str]


class PathwayOut(Schema):
    message: str = Field(description="Set when there are no options to show, saying why.")
    classification_review_id: int | None
    distribution: str
    overridden_note: str
    note: str
    options: list[OptionOut]


def _lead(lead: DbsLead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "hemisphere": lead.hemisphere,
        "model": lead.model,
        "model_name": dbs.lead_label(lead),
        "contact_count": lead.contact_count,
    }


def _battery(check: BatteryCheck | None) -> dict[str, Any] | None:
    return BatteryOut.model_validate(check).model_dump(mode="json") if check else None


def _system(system: DbsSystem, entry: selectors.DbsEntry | None = None) -> dict[str, Any]:
    if entry is None:
        entry = next(e for e in selectors.dbs_entries(system.patient) if e.system.pk == system.pk)
    return {
        "id": system.pk,
        "patient_id": system.patient_id,
        "target": system.target,
        "target_other": system.target_other,
        "implanted_on": system.implanted_on,
        "generator": system.generator,
        "generator_name": entry.generator,
        "rechargeable": system.rechargeable,
        "mri_status": system.mri_status,
        "notes": system.notes,
        "leads": [_lead(view.lead) for view in entry.leads],
        "latest_battery": _battery(entry.latest_battery),
        "battery_alert": entry.alert.text if entry.alert else None,
        "recorded_at": system.recorded_at,
        "updated_at": system.updated_at,
    }


def _programming(session: DbsProgramming) -> dict[str, Any]:
    settings = [
        {
            "hemisphere": view.setting.lead.hemisphere,
            "lead_id": view.setting.lead_id,
            "contacts": view.setting.contacts,
            "amplitude": view.setting.amplitude,
            "amplitude_unit": view.setting.amplitude_unit,
            "pulse_width_us": view.setting.pulse_width_us,
            "frequency_hz": view.setting.frequency_hz,
            "impedances": view.setting.impedances,
            "charge_density": view.setting.charge_density,
            "charge_density_checked": view.density_checked,
            "warnings": view.warnings,
        }
        for view in selectors.setting_views(session)
    ]
    body: dict[str, Any] = {
        "id": session.pk,
        "system_id": session.system_id,
        "programmed_at": session.programmed_at,
        "clinician": session.clinician.full_name,
        "encounter_id": session.encounter_id,
        "side_effects": session.side_effects,
        "notes": session.notes,
        "settings": settings,
    }
    return ProgrammingOut(**body).model_dump(mode="json")


def _system_details(payload: SystemIn) -> dbs.SystemDetails:
    return dbs.SystemDetails(**payload.model_dump(exclude={"leads"}))


@router.get(
    "/patients/{patient_id}/dbs-systems",
    response=list[SystemOut],
    summary="A patient's DBS systems with leads, latest battery check and alert (clinicians)",
)
def list_systems(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    patient = patient_read(request, patient_id, "dbs_system")
    entries = selectors.dbs_entries(patient)
    selectors.list_read(_context(request), patient, object_type="dbs_system", count=len(entries))
    return [_system(entry.system, entry) for entry in entries]


@router.post(
    "/patients/{patient_id}/dbs-systems",
    response={201: SystemOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Record a DBS system with its leads (Idempotency-Key supported)",
)
def add_system(request: HttpRequest, patient_id: int, payload: NewSystemIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with treatment_answered():
            system = dbs.dbs_system_add(
                context=_context(request),
                patient_id=patient_id,
                details=_system_details(payload),
                leads=[dbs.LeadDetails(**lead.model_dump()) for lead in payload.leads],
            )
        return 201, SystemOut(**_system(system)).model_dump(mode="json")

    return idempotent(request, run)


@router.get(
    "/dbs-systems/{system_id}",
    response={200: SystemOut, 404: ErrorOut},
    summary="A DBS system (clinicians)",
)
def get_system(request: HttpRequest, system_id: int) -> dict[str, Any]:
    with treatment_answered():
        system = dbs.system_for_clinician(context=_context(request), system_id=system_id)
    return _system(system)


@router.put(
    "/dbs-systems/{system_id}",
    response={200: SystemOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Change a DBS system's details (not its leads)",
)
def change_system(request: HttpRequest, system_id: int, payload: SystemIn) -> dict[str, Any]:
    with treatment_answered():
        system = dbs.dbs_system_update(
            context=_context(request), system_id=system_id, details=_system_details(payload)
        )
    return _system(system)


@router.put(
    "/dbs-systems/{system_id}/leads/{hemisphere}",
    response={200: LeadOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Add or change the lead in a hemisphere",
)
def save_lead(
    request: HttpRequest, system_id: int, hemisphere: Hemisphere, payload: LeadChangeIn
) -> dict[str, Any]:
    with treatment_answered():
        lead = dbs.dbs_lead_save(
            context=_context(request),
            system_id=system_id,
            details=dbs.LeadDetails(hemisphere=str(hemisphere.value), **payload.model_dump()),
        )
    return _lead(lead)


@router.post(
    "/dbs-systems/{system_id}/battery-checks",
    response={201: BatteryOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Record a battery check (Idempotency-Key supported)",
)
def add_battery_check(request: HttpRequest, system_id: int, payload: BatteryIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with treatment_answered():
            check = dbs.battery_check_add(
                context=_context(request),
                system_id=system_id,
                details=dbs.BatteryDetails(**payload.model_dump()),
            )
        return 201, _battery(check) or {}

    return idempotent(request, run)


@router.post(
    "/dbs-systems/{system_id}/programming",
    response={201: ProgrammingOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary=(
        "Record a programming session: each setting's charge density, and a warning where it "
        "exceeds the lead's published limit (Idempotency-Key supported)"
    ),
)
def add_programming(request: HttpRequest, system_id: int, payload: ProgrammingIn) -> Any:
    details = ProgrammingDetails(
        programmed_at=payload.programmed_at,
        encounter=payload.encounter_id,
        side_effects=payload.side_effects,
        notes=payload.notes,
        settings=[
            SettingDetails(**{**s.model_dump(), "hemisphere": str(s.hemisphere.value)})
            for s in payload.settings
        ],
    )

    def run() -> tuple[int, dict[str, Any]]:
        with treatment_answered():
            session = dbs_programming.dbs_programming_record(
                context=_context(request), system_id=system_id, details=details
            )
        return 201, _programming(session)

    return idempotent(request, run)


@router.get(
    "/dbs-programming/{programming_id}",
    response={200: ProgrammingOut, 404: ErrorOut},
    summary="A programming session with its settings and charge densities (clinicians)",
)
def get_programming(request: HttpRequest, programming_id: int) -> dict[str, Any]:
    with treatment_answered():
        session = dbs_programming.programming_for_clinician(
            context=_context(request), programming_id=programming_id
        )
    return _programming(session)


@router.get(
    "/patients/{patient_id}/treatment-pathway",
    response=PathwayOut,
    tags=["treatment"],
    summary="The core's treatment options for the latest decided classification, with what "
    "was tried (clinicians; advice only)",
)
def get_pathway(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    patient = patient_read(request, patient_id, "treatment")
    panel = selectors.treatment_page(context=_context(request), patient=patient).pathway
    if panel is None:  # pragma: no cover - treatment_page always builds it
        raise ApiProblem(404, NOT_FOUND)
    return {
        "message": panel.message,
        "classification_review_id": panel.review.pk if panel.review else None,
        "distribution": panel.distribution,
        "overridden_note": panel.overridden_note,
        "note": panel.note,
        "options": [
            {
                "treatment": str(row.step.treatment.value),
                "label": row.treatment,
                "line": str(row.step.line.value),
                "text": row.step.text,
                "source": row.step.source,
                "tried": row.tried,
            }
            for row in panel.rows
        ],
    }
