"""Private calendar feeds: creating and revoking them (services and the page), and fetching
one by its secret address, with every fetch and refusal audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records import access
from clinic.records.access import AccessRefused
from clinic.scheduling import calendar_feeds
from clinic.scheduling.calendar_feeds import feed_by_token, feed_create, feed_revoke
from clinic.scheduling.models import Appointment, AppointmentStatus, CalendarFeed
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician(calendar):
    """The clinician who is the calendar's practitioner."""
    return factories.user(role=Role.CLINICIAN, practitioner=calendar.practitioner)


def _context(user, *, verified=True):
    user.is_verified = lambda: verified
    return AuditContext(actor=user)


def _appointment(calendar, start, **fields):
    values = {
        "patient": calendar.patient,
        "practitioner": calendar.practitioner,
        "site": calendar.site,
        "service": calendar.service,
        "start": start,
        "end": start + timedelta(minutes=30),
        "blocked_until": start + timedelta(minutes=40),
        "booked_by": calendar.patient.user,
    } | fields
    return Appointment.objects.create(**values)


def _soon(days, hour=9):
    start = timezone.now() + timedelta(days=days)
    return start.replace(hour=hour, minute=0, second=0, microsecond=0)


def _url(token):
    return f"/appointments/feeds/{token}.ics"


def _refusals(object_type="calendar_feed"):
    return AuditEntry.objects.filter(object_type=object_type, outcome="refused")


# --- Creating and revoking (services) ---


def test_a_clinician_creates_a_feed_of_their_own_appointments(calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)

    feed = CalendarFeed.objects.get()
    assert len(token) == 43
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in feed.token_hash
    assert feed.created_by == clinician
    assert feed_by_token(token) == feed
    entry = AuditEntry.objects.get(object_type="calendar_feed", action="create")
    assert entry.object_id == str(feed.pk)
    assert entry.outcome == "allowed"


def test_creating_another_feed_keeps_the_first(calendar, clinician):
    first = feed_create(context=_context(clinician), practitioner=calendar.practitioner)
    second = feed_create(context=_context(clinician), practitioner=calendar.practitioner)

    assert first != second
    assert feed_by_token(first) is not None
    assert feed_by_token(second) is not None


@pytest.mark.parametrize(
    "who", ["other clinician", "reception", "patient", "admin", "unverified clinician"]
)
def test_only_the_practitioner_themselves_creates_their_feed(calendar, clinician, who):
    users = {
        "other clinician": lambda: factories.user(
            role=Role.CLINICIAN, practitioner=factories.practitioner()
        ),
        "reception": lambda: factories.user(role=Role.RECEPTION),
        "patient": lambda: calendar.patient.user,
        "admin": lambda: factories.user(role=Role.ADMIN),
        "unverified clinician": lambda: clinician,
    }
    context = _context(users[who](), verified=who != "unverified clinician")

    with pytest.raises(AccessRefused):
        feed_create(context=context, practitioner=calendar.practitioner)

    assert not CalendarFeed.objects.exists()
    assert _refusals().filter(action="create").count() == 1


def test_another_clinician_cannot_revoke_a_feed(calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)
    feed = CalendarFeed.objects.get()
    other = factories.user(role=Role.CLINICIAN, practitioner=factories.practitioner())

    with pytest.raises(AccessRefused) as refused:
        feed_revoke(context=_context(other), feed_id=feed.pk)

    assert refused.value.reveal is True
    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert feed_by_token(token) == feed
    assert _refusals().get(action="update").object_id == str(feed.pk)


def test_an_admin_may_revoke_a_feed_and_revoking_twice_changes_nothing(calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)
    feed = CalendarFeed.objects.get()

    revoked = feed_revoke(context=_context(factories.user(role=Role.ADMIN)), feed_id=feed.pk)
    again = feed_revoke(context=_context(clinician), feed_id=feed.pk)

    assert revoked.revoked_at is not None
    assert again.revoked_at == revoked.revoked_at
    assert feed_by_token(token) is None
    assert AuditEntry.objects.filter(action="update", outcome="allowed").count() == 1


