"""The booking API: slots, booking with Idempotency-Key, conflicts, rescheduling, cancelling."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import Appointment, IdempotentRequest
from tests import factories
from tests.clinic.scheduling.conftest import next_weekday
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _post(client, path, body, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def _when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _body(calendar, start, **changes):
    return {
        "service": "toxin",
        "site": "test-site",
        "practitioner": "dr-test",
        "start": start.isoformat(),
    } | changes


def test_slot_search_lists_free_times(client, calendar, patient_user):
    sign_in(client, patient_user, second_factor=False)
    day = next_weekday(0)

    slots = client.get(
        "/api/v1/slots", {"service": "toxin", "date_from": day, "date_to": day}
    ).json()
    first = client.get("/api/v1/slots/first", {"service": "toxin"}).json()

    assert len(slots) == 11
    assert _when(slots[0]["start"]) == calendar.at(day, 9)
    assert _when(slots[0]["end"]) == calendar.at(day, 9, 30)
    assert (slots[0]["practitioner"], slots[0]["site"], slots[0]["service"]) == (
        "dr-test",
        "test-site",
        "toxin",
    )
    assert first["service"] == "toxin"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"service": "toxin", "date_from": "2000-01-01", "date_to": "2000-01-02"}, "date_from"),
        ({"service": "toxin", "date_from": "today", "date_to": "today"}, "date_from"),
        ({"service": "nope", "date_from": None, "date_to": None}, "service"),
        ({"service": "toxin", "date_from": None, "date_to": "year"}, "date_to"),
        ({"service": "toxin", "date_from": None, "date_to": "before"}, "date_to"),
        ({"service": "toxin", "date_from": "beyond", "date_to": "beyond"}, "date_from"),
        ({"service": "BAD SLUG", "date_from": None, "date_to": None}, "service"),
    ],
)
def test_bad_slot_searches_are_422_naming_the_parameter(
    client, calendar, patient_user, params, parameter
):
    sign_in(client, patient_user, second_factor=False)
    today = local_today()
    values = {
        "year": (today + timedelta(days=365)).isoformat(),
        "before": (today - timedelta(days=1)).isoformat(),
        "beyond": (today + timedelta(days=366)).isoformat(),
    }
    query = {
        k: (values.get(v, v) if v is not None else today.isoformat()) for k, v in params.items()
    }

    response = client.get("/api/v1/slots", query)

    assert response.status_code == 422
    assert parameter in [error["parameter"] for error in response.json()["errors"]]


def test_booking_answers_201_and_a_retry_with_the_same_key_returns_the_same(
    client, calendar, patient_user
):
    sign_in(client, patient_user, second_factor=False)
    body = _body(calendar, calendar.at(next_weekday(1), 9))

    first = _post(client, "/api/v1/appointments", body, **{"Idempotency-Key": "abc-123"})
    retry = _post(client, "/api/v1/appointments", body, **{"Idempotency-Key": "abc-123"})

    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert Appointment.objects.count() == 1


def test_a_key_reused_for_another_request_is_422(client, calendar, patient_user):
    sign_in(client, patient_user, second_factor=False)
    day = next_weekday(1)
    _post(
        client,
        "/api/v1/appointments",
        _body(calendar, calendar.at(day, 9)),
        **{"Idempotency-Key": "k1"},
    )

    response = _post(
        client,
        "/api/v1/appointments",
        _body(calendar, calendar.at(day, 10)),
        **{"Idempotency-Key": "k1"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "Idempotency-Key"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 101, "caf\u00e9", "tab\tkey"])
def test_a_malformed_key_is_400(client, calendar, patient_user, key):
    sign_in(client, patient_user, second_factor=False)

    response = _post(
        client,
        "/api/v1/appointments",
        _body(calendar, calendar.at(next_weekday(1), 9)),
        **{"Idempotency-Key": key},
    )

    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_a_taken_slot_is_409_with_a_clear_body(client, calendar, patient_user):
    sign_in(client, patient_user, second_factor=False)
    start = calendar.at(next_weekday(2), 9)
    Appointment.objects.create(
        patient=factories.patient(),
        practitioner=calendar.practitioner,
        site=calendar.site,
        service=calendar.service,
        resource=calendar.resource,
        start=start,
        end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40),
        booked_by=factories.user(role=Role.RECEPTION),
    )

    response = _post(client, "/api/v1/appointments", _body(calendar, start))

    assert response.status_code == 409
    assert response.json()["detail"] == "That time has just been taken. Please choose another."
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"start": "2000-01-01T09:00:00Z"},
        {"start": "tomorrow"},
        {"start": "2030-01-01T09:00:00"},
        {"start": 12},
        {"practitioner": "nobody"},
        {"site": "<script>"},
        {"overbook_reason": "x" * 201},
    ],
)
def test_bad_bookings_are_4xx_and_write_nothing(client, calendar, patient_user, changes):
    sign_in(client, patient_user, second_factor=False)

    response = _post(
        client, "/api/v1/appointments", _body(calendar, calendar.at(next_weekday(2), 9)) | changes
    )

    assert 400 <= response.status_code < 500
    assert not Appointment.objects.exists()
    assert not IdempotentRequest.objects.exists()


def test_a_patient_naming_another_patient_is_404(client, calendar, patient_user, other_patient):
    sign_in(client, patient_user, second_factor=False)

    response = _post(
        client,
        "/api/v1/appointments",
        _body(calendar, calendar.at(next_weekday(2), 9), patient_id=other_patient.pk),
    )

    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_a_keyed_request_for_another_patient_is_404_and_the_attempt_is_audited(
    client, calendar, patient_user, other_patient
):
    sign_in(client, patient_user, second_factor=False)
    body = _body(calendar, calendar.at(next_weekday(2), 9), patient_id=other_patient.pk)

    response = _post(client, "/api/v1/appointments", body, **{"Idempotency-Key": "try-1"})

    assert response.status_code == 404
    assert not Appointment.objects.exists()
    # The refusal is not stored for replay, and its audit entry survived the transaction.
    assert not IdempotentRequest.objects.exists()
    assert AuditEntry.objects.filter(
        actor=patient_user, object_type="appointment", outcome="refused"
    ).exists()


def test_a_keyed_request_with_a_bad_slug_is_422_and_can_be_corrected(
    client, calendar, patient_user
):
    sign_in(client, patient_user, second_factor=False)
    good = _body(calendar, calendar.at(next_weekday(2), 9))

    wrong = _post(
        client,
        "/api/v1/appointments",
        good | {"site": "no-such-site"},
        **{"Idempotency-Key": "fix-1"},
    )
    corrected = _post(client, "/api/v1/appointments", good, **{"Idempotency-Key": "fix-1"})

    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["parameter"] == "site"
    assert corrected.status_code == 201


def test_reception_books_for_a_patient_and_must_say_whom(client, calendar, staff):
    sign_in(client, staff[Role.RECEPTION])
    body = _body(calendar, calendar.at(next_weekday(3), 9))

    missing = _post(client, "/api/v1/appointments", body)
    booked = _post(client, "/api/v1/appointments", body | {"patient_id": calendar.patient.pk})

    assert missing.status_code == 422
    assert booked.status_code == 201


def test_reschedule_cancel_and_mine(client, calendar, patient_user):
    sign_in(client, patient_user, second_factor=False)
    day = next_weekday(4)
    booked = _post(client, "/api/v1/appointments", _body(calendar, calendar.at(day, 9))).json()

    moved = _post(
        client,
        f"/api/v1/appointments/{booked['id']}/reschedule",
        {"start": calendar.at(day, 11).isoformat()},
    )
    cancelled = _post(client, f"/api/v1/appointments/{booked['id']}/cancel", {"reason": "better"})
    again = _post(client, f"/api/v1/appointments/{booked['id']}/cancel", {"reason": "again"})
    mine = client.get("/api/v1/appointments/mine").json()

    assert moved.status_code == 200
    assert moved.json()["start"].startswith(
        calendar.at(day, 11).astimezone().date().isoformat()[:4]
    )
    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 422
    assert [a["status"] for a in mine] == ["cancelled"]


def test_another_patients_appointment_is_404_in_the_api(
    client, calendar, patient_user, other_patient, staff
):
    sign_in(client, staff[Role.RECEPTION])
    theirs = _post(
        client,
        "/api/v1/appointments",
        _body(calendar, calendar.at(next_weekday(5), 9), patient_id=other_patient.pk),
    ).json()
    sign_in(client, patient_user, second_factor=False)

    assert (
        _post(client, f"/api/v1/appointments/{theirs['id']}/cancel", {"reason": "x"}).status_code
        == 404
    )
    assert (
        _post(
            client,
            f"/api/v1/appointments/{theirs['id']}/reschedule",
            {"start": calendar.at(next_weekday(5), 10).isoformat()},
        ).status_code
        == 404
    )


def test_the_booking_api_needs_sign_in(client, calendar):
    assert client.get("/api/v1/slots", {"service": "toxin"}).status_code == 401
    assert (
        _post(
            client, "/api/v1/appointments", _body(calendar, calendar.at(next_weekday(5), 9))
        ).status_code
        == 401
    )
