"""Reads of the problem list, for clinicians only (diagnoses.check_clinician): the patient
page's section, one diagnosis, and a classification review about to be added. Each checks
access, uses a fixed number of queries, and audits what it shows (ids and counts only)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records.access import Access
from clinic.records.diagnoses import (
    DiagnosisNotFound,
    check_clinician,
    not_found,
    review_diagnosis,
)
from clinic.records.encounters import may_use_encounters
from clinic.records.models import (
    ClassificationReview,
    Diagnosis,
    Patient,
    ReviewDecision,
    VerificationStatus,
)
from dystonia.coding import CodeSystem

PROBLEM_LIST_SHOWN = 100
REVIEWS_OFFERED = 20
# How a code's system is named on a page: "ICD-10 G24.3".
SYSTEM_NAMES = {
    CodeSystem.ICD10.value: "ICD-10",
    CodeSystem.ICD10_CM.value: "ICD-10-CM",
    CodeSystem.ICD11_MMS.value: "ICD-11",
    CodeSystem.SNOMED_CT.value: "SNOMED CT",
}

_audit = partial(audit_object, object_type="diagnosis")


@dataclass(frozen=True)
class CodeLabel:
    """One code as a page shows it."""

    system: str
    code: str
    display: str

    def __str__(self) -> str:
        return f"{self.system} {self.code}"


def code_labels(codes: object) -> list[CodeLabel]:
    """The codes of a diagnosis (Code.as_dict() documents) as pages show them."""
    if not isinstance(codes, list):
        return []
    return [
        CodeLabel(
            system=SYSTEM_NAMES.get(str(code.get("system")), str(code.get("system", ""))),
            code=str(code.get("code", "")),
            display=str(code.get("display", "")),
        )
        for code in codes
        if isinstance(code, dict)
    ]


@dataclass(frozen=True)
class DiagnosisRow:
    """A diagnosis with its codes ready to show; ``in_error`` rows are shown struck through."""

    diagnosis: Diagnosis
    codes: list[CodeLabel]

    @property
    def in_error(self) -> bool:
        return self.diagnosis.verification_status == VerificationStatus.ENTERED_IN_ERROR


@dataclass(frozen=True)
class ReviewOffer:
    """A decided, current classification review not yet on the problem list."""

    review: ClassificationReview
    label: str


@dataclass(frozen=True)
class ProblemList:
    """The patient page's problem list, and the classifications it could add."""

    rows: list[DiagnosisRow]
    offers: list[ReviewOffer]


def current_reviews() -> QuerySet[ClassificationReview]:
    """Reviews that are the newest of their encounter (a later save supersedes a review)."""
    newest = (
        ClassificationReview.objects.filter(encounter=OuterRef("encounter"))
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    return ClassificationReview.objects.filter(pk=Subquery(newest))


def _offers(patient: Patient) -> list[ReviewOffer]:
    listed = Diagnosis.objects.filter(classification_review=OuterRef("pk")).exclude(
        verification_status=VerificationStatus.ENTERED_IN_ERROR
    )
    reviews = (
        current_reviews()
        .filter(encounter__patient=patient)
        .exclude(decision=ReviewDecision.PENDING)
        .exclude(Exists(listed))
        .select_related("encounter")
        .order_by("-decided_at", "-pk")[:REVIEWS_OFFERED]
    )
    return [ReviewOffer(review=review, label=review_diagnosis(review)[0]) for review in reviews]


def problem_list(*, context: AuditContext, patient: Patient) -> ProblemList:
    """The patient's diagnoses, latest first (entered-in-error ones last), and the decided
    classifications that could be added: two queries, and one audit entry when any is
    shown."""
    check_clinician(context, patient, AuditAction.READ)
    diagnoses = list(
        Diagnosis.objects.filter(patient=patient)
        .select_related("recorded_by")
        .order_by("-diagnosed_on", "-pk")[:PROBLEM_LIST_SHOWN]
    )
    rows = [DiagnosisRow(diagnosis=d, codes=code_labels(d.codes)) for d in diagnoses]
    rows.sort(key=lambda row: row.in_error)  # stable: dates stay in order within each part
    offers = _offers(patient)
    if rows or offers:
        detail = f"problem list: {len(rows)} diagnoses, {len(offers)} classifications to add"
        _audit(context, AuditAction.READ, None, patient, detail)
    return ProblemList(rows=rows, offers=offers)


def problem_list_section(*, context: AuditContext, patient: Patient) -> ProblemList | None:
    """The problem list for the staff patient page: ``None`` (not shown, nothing asked, so
    nothing refused) for anyone but a clinician."""
    if not may_use_encounters(context.actor, patient, Access.READ):
        return None
    return problem_list(context=context, patient=patient)


def diagnosis_for_clinician(*, context: AuditContext, diagnosis_id: int) -> DiagnosisRow:
    """One diagnosis with its patient, encounter and review (one query, one audit entry).
    Raises DiagnosisNotFound or AccessRefused (404: asked for by its id, its existence is
    told to clinicians only), both audited."""
    found = (
        Diagnosis.objects.select_related(
            "patient", "recorded_by", "encounter", "classification_review"
        )
        .filter(pk=diagnosis_id)
        .first()
    )
    if found is None:
        not_found(context, "diagnosis", diagnosis_id, AuditAction.READ)
        raise DiagnosisNotFound
    check_clinician(context, found.patient, AuditAction.READ, found, by_id=True)
    _audit(context, AuditAction.READ, found, found.patient, "diagnosis read")
    return DiagnosisRow(diagnosis=found, codes=code_labels(found.codes))


@dataclass(frozen=True)
class ReviewPreview:
    """A classification review and what adding it would put on the problem list."""

    review: ClassificationReview
    label: str
    codes: list[CodeLabel]


def review_preview(*, context: AuditContext, review_id: int) -> ReviewPreview:
    """A classification review with the label and codes it would add (one query, one audit
    entry). Raises DiagnosisNotFound or AccessRefused (404: asked for by its id, its
    existence is told to clinicians only), both audited."""
    review = (
        ClassificationReview.objects.select_related("encounter__patient", "decided_by")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        not_found(context, "classification_review", review_id, AuditAction.READ)
        raise DiagnosisNotFound
    patient = review.encounter.patient
    check_clinician(context, patient, AuditAction.READ, by_id=True)
    detail = f"classification review {review.pk} read to add to the problem list"
    _audit(context, AuditAction.READ, None, patient, detail)
    label, codes = review_diagnosis(review)
    return ReviewPreview(review=review, label=label, codes=code_labels(codes))
