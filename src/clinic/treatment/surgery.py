"""Surgery other than deep brain stimulation (docs/treatment.md): selective peripheral
denervation, with the nerves and muscles (names as text until the toxin muscle catalogue
exists), and other procedures by name; the day, surgeon, hospital, side, outcome and
complications.

A name is kept only for another procedure (selective peripheral denervation is named by its
kind). The day is neither in the future nor before birth. Clinicians only; any clinician
writes. One transaction per write under the patient's row lock (a merged record refused, 409),
audited with ids only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction

from clinic.accounts.models import User
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import Patient
from clinic.treatment.models import Procedure, ProcedureKind, ProcedureSide
from clinic.treatment.models.surgery import NAME_MAX_LENGTH, TEXT_MAX_LENGTH
from clinic.treatment.rules import (
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

ITEM_MAX_LENGTH = 100
ITEMS_MAX = 20  # nerves or muscles in one procedure: an operational bound
NAME_REQUIRED = "Name the procedure."
BAD_LIST = "{label}: give a list of names."
ITEM_TOO_LONG = f"{{label}}: each name can be at most {ITEM_MAX_LENGTH} characters."
TOO_MANY = f"{{label}}: at most {ITEMS_MAX} names."

_audit = partial(audit_object, object_type="procedure")


class ProcedureNotFound(Exception):  # noqa: N818 - reads as the event
    """No procedure has that identifier."""


@dataclass(frozen=True)
class ProcedureDetails:
    """A procedure as a form hands it over; ``nerves`` and ``muscles`` are lists of names."""

    kind: str
    performed_on: Any
    name: str = ""
    surgeon: str = ""
    hospital: str = ""
    side: str = ""
    nerves: Any = field(default_factory=list)
    muscles: Any = field(default_factory=list)
    outcome: str = ""
    complications: str = ""
    encounter: Any = None


def check_names(value: Any, *, field: str, label: str) -> list[str]:
    """A list of names: each trimmed, not empty, at most ITEM_MAX_LENGTH characters, no NUL;
    blank ones left out, repeats kept once, in the order given."""
    if not isinstance(value, list | tuple) or any(not isinstance(v, str) for v in value):
        raise TreatmentRefused(BAD_LIST.format(label=label), field=field)
    names: list[str] = []
    for item in value:
        if "\x00" in item:
            raise TreatmentRefused(NUL_CHARACTER, field=field)
        name = " ".join(item.split())
        if len(name) > ITEM_MAX_LENGTH:
            raise TreatmentRefused(ITEM_TOO_LONG.format(label=label), field=field)
        if name and name not in names:
            names.append(name)
    if len(names) > ITEMS_MAX:
        raise TreatmentRefused(TOO_MANY.format(label=label), field=field)
    return names


def check_procedure(details: ProcedureDetails, patient: Patient) -> dict[str, Any]:
    """The procedure's fields as stored, or TreatmentRefused naming the first problem's field."""
    kind = check_choice(details.kind, ProcedureKind, field="kind", label="Procedure")
    name = check_text(details.name, field="name", label="The name", limit=NAME_MAX_LENGTH)
    if kind == ProcedureKind.OTHER and not name:
        raise TreatmentRefused(NAME_REQUIRED, field="name")
    side = details.side
    if side != "":
        side = check_choice(side, ProcedureSide, field="side", label="Side")
    return {
        "kind": kind,
        "name": name if kind == ProcedureKind.OTHER else "",
        "performed_on": check_day(
            details.performed_on, field="performed_on", label="The date", patient=patient
        ),
        "surgeon": check_text(
            details.surgeon, field="surgeon", label="Surgeon", limit=NAME_MAX_LENGTH
        ),
        "hospital": check_text(
            details.hospital, field="hospital", label="Hospital", limit=NAME_MAX_LENGTH
        ),
        "side": side,
        "nerves": check_names(details.nerves, field="nerves", label="Nerves"),
        "muscles": check_names(details.muscles, field="muscles", label="Muscles"),
        "outcome": check_text(
            details.outcome, field="outcome", label="Outcome", limit=TEXT_MAX_LENGTH
        ),
        "complications": check_text(
            details.complications,
            field="complications",
            label="Complications",
            limit=TEXT_MAX_LENGTH,
        ),
        "encounter_id": check_encounter(patient, details.encounter),
    }


def _found(context: AuditContext, procedure_id: int, action: AuditAction) -> tuple[Procedure, User]:
    return found_for_clinician(
        context,
        find=lambda: Procedure.objects.select_related("patient").filter(pk=procedure_id).first(),
        patient_of=lambda found: found.patient,
        object_type="procedure",
        object_id=procedure_id,
        action=action,
        not_found=ProcedureNotFound,
    )


def procedure_for_clinician(*, context: AuditContext, procedure_id: int) -> Procedure:
    """One procedure with its patient (an audited read). Raises ProcedureNotFound or
    AccessRefused (404 for anyone but a clinician), both audited."""
    procedure, _clinician = _found(context, procedure_id, AuditAction.READ)
    _audit(context, AuditAction.READ, procedure, procedure.patient, "procedure read")
    return procedure


def details_of(procedure: Procedure) -> ProcedureDetails:
    fields = {
        name: getattr(procedure, name)
        for name in ProcedureDetails.__dataclass_fields__
        if name != "encounter"
    }
    return ProcedureDetails(**fields, encounter=procedure.encounter_id)


def procedure_add(
    *, context: AuditContext, patient_id: int, details: ProcedureDetails
) -> Procedure:
    """Record a procedure. Raises PatientNotFound, TreatmentRefused or AccessRefused, all
    audited."""
    patient, clinician = patient_for_treatment(
        context=context, patient_id=patient_id, action=AuditAction.CREATE, object_type="procedure"
    )
    with refusals_audited(context, AuditAction.CREATE, None, patient, object_type="procedure"):
        values = check_procedure(details, patient)
        with transaction.atomic():
            lock_patient(patient)
            procedure = Procedure.objects.create(patient=patient, recorded_by=clinician, **values)
            _audit(context, AuditAction.CREATE, procedure, patient, "procedure added")
    return procedure


def procedure_update(
    *, context: AuditContext, procedure_id: int, details: ProcedureDetails
) -> Procedure:
    """Change a procedure; the audit entry names the fields changed."""
    found, _clinician = _found(context, procedure_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(context, AuditAction.UPDATE, found, patient, object_type="procedure"):
        values = check_procedure(details, patient)
        with transaction.atomic():
            lock_patient(patient)
            locked = Procedure.objects.select_for_update().get(pk=found.pk)
            changed = [name for name, value in values.items() if getattr(locked, name) != value]
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save()
            detail = "procedure changed: " + (", ".join(changed) or "nothing")
            _audit(context, AuditAction.UPDATE, locked, patient, detail)
    return locked
