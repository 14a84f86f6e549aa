"""The waiting list: a freed time is offered to the first waiting patients it suits, held for
them, never booked without acceptance; expired, declined and taken offers cannot be accepted."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records.access import AccessRefused
from clinic.scheduling import availability, services, waitlist
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    MessageKind,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from tests import factories
from tests.clinic.scheduling.conftest import next_weekday
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _context(user):
    user.is_verified = lambda: True
    return AuditContext(actor=user)


def _waiting_patient(calendar, *, name="Waiting", **window):
    user = factories.user(role=Role.PATIENT, email=f"{name.lower()}@example.org")
    patient = factories.patient(user=user, family_name=name)
    today = local_today()
    values = {
        "patient": patient,
        "service": calendar.service,
        "sites": (),
        "earliest_date": today,
        "latest_date": today + timedelta(days=60),
    } | window
    waitlist.waitlist_join(context=_context(user), request=waitlist.WaitlistRequest(**values))
    return user


def _book(calendar, user, start, patient=None):
    return services.appointment_book(
        context=_context(user),
        request=services.BookingRequest(
            patient=patient or calendar.patient,
            service=calendar.service,
            practitioner=calendar.practitioner,
            site=calendar.site,
            start=start,
        ),
    )


def _token_from_email(email):
    link = next(line for line in email.body.splitlines() if "/appointments/offers/" in line)
    return link.rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def freed(calendar, patient_user, django_capture_on_commit_callbacks):
    """Three patients waiting; the calendar's patient cancels a booked time (after the
    others joined), so the first waiting ones are offered it."""
    start = calendar.at(next_weekday(2), 10)
    appointment = _book(calendar, patient_user, start)
    waiting = [_waiting_patient(calendar, name=name) for name in ("Ames", "Baker", "Cole", "Dunn")]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(
            context=_context(patient_user), appointment_id=appointment.pk, reason="Feeling better"
        )
    return start, waiting


def test_a_cancellation_offers_the_time_to_the_first_waiting_patients(freed, settings):
    start, _ = freed
    offers = WaitlistOffer.objects.order_by("entry__created_at")
    assert [o.entry.patient.family_name for o in offers] == ["Ames", "Baker", "Cole"]
    assert settings.WAITLIST_OFFERS_PER_TIME == 3
    assert all(o.start == start and o.status == OfferStatus.OPEN for o in offers)
    hold = offers[0].expires_at - offers[0].created_at
    assert abs(hold - timedelta(hours=settings.WAITLIST_HOLD_HOURS)) < timedelta(seconds=5)
    offer_emails = [m for m in mail.outbox if m.subject.startswith("An earlier appointment")]
    assert sorted(m.to[0] for m in offer_emails) == [
        "ames@example.org",
        "baker@example.org",
        "cole@example.org",
    ]
    assert "It is not booked until you accept it" in offer_emails[0].body
    assert not Appointment.objects.filter(start=start, status=AppointmentStatus.BOOKED).exists()


def test_the_held_time_is_not_offered_to_anyone_else(freed, calendar, staff):
    start, _ = freed
    day = start.astimezone(availability.clinic_tz()).date()
    slots = availability.slots_search(
        availability.SlotQuery(service=calendar.service, date_from=day, date_to=day)
    )
    assert start not in [slot.start for slot in slots]
    outsider = factories.patient()
    with pytest.raises(services.BookingRefused) as refusal:
        _book(calendar, staff[Role.RECEPTION], start, patient=outsider)
    assert refusal.value.conflict


def test_the_first_to_accept_books_and_the_others_lose_it(freed):
    start, waiting = freed
    tokens = [_token_from_email(m) for m in mail.outbox if "/offers/" in m.body]
    by_email = {m.to[0]: _token_from_email(m) for m in mail.outbox if "/offers/" in m.body}
    baker = next(u for u in waiting if u.email == "baker@example.org")
    appointment = waitlist.offer_accept(
        context=_context(baker), token=by_email["baker@example.org"]
    )
    assert appointment.start == start
    assert appointment.patient.user == baker
    assert WaitlistEntry.objects.get(patient__user=baker).status == WaitlistStatus.BOOKED
    statuses = sorted(WaitlistOffer.objects.values_list("status", flat=True))
    assert statuses == ["accepted", "taken", "taken"]
    ames = next(u for u in waiting if u.email == "ames@example.org")
    with pytest.raises(waitlist.WaitlistProblem) as problem:
        waitlist.offer_accept(context=_context(ames), token=by_email["ames@example.org"])
    assert "Someone else accepted this time first" in problem.value.message
    assert len(tokens) == 3


def test_an_expired_hold_cannot_be_accepted_and_goes_to_the_next_in_line(
    freed, django_capture_on_commit_callbacks
):
    start, waiting = freed
    token = _token_from_email(next(m for m in mail.outbox if m.to == ["ames@example.org"]))
    WaitlistOffer.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(waitlist.WaitlistProblem) as problem:
        waitlist.offer_accept(context=_context(waiting[0]), token=token)
    assert "expired" in problem.value.message
    assert not Appointment.objects.filter(start=start, status=AppointmentStatus.BOOKED).exists()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist.expire_offers() == 3
    fresh = WaitlistOffer.objects.filter(status=OfferStatus.OPEN)
    assert [o.entry.patient.family_name for o in fresh] == ["Dunn"]
    assert [m.to for m in mail.outbox] == [["dunn@example.org"]]


def test_a_hold_can_be_extended_once(freed, settings):
    _, waiting = freed
    token = _token_from_email(next(m for m in mail.outbox if m.to == ["ames@example.org"]))
    offer = waitlist.offer_by_token(token)
    extended = waitlist.offer_extend(context=_context(waiting[0]), token=token)
    assert extended.expires_at - offer.expires_at == timedelta(
        hours=settings.WAITLIST_HOLD_EXTENSION_HOURS
    )
    with pytest.raises(waitlist.WaitlistProblem, match="already been extended"):
        waitlist.offer_extend(context=_context(waiting[0]), token=token)


def test_the_hold_never_outlasts_the_appointment(calendar, patient_user, settings):
    settings.WAITLIST_HOLD_HOURS = 24 * 400
    user = _waiting_patient(calendar)
    start = calendar.at(next_weekday(3), 9)
    assert (
        waitlist.offer_freed_time(
            practitioner_id=calendar.practitioner.pk,
            site_id=calendar.site.pk,
            service_id=calendar.service.pk,
            start=start,
        )
        == 1
    )
    assert WaitlistOffer.objects.get(entry__patient__user=user).expires_at == start


def test_declining_passes_the_time_on(freed, django_capture_on_commit_callbacks):
    _, waiting = freed
    for user in waiting[:3]:
        token = _token_from_email(next(m for m in mail.outbox if m.to == [user.email]))
        with django_capture_on_commit_callbacks(execute=True):
            waitlist.offer_decline(context=_context(user), token=token)
    assert WaitlistOffer.objects.get(status=OfferStatus.OPEN).entry.patient.family_name == "Dunn"
    assert WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING).count() == 4


def test_offering_the_same_time_twice_offers_nothing_more(freed, calendar):
    start, _ = freed
    again = waitlist.offer_freed_time(
        practitioner_id=calendar.practitioner.pk,
        site_id=calendar.site.pk,
        service_id=calendar.service.pk,
        start=start,
    )
    assert again == 0
    assert WaitlistOffer.objects.count() == 3


@pytest.mark.parametrize(
    ("window", "offered"),
    [
        ({}, True),
        ({"earliest_time": time(11), "latest_time": time(12)}, False),
        ({"earliest_time": time(9, 30), "latest_time": time(10, 30)}, True),
        ({"earliest_time": time(9, 30), "latest_time": time(10, 29)}, False),
    ],
)
def test_only_times_inside_the_patients_window_are_offered(calendar, window, offered):
    _waiting_patient(calendar, **window)
    count = waitlist.offer_freed_time(
        practitioner_id=calendar.practitioner.pk,
        site_id=calendar.site.pk,
        service_id=calendar.service.pk,
        start=calendar.at(next_weekday(2), 10),
    )
    assert count == int(offered)


def test_other_sites_dates_and_patients_no_longer_under_care_are_not_offered(calendar):
    other_site = factories.site(slug="elsewhere")
    other_site.services.add(calendar.service)
    day = next_weekday(2)
    _waiting_patient(calendar, name="Site", sites=(other_site,))
    _waiting_patient(calendar, name="Later", earliest_date=day + timedelta(days=1))
    gone = _waiting_patient(calendar, name="Gone")
    gone.patient_record.discharged_on = local_today()
    gone.patient_record.save()
    count = waitlist.offer_freed_time(
        practitioner_id=calendar.practitioner.pk,
        site_id=calendar.site.pk,
        service_id=calendar.service.pk,
        start=calendar.at(day, 10),
    )
    assert count == 0


def test_a_past_or_booked_time_is_not_offered(calendar, patient_user):
    _waiting_patient(calendar)
    start = calendar.at(next_weekday(2), 10)
    _book(calendar, patient_user, start)
    args = {
        "practitioner_id": calendar.practitioner.pk,
        "site_id": calendar.site.pk,
        "service_id": calendar.service.pk,
    }
    assert waitlist.offer_freed_time(**args, start=start) == 0
    assert waitlist.offer_freed_time(**args, start=timezone.now() - timedelta(hours=1)) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"earliest_date": "yesterday"}, "The first date must be today or later."),
        ({"latest_date": "before"}, "The last date must be on or after the first date."),
        ({"latest_date": "far"}, "Choose an earlier last date."),
        (
            {"earliest_time": time(12), "latest_time": time(9)},
            "The latest time of day must be after the earliest.",
        ),
    ],
)
def test_joining_with_impossible_dates_is_refused(calendar, patient_user, change, message):
    today = local_today()
    dates = {
        "yesterday": today - timedelta(days=1),
        "before": today - timedelta(days=1),
        "far": today + timedelta(days=3650),
    }
    values = {
        "patient": calendar.patient,
        "service": calendar.service,
        "sites": (),
        "earliest_date": today,
        "latest_date": today + timedelta(days=7),
    } | {key: dates.get(value, value) for key, value in change.items()}
    with pytest.raises(waitlist.WaitlistProblem, match=message):
        waitlist.waitlist_join(
            context=_context(patient_user), request=waitlist.WaitlistRequest(**values)
        )
    assert not WaitlistEntry.objects.exists()


def test_one_waiting_entry_per_service(calendar, patient_user):
    request = waitlist.WaitlistRequest(
        patient=calendar.patient,
        service=calendar.service,
        sites=(),
        earliest_date=local_today(),
        latest_date=local_today() + timedelta(days=7),
    )
    waitlist.waitlist_join(context=_context(patient_user), request=request)
    with pytest.raises(waitlist.WaitlistProblem, match="already on the waiting list"):
        waitlist.waitlist_join(context=_context(patient_user), request=request)
    assert WaitlistEntry.objects.count() == 1


def test_a_patient_cannot_join_or_answer_for_someone_else(freed, calendar, other_patient):
    intruder = other_patient.user
    request = waitlist.WaitlistRequest(
        patient=calendar.patient,
        service=calendar.service,
        sites=(),
        earliest_date=local_today(),
        latest_date=local_today(),
    )
    with pytest.raises(AccessRefused) as refused:
        waitlist.waitlist_join(context=_context(intruder), request=request)
    assert not refused.value.reveal
    token = _token_from_email(next(m for m in mail.outbox if m.to == ["ames@example.org"]))
    with pytest.raises(AccessRefused):
        waitlist.offer_accept(context=_context(intruder), token=token)
    assert WaitlistOffer.objects.filter(status=OfferStatus.OPEN).count() == 3
    assert AuditEntry.objects.filter(outcome="refused", object_type="waitlist_offer").exists()


def test_an_admin_cannot_see_the_waiting_list(staff, client):
    sign_in(client, staff[Role.ADMIN])
    assert client.get("/appointments/waitlist/").status_code == 403


def test_reception_sees_everyone_waiting_and_each_is_audited(freed, staff, client):
    sign_in(client, staff[Role.RECEPTION])
    page = client.get("/appointments/waitlist/")
    assert page.status_code == 200
    for name in ("Ames", "Baker", "Cole", "Dunn"):
        assert name.encode() in page.content
    assert AuditEntry.objects.filter(object_type="waitlist_entry", action="read").count() == 4


@pytest.mark.parametrize(
    "token", ["nope", "x" * 10_000, "..%2F..%2Fetc%2Fpasswd", "%E2%80%AEabc", "' OR 1=1 --"]
)
def test_unknown_and_malformed_offer_links_are_404(client, patient_user, token):
    sign_in(client, patient_user, second_factor=False)
    assert client.get(f"/appointments/offers/{token}/").status_code == 404
    assert client.post(f"/appointments/offers/{token}/", {"answer": "accept"}).status_code == 404
    assert not Appointment.objects.exists()


def test_the_offer_page_needs_sign_in(client):
    answer = client.get("/appointments/offers/abc/")
    assert answer.status_code == 302
    assert "/accounts/sign-in/" in answer["Location"]


def test_the_offer_page_accepts(freed, client):
    _, waiting = freed
    token = _token_from_email(next(m for m in mail.outbox if m.to == ["cole@example.org"]))
    sign_in(client, waiting[2], second_factor=False)
    page = client.get(f"/appointments/offers/{token}/")
    assert b"Accept this appointment" in page.content
    assert client.post(f"/appointments/offers/{token}/", {"answer": "bogus"}).status_code == 400
    answer = client.post(f"/appointments/offers/{token}/", {"answer": "accept"}, follow=True)
    assert b"Booked. We have emailed you the details." in answer.content
    assert Appointment.objects.filter(patient__user=waiting[2], status="booked").exists()
    again = client.post(f"/appointments/offers/{token}/", {"answer": "accept"})
    assert again.status_code == 409
    assert b"You have already accepted this offer." in again.content
    # The audit trail never holds a working link.
    paths = set(
        AuditEntry.objects.filter(object_type="waitlist_offer").values_list("path", flat=True)
    )
    assert paths <= {"", "/appointments/offers/[token]/"}
    assert not AuditEntry.objects.filter(path__contains=token).exists()


def test_the_join_form_rejects_bad_input(client, patient_user, calendar):
    sign_in(client, patient_user, second_factor=False)
    bad = {
        "service": "toxin",
        "earliest_date": "31/02/2027",
        "latest_date": "not a date",
        "earliest_time": "25:00",
        "note": "x" * 500,
    }
    answer = client.post("/appointments/waitlist/join/", bad)
    assert answer.status_code == 400
    assert b"Enter a valid date." in answer.content
    assert b"Enter a valid time." in answer.content
    assert not WaitlistEntry.objects.exists()
    good = {
        "service": "toxin",
        "earliest_date": local_today().isoformat(),
        "latest_date": (local_today() + timedelta(days=30)).isoformat(),
        "note": "<script>alert(1)</script>",
    }
    answer = client.post("/appointments/waitlist/join/", good, follow=True)
    assert b"You are on the waiting list." in answer.content
    entry = WaitlistEntry.objects.get()
    assert entry.note == "<script>alert(1)</script>"
    listing = client.get("/appointments/waitlist/")
    assert b"Leave the list" in listing.content
    client.post(f"/appointments/waitlist/{entry.pk}/withdraw/")
    assert WaitlistEntry.objects.get().status == WaitlistStatus.WITHDRAWN


def test_a_patient_cannot_withdraw_someone_elses_entry(calendar, client, other_patient):
    user = _waiting_patient(calendar)
    entry = WaitlistEntry.objects.get(patient__user=user)
    sign_in(client, other_patient.user, second_factor=False)
    assert client.post(f"/appointments/waitlist/{entry.pk}/withdraw/").status_code == 404
    assert WaitlistEntry.objects.get().status == WaitlistStatus.WAITING


def test_an_offer_email_is_a_recorded_message(freed):
    offer = WaitlistOffer.objects.first()
    message = offer.messages.get()
    assert message.kind == MessageKind.WAITLIST_OFFER
    assert message.status == "sent"
    # The patient's email held the link; the record of it does not.
    sent = next(m for m in mail.outbox if m.to == [message.to_email])
    assert _token_from_email(sent) not in message.body
    assert "/appointments/offers/[private link, not kept]/" in message.body


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    earliest=st.integers(min_value=0, max_value=11 * 4),
    length=st.integers(min_value=1, max_value=12 * 4),
    slot=st.integers(min_value=0, max_value=5),
)
def test_a_time_is_offered_only_inside_the_window(calendar, earliest, length, slot):
    """For any time-of-day window (quarter hours from 09:00) and any slot in the session,
    the offer happens exactly when the 30-minute appointment fits inside the window."""
    WaitlistOffer.objects.all().delete()
    WaitlistEntry.objects.all().delete()
    start_minutes = 9 * 60 + earliest * 15
    end_minutes = min(start_minutes + length * 15, 23 * 60 + 45)
    window = {
        "earliest_time": time(start_minutes // 60, start_minutes % 60),
        "latest_time": time(end_minutes // 60, end_minutes % 60),
    }
    if window["latest_time"] <= window["earliest_time"]:
        return
    _waiting_patient(calendar, name=f"P{earliest}x{length}x{slot}", **window)
    begins = 9 * 60 + slot * 30
    count = waitlist.offer_freed_time(
        practitioner_id=calendar.practitioner.pk,
        site_id=calendar.site.pk,
        service_id=calendar.service.pk,
        start=calendar.at(next_weekday(4), begins // 60, begins % 60),
    )
    fits = start_minutes <= begins and begins + 30 <= end_minutes
    assert count == int(fits)


def _offer_time(calendar, start):
    return waitlist.offer_freed_time(
        practitioner_id=calendar.practitioner.pk,
        site_id=calendar.site.pk,
        service_id=calendar.service.pk,
        start=start,
    )


def test_a_hold_keeps_the_buffer_and_the_room(calendar, staff):
    """Nobody can take the held time's buffer or its room (the only injection room here)."""
    _waiting_patient(calendar)
    start = calendar.at(next_weekday(3), 10)
    assert _offer_time(calendar, start) == 1
    offer = WaitlistOffer.objects.get()
    assert offer.resource == calendar.resource
    assert offer.end == start + timedelta(minutes=40)  # 30 minutes and the 10-minute buffer
    outsider = factories.patient()
    with pytest.raises(services.BookingRefused):
        _book(calendar, staff[Role.RECEPTION], start + timedelta(minutes=30), patient=outsider)
    colleague = factories.practitioner(
        slug="dr-colleague", sites=[calendar.site], services=[calendar.service]
    )
    for pattern in calendar.practitioner.working_patterns.all():
        pattern.pk, pattern.practitioner = None, colleague
        pattern.save()
    with pytest.raises(services.BookingRefused):
        services.appointment_book(
            context=_context(staff[Role.RECEPTION]),
            request=services.BookingRequest(
                patient=outsider,
                service=calendar.service,
                practitioner=colleague,
                site=calendar.site,
                start=start,
            ),
        )
    day = start.astimezone(availability.clinic_tz()).date()
    offered = availability.slots_search(
        availability.SlotQuery(service=calendar.service, date_from=day, date_to=day)
    )
    assert start not in [slot.start for slot in offered]


