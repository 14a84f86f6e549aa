"""The clinical record over the JSON API: the patient's family history (relatives, pedigree,
the hereditary flag) and drug history, and what the clinical routers of records/
findings_api.py, document_api.py and letter_api.py share beyond api_support.py: every service's
refusals and not-found answers mapped onto the one error shape, out-of-date saves as 409 with
the current updated_at, strict date and number types. Clinicians only, as on the pages:
handlers parse and call the same services and selectors, which check access and audit
(channel API).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

from django.db.models import Model
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth
from pydantic import AfterValidator, BeforeValidator, Strict, WithJsonSchema

from clinic.audit.models import AuditAction
from clinic.records import classification, drug_history, examination, family
from clinic.records import selectors as records_selectors
from clinic.records.access import DataCategory
from clinic.records.api_support import (
    FIELD_NAMES,
    NOT_FOUND,
    ApiProblem,
    ErrorOut,
    StrictBool,
    answered,
    idempotent,
)
from clinic.records.api_support import api_context as _context
from clinic.records.diagnoses import DiagnosisNotFound, DiagnosisRefused
from clinic.records.encounters import EncounterRefused
from clinic.records.history import HistoryRefused
from clinic.records.letters import LetterNotFound, LetterRefused
from clinic.records.models import DrugExposure, FamilyMember, Relationship

router = Router(auth=django_auth)

ISO_DATE = "use an ISO 8601 date, such as 2026-03-31"
STALE = (
    "This was saved elsewhere since the updated_at you sent, so nothing was changed. Read it "
    "again, compare, and send your change with its current updated_at."
)
# A site's own fields in the examination service's refusals ("neck_posture") are the API's
# "sites" list.
SITE_FIELDS = {
    f"{site.key}_{part}": "sites"
    for site in examination.SITES
    for part in ("posture", "movement", "tremor", "task_specific")
}
FIELDS = {**FIELD_NAMES, "encounter": "encounter_id", **SITE_FIELDS}
REFUSALS = (HistoryRefused, DiagnosisRefused, LetterRefused)
NOT_FOUNDS = (
    family.RelativeNotFound,
    drug_history.DrugNotFound,
    classification.ReviewNotFound,
    DiagnosisNotFound,
    LetterNotFound,
)


@contextmanager
def answered_all(fields: Mapping[str, str] = FIELDS) -> Iterator[None]:
    """``answered()`` for every clinical service: their refusals (403/404, 409, 422 naming
    the field) and their not-found exceptions (404), all audited by the services already."""
    try:
        with answered(*REFUSALS, fields=fields):
            yield
    except NOT_FOUNDS:
        raise ApiProblem(404, NOT_FOUND) from None


def stale(model: type[Model], **lookup: Any) -> ApiProblem:
    """409 for a save based on an old version: the current updated_at at the top of the body
    and in the error for updated_at (None when there is no row yet)."""
    seen = model._default_manager.filter(**lookup).values_list("updated_at", flat=True).first()
    current = seen.isoformat() if isinstance(seen, datetime) else None
    message = f"it was saved since; its updated_at is now {current}"
    return ApiProblem(409, STALE, [("updated_at", "body", message)], {"updated_at": current})


@contextmanager
def stale_as_409(messages: set[str], problem: Callable[[], ApiProblem]) -> Iterator[None]:
    """Turn a service's out-of-date refusal (one of ``messages``) into ``problem()``."""
    try:
        yield
    except (HistoryRefused, DiagnosisRefused, LetterRefused, EncounterRefused) as refusal:
        if getattr(refusal, "message", "") in messages:
            raise problem() from None
        raise


def _iso_date(value: object) -> object:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError(ISO_DATE)
    return value


# Dates as ISO 8601 text only (never numbers); whole numbers as JSON integers only. Text is
# never a number; NUL is refused by the services (audited, 422 naming the field), newlines
# are kept.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
WholeNumber = Annotated[int, Strict()]
ConditionText = Annotated[str, Strict(), Field(max_length=family.CONDITION_MAX_LENGTH)]
RelativeNotes = Annotated[str, Strict(), Field(max_length=family.NOTES_MAX_LENGTH)]
DrugName = Annotated[str, Strict(), Field(max_length=drug_history.DRUG_MAX_LENGTH)]
DrugNotes = Annotated[str, Strict(), Field(max_length=drug_history.NOTES_MAX_LENGTH)]


