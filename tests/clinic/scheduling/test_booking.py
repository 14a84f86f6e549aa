"""Booking, moving and cancelling: through the services and the pages."""

from __future__ import annotations

from datetime import date, time, timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.directory.models import Practitioner, Service
from clinic.records.access import AccessRefused
from clinic.scheduling import availability, services
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import (
    Appointment,
    AppointmentChange,
    Leave,
    Resource,
    ServiceSchedule,
    WorkingPattern,
)
from tests import factories
from tests.clinic.scheduling.conftest import next_weekday
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _request(calendar, start, **changes):
    values = {
        "patient": calendar.patient,
        "service": calendar.service,
        "practitioner": calendar.practitioner,
        "site": calendar.site,
        "start": start,
    } | changes
    return services.BookingRequest(**values)


def _context(user):
    user.is_verified = lambda: True
    return AuditContext(actor=user)


def test_a_patient_books_their_own_slot(calendar, patient_user):
    start = calendar.at(next_weekday(0), 9)

    appointment = services.appointment_book(
        context=_context(patient_user), request=_request(calendar, start)
    )

    assert appointment.resource == calendar.resource
    assert appointment.end - appointment.start == timedelta(minutes=30)
    assert appointment.blocked_until - appointment.end == timedelta(minutes=10)
    assert appointment.changes.get().kind == "booked"
    assert AuditEntry.objects.filter(
        object_type="appointment", action="create", patient=calendar.patient
    ).exists()


def test_a_taken_slot_is_refused_as_a_conflict(calendar, patient_user):
    start = calendar.at(next_weekday(0), 9)
    services.appointment_book(
        context=_context(factories.user(role=Role.RECEPTION)),
        request=_request(calendar, start, patient=factories.patient()),
    )

    with pytest.raises(services.BookingRefused) as refusal:
        services.appointment_book(context=_context(patient_user), request=_request(calendar, start))

    assert refusal.value.message == services.SLOT_TAKEN
    assert refusal.value.conflict is True
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("hour", "minute", "message"),
    [
        (8, 0, services.NOT_A_SLOT),
        (12, 0, services.NOT_A_SLOT),
        (9, 7, services.NOT_A_SLOT),
        (13, 0, services.NOT_A_SLOT),
    ],
)
def test_times_outside_working_hours_or_off_the_grid_are_refused(
    calendar, patient_user, hour, minute, message
):
    with pytest.raises(services.BookingRefused, match=message):
        services.appointment_book(
            context=_context(patient_user),
            request=_request(calendar, calendar.at(next_weekday(0), hour, minute)),
        )
    assert not Appointment.objects.exists()


def test_the_past_is_refused(calendar, patient_user):
    with pytest.raises(services.BookingRefused, match=services.IN_THE_PAST):
        services.appointment_book(
            context=_context(patient_user),
            request=_request(calendar, timezone.now() - timedelta(days=1)),
        )


def test_a_patient_cannot_book_for_another_patient(calendar, patient_user):
    other = factories.patient(user=factories.user())

    with pytest.raises(AccessRefused):
        services.appointment_book(
            context=_context(patient_user),
            request=_request(calendar, calendar.at(next_weekday(0), 9), patient=other),
        )
    assert AuditEntry.objects.filter(
        object_type="appointment", outcome="refused", patient=other
    ).exists()


def test_reception_overbooks_only_with_a_reason_and_within_hours(calendar):
    reception = factories.user(role=Role.RECEPTION)
    start = calendar.at(next_weekday(1), 9)
    services.appointment_book(
        context=_context(reception), request=_request(calendar, start, patient=factories.patient())
    )

    overbooked = services.appointment_book(
        context=_context(reception),
        request=_request(calendar, start, overbook_reason="Urgent review after toxin"),
    )
    with pytest.raises(services.BookingRefused, match=services.NOT_A_SLOT):
        services.appointment_book(
            context=_context(reception),
            request=_request(
                calendar,
                calendar.at(next_weekday(1), 18),
                patient=factories.patient(),
                overbook_reason="late",
            ),
        )

    assert overbooked.overbooked
    assert overbooked.overbook_reason == "Urgent review after toxin"
    overbook_audit = AuditEntry.objects.get(object_type="appointment", object_id=str(overbooked.pk))
    assert "overbooked" in overbook_audit.detail
    refusal = AuditEntry.objects.filter(action="create", outcome="refused").get()
    assert services.NOT_A_SLOT in refusal.detail