def test_a_busy_calendar_leaves_the_offer_open(freed, monkeypatch):
    _, waiting = freed
    token = _token_from_email(next(m for m in mail.outbox if m.to == ["ames@example.org"]))

    def busy(**_):
        raise services.BookingBusy

    monkeypatch.setattr(waitlist, "appointment_book", busy)
    with pytest.raises(waitlist.WaitlistProblem, match="try again"):
        waitlist.offer_accept(context=_context(waiting[0]), token=token)
    assert waitlist.offer_by_token(token).status == OfferStatus.OPEN


def test_withdrawing_passes_the_offered_time_on(freed, django_capture_on_commit_callbacks):
    _, waiting = freed
    entry = WaitlistEntry.objects.get(patient__user=waiting[0])
    with django_capture_on_commit_callbacks(execute=True):
        waitlist.waitlist_withdraw(context=_context(waiting[0]), entry_id=entry.pk)
    open_offers = WaitlistOffer.objects.filter(status=OfferStatus.OPEN)
    assert sorted(o.entry.patient.family_name for o in open_offers) == ["Baker", "Cole", "Dunn"]


def test_accepting_moves_the_patients_later_appointment(
    calendar, patient_user, django_capture_on_commit_callbacks
):
    later = _book(calendar, patient_user, calendar.at(next_weekday(4, weeks_ahead=3), 9))
    waitlist.waitlist_join(
        context=_context(patient_user),
        request=waitlist.WaitlistRequest(
            patient=calendar.patient,
            service=calendar.service,
            sites=(),
            earliest_date=local_today(),
            latest_date=local_today() + timedelta(days=60),
        ),
    )
    earlier = calendar.at(next_weekday(2), 10)
    with django_capture_on_commit_callbacks(execute=True):
        assert _offer_time(calendar, earlier) == 1
    token = _token_from_email(next(m for m in mail.outbox if "/offers/" in m.body))
    moved = waitlist.offer_accept(context=_context(patient_user), token=token)
    assert moved.pk == later.pk
    assert moved.start == earlier
    assert Appointment.objects.filter(patient=calendar.patient, status="booked").count() == 1


def test_a_patient_cannot_wait_for_a_service_the_unit_books(calendar, patient_user):
    calendar.service.schedule.bookable_online = False
    calendar.service.schedule.save()
    with pytest.raises(waitlist.WaitlistProblem, match="booked by the unit"):
        waitlist.waitlist_join(
            context=_context(patient_user),
            request=waitlist.WaitlistRequest(
                patient=calendar.patient,
                service=calendar.service,
                sites=(),
                earliest_date=local_today(),
                latest_date=local_today() + timedelta(days=7),
            ),
        )
    assert not WaitlistEntry.objects.exists()
