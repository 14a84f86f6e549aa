"""Allergies, alerts and next of kin over the JSON API: as alerts.py and contacts.py decide
(clinicians any alert, reception the practical ones and next of kin, patients read their own
and write neither, administrators 403), strict input answered 4xx with nothing written,
every call audited with channel API."""

from __future__ import annotations

import pytest

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import alerts
from clinic.records.contact_forms import NEEDS_A_WAY_TO_REACH
from clinic.records.models import AlertKind, NextOfKin, PatientAlert
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ALLERGY = {"kind": "allergy", "detail": "Penicillin: rash"}
KIN = {
    "name": "Sam Madeup",
    "relationship": "daughter",
    "phone": "020 7946 0000",
    "email": "sam@example.org",
    "is_emergency_contact": True,
}


@pytest.fixture
def patient(patient_user):
    return patient_user.patient_record


def _alerts_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/alerts"


def _kin_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/next-of-kin"


def _errors(response) -> dict[str, str]:
    body = response.json()
    assert set(body) >= {"detail", "errors"}
    return {error["parameter"]: error["message"] for error in body["errors"]}


def _alert(patient, user, kind=AlertKind.NEEDS_HOIST, detail="") -> PatientAlert:
    return PatientAlert.objects.create(patient=patient, kind=kind, detail=detail, recorded_by=user)


def _kin(patient, **fields) -> NextOfKin:
    return NextOfKin.objects.create(patient=patient, **({"name": "Old Name"} | KIN | fields))


def _api_entries(**filters) -> int:
    return AuditEntry.objects.filter(channel="api", **filters).count()


# Alerts


def test_a_clinician_records_lists_and_ends_an_allergy(client, staff, patient):
    clinician = staff[Role.CLINICIAN]
    sign_in(client, clinician)

    added = client.post(_alerts_url(patient), ALLERGY, content_type="application/json")
    listed = client.get(_alerts_url(patient)).json()
    ended = client.post(f"/api/v1/alerts/{added.json()['id']}/end")
    after = client.get(_alerts_url(patient)).json()

    assert added.status_code == 201
    assert added.json()["detail"] == "Penicillin: rash"
    assert listed["allergy_ever_recorded"] is True
    assert [(a["kind"], a["recorded_by"]) for a in listed["active"]] == [
        ("allergy", clinician.full_name)
    ]
    assert ended.status_code == 200
    assert ended.json()["active"] is False
    assert ended.json()["ended_by"] == clinician.full_name
    assert after["active"] == []
    assert [a["id"] for a in after["ended"]] == [added.json()["id"]]
    assert _api_entries(object_type="patient_alert", action="create", outcome="allowed") == 1
    assert _api_entries(object_type="patient_alert", action="update", outcome="allowed") == 1
    assert _api_entries(object_type="patient", action="read", patient=patient) == 2
    # The trail never names a clinical alert's detail, nor its kind.
    assert not AuditEntry.objects.filter(detail__icontains="penicillin").exists()


def test_reception_record_practical_alerts_but_not_clinical_ones(client, staff, patient):
    sign_in(client, staff[Role.RECEPTION])

    hoist = client.post(
        _alerts_url(patient), {"kind": "needs_hoist"}, content_type="application/json"
    )
    allergy = client.post(_alerts_url(patient), ALLERGY, content_type="application/json")
    clinical = _alert(patient, staff[Role.CLINICIAN], AlertKind.ANTICOAGULATED)
    end_clinical = client.post(f"/api/v1/alerts/{clinical.pk}/end")

    assert hoist.status_code == 201
    assert allergy.status_code == 403
    assert allergy.json() == {"detail": "You do not have access to this.", "errors": []}
    assert end_clinical.status_code == 403
    assert list(PatientAlert.objects.values_list("kind", "ended_at")) == [
        ("anticoagulated", None),
        ("needs_hoist", None),
    ]
    assert _api_entries(object_type="patient_alert", outcome="refused") == 2


def test_a_patient_reads_their_own_alerts_without_who_and_writes_none(
    client, staff, patient_user, patient, other_patient
):
    alert = _alert(patient, staff[Role.CLINICIAN], AlertKind.ALLERGY, "Latex: hives")
    _alert(other_patient, staff[Role.CLINICIAN])
    sign_in(client, patient_user, second_factor=False)

    own = client.get(_alerts_url(patient))
    other = client.get(_alerts_url(other_patient))
    add = client.post(_alerts_url(patient), ALLERGY, content_type="application/json")
    end = client.post(f"/api/v1/alerts/{alert.pk}/end")

    assert own.status_code == 200
    [shown] = own.json()["active"]
    assert (shown["detail"], shown["recorded_by"]) == ("Latex: hives", None)
    assert own.json()["ended"] == []
    assert (other.status_code, add.status_code, end.status_code) == (404, 404, 404)
    assert PatientAlert.objects.count() == 2
    assert PatientAlert.objects.filter(ended_at__isnull=False).count() == 0


