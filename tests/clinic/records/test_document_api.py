"""The problem list and the timeline over the JSON API: add a decided classification,
hemifacial spasm or another diagnosis (one discriminated body), change a status, read the
timeline filtered by kind and dates; clinicians only (reception and administrators 403 about a
patient and 404 for a diagnosis by its id, patients 404), strict input answered 4xx in the one
error shape with nothing written, every call audited with channel API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import diagnoses
from clinic.records.diagnosis_forms import DATE_OUT_OF_RANGE, FROM_AFTER_TO
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import Diagnosis
from clinic.scheduling.availability import local_today
from tests import factories
from tests.clinic.records.test_diagnoses import context_of, encounter_for, review_for
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

JSON = "application/json"
HFS = {"kind": "hemifacial_spasm", "side": "left", "diagnosed_on": "2020-05-01"}
OTHER = {"kind": "other", "label": "Essential tremor", "diagnosed_on": "2021-06-01"}
ACTIVE = {"clinical_status": "active", "verification_status": "confirmed"}


@pytest.fixture
def ward(db, staff):
    patient_user = factories.user(role=Role.PATIENT)
    patient = factories.patient(user=patient_user, date_of_birth=date(1970, 1, 1))
    clinician = factories.user(role=Role.CLINICIAN, full_name="Dr Ann")
    encounter = encounter_for(patient, clinician, signed=True)
    return {
        "clinician": clinician,
        "patient": patient,
        "patient_user": patient_user,
        "encounter": encounter,
        "staff": staff,
    }


def _errors(response) -> dict[str, str]:
    body = response.json()
    assert set(body) >= {"detail", "errors"}
    return {error["parameter"]: error["message"] for error in body["errors"]}


def _api_entries(**filters) -> int:
    return AuditEntry.objects.filter(channel="api", **filters).count()


def _rows() -> list:
    return list(Diagnosis.objects.values())


def _url(ward) -> str:
    return f"/api/v1/patients/{ward['patient'].pk}/diagnoses"


def _other(ward, **changes) -> Diagnosis:
    values = {"label": "Essential tremor", "diagnosed_on": date(2020, 5, 1)} | changes
    return diagnoses.diagnosis_other_add(
        context=context_of(ward["clinician"]), patient_id=ward["patient"].pk, **values
    )


# The problem list


def test_a_clinician_adds_each_kind_and_lists_the_problem_list(client, ward):
    review = review_for(ward["encounter"], regions=("neck", "upper_face"))
    sign_in(client, ward["clinician"])

    offered = client.get(_url(ward)).json()
    from_review = client.post(_url(ward), {"from_review": review.pk}, content_type=JSON)
    hfs = client.post(_url(ward), HFS | {"verification_status": "provisional"}, content_type=JSON)
    other = client.post(
        _url(ward), OTHER | {"encounter_id": ward["encounter"].pk}, content_type=JSON
    )
    listed = client.get(_url(ward)).json()

    assert offered["diagnoses"] == []
    assert [o["review_id"] for o in offered["classifications_to_add"]] == [review.pk]
    assert offered["classifications_to_add"][0]["label"].startswith("Segmental dystonia")
    assert (from_review.status_code, hfs.status_code, other.status_code) == (201, 201, 201)
    dystonia = from_review.json()
    assert (dystonia["kind"], dystonia["classification_review_id"]) == ("dystonia", review.pk)
    assert dystonia["encounter_id"] == ward["encounter"].pk
    assert {"ICD-10", "SNOMED CT"} <= {code["system_name"] for code in dystonia["codes"]}
    assert all(code["system"].startswith("http") for code in dystonia["codes"])
    assert (hfs.json()["side"], hfs.json()["verification_status"]) == ("left", "provisional")
    assert hfs.json()["label"] == "Hemifacial spasm (left)"
    assert hfs.json()["codes"]
    assert (other.json()["label"], other.json()["codes"]) == ("Essential tremor", [])
    assert other.json()["encounter_id"] == ward["encounter"].pk
    assert [d["kind"] for d in listed["diagnoses"]] == ["dystonia", "other", "hemifacial_spasm"]
    assert listed["classifications_to_add"] == []
    assert _api_entries(object_type="diagnosis", action="create", outcome="allowed") == 3
    details = " ".join(AuditEntry.objects.values_list("detail", flat=True))
    assert "tremor" not in details
    assert "Hemifacial" not in details


def test_a_status_change_and_entered_in_error_is_final(client, ward):
    diagnosis = _other(ward)
    sign_in(client, ward["clinician"])
    url = f"/api/v1/diagnoses/{diagnosis.pk}/status"
    yesterday = (local_today() - timedelta(days=1)).isoformat()

    resolved = client.post(
        url, ACTIVE | {"clinical_status": "resolved", "resolved_on": yesterday}, content_type=JSON
    )
    in_error = client.post(
        url, ACTIVE | {"verification_status": "entered-in-error"}, content_type=JSON
    )
    again = client.post(url, ACTIVE, content_type=JSON)

    assert resolved.status_code == 200
    assert (resolved.json()["clinical_status"], resolved.json()["resolved_on"]) == (
        "resolved",
        yesterday,
    )
    assert in_error.status_code == 200
    assert in_error.json()["in_error"] is True
    assert in_error.json()["resolved_on"] is None
    assert again.status_code == 409
    assert again.json()["detail"] == diagnoses.ENTERED_IN_ERROR_IS_FINAL
    assert _api_entries(object_type="diagnosis", action="update", outcome="allowed") == 2
    assert _api_entries(object_type="diagnosis", action="update", outcome="refused") == 1


def test_an_idempotency_key_adds_one_diagnosis(client, ward):
    sign_in(client, ward["clinician"])

    first = client.post(_url(ward), OTHER, content_type=JSON, HTTP_IDEMPOTENCY_KEY="dx-1")
    retried = client.post(_url(ward), OTHER, content_type=JSON, HTTP_IDEMPOTENCY_KEY="dx-1")

    assert (first.status_code, retried.status_code) == (201, 201)
    assert first.json() == retried.json()
    assert Diagnosis.objects.count() == 1


def _bad_new_diagnoses():
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    return [
        ({}, "kind"),
        ({"kind": "dystonia"}, "kind"),
        ({"kind": 1}, "kind"),
        ({"kind": ["other"]}, "kind"),
        ({"kind": {"a": 1}}, "kind"),
        ({"label": "Essential tremor"}, "kind"),
        (HFS | {"side": "up"}, "side"),
        (HFS | {"side": None}, "side"),
        ({"kind": "other", "diagnosed_on": "2020-01-01"}, "label"),
        (OTHER | {"label": ""}, "label"),
        (OTHER | {"label": "   "}, "label"),
        (OTHER | {"label": "a\x00b"}, "label"),
        (OTHER | {"label": "x" * (diagnoses.LABEL_MAX_LENGTH + 1)}, "label"),
        (OTHER | {"label": 5}, "label"),
        ({"kind": "other", "label": "x"}, "diagnosed_on"),
        (OTHER | {"diagnosed_on": "01/05/2020"}, "diagnosed_on"),
        (OTHER | {"diagnosed_on": 20200501}, "diagnosed_on"),
        (OTHER | {"diagnosed_on": tomorrow}, "diagnosed_on"),
        (OTHER | {"diagnosed_on": "1960-01-01"}, "diagnosed_on"),
        (OTHER | {"verification_status": "refuted"}, "verification_status"),
        (OTHER | {"verification_status": "entered-in-error"}, "verification_status"),
        (OTHER | {"encounter_id": "1"}, "encounter_id"),
        (OTHER | {"encounter_id": 0}, "encounter_id"),
        (OTHER | {"encounter_id": 999_999}, "encounter_id"),
        ({"from_review": "1"}, "from_review"),
        ({"from_review": 1.0}, "from_review"),
        ({"from_review": True}, "from_review"),
        ({"from_review": 1, "kind": "other"}, "kind"),
        ({"from_review": 1, "diagnosed_on": "2020-13-01"}, "diagnosed_on"),
    ]


@pytest.mark.parametrize(("body", "field"), _bad_new_diagnoses())
def test_bad_new_diagnoses_answer_422_naming_the_field_and_write_nothing(client, ward, body, field):
    sign_in(client, ward["clinician"])

    response = client.post(_url(ward), body, content_type=JSON)

    assert response.status_code == 422, response.content
    assert field in _errors(response), response.content
    assert response["Content-Type"].startswith(JSON)
    assert not Diagnosis.objects.exists()


def test_a_nul_in_a_label_is_refused_with_the_services_message_and_audited(client, ward):
    sign_in(client, ward["clinician"])

    response = client.post(_url(ward), OTHER | {"label": "a\x00b"}, content_type=JSON)

    assert _errors(response)["label"] == f"label: {NUL_CHARACTER}"
    assert _api_entries(object_type="diagnosis", action="create", outcome="refused") == 1


@pytest.mark.parametrize("body", [[], "null", "{not json", '"other"'])
def test_malformed_bodies_are_4xx(client, ward, body):
    sign_in(client, ward["clinician"])

    response = client.post(_url(ward), body, content_type=JSON)

    assert 400 <= response.status_code < 500
    assert "detail" in response.json()
    assert not Diagnosis.objects.exists()


def test_from_review_beside_a_kind_is_refused_saying_why(client, ward):
    sign_in(client, ward["clinician"])

    response = client.post(
        _url(ward), {"from_review": 1, "kind": "other", "label": "x"}, content_type=JSON
    )

    assert response.status_code == 422
    assert _errors(response)["kind"].endswith("send either from_review or kind, not both")


def test_reviews_that_cannot_be_added_are_refused(client, ward, other_patient):
    pending = review_for(ward["encounter"], decision="")
    theirs = review_for(encounter_for(other_patient, ward["clinician"], signed=True))
    sign_in(client, ward["clinician"])

    not_decided = client.post(_url(ward), {"from_review": pending.pk}, content_type=JSON)
    unknown = client.post(_url(ward), {"from_review": 999_999}, content_type=JSON)
    another_patients = client.post(_url(ward), {"from_review": theirs.pk}, content_type=JSON)
    listed = review_for(ward["encounter"])
    client.post(_url(ward), {"from_review": listed.pk}, content_type=JSON)
    twice = client.post(_url(ward), {"from_review": listed.pk}, content_type=JSON)

    assert not_decided.status_code == 409
    assert not_decided.json()["detail"] == diagnoses.REVIEW_NOT_DECIDED
    assert unknown.status_code == 404
    assert another_patients.status_code == 422
    assert "from_review" in _errors(another_patients)
    assert twice.status_code == 409
    assert twice.json()["detail"] == diagnoses.ALREADY_ON_LIST
    assert Diagnosis.objects.count() == 1
    assert _api_entries(object_type="diagnosis", action="create", outcome="refused") == 3


def test_an_encounter_of_another_patient_is_refused(client, ward, other_patient):
    theirs = encounter_for(other_patient, ward["clinician"])
    sign_in(client, ward["clinician"])

    response = client.post(_url(ward), OTHER | {"encounter_id": theirs.pk}, content_type=JSON)

    assert response.status_code == 422
    assert _errors(response)["encounter_id"] == (
        f"encounter_id: {diagnoses.OTHER_PATIENTS_ENCOUNTER}"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"clinical_status": "cured"}, "clinical_status"),
        ({"clinical_status": None}, "clinical_status"),
        ({"verification_status": "maybe"}, "verification_status"),
        ({"clinical_status": "resolved"}, "resolved_on"),
        ({"clinical_status": "resolved", "resolved_on": "2019-01-01"}, "resolved_on"),
        ({"clinical_status": "resolved", "resolved_on": "2099-01-01"}, "resolved_on"),
        ({"clinical_status": "resolved", "resolved_on": 5}, "resolved_on"),
    ],
)
def test_bad_status_changes_answer_422_and_change_nothing(client, ward, body, field):
    diagnosis = _other(ward)
    sign_in(client, ward["clinician"])
    before = _rows()

    response = client.post(
        f"/api/v1/diagnoses/{diagnosis.pk}/status", ACTIVE | body, content_type=JSON
    )

    assert response.status_code == 422, response.content
    assert field in _errors(response)
    assert _rows() == before


# The timeline


def _timeline(ward) -> str:
    return f"/api/v1/patients/{ward['patient'].pk}/timeline"


def test_the_timeline_lists_events_newest_first_filtered_by_kind_and_dates(client, ward):
    _other(ward, diagnosed_on=date(2019, 5, 1), label="Old")
    _other(ward, diagnosed_on=date(2021, 5, 1), label="<b>New</b>")
    sign_in(client, ward["clinician"])

    everything = client.get(_timeline(ward)).json()
    diagnoses_only = client.get(_timeline(ward), {"kinds": "diagnosis"}).json()
    both = client.get(_timeline(ward), {"kinds": ["diagnosis", "encounter"]}).json()
    in_2021 = client.get(_timeline(ward), {"from": "2021-01-01", "to": "2021-12-31"}).json()

    assert [e["kind"] for e in everything["events"]] == ["encounter", "diagnosis", "diagnosis"]
    assert everything["complete_after"] is None
    assert [e["title"] for e in diagnoses_only["events"]] == ["<b>New</b>", "Old"]
    assert diagnoses_only["events"][0]["timed"] is False
    newest = Diagnosis.objects.get(label="<b>New</b>")
    assert diagnoses_only["events"][0]["url"] == reverse(
        "records:diagnosis-detail", args=[newest.pk]
    )
    assert len(both["events"]) == 3
    assert [e["title"] for e in in_2021["events"]] == ["<b>New</b>"]
    assert _api_entries(object_type="timeline", action="read", outcome="allowed") == 4


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"kinds": "scores"}, "kinds", ""),
        ({"from": "2021-13-01"}, "from", ""),
        ({"from": "01/01/2021"}, "from", ""),
        ({"to": "yesterday"}, "to", ""),
        ({"from": "1800-01-01"}, "from", DATE_OUT_OF_RANGE),
        ({"to": "2200-01-01"}, "to", DATE_OUT_OF_RANGE),
        ({"from": "2021-02-01", "to": "2021-01-01"}, "to", FROM_AFTER_TO),
    ],
)
def test_bad_timeline_filters_answer_422_naming_the_parameter(client, ward, query, field, message):
    sign_in(client, ward["clinician"])

    response = client.get(_timeline(ward), query)

    assert response.status_code == 422, response.content
    errors = _errors(response)
    assert field in errors
    assert errors[field].endswith(message)
    assert not _api_entries(object_type="timeline")


# Who


def _calls(ward, diagnosis):
    return [
        ("get", _url(ward), None),
        ("post", _url(ward), OTHER),
        ("get", _timeline(ward), None),
        ("post", f"/api/v1/diagnoses/{diagnosis.pk}/status", ACTIVE),
    ]


def _statuses(client, ward, diagnosis):
    return [
        getattr(client, method)(url, body, content_type=JSON).status_code
        for method, url, body in _calls(ward, diagnosis)
    ]


def test_anonymous_calls_answer_401(client, ward):
    diagnosis = _other(ward)
    before = _rows()

    assert set(_statuses(client, ward, diagnosis)) == {401}
    assert _rows() == before


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_reception_and_administrators_are_refused_and_audited(client, ward, role):
    diagnosis = _other(ward)
    user = ward["staff"][role]
    sign_in(client, user)
    before = _rows()

    # 403 about the patient; by the diagnosis's id, not even its existence is told.
    assert _statuses(client, ward, diagnosis) == [403, 403, 403, 404]
    assert _rows() == before
    assert _api_entries(outcome="refused", actor=user) >= 4


def test_patients_get_404_for_their_own_problem_list_and_timeline(client, ward):
    diagnosis = _other(ward)
    user = ward["patient_user"]
    sign_in(client, user, second_factor=False)
    before = _rows()

    assert _statuses(client, ward, diagnosis) == [404] * 4
    assert _rows() == before
    assert _api_entries(outcome="refused", actor=user) >= 4


@pytest.mark.parametrize("unknown", ["999999", str(2**70)])
def test_unknown_patients_and_diagnoses_answer_404(client, ward, unknown):
    sign_in(client, ward["clinician"])

    responses = [
        client.get(f"/api/v1/patients/{unknown}/diagnoses"),
        client.get(f"/api/v1/patients/{unknown}/timeline"),
        client.post(f"/api/v1/patients/{unknown}/diagnoses", OTHER, content_type=JSON),
        client.post(f"/api/v1/diagnoses/{unknown}/status", ACTIVE, content_type=JSON),
    ]

    assert [r.status_code for r in responses] == [404] * 4
    assert _api_entries(outcome="refused") >= 4


def test_the_openapi_document_lists_the_paths_and_the_three_bodies(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert set(paths["/api/v1/patients/{patient_id}/diagnoses"]) == {"get", "post"}
    assert set(paths["/api/v1/diagnoses/{diagnosis_id}/status"]) == {"post"}
    assert set(paths["/api/v1/patients/{patient_id}/timeline"]) == {"get"}
    body = paths["/api/v1/patients/{patient_id}/diagnoses"]["post"]["requestBody"]
    refs = {ref["$ref"].rsplit("/", 1)[-1] for ref in body["content"][JSON]["schema"]["oneOf"]}
    assert {"FromReviewIn", "HemifacialSpasmIn", "OtherDiagnosisIn"} <= refs
    names = {
        p["name"] for p in paths["/api/v1/patients/{patient_id}/timeline"]["get"]["parameters"]
    }
    assert {"kinds", "from", "to"} <= names


@pytest.mark.parametrize("what", ["diagnoses", "timeline"])
def test_the_lists_take_the_same_number_of_queries_however_long(client, ward, what):
    sign_in(client, ward["clinician"])
    url = f"/api/v1/patients/{ward['patient'].pk}/{what}"
    _other(ward)
    client.get(url)  # the session and user are cached after this
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for year in (2015, 2016, 2017):
        _other(ward, diagnosed_on=date(year, 1, 1))
        review_for(encounter_for(ward["patient"], ward["clinician"], signed=True))
    with CaptureQueriesContext(connection) as four:
        response = client.get(url)

    assert response.status_code == 200
    assert len(four.captured_queries) == len(one.captured_queries)
