"""Recalls: patients due for a service by a date (re-injection about 12 weeks after the last
toxin session, for example), per site and practitioner, worked by reception. Each write is
one transaction, checked and audited; a refusal is audited outside the transaction it would
roll back.

Reception and clinicians create and work recalls; patients and administrators never do. A
recall closes by itself when the patient books the service (``recalls_close_for_booking``,
inside the booking transaction) and when the patient dies or is discharged
(``recalls_close_ineligible``).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditAction, AuditChannel, AuditOutcome
from clinic.audit.services import AuditContext, audit_object, audit_record, audit_record_many
from clinic.directory.models import Practitioner, Service, Site
from clinic.records.access import (
    Access,
    AccessRefused,
    DataCategory,
    access_patient_data,
    access_patient_list,
    refuse,
)
from clinic.records.models import Patient
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import (
    Appointment,
    Recall,
    RecallContact,
    RecallStatus,
    ServiceSchedule,
)

TEXT_MAX_LENGTH = 200
# How far from today a due date may be: a recall entered late is simply overdue, but not by
# years, and nobody is recalled further ahead than this (operational choices, not clinical).
DUE_BY_MAX_PAST_DAYS = 365
DUE_BY_MAX_FUTURE_DAYS = 2 * 365

NOT_UNDER_CARE = (
    "This patient is no longer under the unit's care (they have died or been discharged), "
    "so they cannot be recalled."
)
DUE_BY_OUT_OF_RANGE = "Choose a due date no more than a year ago and no more than two years ahead."
NOT_SCHEDULED = "This service cannot be booked, so no one can be recalled for it."
SITE_DOES_NOT_OFFER = "That site does not offer this service."
PRACTITIONER_DOES_NOT_PROVIDE = "That practitioner does not provide this service."
PRACTITIONER_NOT_AT_SITE = "That practitioner does not work at that site."
NOT_OPEN = "This recall is no longer due: it has been booked or closed."
TEXT_TOO_LONG = "Write at most 200 characters."
REASON_REQUIRED = "Say why the recall is being closed."
BAD_CHOICE = "Choose one of the options."

CLOSED_BOOKED = "Booked"
CLOSED_DIED = "Patient died"
CLOSED_DISCHARGED = "Patient discharged"


class RecallRefused(ValueError):  # noqa: N818 - reads as the event
    """The recall cannot be created or changed as asked; ``message`` says why and ``field``
    names the input it is about (empty when it is about the whole request)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        self.message = message
        self.field = field
        super().__init__(message)


class RecallNotFound(Exception):  # noqa: N818 - reads as the event
    """No recall has that identifier."""


_audit = partial(audit_object, object_type="recall")


def _refuse(
    context: AuditContext,
    *,
    object_id: object = "",
    patient: Patient | None = None,
    detail: str,
    action: AuditAction,
) -> AccessRefused:
    """Audit a refused access to a recall and return the exception to raise."""
    return refuse(
        context,
        object_type="recall",
        object_id=object_id,
        patient=patient,
        detail=detail,
        action=action,
    )


def _actor(context: AuditContext) -> User:
    """The person acting (access checks have made sure there is one)."""
    if context.actor is None:
        raise AccessRefused(reveal=False)
    return context.actor


def may_work_recalls(user: object, patient: Patient) -> bool:
    """Reception and clinicians (after two-factor) may write a patient's recalls; patients,
    even their own, and administrators may not."""
    if getattr(user, "role", None) not in {Role.RECEPTION, Role.CLINICIAN}:
        return False
    return access_patient_data(
        user,
        patient_user_id=patient.user_id,
        category=DataCategory.APPOINTMENTS,
        access=Access.WRITE,
    )


def _check_access(
    context: AuditContext, patient: Patient, action: AuditAction, recall: Recall | None = None
) -> None:
    if not may_work_recalls(context.actor, patient):
        raise _refuse(
            context,
            object_id=recall.pk if recall else "",
            patient=patient,
            detail=f"recall {action.value} refused",
            action=action,
        )


def _text(value: str, field: str, *, required: str = "") -> str:
    value = (value or "").strip()
    if required and not value:
        raise RecallRefused(required, field=field)
    if len(value) > TEXT_MAX_LENGTH:
        raise RecallRefused(TEXT_TOO_LONG, field=field)
    return value


def _choice(value: str, allowed: list[str], field: str) -> None:
    if value not in allowed:
        raise RecallRefused(BAD_CHOICE, field=field)