def test_revoking_a_feed_that_is_not_there_is_refused_as_not_found(clinician):
    with pytest.raises(AccessRefused) as refused:
        feed_revoke(context=_context(clinician), feed_id=999)

    assert refused.value.reveal is False
    assert _refusals().get().object_id == "999"


def test_a_feed_stops_when_its_practitioner_leaves(calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)

    clinician.is_active = False
    clinician.save()

    assert feed_by_token(token) is None


# --- Fetching a feed ---


def test_a_feed_shows_the_practitioners_appointments_and_nothing_else(client, calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)
    mine = _appointment(calendar, _soon(3))
    _appointment(calendar, _soon(4), status=AppointmentStatus.CANCELLED)
    other_practitioner = factories.practitioner(sites=[calendar.site])
    _appointment(calendar, _soon(5), practitioner=other_practitioner)
    _appointment(calendar, _soon(400))  # beyond the year ahead
    _appointment(calendar, _soon(-40))  # more than a month ago

    response = client.get(_url(token))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    parsed = Calendar.from_ical(response.content)
    (event,) = parsed.events
    assert event["UID"].startswith(f"appointment-{mine.pk}@")
    assert calendar.patient.hospital_number in event["SUMMARY"]
    patient = calendar.patient
    for private in (patient.family_name, patient.user.email, f"{patient.date_of_birth:%Y%m%d}"):
        assert private.encode() not in response.content


def test_every_fetch_is_audited_without_the_token(client, calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)
    _appointment(calendar, _soon(3))
    _appointment(calendar, _soon(4))

    client.get(_url(token))
    client.get(_url(token))

    reads = AuditEntry.objects.filter(object_type="calendar_feed", action="read")
    assert reads.count() == 2
    entry = reads.first()
    assert entry.outcome == "allowed"
    assert entry.object_id == str(CalendarFeed.objects.get().pk)
    assert entry.detail == "feed fetched: 2 appointments"
    assert entry.actor is None
    for any_entry in AuditEntry.objects.all():
        assert token not in any_entry.path
        assert token not in any_entry.detail


def test_a_revoked_feed_answers_404_and_is_audited(client, calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)
    feed = CalendarFeed.objects.get()
    feed_revoke(context=_context(clinician), feed_id=feed.pk)

    response = client.get(_url(token))

    assert response.status_code == 404
    refusal = _refusals().get(action="read")
    assert refusal.object_id == str(feed.pk)
    assert refusal.patient is None


@pytest.mark.parametrize(
    "token",
    [
        "a" * 43,  # the right shape, but no such feed
        "x" * 10_000,
        "é" * 43,
        "%C3%A9" * 43,
        "../../../etc/passwd",
        "..%2F..%2Fsettings",
        "%00" * 43,
        "a" * 42 + "%0A",
        " ",
    ],
)
def test_unknown_and_malformed_tokens_answer_404_and_are_audited(client, calendar, token):
    response = client.get(_url(token))

    assert response.status_code == 404
    refusal = _refusals().get()
    assert refusal.action == "read"
    assert refusal.patient is None
    assert refusal.detail == "unknown or malformed token"


def test_a_feed_is_read_only(client, calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)

    assert client.post(_url(token)).status_code == 405
    assert client.head(_url(token)).status_code == 200


def _fetch_queries(client, token):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(token))
    assert response.status_code == 200
    return len(queries)


def test_a_fetch_makes_the_same_queries_for_3_or_30_appointments(client, calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)
    for day in range(1, 4):
        _appointment(calendar, _soon(day), patient=factories.patient())
    few = _fetch_queries(client, token)

    for day in range(4, 31):
        _appointment(calendar, _soon(day), patient=factories.patient())
    many = _fetch_queries(client, token)

    assert few == many == 3  # the feed, its appointments, the audit entry
    assert len(Calendar.from_ical(client.get(_url(token)).content).events) == 30


# --- The feeds page ---


