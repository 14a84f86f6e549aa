"""Encounters over the JSON API: start (Idempotency-Key), list, read, save notes against the
updated_at seen, sign, addenda; clinicians only (reception 403 on a patient, 404 by encounter
id; patients 404), strict input answered 4xx in the one error shape with nothing written,
every call audited with channel API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import api_support, encounters
from clinic.records.models import Addendum, Encounter, EncounterKind
from tests import factories
from tests.clinic.records.test_encounters import appointment_for, context_of, today_at
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
NOTES = "Neck turning to the left for two years.\nPlan: toxin to right SCM."


@pytest.fixture
def ward(db, staff, patient_user):
    """A site, a clinician and a colleague, the patient and their appointment today."""
    site = factories.site(slug="api-site")
    service = factories.service(slug="follow-up-clinic")
    practitioner = factories.practitioner(sites=[site], services=[service])
    clinician = factories.user(role=Role.CLINICIAN, practitioner=practitioner, full_name="Dr Ann")
    patient = patient_user.patient_record
    appointment = appointment_for(
        patient=patient,
        practitioner=practitioner,
        site=site,
        service=service,
        start=today_at(0, 5),
        booked_by=staff[Role.RECEPTION],
    )
    return {
        "site": site,
        "clinician": clinician,
        "colleague": factories.user(role=Role.CLINICIAN, full_name="Dr Bea"),
        "patient": patient,
        "appointment": appointment,
    }


def _url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/encounters"


def _walk_in(ward, **changes) -> dict:
    return {"kind": "follow_up", "site_id": ward["site"].pk} | changes


def _draft(ward, notes: str = NOTES) -> Encounter:
    encounter, _ = encounters.encounter_start(
        context=context_of(ward["clinician"]),
        patient=ward["patient"],
        kind=EncounterKind.FOLLOW_UP,
        site=ward["site"],
        notes=notes,
    )
    return encounter


def _signed(ward) -> Encounter:
    encounter = _draft(ward)
    return encounters.encounter_sign(
        context=context_of(ward["clinician"]), encounter_id=encounter.pk
    )


def _errors(response) -> dict[str, str]:
    body = response.json()
    assert set(body) >= {"detail", "errors"}
    return {error["parameter"]: error["message"] for error in body["errors"]}


def _api_entries(**filters) -> int:
    return AuditEntry.objects.filter(channel="api", **filters).count()


# Happy paths


def test_a_clinician_starts_saves_signs_and_adds_an_addendum(client, ward):
    sign_in(client, ward["clinician"])

    started = client.post(
        _url(ward["patient"]), _walk_in(ward, notes=NOTES), content_type="application/json"
    )
    body = started.json()
    saved = client.put(
        f"/api/v1/encounters/{body['id']}/notes",
        {"notes": NOTES + "\nReviewed.", "updated_at": body["updated_at"]},
        content_type="application/json",
    )
    signed = client.post(
        f"/api/v1/encounters/{body['id']}/sign",
        {"updated_at": saved.json()["updated_at"]},
        content_type="application/json",
    )
    added = client.post(
        f"/api/v1/encounters/{body['id']}/addenda",
        {"text": "Result of the blood test: normal."},
        content_type="application/json",
    )
    read = client.get(f"/api/v1/encounters/{body['id']}").json()

    assert started.status_code == 201
    assert (body["kind"], body["site_id"], body["signed"]) == ("follow_up", ward["site"].pk, False)
    assert saved.status_code == 200
    assert saved.json()["notes"] == NOTES + "\nReviewed."
    assert signed.status_code == 200
    assert signed.json()["signed"] is True
    assert signed.json()["signed_by"] == "Dr Ann"
    assert added.status_code == 201
    assert read["notes"] == NOTES + "\nReviewed."
    assert [a["text"] for a in read["addenda"]] == ["Result of the blood test: normal."]
    assert read["addenda"][0]["author"] == "Dr Ann"
    assert _api_entries(action="create", object_type="encounter", outcome="allowed") == 1
    assert _api_entries(action="update", object_type="encounter", outcome="allowed") == 2
    assert _api_entries(action="create", object_type="addendum") == 1
    assert _api_entries(action="read", object_type="encounter") == 1
    # Audit details never hold the notes.
    assert not AuditEntry.objects.filter(detail__icontains="Neck").exists()


def test_the_list_has_no_notes_and_a_read_is_audited_even_when_empty(client, ward):
    sign_in(client, ward["clinician"])

    empty = client.get(_url(ward["patient"]))
    _draft(ward)
    listed = client.get(_url(ward["patient"]))

    assert empty.json() == []
    assert _api_entries(action="read", patient=ward["patient"], outcome="allowed") >= 1
    assert listed.status_code == 200
    [row] = listed.json()
    assert "notes" not in row
    assert "Neck" not in listed.content.decode()
    assert (row["clinician"], row["signed"]) == ("Dr Ann", False)


def test_the_list_takes_the_same_number_of_queries_however_long(client, ward):
    sign_in(client, ward["clinician"])
    _draft(ward)
    client.get(_url(ward["patient"]))  # the session and user are cached after this
    with CaptureQueriesContext(connection) as one:
        client.get(_url(ward["patient"]))
    for _ in range(3):
        _draft(ward)
    with CaptureQueriesContext(connection) as four:
        response = client.get(_url(ward["patient"]))

    assert len(response.json()) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_starting_from_an_appointment_twice_opens_the_same_encounter(client, ward):
    sign_in(client, ward["clinician"])
    payload = {"kind": "toxin_clinic", "appointment_id": ward["appointment"].pk}

    first = client.post(_url(ward["patient"]), payload, content_type="application/json")
    again = client.post(_url(ward["patient"]), payload, content_type="application/json")
    with_notes = client.post(
        _url(ward["patient"]), payload | {"notes": "Mine"}, content_type="application/json"
    )

    assert first.status_code == 201
    assert first.json()["appointment_id"] == ward["appointment"].pk
    assert first.json()["site_id"] == ward["site"].pk
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert with_notes.status_code == 409
    assert with_notes.json()["encounter_id"] == first.json()["id"]
    assert "notes" in _errors(with_notes)
    assert Encounter.objects.count() == 1
    assert Encounter.objects.get().notes == ""


def test_an_idempotency_key_makes_a_retried_start_create_one_encounter(client, ward):
    sign_in(client, ward["clinician"])
    payload = _walk_in(ward)

    first = client.post(
        _url(ward["patient"]), payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    retried = client.post(
        _url(ward["patient"]), payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    other_body = client.post(
        _url(ward["patient"]),
        payload | {"kind": "emg"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    bad_key = client.post(
        _url(ward["patient"]), payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="é"
    )

    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert other_body.status_code == 422
    assert bad_key.status_code == 400
    assert "Idempotency-Key" in _errors(other_body)
    assert "Idempotency-Key" in _errors(bad_key)
    assert Encounter.objects.count() == 1


def test_a_refused_keyed_start_is_audited_and_the_key_can_be_used_again(client, ward):
    sign_in(client, ward["clinician"])
    later = (timezone.now() + timedelta(days=1)).isoformat()

    refused = client.post(
        _url(ward["patient"]),
        _walk_in(ward, started_at=later),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    corrected = client.post(
        _url(ward["patient"]),
        _walk_in(ward),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert refused.status_code == 422
    assert _errors(refused)["started_at"] == f"started_at: {encounters.IN_FUTURE}"
    assert _api_entries(action="create", outcome="refused") == 1
    assert corrected.status_code == 201


# Concurrency and locking


def test_notes_saved_elsewhere_meanwhile_answer_409_with_the_current_updated_at(client, ward):
    encounter = _draft(ward)
    seen = encounter.updated_at.isoformat()
    elsewhere = encounters.encounter_update_notes(
        context=context_of(ward["clinician"]),
        encounter_id=encounter.pk,
        notes="Saved in another tab.",
        expected_updated_at=encounter.updated_at,
    )
    sign_in(client, ward["clinician"])

    response = client.put(
        f"/api/v1/encounters/{encounter.pk}/notes",
        {"notes": "Mine", "updated_at": seen},
        content_type="application/json",
    )
    sign = client.post(
        f"/api/v1/encounters/{encounter.pk}/sign",
        {"updated_at": seen},
        content_type="application/json",
    )

    assert response.status_code == 409
    current = response.json()["updated_at"]
    assert current == elsewhere.updated_at.isoformat()
    assert current in _errors(response)["updated_at"]
    assert sign.status_code == 409
    encounter.refresh_from_db()
    assert (encounter.notes, encounter.is_signed) == ("Saved in another tab.", False)
    assert _api_entries(action="update", outcome="refused") == 2


def test_a_signed_encounters_notes_cannot_change(client, ward):
    encounter = _signed(ward)
    sign_in(client, ward["clinician"])

    response = client.put(
        f"/api/v1/encounters/{encounter.pk}/notes",
        {"notes": "Changed", "updated_at": encounter.updated_at.isoformat()},
        content_type="application/json",
    )
    again = client.post(
        f"/api/v1/encounters/{encounter.pk}/sign",
        {"updated_at": encounter.updated_at.isoformat()},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json()["detail"] == encounters.LOCKED
    assert again.status_code == 409
    assert again.json()["detail"] == encounters.ALREADY_SIGNED
    encounter.refresh_from_db()
    assert encounter.notes == NOTES


def test_an_addendum_to_a_draft_is_409_and_another_clinician_cannot_change_a_draft(client, ward):
    encounter = _draft(ward)
    sign_in(client, ward["colleague"])

    addendum = client.post(
        f"/api/v1/encounters/{encounter.pk}/addenda", {"text": "x"}, content_type="application/json"
    )
    notes = client.put(
        f"/api/v1/encounters/{encounter.pk}/notes",
        {"notes": "Theirs", "updated_at": encounter.updated_at.isoformat()},
        content_type="application/json",
    )
    sign = client.post(
        f"/api/v1/encounters/{encounter.pk}/sign",
        {"updated_at": encounter.updated_at.isoformat()},
        content_type="application/json",
    )
    read = client.get(f"/api/v1/encounters/{encounter.pk}")

    assert addendum.status_code == 409
    assert (notes.status_code, sign.status_code) == (403, 403)
    assert "Dr Ann" in notes.json()["detail"]
    assert read.status_code == 200  # read-only for a colleague
    assert not Addendum.objects.exists()
    encounter.refresh_from_db()
    assert (encounter.notes, encounter.is_signed) == (NOTES, False)


def test_signing_empty_notes_is_refused(client, ward):
    encounter = _draft(ward, notes="")
    sign_in(client, ward["clinician"])

    response = client.post(
        f"/api/v1/encounters/{encounter.pk}/sign",
        {"updated_at": encounter.updated_at.isoformat()},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert _errors(response)["notes"] == f"notes: {encounters.NOTES_REQUIRED}"
    encounter.refresh_from_db()
    assert not encounter.is_signed


# Bad input: 4xx in the one shape, nothing written


def _start_cases():
    naive = timezone.now().replace(tzinfo=None).isoformat()
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    return [
        ({"kind": "surgery"}, "kind"),
        ({"kind": 3}, "kind"),
        ({"kind": None}, "kind"),
        ({"site_id": "1"}, "site_id"),
        ({"site_id": 1.0}, "site_id"),
        ({"site_id": True}, "site_id"),
        ({"site_id": 0}, "site_id"),
        ({"site_id": -4}, "site_id"),
        ({"site_id": 2**64}, "site_id"),
        ({"site_id": 999_999}, "site_id"),
        ({"site_id": None}, "site_id"),
        ({"appointment_id": "x"}, "appointment_id"),
        ({"appointment_id": 999_999}, "appointment_id"),
        ({"started_at": naive}, "started_at"),
        ({"started_at": later}, "started_at"),
        ({"started_at": "1900-01-01T10:00:00Z"}, "started_at"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": 1_700_000_000}, "started_at"),
        ({"notes": "a" * (encounters.NOTES_MAX_LENGTH + 1)}, "notes"),
        ({"notes": "line\x00two"}, "notes"),
        ({"notes": ["a list"]}, "notes"),
        ({"notes": 42}, "notes"),
    ]


@pytest.mark.parametrize(("change", "field"), _start_cases())
def test_bad_starts_answer_422_naming_the_field_and_write_nothing(client, ward, change, field):
    sign_in(client, ward["clinician"])

    response = client.post(
        _url(ward["patient"]), _walk_in(ward) | change, content_type="application/json"
    )

    assert response.status_code == 422, response.content
    assert field in _errors(response)
    assert response["Content-Type"].startswith("application/json")
    assert not Encounter.objects.exists()


@pytest.mark.parametrize("body", [{}, {"site_id": 1}, [], "null", "{not json"])
def test_missing_or_malformed_bodies_are_4xx(client, ward, body):
    sign_in(client, ward["clinician"])

    response = client.post(_url(ward["patient"]), body, content_type="application/json")

    assert 400 <= response.status_code < 500
    assert "detail" in response.json()
    assert not Encounter.objects.exists()


def test_an_appointment_of_another_patient_is_refused(client, ward, other_patient):
    sign_in(client, ward["clinician"])

    response = client.post(
        _url(other_patient),
        {"kind": "consultation", "appointment_id": ward["appointment"].pk},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert _errors(response)["appointment_id"].endswith(encounters.OTHER_PATIENTS_APPOINTMENT)
    assert not Encounter.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"notes": "x"}, "updated_at"),
        ({"notes": "x", "updated_at": "2024-01-01T10:00:00"}, "updated_at"),
        ({"notes": "x", "updated_at": 1_700_000_000}, "updated_at"),
        ({"notes": "x", "updated_at": "not a time"}, "updated_at"),
        ({"notes": "bad\x00", "updated_at": "SEEN"}, "notes"),
        ({"notes": "a" * (encounters.NOTES_MAX_LENGTH + 1), "updated_at": "SEEN"}, "notes"),
        ({"notes": 7, "updated_at": "SEEN"}, "notes"),
        ({"updated_at": "SEEN"}, "notes"),
    ],
)
def test_bad_notes_answer_422_and_change_nothing(client, ward, payload, field):
    encounter = _draft(ward)
    seen = encounter.updated_at.isoformat()
    payload = {k: seen if v == "SEEN" else v for k, v in payload.items()}
    sign_in(client, ward["clinician"])

    response = client.put(
        f"/api/v1/encounters/{encounter.pk}/notes", payload, content_type="application/json"
    )

    assert response.status_code == 422, response.content
    assert field in _errors(response)
    encounter.refresh_from_db()
    assert (encounter.notes, encounter.updated_at.isoformat()) == (NOTES, seen)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "a" * (encounters.ADDENDUM_MAX_LENGTH + 1)}, "text"),
        ({"text": "nul\x00"}, "text"),
        ({"text": None}, "text"),
        ({"text": {"a": 1}}, "text"),
        ({}, "text"),
    ],
)
def test_bad_addenda_answer_422_and_write_nothing(client, ward, payload, field):
    encounter = _signed(ward)
    sign_in(client, ward["clinician"])

    response = client.post(
        f"/api/v1/encounters/{encounter.pk}/addenda", payload, content_type="application/json"
    )

    assert response.status_code == 422, response.content
    assert field in _errors(response)
    assert not Addendum.objects.exists()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(notes=st.text(max_size=60))
def test_any_text_is_saved_exactly_or_refused_with_nothing_changed(client, ward, notes):
    """Invariant: text without NUL comes back as sent (line endings as \\n); with NUL it is
    a 422 naming notes, and the saved notes and updated_at stay as they were."""
    encounter = Encounter.objects.filter(patient=ward["patient"]).first() or _draft(ward)
    before = (encounter.notes, encounter.updated_at.isoformat())
    sign_in(client, ward["clinician"])

    response = client.put(
        f"/api/v1/encounters/{encounter.pk}/notes",
        {"notes": notes, "updated_at": before[1]},
        content_type="application/json",
    )

    encounter.refresh_from_db()
    if "\x00" in notes:
        assert response.status_code == 422
        assert "notes" in _errors(response)
        assert (encounter.notes, encounter.updated_at.isoformat()) == before
    else:
        assert response.status_code == 200, response.content
        assert response.json()["notes"] == encounter.notes == notes.replace("\r\n", "\n")
        assert response.json()["updated_at"] == encounter.updated_at.isoformat()


def test_markup_is_returned_as_a_plain_json_string(client, ward):
    sign_in(client, ward["clinician"])

    started = client.post(
        _url(ward["patient"]), _walk_in(ward, notes=SCRIPT), content_type="application/json"
    )
    read = client.get(f"/api/v1/encounters/{started.json()['id']}")

    assert read["Content-Type"].startswith("application/json")
    assert read.json()["notes"] == SCRIPT


# Who: anonymous 401, reception and administrators 403 on a patient, 404 by encounter id,
# patients 404


def _calls(ward, encounter):
    seen = {"updated_at": encounter.updated_at.isoformat()}
    return [
        ("get", _url(ward["patient"]), None),
        ("post", _url(ward["patient"]), _walk_in(ward)),
        ("get", f"/api/v1/encounters/{encounter.pk}", None),
        ("put", f"/api/v1/encounters/{encounter.pk}/notes", {"notes": "x"} | seen),
        ("post", f"/api/v1/encounters/{encounter.pk}/sign", seen),
        ("post", f"/api/v1/encounters/{encounter.pk}/addenda", {"text": "x"}),
    ]


def _statuses(client, ward, encounter):
    return [
        getattr(client, method)(url, body, content_type="application/json").status_code
        for method, url, body in _calls(ward, encounter)
    ]


def test_anonymous_calls_answer_401(client, ward):
    encounter = _draft(ward)

    assert set(_statuses(client, ward, encounter)) == {401}
    assert Encounter.objects.count() == 1


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_reception_and_administrators_are_refused_and_audited(client, ward, staff, role):
    encounter = _draft(ward)
    sign_in(client, staff[role])

    statuses = _statuses(client, ward, encounter)

    # 403 about the patient; by encounter id not even its existence is told.
    assert statuses == [403, 403, 404, 404, 404, 404]
    assert Encounter.objects.count() == 1
    assert not Addendum.objects.exists()
    assert _api_entries(outcome="refused", actor=staff[role]) >= 6


def test_a_patient_gets_404_for_their_own_and_anyone_elses_encounters(
    client, ward, patient_user, other_patient
):
    encounter = _draft(ward)
    sign_in(client, patient_user, second_factor=False)

    statuses = _statuses(client, ward, encounter)
    other = client.get(_url(other_patient))

    assert statuses == [404] * 6
    assert other.status_code == 404
    assert other.json() == {"detail": "Not found.", "errors": []}
    assert Encounter.objects.count() == 1
    assert _api_entries(outcome="refused", actor=patient_user) >= 7


def test_a_clinician_without_the_second_factor_gets_403_and_nothing_is_written(client, ward):
    sign_in(client, ward["clinician"], second_factor=False)

    listed = client.get(_url(ward["patient"]))
    started = client.post(_url(ward["patient"]), _walk_in(ward), content_type="application/json")

    assert (listed.status_code, started.status_code) == (403, 403)
    assert not Encounter.objects.exists()


@pytest.mark.parametrize("encounter_id", ["999999", str(2**70), "-1", "0"])
def test_unknown_encounters_answer_404_and_are_audited(client, ward, encounter_id):
    sign_in(client, ward["clinician"])

    response = client.get(f"/api/v1/encounters/{encounter_id}")

    assert response.status_code == 404
    assert _api_entries(outcome="refused", detail="no such encounter") == 1


def test_unknown_patients_and_wrongly_typed_ids_are_4xx(client, ward):
    sign_in(client, ward["clinician"])

    unknown = client.get("/api/v1/patients/999999/encounters")
    words = client.get("/api/v1/encounters/abc")

    assert unknown.status_code == 404
    assert words.status_code == 422
    assert "encounter_id" in _errors(words)


def test_the_openapi_document_lists_the_paths_with_summaries(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]

    expected = {
        "/api/v1/patients/{patient_id}/encounters": {"get", "post"},
        "/api/v1/encounters/{encounter_id}": {"get"},
        "/api/v1/encounters/{encounter_id}/notes": {"put"},
        "/api/v1/encounters/{encounter_id}/sign": {"post"},
        "/api/v1/encounters/{encounter_id}/addenda": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
        for method in methods:
            assert paths[path][method]["summary"], (path, method)
            assert "encounters" in paths[path][method]["tags"]


def test_the_problem_mapping_is_reusable_for_other_services():
    class HistoryRefused(ValueError):  # noqa: N818 - named as the services name theirs
        def __init__(self) -> None:
            self.message, self.field, self.status = "Too long.", "site", 400

    with pytest.raises(api_support.ApiProblem) as raised, api_support.answered(HistoryRefused):
        raise HistoryRefused

    assert raised.value.status == 422
    assert raised.value.body() == {
        "detail": "Too long.",
        "errors": [{"parameter": "site_id", "in": "body", "message": "site_id: Too long."}],
    }