def one_of(values: type[Enum]) -> AfterValidator:
    """For a list of ``values``' values: each at most once, in the order sent; a bad one is a
    422 naming the list (the error handler names an error by its last location, which for an
    item would be its index). Use with ``choices_schema``."""
    allowed = [str(member.value) for member in values]

    def check(items: list[Any]) -> list[str]:
        if any(not isinstance(item, str) or item not in allowed for item in items):
            raise ValueError("choose from: " + ", ".join(allowed))
        return list(dict.fromkeys(items))

    return AfterValidator(check)


def choices_schema(values: type[Enum]) -> WithJsonSchema:
    allowed = [str(member.value) for member in values]
    items = {"type": "string", "enum": allowed}
    return WithJsonSchema({"type": "array", "items": items})


def value_of(choice: object) -> str:
    """A choice as the services take it: an enum's value, and "" for None (not known)."""
    if choice is None:
        return ""
    return str(choice.value) if isinstance(choice, Enum) else str(choice)


def version(row: Any) -> str | None:
    """A row's updated_at as text to the microsecond (a JSON datetime would be rounded)."""
    return row.updated_at.isoformat() if row is not None else None


# Family history


class RelativeOut(Schema):
    id: int
    patient_id: int
    relationship: str
    relationship_label: str
    condition: str
    has_dystonia: bool
    age_at_onset_years: int | None
    notes: str
    recorded_at: datetime


class RelativeIn(Schema):
    relationship: Relationship
    condition: ConditionText
    has_dystonia: StrictBool = Field(False, description="Sets the hereditary flag.")
    age_at_onset_years: WholeNumber | None = None
    notes: RelativeNotes = ""


class GenerationOut(Schema):
    generation: str
    label: str
    maternal: list[RelativeOut]
    paternal: list[RelativeOut]
    unsided: list[RelativeOut] = Field(description="Siblings, children and others.")


class PedigreeOut(Schema):
    hereditary: bool = Field(description="True when any relative has a dystonia.")
    generations: list[GenerationOut] = Field(description="Oldest first; only those with anyone.")


def _relative(relative: FamilyMember) -> dict[str, Any]:
    return {
        "id": relative.pk,
        "patient_id": relative.patient_id,
        "relationship": relative.relationship,
        "relationship_label": relative.get_relationship_display(),
        "condition": relative.condition,
        "has_dystonia": relative.has_dystonia,
        "age_at_onset_years": relative.age_at_onset_years,
        "notes": relative.notes,
        "recorded_at": relative.recorded_at,
    }


def _relative_details(payload: RelativeIn) -> family.RelativeDetails:
    return family.RelativeDetails(
        **payload.model_dump(exclude={"relationship"}),
        relationship=value_of(payload.relationship),
    )


def _family(request: HttpRequest, patient_id: int) -> family.FamilySection:
    """The family section for a clinician, under an audited read of the patient (even when
    there is nobody to list: "no relatives recorded" is clinical too)."""
    context = _context(request)
    with answered_all():
        patient = family.patient_for_family(
            context=context, patient_id=patient_id, action=AuditAction.READ
        )
        records_selectors.patient_for_user(
            context=context, patient_id=patient.pk, category=DataCategory.CLINICAL
        )
    section = family.family_section(context=context, patient=patient)
    if section is None:  # refused above already
        raise ApiProblem(404, NOT_FOUND)
    return section


