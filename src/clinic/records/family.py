"""The family history (FHIR FamilyMemberHistory): the patient's relatives, each with a
condition, whether it is a dystonia, and the age it began. A relative with dystonia makes the
family history positive: the hereditary flag that classification reads
(docs/clinical-record.md).

Clinical data: clinicians only, after two-factor (reception and administrators 403 on a
patient's pages and 404 for a relative's id, patients 404); any clinician adds, changes and
removes relatives. Each write is one transaction, audited with ids only (never the relative's
condition), and refreshes the classification of the patient's unsigned encounters within it.
A merged duplicate record is not written (409, records/merged.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
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
from clinic.records.models import FamilyMember, Patient, Relationship
from dystonia.findings import MAX_AGE_YEARS

CONDITION_MAX_LENGTH = 200  # FamilyMember.condition's max_length
NOTES_MAX_LENGTH = 300  # FamilyMember.notes's max_length
# The most one patient's page lists; a family history is rarely longer than a dozen.
RELATIVES_SHOWN = 100

BAD_RELATIONSHIP = "Choose who the relative is from the list."
CONDITION_REQUIRED = "Write the relative's condition."
BAD_AGE = "Enter the relative's age at onset as a whole number of years, for example 40."
AGE_OUT_OF_RANGE = f"The relative's age at onset must be from 0 to {MAX_AGE_YEARS} years."
BAD_FLAG = "Say whether the condition is a dystonia."

_audit = partial(audit_object, object_type="family_member")


class Generation(StrEnum):
    """The rows of the pedigree table, oldest first."""

    GRANDPARENTS = "Grandparents"
    PARENTS = "Parents, aunts and uncles"
    OWN = "The patient's generation: siblings and cousins"
    CHILDREN = "Children, nieces and nephews"
    GRANDCHILDREN = "Grandchildren"
    OTHER = "Other relatives"


class Side(StrEnum):
    """The side of the family: the pedigree table's columns."""

    MATERNAL = "maternal"
    PATERNAL = "paternal"
    NONE = "none"


R = Relationship
# Where each relationship stands in the pedigree table.
PLACES: dict[str, tuple[Generation, Side]] = {
    R.MATERNAL_GRANDMOTHER: (Generation.GRANDPARENTS, Side.MATERNAL),
    R.MATERNAL_GRANDFATHER: (Generation.GRANDPARENTS, Side.MATERNAL),
    R.PATERNAL_GRANDMOTHER: (Generation.GRANDPARENTS, Side.PATERNAL),
    R.PATERNAL_GRANDFATHER: (Generation.GRANDPARENTS, Side.PATERNAL),
    R.MOTHER: (Generation.PARENTS, Side.MATERNAL),
    R.MATERNAL_AUNT: (Generation.PARENTS, Side.MATERNAL),
    R.MATERNAL_UNCLE: (Generation.PARENTS, Side.MATERNAL),
    R.FATHER: (Generation.PARENTS, Side.PATERNAL),
    R.PATERNAL_AUNT: (Generation.PARENTS, Side.PATERNAL),
    R.PATERNAL_UNCLE: (Generation.PARENTS, Side.PATERNAL),
    R.SISTER: (Generation.OWN, Side.NONE),
    R.BROTHER: (Generation.OWN, Side.NONE),
    R.MATERNAL_COUSIN: (Generation.OWN, Side.MATERNAL),
    R.PATERNAL_COUSIN: (Generation.OWN, Side.PATERNAL),
    R.DAUGHTER: (Generation.CHILDREN, Side.NONE),
    R.SON: (Generation.CHILDREN, Side.NONE),
    R.NIECE_OR_NEPHEW: (Generation.CHILDREN, Side.NONE),
    R.GRANDCHILD: (Generation.GRANDCHILDREN, Side.NONE),
    R.OTHER: (Generation.OTHER, Side.NONE),
}
# Within a cell: parents before their siblings, then as the list of choices.
_ORDER = {value: index for index, value in enumerate(R.values)}


@dataclass(frozen=True)
class RelativeDetails:
    """A relative as the form hands it over."""

    relationship: str
    condition: str
    has_dystonia: bool = False
    age_at_onset_years: int | None = None
    notes: str = ""


