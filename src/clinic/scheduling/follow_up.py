"""Patient-initiated (open) follow-up: a clinician lets a patient book a service themselves,
from an earliest date to a last date, when their symptoms return (for example when toxin
wears off), even a service the unit otherwise books itself. The booking uses it up.

Only clinicians (after two-factor) open and end one: it is a clinical decision, so access is
asked for clinical data (reception are answered 403, patients 404). One open follow-up per
patient and service at a time: a second is refused, naming the first, so a window the
patient relies on never changes without a clinician ending it on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.directory.models import Service, Site
from clinic.records import selectors as records_selectors
from clinic.records.access import (
    Access,
    AccessRefused,
    DataCategory,
    access_patient_data,
    refusal_reveals,
)
from clinic.records.models import Patient
from clinic.scheduling import availability
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import (
    Appointment,
    FollowUpStatus,
    OpenFollowUp,
    ServiceSchedule,
)

TEXT_MAX_LENGTH = 200
PATIENT_FOLLOW_UPS_SHOWN = 20

NOT_UNDER_CARE = (
    "This patient is no longer under the unit's care (they have died or been discharged)."
)
NOT_SCHEDULED = "This service cannot be booked, so it cannot be offered for open follow-up."
ENDS_BEFORE_EARLIEST = "The last date must be on or after the earliest date."
ENDS_IN_PAST = "The last date has already passed. Choose today or a later date."
WINDOW_TOO_LONG = "An open follow-up can last at most {days} days."
STARTS_TOO_LATE = "The earliest date must be within {days} days of today."
ALREADY_OPEN = (
    "This patient already has an open follow-up for {service} ({window}). End it before "
    "opening another."
)
NOT_OPEN = "This follow-up is no longer open."
TEXT_TOO_LONG = "Write at most 200 characters."
REASON_REQUIRED = "Say why the follow-up is being ended."
OUTSIDE_WINDOW = "Your open follow-up lets you book from {window}."


class FollowUpRefused(ValueError):  # noqa: N818 - reads as the event
    """The follow-up cannot be opened or ended as asked; ``field`` names the input."""

    def __init__(self, message: str, *, field: str = "") -> None:
        self.message = message
        self.field = field
        super().__init__(message)


class FollowUpNotFound(Exception):  # noqa: N818 - reads as the event
    """No follow-up has that identifier."""


def window_text(earliest: date, ends_on: date) -> str:
    """'3 March to 2 September 2027' (the first year is left out when it is the same)."""
    first = f"{earliest.day} {earliest:%B}"
    if earliest.year != ends_on.year:
        first += f" {earliest.year}"
    return f"{first} to {ends_on.day} {ends_on:%B %Y}"


_audit = partial(audit_object, object_type="follow_up")


def check_clinician(
    context: AuditContext,
    patient: Patient,
    action: AuditAction,
    follow_up: OpenFollowUp | None = None,
) -> User:
    """Only clinicians open and end follow-ups (clinical data, written): an audited refusal,
    403 for staff and 404 for patients. Returns the clinician."""
    actor = context.actor
    allowed = actor is not None and access_patient_data(
        actor, patient_user_id=patient.user_id, category=DataCategory.CLINICAL, access=Access.WRITE
    )
    if actor is None or not allowed:
        _audit(
            context, action, follow_up, patient, f"follow-up {action.value} refused", allowed=False
        )
        raise AccessRefused(reveal=actor is not None and refusal_reveals(actor))
    return actor


def _text(value: str, field: str, *, required: str = "") -> str:
    value = (value or "").strip()
    if required and not value:
        raise FollowUpRefused(required, field=field)
    if len(value) > TEXT_MAX_LENGTH:
        raise FollowUpRefused(TEXT_TOO_LONG, field=field)
    return value


def _check_window(earliest_date: date, ends_on: date) -> None:
    maximum = settings.FOLLOW_UP_MAX_DAYS
    today = local_today()
    if ends_on < earliest_date:
        raise FollowUpRefused(ENDS_BEFORE_EARLIEST, field="ends_on")
    if ends_on < today:
        raise FollowUpRefused(ENDS_IN_PAST, field="ends_on")
    if (ends_on - earliest_date).days > maximum:
        raise FollowUpRefused(WINDOW_TOO_LONG.format(days=maximum), field="ends_on")
    if earliest_date > today + timedelta(days=maximum):
        raise FollowUpRefused(STARTS_TOO_LATE.format(days=maximum), field="earliest_date")


def _check_new(patient: Patient, service: Service, earliest_date: date, ends_on: date) -> None:
    if not patient.under_care:
        raise FollowUpRefused(NOT_UNDER_CARE)
    if not ServiceSchedule.objects.filter(service=service).exists():
        raise FollowUpRefused(NOT_SCHEDULED, field="service")
    _check_window(earliest_date, ends_on)


def _check_none_open(patient: Patient, service: Service) -> None:
    """Under the patient's lock: one open follow-up per patient and service."""
    existing = _open_now(patient, service).first()
    if existing is not None:
        window = window_text(existing.earliest_date, existing.ends_on)
        raise FollowUpRefused(ALREADY_OPEN.format(service=service.name, window=window))


