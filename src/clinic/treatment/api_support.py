"""What the treatment routers of the JSON API share: the services' refusals and not-found
exceptions as the one error shape (records/api_support.py's answered(), with the treatment
services' field names as the API's parameters), the patient read of a list, strict input
types (numbers as JSON numbers, text with its limit)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from pydantic import BeforeValidator

from clinic.audit.models import AuditAction
from clinic.records import selectors as records_selectors
from clinic.records.access import DataCategory
from clinic.records.api_support import (
    FIELD_NAMES,
    NOT_FOUND,
    ApiProblem,
    answered,
)
from clinic.records.api_support import api_context as _context
from clinic.records.models import Patient
from clinic.treatment import medication, surgery, therapy
from clinic.treatment.dbs import DbsSystemNotFound
from clinic.treatment.dbs_programming import ProgrammingNotFound
from clinic.treatment.rules import TreatmentRefused, patient_for_treatment

NUMBER = "use a JSON number, such as 2.5"
NOT_FOUNDS = (
    medication.MedicationNotFound,
    therapy.ReferralNotFound,
    surgery.ProcedureNotFound,
    DbsSystemNotFound,
    ProgrammingNotFound,
)
# A DBS setting's fields in the services' refusals ("left_amplitude") are the API's settings.
SETTING_FIELDS = {
    f"{side}_{name}": "settings"
    for side in ("left", "right")
    for name in (
        "amplitude",
        "amplitude_unit",
        "pulse_width_us",
        "frequency_hz",
        "contacts",
        "impedances",
        *(f"impedance_{n}" for n in range(32)),
    )
}
FIELDS = {**FIELD_NAMES, "encounter": "encounter_id", **SETTING_FIELDS}


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(NUMBER)  # noqa: TRY004 - pydantic turns ValueError into a 422
    return value


# Numbers as JSON numbers only (never text); the services check their range and precision.
Number = Annotated[Decimal, BeforeValidator(_number)]


@contextmanager
def treatment_answered() -> Iterator[None]:
    """The treatment services' refusals (audited by them) as the API's answers."""
    try:
        with answered(TreatmentRefused, fields=FIELDS):
            yield
    except NOT_FOUNDS:
        raise ApiProblem(404, NOT_FOUND) from None


def patient_read(request: HttpRequest, patient_id: int, object_type: str) -> Patient:
    """The patient for a clinician's list read: refused 403/404 (audited), else an audited
    read of the record."""
    context = _context(request)
    with treatment_answered():
        patient, _clinician = patient_for_treatment(
            context=context, patient_id=patient_id, action=AuditAction.READ, object_type=object_type
        )
        return records_selectors.patient_for_user(
            context=context, patient_id=patient.pk, category=DataCategory.CLINICAL
        )