def test_patients_cannot_overbook(calendar, patient_user):
    with pytest.raises(services.BookingRefused, match=services.OVERBOOK_STAFF_ONLY):
        services.appointment_book(
            context=_context(patient_user),
            request=_request(calendar, calendar.at(next_weekday(1), 9), overbook_reason="please"),
        )


def test_a_patient_cannot_be_in_two_places_at_once(calendar):
    reception = factories.user(role=Role.RECEPTION)
    start = calendar.at(next_weekday(2), 9)
    other_practitioner = factories.practitioner(sites=[calendar.site], services=[calendar.service])
    Resource.objects.create(site=calendar.site, name="Injection room 2", kind="injection_room")
    WorkingPattern.objects.create(
        practitioner=other_practitioner,
        site=calendar.site,
        weekday=start.weekday(),
        start_time=time(9),
        end_time=time(12),
        valid_from=start.date(),
    )
    services.appointment_book(context=_context(reception), request=_request(calendar, start))

    with pytest.raises(services.BookingRefused, match="already has an appointment"):
        services.appointment_book(
            context=_context(reception),
            request=_request(calendar, start, practitioner=other_practitioner),
        )


def test_rescheduling_moves_the_appointment_and_keeps_its_history(calendar, patient_user):
    day = next_weekday(3)
    appointment = services.appointment_book(
        context=_context(patient_user), request=_request(calendar, calendar.at(day, 9))
    )

    moved = services.appointment_reschedule(
        context=_context(patient_user), appointment_id=appointment.pk, start=calendar.at(day, 9, 15)
    )

    assert moved.pk == appointment.pk
    assert moved.start == calendar.at(day, 9, 15)
    change = moved.changes.get(kind="rescheduled")
    assert (change.old_start, change.new_start) == (calendar.at(day, 9), calendar.at(day, 9, 15))


def test_patients_cannot_change_within_the_cut_off_but_reception_can(
    calendar, patient_user, settings
):
    settings.CANCELLATION_CUTOFF_HOURS = 24 * 30
    appointment = services.appointment_book(
        context=_context(patient_user), request=_request(calendar, calendar.at(next_weekday(4), 9))
    )

    with pytest.raises(services.BookingRefused, match="up to 720 hours before"):
        services.appointment_cancel(
            context=_context(patient_user), appointment_id=appointment.pk, reason="ill"
        )
    cancelled = services.appointment_cancel(
        context=_context(factories.user(role=Role.RECEPTION)),
        appointment_id=appointment.pk,
        reason="phoned",
    )

    assert cancelled.status == "cancelled"
    assert AppointmentChange.objects.filter(kind="cancelled", reason="phoned").exists()


def test_a_cancelled_appointment_cannot_be_cancelled_again(calendar, patient_user):
    appointment = services.appointment_book(
        context=_context(patient_user), request=_request(calendar, calendar.at(next_weekday(5), 9))
    )
    services.appointment_cancel(
        context=_context(patient_user), appointment_id=appointment.pk, reason="ill"
    )

    with pytest.raises(services.BookingRefused, match=services.NOT_BOOKED):
        services.appointment_cancel(
            context=_context(patient_user), appointment_id=appointment.pk, reason="again"
        )


def test_another_patients_appointment_cannot_be_moved_or_cancelled(calendar, patient_user):
    reception = factories.user(role=Role.RECEPTION)
    theirs = services.appointment_book(
        context=_context(reception),
        request=_request(
            calendar,
            calendar.at(next_weekday(6), 9),
            patient=factories.patient(user=factories.user()),
        ),
    )

    with pytest.raises(AccessRefused):
        services.appointment_cancel(
            context=_context(patient_user), appointment_id=theirs.pk, reason="mine now"
        )
    with pytest.raises(AccessRefused):
        services.appointment_reschedule(
            context=_context(patient_user),
            appointment_id=theirs.pk,
            start=calendar.at(next_weekday(6), 10),
        )
    theirs.refresh_from_db()
    assert theirs.status == "booked"


