"""The clinical record over the JSON API: the problem list (diagnoses), clinic letters (for
clinicians, and the patient's own sent copies under /me/) and the patient timeline. Handlers
parse and call diagnoses.py, diagnosis_selectors.py, letters.py, letter_selectors.py and
timeline.py, which check access and audit (channel API); records/record_api.py maps their
refusals onto the one error shape.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Body, Field, Query, Router, Schema
from ninja.security import django_auth
from pydantic import BeforeValidator, Discriminator, Strict, Tag

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records import diagnoses, diagnosis_selectors, timeline
from clinic.records import selectors as records_selectors
from clinic.records.access import DataCategory
from clinic.records.api_support import INVALID, ApiProblem, ErrorOut, Id, idempotent
from clinic.records.api_support import api_context as _context
from clinic.records.diagnosis_forms import TimelineFilterForm
from clinic.records.models import (
    ClinicalStatus,
    Diagnosis,
    DiagnosisSide,
    Patient,
    VerificationStatus,
)
from clinic.records.record_api import IsoDate, answered_all, choices_schema, one_of, value_of
from clinic.records.timeline import EventKind

router = Router(auth=django_auth)

EITHER = "send from_review, or kind: hemifacial_spasm or other"
NOT_BOTH = "send either from_review or kind, not both"
OTHER_PATIENTS_REVIEW = "That classification is another patient's."
NewVerification = Literal["provisional", "confirmed"]
Kinds = Annotated[list[Any], one_of(EventKind), choices_schema(EventKind)]
Label = Annotated[str, Strict(), Field(max_length=diagnoses.LABEL_MAX_LENGTH)]


# The problem list


class CodeOut(Schema):
    system: str = Field(description="The code system's URI.")
    system_name: str = Field(description='As a page names it: "ICD-10", "SNOMED CT".')
    code: str
    display: str


class DiagnosisOut(Schema):
    id: int
    patient_id: int
    kind: str
    kind_label: str
    label: str
    side: str
    codes: list[CodeOut]
    clinical_status: str
    verification_status: str
    in_error: bool = Field(description="Entered in error: kept, shown struck through, final.")
    diagnosed_on: date
    resolved_on: date | None
    encounter_id: int | None
    classification_review_id: int | None
    recorded_at: datetime


class ReviewToAddOut(Schema):
    review_id: int
    encounter_id: int
    label: str = Field(description="What adding it would put on the problem list.")


class ProblemListOut(Schema):
    diagnoses: list[DiagnosisOut] = Field(description="Latest first; entered in error last.")
    classifications_to_add: list[ReviewToAddOut] = Field(
        description='Decided classifications not on the list yet: add one with "from_review".'
    )


class _NewDiagnosis(Schema):
    diagnosed_on: IsoDate
    verification_status: NewVerification = "confirmed"
    encounter_id: Id | None = Field(None, description="The patient's encounter it was made at.")


def _no_kind(value: object) -> None:
    if value is not None:
        raise ValueError(NOT_BOTH)


class FromReviewIn(Schema):
    from_review: Id = Field(description="A decided, current classification review's id.")
    diagnosed_on: IsoDate | None = Field(None, description="Default: the encounter's day.")
    verification_status: NewVerification = "confirmed"
    kind: Annotated[None, BeforeValidator(_no_kind)] = Field(
        None, description="Not sent with from_review."
    )


class HemifacialSpasmIn(_NewDiagnosis):
    kind: Literal["hemifacial_spasm"]
    side: DiagnosisSide = Field(DiagnosisSide.UNSPECIFIED, description='"" for not specified.')


class OtherDiagnosisIn(_NewDiagnosis):
    kind: Literal["other"]
    label: Label


class KindRequired(Schema):
    """Neither from_review nor a known kind: answered 422 naming kind."""

    kind: Literal["hemifacial_spasm", "other"]


def _variant(body: Any) -> str:
    if not isinstance(body, dict):
        return "unknown"
    if "from_review" in body:
        return "from_review"
    kind = body.get("kind")
    return kind if kind in ("hemifacial_spasm", "other") else "unknown"


NewDiagnosis = Annotated[
    Annotated[FromReviewIn, Tag("from_review")]
    | Annotated[HemifacialSpasmIn, Tag("hemifacial_spasm")]
    | Annotated[OtherDiagnosisIn, Tag("other")]
    | Annotated[KindRequired, Tag("unknown")],
    Discriminator(_variant),
]


class StatusIn(Schema):
    clinical_status: ClinicalStatus
    verification_status: VerificationStatus
    resolved_on: IsoDate | None = Field(None, description="Required for resolved only.")


def _codes(raw: object) -> list[dict[str, str]]:
    codes = raw if isinstance(raw, list) else []
    return [
        {
            "system": str(code.get("system", "")),
            "system_name": diagnosis_selectors.SYSTEM_NAMES.get(str(code.get("system")), ""),
            "code": str(code.get("code", "")),
            "display": str(code.get("display", "")),
        }
        for code in codes
        if isinstance(code, dict)
    ]


def _diagnosis(diagnosis: Diagnosis) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": diagnosis.pk,
        "patient_id": diagnosis.patient_id,
        "kind": diagnosis.kind,
        "kind_label": diagnosis.get_kind_display(),
        "label": diagnosis.label,
        "side": diagnosis.side,
        "codes": _codes(diagnosis.codes),
        "clinical_status": diagnosis.clinical_status,
        "verification_status": diagnosis.verification_status,
        "in_error": diagnosis.verification_status == VerificationStatus.ENTERED_IN_ERROR,
        "diagnosed_on": diagnosis.diagnosed_on,
        "resolved_on": diagnosis.resolved_on,
        "encounter_id": diagnosis.encounter_id,
        "classification_review_id": diagnosis.classification_review_id,
        "recorded_at": diagnosis.recorded_at,
    }
    return DiagnosisOut(**values).model_dump(mode="json")


def _clinical_patient(request: HttpRequest, patient_id: int) -> Patient:
    """The patient for a clinician, under an audited read of their record (as the pages)."""
    context = _context(request)
    with answered_all():
        diagnoses.patient_for_diagnoses(
            context=context, patient_id=patient_id, action=AuditAction.READ
        )
        return records_selectors.patient_for_user(
            context=context, patient_id=patient_id, category=DataCategory.CLINICAL
        )


@router.get(
    "/patients/{patient_id}/diagnoses",
    response=ProblemListOut,
    tags=["diagnoses"],
    summary="A patient's problem list, and the classifications that could be added (clinicians)",
)
def list_diagnoses(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    patient = _clinical_patient(request, patient_id)
    with answered_all():
        listed = diagnosis_selectors.problem_list(context=_context(request), patient=patient)
    offers = [
        {"review_id": o.review.pk, "encounter_id": o.review.encounter_id, "label": o.label}
        for o in listed.offers
    ]
    return {
        "diagnoses": [_diagnosis(row.diagnosis) for row in listed.rows],
        "classifications_to_add": offers,
    }


def _from_review(context: AuditContext, patient_id: int, payload: FromReviewIn) -> Diagnosis:
    """As the page: the review is read (audited) before it is added; one of another patient
    is refused, audited, so the path's patient is the one whose list changes."""
    preview = diagnosis_selectors.review_preview(context=context, review_id=payload.from_review)
    encounter = preview.review.encounter
    if encounter.patient_id != patient_id:
        detail = f"diagnosis create refused: review {payload.from_review} of another patient"
        audit_object(
            context,
            AuditAction.CREATE,
            None,
            encounter.patient,
            detail,
            object_type="diagnosis",
            allowed=False,
        )
        raise ApiProblem(422, INVALID, [("from_review", "body", OTHER_PATIENTS_REVIEW)])
    return diagnoses.diagnosis_add_from_review(
        context=context,
        review_id=payload.from_review,
        diagnosed_on=payload.diagnosed_on,
        verification_status=payload.verification_status,
    )


