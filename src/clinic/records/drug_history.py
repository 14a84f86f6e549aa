"""The drug history (FHIR MedicationStatement): medicines the patient takes or took, with when
they started and stopped. A dopamine-receptor blocker is flagged, as a possible cause of the
dystonia (clinical.md 3.4: "Drug exposure (antipsychotics, metoclopramide)"); the flag is
suggested from the medicine's name by dystonia.drugs and the clinician can always set it
either way (docs/clinical-record.md).

Clinical data: clinicians only, after two-factor (reception and administrators 403 on a
patient's pages and 404 for a drug's id, patients 404); any clinician adds, changes, stops
and removes. Dates are Europe/London days: a start neither in the future nor before the
patient's birth, a stop neither before the start nor in the future. Each write is one
transaction, audited with ids only (never the medicine's name), and refreshes the
classification of the patient's unsigned encounters within it. A merged duplicate record is
not written (409, records/merged.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from django.db import transaction

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records import selectors as records_selectors
from clinic.records.access import Access
from clinic.records.encounters import may_use_encounters
from clinic.records.history import (
    HistoryRefused,
    _refresh_classification,
    audit_not_found,
    check_clinician,
    check_text,
    refusals_audited,
)
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import DrugExposure, Patient
from clinic.scheduling.availability import local_today
from dystonia.drugs import is_dopamine_receptor_blocker

DRUG_MAX_LENGTH = 100  # DrugExposure.drug's max_length
NOTES_MAX_LENGTH = 300  # DrugExposure.notes's max_length
# The most one patient's page lists.
DRUGS_SHOWN = 200

DRUG_REQUIRED = "Write the medicine's name."
BAD_DATE = "Enter a real date, for example 31/03/2026."
BAD_FLAG = "Say whether the medicine is a dopamine-receptor blocker."
STARTED_IN_FUTURE = "The date it was started cannot be in the future."
STARTED_BEFORE_BIRTH = "The date it was started cannot be before the patient's date of birth."
STOPPED_IN_FUTURE = "The date it was stopped cannot be in the future."
STOPPED_BEFORE_START = "The date it was stopped cannot be before the date it was started."
STOPPED_BEFORE_BIRTH = "The date it was stopped cannot be before the patient's date of birth."
STOPPED_REQUIRED = "Give the date it was stopped."
ALREADY_STOPPED = "This medicine is already recorded as stopped: change its dates instead."

_audit = partial(audit_object, object_type="drug_exposure")


@dataclass(frozen=True)
class DrugDetails:
    """A medicine as the form hands it over. ``dopamine_receptor_blocker`` None means
    "decide from the name" (dystonia.drugs.is_dopamine_receptor_blocker)."""

    drug: str
    dopamine_receptor_blocker: bool | None = None
    started_on: date | None = None
    stopped_on: date | None = None
    notes: str = ""


@dataclass(frozen=True)
class DrugSection:
    """The drug history as the patient page shows it: dopamine-receptor blockers first."""

    drugs: list[DrugExposure]

    @property
    def blockers(self) -> int:
        return sum(1 for drug in self.drugs if drug.dopamine_receptor_blocker)


class DrugNotFound(Exception):  # noqa: N818 - reads as the event
    """No drug-history entry has that identifier."""


# Rules


def suggests_blocker(name: str) -> bool:
    """Whether the core recognises the name as a dopamine-receptor blocker (False for a name
    it cannot read)."""
    try:
        return is_dopamine_receptor_blocker(name)
    except ValueError:
        return False


def _day(value: Any, *, field: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise HistoryRefused(BAD_DATE, field=field)
    return value


def check_dates(
    patient: Patient, started_on: Any, stopped_on: Any, *, today: date | None = None
) -> tuple[date | None, date | None]:
    """The start and stop days: neither in the future nor before birth, the stop not before
    the start (either may be unknown)."""
    today = today or local_today()
    start = _day(started_on, field="started_on")
    stop = _day(stopped_on, field="stopped_on")
    if start is not None and start > today:
        raise HistoryRefused(STARTED_IN_FUTURE, field="started_on")
    if start is not None and start < patient.date_of_birth:
        raise HistoryRefused(STARTED_BEFORE_BIRTH, field="started_on")
    if stop is not None and stop > today:
        raise HistoryRefused(STOPPED_IN_FUTURE, field="stopped_on")
    if stop is not None and start is not None and stop < start:
        raise HistoryRefused(STOPPED_BEFORE_START, field="stopped_on")
    if stop is not None and stop < patient.date_of_birth:
        raise HistoryRefused(STOPPED_BEFORE_BIRTH, field="stopped_on")
    return start, stop


def check_drug(details: DrugDetails, patient: Patient) -> DrugDetails:
    """The details as stored (the flag decided), or HistoryRefused naming the first
    problem's field."""
    name = " ".join(
        check_text(details.drug, field="drug", label="The name", limit=DRUG_MAX_LENGTH).split()
    )
    if not name:
        raise HistoryRefused(DRUG_REQUIRED, field="drug")
    flag = details.dopamine_receptor_blocker
    if flag is not None and not isinstance(flag, bool):
        raise HistoryRefused(BAD_FLAG, field="dopamine_receptor_blocker")
    start, stop = check_dates(patient, details.started_on, details.stopped_on)
    notes = check_text(details.notes, field="notes", label="Notes", limit=NOTES_MAX_LENGTH)
    return DrugDetails(
        drug=name,
        dopamine_receptor_blocker=suggests_blocker(name) if flag is None else flag,
        started_on=start,
        stopped_on=stop,
        notes=notes.strip(),
    )


# Reads


