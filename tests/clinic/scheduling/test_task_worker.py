"""The production task backend: django-tasks-db's queue in the test database (PostgreSQL in the
PostgreSQL run), worked by its own `db_worker` command, as on a worker machine."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clinic.audit.services import AuditContext
from clinic.scheduling import services
from clinic.scheduling.models import Message, MessageKind, MessageStatus
from clinic.scheduling.tasks import send_message
from tests.clinic.scheduling.conftest import next_weekday

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _work() -> None:
    """One worker run: every task that is ready, then exit."""
    call_command("db_worker", batch=True, startup_delay=False, interval=0, verbosity=0)


def _book(calendar, user):
    user.is_verified = lambda: True
    return services.appointment_book(
        context=AuditContext(actor=user),
        request=services.BookingRequest(
            patient=calendar.patient,
            service=calendar.service,
            practitioner=calendar.practitioner,
            site=calendar.site,
            start=calendar.at(next_weekday(0), 9),
        ),
    )


def test_the_worker_sends_the_confirmation_and_defers_the_reminder(calendar, patient_user):
    appointment = _book(calendar, patient_user)
    assert mail.outbox == []  # queued, not sent in the request
    assert DBTaskResult.objects.count() == 2

    _work()

    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Your appointment is booked"]
    reminder = appointment.messages.get(kind=MessageKind.REMINDER)
    deferred = DBTaskResult.objects.get(status="READY")
    assert deferred.run_after == reminder.due_at
    assert deferred.args_kwargs["args"] == [reminder.pk]

    # The reminder's time comes: the worker sends it, once, however often it runs.
    DBTaskResult.objects.filter(pk=deferred.pk).update(run_after=timezone.now())
    Message.objects.filter(pk=reminder.pk).update(due_at=timezone.now())
    _work()
    _work()
    assert [m.subject.split(":")[0] for m in mail.outbox][1:] == ["Reminder"]


def test_a_failed_send_is_queued_again_for_later(calendar, patient_user, monkeypatch):
    _book(calendar, patient_user)

    def fail(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr(EmailMessage, "send", fail)
    _work()
    confirmation = Message.objects.get(kind=MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.RETRYING
    retry = DBTaskResult.objects.filter(status="READY", args_kwargs__args=[confirmation.pk]).get()
    assert retry.run_after == confirmation.due_at
    assert confirmation.due_at - timezone.now() > timedelta(seconds=30)


def test_a_task_run_twice_sends_once(calendar, patient_user):
    _book(calendar, patient_user)
    confirmation = Message.objects.get(kind=MessageKind.CONFIRMATION)
    send_message.enqueue(confirmation.pk)  # a duplicate, as after a worker crash
    _work()
    assert len(mail.outbox) == 1
