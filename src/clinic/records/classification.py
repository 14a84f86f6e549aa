"""The classification of an encounter's dystonia: the core's findings document built from the
record (history, examination, relatives, drug history), the review that keeps what the core
derived from it, and the clinician's confirmation or override (both kept).

Every save of the history or examination of a draft calls :func:`refresh_review` (or
:func:`refresh_reviews_for_patient` for the patient-wide parts): when the findings changed, a
new pending review is added with ``dystonia.assessment.assess()``'s document. The newest review
of an encounter is current. Only the encounter's author decides it, while it is a draft, and
only the review they were shown (a stale id is refused, 409). A draft whose current findings
are classified cannot be signed until the classification is confirmed or overridden. When the
findings can no longer be classified, a decision on earlier ones is set aside by a newer
pending copy (it is kept, never deleted), and a decided review left over is refused at signing.

No classification rule lives here: the core decides (src/dystonia); this module only gathers
its input and keeps its output (docs/clinical-record.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_object, audit_record
from clinic.records.encounters import (
    LOCKED,
    NOT_AUTHOR,
    NUL_CHARACTER,
    EncounterRefused,
    check_clinician,
)
from clinic.records.locks import busy_as
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import (
    ClassificationReview,
    DrugExposure,
    Encounter,
    Examination,
    FamilyMember,
    History,
    Patient,
    RegionFinding,
    ReviewDecision,
)
from clinic.records.models.examination import DISTRIBUTION_CHOICES
from dystonia.assessment import assess, assessment_document
from dystonia.classification import Distribution
from dystonia.errors import InvalidDocument
from dystonia.findings import AssociatedFeature, Variability, findings_from_document

# Input bounds (operational choices, not clinical ones).
OVERRIDE_REASON_MAX_LENGTH = 2_000
STATEMENT_MAX_LENGTH = ClassificationReview._meta.get_field("clinician_statement").max_length or 300

NEED_AGE = "Record the age at onset in the history to see the classification."
NEED_REGION = "Mark at least one involved body region in the examination to see the classification."
UNREADABLE = (
    "The history or examination holds a value the classification cannot read: check and save "
    "them again to see the classification."
)
PENDING_AT_SIGNING = "Confirm or override the classification before signing."
NO_FINDINGS_AT_SIGNING = (
    "The examination no longer has findings to classify; the classification decided earlier "
    "no longer applies. Save the examination again to set it aside (or record the findings "
    "and decide their classification), then sign."
)
STALE_REVIEW = (
    "The classification changed since this page was shown (the history or examination was "
    "saved again), so nothing was decided. Review the new classification, then decide."
)
FINDINGS_CHANGED = (
    "The history or examination changed since this classification was made. Save the "
    "examination again to classify the current findings, then decide."
)
NOT_CLASSIFIED_YET = (
    "These findings have not been classified yet. Save the examination again to see their "
    "classification."
)
DISTRIBUTION_REQUIRED = "Choose the distribution you judge it to be from the list."
REASON_REQUIRED = "Give your reason for overriding the classification."
REASON_TOO_LONG = f"The reason can be at most {OVERRIDE_REASON_MAX_LENGTH:,} characters."
STATEMENT_TOO_LONG = f"Your classification can be at most {STATEMENT_MAX_LENGTH:,} characters."
BAD_TEXT = "Enter text."

DISTRIBUTIONS = [value for value, _label in DISTRIBUTION_CHOICES]


class ClassificationRefused(EncounterRefused):
    """A decision cannot be made as asked (``message``, ``field``, ``status`` as for
    encounters: 400 bad input, 403 not the author, 409 a conflict)."""


class ReviewNotFound(Exception):  # noqa: N818 - reads as the event
    """No classification review has that identifier."""


_audit_review = partial(audit_object, object_type="classification_review")


# The findings document


@dataclass(frozen=True)
class RecordInputs:
    """What the record holds for classification, read once (five queries)."""

    history: History | None
    examination: Examination | None
    regions: list[RegionFinding]
    family_history: bool
    drug_exposure: bool


def record_inputs(encounter: Encounter) -> RecordInputs:
    """The encounter's history and examination (with its regions), and whether a relative has
    dystonia or a dopamine-receptor blocker was started before onset (or when is unknown).
    Read fresh, never from a cached relation, because a write may have just changed them."""
    history = History.objects.filter(encounter_id=encounter.pk).first()
    examination = Examination.objects.filter(encounter_id=encounter.pk).first()
    regions = (
        list(RegionFinding.objects.filter(examination=examination))
        if examination is not None
        else []
    )
    patient_id = encounter.patient_id
    onset = history.age_at_onset_years if history is not None else None
    blockers = DrugExposure.objects.filter(patient_id=patient_id, dopamine_receptor_blocker=True)
    return RecordInputs(
        history=history,
        examination=examination,
        regions=regions,
        family_history=FamilyMember.objects.filter(
            patient_id=patient_id, has_dystonia=True
        ).exists(),
        drug_exposure=any(
            _possibly_before_onset(started_on, born=born, age_at_onset_years=onset)
            for started_on, born in blockers.values_list("started_on", "patient__date_of_birth")
        ),
    )


def _completed_years(born: date, on: date) -> int:
    # history.completed_years: repeated because history.py calls into this module.
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _possibly_before_onset(
    started_on: date | None, *, born: date, age_at_onset_years: int | None
) -> bool:
    """Whether a dopamine-receptor blocker started on ``started_on`` may have been taken
    before the dystonia began, which is what the core's ``drug_exposure`` means (findings
    schema). The age at onset is in whole years, so the onset may lie anywhere in that year
    of life: a start before the next birthday counts. An unknown start or onset counts: the
    drug cannot be ruled out as the cause."""
    if started_on is None or age_at_onset_years is None:
        return True
    return _completed_years(born, started_on) <= age_at_onset_years


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def document_from(inputs: RecordInputs) -> dict[str, Any] | None:
    """The findings document (src/dystonia/schemas/findings.schema.json) for these inputs,
    or None when no region is involved, the age at onset is not recorded, or a stored value
    is not one the core reads (``missing_from`` says which)."""
    history, examination = inputs.history, inputs.examination
    if history is None or history.age_at_onset_years is None or not inputs.regions:
        return None
    variability = set(_strings(history.variability))
    # A region seen only during a particular task is action-specific variability
    # (Albanese 2013; shared/reference/clinical.md, axis I variability).
    if any(finding.task_specific for finding in inputs.regions):
        variability.add(Variability.ACTION_SPECIFIC.value)
    features = set(_strings(examination.associated_features if examination else []))
    # Tremor in an involved region is the associated feature tremor (clinical.md 1.6).
    if any(finding.tremor for finding in inputs.regions):
        features.add(AssociatedFeature.TREMOR.value)
    document: dict[str, Any] = {
        "age_at_onset_years": history.age_at_onset_years,
        "regions": [
            {"region": region, "side": side or None}
            for region, side in sorted({(f.region, f.side) for f in inputs.regions})
        ],
        "course": history.course or None,
        "variability": sorted(variability),
        "associated_features": sorted(features),
        "family_history": inputs.family_history,
        "drug_exposure": inputs.drug_exposure,
    }
    try:
        findings_from_document(document)
    except InvalidDocument:
        return None
    return document


def missing_from(inputs: RecordInputs) -> list[str]:
    """What the record lacks before it can be classified (empty when it can be)."""
    missing = []
    if inputs.history is None or inputs.history.age_at_onset_years is None:
        missing.append(NEED_AGE)
    if not inputs.regions:
        missing.append(NEED_REGION)
    if not missing and document_from(inputs) is None:
        missing.append(UNREADABLE)
    return missing


def findings_document(encounter: Encounter) -> dict[str, Any] | None:
    """The core's input for this encounter, built from its history and examination and the
    patient's relatives and drug history; None when it cannot be classified yet."""
    return document_from(record_inputs(encounter))


