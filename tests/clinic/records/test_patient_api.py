"""Patients over the JSON API: 401 signed out, 403 without the right, 404 for other
patients, 4xx for bad input with nothing written, every call audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records.models import Patient
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

PUBLIC_TAGS = {"directory"}
NEW_PATIENT = {"given_name": "Ada", "family_name": "Madeup", "date_of_birth": "1980-03-31"}


def _operations(client):
    spec = client.get("/api/v1/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, set(operation.get("tags", []))


def test_every_non_public_path_answers_401_when_signed_out(client, db):
    checked = 0
    for path, method, tags in _operations(client):
        if tags & PUBLIC_TAGS:
            continue
        url = path.replace("{patient_id}", "1")
        response = getattr(client, method)(url, content_type="application/json")
        assert response.status_code == 401, (method, path)
        checked += 1
    assert checked >= 4


def test_public_directory_paths_need_no_sign_in(client, db):
    for path, method, tags in _operations(client):
        if tags & PUBLIC_TAGS and method == "get":
            assert client.get(path).status_code == 200, path


def test_a_patient_reads_their_own_record(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    body = client.get("/api/v1/me").json()

    assert body["hospital_number"] == patient_user.patient_record.hospital_number
    assert AuditEntry.objects.filter(channel="api", outcome="allowed").count() == 1


def test_a_patient_guessing_another_id_gets_404_and_is_audited(client, patient_user, other_patient):
    sign_in(client, patient_user, second_factor=False)

    response = client.get(f"/api/v1/patients/{other_patient.pk}")

    assert response.status_code == 404
    assert other_patient.family_name not in response.content.decode()
    entry = AuditEntry.objects.get(patient=other_patient)
    assert (entry.outcome, entry.channel, entry.actor_id) == ("refused", "api", patient_user.pk)


def test_a_patient_learns_nothing_from_the_staff_endpoints(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    assert client.get("/api/v1/patients").status_code == 404
    assert (
        client.get("/api/v1/patients", {"q": "\x00"}).status_code == 404
    )  # refused before validation
    response = client.post("/api/v1/patients", NEW_PATIENT, content_type="application/json")
    assert response.status_code == 404
    assert not Patient.objects.filter(family_name="Madeup").exists()
    assert AuditEntry.objects.filter(action="create", outcome="refused").exists()


def test_an_administrator_gets_403(client, staff, other_patient):
    sign_in(client, staff[Role.ADMIN])

    assert client.get(f"/api/v1/patients/{other_patient.pk}").status_code == 403
    assert client.get("/api/v1/patients").status_code == 403


def test_staff_without_the_second_factor_get_403(client, staff, other_patient):
    sign_in(client, staff[Role.CLINICIAN], second_factor=False)

    response = client.get(f"/api/v1/patients/{other_patient.pk}")

    assert response.status_code == 403
    assert "Two-factor" in response.json()["detail"]


def test_reception_lists_and_registers_patients(client, staff):
    factories.patient(family_name="Existing")
    sign_in(client, staff[Role.RECEPTION])

    listed = client.get("/api/v1/patients", {"q": "Existing"}).json()
    created = client.post(
        "/api/v1/patients",
        NEW_PATIENT | {"nhs_number": "943 476 5919"},
        content_type="application/json",
    )

    assert [p["family_name"] for p in listed] == ["Existing"]
    assert created.status_code == 201
    assert created.json()["nhs_number"] == "9434765919"
    patient = Patient.objects.get(family_name="Madeup")
    assert AuditEntry.objects.filter(patient=patient, action="create", channel="api").exists()


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        (NEW_PATIENT | {"nhs_number": "9434765918"}, "nhs_number", 422),
        (NEW_PATIENT | {"date_of_birth": "2999-01-01"}, "date_of_birth", 422),
        (NEW_PATIENT | {"date_of_birth": "yesterday"}, "date_of_birth", 422),
        (NEW_PATIENT | {"given_name": ""}, "given_name", 422),
        (NEW_PATIENT | {"given_name": "x" * 101}, "given_name", 422),
        (NEW_PATIENT | {"given_name": 42}, "given_name", 422),
        (NEW_PATIENT | {"family_name": "Bad\x00Name"}, "family_name", 422),
        ({"given_name": "Ada"}, "family_name", 422),
    ],
)
def test_bad_new_patients_answer_4xx_naming_the_field_and_write_nothing(
    client, staff, payload, field, status
):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/api/v1/patients", payload, content_type="application/json")

    assert response.status_code == status
    assert field in [error["parameter"] for error in response.json()["errors"]]
    assert not Patient.objects.exists()


def test_malformed_json_is_a_4xx(client, staff):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/api/v1/patients", "{not json", content_type="application/json")

    assert 400 <= response.status_code < 500
    assert not Patient.objects.exists()


def test_a_duplicate_nhs_number_answers_409(client, staff):
    factories.patient(nhs_number="9434765919")
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(
        "/api/v1/patients",
        NEW_PATIENT | {"nhs_number": "9434765919"},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["parameter"] == "nhs_number"
    assert Patient.objects.count() == 1


def test_unsafe_methods_need_the_csrf_token(staff):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/api/v1/patients", NEW_PATIENT, content_type="application/json")

    assert response.status_code == 403
    assert not Patient.objects.exists()


def test_openapi_lists_the_patient_paths(client, db):
    assert reverse("api-v1:openapi-json") == "/api/v1/openapi.json"
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/patients", "/api/v1/patients/{patient_id}", "/api/v1/me"} <= set(paths)


# GP email, referrer, consent and care dates.

REFERRED = NEW_PATIENT | {
    "gp_email": "surgery@example.org",
    "referrer_name": "Dr Referrer",
    "referrer_organisation": "Made-up General Hospital",
    "referrer_address": "3 Made-up Road",
    "referrer_email": "referrals@example.org",
    "consents_to_email": False,
    "consents_to_research_contact": True,
    "consent_recorded_on": "2024-02-01",
    "discharged_on": "2024-03-01",
}


def test_the_referrer_consent_and_care_dates_go_in_and_come_out(client, staff):
    sign_in(client, staff[Role.CLINICIAN])

    created = client.post("/api/v1/patients", REFERRED, content_type="application/json")
    read = client.get(f"/api/v1/patients/{created.json()['id']}").json()

    assert created.status_code == 201
    for field, value in REFERRED.items():
        assert read[field] == value, field
    assert read["consents_to_gp_letters"] is True
    assert read["date_of_death"] is None


def test_a_patient_reads_their_referrer_and_consents(client, patient_user):
    record = patient_user.patient_record
    record.referrer_name = "Dr Referrer"
    record.save()
    sign_in(client, patient_user, second_factor=False)

    body = client.get("/api/v1/me").json()

    assert body["referrer_name"] == "Dr Referrer"
    assert body["consents_to_email"] is True


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"date_of_death": "1980-03-30"}, "date_of_death", "before the date of birth"),
        ({"date_of_death": "2999-01-01"}, "date_of_death", "in the future"),
        ({"discharged_on": "2999-01-01"}, "discharged_on", "in the future"),
        ({"consent_recorded_on": "1970-01-01"}, "consent_recorded_on", "before the date of birth"),
        ({"discharged_on": "2024-02-30"}, "discharged_on", ""),
        ({"date_of_death": 20240101}, "date_of_death", ""),
        ({"gp_email": "not-an-email"}, "gp_email", "not a valid email address"),
        ({"referrer_email": "<b>@x"}, "referrer_email", "not a valid email address"),
        ({"referrer_name": "x" * 10_000}, "referrer_name", "at most 150 characters"),
        ({"referrer_address": "line\x00two"}, "referrer_address", "control characters"),
        ({"referrer_organisation": ["a list"]}, "referrer_organisation", ""),
        ({"consents_to_email": "yes"}, "consents_to_email", ""),
        ({"consents_to_gp_letters": 1}, "consents_to_gp_letters", ""),
        ({"consents_to_research_contact": None}, "consents_to_research_contact", ""),
    ],
)
def test_bad_referrer_consent_and_care_details_answer_422_and_write_nothing(
    client, staff, change, field, message
):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/api/v1/patients", REFERRED | change, content_type="application/json")

    assert response.status_code == 422
    errors = {error["parameter"]: error["message"] for error in response.json()["errors"]}
    assert field in errors
    assert message in errors[field]
    assert not Patient.objects.exists()
    assert not AuditEntry.objects.filter(action="create").exists()


def test_markup_in_a_referrer_is_returned_as_text(client, staff):
    sign_in(client, staff[Role.RECEPTION])

    created = client.post(
        "/api/v1/patients",
        REFERRED | {"referrer_name": "<script>alert(1)</script>"},
        content_type="application/json",
    )

    assert created.json()["referrer_name"] == "<script>alert(1)</script>"
    assert created["Content-Type"].startswith("application/json")
