"""Investigations (FHIR ServiceRequest, DiagnosticReport, Observation): ordering one,
recording its result, cancelling it (docs/clinical-record.md).

Clinical data: clinicians only, after two-factor (reception and administrators 403 on a
patient's pages and 404 for an investigation's id, patients 404); any clinician orders,
results and cancels. An investigation is ordered, then either resulted once or cancelled with
a reason; a cancelled one is never resulted (order it again). What a result must hold, and
how a blood or urine result is converted and read by the core, is investigation_rules.py's.
Ordering from the work-up advice (investigation_workup.py) orders what the advice still
lists as not yet ordered; asked twice (a double click), it answers the first order.

Dates are Europe/London days: ordered neither in the future nor before birth, resulted
neither in the future nor before the order. Each write is one transaction under the
patient's row lock (records/merged.py: a merged record is refused, 409), audited with ids
only (never the kind of investigation, a value or its reading: administrators read the
trail); refusals are audited outside it and a lock error is refused as busy (409).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_object, audit_record
from clinic.records import selectors as records_selectors
from clinic.records.access import Access, AccessRefused, refusal_reveals
from clinic.records.encounters import may_use_encounters
from clinic.records.investigation_rules import (
    REASON_MAX_LENGTH,
    InvestigationRefused,
    OrderDetails,
    ResultDetails,
    check_order,
    check_result,
    check_resulted_on,
    check_text,
)
from clinic.records.investigation_workup import advice_for, find_line, latest_decided_review
from clinic.records.locks import busy_as
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import (
    Encounter,
    Investigation,
    InvestigationStatus,
    Patient,
)
from clinic.scheduling.availability import local_today

OTHER_PATIENTS_ENCOUNTER = "That encounter is another patient's."
REASON_REQUIRED = "Give the reason for cancelling it."
ALREADY_RESULTED = "This investigation already has a result, recorded on {day}."
RESULT_OF_CANCELLED = (
    "This investigation was cancelled, so it has no result: order it again to record one."
)
CANCEL_RESULTED = "This investigation has a result, so it cannot be cancelled."
ALREADY_CANCELLED = "This investigation is already cancelled."
ADVICE_CHANGED = (
    "The work-up advice no longer lists this investigation (the classification or the record "
    "changed since the page was shown), so nothing was ordered. Read the advice again."
)

_audit = partial(audit_object, object_type="investigation")


class InvestigationNotFound(Exception):  # noqa: N818 - reads as the event
    """No investigation has that identifier."""


# Who


def check_clinician(
    context: AuditContext,
    patient: Patient,
    action: AuditAction,
    investigation: Investigation | None = None,
    *,
    by_id: bool = False,
) -> User:
    """The acting clinician, or an audited refusal: about a patient, 403 for other staff,
    404 for patients; asked for an investigation by its id (``by_id``), nobody but a
    clinician learns whether it exists (404)."""
    actor = context.actor
    access = Access.READ if action == AuditAction.READ else Access.WRITE
    if actor is None or not may_use_encounters(actor, patient, access):
        detail = f"investigation {action.value} refused"
        _audit(context, action, investigation, patient, detail, allowed=False)
        raise AccessRefused(reveal=not by_id and actor is not None and refusal_reveals(actor))
    return actor


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


def patient_for_investigations(
    *, context: AuditContext, patient_id: int, action: AuditAction
) -> Patient:
    """The patient whose investigations a clinician reads or orders. Raises
    records.selectors.PatientNotFound or AccessRefused, both audited."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        not_found(context, "patient", patient_id, action)
        raise records_selectors.PatientNotFound
    check_clinician(context, patient, action)
    return patient


def found_investigation(
    context: AuditContext, investigation_id: int, action: AuditAction
) -> Investigation:
    """The investigation with its patient, for a clinician. Raises InvestigationNotFound or
    AccessRefused (404), both audited."""
    found = (
        Investigation.objects.select_related("patient", "encounter", "ordered_by", "resulted_by")
        .filter(pk=investigation_id)
        .first()
    )
    if found is None:
        not_found(context, "investigation", investigation_id, action)
        raise InvestigationNotFound
    check_clinician(context, found.patient, action, found, by_id=True)
    return found