def current_review(encounter_id: int) -> ClassificationReview | None:
    """The newest review of the encounter (the current one), or None."""
    return (
        ClassificationReview.objects.filter(encounter_id=encounter_id)
        .select_related("decided_by")
        .order_by("-created_at", "-pk")
        .first()
    )


# Refreshing the review after a save


def refresh_review(
    encounter: Encounter, *, context: AuditContext | None = None
) -> ClassificationReview | None:
    """Call inside the write transaction that changed the encounter's history or examination
    (or the patient's relatives or drug history). When the findings document differs from the
    current review's, add a new pending review with the core's assessment. Returns the review
    of the current findings, or None when they cannot be classified yet. A signed encounter's
    reviews never change. With ``context``, a new review is audited."""
    current = current_review(encounter.pk)
    if encounter.is_signed:
        return current
    document = findings_document(encounter)
    if document is None:
        if current is not None and current.decision != ReviewDecision.PENDING:
            _set_aside(encounter, current, context)
        return None
    if current is not None and current.findings == document:
        return current
    assessment = assessment_document(assess(findings_from_document(document)))
    review = ClassificationReview.objects.create(
        encounter=encounter,
        findings=document,
        assessment=assessment,
        classification_version=assessment["classification_version"],
        distribution=assessment["distribution"],
        forms=" ".join(assessment["forms"]),
    )
    if context is not None:
        detail = f"classification review {review.pk} made for encounter {encounter.pk} (pending)"
        _audit_review(context, AuditAction.CREATE, review, encounter.patient, detail)
    return review


