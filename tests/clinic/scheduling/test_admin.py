"""Setting up the diary in the admin: sessions, one-day changes, leave, rooms and service
lengths; bad values refused with the model's own rules; feeds revoked, never created."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.scheduling import availability
from clinic.scheduling.calendar_feeds import feed_by_token
from clinic.scheduling.models import CalendarFeed, Leave, ScheduleException, WorkingPattern
from clinic.scheduling.tokens import new_token, token_hash
from tests.clinic.scheduling.conftest import next_weekday
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/scheduling/workingpattern/",
    "/admin/scheduling/scheduleexception/",
    "/admin/scheduling/leave/",
    "/admin/scheduling/resource/",
    "/admin/scheduling/serviceschedule/",
    "/admin/scheduling/calendarfeed/",
]


@pytest.mark.parametrize("path", PAGES)
def test_an_administrator_sees_the_diary_set_up(client, staff, calendar, path):
    sign_in(client, staff[Role.ADMIN])
    assert client.get(path).status_code == 200
    assert client.get(path + "add/").status_code == (403 if "calendarfeed" in path else 200)


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.CLINICIAN, Role.PATIENT])
def test_only_administrators_reach_the_admin(client, staff, patient_user, role):
    user = patient_user if role == Role.PATIENT else staff[role]
    sign_in(client, user, second_factor=role != Role.PATIENT)
    answer = client.get("/admin/scheduling/workingpattern/")
    assert answer.status_code == 302
    assert "/admin/login/" in answer["Location"]


def _pattern(calendar, **changes):
    values = {
        "practitioner": calendar.practitioner.pk,
        "site": calendar.site.pk,
        "weekday": 5,
        "start_time": "14:00",
        "end_time": "17:00",
        "valid_from": "2026-01-01",
        "valid_until": "",
    }
    return values | changes


def test_a_new_session_is_offered_to_patients(client, staff, calendar):
    sign_in(client, staff[Role.ADMIN])
    WorkingPattern.objects.all().delete()
    answer = client.post("/admin/scheduling/workingpattern/add/", _pattern(calendar))
    assert answer.status_code == 302
    saturday = next_weekday(5)
    slots = availability.slots_search(
        availability.SlotQuery(service=calendar.service, date_from=saturday, date_to=saturday)
    )
    assert slots[0].start == calendar.at(saturday, 14)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_time": "17:00", "end_time": "09:00"}, "working_pattern_start_first"),
        ({"valid_from": "2027-01-01", "valid_until": "2026-01-01"}, "working_pattern_valid_range"),
        ({"weekday": "9"}, "Select a valid choice"),
        ({"start_time": "25:00"}, "Enter a valid time"),
        ({"practitioner": "999999"}, "Select a valid choice"),
    ],
)
def test_impossible_sessions_are_refused(client, staff, calendar, changes, message):
    sign_in(client, staff[Role.ADMIN])
    before = WorkingPattern.objects.count()
    answer = client.post("/admin/scheduling/workingpattern/add/", _pattern(calendar, **changes))
    assert answer.status_code == 200
    assert message in answer.content.decode()
    assert WorkingPattern.objects.count() == before


def test_leave_ending_before_it_starts_is_refused(client, staff, calendar):
    sign_in(client, staff[Role.ADMIN])
    answer = client.post(
        "/admin/scheduling/leave/add/",
        {
            "practitioner": calendar.practitioner.pk,
            "start_date": "2027-03-10",
            "end_date": "2027-03-01",
            "reason": "Holiday",
        },
    )
    assert answer.status_code == 200
    assert not Leave.objects.exists()


def test_an_extra_session_needs_a_site(client, staff, calendar):
    sign_in(client, staff[Role.ADMIN])
    answer = client.post(
        "/admin/scheduling/scheduleexception/add/",
        {
            "practitioner": calendar.practitioner.pk,
            "site": "",
            "date": (availability.local_today() + timedelta(days=30)).isoformat(),
            "kind": "extra",
            "start_time": "13:00",
            "end_time": "15:00",
            "note": "",
        },
    )
    assert answer.status_code == 200
    assert not ScheduleException.objects.exists()


def test_an_administrator_revokes_a_feed_but_never_sees_its_address(client, staff, calendar):
    clinician = staff[Role.CLINICIAN]
    token = new_token()
    feed = CalendarFeed.objects.create(
        practitioner=calendar.practitioner, token_hash=token_hash(token), created_by=clinician
    )
    sign_in(client, staff[Role.ADMIN])
    page = client.get(f"/admin/scheduling/calendarfeed/{feed.pk}/change/")
    assert page.status_code == 200
    assert token_hash(token) not in page.content.decode()

    answer = client.post(
        "/admin/scheduling/calendarfeed/",
        {"action": "revoke", "_selected_action": [feed.pk]},
        follow=True,
    )
    assert "1 feed(s) revoked." in answer.content.decode()
    assert feed_by_token(token) is None
    assert AuditEntry.objects.filter(
        object_type="calendar_feed", detail="feed revoked", actor=staff[Role.ADMIN]
    ).exists()


def test_the_session_times_are_local_across_the_clock_change(client, staff, calendar):
    """A Monday 09:00 session stays 09:00 in London on both sides of 28 March 2027."""
    sign_in(client, staff[Role.ADMIN])
    WorkingPattern.objects.all().delete()
    client.post(
        "/admin/scheduling/workingpattern/add/",
        _pattern(calendar, weekday=0, start_time="09:00", end_time="10:00"),
    )
    before, after = date(2027, 3, 22), date(2027, 3, 29)
    windows = {
        day: availability.sessions_on(
            practitioner=calendar.practitioner,
            site=calendar.site,
            day=day,
            service=calendar.service,
        )[0]
        for day in (before, after)
    }
    assert windows[before].start.astimezone(availability.clinic_tz()).time() == time(9)
    assert windows[after].start.astimezone(availability.clinic_tz()).time() == time(9)
    assert windows[before].start.hour == 9
    assert windows[after].start.hour == 8  # 09:00 BST is 08:00 UTC