@dataclass(frozen=True)
class PedigreeRow:
    """One generation of the pedigree table: the relatives on the mother's side, on the
    father's side, and those of no one side (siblings, children, others)."""

    generation: Generation
    maternal: list[FamilyMember]
    paternal: list[FamilyMember]
    unsided: list[FamilyMember]


@dataclass(frozen=True)
class FamilySection:
    """The family history as the patient page shows it."""

    relatives: list[FamilyMember]
    pedigree: list[PedigreeRow]
    hereditary: bool


# Pure rules


def is_hereditary(relatives: Iterable[FamilyMember]) -> bool:
    """The hereditary flag: true when any relative has a dystonia."""
    return any(relative.has_dystonia for relative in relatives)


def pedigree_rows(relatives: Iterable[FamilyMember]) -> list[PedigreeRow]:
    """The relatives grouped by generation (oldest first) and side of the family; only the
    generations with someone in them."""
    cells: dict[tuple[Generation, Side], list[FamilyMember]] = {}
    for relative in sorted(relatives, key=lambda r: (_ORDER.get(r.relationship, 99), r.pk)):
        place = PLACES.get(relative.relationship, (Generation.OTHER, Side.NONE))
        cells.setdefault(place, []).append(relative)
    return [
        PedigreeRow(
            generation=generation,
            maternal=cells.get((generation, Side.MATERNAL), []),
            paternal=cells.get((generation, Side.PATERNAL), []),
            unsided=cells.get((generation, Side.NONE), []),
        )
        for generation in Generation
        if any((generation, side) in cells for side in Side)
    ]


def hereditary_flag(patient: Patient) -> bool:
    """Whether any of the patient's relatives has a dystonia (one query). Not audited: for
    services that already read the patient's record, such as classification."""
    return FamilyMember.objects.filter(patient=patient, has_dystonia=True).exists()


def pedigree(patient: Patient) -> list[PedigreeRow]:
    """The patient's relatives as the pedigree table's rows (one query; not audited)."""
    return pedigree_rows(FamilyMember.objects.filter(patient=patient)[:RELATIVES_SHOWN])


def check_relative(details: RelativeDetails) -> RelativeDetails:
    """The details as stored, or HistoryRefused naming the first problem's field."""
    if not isinstance(details.relationship, str) or details.relationship not in R.values:
        raise HistoryRefused(BAD_RELATIONSHIP, field="relationship")
    condition = " ".join(
        check_text(
            details.condition, field="condition", label="The condition", limit=CONDITION_MAX_LENGTH
        ).split()
    )
    if not condition:
        raise HistoryRefused(CONDITION_REQUIRED, field="condition")
    if not isinstance(details.has_dystonia, bool):
        raise HistoryRefused(BAD_FLAG, field="has_dystonia")
    age = details.age_at_onset_years
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
        raise HistoryRefused(BAD_AGE, field="age_at_onset_years")
    if age is not None and not 0 <= age <= MAX_AGE_YEARS:
        raise HistoryRefused(AGE_OUT_OF_RANGE, field="age_at_onset_years")
    notes = check_text(details.notes, field="notes", label="Notes", limit=NOTES_MAX_LENGTH)
    return RelativeDetails(
        relationship=details.relationship,
        condition=condition,
        has_dystonia=details.has_dystonia,
        age_at_onset_years=age,
        notes=notes.strip(),
    )


# Reads


def family_section(*, context: AuditContext, patient: Patient) -> FamilySection | None:
    """The family history for the staff patient page: None (the section is not shown, and
    nothing was asked, so nothing is refused) for anyone but a clinician; else one query, and
    one audit entry when any relative is shown."""
    if not may_use_encounters(context.actor, patient, Access.READ):
        return None
    relatives = list(FamilyMember.objects.filter(patient=patient)[:RELATIVES_SHOWN])
    if relatives:  # nothing shown, nothing read (as the encounters section)
        _audit(context, AuditAction.READ, None, patient, f"{len(relatives)} relatives")
    return FamilySection(
        relatives=relatives, pedigree=pedigree_rows(relatives), hereditary=is_hereditary(relatives)
    )


