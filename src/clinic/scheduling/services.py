"""Booking, rescheduling and cancelling: one transaction each, rows locked once, late and in
primary-key order, availability checked again under the lock, the database's constraints as
the backstop, every change recorded and audited (docs/booking.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.directory.models import Practitioner, Service, Site
from clinic.records.access import (
    Access,
    AccessRefused,
    DataCategory,
    access_patient_data,
    refusal_reveals,
)
from clinic.records.models import Encounter, Patient
from clinic.scheduling import messaging, tasks
from clinic.scheduling.availability import clinic_tz, sessions_on, slot_check
from clinic.scheduling.follow_up import (
    follow_up_booking_refusal,
    follow_up_release,
    follow_up_use,
)
from clinic.scheduling.models import (
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    Resource,
    ServiceSchedule,
)
from clinic.scheduling.recalls import recalls_close_for_booking, recalls_reopen_for_cancellation

SLOT_TAKEN = "That time has just been taken. Please choose another."
NOT_A_SLOT = "That time is not available for this service, practitioner and site."
IN_THE_PAST = "That time has already passed."
TOO_LATE = (
    "Appointments can be changed or cancelled online up to {hours} hours before they start. "
    "Please telephone the site."
)
NOT_ONLINE = "This service is booked by the unit: please send a query or telephone a site."
OVERBOOK_STAFF_ONLY = "Only reception and clinicians can overbook, and only with a reason."
NOT_BOOKED = "This appointment is no longer booked."
ALREADY_SEEN = "The patient has been seen for this appointment, so it can no longer be changed."
TOO_FAR = "We book up to {days} days ahead. Choose an earlier time."
PATIENT_BUSY = "The patient already has an appointment at that time."
BUSY = "The calendar is busy; please try again in a moment."


class BookingRefused(ValueError):  # noqa: N818 - reads as the event
    """The booking cannot be made as asked; ``message`` says why. ``conflict`` marks a clash
    with another booking (HTTP 409)."""

    def __init__(self, message: str, *, conflict: bool = False) -> None:
        self.message = message
        self.conflict = conflict
        super().__init__(message)


class BookingBusy(BookingRefused):
    """Another booking held the locks for longer than BOOKING_LOCK_TIMEOUT_MS (409, retry)."""

    def __init__(self) -> None:
        super().__init__(BUSY, conflict=True)


@dataclass(frozen=True)
class BookingRequest:
    """What to book: the service, who, where and when, for which patient."""

    patient: Patient
    service: Service
    practitioner: Practitioner
    site: Site
    start: datetime
    overbook_reason: str = ""
    # Accepting a waiting-list offer: the unit offered this time, online or not.
    via_offer: bool = False


# Test seams, off in production: a pause after the availability check (to prove the race),
# and a switch that takes the locks away (the control test shows the race is then real).
_pause_after_check_seconds = 0.0
_locks_enabled = True


def _actor(context: AuditContext) -> User:
    """Booking needs a signed-in person (views and the API ensure it)."""
    if context.actor is None:
        raise AccessRefused(reveal=False)
    return context.actor


def _books_for_others(user: User | None) -> bool:
    return user is not None and user.books_for_others


_audit = partial(audit_object, object_type="appointment")


def _check_access(
    context: AuditContext,
    patient: Patient,
    action: AuditAction,
    appointment: Appointment | None = None,
) -> None:
    allowed = access_patient_data(
        context.actor,
        patient_user_id=patient.user_id,
        category=DataCategory.APPOINTMENTS,
        access=Access.WRITE,
    )
    if not allowed:
        _audit(context, action, appointment, patient, f"{action.value} refused", allowed=False)
        raise AccessRefused(reveal=refusal_reveals(context.actor))


def _within_cutoff(context: AuditContext, appointment: Appointment) -> None:
    if _books_for_others(context.actor):
        return
    cutoff = timedelta(hours=settings.CANCELLATION_CUTOFF_HOURS)
    if appointment.start - timezone.now() < cutoff:
        raise BookingRefused(TOO_LATE.format(hours=settings.CANCELLATION_CUTOFF_HOURS))


def _schedule_of(service: Service) -> ServiceSchedule | None:
    """The service's schedule (from select_related when the caller fetched it)."""
    try:
        return service.schedule
    except ServiceSchedule.DoesNotExist:
        return None