def test_an_administrator_gets_403_for_alerts_and_next_of_kin(client, staff, patient):
    alert = _alert(patient, staff[Role.RECEPTION])
    kin = _kin(patient)
    sign_in(client, staff[Role.ADMIN])

    statuses = [
        client.get(_alerts_url(patient)).status_code,
        client.post(_alerts_url(patient), ALLERGY, content_type="application/json").status_code,
        client.post(f"/api/v1/alerts/{alert.pk}/end").status_code,
        client.get(_kin_url(patient)).status_code,
        client.post(_kin_url(patient), KIN, content_type="application/json").status_code,
        client.put(
            f"/api/v1/next-of-kin/{kin.pk}", KIN, content_type="application/json"
        ).status_code,
        client.delete(f"/api/v1/next-of-kin/{kin.pk}").status_code,
    ]

    assert statuses == [403] * 7
    assert (PatientAlert.objects.count(), NextOfKin.objects.count()) == (1, 1)
    assert _api_entries(outcome="refused", actor=staff[Role.ADMIN]) == 7


def test_anonymous_calls_answer_401(client, staff, patient):
    alert = _alert(patient, staff[Role.RECEPTION])
    kin = _kin(patient)

    statuses = {
        client.get(_alerts_url(patient)).status_code,
        client.post(_alerts_url(patient), ALLERGY, content_type="application/json").status_code,
        client.post(f"/api/v1/alerts/{alert.pk}/end").status_code,
        client.get(_kin_url(patient)).status_code,
        client.post(_kin_url(patient), KIN, content_type="application/json").status_code,
        client.put(
            f"/api/v1/next-of-kin/{kin.pk}", KIN, content_type="application/json"
        ).status_code,
        client.delete(f"/api/v1/next-of-kin/{kin.pk}").status_code,
    }

    assert statuses == {401}
    assert (PatientAlert.objects.count(), NextOfKin.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "zombie"}, "kind"),
        ({"kind": 1}, "kind"),
        ({"kind": ["allergy"]}, "kind"),
        ({}, "kind"),
        ({"kind": "allergy"}, "detail"),
        ({"kind": "allergy", "detail": "   "}, "detail"),
        ({"kind": "other", "detail": ""}, "detail"),
        ({"kind": "allergy", "detail": "x" * 201}, "detail"),
        ({"kind": "allergy", "detail": "Nuts\x00"}, "detail"),
        ({"kind": "allergy", "detail": 12}, "detail"),
        ({"kind": "allergy", "detail": {"a": 1}}, "detail"),
    ],
)
def test_bad_alerts_answer_422_naming_the_field_and_write_nothing(
    client, staff, patient, payload, field
):
    sign_in(client, staff[Role.CLINICIAN])

    response = client.post(_alerts_url(patient), payload, content_type="application/json")

    assert response.status_code == 422, response.content
    assert field in _errors(response)
    assert not PatientAlert.objects.exists()


def test_the_same_active_alert_twice_is_409(client, staff, patient):
    sign_in(client, staff[Role.CLINICIAN])

    first = client.post(_alerts_url(patient), ALLERGY, content_type="application/json")
    again = client.post(
        _alerts_url(patient),
        {"kind": "allergy", "detail": "penicillin:  RASH"},
        content_type="application/json",
    )

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["detail"] == alerts.ALREADY_ACTIVE
    assert PatientAlert.objects.count() == 1


def test_ending_twice_is_409_and_unknown_alerts_404(client, staff, patient):
    alert = _alert(patient, staff[Role.RECEPTION])
    sign_in(client, staff[Role.RECEPTION])

    first = client.post(f"/api/v1/alerts/{alert.pk}/end")
    again = client.post(f"/api/v1/alerts/{alert.pk}/end")
    unknown = client.post("/api/v1/alerts/999999/end")
    huge = client.post(f"/api/v1/alerts/{2**70}/end")
    words = client.post("/api/v1/alerts/one/end")

    assert (first.status_code, again.status_code) == (200, 409)
    assert again.json()["detail"] == alerts.ALREADY_ENDED
    assert (unknown.status_code, huge.status_code, words.status_code) == (404, 404, 422)


def test_markup_in_an_alert_is_returned_as_a_plain_json_string(client, staff, patient):
    sign_in(client, staff[Role.CLINICIAN])

    added = client.post(
        _alerts_url(patient), {"kind": "other", "detail": SCRIPT}, content_type="application/json"
    )
    listed = client.get(_alerts_url(patient))

    assert added.status_code == 201
    assert listed["Content-Type"].startswith("application/json")
    assert listed.json()["active"][0]["detail"] == SCRIPT


# Next of kin


