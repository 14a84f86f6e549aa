"""Slot search: working patterns, exceptions, leave, resources, clock changes, query counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.accounts.models import Role
from clinic.scheduling.availability import SlotQuery, first_available, slot_if_free, slots_search
from clinic.scheduling.models import (
    Appointment,
    Leave,
    ScheduleException,
    ServiceSchedule,
    WorkingPattern,
)
from tests import factories
from tests.clinic.scheduling.conftest import next_weekday

pytestmark = pytest.mark.django_db


def _starts(calendar, day, **extra):
    query = SlotQuery(service=calendar.service, date_from=day, date_to=day, **extra)
    return [slot.start for slot in slots_search(query)]


def _book(
    calendar, start, *, patient=None, practitioner=None, resource=None, minutes=30, buffer=10
):
    user = factories.user(role=Role.RECEPTION)
    return Appointment.objects.create(
        patient=patient or factories.patient(),
        practitioner=practitioner or calendar.practitioner,
        site=calendar.site,
        service=calendar.service,
        resource=resource if resource is not None else calendar.resource,
        start=start,
        end=start + timedelta(minutes=minutes),
        blocked_until=start + timedelta(minutes=minutes + buffer),
        booked_by=user,
    )


def test_slots_cover_the_working_session_on_a_fifteen_minute_grid(calendar):
    day = next_weekday(0)

    starts = _starts(calendar, day)

    assert starts[0] == calendar.at(day, 9)
    assert starts[-1] == calendar.at(day, 11, 30)  # the last 30 minutes end at 12:00
    assert len(starts) == 11


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2027, 3, 21), 9),  # a Sunday in GMT
        (date(2027, 3, 28), 8),  # the spring change day: 09:00 BST is 08:00 UTC
        (date(2027, 10, 24), 8),  # the last Sunday in BST
        (date(2027, 10, 31), 9),  # the autumn change day: GMT again
    ],
)
def test_nine_oclock_in_london_across_the_clock_changes(calendar, day, utc_hour):
    starts = _starts(calendar, day)

    assert starts[0] == datetime(day.year, day.month, day.day, utc_hour, tzinfo=UTC)
    assert starts[-1] - starts[0] == timedelta(hours=2, minutes=30)


def test_a_booked_appointment_and_its_buffer_are_not_offered(calendar):
    day = next_weekday(1)
    _book(calendar, calendar.at(day, 10))

    starts = _starts(calendar, day)

    assert calendar.at(day, 10) not in starts
    assert calendar.at(day, 9, 30) not in starts  # its buffer would touch 10:00
    assert calendar.at(day, 10, 30) not in starts  # inside the 10-minute buffer
    assert calendar.at(day, 10, 45) in starts


def test_a_cancelled_appointment_frees_its_slot(calendar):
    day = next_weekday(1)
    appointment = _book(calendar, calendar.at(day, 10))
    appointment.status = "cancelled"
    appointment.save()

    assert calendar.at(day, 10) in _starts(calendar, day)


def test_the_practitioner_busy_at_another_site_is_not_offered(calendar):
    day = next_weekday(2)
    elsewhere = factories.site()
    Appointment.objects.create(
        patient=factories.patient(),
        practitioner=calendar.practitioner,
        site=elsewhere,
        service=calendar.service,
        start=calendar.at(day, 9),
        end=calendar.at(day, 9, 30),
        blocked_until=calendar.at(day, 9, 40),
        booked_by=factories.user(role=Role.RECEPTION),
    )

    assert calendar.at(day, 9) not in _starts(calendar, day)


def test_the_only_room_taken_by_someone_else_removes_the_slot(calendar):
    day = next_weekday(3)
    colleague = factories.practitioner(sites=[calendar.site], services=[calendar.service])
    _book(calendar, calendar.at(day, 9), practitioner=colleague)

    assert calendar.at(day, 9) not in _starts(calendar, day)


def test_an_unavailable_exception_removes_hours_and_an_extra_session_adds_them(calendar):
    day = next_weekday(4)
    ScheduleException.objects.create(
        practitioner=calendar.practitioner,
        date=day,
        kind="unavailable",
        start_time=time(9),
        end_time=time(11),
    )
    ScheduleException.objects.create(
        practitioner=calendar.practitioner,
        date=day,
        kind="extra",
        site=calendar.site,
        start_time=time(14),
        end_time=time(15),
    )

    starts = _starts(calendar, day)

    assert starts[0] == calendar.at(day, 11)
    assert calendar.at(day, 14) in starts


def test_leave_removes_whole_days(calendar):
    day = next_weekday(5)
    Leave.objects.create(practitioner=calendar.practitioner, start_date=day, end_date=day)

    assert _starts(calendar, day) == []


def test_patterns_outside_their_validity_are_ignored(calendar):
    day = next_weekday(6)
    WorkingPattern.objects.filter(practitioner=calendar.practitioner, weekday=6).update(
        valid_until=day - timedelta(days=1)
    )

    assert _starts(calendar, day) == []


def test_first_available_is_the_earliest_slot_anywhere(calendar):
    slot = first_available(service=calendar.service)

    assert slot is not None
    assert slot.practitioner_id == calendar.practitioner.pk
    assert slot.resource_id == calendar.resource.pk


def test_the_query_count_does_not_grow_with_appointments(calendar):
    day = next_weekday(1)
    query = SlotQuery(service=calendar.service, date_from=day, date_to=day + timedelta(days=13))

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            slots_search(query)
        return len(captured)

    few = count()
    for n in range(40):
        _book(
            calendar,
            calendar.at(day + timedelta(days=n % 14), 9) + timedelta(minutes=40 * (n // 14)),
            resource=None,
        )
    assert count() == few


@pytest.mark.parametrize(
    "busy_hours", [[], [(9, 30)], [(10, 0), (11, 15)], [(9, 0), (9, 40), (11, 30)]]
)
def test_checking_one_time_agrees_with_the_search(calendar, busy_hours):
    day = next_weekday(2)
    for hour, minute in busy_hours:
        _book(calendar, calendar.at(day, hour, minute))
    offered = set(_starts(calendar, day))
    schedule = ServiceSchedule.objects.get(service=calendar.service)

    for minutes in range(8 * 60, 13 * 60, 5):
        start = calendar.at(day, minutes // 60, minutes % 60)
        found = slot_if_free(
            service=calendar.service,
            schedule=schedule,
            practitioner=calendar.practitioner,
            site=calendar.site,
            start=start,
        )
        assert (found is not None) == (start in offered), start