def _working_at(request: BookingRequest, schedule: ServiceSchedule) -> bool:
    """Whether the time lies in one of the practitioner's sessions at the site."""
    day = request.start.astimezone(clinic_tz()).date()
    sessions = sessions_on(
        practitioner=request.practitioner, site=request.site, day=day, service=request.service
    )
    end = request.start + timedelta(minutes=schedule.duration_minutes)
    return any(window.start <= request.start and end <= window.end for window in sessions)


def _lock(request: BookingRequest, schedule: ServiceSchedule) -> list[int]:
    """Take the row locks once, late and in primary-key order: (the appointment being moved,
    already), the practitioner, the resources of the kind the service needs at the site, the
    patient. Returns the resources' ids."""
    kind = schedule.resource_kind
    if connection.vendor != "postgresql" or not _locks_enabled:
        # SQLite serialises write transactions instead (BEGIN IMMEDIATE, docs/booking.md).
        if not kind:
            return []
        resources = Resource.objects.filter(site=request.site, kind=kind, is_active=True)
        return list(resources.order_by("pk").values_list("pk", flat=True))
    # One round trip for the lock timeout and the three locks: a booking's cost is mostly
    # per-query overhead (docs/booking.md, "Measured").
    statements = [
        "SET LOCAL lock_timeout = %s",
        f"SELECT id FROM {Practitioner._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608 - model table names
        f"SELECT id FROM {Resource._meta.db_table} WHERE site_id = %s AND kind = %s "  # noqa: S608
        "AND is_active AND kind <> '' ORDER BY id FOR UPDATE",
        f"SELECT id FROM {Patient._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608
    ]
    params: list[int | str] = [
        f"{settings.BOOKING_LOCK_TIMEOUT_MS}ms",
        request.practitioner.pk,
        request.site.pk,
        kind,
        request.patient.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(statements), params)
        cursor.nextset()  # past SET
        cursor.nextset()  # past the practitioner
        return [int(row[0]) for row in cursor.fetchall()]


def _set_lock_timeout() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{settings.BOOKING_LOCK_TIMEOUT_MS}ms"])


