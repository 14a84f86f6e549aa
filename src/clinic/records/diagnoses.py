"""The problem list (FHIR Condition): coded diagnoses, their status and dates
(docs/clinical-record.md).

Three ways onto the list, each by a clinician (after two-factor; reception and
administrators are answered 403 about a patient, 404 for a diagnosis or review asked for by
its id, so its existence is not told; patients 404):

- **From a decided classification review** (diagnosis_add_from_review). Confirmed: the label
  is the core's distribution with its confirmed named forms ("Segmental dystonia: Cervical
  dystonia (spasmodic torticollis), Blepharospasm") and the codes are the core's. Overridden:
  the label is the clinician's distribution and statement, and only the codes whose
  ``applies_to`` is "dystonia" (the category codes) are kept, because the core's form and
  etiology codes were derived from the classification the clinician rejected.
- **Hemifacial spasm** with its side (hemifacial_spasm_add): a facial-nerve disorder, not a
  dystonia (clinical.md section 2), coded by dystonia.coding.hemifacial_spasm_codes.
- **Another diagnosis** (diagnosis_other_add): a free-text label and no codes.

Dates: diagnosed on neither in the future nor before the patient's birth; resolved on neither
before the diagnosis nor in the future (Europe/London days). "Entered in error" keeps the row
(shown struck through) and is final. Each write is one transaction, audited without clinical
content (ids and counts, never a label); refusals are audited outside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial
from typing import Any

from django.db import transaction

from clinic.accounts.models import User
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_object, audit_record
from clinic.records import selectors as records_selectors
from clinic.records.access import Access, AccessRefused, refusal_reveals
from clinic.records.encounters import NUL_CHARACTER, may_use_encounters
from clinic.records.locks import busy_as
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import (
    ClassificationReview,
    ClinicalStatus,
    Diagnosis,
    DiagnosisKind,
    DiagnosisSide,
    Encounter,
    Patient,
    ReviewDecision,
    VerificationStatus,
)
from clinic.scheduling.availability import clinic_tz, local_today
from dystonia.classification import Distribution, NamedForm
from dystonia.coding import hemifacial_spasm_codes

LABEL_MAX_LENGTH = 200  # Diagnosis.label's max_length

LABEL_REQUIRED = "Write the diagnosis."
LABEL_TOO_LONG = f"A diagnosis can be at most {LABEL_MAX_LENGTH} characters."
BAD_SIDE = "Choose the side: left, right, both sides, or not specified."
BAD_DATE = "Enter a real date, for example 31/03/2026."
DIAGNOSED_IN_FUTURE = "The date of diagnosis cannot be in the future."
DIAGNOSED_BEFORE_BIRTH = "The date of diagnosis cannot be before the patient's date of birth."
RESOLVED_REQUIRED = "Give the date the diagnosis resolved."
RESOLVED_IN_FUTURE = "The date it resolved cannot be in the future."
RESOLVED_BEFORE_DIAGNOSED = "The date it resolved cannot be before the date of diagnosis."
BAD_CLINICAL_STATUS = "Choose active, in remission or resolved."
BAD_VERIFICATION_STATUS = "Choose provisional, confirmed, refuted or entered in error."
NEW_VERIFICATION = "A new diagnosis is either provisional or confirmed."
REVIEW_NOT_DECIDED = "Confirm or override this classification before adding it to the problem list."
REVIEW_SUPERSEDED = (
    "A later classification of this encounter has replaced this one: add that one instead."
)
ALREADY_ON_LIST = "This classification is already on the problem list."
ENTERED_IN_ERROR_IS_FINAL = (
    "This diagnosis was marked as entered in error and is kept as it was: add a new one instead."
)
OTHER_PATIENTS_ENCOUNTER = "That encounter is another patient's."

NEW_VERIFICATION_STATUSES = (VerificationStatus.PROVISIONAL, VerificationStatus.CONFIRMED)
# Codes that name dystonia itself, not a form or an etiology (dystonia.coding.codes_for).
CATEGORY_APPLIES_TO = "dystonia"
_CODE_KEYS = ("system", "code", "display", "applies_to", "source")

_audit = partial(audit_object, object_type="diagnosis")


class DiagnosisRefused(ValueError):  # noqa: N818 - reads as the event
    """The write cannot be done as asked: ``message`` says why, ``field`` names the input it
    is about (empty for the whole request), ``status`` is the HTTP answer for a page."""

    def __init__(self, message: str, *, field: str = "", status: int = 400) -> None:
        self.message = message
        self.field = field
        self.status = status
        super().__init__(message)


class DiagnosisNotFound(Exception):  # noqa: N818 - reads as the event
    """No diagnosis (or classification review) has that identifier."""


def not_found(context: AuditContext, object_type: str, object_id: int, action: AuditAction) -> None:
    """Audit a guessed or stale identifier (answered 404)."""
    audit_record(
        context=context,
        action=action,
        outcome=AuditOutcome.REFUSED,
        object_type=object_type,
        object_id=object_id,
        detail=f"no such {object_type.replace('_', ' ')}",
    )


def check_clinician(
    context: AuditContext,
    patient: Patient,
    action: AuditAction,
    diagnosis: Diagnosis | None = None,
    *,
    by_id: bool = False,
) -> User:
    """The acting clinician, or an audited refusal: about a patient, 403 for other staff
    (reception and administrators are told they lack the right), 404 for patients; asked
    for something by its id (``by_id``), nobody but a clinician learns whether it exists
    (404)."""
    actor = context.actor
    access = Access.READ if action == AuditAction.READ else Access.WRITE
    if actor is None or not may_use_encounters(actor, patient, access):
        detail = f"diagnosis {action.value} refused"
        _audit(context, action, diagnosis, patient, detail, allowed=False)
        raise AccessRefused(reveal=not by_id and actor is not None and refusal_reveals(actor))
    return actor


def patient_for_diagnoses(
    *, context: AuditContext, patient_id: int, action: AuditAction
) -> Patient:
    """The patient whose problem list a clinician reads or adds to. Raises
    records.selectors.PatientNotFound or AccessRefused, both audited."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        not_found(context, "patient", patient_id, action)
        raise records_selectors.PatientNotFound
    check_clinician(context, patient, action)
    return patient


