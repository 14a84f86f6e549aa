"""The clinical record over the JSON API: encounters (clinicians only), allergies and alerts,
next of kin. Handlers parse and call one service or selector, which checks access and audits
(channel API); records/api_support.py maps their refusals onto the one error shape
(docs/clinical-record.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth
from pydantic import Strict

from clinic.accounts.models import Role
from clinic.api_types import PlainText
from clinic.audit.services import AuditContext
from clinic.directory.models import Site
from clinic.records import alerts, contacts, encounter_selectors, encounters
from clinic.records import selectors as records_selectors
from clinic.records.access import DataCategory
from clinic.records.api_support import (
    INVALID,
    ApiProblem,
    ErrorOut,
    Id,
    IsoDatetime,
    StrictBool,
    answered,
    idempotent,
)
from clinic.records.api_support import api_context as _context
from clinic.records.contact_forms import NextOfKinForm
from clinic.records.encounters import EncounterRefused
from clinic.records.models import (
    NAME_MAX_LENGTH,
    Addendum,
    AlertKind,
    Encounter,
    EncounterKind,
    NextOfKin,
    Patient,
    PatientAlert,
)
from clinic.scheduling.models import Appointment

router = Router(tags=["encounters"], auth=django_auth)

NO_SUCH_SITE = "no site has this id"
NO_SUCH_APPOINTMENT = "no appointment has this id"
STALE = (
    "The encounter was saved elsewhere since the updated_at you sent, so nothing was changed. "
    "Read it again, compare, and send your change with its current updated_at."
)
STARTED_BY_COLLEAGUE = (
    "This appointment's encounter was already started, so your notes were not saved: keep "
    "them, read the encounter, and add them there if they still apply."
)

# Multi-line text: newlines are fine; NUL is refused by the services (audited, 422).
Notes = Annotated[str, Strict(), Field(max_length=encounters.NOTES_MAX_LENGTH)]


# Encounters


class EncounterSummaryOut(Schema):
    id: int
    patient_id: int
    kind: str
    kind_label: str
    clinician_id: int
    clinician: str
    site_id: int
    site: str
    appointment_id: int | None
    started_at: datetime
    signed: bool
    signed_at: datetime | None
    # Text, to the microsecond: sent back as seen when saving or signing (the JSON renderer
    # would round a datetime to milliseconds, and the comparison is exact).
    updated_at: str = Field(description="Send back exactly as received when saving or signing.")


class AddendumOut(Schema):
    id: int
    encounter_id: int
    text: str
    author: str
    created_at: datetime


class EncounterOut(EncounterSummaryOut):
    notes: str
    signed_by: str | None
    addenda: list[AddendumOut]


class EncounterStartIn(Schema):
    kind: EncounterKind
    appointment_id: Id | None = Field(
        None, description="Start from this appointment: its site and time are used."
    )
    site_id: Id | None = Field(None, description="Where (required without an appointment).")
    started_at: IsoDatetime | None = Field(
        None, description="When (without an appointment; default now), with its UTC offset."
    )
    notes: Notes = ""


class NotesIn(Schema):
    notes: Notes
    updated_at: IsoDatetime = Field(description="The encounter's updated_at as last read.")


class SignIn(Schema):
    updated_at: IsoDatetime = Field(
        description="The updated_at of the notes as read: changed notes are not signed unseen."
    )


class AddendumIn(Schema):
    text: Annotated[str, Strict(), Field(max_length=encounters.ADDENDUM_MAX_LENGTH)]


def _summary(encounter: Encounter) -> dict[str, Any]:
    return {
        "id": encounter.pk,
        "patient_id": encounter.patient_id,
        "kind": encounter.kind,
        "kind_label": encounter.get_kind_display(),
        "clinician_id": encounter.clinician_id,
        "clinician": encounter.clinician.full_name,
        "site_id": encounter.site_id,
        "site": encounter.site.name,
        "appointment_id": encounter.appointment_id,
        "started_at": encounter.started_at,
        "signed": encounter.is_signed,
        "signed_at": encounter.signed_at,
        "updated_at": encounter.updated_at.isoformat(),
    }


def _addendum(addendum: Addendum) -> dict[str, Any]:
    return {
        "id": addendum.pk,
        "encounter_id": addendum.encounter_id,
        "text": addendum.text,
        "author": addendum.author.full_name,
        "created_at": addendum.created_at,
    }


def _encounter(encounter: Encounter, *, addenda: list[Addendum] | None = None) -> dict[str, Any]:
    listed = list(encounter.addenda.all()) if addenda is None else addenda
    signer = encounter.signed_by
    values = _summary(encounter) | {
        "notes": encounter.notes,
        "signed_by": signer.full_name if signer else None,
        "addenda": [_addendum(a) for a in listed],
    }
    return EncounterOut(**values).model_dump(mode="json")


def _patient(context: AuditContext, patient_id: int) -> Patient:
    """The patient by id; an unknown id is audited and answered 404 by the selector."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        records_selectors.patient_for_user(context=context, patient_id=patient_id)
        raise records_selectors.PatientNotFound
    return patient