def _lock_appointment(appointment_id: int) -> Appointment:
    """The appointment row, locked first (before practitioner, resources and patient, the
    order every change follows), with its current status."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "service", "practitioner", "site")
        .get(pk=appointment_id)
    )


def _write(
    context: AuditContext,
    request: BookingRequest,
    schedule: ServiceSchedule,
    *,
    existing_id: int | None,
) -> Appointment:
    """Inside the transaction: lock, check, write. Raises BookingRefused: 422 for a time
    that is not a bookable time at all, 409 for one another booking holds."""
    existing = None
    if existing_id is not None:
        _set_lock_timeout()
        existing = _lock_appointment(existing_id)
        _require_changeable(context, existing)
    resource_ids = _lock(request, schedule)
    check = slot_check(
        service=request.service,
        schedule=schedule,
        practitioner=request.practitioner,
        site=request.site,
        start=request.start,
        exclude_appointment_id=existing_id,
        resource_ids=resource_ids,
        patient_id=request.patient.pk,
    )
    slot = check.slot
    overbook = bool(request.overbook_reason)
    if slot is None and not overbook:
        if not check.bookable_time:
            raise BookingRefused(NOT_A_SLOT)
        raise BookingRefused(SLOT_TAKEN, conflict=True)
    if _pause_after_check_seconds:
        time.sleep(_pause_after_check_seconds)
    if check.patient_busy:
        raise BookingRefused(PATIENT_BUSY, conflict=True)
    end = request.start + timedelta(minutes=schedule.duration_minutes)
    # The buffer is kept up to the session's end, as the search does (the last slot of a
    # session needs none), so the database's constraint judges the same span.
    blocked_until = end + timedelta(minutes=schedule.buffer_minutes)
    if check.session_end is not None:
        blocked_until = max(end, min(blocked_until, check.session_end))
    values = {
        "practitioner": request.practitioner,
        "site": request.site,
        "service": request.service,
        "resource_id": slot.resource_id if slot else None,
        "start": request.start,
        "end": end,
        "blocked_until": blocked_until,
        "overbooked": overbook and slot is None,
        "overbook_reason": request.overbook_reason if overbook and slot is None else "",
    }
    freed: tuple[int, int, int, datetime] | None = None
    if existing is None:
        appointment = Appointment.objects.create(
            patient=request.patient, booked_by=_actor(context), **values
        )
        kind, old_start = AppointmentChange.Kind.BOOKED, None
    else:
        old_start = existing.start
        freed = (existing.practitioner_id, existing.site_id, existing.service_id, old_start)
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save(update_fields=[*(n.removesuffix("_id") for n in values), "updated_at"])
        appointment, kind = existing, AppointmentChange.Kind.RESCHEDULED
    reason = values["overbook_reason"] and f"overbooked: {values['overbook_reason']}"
    change = AppointmentChange.objects.create(
        appointment=appointment,
        kind=kind,
        changed_by=_actor(context),
        reason=str(reason or ""),
        old_start=old_start,
        new_start=request.start,
    )
    detail = f"{kind.value} {request.service.name} at {request.start:%Y-%m-%d %H:%M}"
    _audit(
        context,
        AuditAction.CREATE if existing is None else AuditAction.UPDATE,
        appointment,
        request.patient,
        detail + (" (overbooked)" if values["overbooked"] else ""),
    )
    if existing is None:
        online = schedule.bookable_online or request.via_offer or _books_for_others(context.actor)
        if follow_up_use(context=context, appointment=appointment) is None and not online:
            raise BookingRefused(NOT_ONLINE)  # its follow-up was used by another booking
        recalls_close_for_booking(context=context, appointment=appointment)
    messaging.queue_for_change(context, appointment, change)
    if freed is not None:
        announce_freed_time(*freed)
    return appointment


def _offered(request: BookingRequest) -> bool:
    """The practitioner is active and provides the service, and the site offers it."""
    site_offers = Site.services.through.objects.filter(
        site_id=request.site.pk, service_id=request.service.pk
    )
    return bool(
        Practitioner.objects.filter(
            pk=request.practitioner.pk, is_active=True, services=request.service
        )
        .filter(Exists(site_offers))
        .exists()
    )


def _validate(
    context: AuditContext, request: BookingRequest, schedule: ServiceSchedule | None
) -> ServiceSchedule:
    """The checks that need no lock. The time itself is checked once, under the lock."""
    if schedule is None:
        raise BookingRefused(NOT_A_SLOT)
    now = timezone.now()
    if request.start.tzinfo is None:
        raise BookingRefused(NOT_A_SLOT)
    if request.start <= now:
        raise BookingRefused(IN_THE_PAST)
    if request.start > now + timedelta(days=settings.BOOKING_HORIZON_DAYS):
        raise BookingRefused(TOO_FAR.format(days=settings.BOOKING_HORIZON_DAYS))
    staff = _books_for_others(context.actor)
    if not staff and not schedule.bookable_online and not request.via_offer:
        # A patient may book it through an open follow-up whose window holds the date.
        refusal = follow_up_booking_refusal(
            patient=request.patient,
            service=request.service,
            start=request.start,
            otherwise=NOT_ONLINE,
        )
        if refusal is not None:
            raise BookingRefused(refusal)
    if not _offered(request):
        raise BookingRefused(NOT_A_SLOT)
    if request.overbook_reason:
        if not staff:
            raise BookingRefused(OVERBOOK_STAFF_ONLY)
        if not _working_at(request, schedule):
            raise BookingRefused(NOT_A_SLOT)
    return schedule


def _run(
    context: AuditContext,
    request: BookingRequest,
    schedule: ServiceSchedule,
    *,
    existing_id: int | None,
) -> Appointment:
    """One transaction around the locked write; lock timeouts, deadlocks and constraint
    violations become refusals the caller answers with 409."""
    try:
        with transaction.atomic():
            return _write(context, request, schedule, existing_id=existing_id)
    except OperationalError as error:
        if is_lock_error(error):
            raise BookingBusy from None
        raise
    except IntegrityError:
        # The exclusion constraints caught an overlap the checks did not (docs/booking.md).
        raise BookingRefused(SLOT_TAKEN, conflict=True) from None


def announce_freed_time(
    practitioner_id: int, site_id: int, service_id: int, start: datetime
) -> None:
    """After commit: offer a time a cancellation or move freed to the waiting list."""
    args = (practitioner_id, site_id, service_id, start.isoformat())
    transaction.on_commit(lambda: tasks.offer_freed_time.enqueue(*args))


def is_lock_error(error: OperationalError) -> bool:
    """A lock wait that ran out (lock_timeout) or a deadlock PostgreSQL broke."""
    text = str(error).lower()
    return "lock" in text or "deadlock" in text


def _audited_refusal(
    context: AuditContext, action: AuditAction, patient: Patient | None, refusal: BookingRefused
) -> None:
    """A refused change is a refused write: it goes in the audit trail with its reason."""
    _audit(context, action, None, patient, f"refused: {refusal.message}"[:200], allowed=False)


def appointment_book(*, context: AuditContext, request: BookingRequest) -> Appointment:
    """Book an appointment: a patient for themselves, reception and clinicians for anyone."""
    _check_access(context, request.patient, AuditAction.CREATE)
    try:
        schedule = _validate(context, request, _schedule_of(request.service))
        return _run(context, request, schedule, existing_id=None)
    except BookingRefused as refusal:
        _audited_refusal(context, AuditAction.CREATE, request.patient, refusal)
        raise


def _existing(context: AuditContext, appointment_id: int, action: AuditAction) -> Appointment:
    appointment = (
        Appointment.objects.select_related("patient", "service", "practitioner", "site")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        _audit(context, action, None, None, f"no such appointment {appointment_id}", allowed=False)
        raise AccessRefused(reveal=False)
    _check_access(context, appointment.patient, action, appointment)
    return appointment


def appointment_reschedule(
    *,
    context: AuditContext,
    appointment_id: int,
    start: datetime,
    practitioner: Practitioner | None = None,
    site: Site | None = None,
    via_offer: bool = False,
) -> Appointment:
    """Move an appointment to another free time (and optionally practitioner or site): the
    same checks as booking; status and cut-off checked again on the locked row. ``via_offer``:
    to a time the waiting list offered the patient."""
    appointment = _existing(context, appointment_id, AuditAction.UPDATE)
    request = BookingRequest(
        patient=appointment.patient,
        service=appointment.service,
        practitioner=practitioner or appointment.practitioner,
        site=site or appointment.site,
        start=start,
        via_offer=via_offer,
    )
    try:
        _require_changeable(context, appointment)
        schedule = _validate(context, request, _schedule_of(appointment.service))
        return _run(context, request, schedule, existing_id=appointment.pk)
    except BookingRefused as refusal:
        _audited_refusal(context, AuditAction.UPDATE, appointment.patient, refusal)
        raise


def _require_changeable(context: AuditContext, appointment: Appointment) -> None:
    """Only a booked appointment, outside the patient's cut-off, and not yet seen (its
    encounter started), can be moved or cancelled."""
    if appointment.status != AppointmentStatus.BOOKED:
        raise BookingRefused(NOT_BOOKED)
    if Encounter.objects.filter(appointment_id=appointment.pk).exists():
        # Its encounter is the clinical record of this visit: moving it would move the visit.
        raise BookingRefused(ALREADY_SEEN)
    _within_cutoff(context, appointment)


def appointment_cancel(*, context: AuditContext, appointment_id: int, reason: str) -> Appointment:
    """Cancel an appointment, with who and why."""
    appointment = _existing(context, appointment_id, AuditAction.UPDATE)
    try:
        return _cancel(context, appointment, reason)
    except BookingRefused as refusal:
        _audited_refusal(context, AuditAction.UPDATE, appointment.patient, refusal)
        raise


def _cancel(context: AuditContext, appointment: Appointment, reason: str) -> Appointment:
    try:
        with transaction.atomic():
            _set_lock_timeout()
            locked = _lock_appointment(appointment.pk)
            _require_changeable(context, locked)
            locked.status = AppointmentStatus.CANCELLED
            locked.save(update_fields=["status", "updated_at"])
            change = AppointmentChange.objects.create(
                appointment=locked,
                kind=AppointmentChange.Kind.CANCELLED,
                changed_by=_actor(context),
                reason=reason,
                old_start=locked.start,
            )
            _audit(
                context, AuditAction.UPDATE, locked, locked.patient, f"cancelled: {reason}"[:200]
            )
            messaging.queue_for_change(context, locked, change)
            # What this booking had used or closed applies again.
            recalls_reopen_for_cancellation(context=context, appointment=locked)
            follow_up_release(context=context, appointment=locked)
            announce_freed_time(
                locked.practitioner_id, locked.site_id, locked.service_id, locked.start
            )
            return locked
    except OperationalError as error:
        if is_lock_error(error):
            raise BookingBusy from None
        raise