def _check_new(
    *,
    patient: Patient,
    service: Service,
    due_by: date,
    site: Site | None,
    practitioner: Practitioner | None,
) -> None:
    """The checks a new recall must pass (patient, date, and who and where can give the
    service), each with the field it is about."""
    if not patient.under_care:
        raise RecallRefused(NOT_UNDER_CARE)
    today = local_today()
    earliest = today - timedelta(days=DUE_BY_MAX_PAST_DAYS)
    if not earliest <= due_by <= today + timedelta(days=DUE_BY_MAX_FUTURE_DAYS):
        raise RecallRefused(DUE_BY_OUT_OF_RANGE, field="due_by")
    if not ServiceSchedule.objects.filter(service=service).exists():
        raise RecallRefused(NOT_SCHEDULED, field="service")
    if site is not None and not site.services.filter(pk=service.pk).exists():
        raise RecallRefused(SITE_DOES_NOT_OFFER, field="site")
    if practitioner is None:
        return
    if not practitioner.is_active or not practitioner.services.filter(pk=service.pk).exists():
        raise RecallRefused(PRACTITIONER_DOES_NOT_PROVIDE, field="practitioner")
    if site is not None and not practitioner.sites.filter(pk=site.pk).exists():
        raise RecallRefused(PRACTITIONER_NOT_AT_SITE, field="practitioner")


def recall_create(
    *,
    context: AuditContext,
    patient: Patient,
    service: Service,
    due_by: date,
    site: Site | None = None,
    practitioner: Practitioner | None = None,
    reason: str = "",
) -> Recall:
    """Put a patient on the recall list for a service by a date (reception and clinicians;
    the toxin clinic calls it after a session). A due date in the past is allowed, within a
    year: the recall is then overdue from the start. Raises RecallRefused (audited) or
    AccessRefused (audited)."""
    _check_access(context, patient, AuditAction.CREATE)
    try:
        reason = _text(reason, "reason")
        _check_new(
            patient=patient, service=service, due_by=due_by, site=site, practitioner=practitioner
        )
        with transaction.atomic():
            recall = Recall.objects.create(
                patient=patient,
                service=service,
                due_by=due_by,
                site=site,
                practitioner=practitioner,
                reason=reason,
                created_by=_actor(context),
            )
            _audit(
                context,
                AuditAction.CREATE,
                recall,
                patient,
                f"recall for {service.name} due by {due_by:%Y-%m-%d}",
            )
            return recall
    except RecallRefused as refusal:
        detail = f"refused: {refusal.message}"
        _audit(context, AuditAction.CREATE, None, patient, detail, allowed=False)
        raise


def _recall(context: AuditContext, recall_id: int, action: AuditAction) -> Recall:
    """The recall with its patient, access checked; raises RecallNotFound or AccessRefused
    (both audited)."""
    recall = Recall.objects.select_related("patient", "service").filter(pk=recall_id).first()
    if recall is None:
        _audit(context, action, None, None, f"no such recall {recall_id}", allowed=False)
        raise RecallNotFound
    _check_access(context, recall.patient, action, recall)
    return recall


def _locked_open(recall_id: int) -> Recall:
    """Inside a transaction: the recall row, locked, refused unless still open."""
    locked = Recall.objects.select_for_update().get(pk=recall_id)
    if locked.status != RecallStatus.OPEN:
        raise RecallRefused(NOT_OPEN)
    return locked


def recall_record_contact(
    *,
    context: AuditContext,
    recall_id: int,
    method: str,
    outcome: str,
    note: str = "",
) -> RecallContact:
    """Record one attempt to reach a recalled patient (open recalls only)."""
    recall = _recall(context, recall_id, AuditAction.UPDATE)
    try:
        _choice(method, RecallContact.Method.values, "method")
        _choice(outcome, RecallContact.Outcome.values, "outcome")
        note = _text(note, "note")
        with transaction.atomic():
            locked = _locked_open(recall.pk)
            contact = RecallContact.objects.create(
                recall=locked, method=method, outcome=outcome, note=note, by=_actor(context)
            )
            detail = f"contact: {contact.get_method_display()}, {contact.get_outcome_display()}"
            _audit(context, AuditAction.UPDATE, locked, recall.patient, detail)
            return contact
    except RecallRefused as refusal:
        detail = f"contact refused: {refusal.message}"
        _audit(context, AuditAction.UPDATE, recall, recall.patient, detail, allowed=False)
        raise