def test_reception_add_list_change_and_remove_next_of_kin(client, staff, patient):
    sign_in(client, staff[Role.RECEPTION])

    added = client.post(_kin_url(patient), KIN, content_type="application/json")
    listed = client.get(_kin_url(patient)).json()
    changed = client.put(
        f"/api/v1/next-of-kin/{added.json()['id']}",
        KIN | {"phone": "", "is_emergency_contact": False},
        content_type="application/json",
    )
    removed = client.delete(f"/api/v1/next-of-kin/{added.json()['id']}")

    assert added.status_code == 201
    assert added.json() == {"id": added.json()["id"], "patient_id": patient.pk} | KIN
    assert [k["name"] for k in listed] == ["Sam Madeup"]
    assert changed.status_code == 200
    assert (changed.json()["phone"], changed.json()["is_emergency_contact"]) == ("", False)
    assert removed.status_code == 204
    assert not NextOfKin.objects.exists()
    for action in ("create", "update", "delete"):
        assert _api_entries(object_type="next_of_kin", action=action, outcome="allowed") == 1
    assert not AuditEntry.objects.filter(detail__icontains="Sam").exists()


def test_a_patient_reads_their_own_next_of_kin_and_changes_none(
    client, patient_user, patient, other_patient
):
    kin = _kin(patient)
    theirs = _kin(other_patient, name="Someone Else")
    sign_in(client, patient_user, second_factor=False)

    own = client.get(_kin_url(patient))
    statuses = [
        client.get(_kin_url(other_patient)).status_code,
        client.post(_kin_url(patient), KIN, content_type="application/json").status_code,
        client.put(
            f"/api/v1/next-of-kin/{kin.pk}", KIN | {"name": "New"}, content_type="application/json"
        ).status_code,
        client.delete(f"/api/v1/next-of-kin/{kin.pk}").status_code,
        client.delete(f"/api/v1/next-of-kin/{theirs.pk}").status_code,
    ]

    assert own.status_code == 200
    assert [k["name"] for k in own.json()] == ["Sam Madeup"]
    assert "Someone Else" not in own.content.decode()
    assert statuses == [404] * 5
    assert NextOfKin.objects.count() == 2
    assert NextOfKin.objects.get(pk=kin.pk).name == "Sam Madeup"
    assert _api_entries(outcome="refused", actor=patient_user) == 5


BAD_KIN = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Sam\x00"}, "name"),
    ({"name": 5}, "name"),
    ({"relationship": None}, "relationship"),
    ({"relationship": "r" * 61}, "relationship"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "<b>@x"}, "email"),
    ({"phone": "", "email": ""}, "phone"),
    ({"phone": "1" * 31}, "phone"),
    ({"is_emergency_contact": "yes"}, "is_emergency_contact"),
    ({"is_emergency_contact": 1}, "is_emergency_contact"),
    ({"is_emergency_contact": None}, "is_emergency_contact"),
]


@pytest.mark.parametrize(("change", "field"), BAD_KIN)
def test_bad_next_of_kin_answer_422_and_write_nothing(client, staff, patient, change, field):
    kin = _kin(patient)
    sign_in(client, staff[Role.RECEPTION])

    added = client.post(_kin_url(patient), KIN | change, content_type="application/json")
    changed = client.put(
        f"/api/v1/next-of-kin/{kin.pk}", KIN | change, content_type="application/json"
    )

    for response in (added, changed):
        assert response.status_code == 422, response.content
        assert field in _errors(response)
    assert NextOfKin.objects.count() == 1
    assert NextOfKin.objects.get().name == "Sam Madeup"


def test_a_missing_next_of_kin_or_patient_is_404(client, staff):
    sign_in(client, staff[Role.RECEPTION])

    statuses = [
        client.get("/api/v1/patients/999999/next-of-kin").status_code,
        client.post(
            "/api/v1/patients/999999/next-of-kin", KIN, content_type="application/json"
        ).status_code,
        client.put("/api/v1/next-of-kin/999999", KIN, content_type="application/json").status_code,
        client.delete(f"/api/v1/next-of-kin/{2**70}").status_code,
        client.get("/api/v1/patients/999999/alerts").status_code,
        client.post(
            "/api/v1/patients/999999/alerts", ALLERGY, content_type="application/json"
        ).status_code,
    ]

    assert statuses == [404] * 6
    assert not NextOfKin.objects.exists()
    assert not PatientAlert.objects.exists()


def test_markup_in_a_name_is_returned_as_a_plain_json_string(client, staff, patient):
    sign_in(client, staff[Role.RECEPTION])

    client.post(_kin_url(patient), KIN | {"name": SCRIPT}, content_type="application/json")
    listed = client.get(_kin_url(patient))

    assert listed["Content-Type"].startswith("application/json")
    assert listed.json()[0]["name"] == SCRIPT


def test_the_openapi_document_lists_the_paths_with_summaries(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    expected = {
        "/api/v1/patients/{patient_id}/alerts": {"get", "post"},
        "/api/v1/alerts/{alert_id}/end": {"post"},
        "/api/v1/patients/{patient_id}/next-of-kin": {"get", "post"},
        "/api/v1/next-of-kin/{next_of_kin_id}": {"put", "delete"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
        for method in methods:
            assert paths[path][method]["summary"], (path, method)


def test_the_needs_a_way_to_reach_rule_is_the_forms(client, staff, patient):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(
        _kin_url(patient), KIN | {"phone": "", "email": ""}, content_type="application/json"
    )

    assert _errors(response)["phone"] == f"phone: {NEEDS_A_WAY_TO_REACH}"