def _set_aside(
    encounter: Encounter, decided: ClassificationReview, context: AuditContext | None
) -> None:
    """The findings can no longer be classified (every site cleared, or the age at onset
    removed), so the decision on them no longer applies: a pending copy of the decided review
    becomes the newest, so no letter, problem list offer or signing treats the decision as
    this encounter's, while the decided review itself is kept (reviews are history). Marking
    the same findings again asks for a decision again."""
    review = ClassificationReview.objects.create(
        encounter=encounter,
        findings=decided.findings,
        assessment=decided.assessment,
        classification_version=decided.classification_version,
        distribution=decided.distribution,
        forms=decided.forms,
    )
    if context is not None:
        detail = (
            f"classification review {review.pk} made for encounter {encounter.pk} (pending): "
            f"the findings can no longer be classified, so review {decided.pk}'s "
            f"{decided.decision} decision no longer applies"
        )
        _audit_review(context, AuditAction.CREATE, review, encounter.patient, detail)


def refresh_reviews_for_patient(patient: Patient, *, context: AuditContext | None = None) -> None:
    """Refresh the review of each of the patient's unsigned encounters that has an
    examination, under their row locks. Call inside the transaction that changed the
    patient's history, relatives or drug history."""
    with transaction.atomic():
        drafts = (
            Encounter.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(patient=patient, signed_at__isnull=True, examination__isnull=False)
            .order_by("pk")
        )
        for encounter in drafts:
            refresh_review(encounter, context=context)


def classification_blocks_signing(encounter: Encounter) -> bool:
    """True when the encounter's current findings are classified and the clinician has not
    decided that classification (pending, or made from findings since changed). Call under
    the encounter's row lock. Raises ClassificationRefused (409, NO_FINDINGS_AT_SIGNING) when
    the current review is decided but the findings can no longer be classified and were not
    refreshed since: signing would keep a classification of findings the record no longer
    holds."""
    document = findings_document(encounter)
    review = current_review(encounter.pk)
    if document is None:
        if review is not None and review.decision != ReviewDecision.PENDING:
            raise ClassificationRefused(NO_FINDINGS_AT_SIGNING, status=409)
        return False
    return (
        review is None or review.findings != document or review.decision == ReviewDecision.PENDING
    )


# Deciding


@dataclass(frozen=True)
class Decision:
    """What the clinician decided: confirmed, or overridden with their distribution, an
    optional statement of their classification, and the reason."""

    decision: str
    distribution: str = ""
    statement: str = ""
    reason: str = ""