# The pages


def test_the_patient_booking_flow(client, calendar, patient_user):
    sign_in(client, patient_user, second_factor=False)
    day = next_weekday(0)

    search = client.get(
        "/appointments/book/", {"service": "toxin", "site": "test-site", "date": day.isoformat()}
    )
    first = client.get("/appointments/book/", {"service": "toxin"})
    start = calendar.at(day, 9).isoformat()
    params = {"service": "toxin", "site": "test-site", "practitioner": "dr-test", "start": start}
    confirm = client.get("/appointments/book/confirm/", params)
    booked = client.post("/appointments/book/confirm/", params)

    assert "Available times" in search.content.decode()
    assert "First available time" in first.content.decode()
    assert "Book this appointment" in confirm.content.decode()
    appointment = Appointment.objects.get()
    assert booked.headers["Location"] == f"/appointments/{appointment.pk}/"
    home = client.get("/my/").content.decode()
    assert "Move or cancel" in home


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"service": "toxin", "date": "2000-01-01"}, "Choose today or a later date."),
        ({"service": "toxin", "date": "2999-01-01"}, "We book up to"),
        ({"service": "nonsense"}, "Select a valid choice."),
        ({"service": "toxin", "date": "not-a-date"}, "Enter a valid date."),
    ],
)
def test_bad_searches_are_400_with_a_message(client, calendar, patient_user, params, message):
    sign_in(client, patient_user, second_factor=False)

    response = client.get("/appointments/book/", params)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_slot_taken_meanwhile_answers_409_and_writes_nothing(client, calendar, patient_user):
    start = calendar.at(next_weekday(1), 9)
    services.appointment_book(
        context=_context(factories.user(role=Role.RECEPTION)),
        request=_request(calendar, start, patient=factories.patient()),
    )
    sign_in(client, patient_user, second_factor=False)

    response = client.post(
        "/appointments/book/confirm/",
        {
            "service": "toxin",
            "site": "test-site",
            "practitioner": "dr-test",
            "start": start.isoformat(),
        },
    )

    assert response.status_code in {400, 409}
    assert (
        "not available" in response.content.decode()
        or "just been taken" in response.content.decode()
    )
    assert Appointment.objects.count() == 1


def test_a_tampered_confirm_is_400(client, calendar, patient_user):
    sign_in(client, patient_user, second_factor=False)

    response = client.post(
        "/appointments/book/confirm/",
        {"service": "toxin", "site": "test-site", "practitioner": "dr-test", "start": "soon"},
    )

    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_another_patients_appointment_page_is_404_and_audited(client, calendar, patient_user):
    theirs = services.appointment_book(
        context=_context(factories.user(role=Role.RECEPTION)),
        request=_request(
            calendar,
            calendar.at(next_weekday(2), 9),
            patient=factories.patient(user=factories.user()),
        ),
    )
    sign_in(client, patient_user, second_factor=False)

    assert client.get(f"/appointments/{theirs.pk}/").status_code == 404
    assert client.post(f"/appointments/{theirs.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert AuditEntry.objects.filter(
        object_type="appointment", outcome="refused", patient=theirs.patient
    ).exists()


def test_cancelling_needs_a_reason(client, calendar, patient_user):
    appointment = services.appointment_book(
        context=_context(patient_user), request=_request(calendar, calendar.at(next_weekday(3), 9))
    )
    sign_in(client, patient_user, second_factor=False)

    empty = client.post(f"/appointments/{appointment.pk}/cancel/", {"reason": ""})
    done = client.post(f"/appointments/{appointment.pk}/cancel/", {"reason": "I feel better"})

    assert empty.status_code == 400
    assert done.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


