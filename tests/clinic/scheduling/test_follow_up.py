"""Patient-initiated follow-up: a clinician opens a window; the patient books a service the
unit otherwise books itself, inside that window only, once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.directory.models import Service
from clinic.records.access import AccessRefused
from clinic.records.models import Patient
from clinic.scheduling import follow_up, services
from clinic.scheduling.models import (
    Appointment,
    FollowUpStatus,
    OpenFollowUp,
    ServiceSchedule,
)
from tests import factories
from tests.clinic.scheduling.conftest import LONDON, next_weekday
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


def _context(user):
    user.is_verified = lambda: True
    return AuditContext(actor=user)


@pytest.fixture
def unit_booked(calendar):
    """The toxin clinic, booked by the unit (patients cannot book it online)."""
    ServiceSchedule.objects.filter(service=calendar.service).update(bookable_online=False)
    calendar.service = Service.objects.get(pk=calendar.service.pk)  # not the cached schedule
    return calendar


@pytest.fixture
def clinician(staff):
    return staff[Role.CLINICIAN]


def _window():
    earliest = next_weekday(0)
    return earliest, earliest + timedelta(days=14)


def _open(calendar, user, **changes):
    earliest, ends_on = _window()
    values = {
        "patient": calendar.patient,
        "service": calendar.service,
        "earliest_date": earliest,
        "ends_on": ends_on,
        "note": "Book when the toxin wears off",
    } | changes
    return follow_up.follow_up_open(context=_context(user), **values)


def _book(calendar, user, day, *, hour=9):
    return services.appointment_book(
        context=_context(user),
        request=services.BookingRequest(
            patient=calendar.patient,
            service=calendar.service,
            practitioner=calendar.practitioner,
            site=calendar.site,
            start=calendar.at(day, hour),
        ),
    )


# Booking through a follow-up


def test_the_patient_books_a_unit_booked_service_inside_the_window(
    unit_booked, clinician, patient_user
):
    opened = _open(unit_booked, clinician)
    earliest, _ = _window()

    appointment = _book(unit_booked, patient_user, earliest + timedelta(days=1))

    opened.refresh_from_db()
    assert opened.status == FollowUpStatus.USED
    assert opened.appointment == appointment
    assert AuditEntry.objects.filter(
        object_type="follow_up", detail=f"used by appointment {appointment.pk}"
    ).exists()


@pytest.mark.parametrize("days", [-1, 15])
def test_outside_the_window_the_patient_is_told_the_dates(
    unit_booked, clinician, patient_user, days
):
    _open(unit_booked, clinician)
    earliest, ends_on = _window()

    with pytest.raises(services.BookingRefused) as refusal:
        _book(unit_booked, patient_user, earliest + timedelta(days=days))

    expected = follow_up.OUTSIDE_WINDOW.format(window=follow_up.window_text(earliest, ends_on))
    assert refusal.value.message == expected
    assert expected.startswith("Your open follow-up lets you book from ")
    assert not Appointment.objects.exists()
    assert OpenFollowUp.objects.get().status == FollowUpStatus.OPEN
    assert AuditEntry.objects.filter(
        object_type="appointment", outcome="refused", detail__contains="lets you book from"
    ).exists()


def test_a_follow_up_is_used_once(unit_booked, clinician, patient_user):
    _open(unit_booked, clinician)
    earliest, _ = _window()
    _book(unit_booked, patient_user, earliest + timedelta(days=1))

    with pytest.raises(services.BookingRefused, match=services.NOT_ONLINE):
        _book(unit_booked, patient_user, earliest + timedelta(days=2))

    assert Appointment.objects.count() == 1


def test_without_a_follow_up_the_service_is_still_booked_by_the_unit(unit_booked, patient_user):
    with pytest.raises(services.BookingRefused, match=services.NOT_ONLINE):
        _book(unit_booked, patient_user, next_weekday(1))
    assert not Appointment.objects.exists()


def test_reception_booking_inside_the_window_uses_the_follow_up(unit_booked, clinician, staff):
    opened = _open(unit_booked, clinician)
    earliest, _ = _window()

    appointment = _book(unit_booked, staff[Role.RECEPTION], earliest + timedelta(days=3))

    opened.refresh_from_db()
    assert (opened.status, opened.appointment) == (FollowUpStatus.USED, appointment)


def test_a_follow_up_used_meanwhile_is_refused_under_the_lock(
    unit_booked, clinician, patient_user, monkeypatch
):
    # The check before the lock passed; by the time of the write the follow-up was used.
    _open(unit_booked, clinician)
    earliest, _ = _window()
    monkeypatch.setattr(services, "follow_up_booking_refusal", lambda **_: None)
    OpenFollowUp.objects.update(status=FollowUpStatus.USED)

    with pytest.raises(services.BookingRefused, match=services.NOT_ONLINE):
        _book(unit_booked, patient_user, earliest + timedelta(days=1))
    assert not Appointment.objects.exists()


# Opening and ending


def test_a_clinician_opens_a_follow_up_and_it_is_audited(unit_booked, clinician):
    opened = _open(unit_booked, clinician)

    assert (opened.status, opened.created_by) == (FollowUpStatus.OPEN, clinician)
    assert AuditEntry.objects.filter(
        object_type="follow_up", action="create", outcome="allowed", patient=unit_booked.patient
    ).exists()


@pytest.mark.parametrize(("role", "reveal"), [(Role.RECEPTION, True), (Role.PATIENT, False)])
def test_reception_and_patients_cannot_open_or_end_one(
    unit_booked, clinician, patient_user, role, reveal
):
    user = patient_user if role == Role.PATIENT else factories.user(role=role)
    existing = _open(unit_booked, clinician, service=_physio(unit_booked))

    with pytest.raises(AccessRefused) as refused_open:
        _open(unit_booked, user)
    with pytest.raises(AccessRefused) as refused_end:
        follow_up.follow_up_end(context=_context(user), follow_up_id=existing.pk, reason="no")

    assert refused_open.value.reveal is reveal
    assert refused_end.value.reveal is reveal
    assert OpenFollowUp.objects.get().status == FollowUpStatus.OPEN
    assert AuditEntry.objects.filter(object_type="follow_up", outcome="refused").count() == 2


def _physio(calendar):
    physio = factories.service(slug="physio", name="Physiotherapy")
    ServiceSchedule.objects.create(service=physio, duration_minutes=30, bookable_online=False)
    return physio


def test_the_window_rules(unit_booked, clinician, settings):
    settings.FOLLOW_UP_MAX_DAYS = 30
    today = follow_up.local_today()
    cases = [
        ({"earliest_date": today, "ends_on": today - timedelta(days=1)}, "ENDS_BEFORE_EARLIEST"),
        (
            {"earliest_date": today - timedelta(days=5), "ends_on": today - timedelta(days=1)},
            "ENDS_IN_PAST",
        ),
        ({"earliest_date": today, "ends_on": today + timedelta(days=31)}, "WINDOW_TOO_LONG"),
        (
            {"earliest_date": today + timedelta(days=31), "ends_on": today + timedelta(days=32)},
            "STARTS_TOO_LATE",
        ),
        ({"service": factories.service()}, "NOT_SCHEDULED"),
        ({"note": "x" * 201}, "TEXT_TOO_LONG"),
    ]
    for changes, name in cases:
        with pytest.raises(follow_up.FollowUpRefused) as refusal:
            _open(unit_booked, clinician, **changes)
        expected = getattr(follow_up, name)
        assert refusal.value.message == expected.format(days=30), name
    assert _open(unit_booked, clinician, earliest_date=today, ends_on=today + timedelta(days=30))
    assert OpenFollowUp.objects.count() == 1


@pytest.mark.parametrize("change", ["date_of_death", "discharged_on"])
def test_no_follow_up_for_a_patient_no_longer_under_care(unit_booked, clinician, change):
    Patient.objects.filter(pk=unit_booked.patient.pk).update(**{change: date(2026, 1, 2)})
    unit_booked.patient.refresh_from_db()

    with pytest.raises(follow_up.FollowUpRefused, match="no longer under"):
        _open(unit_booked, clinician)
    assert not OpenFollowUp.objects.exists()


def test_one_open_follow_up_per_patient_and_service(unit_booked, clinician):
    first = _open(unit_booked, clinician)

    with pytest.raises(follow_up.FollowUpRefused) as refusal:
        _open(unit_booked, clinician)
    other_service = _open(unit_booked, clinician, service=_physio(unit_booked))
    follow_up.follow_up_end(context=_context(clinician), follow_up_id=first.pk, reason="Changed")
    again = _open(unit_booked, clinician)

    assert "already has an open follow-up for Toxin clinic" in refusal.value.message
    assert other_service.status == again.status == FollowUpStatus.OPEN
    assert OpenFollowUp.objects.filter(status=FollowUpStatus.OPEN).count() == 2


def test_a_follow_up_that_ran_out_does_not_block_a_new_one(unit_booked, clinician):
    old = _open(unit_booked, clinician)
    OpenFollowUp.objects.filter(pk=old.pk).update(
        earliest_date=date(2026, 1, 1), ends_on=date(2026, 2, 1)
    )

    assert _open(unit_booked, clinician).status == FollowUpStatus.OPEN


def test_ending_needs_a_reason_and_happens_once(unit_booked, clinician):
    opened = _open(unit_booked, clinician)
    context = _context(clinician)

    with pytest.raises(follow_up.FollowUpRefused, match=follow_up.REASON_REQUIRED):
        follow_up.follow_up_end(context=context, follow_up_id=opened.pk, reason="  ")
    follow_up.follow_up_end(context=context, follow_up_id=opened.pk, reason="Improved")
    with pytest.raises(follow_up.FollowUpRefused, match=follow_up.NOT_OPEN):
        follow_up.follow_up_end(context=context, follow_up_id=opened.pk, reason="again")
    with pytest.raises(follow_up.FollowUpNotFound):
        follow_up.follow_up_end(context=context, follow_up_id=9999, reason="x")

    opened.refresh_from_db()
    assert opened.status == FollowUpStatus.ENDED
    assert AuditEntry.objects.filter(object_type="follow_up", detail="ended: Improved").exists()


# The clinician's pages


def test_a_clinician_opens_and_ends_a_follow_up_from_the_patient_page(
    client, unit_booked, clinician
):
    sign_in(client, clinician)
    earliest, ends_on = _window()
    patient_id = unit_booked.patient.pk

    before = client.get(f"/records/patients/{patient_id}/").content.decode()
    opened = client.post(
        f"/appointments/follow-up/new/{patient_id}/",
        {
            "service": "toxin",
            "earliest_date": earliest.isoformat(),
            "ends_on": ends_on.isoformat(),
            "note": SCRIPT,
        },
    )
    after = client.get(f"/records/patients/{patient_id}/").content.decode()
    item = OpenFollowUp.objects.get()
    end_page = client.get(f"/appointments/follow-up/{item.pk}/end/")
    ended = client.post(f"/appointments/follow-up/{item.pk}/end/", {"reason": "Better"})

    assert "Open follow-up" in before
    assert f"/appointments/follow-up/new/{patient_id}/" in before
    assert opened.status_code == 302
    assert f"{earliest.day} {earliest:%B %Y}" in after
    assert escape(SCRIPT) in after
    assert SCRIPT not in after
    assert end_page.status_code == 200
    assert ended.status_code == 302
    item.refresh_from_db()
    assert item.status == FollowUpStatus.ENDED


@pytest.mark.parametrize("case", [(Role.RECEPTION, 403), (Role.PATIENT, 404)])
def test_reception_and_patients_cannot_use_the_follow_up_pages(
    client, unit_booked, clinician, patient_user, case
):
    role, status = case
    existing = _open(unit_booked, clinician, service=_physio(unit_booked))
    sign_in(client, patient_user if role == Role.PATIENT else factories.user(role=role))
    patient_id = unit_booked.patient.pk
    earliest, ends_on = _window()
    before = AuditEntry.objects.filter(outcome="refused").count()

    answers = [
        client.get(f"/appointments/follow-up/new/{patient_id}/").status_code,
        client.post(
            f"/appointments/follow-up/new/{patient_id}/",
            {"service": "toxin", "earliest_date": earliest, "ends_on": ends_on},
        ).status_code,
        client.get(f"/appointments/follow-up/{existing.pk}/end/").status_code,
        client.post(f"/appointments/follow-up/{existing.pk}/end/", {"reason": "x"}).status_code,
    ]

    assert answers == [status] * 4
    assert AuditEntry.objects.filter(outcome="refused").count() == before + 4
    assert OpenFollowUp.objects.get().status == FollowUpStatus.OPEN


def test_reception_sees_follow_ups_but_is_not_offered_to_open_one(
    client, unit_booked, clinician, staff
):
    _open(unit_booked, clinician)
    sign_in(client, staff[Role.RECEPTION])

    page = client.get(f"/records/patients/{unit_booked.patient.pk}/").content.decode()

    assert "Open follow-up" in page
    assert "Toxin clinic" in page
    assert "/appointments/follow-up/new/" not in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"service": ""}, "This field is required."),
        ({"earliest_date": ""}, "This field is required."),
        ({"ends_on": "10000-01-01"}, "Enter a valid date."),
        ({"earliest_date": "2027-02-30"}, "Enter a valid date."),
        ({"ends_on": SCRIPT}, "Enter a valid date."),
        ({"ends_on": "2026-01-01"}, follow_up.ENDS_BEFORE_EARLIEST),
        ({"note": "x" * 201}, follow_up.TEXT_TOO_LONG),
        ({"service": SCRIPT}, "Select a valid choice."),
    ],
)
def test_bad_input_to_the_follow_up_form_is_400_and_writes_nothing(
    client, unit_booked, clinician, changes, message
):
    sign_in(client, clinician)
    earliest, ends_on = _window()
    data = {
        "service": "toxin",
        "earliest_date": earliest.isoformat(),
        "ends_on": ends_on.isoformat(),
        "note": "",
    } | changes

    response = client.post(f"/appointments/follow-up/new/{unit_booked.patient.pk}/", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert escape(message) in page
    assert SCRIPT not in page
    assert not OpenFollowUp.objects.exists()


def test_ending_with_a_bad_reason_is_400(client, unit_booked, clinician):
    opened = _open(unit_booked, clinician)
    sign_in(client, clinician)

    empty = client.post(f"/appointments/follow-up/{opened.pk}/end/", {"reason": ""})
    long = client.post(f"/appointments/follow-up/{opened.pk}/end/", {"reason": "x" * 201})

    assert empty.status_code == long.status_code == 400
    assert escape(follow_up.TEXT_TOO_LONG) in long.content.decode()
    opened.refresh_from_db()
    assert opened.status == FollowUpStatus.OPEN


# The patient's portal and booking pages


def test_the_patient_is_offered_to_book_and_the_search_keeps_to_the_window(
    client, unit_booked, clinician, patient_user
):
    _open(unit_booked, clinician)
    earliest, ends_on = _window()
    sign_in(client, patient_user, second_factor=False)

    home = client.get("/my/").content.decode()
    first = client.get("/appointments/book/", {"service": "toxin"})
    inside = client.get(
        "/appointments/book/", {"service": "toxin", "date": (earliest + timedelta(1)).isoformat()}
    )
    before = client.get(
        "/appointments/book/", {"service": "toxin", "date": (earliest - timedelta(1)).isoformat()}
    )

    assert (
        f"You can book a Toxin clinic appointment when you need one, between "
        f"{earliest.day} {earliest:%B %Y} and {ends_on.day} {ends_on:%B %Y}"
    ) in home
    assert "/appointments/book/?service=toxin" in home
    assert first.status_code == 200
    page = first.content.decode()
    assert "First available time" in page
    # The first available time is the window's first morning, not this week's.
    assert f"{earliest:%A} {earliest.day} {earliest:%B}, 09:00" in page
    assert "Your open follow-up lets you book from" in page
    assert inside.status_code == 200
    assert before.status_code == 400
    assert "Your open follow-up lets you book from" in before.content.decode()


def test_the_patient_books_through_the_pages_and_cannot_book_twice(
    client, unit_booked, clinician, patient_user
):
    _open(unit_booked, clinician)
    earliest, _ = _window()
    sign_in(client, patient_user, second_factor=False)
    params = {
        "service": "toxin",
        "site": "test-site",
        "practitioner": "dr-test",
        "start": unit_booked.at(earliest + timedelta(days=2), 9).isoformat(),
    }

    booked = client.post("/appointments/book/confirm/", params)
    again = client.post(
        "/appointments/book/confirm/",
        params | {"start": unit_booked.at(earliest + timedelta(days=3), 9).isoformat()},
    )
    chooser = client.get("/appointments/book/").content.decode()
    home = client.get("/my/").content.decode()

    assert booked.status_code == 302
    assert again.status_code == 400
    assert escape(services.NOT_ONLINE) in again.content.decode()
    assert Appointment.objects.count() == 1
    assert OpenFollowUp.objects.get().status == FollowUpStatus.USED
    assert 'value="toxin"' not in chooser
    assert "when you need one" not in home


def test_without_a_follow_up_the_service_is_not_a_choice(client, unit_booked, patient_user):
    sign_in(client, patient_user, second_factor=False)

    chooser = client.get("/appointments/book/").content.decode()
    search = client.get("/appointments/book/", {"service": "toxin"})

    assert 'value="toxin"' not in chooser
    assert search.status_code == 400


# The invariant


PROPERTY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(
    window=st.tuples(st.integers(min_value=-40, max_value=40), st.integers(0, 30)),
    moment=st.tuples(
        st.integers(min_value=-60, max_value=80),
        st.sampled_from([time(0, 0), time(0, 30), time(9, 0), time(23, 30), time(23, 59)]),
    ),
    status=st.sampled_from(FollowUpStatus.values),
)
def test_follow_up_for_booking_finds_it_exactly_when_the_local_date_is_inside(
    unit_booked, clinician, window, moment, status
):
    (offset, length), (day, at) = window, moment
    # Times near midnight are a different UTC date in summer: the local date must decide.
    base = date(2027, 6, 1)
    earliest = base + timedelta(days=offset)
    item, _ = OpenFollowUp.objects.update_or_create(
        patient=unit_booked.patient,
        service=unit_booked.service,
        defaults={
            "earliest_date": earliest,
            "ends_on": earliest + timedelta(days=length),
            "status": status,
            "created_by": clinician,
        },
    )
    local_day = base + timedelta(days=day)
    start = datetime.combine(local_day, at, tzinfo=LONDON)

    found = follow_up.follow_up_for_booking(unit_booked.patient, unit_booked.service, start)

    inside = item.earliest_date <= local_day <= item.ends_on and status == FollowUpStatus.OPEN
    assert (found == item) is inside
    assert found is None or found == item


@given(
    earliest=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    length=st.integers(min_value=0, max_value=800),
)
def test_the_window_is_written_with_both_dates_and_the_last_year(earliest, length):
    ends_on = earliest + timedelta(days=length)

    text = follow_up.window_text(earliest, ends_on)

    assert text.endswith(f"{ends_on.day} {ends_on:%B} {ends_on.year}")
    assert text.startswith(f"{earliest.day} {earliest:%B}")
    assert (str(earliest.year) in text.split(" to ")[0]) is (earliest.year != ends_on.year)


def test_cancelling_the_booking_opens_the_follow_up_again(unit_booked, clinician, patient_user):
    opened = _open(unit_booked, clinician)
    appointment = _book(unit_booked, patient_user, opened.earliest_date)
    opened.refresh_from_db()
    assert opened.status == FollowUpStatus.USED

    services.appointment_cancel(
        context=_context(patient_user), appointment_id=appointment.pk, reason="Better (made up)"
    )

    opened.refresh_from_db()
    assert (opened.status, opened.appointment) == (FollowUpStatus.OPEN, None)
    # And the patient can book with it again.
    again = _book(unit_booked, patient_user, opened.earliest_date, hour=10)
    assert again.status == "booked"