def test_a_clinician_creates_a_feed_on_the_page_and_sees_its_address_once(
    client, calendar, clinician
):
    sign_in(client, clinician)

    empty = client.get("/appointments/feeds/")
    created = client.post("/appointments/feeds/")
    later = client.get("/appointments/feeds/")

    assert empty.status_code == 200
    assert "You have no feeds yet" in empty.content.decode()
    assert created.status_code == 200
    url = created.context["new_url"]
    assert url.startswith("http://testserver/appointments/feeds/")
    assert url in created.content.decode()
    assert "Anyone who has this address" in created.content.decode()
    assert url not in later.content.decode()
    assert "Active" in later.content.decode()
    assert client.get(url.removeprefix("http://testserver")).status_code == 200


def test_a_clinician_revokes_their_feed_on_the_page(client, calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)
    feed = CalendarFeed.objects.get()
    sign_in(client, clinician)

    response = client.post(f"/appointments/feeds/{feed.pk}/revoke/", follow=True)

    assert response.redirect_chain[-1][0] == "/appointments/feeds/"
    page = response.content.decode()
    assert "The feed is revoked" in page
    assert "Revoked on" in page
    assert client.get(_url(token)).status_code == 404


def test_another_clinician_cannot_revoke_on_the_page(client, calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)
    feed = CalendarFeed.objects.get()
    other = factories.user(role=Role.CLINICIAN, practitioner=factories.practitioner())
    sign_in(client, other)

    assert client.post(f"/appointments/feeds/{feed.pk}/revoke/").status_code == 403
    assert client.get(f"/appointments/feeds/{feed.pk}/revoke/").status_code == 405

    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert feed_by_token(token) is not None
    assert _refusals().filter(action="update").count() == 1


@pytest.mark.parametrize(("role", "status"), [(Role.PATIENT, 404), (Role.RECEPTION, 403)])
def test_the_feeds_page_refuses_patients_and_reception(client, calendar, role, status):
    user = calendar.patient.user if role == Role.PATIENT else factories.user(role=role)
    sign_in(client, user, second_factor=role != Role.PATIENT)

    assert client.get("/appointments/feeds/").status_code == status
    assert client.post("/appointments/feeds/").status_code == status

    assert not CalendarFeed.objects.exists()
    assert _refusals().count() == 2


def test_the_feeds_page_needs_a_sign_in(client):
    response = client.get("/appointments/feeds/")

    assert response.status_code == 302
    assert "/accounts/sign-in/" in response["Location"]


def test_a_clinician_without_a_directory_entry_is_told_so(client):
    sign_in(client, factories.user(role=Role.CLINICIAN))

    page = client.get("/appointments/feeds/")
    posted = client.post("/appointments/feeds/")

    assert "not linked to an entry in the directory" in page.content.decode()
    assert "Create a new feed" not in page.content.decode()
    assert posted.status_code == 400
    assert not CalendarFeed.objects.exists()


def test_the_feeds_page_is_in_a_clinicians_navigation(client, clinician):
    sign_in(client, clinician)

    assert 'href="/appointments/feeds/"' in client.get("/appointments/feeds/").content.decode()


def test_the_feed_window_and_cap_are_stated_in_the_selector(calendar):
    # The selector's window, checked at its edges.
    now = timezone.now()
    inside = _appointment(calendar, now - calendar_feeds.FEED_PAST + timedelta(minutes=1))
    _appointment(calendar, now + calendar_feeds.FEED_AHEAD + timedelta(minutes=1))

    assert calendar_feeds.feed_appointments(practitioner=calendar.practitioner, now=now) == [inside]


def test_a_feed_stops_when_its_directory_entry_is_withdrawn(calendar, clinician):
    token = feed_create(context=_context(clinician), practitioner=calendar.practitioner)

    calendar.practitioner.is_active = False
    calendar.practitioner.save()

    assert feed_by_token(token) is None


@pytest.mark.parametrize("who", ["nobody", "anonymous", "inactive"])
def test_no_one_signed_out_or_inactive_may_create_or_revoke(calendar, clinician, who):
    clinician.is_active = False
    user = {"nobody": None, "anonymous": AnonymousUser(), "inactive": clinician}[who]
    practitioner_id = calendar.practitioner.pk

    for create in (True, False):
        allowed = access.access_calendar_feed(user, practitioner_id=practitioner_id, create=create)
        assert allowed is False