def test_reception_sees_the_day_and_week(client, calendar, staff):
    day = next_weekday(4)
    appointment = services.appointment_book(
        context=_context(staff[Role.RECEPTION]), request=_request(calendar, calendar.at(day, 10))
    )
    sign_in(client, staff[Role.RECEPTION])

    day_page = client.get(
        "/appointments/day/", {"site": "test-site", "date": day.isoformat()}
    ).content.decode()
    week_page = client.get(
        "/appointments/week/", {"site": "test-site", "date": day.isoformat()}
    ).content.decode()

    assert appointment.patient.full_name in day_page
    assert "10:00" in day_page
    assert appointment.patient.full_name in week_page
    assert (
        AuditEntry.objects.filter(object_type="calendar", patient=appointment.patient).count() == 2
    )


def test_reception_books_for_a_patient_by_hospital_number(client, calendar, staff):
    sign_in(client, staff[Role.RECEPTION])
    start = calendar.at(next_weekday(5), 9).isoformat()
    params = {
        "service": "toxin",
        "site": "test-site",
        "practitioner": "dr-test",
        "start": start,
        "patient": calendar.patient.hospital_number,
    }

    search = client.get("/appointments/book/", {"service": "toxin", "patient": "NOPE"})
    client.post("/appointments/book/confirm/", params)

    assert search.status_code == 400
    assert "No patient has that hospital number." in search.content.decode()
    assert Appointment.objects.get().patient == calendar.patient


@pytest.mark.parametrize(("role", "status"), [(Role.PATIENT, 404), (Role.ADMIN, 403)])
def test_only_staff_see_calendars(client, calendar, role, status):
    sign_in(client, factories.user(role=role))

    assert client.get("/appointments/day/", {"site": "test-site"}).status_code == status


def test_calendar_rejects_bad_filters(client, calendar, staff):
    sign_in(client, staff[Role.RECEPTION])

    assert client.get("/appointments/day/", {"site": "nowhere"}).status_code == 400
    assert (
        client.get("/appointments/week/", {"site": "test-site", "date": "1066-10-14"}).status_code
        == 400
    )


def test_moving_an_appointment_offers_its_own_time_and_keeps_the_search(
    client, calendar, patient_user
):
    day = next_weekday(1)
    mine = services.appointment_book(
        context=_context(patient_user), request=_request(calendar, calendar.at(day, 9))
    )
    sign_in(client, patient_user, second_factor=False)

    search = client.get(
        "/appointments/book/",
        {"service": "toxin", "site": "test-site", "date": day.isoformat(), "reschedule": mine.pk},
    ).content.decode()
    confirm = client.get(
        "/appointments/book/confirm/",
        {
            "service": "toxin",
            "site": "test-site",
            "practitioner": "dr-test",
            "start": calendar.at(day, 10).isoformat(),
            "reschedule": mine.pk,
        },
    ).content.decode()

    assert "Now booked:" in search
    # 09:15 overlaps the patient's own 09:00 appointment: moving must still offer it.
    assert urlencode({"start": calendar.at(day, 9, 15).isoformat()}) in search
    assert urlencode({"start": calendar.at(day, 9).isoformat()}) not in search
    assert f"reschedule={mine.pk}" in confirm
    assert "site=test-site" in confirm
    assert "Reason for overbooking" not in confirm


def test_moving_someone_elses_appointment_is_404_before_any_search(client, calendar, patient_user):
    theirs = services.appointment_book(
        context=_context(factories.user(role=Role.RECEPTION)),
        request=_request(calendar, calendar.at(next_weekday(2), 9), patient=factories.patient()),
    )
    sign_in(client, patient_user, second_factor=False)

    response = client.get("/appointments/book/", {"service": "toxin", "reschedule": theirs.pk})

    assert response.status_code == 404
    assert AuditEntry.objects.filter(
        object_type="appointment", outcome="refused", patient=theirs.patient
    ).exists()


def test_reception_seeing_whom_they_book_for_is_audited(client, calendar, staff):
    sign_in(client, staff[Role.RECEPTION])

    client.get(
        "/appointments/book/confirm/",
        {
            "service": "toxin",
            "site": "test-site",
            "practitioner": "dr-test",
            "start": calendar.at(next_weekday(3), 9).isoformat(),
            "patient": calendar.patient.hospital_number,
        },
    )

    assert AuditEntry.objects.filter(
        actor=staff[Role.RECEPTION], action="read", object_type="patient", patient=calendar.patient
    ).exists()