def _stale(encounter_id: int) -> ApiProblem:
    current = Encounter.objects.filter(pk=encounter_id).values_list("updated_at", flat=True)
    seen = current.first()
    updated_at = seen.isoformat() if seen else None
    message = f"the encounter was saved since; its updated_at is now {updated_at}"
    return ApiProblem(409, STALE, [("updated_at", "body", message)], {"updated_at": updated_at})


@router.get(
    "/patients/{patient_id}/encounters",
    response=list[EncounterSummaryOut],
    summary="A patient's encounters, latest first, without notes (clinicians)",
)
def list_encounters(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    context = _context(request)
    with answered():
        patient = _patient(context, patient_id)
        listed = encounter_selectors.encounters_of_patient(context=context, patient=patient)
        # An audited read even when the list is empty: "no encounters" is clinical too.
        records_selectors.patient_for_user(
            context=context, patient_id=patient.pk, category=DataCategory.CLINICAL
        )
    return [_summary(encounter) for encounter in listed]


def _lookup(model: type[Site] | type[Appointment], pk: int | None, field: str, problem: str) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ApiProblem(422, INVALID, [(field, "body", problem)])
    return found


@router.post(
    "/patients/{patient_id}/encounters",
    response={200: EncounterOut, 201: EncounterOut, 409: ErrorOut, 422: ErrorOut},
    summary="Start an encounter (clinicians; send an Idempotency-Key header to make retries safe)",
    description="From an appointment (appointment_id: its site and time are used; a second "
    "start answers 200 with the encounter already started, or 409 if notes were sent), or "
    "standalone (site_id required; started_at defaults to now).",
)
def start_encounter(request: HttpRequest, patient_id: int, payload: EncounterStartIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        context = _context(request)
        with answered():
            patient = encounter_selectors.patient_for_encounter(
                context=context, patient_id=patient_id
            )
            appointment = _lookup(
                Appointment, payload.appointment_id, "appointment_id", NO_SUCH_APPOINTMENT
            )
            site = _lookup(Site, payload.site_id, "site_id", NO_SUCH_SITE)
            encounter, created = encounters.encounter_start(
                context=context,
                patient=patient,
                kind=payload.kind.value,
                site=site,
                started_at=payload.started_at,
                appointment=appointment,
                notes=payload.notes,
            )
        if created:
            return 201, _encounter(encounter, addenda=[])
        if payload.notes.strip():
            error = ApiProblem(
                409,
                STARTED_BY_COLLEAGUE,
                [("notes", "body", STARTED_BY_COLLEAGUE)],
                {"encounter_id": encounter.pk},
            )
            return error.status, error.body()
        return 200, _encounter(encounter)

    return idempotent(request, run)


@router.get(
    "/encounters/{encounter_id}",
    response=EncounterOut,
    summary="One encounter with its notes and addenda (clinicians)",
)
def get_encounter(request: HttpRequest, encounter_id: int) -> dict[str, Any]:
    with answered():
        encounter = encounter_selectors.encounter_for_clinician(
            context=_context(request), encounter_id=encounter_id
        )
    return _encounter(encounter)


@router.put(
    "/encounters/{encounter_id}/notes",
    response={200: EncounterOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Save a draft's notes (its clinician; 409 if saved since, or signed)",
    description="Send the updated_at last read: if the encounter was saved since, nothing is "
    "overwritten and the 409 carries the current updated_at. A signed encounter is locked.",
)
def save_notes(request: HttpRequest, encounter_id: int, payload: NotesIn) -> dict[str, Any]:
    with answered():
        try:
            encounter = encounters.encounter_update_notes(
                context=_context(request),
                encounter_id=encounter_id,
                notes=payload.notes,
                expected_updated_at=payload.updated_at,
            )
        except EncounterRefused as refusal:
            if refusal.message == encounters.STALE:
                raise _stale(encounter_id) from None
            raise
    return _encounter(encounter, addenda=[])


@router.post(
    "/encounters/{encounter_id}/sign",
    response={200: EncounterOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Sign and lock a draft (its clinician; the notes as read, by their updated_at)",
)
def sign_encounter(request: HttpRequest, encounter_id: int, payload: SignIn) -> dict[str, Any]:
    with answered():
        try:
            encounter = encounters.encounter_sign(
                context=_context(request),
                encounter_id=encounter_id,
                expected_updated_at=payload.updated_at,
            )
        except EncounterRefused as refusal:
            if refusal.message == encounters.STALE:
                raise _stale(encounter_id) from None
            raise
    return _encounter(encounter, addenda=[])


@router.post(
    "/encounters/{encounter_id}/addenda",
    response={201: AddendumOut, 409: ErrorOut, 422: ErrorOut},
    summary="Add an addendum to a signed encounter (any clinician; Idempotency-Key supported)",
)
def add_addendum(request: HttpRequest, encounter_id: int, payload: AddendumIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with answered():
            addendum = encounters.addendum_add(
                context=_context(request), encounter_id=encounter_id, text=payload.text
            )
        return 201, AddendumOut(**_addendum(addendum)).model_dump(mode="json")

    return idempotent(request, run)


# Allergies and alerts: read by whoever reads the patient's demographics; written as
# alerts.py decides (clinicians any kind, reception the practical ones, patients none).


class AlertOut(Schema):
    id: int
    patient_id: int
    kind: str
    kind_label: str
    detail: str
    active: bool
    recorded_at: datetime
    recorded_by: str | None = Field(description="Not shown to the patient.")
    ended_at: datetime | None
    ended_by: str | None


class AlertsOut(Schema):
    allergy_ever_recorded: bool = Field(
        description='False means "no allergy recorded", which is not "no allergies".'
    )
    active: list[AlertOut]
    ended: list[AlertOut] = Field(description="The latest ended ones (staff only).")


class AlertIn(Schema):
    kind: AlertKind
    detail: PlainText = Field(
        "",
        max_length=alerts.DETAIL_MAX_LENGTH,
        description="Required for an allergy (substance and reaction) or other.",
    )


def _alert(alert: PatientAlert, *, with_who: bool) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "patient_id": alert.patient_id,
        "kind": alert.kind,
        "kind_label": alert.get_kind_display(),
        "detail": alert.detail,
        "active": alert.ended_at is None,
        "recorded_at": alert.recorded_at,
        "recorded_by": alert.recorded_by.full_name if with_who else None,
        "ended_at": alert.ended_at,
        "ended_by": alert.ended_by.full_name if with_who and alert.ended_by else None,
    }


@router.get(
    "/patients/{patient_id}/alerts",
    response=AlertsOut,
    tags=["alerts"],
    summary="A patient's allergies and alerts (staff; the patient their own)",
)
def list_alerts(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    with answered():
        patient = records_selectors.patient_for_user(
            context=_context(request), patient_id=patient_id
        )
    # Under the audited read of the patient above, as on the record pages.
    staff = getattr(request.user, "role", None) != Role.PATIENT
    summary = alerts.alert_history(patient) if staff else alerts.active_alerts(patient)
    return {
        "allergy_ever_recorded": summary.allergy_ever_recorded,
        "active": [_alert(a, with_who=staff) for a in summary.active],
        "ended": [_alert(a, with_who=staff) for a in summary.ended],
    }


@router.post(
    "/patients/{patient_id}/alerts",
    response={201: AlertOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["alerts"],
    summary="Record an allergy or alert (clinicians any kind; reception the practical ones)",
)
def add_alert(request: HttpRequest, patient_id: int, payload: AlertIn) -> Status[dict[str, Any]]:
    with answered():
        alert = alerts.alert_add(
            context=_context(request),
            patient_id=patient_id,
            kind=payload.kind.value,
            detail=payload.detail,
        )
    return Status(201, _alert(alert, with_who=True))


@router.post(
    "/alerts/{alert_id}/end",
    response={200: AlertOut, 403: ErrorOut, 409: ErrorOut},
    tags=["alerts"],
    summary="End an active alert (kept, with who ended it and when)",
)
def end_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    with answered():
        alert = alerts.alert_end(context=_context(request), alert_id=alert_id)
    return _alert(alert, with_who=True)


# Next of kin: staff read and write; the patient reads their own.


class NextOfKinOut(Schema):
    id: int
    patient_id: int
    name: str
    relationship: str
    phone: str
    email: str
    is_emergency_contact: bool


class NextOfKinIn(Schema):
    name: PlainText = Field(min_length=1, max_length=NAME_MAX_LENGTH * 2)
    relationship: PlainText = Field(min_length=1, max_length=60)
    phone: PlainText = Field("", max_length=30, description="A telephone number or an email.")
    email: PlainText = Field("", max_length=254)
    is_emergency_contact: StrictBool = False


def _details(payload: NextOfKinIn) -> contacts.NextOfKinDetails:
    """The page's form checks the rules (an email address, a way to reach them)."""
    form = NextOfKinForm(data=payload.model_dump())
    if not form.is_valid():
        problems = [
            (field, "body", str(message))
            for field, messages in form.errors.items()
            for message in messages
        ]
        raise ApiProblem(422, "Invalid next of kin.", problems)
    return form.details()


def _kin(kin: NextOfKin) -> dict[str, Any]:
    return NextOfKinOut.model_validate(kin).model_dump(mode="json")


@router.get(
    "/patients/{patient_id}/next-of-kin",
    response=list[NextOfKinOut],
    tags=["next of kin"],
    summary="A patient's next of kin (staff; the patient their own)",
)
def list_next_of_kin(request: HttpRequest, patient_id: int) -> list[NextOfKin]:
    with answered():
        patient = records_selectors.patient_for_user(
            context=_context(request), patient_id=patient_id
        )
    return contacts.next_of_kin_of_patient(patient=patient)


@router.post(
    "/patients/{patient_id}/next-of-kin",
    response={201: NextOfKinOut, 403: ErrorOut, 422: ErrorOut},
    tags=["next of kin"],
    summary="Add a next of kin (reception and clinicians)",
)
def add_next_of_kin(
    request: HttpRequest, patient_id: int, payload: NextOfKinIn
) -> Status[dict[str, Any]]:
    details = _details(payload)
    with answered():
        kin = contacts.next_of_kin_add(
            context=_context(request), patient_id=patient_id, details=details
        )
    return Status(201, _kin(kin))


@router.put(
    "/next-of-kin/{next_of_kin_id}",
    response={200: NextOfKinOut, 403: ErrorOut, 422: ErrorOut},
    tags=["next of kin"],
    summary="Change a next of kin's details (reception and clinicians)",
)
def change_next_of_kin(
    request: HttpRequest, next_of_kin_id: int, payload: NextOfKinIn
) -> dict[str, Any]:
    details = _details(payload)
    with answered():
        kin = contacts.next_of_kin_update(
            context=_context(request), next_of_kin_id=next_of_kin_id, details=details
        )
    return _kin(kin)


@router.delete(
    "/next-of-kin/{next_of_kin_id}",
    response={204: None, 403: ErrorOut},
    tags=["next of kin"],
    summary="Remove a next of kin (reception and clinicians)",
)
def remove_next_of_kin(request: HttpRequest, next_of_kin_id: int) -> Status[None]:
    with answered():
        contacts.next_of_kin_remove(context=_context(request), next_of_kin_id=next_of_kin_id)
    return Status(204, None)