@contextmanager
def refusals_audited(
    context: AuditContext, action: AuditAction, obj: Investigation | None, patient: Patient
) -> Iterator[None]:
    """Audit an InvestigationRefused raised in the block, then let it go on; a lock error is
    refused as busy (409). Wrap the block around the transaction, so the entry is written
    after the rollback, not undone by it."""
    try:
        with busy_as(InvestigationRefused):
            yield
    except InvestigationRefused as refusal:
        detail = f"investigation {action.value} refused: {refusal.reason}"
        _audit(context, action, obj, patient, detail, allowed=False)
        raise


def _encounter(patient: Patient, encounter_id: Any) -> Encounter | None:
    if encounter_id is None:
        return None
    found = (
        Encounter.objects.filter(pk=encounter_id, patient=patient).first()
        if isinstance(encounter_id, int) and not isinstance(encounter_id, bool)
        else None
    )
    if found is None:
        raise InvestigationRefused(OTHER_PATIENTS_ENCOUNTER, field="encounter")
    return found


# Writes


def _create(
    context: AuditContext,
    patient: Patient,
    clinician: User,
    *,
    kind: str,
    name: str,
    day: Any,
    encounter: Encounter | None = None,
    workup_item: str = "",
) -> Investigation:
    """Inside the write's transaction, under the patient's lock: the order, audited."""
    investigation = Investigation.objects.create(
        patient=patient,
        encounter=encounter,
        kind=kind,
        name=name,
        workup_item=workup_item,
        ordered_on=day,
        ordered_by=clinician,
    )
    detail = "investigation ordered" + (" from the work-up advice" if workup_item else "")
    _audit(context, AuditAction.CREATE, investigation, patient, detail)
    return investigation


def investigation_order(
    *, context: AuditContext, patient_id: int, details: OrderDetails
) -> Investigation:
    """Order an investigation for the patient (any clinician). Raises PatientNotFound,
    InvestigationRefused or AccessRefused, all audited."""
    patient = patient_for_investigations(
        context=context, patient_id=patient_id, action=AuditAction.CREATE
    )
    clinician = check_clinician(context, patient, AuditAction.CREATE)
    with refusals_audited(context, AuditAction.CREATE, None, patient):
        refuse_if_merged(patient, InvestigationRefused)
        kind, name, day = check_order(details, born=patient.date_of_birth, today=local_today())
        encounter = _encounter(patient, details.encounter_id)
        with transaction.atomic():
            lock_unmerged(patient.pk, InvestigationRefused)
            return _create(
                context, patient, clinician, kind=kind, name=name, day=day, encounter=encounter
            )


def investigation_order_from_workup(
    *, context: AuditContext, patient_id: int, item_id: str, key: str
) -> tuple[Investigation, bool]:
    """Order, dated today, an investigation the work-up advice lists as not yet ordered
    (``key`` of item ``item_id``); returns it and whether it was made now. One the advice
    shows as ordered or resulted already (a double click) is returned as it is (False).
    Raises PatientNotFound, InvestigationRefused (409 when the advice no longer lists it) or
    AccessRefused, all audited."""
    patient = patient_for_investigations(
        context=context, patient_id=patient_id, action=AuditAction.CREATE
    )
    clinician = check_clinician(context, patient, AuditAction.CREATE)
    with refusals_audited(context, AuditAction.CREATE, None, patient):
        refuse_if_merged(patient, InvestigationRefused)
        with transaction.atomic():
            # The advice is read under the patient's lock, so two clicks order once.
            lock_unmerged(patient.pk, InvestigationRefused)
            ordered = Investigation.objects.filter(patient=patient)
            advice = advice_for(latest_decided_review(patient), ordered)
            line = find_line(advice, str(item_id), str(key))
            if line is None or line.kind is None:
                raise InvestigationRefused(ADVICE_CHANGED, status=409)
            if line.investigation is not None:
                return line.investigation, False
            investigation = _create(
                context,
                patient,
                clinician,
                kind=line.kind,
                name=line.order_name,
                day=local_today(),
                workup_item=str(item_id),
            )
    return investigation, True