def test_calendar_links_keep_the_practitioner_filter(client, calendar, staff):
    sign_in(client, staff[Role.RECEPTION])
    day = next_weekday(4)

    week_page = client.get(
        "/appointments/week/",
        {"site": "test-site", "date": day.isoformat(), "practitioner": "dr-test"},
    ).content.decode()

    assert "/appointments/day/?site=test-site&amp;practitioner=dr-test&amp;date=" in week_page


def test_the_last_slot_of_a_session_blocks_nothing_after_it(calendar, patient_user):
    # The search clips the buffer at the session's end; booking must store the same span, or
    # the next session's first slot (here at another site, straight after) is refused.
    day = next_weekday(1)
    other_site = factories.site(slug="other-site")
    other_site.services.add(calendar.service)
    calendar.practitioner.sites.add(other_site)
    Resource.objects.create(site=other_site, name="Injection room 2", kind="injection_room")
    WorkingPattern.objects.create(
        practitioner=calendar.practitioner,
        site=other_site,
        weekday=day.weekday(),
        start_time=time(12),
        end_time=time(13),
        valid_from=date(2026, 1, 1),
    )
    reception = _context(factories.user(role=Role.RECEPTION))

    last = services.appointment_book(
        context=reception, request=_request(calendar, calendar.at(day, 11, 30))
    )
    next_session = services.appointment_book(
        context=reception,
        request=_request(
            calendar, calendar.at(day, 12), site=other_site, patient=factories.patient()
        ),
    )

    assert last.blocked_until == calendar.at(day, 12)
    assert next_session.site == other_site


def test_moving_with_the_first_available_time_offers_the_times_its_own_booking_blocked(
    client, calendar, patient_user, settings
):
    # Leave until the day before makes that day's 09:00 the first available time, whatever
    # the time of day the test runs.
    day = next_weekday(2)
    Leave.objects.create(
        practitioner=calendar.practitioner,
        start_date=local_today(),
        end_date=day - timedelta(days=1),
        reason="Made-up leave for the test",
    )
    earliest = availability.first_available(service=calendar.service, sites=(calendar.site,))
    assert earliest.start == calendar.at(day, 9)
    mine = services.appointment_book(
        context=_context(factories.user(role=Role.RECEPTION)),
        request=_request(calendar, earliest.start),
    )
    sign_in(client, patient_user, second_factor=False)

    page = client.get(
        "/appointments/book/", {"service": "toxin", "site": "test-site", "reschedule": mine.pk}
    ).content.decode()

    # One step later overlaps the appointment being moved: offered, as it will be free. Its
    # own time is not offered (that would be no move at all).
    one_step_later = earliest.start + timedelta(minutes=settings.SLOT_STEP_MINUTES)
    assert urlencode({"start": one_step_later.isoformat()}) in page
    assert urlencode({"start": earliest.start.isoformat()}) not in page


def test_a_move_cannot_change_the_patient_or_the_service(client, calendar, staff):
    day = next_weekday(2)
    appointment = services.appointment_book(
        context=_context(staff[Role.RECEPTION]), request=_request(calendar, calendar.at(day, 9))
    )
    other_service = factories.service(slug="physio", name="Physiotherapy")
    ServiceSchedule.objects.create(service=other_service, duration_minutes=30)
    sign_in(client, staff[Role.RECEPTION])
    params = {
        "service": "toxin",
        "site": "test-site",
        "practitioner": "dr-test",
        "start": calendar.at(day, 10).isoformat(),
        "reschedule": appointment.pk,
    }

    wrong_patient = client.post(
        "/appointments/book/confirm/", params | {"patient": factories.patient().hospital_number}
    )
    wrong_service = client.get(
        "/appointments/book/",
        {
            "service": "physio",
            "patient": calendar.patient.hospital_number,
            "reschedule": appointment.pk,
        },
    )

    assert wrong_patient.status_code == 400
    assert "belongs to another patient" in wrong_patient.content.decode()
    assert wrong_service.status_code == 400
    assert "keeps its service" in wrong_service.content.decode()
    appointment.refresh_from_db()
    assert appointment.start == calendar.at(day, 9)


