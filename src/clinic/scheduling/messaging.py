"""Emails to patients about their appointments and waiting-list offers: recorded in an outbox
(``Message``) inside the transaction that caused them, then sent by a background task, once.

Creating a message is idempotent (``dedupe_key`` is unique); sending is idempotent (the row is
locked and its status checked before anything is sent). A failed send is retried with
back-off, then listed for reception. A reminder whose appointment was cancelled or moved is
never sent (docs/messages.md).
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record, audit_record_many
from clinic.records.access import (
    Access,
    DataCategory,
    access_patient_data,
    access_patient_list,
    refuse,
)
from clinic.scheduling import ical, tasks
from clinic.scheduling.availability import clinic_tz
from clinic.scheduling.models import (
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    Message,
    MessageKind,
    MessageStatus,
    OfferStatus,
    WaitlistOffer,
)

logger = logging.getLogger(__name__)

CHANGE_MESSAGE = {
    AppointmentChange.Kind.BOOKED: MessageKind.CONFIRMATION,
    AppointmentChange.Kind.RESCHEDULED: MessageKind.CHANGE,
    AppointmentChange.Kind.CANCELLED: MessageKind.CANCELLATION,
}
OFFER_LINK = re.compile(r"/appointments/offers/[^/\s]+/")
OFFER_LINK_KEPT = "/appointments/offers/[private link, not kept]/"
SUBJECTS = {
    MessageKind.CONFIRMATION: "Your appointment is booked: {service}, {when}",
    MessageKind.CHANGE: "Your appointment has moved: {service}, {when}",
    MessageKind.CANCELLATION: "Your appointment is cancelled: {service}, {when}",
    MessageKind.REMINDER: "Reminder: {service}, {when}",
    MessageKind.WAITLIST_OFFER: "An earlier appointment is free: {service}, {when}",
}
# Failures worth trying again: the mail server refused, dropped or could not be reached.
SEND_ERRORS = (smtplib.SMTPException, OSError)


def local_when(moment: datetime) -> str:
    """A time as a patient reads it, in the clinic's zone: "Tuesday 1 December 2026, 09:00"."""
    local = moment.astimezone(clinic_tz())
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"


def site_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _render(kind: MessageKind, **context: object) -> tuple[str, str]:
    subject = SUBJECTS[kind].format(**{k: v for k, v in context.items() if isinstance(v, str)})
    body = render_to_string(f"scheduling/email/{kind.value}.txt", context)
    return subject[:200], body


def _appointment_context(appointment: Appointment) -> dict[str, object]:
    return {
        "appointment": appointment,
        "service": appointment.service.name,
        "when": local_when(appointment.start),
        "site": appointment.site,
        "practitioner": appointment.practitioner,
        "manage_url": site_link(reverse("scheduling:detail", args=[appointment.pk])),
        "cutoff_hours": settings.CANCELLATION_CUTOFF_HOURS,
    }


def _create(context: AuditContext, message: Message) -> Message | None:
    """Insert unless a message with the same key exists (a retried change never queues a
    second email). Returns the new message, or None."""
    if Message.objects.filter(dedupe_key=message.dedupe_key).exists():
        return None
    message.save()
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        outcome=AuditOutcome.ALLOWED,
        object_type="message",
        object_id=message.pk,
        patient=message.patient,
        detail=f"queued {message.kind} for {message.due_at:%Y-%m-%d %H:%M}",
    )
    return message


def queue_for_change(
    context: AuditContext, appointment: Appointment, change: AppointmentChange
) -> list[Message]:
    """Inside the booking transaction: the confirmation of this change and, for a booked
    appointment, a reminder before its (new) time. Reminders for an old time are dropped."""
    now = timezone.now()
    kind = CHANGE_MESSAGE[AppointmentChange.Kind(change.kind)]
    subject, body = _render(kind, **_appointment_context(appointment))
    booked = change.kind == AppointmentChange.Kind.BOOKED
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    queued = [
        _create(
            context,
            Message(
                patient=appointment.patient,
                appointment=appointment,
                kind=kind,
                dedupe_key=f"change:{change.pk}",
                to_email=appointment.patient.contact_email,
                subject=subject,
                body=body,
                about_start=appointment.start,
                due_at=now,
            ),
        )
    ]
    if not booked:
        _drop_stale_reminders(appointment)
    if not cancelled:
        queued.append(_queue_reminder(context, appointment, change, now))
    made = [message for message in queued if message is not None]
    transaction.on_commit(lambda: schedule_sends(made))
    return made


