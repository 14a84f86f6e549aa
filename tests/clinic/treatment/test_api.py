"""Treatments over the JSON API: the same services as the pages, so the same rules, access and
audit. Clinicians record and read medication, therapy, procedures and DBS (the programming
answer carries each contact's charge density and the warning when over the lead's limit); bad
input is 422 naming the parameter with nothing written; other staff 403 for a patient and 404
by id, patients 404; a merged record 409 naming the record kept; a retried POST with its
Idempotency-Key writes once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.audit.models import AuditEntry
from clinic.records.models import Patient
from clinic.treatment.models import (
    BatteryCheck,
    DbsProgramming,
    DbsSystem,
    Medication,
    Procedure,
    TherapyReferral,
    TherapySession,
    TitrationStep,
)
from tests import factories
from tests.clinic.records.test_diagnoses import encounter_for, review_for
from tests.clinic.treatment.conftest import last_audit_pk, new_entries
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

JSON = "application/json"
MEDICATION = {
    "drug": "Trihexyphenidyl",
    "started_on": "2023-03-01",
    "first_dose": {"dose": 2, "unit": "mg", "times_per_day": 3},
}
REFERRAL = {"discipline": "physiotherapy", "referred_on": "2023-01-10", "goals": "Posture"}
PROCEDURE = {
    "kind": "selective_peripheral_denervation",
    "performed_on": "2022-05-04",
    "side": "left",
    "nerves": ["C1 dorsal ramus"],
    "muscles": ["Splenius capitis"],
}
SYSTEM = {
    "target": "gpi",
    "implanted_on": "2020-06-01",
    "generator": "other",
    "generator_model": "Activa PC",
    "rechargeable": False,
    "mri_status": "mr_conditional",
    "leads": [
        {"hemisphere": "left", "model": "3389", "contact_count": 4},
        {"hemisphere": "right", "model": "3389", "contact_count": 4},
    ],
}


def setting(**changes):
    values = {
        "hemisphere": "left",
        "contacts": {"1": "-", "case": "+"},
        "amplitude": 3,
        "amplitude_unit": "V",
        "pulse_width_us": 90,
        "frequency_hz": 130,
        "impedances": {"1": 500},
    }
    return values | changes


def session(*settings, **changes):
    moment = (timezone.now() - timedelta(hours=1)).isoformat()
    return {"programmed_at": moment, "settings": list(settings) or [setting()]} | changes


@pytest.fixture
def api(client, unit):
    sign_in(client, unit["clinician"])
    return client


def _post(client, url, body, **headers):
    return client.post(url, body, content_type=JSON, **headers)


def _put(client, url, body):
    return client.put(url, body, content_type=JSON)


def _errors(response) -> set[str]:
    return {error["parameter"] for error in response.json()["errors"]}


def test_a_clinician_prescribes_titrates_and_stops_a_medicine(api, unit):
    base = f"/api/v1/patients/{unit['patient'].pk}/medications"

    added = _post(api, base, MEDICATION)
    assert added.status_code == 201, added.content
    body = added.json()
    assert (body["drug"], body["dopamine_receptor_blocker"]) == ("Trihexyphenidyl", False)
    assert body["current_dose"]["dose"] in ("2.000", 2, "2")
    medication_id = body["id"]

    step = _post(
        api,
        f"/api/v1/medications/{medication_id}/steps",
        {"dose": 4.5, "unit": "mg", "times_per_day": 3, "starts_on": "2023-03-08"},
    )
    assert step.status_code == 201
    listed = api.get(base).json()
    assert [s["starts_on"] for s in listed[0]["titration_steps"]] == ["2023-03-01", "2023-03-08"]
    assert float(listed[0]["current_dose"]["dose"]) == 4.5

    stopped = _post(
        api,
        f"/api/v1/medications/{medication_id}/stop",
        {"stopped_on": "2024-01-01", "stop_reason": "side_effects"},
    )
    assert stopped.status_code == 200
    assert stopped.json()["current_dose"] is None
    again = _post(
        api,
        f"/api/v1/medications/{medication_id}/stop",
        {"stopped_on": "2024-02-01", "stop_reason": "other"},
    )
    assert again.status_code == 409

    assert api.delete(f"/api/v1/titration-steps/{step.json()['id']}").status_code == 204
    assert api.get(f"/api/v1/medications/{medication_id}").json()["stop_reason"] == "side_effects"


def test_a_retried_post_with_its_key_writes_once(api, unit):
    url = f"/api/v1/patients/{unit['patient'].pk}/medications"

    first = _post(api, url, MEDICATION, HTTP_IDEMPOTENCY_KEY="med-1")
    retried = _post(api, url, MEDICATION, HTTP_IDEMPOTENCY_KEY="med-1")

    assert first.status_code == retried.status_code == 201
    assert first.json()["id"] == retried.json()["id"]
    assert Medication.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"drug": 5}, "drug"),
        ({"drug": "x" * 101}, "drug"),
        ({"drug": "a\x00b"}, "drug"),
        ({"started_on": "01/03/2023"}, "started_on"),
        ({"started_on": 20230301}, "started_on"),
        ({"started_on": None}, "started_on"),
        ({"effect": "amazing"}, "effect"),
        ({"first_dose": {"dose": "2", "unit": "mg", "times_per_day": 3}}, "dose"),
        ({"first_dose": {"dose": 0, "unit": "mg", "times_per_day": 3}}, "dose"),
        ({"first_dose": {"dose": -1, "unit": "mg", "times_per_day": 3}}, "dose"),
        ({"first_dose": {"dose": 2, "unit": "mg", "times_per_day": 3.5}}, "times_per_day"),
        ({"first_dose": {"dose": 2, "unit": "tablets", "times_per_day": 3}}, "unit"),
        ({"first_dose": {"dose": 1e300, "unit": "mg", "times_per_day": 3}}, "dose"),
        ({"stopped_on": "2024-01-01"}, "stop_reason"),
        ({"encounter_id": 0}, "encounter_id"),
        ({"encounter_id": "1"}, "encounter_id"),
    ],
)
def test_bad_medication_input_is_422_naming_it_and_nothing_written(api, unit, change, parameter):
    body = MEDICATION | change
    if change.get("started_on", 0) is None:
        body.pop("started_on")

    response = _post(api, f"/api/v1/patients/{unit['patient'].pk}/medications", body)

    assert response.status_code == 422, response.content
    assert parameter in _errors(response)
    assert not Medication.objects.exists()
    assert not TitrationStep.objects.exists()


def test_another_patients_encounter_is_refused(api, unit):
    theirs = encounter_for(unit["other_patient"], unit["clinician"])

    response = _post(
        api,
        f"/api/v1/patients/{unit['patient'].pk}/medications",
        MEDICATION | {"encounter_id": theirs.pk},
    )

    assert response.status_code == 422
    assert _errors(response) == {"encounter_id"}
    assert not Medication.objects.exists()


def test_therapy_and_procedures_through_the_api(api, unit):
    patient = unit["patient"]

    referral = _post(api, f"/api/v1/patients/{patient.pk}/therapy-referrals", REFERRAL)
    assert referral.status_code == 201
    referral_id = referral.json()["id"]
    held = _post(
        api,
        f"/api/v1/therapy-referrals/{referral_id}/sessions",
        {"held_on": "2023-02-01", "attended": False},
    )
    assert held.status_code == 201
    discharged = _put(
        api,
        f"/api/v1/therapy-referrals/{referral_id}",
        REFERRAL | {"status": "discharged", "discharged_on": "2023-03-01", "outcome": "Better"},
    )
    assert discharged.status_code == 200
    assert [s["attended"] for s in discharged.json()["sessions"]] == [False]
    no_day = _put(
        api, f"/api/v1/therapy-referrals/{referral_id}", REFERRAL | {"status": "discharged"}
    )
    assert (no_day.status_code, _errors(no_day)) == (422, {"discharged_on"})

    added = _post(api, f"/api/v1/patients/{patient.pk}/procedures", PROCEDURE)
    assert added.status_code == 201
    assert added.json()["title"] == "Selective peripheral denervation"
    unnamed = _post(api, f"/api/v1/patients/{patient.pk}/procedures", PROCEDURE | {"kind": "other"})
    assert (unnamed.status_code, _errors(unnamed)) == (422, {"name"})
    too_many = _post(
        api, f"/api/v1/patients/{patient.pk}/procedures", PROCEDURE | {"muscles": ["m"] * 21}
    )
    assert too_many.status_code == 422
    assert [p["side"] for p in api.get(f"/api/v1/patients/{patient.pk}/procedures").json()] == [
        "left"
    ]
    assert TherapySession.objects.count() == 1
    assert Procedure.objects.count() == 1


def test_dbs_programming_answers_the_charge_density_and_the_warning(api, unit):
    system = _post(api, f"/api/v1/patients/{unit['patient'].pk}/dbs-systems", SYSTEM)
    assert system.status_code == 201, system.content
    system_id = system.json()["id"]
    assert [lead["model_name"] for lead in system.json()["leads"]] == [
        "Medtronic 3389",
        "Medtronic 3389",
    ]
    url = f"/api/v1/dbs-systems/{system_id}/programming"

    safe = _post(api, url, session(setting(), setting(hemisphere="right", impedances={"1": 1000})))
    excessive = _post(api, url, session(setting(amplitude=6.1, pulse_width_us=210)))

    assert safe.status_code == excessive.status_code == 201
    left, right = safe.json()["settings"]
    assert (left["charge_density"], left["warnings"]) == ({"1": 9.0}, [])
    assert right["charge_density"] == {"1": 4.5}
    [warned] = excessive.json()["settings"]
    assert warned["charge_density"] == {"1": 42.7}
    assert warned["warnings"][0].startswith("Left lead, contact 1: Charge density 42.7")
    read = api.get(f"/api/v1/dbs-programming/{excessive.json()['id']}").json()
    assert read["settings"][0]["warnings"] == warned["warnings"]


def test_a_low_battery_sets_the_alert_in_the_system(api, unit):
    system_id = _post(api, f"/api/v1/patients/{unit['patient'].pk}/dbs-systems", SYSTEM).json()[
        "id"
    ]

    check = _post(
        api,
        f"/api/v1/dbs-systems/{system_id}/battery-checks",
        {"checked_on": "2024-01-10", "status": "eri", "percent": 5},
    )
    listed = api.get(f"/api/v1/patients/{unit['patient'].pk}/dbs-systems").json()

    assert check.status_code == 201
    assert (
        "abrupt loss of stimulation can precipitate a dystonic crisis" in listed[0]["battery_alert"]
    )
    assert listed[0]["latest_battery"]["status"] == "eri"


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        (session(setting(amplitude="3")), "amplitude"),
        (session(setting(amplitude=True)), "amplitude"),
        (session(setting(pulse_width_us=0)), "settings"),
        (session(setting(pulse_width_us=90.5)), "pulse_width_us"),
        (session(setting(amplitude=-1)), "settings"),
        (session(setting(amplitude_unit="A")), "amplitude_unit"),
        (session(setting(contacts={"1": "cathode"})), "1"),
        (session(setting(contacts={"1": "-"})), "settings"),
        (session(setting(impedances={})), "settings"),
        (session(setting(hemisphere="both")), "hemisphere"),
        (session(setting(), setting()), "settings"),
        (session(settings=[]), "settings"),
        (session(programmed_at="2024-01-01T10:00"), "programmed_at"),
        (session(programmed_at=1700000000), "programmed_at"),
        (session(notes="x" * 5001), "notes"),
        (session(encounter_id=999_999), "encounter_id"),
    ],
)
def test_bad_programming_is_422_and_nothing_written(api, unit, body, parameter):
    system_id = _post(api, f"/api/v1/patients/{unit['patient'].pk}/dbs-systems", SYSTEM).json()[
        "id"
    ]

    response = _post(api, f"/api/v1/dbs-systems/{system_id}/programming", body)

    assert response.status_code == 422, response.content
    assert parameter in _errors(response)
    assert not DbsProgramming.objects.exists()


def test_a_setting_beyond_the_generators_range_is_refused(api, unit):
    vercise = SYSTEM | {"generator": "vercise", "generator_model": ""}
    system_id = _post(api, f"/api/v1/patients/{unit['patient'].pk}/dbs-systems", vercise).json()[
        "id"
    ]

    response = _post(
        api,
        f"/api/v1/dbs-systems/{system_id}/programming",
        session(setting(amplitude=25, amplitude_unit="mA", impedances={})),
    )

    assert response.status_code == 422
    assert "expected 0.1 to 20 mA for the Boston Scientific Vercise" in response.json()["detail"]
    assert not DbsProgramming.objects.exists()


def test_the_pathway_answers_the_cores_options(api, unit):
    empty = api.get(f"/api/v1/patients/{unit['patient'].pk}/treatment-pathway").json()
    review_for(encounter_for(unit["patient"], unit["clinician"]))

    panel = api.get(f"/api/v1/patients/{unit['patient'].pk}/treatment-pathway").json()

    assert empty["options"] == []
    assert empty["message"].startswith("No confirmed or overridden classification yet")
    assert panel["options"][0]["treatment"] == "botulinum_toxin"
    assert panel["note"] == "Advice only: the treating clinician decides."


@pytest.mark.parametrize(
    ("who", "status"), [("reception", 403), ("admin", 403), ("patient_user", 404)]
)
def test_everyone_but_clinicians_is_refused(client, unit, who, status):
    sign_in(client, unit["clinician"])
    patient = unit["patient"]
    medication_id = _post(client, f"/api/v1/patients/{patient.pk}/medications", MEDICATION).json()[
        "id"
    ]
    system_id = _post(client, f"/api/v1/patients/{patient.pk}/dbs-systems", SYSTEM).json()["id"]
    referral_id = _post(
        client, f"/api/v1/patients/{patient.pk}/therapy-referrals", REFERRAL
    ).json()["id"]
    client.logout()
    sign_in(client, unit[who], second_factor=who != "patient_user")
    before = last_audit_pk()

    by_patient = [
        client.get(f"/api/v1/patients/{patient.pk}/medications"),
        _post(client, f"/api/v1/patients/{patient.pk}/medications", MEDICATION),
        client.get(f"/api/v1/patients/{patient.pk}/dbs-systems"),
        _post(client, f"/api/v1/patients/{patient.pk}/procedures", PROCEDURE),
        client.get(f"/api/v1/patients/{patient.pk}/treatment-pathway"),
    ]
    by_id = [
        client.get(f"/api/v1/medications/{medication_id}"),
        _put(client, f"/api/v1/medications/{medication_id}", MEDICATION),
        _post(client, f"/api/v1/dbs-systems/{system_id}/programming", session()),
        _post(
            client,
            f"/api/v1/dbs-systems/{system_id}/battery-checks",
            {"checked_on": "2024-01-10", "status": "low"},
        ),
        _post(
            client, f"/api/v1/therapy-referrals/{referral_id}/sessions", {"held_on": "2023-02-01"}
        ),
    ]

    assert [r.status_code for r in by_patient] == [status] * 5
    assert [r.status_code for r in by_id] == [404] * 5
    assert (Medication.objects.count(), DbsProgramming.objects.count()) == (1, 0)
    assert not BatteryCheck.objects.exists()
    assert not TherapySession.objects.exists()
    assert set(new_entries(before).values_list("outcome", flat=True)) == {"refused"}


def test_unknown_ids_are_404_and_signed_out_is_401(client, api, unit):
    assert api.get("/api/v1/medications/999999").status_code == 404
    assert api.get("/api/v1/dbs-systems/999999").status_code == 404
    assert api.get("/api/v1/dbs-programming/999999").status_code == 404
    assert api.get("/api/v1/patients/999999/procedures").status_code == 404
    api.logout()
    assert client.get(f"/api/v1/patients/{unit['patient'].pk}/medications").status_code == 401


def test_a_merged_record_is_409_naming_the_record_kept(api, unit):
    keep = factories.patient()
    Patient.objects.filter(pk=unit["patient"].pk).update(merged_into=keep, merged_at=timezone.now())

    responses = [
        _post(api, f"/api/v1/patients/{unit['patient'].pk}/medications", MEDICATION),
        _post(api, f"/api/v1/patients/{unit['patient'].pk}/dbs-systems", SYSTEM),
        _post(api, f"/api/v1/patients/{unit['patient'].pk}/therapy-referrals", REFERRAL),
    ]

    for response in responses:
        assert response.status_code == 409
        assert response.json()["merged_into"] == keep.pk
    assert not Medication.objects.exists()
    assert not DbsSystem.objects.exists()
    assert not TherapyReferral.objects.exists()


def test_reads_are_audited_as_counts(api, unit):
    _post(api, f"/api/v1/patients/{unit['patient'].pk}/medications", MEDICATION)
    before = last_audit_pk()

    api.get(f"/api/v1/patients/{unit['patient'].pk}/medications")

    details = list(new_entries(before).values_list("channel", "detail"))
    assert ("api", "1 medications") in details
    assert not any("Trihexyphenidyl" in d for _c, d in details)
    assert AuditEntry.objects.filter(detail="1 medications").count() == 1
