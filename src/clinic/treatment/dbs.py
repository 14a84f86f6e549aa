"""Deep brain stimulation systems: the implant (target, generator, rechargeable or not, MRI
status), its leads (a catalogue model of dystonia.dbs.LEADS, or another named), and battery
checks, whose latest reading raises the alert when low or worse (docs/treatment.md).

Clinicians only, after two-factor (reception and administrators 403 on a patient's pages and
404 for an id, patients 404); any clinician writes. Each write is one transaction under the
patient's row lock (a merged record refused, 409), audited with ids only; refusals are audited
after the rollback. Programming sessions are in dbs_programming.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from django.db import transaction

from clinic.accounts.models import User
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.scheduling.availability import clinic_tz
from clinic.treatment.models import (
    BatteryCheck,
    BatteryStatus,
    DbsLead,
    DbsSetting,
    DbsSystem,
    DbsTarget,
    Hemisphere,
    MriStatus,
)
from clinic.treatment.models.dbs import MAX_CONTACTS, MODEL_MAX_LENGTH, NOTES_MAX_LENGTH
from clinic.treatment.rules import (
    TreatmentRefused,
    check_choice,
    check_day,
    check_flag,
    check_text,
    found_for_clinician,
    lock_patient,
    patient_for_treatment,
    refusals_audited,
)
from dystonia import sources
from dystonia.dbs import LEADS
from dystonia.dbs_generators import GENERATORS

OTHER = "other"
GENERATOR_CHOICES = [
    *((key, generator.name) for key, generator in GENERATORS.items()),
    (OTHER, "Another generator (name it)"),
]
LEAD_CHOICES = [
    *((key, f"{lead.manufacturer} {lead.model}") for key, lead in LEADS.items()),
    (OTHER, "Another lead (name it)"),
]
# Battery readings that raise the alert.
ALERT_STATUSES = frozenset(
    {BatteryStatus.LOW, BatteryStatus.REPLACEMENT_DUE, BatteryStatus.END_OF_SERVICE}
)
# Yianni 2004: two dystonic patients needed emergency admission and a new generator after
# sudden battery failure; a DYT1 case series gives sudden cessation of stimulation as a
# presumed cause of status dystonicus (dystonic storm).
BATTERY_ALERT = (
    "Battery {status} (checked {day}): abrupt loss of stimulation can precipitate a dystonic "
    "crisis (status dystonicus). Plan the generator's replacement."
)
BATTERY_ALERT_SOURCES = f"{sources.YIANNI_2004}; {sources.STATUS_DYSTONICUS_DBS_ABSTRACT}"

TARGET_OTHER_REQUIRED = "Name the target."
GENERATOR_OTHER_REQUIRED = "Name the generator's model."
LEAD_OTHER_REQUIRED = "Name the lead's model."
BAD_CONTACT_COUNT = f"Enter the number of contacts on the lead, from 1 to {MAX_CONTACTS}."
CONTACTS_IN_USE = (
    "This lead has settings recorded on contact {contact}: it cannot have fewer contacts than that."
)
BEFORE_IMPLANT = "{label} cannot be before the system was implanted."
ONE_LEAD_PER_HEMISPHERE = "Give one lead per hemisphere."
IMPLANT_AFTER_RECORDS = (
    "The implant date cannot be after the system's first battery check or programming "
    "session: change those first."
)
BAD_PERCENT = "Enter the battery's charge as a whole number from 0 to 100, or leave it blank."

_audit = partial(audit_object, object_type="dbs_system")


class DbsSystemNotFound(Exception):  # noqa: N818 - reads as the event
    """No DBS system has that identifier."""


@dataclass(frozen=True)
class LeadDetails:
    """A lead as a form hands it over."""

    hemisphere: str
    model: str
    model_other: str = ""
    contact_count: Any = 4


@dataclass(frozen=True)
class SystemDetails:
    """A DBS system as a form hands it over."""

    target: str
    implanted_on: Any
    generator: str
    rechargeable: Any
    target_other: str = ""
    generator_model: str = ""
    mri_status: str = MriStatus.UNKNOWN
    notes: str = ""


@dataclass(frozen=True)
class BatteryDetails:
    """A battery check as a form hands it over."""

    checked_on: Any
    status: str
    percent: Any = None


@dataclass(frozen=True)
class BatteryAlert:
    """The alert a low battery raises on the patient's pages."""

    system: DbsSystem
    check: BatteryCheck
    text: str
    source: str = BATTERY_ALERT_SOURCES


# Rules


def _named(value: Any, other: Any, *, field: str, label: str, required: str) -> tuple[str, str]:
    """A catalogue choice, or "other" with its name (a name given with a catalogue choice is
    dropped: the catalogue names it)."""
    name = check_text(other, field=f"{field}_other", label=label, limit=MODEL_MAX_LENGTH)
    if value == OTHER and not name:
        raise TreatmentRefused(required, field=f"{field}_other")
    return value, name if value == OTHER else ""