def drug_section(*, context: AuditContext, patient: Patient) -> DrugSection | None:
    """The drug history for the staff patient page: None (not shown, nothing refused) for
    anyone but a clinician; else one query, and one audit entry when any medicine is shown."""
    if not may_use_encounters(context.actor, patient, Access.READ):
        return None
    drugs = list(DrugExposure.objects.filter(patient=patient)[:DRUGS_SHOWN])
    section = DrugSection(drugs=drugs)
    if drugs:  # nothing shown, nothing read (as the encounters section)
        _audit(context, AuditAction.READ, None, patient, f"{len(drugs)} drugs")
    return section


def patient_for_drugs(*, context: AuditContext, patient_id: int, action: AuditAction) -> Patient:
    """The patient whose drug history a clinician reads or adds to. Raises
    records.selectors.PatientNotFound or AccessRefused, both audited."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        audit_not_found(context, "patient", patient_id, action)
        raise records_selectors.PatientNotFound
    check_clinician(context, patient, action, object_type="drug_exposure")
    return patient


def _found(context: AuditContext, drug_id: int, action: AuditAction) -> DrugExposure:
    found = DrugExposure.objects.select_related("patient").filter(pk=drug_id).first()
    if found is None:
        audit_not_found(context, "drug_exposure", drug_id, action)
        raise DrugNotFound
    check_clinician(
        context, found.patient, action, object_type="drug_exposure", obj=found, by_id=True
    )
    return found


def drug_for_clinician(*, context: AuditContext, drug_id: int) -> DrugExposure:
    """One drug-history entry with its patient (an audited read). Raises DrugNotFound or
    AccessRefused, both audited."""
    found = _found(context, drug_id, AuditAction.READ)
    _audit(context, AuditAction.READ, found, found.patient, "drug history entry read")
    return found


# Writes


def drug_add(*, context: AuditContext, patient_id: int, details: DrugDetails) -> DrugExposure:
    """Add a medicine to the patient's drug history (any clinician). Raises PatientNotFound,
    HistoryRefused or AccessRefused, all audited."""
    patient = patient_for_drugs(context=context, patient_id=patient_id, action=AuditAction.CREATE)
    clinician = check_clinician(context, patient, AuditAction.CREATE, object_type="drug_exposure")
    with refusals_audited(context, AuditAction.CREATE, None, patient, object_type="drug_exposure"):
        refuse_if_merged(patient, HistoryRefused)
        clean = check_drug(details, patient)
        with transaction.atomic():
            lock_unmerged(patient.pk, HistoryRefused)
            drug = DrugExposure.objects.create(
                patient=patient, recorded_by=clinician, **asdict(clean)
            )
            _audit(context, AuditAction.CREATE, drug, patient, "drug added")
            _refresh_classification(patient, context)
    return drug


def drug_update(*, context: AuditContext, drug_id: int, details: DrugDetails) -> DrugExposure:
    """Change a drug-history entry (any clinician); the audit entry names the parts changed.
    Raises DrugNotFound, HistoryRefused or AccessRefused, all audited."""
    found = _found(context, drug_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="drug_exposure"):
        refuse_if_merged(patient, HistoryRefused)
        clean = check_drug(details, patient)
        with transaction.atomic():
            lock_unmerged(patient.pk, HistoryRefused)
            locked = DrugExposure.objects.select_for_update().get(pk=found.pk)
            values: dict[str, Any] = asdict(clean)
            changed = [name for name, value in values.items() if getattr(locked, name) != value]
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save()
            detail = "drug changed: " + (", ".join(changed) or "nothing")
            _audit(context, AuditAction.UPDATE, locked, patient, detail)
            _refresh_classification(patient, context)
    return locked


def drug_stop(*, context: AuditContext, drug_id: int, stopped_on: date | None) -> DrugExposure:
    """Record that a medicine was stopped on a day (any clinician); refused when it is
    already recorded as stopped (409). Raises DrugNotFound, HistoryRefused or AccessRefused,
    all audited."""
    found = _found(context, drug_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="drug_exposure"):
        refuse_if_merged(patient, HistoryRefused)
        if stopped_on is None:
            raise HistoryRefused(STOPPED_REQUIRED, field="stopped_on")
        with transaction.atomic():
            lock_unmerged(patient.pk, HistoryRefused)
            locked = DrugExposure.objects.select_for_update().get(pk=found.pk)
            if locked.stopped_on is not None:
                raise HistoryRefused(ALREADY_STOPPED, status=409)
            _start, stop = check_dates(patient, locked.started_on, stopped_on)
            locked.stopped_on = stop
            locked.save(update_fields=["stopped_on"])
            _audit(context, AuditAction.UPDATE, locked, patient, "drug stopped")
            _refresh_classification(patient, context)
    return locked


def drug_remove(*, context: AuditContext, drug_id: int) -> Patient:
    """Remove a drug-history entry (any clinician, for one recorded in error); returns its
    patient. Removed already (a double submit) is DrugNotFound. Raises DrugNotFound,
    HistoryRefused or AccessRefused, all audited."""
    found = _found(context, drug_id, AuditAction.DELETE)
    patient = found.patient
    with refusals_audited(context, AuditAction.DELETE, found, patient, object_type="drug_exposure"):
        refuse_if_merged(patient, HistoryRefused)
        with transaction.atomic():
            lock_unmerged(patient.pk, HistoryRefused)
            deleted, _ = DrugExposure.objects.filter(pk=found.pk).delete()
            if deleted:  # else another submit removed it since it was found: audited below
                _audit(context, AuditAction.DELETE, found, patient, "drug removed")
                _refresh_classification(patient, context)
    if not deleted:
        audit_not_found(context, "drug_exposure", drug_id, AuditAction.DELETE)
        raise DrugNotFound
    return patient
