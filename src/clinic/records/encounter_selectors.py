"""Reads of encounters, for clinicians only (encounters.may_use_encounters): one encounter
with its addenda, a patient's encounters, and the clinic list ("my patients today"). Each
checks access, uses a fixed number of queries, and audits what it shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from django.db.models import Prefetch

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object, audit_record_many
from clinic.records import selectors as records_selectors
from clinic.records.access import Access, DataCategory, access_patient_list, refuse
from clinic.records.encounters import (
    EncounterNotFound,
    check_clinician,
    encounter_not_found,
    may_use_encounters,
)
from clinic.records.models import Addendum, Encounter, Patient
from clinic.scheduling.availability import clinic_tz, local_today
from clinic.scheduling.models import Appointment, AppointmentStatus

PATIENT_ENCOUNTERS_SHOWN = 50

_audit_encounter = partial(audit_object, object_type="encounter")


def encounter_for_clinician(*, context: AuditContext, encounter_id: int) -> Encounter:
    """One encounter with its patient, clinician, site, appointment and addenda (three
    queries and an audit entry). Raises EncounterNotFound or AccessRefused, both audited."""
    addenda = Addendum.objects.select_related("author")
    encounter = (
        Encounter.objects.select_related(
            "patient", "clinician", "signed_by", "site", "appointment__service"
        )
        .prefetch_related(Prefetch("addenda", queryset=addenda))
        .filter(pk=encounter_id)
        .first()
    )
    if encounter is None:
        encounter_not_found(context, encounter_id, AuditAction.READ)
        raise EncounterNotFound
    check_clinician(context, encounter.patient, AuditAction.READ, encounter)
    _audit_encounter(context, AuditAction.READ, encounter, encounter.patient, "encounter read")
    return encounter


def encounters_of_patient(*, context: AuditContext, patient: Patient) -> list[Encounter]:
    """The patient's latest PATIENT_ENCOUNTERS_SHOWN encounters, latest first, without their
    notes (clinicians only; one audit entry when any are shown)."""
    check_clinician(context, patient, AuditAction.READ)
    listed = list(
        Encounter.objects.filter(patient=patient)
        .select_related("clinician", "site")
        .defer("notes")
        .order_by("-started_at", "-pk")[:PATIENT_ENCOUNTERS_SHOWN]
    )
    if listed:
        _audit_encounter(context, AuditAction.READ, None, patient, f"{len(listed)} encounters")
    return listed


def encounters_section(*, context: AuditContext, patient: Patient) -> list[Encounter] | None:
    """The encounters for the staff patient page: ``None`` (the section is not shown, and
    nothing was asked, so nothing is refused) for anyone but a clinician."""
    if not may_use_encounters(context.actor, patient, Access.READ):
        return None
    return encounters_of_patient(context=context, patient=patient)


def patient_for_encounter(*, context: AuditContext, patient_id: int) -> Patient:
    """The patient a clinician starts an encounter for: refused and audited (404 for an
    unknown id, 403 for other staff, 404 for patients) before anything is shown."""
    target = Patient.objects.filter(pk=patient_id).first()
    if target is None:
        # The patient selector audits the guessed id and raises PatientNotFound.
        return records_selectors.patient_for_user(context=context, patient_id=patient_id)
    check_clinician(context, target, AuditAction.CREATE)
    return records_selectors.patient_for_user(
        context=context, patient_id=patient_id, category=DataCategory.CLINICAL
    )


@dataclass(frozen=True)
class ClinicRow:
    """One booked appointment of the clinic list, with its encounter if one was started."""

    appointment: Appointment
    encounter: Encounter | None

    @property
    def signed(self) -> bool:
        return self.encounter is not None and self.encounter.is_signed


@dataclass(frozen=True)
class ClinicDay:
    """The signed-in clinician's appointments on ``day``; ``linked`` is False when their
    account has no practitioner entry, so no appointments can be theirs."""

    day: date
    rows: list[ClinicRow]
    linked: bool


def _encounter_of(appointment: Appointment) -> Encounter | None:
    try:
        return appointment.encounter
    except Encounter.DoesNotExist:
        return None


def clinic_today(*, context: AuditContext) -> ClinicDay:
    """The signed-in clinician's appointments today (Europe/London), not cancelled, in time
    order, each with whether an encounter exists and is signed: one query, and one audit
    entry per patient shown. Clinicians only: others are refused (audited)."""
    actor = context.actor
    if actor is None or not access_patient_list(actor) or actor.role != Role.CLINICIAN:
        raise refuse(context, object_type="clinic_list", detail="clinic list refused")
    day = local_today()
    if actor.practitioner_id is None:
        return ClinicDay(day=day, rows=[], linked=False)
    start = datetime.combine(day, time(0), tzinfo=clinic_tz())
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=clinic_tz())
    appointments = list(
        Appointment.objects.filter(
            practitioner_id=actor.practitioner_id, start__gte=start, start__lt=end
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "site", "service", "encounter")
        .defer("encounter__notes")
        .order_by("start", "pk")
    )
    patients = list({a.patient_id: a.patient for a in appointments}.values())
    if patients:
        audit_record_many(
            context=context,
            action=AuditAction.READ,
            object_type="clinic_list",
            patients=patients,
            detail=f"today's clinic, {day:%Y-%m-%d}",
        )
    rows = [ClinicRow(appointment=a, encounter=_encounter_of(a)) for a in appointments]
    return ClinicDay(day=day, rows=rows, linked=True)