def _locked_open(follow_up_id: int) -> OpenFollowUp:
    locked = OpenFollowUp.objects.select_for_update().get(pk=follow_up_id)
    if locked.status != FollowUpStatus.OPEN:
        raise FollowUpRefused(NOT_OPEN)
    return locked


def _open_now(patient: Patient, service: Service) -> QuerySet[OpenFollowUp]:
    """Open follow-ups for the patient and service that have not run out."""
    return OpenFollowUp.objects.filter(
        patient=patient,
        service=service,
        status=FollowUpStatus.OPEN,
        ends_on__gte=local_today(),
    )


def follow_up_open(
    *,
    context: AuditContext,
    patient: Patient,
    service: Service,
    earliest_date: date,
    ends_on: date,
    note: str = "",
) -> OpenFollowUp:
    """Let the patient book the service themselves from ``earliest_date`` to ``ends_on``
    (clinicians only). Raises FollowUpRefused or AccessRefused, both audited."""
    clinician = check_clinician(context, patient, AuditAction.CREATE)
    try:
        note = _text(note, "note")
        _check_new(patient, service, earliest_date, ends_on)
        with transaction.atomic():
            # The patient's row lock makes "one open at a time" hold between two clinicians.
            Patient.objects.select_for_update().filter(pk=patient.pk).first()
            _check_none_open(patient, service)
            follow_up = OpenFollowUp.objects.create(
                patient=patient,
                service=service,
                earliest_date=earliest_date,
                ends_on=ends_on,
                note=note,
                created_by=clinician,
            )
            detail = f"open follow-up for {service.name}, {earliest_date} to {ends_on}"
            _audit(context, AuditAction.CREATE, follow_up, patient, detail)
            return follow_up
    except FollowUpRefused as refusal:
        detail = f"refused: {refusal.message}"
        _audit(context, AuditAction.CREATE, None, patient, detail, allowed=False)
        raise


def follow_up_end(*, context: AuditContext, follow_up_id: int, reason: str) -> OpenFollowUp:
    """End an open follow-up before it runs out (clinicians only); the reason goes in the
    audit trail. Raises FollowUpNotFound, FollowUpRefused or AccessRefused, all audited."""
    found = OpenFollowUp.objects.select_related("patient").filter(pk=follow_up_id).first()
    if found is None:
        _audit(context, AuditAction.UPDATE, None, None, "no such follow-up", allowed=False)
        raise FollowUpNotFound
    check_clinician(context, found.patient, AuditAction.UPDATE, found)
    try:
        reason = _text(reason, "reason", required=REASON_REQUIRED)
        with transaction.atomic():
            locked = _locked_open(found.pk)
            locked.status = FollowUpStatus.ENDED
            locked.save(update_fields=["status"])
            _audit(context, AuditAction.UPDATE, locked, found.patient, f"ended: {reason}")
            return locked
    except FollowUpRefused as refusal:
        detail = f"end refused: {refusal.message}"
        _audit(context, AuditAction.UPDATE, found, found.patient, detail, allowed=False)
        raise


