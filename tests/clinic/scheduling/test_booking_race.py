"""No double booking under real concurrency (PostgreSQL): many HTTP requests for one slot at
once, with a pause after the availability check to widen the race; exactly one succeeds. The
control test takes the locks and the exclusion constraints away and shows the race is real,
so the first test means something."""

from __future__ import annotations

import http.client
import json
import threading
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import IntegrityError, connection, transaction

from clinic.accounts.models import Role
from clinic.scheduling import services
from clinic.scheduling.models import Appointment
from tests import factories
from tests.clinic.scheduling.conftest import next_weekday

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the race tests need PostgreSQL"),
]

CLIENTS = 12
CSRF = "a" * 32
MIGRATION = __import__(
    "clinic.scheduling.migrations.0002_no_double_booking_constraints",
    fromlist=["add_constraints_sql"],
)


def _session_for(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def _fire(url: str, body: dict, sessions: list[str]) -> list[int]:
    """Send one booking per session at the same moment; return the status codes."""
    parts = urlsplit(url)
    barrier = threading.Barrier(len(sessions))
    statuses: list[int] = []
    lock = threading.Lock()

    def book(session_key: str) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        session_cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
        cookies = f"{session_cookie}; {settings.CSRF_COOKIE_NAME}={CSRF}"
        headers = {"Content-Type": "application/json", "Cookie": cookies, "X-CSRFToken": CSRF}
        barrier.wait()
        conn.request("POST", "/api/v1/appointments", json.dumps(body), headers)
        status = conn.getresponse().status
        conn.close()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=book, args=(key,)) for key in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.fixture
def race(calendar, live_server, transactional_db, monkeypatch):
    """Patients with their own sessions, all wanting the same slot; a pause after the check."""
    monkeypatch.setattr(services, "_pause_after_check_seconds", 0.3)
    sessions = []
    for _ in range(CLIENTS):
        user = factories.user(role=Role.PATIENT)
        factories.patient(user=user)
        sessions.append(_session_for(user))
    start = calendar.at(next_weekday(2), 10)
    body = {
        "service": "toxin",
        "site": "test-site",
        "practitioner": "dr-test",
        "start": start.isoformat(),
    }
    return live_server.url, body, sessions


def test_many_concurrent_bookings_of_one_slot_give_exactly_one(race):
    url, body, sessions = race

    statuses = _fire(url, body, sessions)

    assert statuses.count(201) == 1
    assert all(status == 409 for status in statuses if status != 201)
    assert Appointment.objects.filter(status="booked").count() == 1


def test_control_without_locks_or_constraints_the_race_is_real(race, monkeypatch):
    url, body, sessions = race
    monkeypatch.setattr(services, "_locks_enabled", False)
    with connection.cursor() as cursor:
        for statement in MIGRATION.drop_constraints_sql():
            cursor.execute(statement)
    try:
        statuses = _fire(url, body, sessions)
        double = Appointment.objects.filter(status="booked").count()
    finally:
        Appointment.objects.all().delete()
        with connection.cursor() as cursor:
            for statement in MIGRATION.add_constraints_sql():
                cursor.execute(statement)

    assert statuses.count(201) > 1
    assert double > 1


def test_the_exclusion_constraint_alone_refuses_an_overlap(calendar, transactional_db):
    start = calendar.at(next_weekday(3), 10)
    booked_by = factories.user(role=Role.RECEPTION)
    values = {
        "practitioner": calendar.practitioner,
        "site": calendar.site,
        "service": calendar.service,
        "start": start,
        "end": start.replace(minute=30),
        "blocked_until": start.replace(minute=40),
        "booked_by": booked_by,
    }
    Appointment.objects.create(patient=factories.patient(), **values)

    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(patient=factories.patient(), **values)


def _other_connection():
    """A second database session, as another booking in another process would have."""
    import psycopg  # noqa: PLC0415 - only the PostgreSQL tests need it

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    )


def test_a_lock_wait_that_runs_out_is_409_with_retry_after_and_the_retry_books(
    calendar, live_server, transactional_db, settings
):
    settings.BOOKING_LOCK_TIMEOUT_MS = 200
    user = factories.user(role=Role.PATIENT)
    factories.patient(user=user)
    session = _session_for(user)
    body = {
        "service": "toxin",
        "site": "test-site",
        "practitioner": "dr-test",
        "start": calendar.at(next_weekday(2), 10).isoformat(),
    }
    parts = urlsplit(live_server.url)
    cookies = f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={CSRF}"
    headers = {
        "Content-Type": "application/json",
        "Cookie": cookies,
        "X-CSRFToken": CSRF,
        "Idempotency-Key": "held-1",
    }

    def post() -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("POST", "/api/v1/appointments", json.dumps(body), headers)
        response = conn.getresponse()
        response.body = response.read()
        conn.close()
        return response

    # Another booking holds the practitioner's row lock for longer than the timeout.
    holder = _other_connection()
    try:
        holder.execute(
            "SELECT id FROM directory_practitioner WHERE id = %s FOR UPDATE",
            [calendar.practitioner.pk],
        )
        busy = post()
    finally:
        holder.rollback()
        holder.close()
    retried = post()

    assert busy.status == 409
    assert busy.getheader("Retry-After") == "1"
    assert json.loads(busy.body)["detail"] == services.BUSY
    # The busy answer was not stored against the key: the retry books.
    assert retried.status == 201
    assert Appointment.objects.filter(status="booked").count() == 1