def _queue_reminder(
    context: AuditContext, appointment: Appointment, change: AppointmentChange, now: datetime
) -> Message | None:
    """The reminder for the appointment as this change left it (its own key: a move away and
    back, or to another practitioner at the same time, gets a fresh reminder)."""
    due = appointment.start - timedelta(hours=settings.REMINDER_HOURS_BEFORE)
    if due <= now:
        return None  # booked inside the reminder period: the confirmation is the reminder
    subject, body = _render(MessageKind.REMINDER, **_appointment_context(appointment))
    return _create(
        context,
        Message(
            patient=appointment.patient,
            appointment=appointment,
            kind=MessageKind.REMINDER,
            dedupe_key=f"reminder:{change.pk}",
            to_email=appointment.patient.contact_email,
            subject=subject,
            body=body,
            about_start=appointment.start,
            due_at=due,
        ),
    )


def _drop_stale_reminders(appointment: Appointment) -> None:
    """After a move or a cancellation, the reminders written before it no longer apply."""
    Message.objects.filter(
        appointment=appointment,
        kind=MessageKind.REMINDER,
        status__in=[MessageStatus.PENDING, MessageStatus.RETRYING],
    ).update(status=MessageStatus.SKIPPED, last_error="The appointment changed.")


def queue_offer(context: AuditContext, offer: WaitlistOffer, token: str) -> Message | None:
    """Inside the offering transaction: the email with the offer's private link."""
    entry = offer.entry
    patient = entry.patient
    context_values = {
        "offer": offer,
        "service": entry.service.name,
        "when": local_when(offer.start),
        "site": offer.site,
        "practitioner": offer.practitioner,
        "expires": local_when(offer.expires_at),
        "offer_url": site_link(reverse("scheduling:offer", args=[token])),
    }
    subject, body = _render(MessageKind.WAITLIST_OFFER, **context_values)
    message = _create(
        context,
        Message(
            patient=patient,
            offer=offer,
            kind=MessageKind.WAITLIST_OFFER,
            dedupe_key=f"offer:{offer.pk}",
            to_email=patient.contact_email,
            subject=subject,
            body=body,
            about_start=offer.start,
            due_at=timezone.now(),
        ),
    )
    if message is not None:
        transaction.on_commit(lambda: schedule_sends([message]))
    return message


def schedule_sends(messages: Iterable[Message]) -> None:
    """After commit: a send task per message, at its due time where the task backend can
    defer work; otherwise due ones now and later ones by ``manage.py send_due_messages``."""
    backend = tasks.send_message.get_backend()
    now = timezone.now()
    for message in messages:
        if message.due_at <= now:
            tasks.send_message.enqueue(message.pk)
        elif backend.supports_defer:
            tasks.send_message.using(run_after=message.due_at).enqueue(message.pk)


def _no_longer_applies(message: Message) -> str:
    """Why a message should not go after all; empty if it should."""
    patient = message.patient
    if not patient.under_care:
        return "The patient is no longer under the unit's care."
    appointment = message.appointment
    if message.kind == MessageKind.REMINDER and (
        appointment is None or appointment.status != AppointmentStatus.BOOKED
    ):
        return "The appointment was cancelled."
    if appointment is not None and appointment.changes.filter(at__gt=message.created_at).exists():
        # A confirmation or reminder written before a later change would tell the patient
        # an old time, place or practitioner; the later change's own email follows.
        return "A later change replaced it."
    if message.kind == MessageKind.WAITLIST_OFFER:
        offer = message.offer
        if offer is None or offer.status != OfferStatus.OPEN or offer.expires_at <= timezone.now():
            return "The offer is no longer open."
    if not message.to_email:
        return "The patient has no email address."
    return ""


def _calendar_file(message: Message) -> str:
    """The .ics a change's confirmation carries, built when it is sent (in the worker, not in
    the booking's request). Its SEQUENCE counts the appointment's changes up to this one, so
    calendar programs keep the newest; a later change follows in its own message."""
    appointment = message.appointment
    if message.kind not in CHANGE_MESSAGE.values() or appointment is None:
        return ""
    sequence = appointment.changes.filter(at__lte=message.created_at).count() - 1
    cancelled = message.kind == MessageKind.CANCELLATION
    return ical.appointment_calendar(
        appointment, cancelled=cancelled, sequence=max(sequence, 0)
    ).decode()