def _covering(patient_id: int, service_id: int, start: datetime) -> QuerySet[OpenFollowUp]:
    day = start.astimezone(availability.clinic_tz()).date()
    return OpenFollowUp.objects.filter(
        patient_id=patient_id,
        service_id=service_id,
        status=FollowUpStatus.OPEN,
        earliest_date__lte=day,
        ends_on__gte=day,
    ).order_by("pk")


def follow_up_for_booking(
    patient: Patient, service: Service, start: datetime
) -> OpenFollowUp | None:
    """The patient's open follow-up for the service whose window holds the local date of
    ``start``, if there is one."""
    return _covering(patient.pk, service.pk, start).first()


def follow_up_booking_refusal(
    *, patient: Patient, service: Service, start: datetime, otherwise: str
) -> str | None:
    """Why a patient may not book this service (one the unit books) at ``start``: None when
    an open follow-up allows it; the dates they may book when one is open but not then;
    ``otherwise`` when there is none."""
    if follow_up_for_booking(patient, service, start) is not None:
        return None
    current = _open_now(patient, service).order_by("earliest_date").first()
    if current is None:
        return otherwise
    return OUTSIDE_WINDOW.format(window=window_text(current.earliest_date, current.ends_on))


def follow_up_use(*, context: AuditContext, appointment: Appointment) -> OpenFollowUp | None:
    """Mark the follow-up the new appointment falls in as used, linking the appointment.
    Call inside the booking transaction, after its access check."""
    follow_up = (
        _covering(appointment.patient_id, appointment.service_id, appointment.start)
        .select_for_update()
        .first()
    )
    if follow_up is None:
        return None
    follow_up.status = FollowUpStatus.USED
    follow_up.appointment = appointment
    follow_up.save(update_fields=["status", "appointment"])
    detail = f"used by appointment {appointment.pk}"
    _audit(context, AuditAction.UPDATE, follow_up, appointment.patient, detail)
    return follow_up


def follow_up_release(*, context: AuditContext, appointment: Appointment) -> OpenFollowUp | None:
    """Inside a cancellation: the follow-up this appointment used is open again if its
    window has not ended (the clinician granted the window, not one booking)."""
    follow_up = (
        OpenFollowUp.objects.select_for_update()
        .filter(appointment=appointment, status=FollowUpStatus.USED)
        .first()
    )
    if follow_up is None or follow_up.ends_on < local_today():
        return None
    follow_up.status, follow_up.appointment = FollowUpStatus.OPEN, None
    follow_up.save(update_fields=["status", "appointment"])
    detail = f"open again: appointment {appointment.pk} cancelled"
    _audit(context, AuditAction.UPDATE, follow_up, appointment.patient, detail)
    return follow_up


def follow_ups_of_patient(
    *, context: AuditContext, patient: Patient, open_only: bool = False
) -> list[OpenFollowUp]:
    """The patient's follow-ups, latest first (the patient themselves, reception and
    clinicians), audited when any are shown; ``open_only`` keeps those the patient can still
    book with."""
    actor = context.actor
    allowed = actor is not None and access_patient_data(
        actor,
        patient_user_id=patient.user_id,
        category=DataCategory.APPOINTMENTS,
        access=Access.READ,
    )
    if actor is None or not allowed:
        _audit(context, AuditAction.READ, None, patient, "follow-ups read refused", allowed=False)
        raise AccessRefused(reveal=actor is not None and refusal_reveals(actor))
    follow_ups = OpenFollowUp.objects.filter(patient=patient).select_related("service")
    if open_only:
        follow_ups = follow_ups.filter(status=FollowUpStatus.OPEN, ends_on__gte=local_today())
    listed = list(follow_ups.order_by("-created_at", "-pk")[:PATIENT_FOLLOW_UPS_SHOWN])
    if listed:  # as for every list: an entry when something of the patient's is shown
        _audit(context, AuditAction.READ, None, patient, f"{len(listed)} follow-ups")
    return listed


