"""Confirmations, reminders and their sending: recorded against the appointment, sent once,
retried with back-off, listed for reception when they fail, never sent when stale."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import icalendar
import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records.access import AccessRefused
from clinic.scheduling import messaging, services
from clinic.scheduling.models import Message, MessageKind, MessageStatus
from tests import factories
from tests.clinic.scheduling.conftest import next_weekday
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _context(user):
    user.is_verified = lambda: True
    return AuditContext(actor=user)


def _book(calendar, user, *, day=None, hour=9):
    start = calendar.at(day or next_weekday(0), hour)
    return services.appointment_book(
        context=_context(user),
        request=services.BookingRequest(
            patient=calendar.patient,
            service=calendar.service,
            practitioner=calendar.practitioner,
            site=calendar.site,
            start=start,
        ),
    )


@pytest.fixture
def booked(calendar, patient_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return _book(calendar, patient_user)


def _reminder(appointment):
    return appointment.messages.get(kind=MessageKind.REMINDER)


def test_booking_sends_a_confirmation_with_a_calendar_file(booked, patient_user):
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [patient_user.email]
    assert email.subject.startswith("Your appointment is booked: Toxin clinic")
    assert "09:00" in email.body
    name, content, mimetype = email.attachments[0]
    assert (name, mimetype) == ("appointment.ics", "text/calendar; charset=utf-8")
    event = next(iter(icalendar.Calendar.from_ical(content).walk("VEVENT")))
    assert event.decoded("dtstart") == booked.start
    confirmation = booked.messages.get(kind=MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.SENT
    assert confirmation.attempts == 1


def test_a_reminder_waits_for_its_time_then_goes_once(booked, settings):
    reminder = _reminder(booked)
    assert reminder.status == MessageStatus.PENDING
    assert reminder.due_at == booked.start - timedelta(hours=settings.REMINDER_HOURS_BEFORE)
    assert messaging.deliver(reminder.pk) == "not due"

    Message.objects.filter(pk=reminder.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert messaging.send_due() == 1
    assert messaging.deliver(reminder.pk) == MessageStatus.SENT  # a retried task: no resend
    assert messaging.send_due() == 0

    reminders = [m for m in mail.outbox if m.subject.startswith("Reminder")]
    assert len(reminders) == 1
    assert "If you cannot come" in reminders[0].body


def test_no_reminder_for_a_time_inside_the_reminder_period(calendar, patient_user, settings):
    settings.REMINDER_HOURS_BEFORE = 24 * 30
    appointment = _book(calendar, patient_user)
    assert not appointment.messages.filter(kind=MessageKind.REMINDER).exists()


def test_a_cancelled_appointments_reminder_is_never_sent(
    booked, patient_user, django_capture_on_commit_callbacks
):
    reminder = _reminder(booked)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(
            context=_context(patient_user), appointment_id=booked.pk, reason="Better now"
        )
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.SKIPPED
    Message.objects.filter(pk=reminder.pk).update(
        status=MessageStatus.PENDING, due_at=timezone.now()
    )  # even if a stale task or a sweep reaches it
    assert messaging.deliver(reminder.pk) == MessageStatus.SKIPPED
    assert Message.objects.get(pk=reminder.pk).last_error == "The appointment was cancelled."
    subjects = [m.subject for m in mail.outbox]
    assert not any(s.startswith("Reminder") for s in subjects)
    assert any(s.startswith("Your appointment is cancelled") for s in subjects)
    cancellation = mail.outbox[-1]
    calendar_file = icalendar.Calendar.from_ical(cancellation.attachments[0][1])
    assert calendar_file["method"] == "CANCEL"


def test_a_move_drops_the_old_reminder_and_queues_one_for_the_new_time(
    booked, calendar, patient_user, django_capture_on_commit_callbacks
):
    old = _reminder(booked)
    new_start = calendar.at(next_weekday(1), 10)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(
            context=_context(patient_user), appointment_id=booked.pk, start=new_start
        )
    old.refresh_from_db()
    assert old.status == MessageStatus.SKIPPED
    new = booked.messages.get(kind=MessageKind.REMINDER, status=MessageStatus.PENDING)
    assert new.about_start == new_start
    moved = mail.outbox[-1]
    assert moved.subject.startswith("Your appointment has moved")
    event = next(iter(icalendar.Calendar.from_ical(moved.attachments[0][1]).walk("VEVENT")))
    assert event["sequence"] == 1
    assert event.decoded("dtstart") == new_start


def test_queuing_the_same_change_twice_makes_one_message(booked):
    change = booked.changes.get()
    before = Message.objects.count()
    messaging.queue_for_change(AuditContext(actor=None), booked, change)
    assert Message.objects.count() == before


def _failing_send(monkeypatch, error=None):
    def fail(self, fail_silently=False):
        raise error or smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr(EmailMessage, "send", fail)


def test_a_failed_send_is_retried_with_back_off_then_listed(booked, monkeypatch, settings):
    reminder = _reminder(booked)
    _failing_send(monkeypatch)
    delays = []
    for attempt in range(1, settings.MESSAGE_MAX_ATTEMPTS + 1):
        Message.objects.filter(pk=reminder.pk).update(due_at=timezone.now())
        before = timezone.now()
        status = messaging.deliver(reminder.pk)
        reminder.refresh_from_db()
        assert reminder.attempts == attempt
        if attempt < settings.MESSAGE_MAX_ATTEMPTS:
            assert status == MessageStatus.RETRYING
            delays.append(round((reminder.due_at - before).total_seconds() / 60))
    assert delays == [1, 2, 4, 8]
    assert reminder.status == MessageStatus.FAILED
    assert "SMTPServerDisconnected" in reminder.last_error
    assert messaging.deliver(reminder.pk) == MessageStatus.FAILED  # no further tries


def test_reception_sees_failed_messages_and_tries_again(
    booked, staff, client, monkeypatch, django_capture_on_commit_callbacks
):
    reminder = _reminder(booked)
    Message.objects.filter(pk=reminder.pk).update(
        status=MessageStatus.FAILED, attempts=5, last_error="SMTPRecipientsRefused: bad address"
    )
    sign_in(client, staff[Role.RECEPTION])
    page = client.get("/appointments/messages/unsent/")
    assert page.status_code == 200
    assert b"SMTPRecipientsRefused: bad address" in page.content
    assert booked.patient.hospital_number.encode() in page.content

    Message.objects.filter(pk=reminder.pk).update(due_at=timezone.now() + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/appointments/messages/{reminder.pk}/retry/")
    assert answer.status_code == 302
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (MessageStatus.SENT, 1)


def test_only_a_failed_message_can_be_tried_again(booked, staff, client):
    reminder = _reminder(booked)
    sign_in(client, staff[Role.RECEPTION])
    answer = client.post(f"/appointments/messages/{reminder.pk}/retry/", follow=True)
    assert b"Only a message that failed can be tried again." in answer.content
    assert Message.objects.get(pk=reminder.pk).status == MessageStatus.PENDING


@pytest.mark.parametrize("role", [Role.PATIENT, Role.ADMIN])
def test_patients_and_admins_cannot_see_or_retry_messages(
    booked, staff, patient_user, client, role
):
    user = patient_user if role == Role.PATIENT else staff[role]
    reminder = _reminder(booked)
    Message.objects.filter(pk=reminder.pk).update(status=MessageStatus.FAILED)
    sign_in(client, user)
    expected = 404 if role == Role.PATIENT else 403
    assert client.get("/appointments/messages/unsent/").status_code == expected
    assert client.post(f"/appointments/messages/{reminder.pk}/retry/").status_code == expected
    assert Message.objects.get(pk=reminder.pk).status == MessageStatus.FAILED
    assert AuditEntry.objects.filter(object_type="message", outcome="refused").count() == 2


def test_retry_of_an_unknown_message_is_404_and_audited(staff, client):
    sign_in(client, staff[Role.RECEPTION])
    # Reception may retry messages, so an unknown id is refused as staff are: 403.
    assert client.post("/appointments/messages/999999/retry/").status_code == 403
    assert AuditEntry.objects.filter(object_type="message", object_id="999999").exists()


def test_no_address_or_no_longer_under_care_means_not_sent(calendar, patient_user):
    patient = calendar.patient
    patient.email = ""
    patient.save()
    patient_user.email = ""
    patient_user.save(update_fields=["email"])
    appointment = _book(calendar, patient_user)
    confirmation = appointment.messages.get(kind=MessageKind.CONFIRMATION)
    assert messaging.deliver(confirmation.pk) == MessageStatus.SKIPPED
    assert Message.objects.get(pk=confirmation.pk).last_error == "The patient has no email address."

    patient.email = "someone@example.org"
    patient.date_of_death = timezone.now().date()
    patient.save()
    reminder = _reminder(appointment)
    Message.objects.filter(pk=reminder.pk).update(due_at=timezone.now(), to_email=patient.email)
    assert messaging.deliver(reminder.pk) == MessageStatus.SKIPPED
    assert mail.outbox == []


def test_every_message_is_audited_when_queued_and_when_sent(booked):
    confirmation = booked.messages.get(kind=MessageKind.CONFIRMATION)
    entries = AuditEntry.objects.filter(object_type="message", object_id=str(confirmation.pk))
    assert set(entries.values_list("action", flat=True)) == {"create", "export"}
    assert all(entry.patient_id == booked.patient_id for entry in entries)


def test_the_appointment_page_lists_its_messages(booked, patient_user, client):
    sign_in(client, patient_user, second_factor=False)
    page = client.get(f"/appointments/{booked.pk}/")
    assert b"Booking confirmation: Sent" in page.content
    assert b"Reminder: Waiting to send" in page.content


def test_the_sweep_command_sends_due_reminders(booked, capsys):
    Message.objects.filter(kind=MessageKind.REMINDER).update(due_at=timezone.now())
    call_command("send_due_messages")
    assert "Sent 1 due message(s)" in capsys.readouterr().out


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(outcomes=st.lists(st.booleans(), min_size=1, max_size=8))
def test_whatever_fails_a_message_is_sent_at_most_once(booked, monkeypatch, outcomes):
    """Any sequence of send failures and successes, with the task run again after each:
    at most one email leaves, and once sent nothing more is tried."""
    reminder = _reminder(booked)
    Message.objects.filter(pk=reminder.pk).update(
        status=MessageStatus.PENDING, attempts=0, sent_at=None
    )
    sent: list[int] = []
    for succeeds in outcomes:

        def send(self, fail_silently=False, succeeds=succeeds):
            if not succeeds:
                raise smtplib.SMTPServerDisconnected("gone")
            sent.append(1)
            return 1

        monkeypatch.setattr(EmailMessage, "send", send)
        Message.objects.filter(pk=reminder.pk).update(due_at=timezone.now())
        messaging.deliver(reminder.pk)
        messaging.deliver(reminder.pk)  # a duplicate task
    reminder.refresh_from_db()
    assert len(sent) <= 1
    assert (reminder.status == MessageStatus.SENT) == (len(sent) == 1)
    assert reminder.attempts <= 5


def test_retry_delay_doubles_from_the_base(settings):
    settings.MESSAGE_RETRY_BASE_SECONDS = 30
    assert [messaging.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]


def test_refused_retry_writes_nothing(booked, staff):
    reminder = _reminder(booked)
    Message.objects.filter(pk=reminder.pk).update(status=MessageStatus.FAILED)
    admin = staff[Role.ADMIN]
    with pytest.raises(AccessRefused):
        messaging.retry_failed(context=_context(admin), message_id=reminder.pk)
    assert Message.objects.get(pk=reminder.pk).status == MessageStatus.FAILED


def test_a_patient_cannot_read_another_patients_appointment_messages(booked, client):
    other = factories.user(role=Role.PATIENT)
    factories.patient(user=other)
    sign_in(client, other, second_factor=False)
    assert client.get(f"/appointments/{booked.pk}/").status_code == 404


def test_a_move_away_and_back_still_gets_a_reminder(
    booked, calendar, patient_user, django_capture_on_commit_callbacks
):
    original = booked.start
    for start in (calendar.at(next_weekday(1), 10), original):
        with django_capture_on_commit_callbacks(execute=True):
            services.appointment_reschedule(
                context=_context(patient_user), appointment_id=booked.pk, start=start
            )
    pending = booked.messages.filter(kind=MessageKind.REMINDER, status=MessageStatus.PENDING)
    assert [m.about_start for m in pending] == [original]


def test_a_move_to_another_practitioner_at_the_same_time_rewrites_the_reminder(
    booked, calendar, patient_user, django_capture_on_commit_callbacks
):
    other = factories.practitioner(
        slug="dr-other", sites=[calendar.site], services=[calendar.service]
    )
    for pattern in calendar.practitioner.working_patterns.all():
        pattern.pk = None
        pattern.practitioner = other
        pattern.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(
            context=_context(patient_user),
            appointment_id=booked.pk,
            start=booked.start,
            practitioner=other,
        )
    pending = booked.messages.get(kind=MessageKind.REMINDER, status=MessageStatus.PENDING)
    assert other.display_name in pending.body
    assert calendar.practitioner.display_name not in pending.body


def test_a_confirmation_overtaken_by_a_move_is_not_sent(
    calendar, patient_user, monkeypatch, django_capture_on_commit_callbacks
):
    _failing_send(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = _book(calendar, patient_user)
    confirmation = appointment.messages.get(kind=MessageKind.CONFIRMATION)
    assert Message.objects.get(pk=confirmation.pk).status == MessageStatus.RETRYING
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(
            context=_context(patient_user),
            appointment_id=appointment.pk,
            start=calendar.at(next_weekday(1), 11),
        )
    Message.objects.filter(pk=confirmation.pk).update(due_at=timezone.now())
    assert messaging.deliver(confirmation.pk) == MessageStatus.SKIPPED
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Your appointment has moved"]


def test_a_malformed_address_fails_at_once_and_is_listed(booked, monkeypatch):
    reminder = _reminder(booked)
    _failing_send(monkeypatch, ValueError("Invalid address 'a@b@c'"))
    Message.objects.filter(pk=reminder.pk).update(due_at=timezone.now())
    assert messaging.deliver(reminder.pk) == MessageStatus.FAILED
    assert Message.objects.get(pk=reminder.pk).attempts == 1
