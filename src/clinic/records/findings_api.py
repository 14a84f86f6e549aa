"""The clinical record over the JSON API: what was found at an encounter. Its history, its
examination by body site, and the classification the core makes of them, with the
clinician's confirmation or override. Clinicians only, as on the pages: handlers parse and
call history.py, examination.py, examination_selectors.py and classification.py, which check
access and audit (channel API); records/record_api.py maps their refusals onto the one error
shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import django_auth
from pydantic import Strict

from clinic.records import (
    classification,
    encounter_selectors,
    examination,
    examination_selectors,
    history,
)
from clinic.records.api_support import NOT_FOUND, ApiProblem, ErrorOut, IsoDatetime, StrictBool
from clinic.records.api_support import api_context as _context
from clinic.records.examination_selectors import ExaminationSection
from clinic.records.history import HistoryDetails
from clinic.records.models import ClassificationReview, Examination, History
from clinic.records.models.examination import FINDING_TEXT_MAX_LENGTH
from clinic.records.record_api import (
    WholeNumber,
    answered_all,
    choices_schema,
    one_of,
    stale,
    stale_as_409,
    value_of,
    version,
)
from dystonia.anatomy import Region
from dystonia.classification import Distribution
from dystonia.findings import AssociatedFeature, Course, Variability

router = Router(tags=["examination"], auth=django_auth)

Variabilities = Annotated[
    list[Any],
    Field(max_length=len(Variability)),
    one_of(Variability),
    choices_schema(Variability),
]
Features = Annotated[
    list[Any],
    Field(max_length=len(AssociatedFeature)),
    one_of(AssociatedFeature),
    choices_schema(AssociatedFeature),
]
HistoryText = Annotated[str, Strict(), Field(max_length=history.HISTORY_TEXT_MAX_LENGTH)]
FindingText = Annotated[str, Strict(), Field(max_length=FINDING_TEXT_MAX_LENGTH)]
ExaminationNotes = Annotated[
    str, Strict(), Field(max_length=examination.EXAMINATION_NOTES_MAX_LENGTH)
]
Reason = Annotated[str, Strict(), Field(max_length=classification.OVERRIDE_REASON_MAX_LENGTH)]
Statement = Annotated[str, Strict(), Field(max_length=classification.STATEMENT_MAX_LENGTH)]


# An encounter's history


class HistoryOut(Schema):
    encounter_id: int
    recorded: bool = Field(description="False until a history is saved.")
    presenting_complaint: str
    age_at_onset_years: int | None
    first_region: str | None = Field(description="null when not known.")
    first_side: str | None = Field(description="For a limb only; null otherwise.")
    spread: str
    triggers: str
    sensory_tricks: str
    better_with: str
    worse_with: str
    course: str | None = Field(description="null when not known.")
    variability: list[str]
    updated_at: str | None = Field(description="Send back exactly as received when saving.")
    can_edit: bool


class HistoryIn(Schema):
    presenting_complaint: HistoryText = ""
    age_at_onset_years: WholeNumber | None = Field(
        None, description="Completed years, from 0 to the patient's age at the encounter."
    )
    first_region: Region | None = Field(None, description="null when not known.")
    first_side: Literal["left", "right"] | None = Field(None, description="For a limb only.")
    spread: HistoryText = ""
    triggers: HistoryText = ""
    sensory_tricks: HistoryText = ""
    better_with: HistoryText = ""
    worse_with: HistoryText = ""
    course: Course | None = Field(None, description="null when not known.")
    variability: Variabilities = []
    updated_at: IsoDatetime | None = Field(
        description="The history's updated_at as last read; null when there was none."
    )


def _history(encounter_id: int, saved: History | None, *, can_edit: bool) -> dict[str, Any]:
    empty = HistoryDetails()
    values = {name: getattr(saved or empty, name) for name in vars(empty)}
    return values | {
        # Not known is "" in the record and null here, so a client sends back what it read.
        **{name: values[name] or None for name in ("first_region", "first_side", "course")},
        "encounter_id": encounter_id,
        "recorded": saved is not None,
        "variability": list(saved.variability) if saved is not None else [],
        "updated_at": version(saved),
        "can_edit": can_edit,
    }


@router.get(
    "/encounters/{encounter_id}/history",
    response=HistoryOut,
    tags=["history"],
    summary="An encounter's history (clinicians)",
)
def get_history(request: HttpRequest, encounter_id: int) -> dict[str, Any]:
    context = _context(request)
    with answered_all():
        encounter = encounter_selectors.encounter_for_clinician(
            context=context, encounter_id=encounter_id
        )
    section = history.history_section(context=context, encounter=encounter)
    if section is None:  # not a clinician: the encounter read above refused already
        raise ApiProblem(404, NOT_FOUND)
    return _history(encounter.pk, section.history, can_edit=section.can_edit)


@router.put(
    "/encounters/{encounter_id}/history",
    response={200: HistoryOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    tags=["history"],
    summary="Save a draft's history (its clinician; 409 if saved since, or signed)",
    description="Replaces the whole history (a field left out is saved empty). Send the "
    "updated_at last read (null for the first save).",
)
def save_history(request: HttpRequest, encounter_id: int, payload: HistoryIn) -> dict[str, Any]:
    details = HistoryDetails(
        **payload.model_dump(
            exclude={"first_region", "first_side", "course", "variability", "updated_at"}
        ),
        first_region=value_of(payload.first_region),
        first_side=value_of(payload.first_side),
        course=value_of(payload.course),
        variability=payload.variability,
    )
    conflict = stale_as_409(
        {history.HISTORY_STALE}, lambda: stale(History, encounter_id=encounter_id)
    )
    with answered_all(), conflict:
        saved = history.history_save(
            context=_context(request),
            encounter_id=encounter_id,
            details=details,
            expected_updated_at=payload.updated_at,
        )
    return _history(encounter_id, saved, can_edit=True)


# Examination and classification


class SiteIn(Schema):
    region: Region
    side: Literal["", "left", "right"] = Field("", description="Left or right for a limb only.")
    posture: FindingText = ""
    movement: FindingText = ""
    tremor: StrictBool = False
    task_specific: StrictBool = False


class SiteOut(SiteIn):
    label: str


class ExaminationIn(Schema):
    sites: list[SiteIn] = Field(
        max_length=len(examination.SITES), description="The involved body sites, each once."
    )
    associated_features: Features = []
    notes: ExaminationNotes = ""
    updated_at: IsoDatetime | None = Field(
        description="The examination's updated_at as last read; null when there was none."
    )


class ClassificationOut(Schema):
    id: int
    encounter_id: int
    decision: Literal["pending", "confirmed", "overridden"]
    assessment: dict[str, Any] = Field(description="The core's assessment document, as made.")
    classification_version: str
    distribution: str
    clinician_distribution: str
    clinician_statement: str
    override_reason: str
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


class ExaminationOut(Schema):
    encounter_id: int
    recorded: bool = Field(description="False until an examination is saved.")
    sites: list[SiteOut]
    associated_features: list[str]
    notes: str
    updated_at: str | None = Field(description="Send back exactly as received when saving.")
    can_edit: bool
    classification: ClassificationOut | None = Field(
        description="The current review of the current findings, to confirm or override."
    )
    missing: list[str] = Field(description="What the record lacks before it can be classified.")
    changed: str = Field(description="Set when the findings changed since the last review.")


def _review(review: ClassificationReview) -> dict[str, Any]:
    decider = review.decided_by
    return {
        "id": review.pk,
        "encounter_id": review.encounter_id,
        "decision": review.decision or "pending",
        "assessment": review.assessment if isinstance(review.assessment, dict) else {},
        "classification_version": review.classification_version,
        "distribution": review.distribution,
        "clinician_distribution": review.clinician_distribution,
        "clinician_statement": review.clinician_statement,
        "override_reason": review.override_reason,
        "decided_by": decider.full_name if decider else None,
        "decided_at": review.decided_at,
        "created_at": review.created_at,
    }


def _examination(section: ExaminationSection) -> dict[str, Any]:
    saved = section.examination
    sites = [
        {
            "region": line.site.region,
            "side": line.site.side,
            "label": line.site.label,
            "posture": line.finding.posture,
            "movement": line.finding.movement,
            "tremor": line.finding.tremor,
            "task_specific": line.finding.task_specific,
        }
        for line in section.regions
    ]
    panel = section.panel
    return {
        "encounter_id": section.encounter.pk,
        "recorded": saved is not None,
        "sites": sites,
        "associated_features": list(saved.associated_features) if saved else [],
        "notes": saved.notes if saved else "",
        "updated_at": version(saved),
        "can_edit": section.can_edit,
        "classification": _review(panel.review) if panel is not None else None,
        "missing": section.missing,
        "changed": section.changed,
    }


def _section(request: HttpRequest, encounter_id: int) -> dict[str, Any]:
    with answered_all():
        section = examination_selectors.examination_for_edit(
            context=_context(request), encounter_id=encounter_id
        )
    return _examination(section)


@router.get(
    "/encounters/{encounter_id}/examination",
    response=ExaminationOut,
    summary="An encounter's examination and its current classification (clinicians)",
)
def get_examination(request: HttpRequest, encounter_id: int) -> dict[str, Any]:
    return _section(request, encounter_id)


@router.put(
    "/encounters/{encounter_id}/examination",
    response={200: ExaminationOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Save a draft's examination (its clinician; 409 if saved since, or signed)",
    description="Replaces the involved sites, associated signs and notes, then classifies "
    "the findings: the answer carries the new classification review to decide. Send the "
    "updated_at last read (null for the first save).",
)
def save_examination(
    request: HttpRequest, encounter_id: int, payload: ExaminationIn
) -> dict[str, Any]:
    sites = [
        examination.SiteFinding(**site.model_dump(exclude={"region"}), region=site.region.value)
        for site in payload.sites
    ]
    problem = stale_as_409(
        {examination.STALE},
        lambda: stale(Examination, encounter_id=encounter_id),
    )
    with answered_all(), problem:
        examination.examination_save(
            context=_context(request),
            encounter_id=encounter_id,
            sites=sites,
            associated_features=payload.associated_features,
            notes=payload.notes,
            expected_updated_at=payload.updated_at,
        )
    return _section(request, encounter_id)


class OverrideIn(Schema):
    distribution: Distribution = Field(description="The distribution you judge it to be.")
    reason: Reason
    statement: Statement = Field("", description="Your classification in words (optional).")


@router.post(
    "/classification-reviews/{review_id}/confirm",
    response={200: ClassificationOut, 403: ErrorOut, 409: ErrorOut},
    summary="Confirm the core's classification (the draft's clinician; the current review)",
    description="409 when the encounter is signed, or the review is no longer the current one "
    "(the history or examination was saved since: read the examination again).",
)
def confirm_classification(request: HttpRequest, review_id: int) -> dict[str, Any]:
    with answered_all():
        review = classification.classification_confirm(
            context=_context(request), review_id=review_id
        )
    return _review(review)


@router.post(
    "/classification-reviews/{review_id}/override",
    response={200: ClassificationOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Override the core's classification, with a reason (both are kept)",
)
def override_classification(
    request: HttpRequest, review_id: int, payload: OverrideIn
) -> dict[str, Any]:
    with answered_all():
        review = classification.classification_override(
            context=_context(request),
            review_id=review_id,
            distribution=payload.distribution.value,
            reason=payload.reason,
            statement=payload.statement,
        )
    return _review(review)