def patient_for_family(*, context: AuditContext, patient_id: int, action: AuditAction) -> Patient:
    """The patient whose family history a clinician reads or adds to. Raises
    records.selectors.PatientNotFound or AccessRefused, both audited."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        audit_not_found(context, "patient", patient_id, action)
        raise records_selectors.PatientNotFound
    check_clinician(context, patient, action, object_type="family_member")
    return patient


class RelativeNotFound(Exception):  # noqa: N818 - reads as the event
    """No relative has that identifier."""


def _found(context: AuditContext, relative_id: int, action: AuditAction) -> FamilyMember:
    relative = FamilyMember.objects.select_related("patient").filter(pk=relative_id).first()
    if relative is None:
        audit_not_found(context, "family_member", relative_id, action)
        raise RelativeNotFound
    check_clinician(
        context, relative.patient, action, object_type="family_member", obj=relative, by_id=True
    )
    return relative


def relative_for_clinician(*, context: AuditContext, relative_id: int) -> FamilyMember:
    """One relative with their patient (an audited read). Raises RelativeNotFound or
    AccessRefused, both audited."""
    relative = _found(context, relative_id, AuditAction.READ)
    _audit(context, AuditAction.READ, relative, relative.patient, "relative read")
    return relative


# Writes


def relative_add(
    *, context: AuditContext, patient_id: int, details: RelativeDetails
) -> FamilyMember:
    """Add a relative to the patient's family history (any clinician). Raises PatientNotFound,
    HistoryRefused or AccessRefused, all audited."""
    patient = patient_for_family(context=context, patient_id=patient_id, action=AuditAction.CREATE)
    clinician = check_clinician(context, patient, AuditAction.CREATE, object_type="family_member")
    with refusals_audited(context, AuditAction.CREATE, None, patient, object_type="family_member"):
        refuse_if_merged(patient, HistoryRefused)
        clean = check_relative(details)
        with transaction.atomic():
            lock_unmerged(patient.pk, HistoryRefused)
            relative = FamilyMember.objects.create(
                patient=patient, recorded_by=clinician, **asdict(clean)
            )
            _audit(context, AuditAction.CREATE, relative, patient, "relative added")
            _refresh_classification(patient, context)
    return relative


def relative_update(
    *, context: AuditContext, relative_id: int, details: RelativeDetails
) -> FamilyMember:
    """Change a relative (any clinician); the audit entry names the parts changed. Raises
    RelativeNotFound, HistoryRefused or AccessRefused, all audited."""
    found = _found(context, relative_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="family_member"):
        refuse_if_merged(patient, HistoryRefused)
        clean = check_relative(details)
        with transaction.atomic():
            lock_unmerged(patient.pk, HistoryRefused)
            locked = FamilyMember.objects.select_for_update().get(pk=found.pk)
            values: dict[str, Any] = asdict(clean)
            changed = [name for name, value in values.items() if getattr(locked, name) != value]
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save()
            detail = "relative changed: " + (", ".join(changed) or "nothing")
            _audit(context, AuditAction.UPDATE, locked, patient, detail)
            _refresh_classification(patient, context)
    return locked


def relative_remove(*, context: AuditContext, relative_id: int) -> Patient:
    """Remove a relative (any clinician); returns their patient. Removed already (a double
    submit) is RelativeNotFound. Raises RelativeNotFound, HistoryRefused or AccessRefused,
    all audited."""
    found = _found(context, relative_id, AuditAction.DELETE)
    patient = found.patient
    with refusals_audited(context, AuditAction.DELETE, found, patient, object_type="family_member"):
        refuse_if_merged(patient, HistoryRefused)
        with transaction.atomic():
            lock_unmerged(patient.pk, HistoryRefused)
            deleted, _ = FamilyMember.objects.filter(pk=found.pk).delete()
            if deleted:  # else another submit removed it since it was found: audited below
                # The entry keeps the id of the row deleted, so the trail still says which.
                _audit(context, AuditAction.DELETE, found, patient, "relative removed")
                _refresh_classification(patient, context)
    if not deleted:
        audit_not_found(context, "family_member", relative_id, AuditAction.DELETE)
        raise RelativeNotFound
    return patient