# Booking through a follow-up: which services the patient may choose, and where to search.


def services_open_to(patient: Patient | None) -> list[int]:
    """The services the patient may choose through an open follow-up (ids)."""
    if patient is None:
        return []
    return list(
        OpenFollowUp.objects.filter(
            patient=patient, status=FollowUpStatus.OPEN, ends_on__gte=local_today()
        ).values_list("service_id", flat=True)
    )


@dataclass(frozen=True)
class FollowUpWindow:
    """Where a patient booking through a follow-up may search: ``first`` (today or the
    earliest date, whichever is later) to ``last``."""

    first: date
    last: date
    message: str

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last


def follow_up_search_window(
    *, patient: Patient | None, service: Service, staff: bool
) -> FollowUpWindow | None:
    """The window a patient's search is limited to when they book a service the unit books
    through their open follow-up; None for staff, for services booked online, or when there
    is no open follow-up (booking then refuses with the usual message)."""
    if staff or patient is None:
        return None
    if ServiceSchedule.objects.filter(service=service, bookable_online=True).exists():
        return None
    current = _open_now(patient, service).order_by("earliest_date").first()
    if current is None:
        return None
    message = OUTSIDE_WINDOW.format(window=window_text(current.earliest_date, current.ends_on))
    return FollowUpWindow(max(local_today(), current.earliest_date), current.ends_on, message)


def first_available_in(
    window: FollowUpWindow, *, service: Service, sites: tuple[Site, ...] = ()
) -> availability.Slot | None:
    """The earliest free slot inside the window, searching at most SLOT_SEARCH_MAX_DAYS from
    its first day, a week at a time."""
    now = timezone.now()
    last = min(window.last, window.first + timedelta(days=settings.SLOT_SEARCH_MAX_DAYS))
    start = window.first
    while start <= last:
        end = min(start + timedelta(days=6), last)
        query = availability.SlotQuery(service=service, date_from=start, date_to=end, sites=sites)
        found = availability.slots_search(query, not_before=now)
        if found:
            return found[0]
        start = end + timedelta(days=1)
    return None


def patient_for_clinician(*, context: AuditContext, patient_id: int) -> Patient:
    """The patient whose follow-ups a clinician opens: refused and audited (404 for an
    unknown id, 403 for staff who are not clinicians, 404 for patients) before anything is
    shown."""
    target = Patient.objects.filter(pk=patient_id).first()
    if target is None:
        _audit(
            context, AuditAction.READ, None, None, f"no such patient {patient_id}", allowed=False
        )
        raise AccessRefused(reveal=False)
    check_clinician(context, target, AuditAction.CREATE)
    return records_selectors.patient_for_user(
        context=context, patient_id=patient_id, category=DataCategory.APPOINTMENTS
    )


def follow_up_for_clinician(*, context: AuditContext, follow_up_id: int) -> OpenFollowUp:
    """One follow-up, for the clinician ending it: refused and audited like the patient."""
    found = (
        OpenFollowUp.objects.select_related("patient", "service").filter(pk=follow_up_id).first()
    )
    if found is None:
        _audit(context, AuditAction.READ, None, None, "no such follow-up", allowed=False)
        raise AccessRefused(reveal=False)
    check_clinician(context, found.patient, AuditAction.UPDATE, found)
    _audit(context, AuditAction.READ, found, found.patient, "follow-up read")
    return found