@router.get(
    "/patients/{patient_id}/relatives",
    response=list[RelativeOut],
    tags=["family history"],
    summary="A patient's relatives (clinicians)",
)
def list_relatives(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    return [_relative(r) for r in _family(request, patient_id).relatives]


@router.get(
    "/patients/{patient_id}/pedigree",
    response=PedigreeOut,
    tags=["family history"],
    summary="The relatives by generation and side of the family, and the hereditary flag",
)
def get_pedigree(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    section = _family(request, patient_id)
    generations = [
        {
            "generation": row.generation.name.lower(),
            "label": row.generation.value,
            "maternal": [_relative(r) for r in row.maternal],
            "paternal": [_relative(r) for r in row.paternal],
            "unsided": [_relative(r) for r in row.unsided],
        }
        for row in section.pedigree
    ]
    return {"hereditary": section.hereditary, "generations": generations}


@router.post(
    "/patients/{patient_id}/relatives",
    response={201: RelativeOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["family history"],
    summary="Add a relative (any clinician; Idempotency-Key supported)",
)
def add_relative(request: HttpRequest, patient_id: int, payload: RelativeIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with answered_all():
            relative = family.relative_add(
                context=_context(request), patient_id=patient_id, details=_relative_details(payload)
            )
        return 201, RelativeOut(**_relative(relative)).model_dump(mode="json")

    return idempotent(request, run)


@router.put(
    "/relatives/{relative_id}",
    response={200: RelativeOut, 403: ErrorOut, 422: ErrorOut},
    tags=["family history"],
    summary="Change a relative (any clinician)",
)
def change_relative(request: HttpRequest, relative_id: int, payload: RelativeIn) -> dict[str, Any]:
    with answered_all():
        relative = family.relative_update(
            context=_context(request), relative_id=relative_id, details=_relative_details(payload)
        )
    return _relative(relative)


@router.delete(
    "/relatives/{relative_id}",
    response={204: None, 403: ErrorOut},
    tags=["family history"],
    summary="Remove a relative (any clinician)",
)
def remove_relative(request: HttpRequest, relative_id: int) -> Status[None]:
    with answered_all():
        family.relative_remove(context=_context(request), relative_id=relative_id)
    return Status(204, None)


# Drug history


class DrugOut(Schema):
    id: int
    patient_id: int
    drug: str
    dopamine_receptor_blocker: bool
    started_on: date | None
    stopped_on: date | None
    notes: str
    recorded_at: datetime


class DrugIn(Schema):
    drug: DrugName
    dopamine_receptor_blocker: StrictBool | None = Field(
        None, description="null: decided from the medicine's name."
    )
    started_on: IsoDate | None = None
    stopped_on: IsoDate | None = None
    notes: DrugNotes = ""


class DrugStopIn(Schema):
    stopped_on: IsoDate


def _drug(drug: DrugExposure) -> dict[str, Any]:
    return DrugOut.model_validate(drug).model_dump(mode="json")


@router.get(
    "/patients/{patient_id}/drugs",
    response=list[DrugOut],
    tags=["drug history"],
    summary="A patient's drug history, dopamine-receptor blockers first (clinicians)",
)
def list_drugs(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    context = _context(request)
    with answered_all():
        patient = drug_history.patient_for_drugs(
            context=context, patient_id=patient_id, action=AuditAction.READ
        )
        records_selectors.patient_for_user(
            context=context, patient_id=patient.pk, category=DataCategory.CLINICAL
        )
    section = drug_history.drug_section(context=context, patient=patient)
    return [_drug(d) for d in (section.drugs if section else [])]


@router.post(
    "/patients/{patient_id}/drugs",
    response={201: DrugOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["drug history"],
    summary="Add a medicine (any clinician; Idempotency-Key supported)",
)
def add_drug(request: HttpRequest, patient_id: int, payload: DrugIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with answered_all():
            drug = drug_history.drug_add(
                context=_context(request),
                patient_id=patient_id,
                details=drug_history.DrugDetails(**payload.model_dump()),
            )
        return 201, _drug(drug)

    return idempotent(request, run)


@router.put(
    "/drugs/{drug_id}",
    response={200: DrugOut, 403: ErrorOut, 422: ErrorOut},
    tags=["drug history"],
    summary="Change a medicine's details (any clinician)",
)
def change_drug(request: HttpRequest, drug_id: int, payload: DrugIn) -> dict[str, Any]:
    with answered_all():
        drug = drug_history.drug_update(
            context=_context(request),
            drug_id=drug_id,
            details=drug_history.DrugDetails(**payload.model_dump()),
        )
    return _drug(drug)


@router.post(
    "/drugs/{drug_id}/stop",
    response={200: DrugOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["drug history"],
    summary="Record that a medicine was stopped (409 if it already was)",
)
def stop_drug(request: HttpRequest, drug_id: int, payload: DrugStopIn) -> dict[str, Any]:
    with answered_all():
        drug = drug_history.drug_stop(
            context=_context(request), drug_id=drug_id, stopped_on=payload.stopped_on
        )
    return _drug(drug)


@router.delete(
    "/drugs/{drug_id}",
    response={204: None, 403: ErrorOut},
    tags=["drug history"],
    summary="Remove a medicine recorded in error (any clinician)",
)
def remove_drug(request: HttpRequest, drug_id: int) -> Status[None]:
    with answered_all():
        drug_history.drug_remove(context=_context(request), drug_id=drug_id)
    return Status(204, None)