def _text(value: object, *, limit: int, too_long: str, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ClassificationRefused(BAD_TEXT, field=field)
    if "\x00" in value:
        raise ClassificationRefused(NUL_CHARACTER, field=field)
    value = value.replace("\r\n", "\n").strip()
    if len(value) > limit:
        raise ClassificationRefused(too_long, field=field)
    return value


def _override(distribution: object, statement: object, reason: object) -> Decision:
    if not isinstance(distribution, str) or distribution not in DISTRIBUTIONS:
        raise ClassificationRefused(DISTRIBUTION_REQUIRED, field="distribution")
    statement = _text(
        statement, limit=STATEMENT_MAX_LENGTH, too_long=STATEMENT_TOO_LONG, field="statement"
    )
    reason = _text(
        reason, limit=OVERRIDE_REASON_MAX_LENGTH, too_long=REASON_TOO_LONG, field="reason"
    )
    if not reason:
        raise ClassificationRefused(REASON_REQUIRED, field="reason")
    return Decision(
        ReviewDecision.OVERRIDDEN,
        distribution=Distribution(distribution).value,
        statement=" ".join(statement.split()),
        reason=reason,
    )


@contextmanager
def _refusals_audited(
    context: AuditContext, review: ClassificationReview, patient: Patient
) -> Iterator[None]:
    """Audit a refusal raised in the block (outside the transaction it rolls back), a lock
    error refused as busy (409) included."""
    try:
        with busy_as(ClassificationRefused):
            yield
    except EncounterRefused as refusal:
        detail = f"classification decision refused: {refusal.message}"
        _audit_review(context, AuditAction.UPDATE, review, patient, detail, allowed=False)
        raise


def _same(review: ClassificationReview, decision: Decision) -> bool:
    return (
        review.decision == decision.decision
        and review.clinician_distribution == decision.distribution
        and review.clinician_statement == decision.statement
        and review.override_reason == decision.reason
    )


def _check_current(encounter: Encounter, review: ClassificationReview) -> None:
    """Inside the transaction: the review is the newest, and of the current findings."""
    newest = current_review(encounter.pk)
    if newest is None or newest.pk != review.pk:
        raise ClassificationRefused(STALE_REVIEW, status=409)
    if findings_document(encounter) != review.findings:
        raise ClassificationRefused(FINDINGS_CHANGED, status=409)


def _decide(
    context: AuditContext, review_id: int, make_decision: Callable[[], Decision]
) -> ClassificationReview:
    """Find the review, check the clinician, validate the decision (``make_decision`` raises
    ClassificationRefused for bad input), then record it under the patient's row lock and the
    encounter's (the merge's order; a record merged meanwhile is refused, 409)."""
    review = (
        ClassificationReview.objects.select_related("encounter__patient")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            outcome=AuditOutcome.REFUSED,
            object_type="classification_review",
            object_id=review_id,
            detail="no such classification review",
        )
        raise ReviewNotFound
    patient = review.encounter.patient
    clinician = check_clinician(context, patient, AuditAction.UPDATE, review.encounter)
    with _refusals_audited(context, review, patient):
        refuse_if_merged(patient, ClassificationRefused)
        decision = make_decision()
        with transaction.atomic():
            lock_unmerged(patient.pk, ClassificationRefused)
            # Only the encounter's row: not the clinician's user row, which audit entries
            # (and the other writes of the same clinician) reference.
            encounter = (
                Encounter.objects.select_for_update(of=("self",))
                .select_related("clinician")
                .get(pk=review.encounter_id)
            )
            _check_author_of_draft(encounter, clinician)
            locked = ClassificationReview.objects.select_for_update().get(pk=review.pk)
            _check_current(encounter, locked)
            if _same(locked, decision):  # a double click: already decided so
                return locked
            return _record(context, encounter, locked, decision, clinician)


def _check_author_of_draft(encounter: Encounter, clinician: User) -> None:
    if encounter.is_signed:
        raise ClassificationRefused(LOCKED, status=409)
    if encounter.clinician_id != clinician.pk:
        name = encounter.clinician.full_name
        raise ClassificationRefused(NOT_AUTHOR.format(name=name), status=403)


def _record(
    context: AuditContext,
    encounter: Encounter,
    review: ClassificationReview,
    decision: Decision,
    clinician: User,
) -> ClassificationReview:
    if review.decision != ReviewDecision.PENDING:
        # Deciding again keeps the earlier decision: a new review of the same findings.
        review = ClassificationReview.objects.create(
            encounter=encounter,
            findings=review.findings,
            assessment=review.assessment,
            classification_version=review.classification_version,
            distribution=review.distribution,
            forms=review.forms,
        )
    review.decision = decision.decision
    review.clinician_distribution = decision.distribution
    review.clinician_statement = decision.statement
    review.override_reason = decision.reason
    review.decided_by = clinician
    review.decided_at = timezone.now()
    review.save()
    detail = f"classification review {review.pk} {decision.decision}"
    _audit_review(context, AuditAction.UPDATE, review, encounter.patient, detail)
    return review


def classification_confirm(*, context: AuditContext, review_id: int) -> ClassificationReview:
    """Confirm the core's classification (the encounter's author, on a draft, the current
    review only). Raises ReviewNotFound, ClassificationRefused or AccessRefused, all
    audited."""
    return _decide(context, review_id, lambda: Decision(ReviewDecision.CONFIRMED))


def classification_override(
    *,
    context: AuditContext,
    review_id: int,
    distribution: object,
    reason: object,
    statement: object = "",
) -> ClassificationReview:
    """Override the core's classification with the clinician's distribution (from the list),
    an optional statement of their classification, and a required reason; the core's result
    is kept beside it. Same rules and errors as :func:`classification_confirm`."""
    return _decide(context, review_id, lambda: _override(distribution, statement, reason))