def check_system(details: SystemDetails, patient: Any) -> dict[str, Any]:
    """The system's fields as stored, or TreatmentRefused naming the first problem's field."""
    target = check_choice(details.target, DbsTarget, field="target", label="Target")
    target, target_other = _named(
        target,
        details.target_other,
        field="target",
        label="The target",
        required=TARGET_OTHER_REQUIRED,
    )
    generator = check_choice(
        details.generator,
        [key for key, _ in GENERATOR_CHOICES],
        field="generator",
        label="Generator",
    )
    # "generator_model" is the other generator's name.
    name = check_text(
        details.generator_model, field="generator_model", label="The model", limit=MODEL_MAX_LENGTH
    )
    if generator == OTHER and not name:
        raise TreatmentRefused(GENERATOR_OTHER_REQUIRED, field="generator_model")
    return {
        "target": target,
        "target_other": target_other,
        "implanted_on": check_day(
            details.implanted_on, field="implanted_on", label="The implant date", patient=patient
        ),
        "generator": generator,
        "generator_model": name if generator == OTHER else "",
        "rechargeable": check_flag(
            details.rechargeable, field="rechargeable", label="Rechargeable"
        ),
        "mri_status": check_choice(
            details.mri_status, MriStatus, field="mri_status", label="MRI status"
        ),
        "notes": check_text(details.notes, field="notes", label="Notes", limit=NOTES_MAX_LENGTH),
    }


def check_lead(details: LeadDetails) -> dict[str, Any]:
    """The lead's fields as stored."""
    hemisphere = check_choice(
        details.hemisphere, Hemisphere, field="hemisphere", label="Hemisphere"
    )
    model = check_choice(
        details.model, [key for key, _ in LEAD_CHOICES], field="model", label="Lead"
    )
    model, model_other = _named(
        model, details.model_other, field="model", label="The model", required=LEAD_OTHER_REQUIRED
    )
    count = details.contact_count
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_CONTACTS:
        raise TreatmentRefused(BAD_CONTACT_COUNT, field="contact_count")
    return {
        "hemisphere": hemisphere,
        "model": model,
        "model_other": model_other,
        "contact_count": count,
    }


def check_battery(details: BatteryDetails, system: DbsSystem) -> dict[str, Any]:
    checked_on = check_day(
        details.checked_on, field="checked_on", label="The day checked", patient=system.patient
    )
    not_before_implant(checked_on, system, field="checked_on", label="The day checked")
    percent = details.percent
    if percent is not None and (
        isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100
    ):
        raise TreatmentRefused(BAD_PERCENT, field="percent")
    return {
        "checked_on": checked_on,
        "status": check_choice(details.status, BatteryStatus, field="status", label="Status"),
        "percent": percent,
    }


def local_day(moment: datetime) -> date:
    """A moment's day in the clinic's time zone."""
    return moment.astimezone(clinic_tz()).date()


def day_text(day: date) -> str:
    """A day as the pages write it: 1 March 2024."""
    return f"{day.day} {day:%B %Y}"


def lead_label(lead: DbsLead) -> str:
    """The lead's model as the pages say it."""
    if lead.model == OTHER:
        return lead.model_other
    known = LEADS.get(lead.model)
    return f"{known.manufacturer} {known.model}" if known else lead.model


def generator_label(system: DbsSystem) -> str:
    if system.generator == OTHER:
        return system.generator_model
    known = GENERATORS.get(system.generator)
    return known.name if known else system.generator


def battery_alert(system: DbsSystem, latest: BatteryCheck | None) -> BatteryAlert | None:
    """The alert when the system's latest battery check reads low or worse."""
    if latest is None or latest.status not in ALERT_STATUSES:
        return None
    text = BATTERY_ALERT.format(
        status=latest.get_status_display().lower(), day=day_text(latest.checked_on)
    )
    return BatteryAlert(system=system, check=latest, text=text)


# Reads


def system_found(
    context: AuditContext, system_id: int, action: AuditAction
) -> tuple[DbsSystem, User]:
    """The system asked for by its id, and the clinician asking (refusals audited: 404 for
    anyone but a clinician, as for every id)."""
    return found_for_clinician(
        context,
        find=lambda: DbsSystem.objects.select_related("patient").filter(pk=system_id).first(),
        patient_of=lambda found: found.patient,
        object_type="dbs_system",
        object_id=system_id,
        action=action,
        not_found=DbsSystemNotFound,
    )


def system_for_clinician(*, context: AuditContext, system_id: int) -> DbsSystem:
    """One DBS system with its patient (an audited read). Raises DbsSystemNotFound or
    AccessRefused (404 for anyone but a clinician), both audited."""
    system, _clinician = system_found(context, system_id, AuditAction.READ)
    _audit(context, AuditAction.READ, system, system.patient, "dbs system read")
    return system


# Writes