def _add(context: AuditContext, patient_id: int, payload: NewDiagnosis) -> Diagnosis:
    if isinstance(payload, FromReviewIn):
        return _from_review(context, patient_id, payload)
    if isinstance(payload, HemifacialSpasmIn):
        return diagnoses.hemifacial_spasm_add(
            context=context,
            patient_id=patient_id,
            side=value_of(payload.side),
            diagnosed_on=payload.diagnosed_on,
            verification_status=payload.verification_status,
            encounter_id=payload.encounter_id,
        )
    if isinstance(payload, OtherDiagnosisIn):
        return diagnoses.diagnosis_other_add(
            context=context,
            patient_id=patient_id,
            label=payload.label,
            diagnosed_on=payload.diagnosed_on,
            verification_status=payload.verification_status,
            encounter_id=payload.encounter_id,
        )
    raise ApiProblem(422, INVALID, [("kind", "body", EITHER)])  # KindRequired never validates


@router.post(
    "/patients/{patient_id}/diagnoses",
    response={201: DiagnosisOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["diagnoses"],
    summary="Add to the problem list (clinicians; Idempotency-Key supported)",
    description='One of: {"from_review": id}, a decided, current classification review of '
    'this patient (diagnosed_on defaults to its encounter\'s day); {"kind": '
    '"hemifacial_spasm", "side": ...}; {"kind": "other", "label": ...}. Each may give '
    "diagnosed_on and verification_status (provisional or confirmed).",
)
def add_diagnosis(request: HttpRequest, patient_id: int, payload: Body[NewDiagnosis]) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        with answered_all():
            diagnosis = _add(_context(request), patient_id, payload)
        return 201, _diagnosis(diagnosis)

    return idempotent(request, run)


@router.post(
    "/diagnoses/{diagnosis_id}/status",
    response={200: DiagnosisOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["diagnoses"],
    summary="Change a diagnosis's clinical and verification status (clinicians)",
    description='resolved_on is required for "resolved" and cleared otherwise. "Entered in '
    'error" is final (409 afterwards).',
)
def change_diagnosis_status(
    request: HttpRequest, diagnosis_id: int, payload: StatusIn
) -> dict[str, Any]:
    with answered_all():
        diagnosis = diagnoses.diagnosis_status_change(
            context=_context(request),
            diagnosis_id=diagnosis_id,
            clinical_status=payload.clinical_status.value,
            verification_status=payload.verification_status.value,
            resolved_on=payload.resolved_on,
        )
    return _diagnosis(diagnosis)


# The timeline


class TimelineQuery(Schema):
    kinds: Kinds = Field([], description="Repeat for several; none means all.")
    date_from: IsoDate | None = Field(None, alias="from", description="First day (inclusive).")
    date_to: IsoDate | None = Field(None, alias="to", description="Last day (inclusive).")


class EventOut(Schema):
    kind: str
    at: datetime
    timed: bool = Field(description="False when only the day is known (a diagnosis).")
    title: str
    detail: str
    status: str
    struck: bool = Field(description="Entered in error: kept, shown struck through.")
    url: str = Field(description="The event's page.")


class TimelineOut(Schema):
    events: list[EventOut] = Field(description="Newest first.")
    complete_after: datetime | None = Field(
        description="Set when the record has more events: only those after it are listed."
    )


# The timeline form's own rules (dates in range, from not after to), its fields renamed.
QUERY_NAMES = {"kinds": "kinds", "date_from": "from", "date_to": "to"}


@router.get(
    "/patients/{patient_id}/timeline",
    response=TimelineOut,
    tags=["timeline"],
    summary="Every event of a patient's record, newest first (clinicians)",
)
def get_timeline(
    request: HttpRequest, patient_id: int, query: Query[TimelineQuery]
) -> dict[str, Any]:
    form = TimelineFilterForm(
        {
            "kinds": query.kinds,
            "date_from": query.date_from,
            "date_to": query.date_to,
        }
    )
    if not form.is_valid():
        problems = [
            (QUERY_NAMES.get(field, field), "query", str(message))
            for field, messages in form.errors.items()
            for message in messages
        ]
        raise ApiProblem(422, INVALID, problems)
    patient = _clinical_patient(request, patient_id)
    with answered_all():
        found = timeline.timeline_of_patient(
            context=_context(request),
            patient=patient,
            kinds=form.kinds_asked(),
            window=form.window(),
        )
    events = [
        {
            "kind": e.kind.value,
            "at": e.at,
            "timed": e.timed,
            "title": e.title,
            "detail": e.detail,
            "status": e.status,
            "struck": e.struck,
            "url": e.url,
        }
        for e in found.events
    ]
    return {"events": events, "complete_after": found.complete_after}