def test_a_patient_is_told_to_telephone_to_move_a_service_booked_by_the_unit(
    client, calendar, patient_user
):
    appointment = services.appointment_book(
        context=_context(factories.user(role=Role.RECEPTION)),
        request=_request(calendar, calendar.at(next_weekday(2), 9)),
    )
    ServiceSchedule.objects.filter(service=calendar.service).update(bookable_online=False)
    sign_in(client, patient_user, second_factor=False)

    page = client.get(f"/appointments/{appointment.pk}/").content.decode()

    assert "Move to another time" not in page
    assert f"telephone {calendar.site.name} on {calendar.site.telephone}" in page
    assert "Cancel this appointment" in page


# Each refusal, with its message, and nothing written but the refusal's audit entry.


def _refused_with(calendar, user, message, **changes):
    start = changes.pop("start", calendar.at(next_weekday(1), 9))
    with pytest.raises(services.BookingRefused) as refusal:
        services.appointment_book(
            context=_context(user), request=_request(calendar, start, **changes)
        )
    assert refusal.value.message == message
    assert not Appointment.objects.exists()
    assert AuditEntry.objects.filter(
        object_type="appointment", outcome="refused", detail__contains=message[:40]
    ).exists()


def test_a_time_without_a_zone_is_refused(calendar, patient_user):
    naive = calendar.at(next_weekday(1), 9).replace(tzinfo=None)
    _refused_with(calendar, patient_user, services.NOT_A_SLOT, start=naive)


def test_a_time_beyond_the_horizon_is_refused(calendar, patient_user, settings):
    settings.BOOKING_HORIZON_DAYS = 30
    far = calendar.at(next_weekday(1, weeks_ahead=6), 9)
    _refused_with(calendar, patient_user, services.TOO_FAR.format(days=30), start=far)


def test_a_patient_cannot_book_a_service_the_unit_books(calendar, patient_user):
    ServiceSchedule.objects.filter(service=calendar.service).update(bookable_online=False)
    service = Service.objects.select_related("schedule").get(pk=calendar.service.pk)
    _refused_with(calendar, patient_user, services.NOT_ONLINE, service=service)


def test_a_service_without_a_schedule_cannot_be_booked(calendar, patient_user):
    unscheduled = factories.service(slug="unscheduled")
    calendar.site.services.add(unscheduled)
    _refused_with(calendar, patient_user, services.NOT_A_SLOT, service=unscheduled)


@pytest.mark.parametrize("change", ["inactive", "no_longer_provides", "site_stopped"])
def test_a_service_no_longer_offered_there_is_refused(calendar, patient_user, change):
    # The working pattern remains; the directory says the service is not offered any more.
    if change == "inactive":
        Practitioner.objects.filter(pk=calendar.practitioner.pk).update(is_active=False)
    elif change == "no_longer_provides":
        calendar.practitioner.services.remove(calendar.service)
    else:
        calendar.site.services.remove(calendar.service)
    calendar.practitioner.refresh_from_db()
    _refused_with(calendar, patient_user, services.NOT_A_SLOT)


def test_moving_to_a_taken_time_is_refused_and_audited(calendar, patient_user):
    day = next_weekday(1)
    mine = services.appointment_book(
        context=_context(patient_user), request=_request(calendar, calendar.at(day, 9))
    )
    services.appointment_book(
        context=_context(factories.user(role=Role.RECEPTION)),
        request=_request(calendar, calendar.at(day, 10), patient=factories.patient()),
    )

    with pytest.raises(services.BookingRefused, match=services.SLOT_TAKEN):
        services.appointment_reschedule(
            context=_context(patient_user), appointment_id=mine.pk, start=calendar.at(day, 10)
        )

    mine.refresh_from_db()
    assert mine.start == calendar.at(day, 9)
    assert AuditEntry.objects.filter(
        action="update", outcome="refused", patient=mine.patient
    ).exists()


def test_an_unknown_appointment_is_refused_and_audited(calendar, patient_user):
    with pytest.raises(AccessRefused):
        services.appointment_cancel(
            context=_context(patient_user), appointment_id=999_999, reason="x"
        )

    assert AuditEntry.objects.filter(
        outcome="refused", detail="no such appointment 999999"
    ).exists()