def investigation_result(
    *, context: AuditContext, investigation_id: int, details: ResultDetails
) -> Investigation:
    """Record an ordered investigation's result (any clinician): a blood or urine result is
    converted to its analyte's canonical unit and stored with the core's reading. Resulted
    already or cancelled: 409. Raises InvestigationNotFound, InvestigationRefused or
    AccessRefused, all audited."""
    found = found_investigation(context, investigation_id, AuditAction.UPDATE)
    patient = found.patient
    clinician = check_clinician(context, patient, AuditAction.UPDATE, found, by_id=True)
    with refusals_audited(context, AuditAction.UPDATE, found, patient):
        refuse_if_merged(patient, InvestigationRefused)
        _check_open_for_result(found)  # the state first: no point correcting a unit for it
        values = check_result(found.kind, details)
        with transaction.atomic():
            lock_unmerged(patient.pk, InvestigationRefused)
            locked = Investigation.objects.select_for_update().get(pk=found.pk)
            _check_open_for_result(locked)
            day = check_resulted_on(
                details.resulted_on,
                ordered_on=locked.ordered_on,
                born=patient.date_of_birth,
                today=local_today(),
            )
            for name, value in values.items():
                setattr(locked, name, value)
            locked.status = InvestigationStatus.RESULTED
            locked.resulted_on = day
            locked.resulted_by = clinician
            locked.resulted_at = timezone.now()
            locked.save()
            _audit(context, AuditAction.UPDATE, locked, patient, "investigation resulted")
    return locked


def _check_open_for_result(investigation: Investigation) -> None:
    if investigation.status == InvestigationStatus.CANCELLED:
        raise InvestigationRefused(RESULT_OF_CANCELLED, status=409)
    if investigation.status == InvestigationStatus.RESULTED and investigation.resulted_on:
        day = investigation.resulted_on
        shown = f"{day.day} {day:%B %Y}"
        raise InvestigationRefused(ALREADY_RESULTED.format(day=shown), status=409)


def investigation_cancel(
    *, context: AuditContext, investigation_id: int, reason: Any
) -> Investigation:
    """Cancel an ordered investigation, with the reason (any clinician); one with a result,
    or cancelled already, is refused (409). Raises InvestigationNotFound,
    InvestigationRefused or AccessRefused, all audited."""
    found = found_investigation(context, investigation_id, AuditAction.UPDATE)
    patient = found.patient
    clinician = check_clinician(context, patient, AuditAction.UPDATE, found, by_id=True)
    with refusals_audited(context, AuditAction.UPDATE, found, patient):
        refuse_if_merged(patient, InvestigationRefused)
        text = check_text(
            reason, field="reason", label="The reason", limit=REASON_MAX_LENGTH, one_line=True
        )
        if not text:
            raise InvestigationRefused(REASON_REQUIRED, field="reason")
        with transaction.atomic():
            lock_unmerged(patient.pk, InvestigationRefused)
            locked = Investigation.objects.select_for_update().get(pk=found.pk)
            if locked.status == InvestigationStatus.RESULTED:
                raise InvestigationRefused(CANCEL_RESULTED, status=409)
            if locked.status == InvestigationStatus.CANCELLED:
                raise InvestigationRefused(ALREADY_CANCELLED, status=409)
            locked.status = InvestigationStatus.CANCELLED
            locked.cancelled_reason = text
            locked.cancelled_by = clinician
            locked.cancelled_at = timezone.now()
            locked.save()
            _audit(context, AuditAction.UPDATE, locked, patient, "investigation cancelled")
    return locked