def _email(message: Message) -> EmailMessage:
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
    )
    if message.ical:
        email.attach("appointment.ics", message.ical, "text/calendar; charset=utf-8")
    return email


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the ``attempts``-th failure: the base, then doubling."""
    return timedelta(seconds=settings.MESSAGE_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


SYSTEM = AuditContext(actor=None)


def deliver(message_id: int) -> str:
    """Send one message if it is due and still applies; returns its status afterwards. Safe
    to call any number of times, from any number of workers: the row is locked and a sent,
    skipped or failed message is never sent again."""
    retry_at: datetime | None = None
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related(
                "patient__user",
                "appointment__service",
                "appointment__site",
                "appointment__practitioner",
                "offer",
            )
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return "missing"
        if message.status not in {MessageStatus.PENDING, MessageStatus.RETRYING}:
            return message.status
        now = timezone.now()
        if message.due_at > now:
            return "not due"
        reason = _no_longer_applies(message)
        if reason:
            message.status, message.last_error = MessageStatus.SKIPPED, reason
            message.save(update_fields=["status", "last_error"])
            return message.status
        message.attempts += 1
        message.ical = message.ical or _calendar_file(message)
        try:
            _email(message).send()
        except (*SEND_ERRORS, ValueError) as error:
            message.last_error = f"{type(error).__name__}: {error}"[:300]
            # A malformed address or header (ValueError) will not mend by waiting.
            permanent = not isinstance(error, SEND_ERRORS)
            if permanent or message.attempts >= settings.MESSAGE_MAX_ATTEMPTS:
                message.status = MessageStatus.FAILED
            else:
                message.status = MessageStatus.RETRYING
                message.due_at = retry_at = now + retry_delay(message.attempts)
            logger.warning("message %s not sent: %s", message.pk, message.last_error)
        else:
            message.status, message.sent_at, message.last_error = MessageStatus.SENT, now, ""
            # The record keeps what was said, not a working private link.
            message.body = OFFER_LINK.sub(OFFER_LINK_KEPT, message.body)
        message.save(
            update_fields=["status", "attempts", "last_error", "sent_at", "due_at", "ical", "body"]
        )
        audit_record(
            context=SYSTEM,
            action=AuditAction.EXPORT,
            outcome=AuditOutcome.ALLOWED,
            object_type="message",
            object_id=message.pk,
            patient=message.patient,
            detail=f"{message.kind} email {message.status} (attempt {message.attempts})",
        )
        if retry_at is not None:
            transaction.on_commit(lambda: schedule_sends([message]))
    return message.status


def send_due() -> int:
    """Send every message that is due (the fallback where the task backend cannot defer, and
    a safety net after an outage). Returns how many were sent."""
    due = Message.objects.filter(
        status__in=[MessageStatus.PENDING, MessageStatus.RETRYING], due_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    return sum(deliver(pk) == MessageStatus.SENT for pk in list(due))


def _may_resend(context: AuditContext, message: Message | None) -> bool:
    """Reception and clinicians, for a patient whose appointments they may change."""
    actor = context.actor
    if message is None or actor is None or actor.role == Role.PATIENT:
        return False
    return access_patient_data(
        actor,
        patient_user_id=message.patient.user_id,
        category=DataCategory.APPOINTMENTS,
        access=Access.WRITE,
    )


class NotFailed(ValueError):  # noqa: N818 - reads as the condition
    """Only a failed message can be tried again."""


def retry_failed(*, context: AuditContext, message_id: int) -> Message:
    """Reception: try a failed message again from the start (after fixing the address)."""
    found = Message.objects.select_related("patient").filter(pk=message_id).first()
    if not _may_resend(context, found):
        raise refuse(
            context,
            object_type="message",
            object_id=message_id,
            patient=found.patient if found else None,
            detail="resend refused",
            action=AuditAction.UPDATE,
        )
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("patient__user")
            .get(pk=message_id)
        )
        if message.status != MessageStatus.FAILED:
            raise NotFailed("Only a message that failed can be tried again.")
        message.status, message.attempts, message.due_at = MessageStatus.PENDING, 0, timezone.now()
        message.to_email = message.patient.contact_email
        message.save(update_fields=["status", "attempts", "due_at", "to_email"])
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            outcome=AuditOutcome.ALLOWED,
            object_type="message",
            object_id=message.pk,
            patient=message.patient,
            detail="failed message queued again",
        )
        transaction.on_commit(lambda: schedule_sends([message]))
    return message


UNSENT_PAGE_SIZE = 200


def unsent(context: AuditContext) -> list[Message]:
    """Reception and clinicians: emails that failed for good, then those waiting to be tried
    again (newest first, at most UNSENT_PAGE_SIZE); each patient shown is audited."""
    if not access_patient_list(context.actor):
        raise refuse(context, object_type="message", detail="unsent messages refused")
    shown = list(
        Message.objects.filter(status__in=[MessageStatus.FAILED, MessageStatus.RETRYING])
        .select_related("patient", "appointment__service")
        .order_by("status", "-created_at", "-pk")[:UNSENT_PAGE_SIZE]
    )
    audit_record_many(
        context=context,
        action=AuditAction.READ,
        object_type="message",
        patients=[message.patient for message in shown],
        detail="unsent messages",
    )
    return shown
