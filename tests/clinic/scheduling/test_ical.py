"""iCalendar documents: every one parsed back with the icalendar library, times checked as
UTC instants on both sides of the 2027 clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from clinic.audit.services import AuditContext
from clinic.directory.models import Practitioner, Service, Site, Specialty
from clinic.records.models import Patient
from clinic.scheduling import ical, services
from clinic.scheduling.availability import clinic_tz
from clinic.scheduling.models import Appointment, AppointmentStatus, Resource
from tests.clinic.scheduling.conftest import next_weekday

# 09:00 in London: GMT (UTC+0) before 28 March 2027 and after 31 October 2027, BST
# (UTC+1) between.
CLOCK_CHANGE_CASES = [
    (date(2027, 3, 27), datetime(2027, 3, 27, 9, tzinfo=UTC)),
    (date(2027, 3, 29), datetime(2027, 3, 29, 8, tzinfo=UTC)),
    (date(2027, 10, 30), datetime(2027, 10, 30, 8, tzinfo=UTC)),
    (date(2027, 11, 1), datetime(2027, 11, 1, 9, tzinfo=UTC)),
]


def _appointment(calendar, start, **fields):
    values = {
        "patient": calendar.patient,
        "practitioner": calendar.practitioner,
        "site": calendar.site,
        "service": calendar.service,
        "resource": calendar.resource,
        "start": start,
        "end": start + timedelta(minutes=30),
        "blocked_until": start + timedelta(minutes=40),
        "booked_by": calendar.patient.user,
    } | fields
    return Appointment.objects.create(**values)


def _distinctive_patient(calendar) -> tuple[str, ...]:
    """Give the patient a name and birth date found nowhere else in the document."""
    patient = calendar.patient
    patient.given_name, patient.family_name = "Zebedee", "Quartermaine"
    patient.date_of_birth = date(1953, 7, 14)
    patient.save()
    return ("Zebedee", "Quartermaine", "1953", "19530714")


def _parse(document: bytes) -> Calendar:
    assert isinstance(document, bytes)
    return Calendar.from_ical(document)


def _only_event(parsed: Calendar):
    (event,) = parsed.events
    return event


def _vtimezone_instant(parsed: Calendar, event) -> datetime:
    """DTSTART read by the document's own VTIMEZONE rules, not the zone database's."""
    (zone,) = parsed.timezones
    own_rules = zone.to_tz(lookup_tzid=False)
    return event.start.replace(tzinfo=None).replace(tzinfo=own_rules).astimezone(UTC)


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "utc"), CLOCK_CHANGE_CASES)
def test_the_attachment_keeps_nine_oclock_across_the_clock_changes(calendar, day, utc):
    appointment = _appointment(calendar, calendar.at(day, 9))

    parsed = _parse(ical.appointment_calendar(appointment))
    event = _only_event(parsed)

    assert event.start.astimezone(UTC) == utc
    assert event.end.astimezone(UTC) == utc + timedelta(minutes=30)
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.start.astimezone(clinic_tz()).hour == 9
    assert parsed.timezones[0]["TZID"] == "Europe/London"
    assert _vtimezone_instant(parsed, event) == utc


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "utc"), CLOCK_CHANGE_CASES)
def test_the_feed_keeps_nine_oclock_across_the_clock_changes(calendar, day, utc):
    appointment = _appointment(calendar, calendar.at(day, 9))

    parsed = _parse(ical.practitioner_feed(calendar.practitioner, [appointment]))
    event = _only_event(parsed)

    assert event.start.astimezone(UTC) == utc
    assert _vtimezone_instant(parsed, event) == utc


@pytest.mark.django_db
def test_one_feed_spanning_both_changes_has_one_vtimezone(calendar):
    appointments = [_appointment(calendar, calendar.at(day, 9)) for day, _ in CLOCK_CHANGE_CASES]

    parsed = _parse(ical.practitioner_feed(calendar.practitioner, appointments))

    assert [e.start.astimezone(UTC) for e in parsed.events] == [u for _, u in CLOCK_CHANGE_CASES]
    assert len(parsed.timezones) == 1


@pytest.mark.django_db
def test_the_attachment_is_a_request_for_the_patients_calendar(calendar, settings):
    settings.SITE_URL = "https://clinic.example.org"
    settings.DEFAULT_FROM_EMAIL = "Dystonia Clinic <bookings@clinic.example.org>"
    private = _distinctive_patient(calendar)
    appointment = _appointment(calendar, calendar.at(date(2027, 2, 1), 10))

    document = ical.appointment_calendar(appointment)
    parsed = _parse(document)
    event = _only_event(parsed)

    assert parsed["METHOD"] == "REQUEST"
    assert parsed["VERSION"] == "2.0"
    assert parsed["PRODID"] == ical.PRODID
    assert event["UID"] == f"appointment-{appointment.pk}@clinic.example.org"
    assert event["STATUS"] == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    assert event["SUMMARY"] == "Toxin clinic, Dystonia Clinic"
    assert event["LOCATION"] == f"{calendar.site.name}, {calendar.site.full_address}"
    assert calendar.practitioner.display_name in event["DESCRIPTION"]
    assert calendar.site.telephone in event["DESCRIPTION"]
    assert f"https://clinic.example.org/appointments/{appointment.pk}/" in event["DESCRIPTION"]
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert str(event["ORGANIZER"]) == "mailto:bookings@clinic.example.org"
    assert str(event["ATTENDEE"]) == f"mailto:{calendar.patient.user.email}"
    # Nothing about the patient beyond their address, and nothing clinical.
    for text in private:
        assert text.encode() not in document


@pytest.mark.django_db
def test_a_cancellation_keeps_the_uid_and_says_cancel(calendar):
    appointment = _appointment(calendar, calendar.at(date(2027, 2, 1), 10))

    booked = _only_event(_parse(ical.appointment_calendar(appointment)))
    parsed = _parse(ical.appointment_calendar(appointment, cancelled=True, sequence=1))
    cancelled = _only_event(parsed)

    assert parsed["METHOD"] == "CANCEL"
    assert cancelled["STATUS"] == "CANCELLED"
    assert cancelled["UID"] == booked["UID"]
    assert cancelled["SEQUENCE"] == 1
    assert "cancelled" in cancelled["DESCRIPTION"]


@pytest.mark.django_db
def test_a_reschedule_keeps_the_uid_and_raises_the_sequence(calendar, patient_user):
    patient_user.is_verified = lambda: True
    context = AuditContext(actor=patient_user)
    day = next_weekday(0)
    appointment = services.appointment_book(
        context=context,
        request=services.BookingRequest(
            patient=calendar.patient,
            service=calendar.service,
            practitioner=calendar.practitioner,
            site=calendar.site,
            start=calendar.at(day, 9),
        ),
    )
    first = _only_event(
        _parse(ical.appointment_calendar(appointment, sequence=appointment.changes.count() - 1))
    )

    moved = services.appointment_reschedule(
        context=context, appointment_id=appointment.pk, start=calendar.at(day, 10)
    )
    second = _only_event(
        _parse(ical.appointment_calendar(moved, sequence=moved.changes.count() - 1))
    )

    assert second["UID"] == first["UID"]
    assert second["SEQUENCE"] > first["SEQUENCE"]
    assert second.start.astimezone(clinic_tz()).hour == 10


@pytest.mark.django_db
def test_the_second_half_past_one_on_the_october_change_day_is_written_in_utc(calendar):
    # 01:30 happens twice on 31 October 2027; a TZID would name only the first.
    first = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    second = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    appointments = [_appointment(calendar, first), _appointment(calendar, second)]

    parsed = _parse(ical.practitioner_feed(calendar.practitioner, appointments))

    assert [e.start.astimezone(UTC) for e in parsed.events] == [first, second]


@pytest.mark.django_db
def test_the_feed_shows_hospital_numbers_never_names(calendar):
    private = _distinctive_patient(calendar)
    appointment = _appointment(calendar, calendar.at(date(2027, 2, 1), 10))

    document = ical.practitioner_feed(calendar.practitioner, [appointment])
    parsed = _parse(document)
    event = _only_event(parsed)

    assert parsed["METHOD"] == "PUBLISH"
    assert parsed["X-WR-CALNAME"] == f"Appointments: {calendar.practitioner.display_name}"
    assert parsed["REFRESH-INTERVAL"].dt == timedelta(minutes=15)
    assert parsed["X-PUBLISHED-TTL"] == "PT15M"
    assert event["SUMMARY"] == f"Toxin clinic: {calendar.patient.hospital_number}"
    assert event["CLASS"] == "PRIVATE"
    assert calendar.site.name in event["LOCATION"]
    assert "Injection room 1" in event["DESCRIPTION"]
    for text in private:
        assert text.encode() not in document
    assert b"ATTENDEE" not in document


@pytest.mark.django_db
def test_an_empty_feed_is_a_valid_calendar(calendar):
    parsed = _parse(ical.practitioner_feed(calendar.practitioner, []))

    assert parsed.events == []
    assert parsed["VERSION"] == "2.0"


def _unsaved_appointment(start: datetime) -> Appointment:
    """An appointment built in memory, so the property test needs no database."""
    site = Site(name="Made-up Site", address_line="1 Made-up Street", postcode="W1A 1AA")
    site.telephone = "020 7946 0999"
    practitioner = Practitioner(
        prefix="Dr", given_name="Test", family_name="Person", specialty=Specialty(name="x")
    )
    patient = Patient(hospital_number="T0000001", given_name="Test", family_name="Patient")
    return Appointment(
        pk=1,
        patient=patient,
        practitioner=practitioner,
        site=site,
        service=Service(name="Toxin clinic"),
        resource=Resource(name="Room 1"),
        start=start,
        end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=30),
        status=AppointmentStatus.BOOKED,
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


# Hypothesis takes naive bounds and attaches the zone itself.
instants = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001
    max_value=datetime(2030, 12, 31, 23, 59),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=0))


@given(start=instants)
def test_any_time_from_2026_to_2030_round_trips_to_the_same_instant(start):
    appointment = _unsaved_appointment(start)

    for document in (
        ical.appointment_calendar(appointment),
        ical.practitioner_feed(appointment.practitioner, [appointment]),
    ):
        parsed = Calendar.from_ical(document)
        event = _only_event(parsed)
        assert event.start.astimezone(UTC) == start
        assert event.end.astimezone(UTC) == start + timedelta(minutes=30)
        if event.start.tzinfo != UTC:
            assert _vtimezone_instant(parsed, event) == start


@pytest.mark.django_db
def test_the_uid_falls_back_to_a_reserved_domain_without_a_site_url(calendar, settings):
    settings.SITE_URL = ""
    appointment = _appointment(calendar, calendar.at(date(2027, 2, 1), 10))

    event = _only_event(_parse(ical.appointment_calendar(appointment)))

    assert event["UID"] == f"appointment-{appointment.pk}@dystonia-clinic.invalid"
    assert "URL" not in event


@pytest.mark.django_db
def test_the_record_address_is_preferred_and_an_overbooking_is_noted(calendar):
    calendar.patient.email = "record@example.org"
    calendar.patient.save()
    appointment = _appointment(
        calendar, calendar.at(date(2027, 2, 1), 10), overbooked=True, overbook_reason="urgent"
    )

    attachment = _only_event(_parse(ical.appointment_calendar(appointment)))
    in_feed = _only_event(_parse(ical.practitioner_feed(calendar.practitioner, [appointment])))

    assert str(attachment["ATTENDEE"]) == "mailto:record@example.org"
    assert "Overbooked." in in_feed["DESCRIPTION"]
    assert "urgent" not in in_feed["DESCRIPTION"]