def recall_close(*, context: AuditContext, recall_id: int, reason: str) -> Recall:
    """Close an open recall by hand, saying why (the patient declined, was seen elsewhere)."""
    recall = _recall(context, recall_id, AuditAction.UPDATE)
    try:
        reason = _text(reason, "reason", required=REASON_REQUIRED)
        with transaction.atomic():
            locked = _locked_open(recall.pk)
            locked.status = RecallStatus.CLOSED
            locked.closed_reason = reason
            locked.closed_at = timezone.now()
            locked.save(update_fields=["status", "closed_reason", "closed_at"])
            _audit(context, AuditAction.UPDATE, locked, recall.patient, f"closed: {reason}")
            return locked
    except RecallRefused as refusal:
        detail = f"close refused: {refusal.message}"
        _audit(context, AuditAction.UPDATE, recall, recall.patient, detail, allowed=False)
        raise


def recalls_close_for_booking(*, context: AuditContext, appointment: Appointment) -> int:
    """Close the patient's open recalls for the appointment's service as booked, linking the
    appointment. Call inside the booking transaction, after its access check; returns how
    many were closed."""
    open_recalls = Recall.objects.filter(
        patient_id=appointment.patient_id,
        service_id=appointment.service_id,
        status=RecallStatus.OPEN,
    )
    ids = list(open_recalls.values_list("pk", flat=True))
    if not ids:
        return 0
    Recall.objects.filter(pk__in=ids, status=RecallStatus.OPEN).update(
        status=RecallStatus.BOOKED,
        appointment=appointment,
        closed_reason=CLOSED_BOOKED,
        closed_at=timezone.now(),
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        outcome=AuditOutcome.ALLOWED,
        object_type="recall",
        object_id=",".join(map(str, ids)),
        patient=appointment.patient,
        detail=f"booked by appointment {appointment.pk}",
    )
    return len(ids)


def recalls_reopen_for_cancellation(*, context: AuditContext, appointment: Appointment) -> int:
    """Inside a cancellation: recalls that this appointment closed are due again (the patient
    is still due the service). Returns how many reopened."""
    ids = list(
        Recall.objects.filter(appointment=appointment, status=RecallStatus.BOOKED).values_list(
            "pk", flat=True
        )
    )
    if not ids:
        return 0
    Recall.objects.filter(pk__in=ids).update(
        status=RecallStatus.OPEN, appointment=None, closed_reason="", closed_at=None
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        outcome=AuditOutcome.ALLOWED,
        object_type="recall",
        object_id=",".join(map(str, ids)),
        patient=appointment.patient,
        detail=f"due again: appointment {appointment.pk} cancelled",
    )
    return len(ids)


def _may_close_ineligible(context: AuditContext) -> bool:
    """Reception and clinicians (after two-factor), or the system itself (a task, or code
    recording a death or discharge), never a web request without a person."""
    if context.actor is None:
        return context.channel == AuditChannel.SYSTEM
    return access_patient_list(context.actor)


def recalls_close_ineligible(*, context: AuditContext, patient: Patient | None = None) -> int:
    """Close the open recalls of patients who have died or been discharged (of one patient,
    when given): the recall list calls it before it is read, and code that records a death
    or a discharge may call it for that patient. Returns how many were closed."""
    if not _may_close_ineligible(context):
        raise _refuse(
            context,
            patient=patient,
            detail="closing recalls refused",
            action=AuditAction.UPDATE,
        )
    ineligible = Recall.objects.filter(status=RecallStatus.OPEN).filter(
        Q(patient__date_of_death__isnull=False) | Q(patient__discharged_on__isnull=False)
    )
    if patient is not None:
        ineligible = ineligible.filter(patient=patient)
    found = list(ineligible.select_related("patient"))
    if not found:
        return 0
    now = timezone.now()
    with transaction.atomic():
        for reason, died in ((CLOSED_DIED, True), (CLOSED_DISCHARGED, False)):
            group = [r for r in found if (r.patient.date_of_death is not None) is died]
            if not group:
                continue
            Recall.objects.filter(pk__in=[r.pk for r in group], status=RecallStatus.OPEN).update(
                status=RecallStatus.CLOSED, closed_reason=reason, closed_at=now
            )
            audit_record_many(
                context=context,
                action=AuditAction.UPDATE,
                object_type="recall",
                patients=list({r.patient for r in group}),
                detail=f"open recalls closed: {reason.lower()}",
            )
    return len(found)