@contextmanager
def _refusals_audited(
    context: AuditContext, action: AuditAction, diagnosis: Diagnosis | None, patient: Patient
) -> Iterator[None]:
    """Audit a DiagnosisRefused raised in the block (after its transaction rolled back), a
    lock error refused as busy (409) included."""
    try:
        with busy_as(DiagnosisRefused):
            yield
    except DiagnosisRefused as refusal:
        detail = f"diagnosis {action.value} refused: {refusal.message}"
        _audit(context, action, diagnosis, patient, detail, allowed=False)
        raise


def _day(value: Any, *, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise DiagnosisRefused(BAD_DATE, field=field)
    return value


def check_diagnosed_on(patient: Patient, value: Any, *, today: date | None = None) -> date:
    """The date of diagnosis: a date, not in the future, not before birth."""
    day = _day(value, field="diagnosed_on")
    if day > (today or local_today()):
        raise DiagnosisRefused(DIAGNOSED_IN_FUTURE, field="diagnosed_on")
    if day < patient.date_of_birth:
        raise DiagnosisRefused(DIAGNOSED_BEFORE_BIRTH, field="diagnosed_on")
    return day


def check_resolved_on(
    *, clinical_status: str, diagnosed_on: date, value: Any, today: date | None = None
) -> date | None:
    """The date a resolved diagnosis resolved: required for "resolved", between the date of
    diagnosis and today; ``None`` (cleared) for any other clinical status."""
    if clinical_status not in ClinicalStatus.values:
        raise DiagnosisRefused(BAD_CLINICAL_STATUS, field="clinical_status")
    if clinical_status != ClinicalStatus.RESOLVED:
        return None
    if value is None:
        raise DiagnosisRefused(RESOLVED_REQUIRED, field="resolved_on")
    day = _day(value, field="resolved_on")
    if day > (today or local_today()):
        raise DiagnosisRefused(RESOLVED_IN_FUTURE, field="resolved_on")
    if day < diagnosed_on:
        raise DiagnosisRefused(RESOLVED_BEFORE_DIAGNOSED, field="resolved_on")
    return day


def _new_verification(value: str) -> str:
    if value not in NEW_VERIFICATION_STATUSES:
        raise DiagnosisRefused(NEW_VERIFICATION, field="verification_status")
    return value


def _label(value: Any) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if "\x00" in text:
        raise DiagnosisRefused(NUL_CHARACTER, field="label")
    if not text:
        raise DiagnosisRefused(LABEL_REQUIRED, field="label")
    if len(text) > LABEL_MAX_LENGTH:
        raise DiagnosisRefused(LABEL_TOO_LONG, field="label")
    return text


def _encounter(patient: Patient, encounter_id: int | None) -> Encounter | None:
    if encounter_id is None:
        return None
    found = Encounter.objects.filter(pk=encounter_id, patient=patient).first()
    if found is None:
        raise DiagnosisRefused(OTHER_PATIENTS_ENCOUNTER, field="encounter")
    return found


def distribution_label(distribution: str) -> str:
    """ "Segmental dystonia"; hemidystonia is already a name of its own."""
    if distribution == Distribution.HEMIDYSTONIA:
        return "Hemidystonia"
    return f"{distribution.capitalize()} dystonia" if distribution else "Dystonia"


def _form_label(value: object) -> str:
    return NamedForm(value).label if value in {f.value for f in NamedForm} else ""


def _clean_codes(raw: object) -> list[dict[str, str]]:
    """The well-formed code documents (Code.as_dict()) of an assessment's "codes"."""
    if not isinstance(raw, list):
        return []
    return [
        {key: code[key] for key in _CODE_KEYS}
        for code in raw
        if isinstance(code, dict) and all(isinstance(code.get(key), str) for key in _CODE_KEYS)
    ]


def review_diagnosis(review: ClassificationReview) -> tuple[str, list[dict[str, str]]]:
    """The label and codes a decided review puts on the problem list (see the module's
    docstring for why an override keeps only the category codes)."""
    assessment = review.assessment if isinstance(review.assessment, dict) else {}
    codes = _clean_codes(assessment.get("codes"))
    if review.decision == ReviewDecision.OVERRIDDEN:
        label = distribution_label(review.clinician_distribution)
        statement = " ".join(review.clinician_statement.split())
        label = f"{label}: {statement}" if statement else label
        codes = [code for code in codes if code["applies_to"] == CATEGORY_APPLIES_TO]
    else:
        details = assessment.get("form_details")
        forms = [
            _form_label(item.get("form"))
            for item in (details if isinstance(details, list) else [])
            if isinstance(item, dict) and not item.get("suspected")
        ]
        named = ", ".join(form for form in forms if form)
        label = distribution_label(review.distribution)
        label = f"{label}: {named}" if named else label
    if len(label) > LABEL_MAX_LENGTH:
        label = label[: LABEL_MAX_LENGTH - 1] + "\u2026"
    return label, codes


def _check_review(review: ClassificationReview) -> None:
    """Inside the transaction, with the review locked: decided, current, not yet listed."""
    if review.decision == ReviewDecision.PENDING:
        raise DiagnosisRefused(REVIEW_NOT_DECIDED, status=409)
    newest = (
        ClassificationReview.objects.filter(encounter_id=review.encounter_id)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if newest != review.pk:
        raise DiagnosisRefused(REVIEW_SUPERSEDED, status=409)
    listed = Diagnosis.objects.filter(classification_review=review).exclude(
        verification_status=VerificationStatus.ENTERED_IN_ERROR
    )
    if listed.exists():
        raise DiagnosisRefused(ALREADY_ON_LIST, status=409)


def diagnosis_add_from_review(
    *,
    context: AuditContext,
    review_id: int,
    diagnosed_on: date | None = None,
    verification_status: str = VerificationStatus.CONFIRMED,
) -> Diagnosis:
    """Put a decided, current classification review on its patient's problem list, as a
    dystonia diagnosis of the review's encounter (``diagnosed_on`` defaults to that
    encounter's day). Raises DiagnosisNotFound, DiagnosisRefused or AccessRefused, audited."""
    review = (
        ClassificationReview.objects.select_related("encounter__patient")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        not_found(context, "classification_review", review_id, AuditAction.CREATE)
        raise DiagnosisNotFound
    encounter = review.encounter
    patient = encounter.patient
    clinician = check_clinician(context, patient, AuditAction.CREATE, by_id=True)
    with _refusals_audited(context, AuditAction.CREATE, None, patient):
        refuse_if_merged(patient, DiagnosisRefused)
        day = diagnosed_on or encounter.started_at.astimezone(clinic_tz()).date()
        day = check_diagnosed_on(patient, day)
        verification = _new_verification(verification_status)
        with transaction.atomic():
            lock_unmerged(patient.pk, DiagnosisRefused)
            locked = ClassificationReview.objects.select_for_update().get(pk=review.pk)
            _check_review(locked)
            label, codes = review_diagnosis(locked)
            diagnosis = Diagnosis.objects.create(
                patient=patient,
                kind=DiagnosisKind.DYSTONIA,
                label=label,
                codes=codes,
                verification_status=verification,
                diagnosed_on=day,
                encounter=encounter,
                classification_review=locked,
                recorded_by=clinician,
            )
            detail = (
                f"added from classification review {locked.pk} ({locked.decision}), "
                f"{len(codes)} codes"
            )
            _audit(context, AuditAction.CREATE, diagnosis, patient, detail)
            return diagnosis


def _add(
    context: AuditContext,
    patient_id: int,
    *,
    diagnosed_on: Any,
    verification_status: str,
    encounter_id: int | None,
    fields: Any,
) -> Diagnosis:
    """Shared by the free-standing adds: ``fields()`` returns the kind's own fields (label,
    side, codes) and may refuse."""
    patient = patient_for_diagnoses(
        context=context, patient_id=patient_id, action=AuditAction.CREATE
    )
    clinician = check_clinician(context, patient, AuditAction.CREATE)
    with _refusals_audited(context, AuditAction.CREATE, None, patient):
        refuse_if_merged(patient, DiagnosisRefused)
        own = fields()
        day = check_diagnosed_on(patient, diagnosed_on)
        verification = _new_verification(verification_status)
        encounter = _encounter(patient, encounter_id)
        with transaction.atomic():
            lock_unmerged(patient.pk, DiagnosisRefused)
            diagnosis = Diagnosis.objects.create(
                patient=patient,
                verification_status=verification,
                diagnosed_on=day,
                encounter=encounter,
                recorded_by=clinician,
                **own,
            )
            detail = f"added ({len(diagnosis.codes)} codes)"
            _audit(context, AuditAction.CREATE, diagnosis, patient, detail)
            return diagnosis


def hemifacial_spasm_add(
    *,
    context: AuditContext,
    patient_id: int,
    side: str,
    diagnosed_on: date,
    verification_status: str = VerificationStatus.CONFIRMED,
    encounter_id: int | None = None,
) -> Diagnosis:
    """Hemifacial spasm on the problem list, with its side ("left", "right", "bilateral" or
    "" for not specified) and the core's codes for that side: a facial-nerve disorder,
    never a dystonia (clinical.md section 2)."""

    def fields() -> dict[str, Any]:
        if side not in DiagnosisSide.values:
            raise DiagnosisRefused(BAD_SIDE, field="side")
        codes = hemifacial_spasm_codes(side=side or None)
        label = "Hemifacial spasm" + (f" ({DiagnosisSide(side).label.lower()})" if side else "")
        return {
            "kind": DiagnosisKind.HEMIFACIAL_SPASM,
            "label": label,
            "side": side,
            "codes": [code.as_dict() for code in codes],
        }

    return _add(
        context,
        patient_id,
        diagnosed_on=diagnosed_on,
        verification_status=verification_status,
        encounter_id=encounter_id,
        fields=fields,
    )


def diagnosis_other_add(
    *,
    context: AuditContext,
    patient_id: int,
    label: str,
    diagnosed_on: date,
    verification_status: str = VerificationStatus.CONFIRMED,
    encounter_id: int | None = None,
) -> Diagnosis:
    """Another diagnosis (essential tremor, Parkinson's disease...) in the clinician's words,
    without codes: none are guessed from free text."""

    def fields() -> dict[str, Any]:
        return {"kind": DiagnosisKind.OTHER, "label": _label(label), "side": "", "codes": []}

    return _add(
        context,
        patient_id,
        diagnosed_on=diagnosed_on,
        verification_status=verification_status,
        encounter_id=encounter_id,
        fields=fields,
    )


def diagnosis_status_change(
    *,
    context: AuditContext,
    diagnosis_id: int,
    clinical_status: str,
    verification_status: str,
    resolved_on: date | None = None,
) -> Diagnosis:
    """Change a diagnosis's clinical status (active, remission, resolved: ``resolved_on`` is
    required for resolved and cleared otherwise) and verification status. "Entered in
    error" keeps the row and is final. Raises DiagnosisNotFound, DiagnosisRefused or
    AccessRefused, all audited."""
    found = Diagnosis.objects.select_related("patient").filter(pk=diagnosis_id).first()
    if found is None:
        not_found(context, "diagnosis", diagnosis_id, AuditAction.UPDATE)
        raise DiagnosisNotFound
    patient = found.patient
    check_clinician(context, patient, AuditAction.UPDATE, found, by_id=True)
    with _refusals_audited(context, AuditAction.UPDATE, found, patient):
        refuse_if_merged(patient, DiagnosisRefused)
        if verification_status not in VerificationStatus.values:
            raise DiagnosisRefused(BAD_VERIFICATION_STATUS, field="verification_status")
        with transaction.atomic():
            lock_unmerged(patient.pk, DiagnosisRefused)
            locked = Diagnosis.objects.select_for_update().get(pk=found.pk)
            if locked.verification_status == VerificationStatus.ENTERED_IN_ERROR:
                raise DiagnosisRefused(ENTERED_IN_ERROR_IS_FINAL, status=409)
            locked.resolved_on = check_resolved_on(
                clinical_status=clinical_status,
                diagnosed_on=locked.diagnosed_on,
                value=resolved_on,
            )
            locked.clinical_status = clinical_status
            locked.verification_status = verification_status
            locked.save(
                update_fields=[
                    "clinical_status",
                    "verification_status",
                    "resolved_on",
                    "updated_at",
                ]
            )
            in_error = verification_status == VerificationStatus.ENTERED_IN_ERROR
            detail = "marked as entered in error" if in_error else "status changed"
            _audit(context, AuditAction.UPDATE, locked, patient, detail)
            return locked