def dbs_system_add(
    *, context: AuditContext, patient_id: int, details: SystemDetails, leads: list[LeadDetails]
) -> DbsSystem:
    """Record an implanted system with its leads (at most one per hemisphere). Raises
    PatientNotFound, TreatmentRefused or AccessRefused, all audited."""
    patient, clinician = patient_for_treatment(
        context=context, patient_id=patient_id, action=AuditAction.CREATE, object_type="dbs_system"
    )
    with refusals_audited(context, AuditAction.CREATE, None, patient, object_type="dbs_system"):
        values = check_system(details, patient)
        lead_values = [check_lead(lead) for lead in leads]
        hemispheres = [lead["hemisphere"] for lead in lead_values]
        if len(set(hemispheres)) != len(hemispheres):
            raise TreatmentRefused(ONE_LEAD_PER_HEMISPHERE, field="hemisphere")
        with transaction.atomic():
            lock_patient(patient)
            system = DbsSystem.objects.create(patient=patient, recorded_by=clinician, **values)
            DbsLead.objects.bulk_create(DbsLead(system=system, **lead) for lead in lead_values)
            detail = f"dbs system added ({len(lead_values)} leads)"
            _audit(context, AuditAction.CREATE, system, patient, detail)
    return system


def dbs_system_update(
    *, context: AuditContext, system_id: int, details: SystemDetails
) -> DbsSystem:
    """Change a system's details (not its leads: dbs_lead_save). The audit entry names the
    fields changed."""
    found, _clinician = system_found(context, system_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="dbs_system"):
        values = check_system(details, patient)
        with transaction.atomic():
            lock_patient(patient)
            locked = DbsSystem.objects.select_for_update().get(pk=found.pk)
            _check_implant_day(locked, values["implanted_on"])
            changed = [name for name, value in values.items() if getattr(locked, name) != value]
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save()
            detail = "dbs system changed: " + (", ".join(changed) or "nothing")
            _audit(context, AuditAction.UPDATE, locked, patient, detail)
    return locked


def dbs_lead_save(*, context: AuditContext, system_id: int, details: LeadDetails) -> DbsLead:
    """Add the system's lead in a hemisphere, or change the one there (its model or contacts;
    not fewer contacts than its recorded settings use)."""
    found, _clinician = system_found(context, system_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="dbs_system"):
        values = check_lead(details)
        with transaction.atomic():
            lock_patient(patient)
            DbsSystem.objects.select_for_update().get(pk=found.pk)
            lead = DbsLead.objects.filter(system=found, hemisphere=values["hemisphere"]).first()
            if lead is not None:
                _check_contacts_in_use(lead, values["contact_count"])
            lead, created = DbsLead.objects.update_or_create(
                system=found, hemisphere=values["hemisphere"], defaults=values
            )
            detail = f"dbs lead {'added' if created else 'changed'} ({values['hemisphere']})"
            _audit(context, AuditAction.UPDATE, found, patient, detail)
    return lead


def _check_implant_day(system: DbsSystem, implanted_on: date) -> None:
    """An implant day moved later must stay before the system's battery checks and
    programming sessions."""
    first_check = system.battery_checks.order_by("checked_on").first()
    first_session = system.programming.order_by("programmed_at").first()
    if first_check is not None and implanted_on > first_check.checked_on:
        raise TreatmentRefused(IMPLANT_AFTER_RECORDS, field="implanted_on")
    if first_session is not None and implanted_on > local_day(first_session.programmed_at):
        raise TreatmentRefused(IMPLANT_AFTER_RECORDS, field="implanted_on")


def _check_contacts_in_use(lead: DbsLead, contact_count: int) -> None:
    used = [
        int(key)
        for contacts in DbsSetting.objects.filter(lead=lead).values_list("contacts", flat=True)
        for key, polarity in (contacts or {}).items()
        if key.isdigit() and polarity != "off"
    ]
    if used and max(used) >= contact_count:
        raise TreatmentRefused(CONTACTS_IN_USE.format(contact=max(used)), field="contact_count")


def battery_check_add(
    *, context: AuditContext, system_id: int, details: BatteryDetails
) -> BatteryCheck:
    """Record a battery reading."""
    found, clinician = system_found(context, system_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="dbs_system"):
        values = check_battery(details, found)
        with transaction.atomic():
            lock_patient(patient)
            check = BatteryCheck.objects.create(system=found, recorded_by=clinician, **values)
            _audit(context, AuditAction.UPDATE, found, patient, "dbs battery check added")
    return check


def system_details(system: DbsSystem) -> SystemDetails:
    """The details a form starts from."""
    fields = {name: getattr(system, name) for name in SystemDetails.__dataclass_fields__}
    return SystemDetails(**fields)


def not_before_implant(day: date | None, system: DbsSystem, *, field: str, label: str) -> None:
    if day is not None and day < system.implanted_on:
        raise TreatmentRefused(BEFORE_IMPLANT.format(label=label), field=field)
