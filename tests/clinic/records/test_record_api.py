"""The family and drug history, an encounter's history and examination, and the decision on
its classification over the JSON API: clinicians only (reception and administrators 403 about
a patient and 404 by an id, patients 404), the draft's clinician alone writes its history and
examination (409 once signed, 409 when saved since), strict input answered 4xx in the one
error shape with nothing written, every call audited with channel API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import classification, drug_history, encounters, family, history
from clinic.records.encounters import LOCKED, NUL_CHARACTER
from clinic.records.models import (
    ClassificationReview,
    DrugExposure,
    EncounterKind,
    Examination,
    FamilyMember,
    History,
    RegionFinding,
)
from clinic.records.record_api import STALE, version
from clinic.scheduling.availability import local_today
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

JSON = "application/json"
BORN = date(1970, 1, 1)
MOTHER = {
    "relationship": "mother",
    "condition": "Cervical dystonia",
    "has_dystonia": True,
    "age_at_onset_years": 45,
    "notes": "Treated with toxin.",
}
HALOPERIDOL = {"drug": "Haloperidol 5 mg", "started_on": "2020-03-01"}
HISTORY = {
    "presenting_complaint": "Neck pulls to the left.\nWorse when tired.",
    "age_at_onset_years": 40,
    "first_region": "upper_limb",
    "first_side": "right",
    "course": "progressive",
    "variability": ["diurnal", "persistent"],
    "sensory_tricks": "Touching the chin.",
}
NECK = {"region": "neck", "posture": "Rotated to the left", "tremor": True}
RIGHT_ARM = {"region": "upper_limb", "side": "right", "task_specific": True}
CLINICAL_WORDS = ("Cervical", "toxin", "Haloperidol", "Neck", "chin", "Rotated")


@pytest.fixture
def ward(db, staff):
    """A clinician's draft encounter with a patient born in 1970; a colleague; the staff."""
    patient_user = factories.user(role=Role.PATIENT)
    patient = factories.patient(user=patient_user, date_of_birth=BORN)
    clinician = factories.user(role=Role.CLINICIAN, full_name="Dr Ann")
    encounter, _ = encounters.encounter_start(
        context=context_of(clinician),
        patient=patient,
        kind=EncounterKind.CONSULTATION,
        site=factories.site(slug="record-api-site"),
        notes="Seen today.",
    )
    return {
        "clinician": clinician,
        "colleague": factories.user(role=Role.CLINICIAN, full_name="Dr Bea"),
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


def _rows() -> tuple:
    """Everything these endpoints write, as it stands."""
    return (
        list(FamilyMember.objects.values()),
        list(DrugExposure.objects.values()),
        list(History.objects.values()),
        list(Examination.objects.values()),
        list(RegionFinding.objects.values()),
        list(ClassificationReview.objects.values()),
    )


def _no_clinical_words_audited() -> None:
    details = " ".join(AuditEntry.objects.values_list("detail", flat=True))
    for word in CLINICAL_WORDS:
        assert word not in details


def _relative(ward, **changes) -> FamilyMember:
    details = family.RelativeDetails(**(MOTHER | changes))
    return family.relative_add(
        context=context_of(ward["clinician"]), patient_id=ward["patient"].pk, details=details
    )


def _drug(ward, **changes) -> DrugExposure:
    values = {"drug": "Haloperidol 5 mg", "started_on": date(2020, 3, 1)} | changes
    return drug_history.drug_add(
        context=context_of(ward["clinician"]),
        patient_id=ward["patient"].pk,
        details=drug_history.DrugDetails(**values),
    )


def _sign(ward) -> None:
    encounters.encounter_sign(
        context=context_of(ward["clinician"]), encounter_id=ward["encounter"].pk
    )


# Family history


def test_a_clinician_adds_lists_changes_and_removes_a_relative(client, ward):
    patient = ward["patient"]
    sign_in(client, ward["clinician"])

    added = client.post(f"/api/v1/patients/{patient.pk}/relatives", MOTHER, content_type=JSON)
    relative_id = added.json()["id"]
    listed = client.get(f"/api/v1/patients/{patient.pk}/relatives")
    pedigree = client.get(f"/api/v1/patients/{patient.pk}/pedigree").json()
    changed = client.put(
        f"/api/v1/relatives/{relative_id}", MOTHER | {"has_dystonia": False}, content_type=JSON
    )
    after = client.get(f"/api/v1/patients/{patient.pk}/pedigree").json()
    removed = client.delete(f"/api/v1/relatives/{relative_id}")

    assert added.status_code == 201
    assert added.json() | {"recorded_at": None} == MOTHER | {
        "id": relative_id,
        "patient_id": patient.pk,
        "relationship_label": "Mother",
        "recorded_at": None,
    }
    assert [r["id"] for r in listed.json()] == [relative_id]
    assert pedigree["hereditary"] is True
    [parents] = pedigree["generations"]
    assert (parents["generation"], parents["label"]) == ("parents", "Parents, aunts and uncles")
    assert [r["id"] for r in parents["maternal"]] == [relative_id]
    assert parents["paternal"] == parents["unsided"] == []
    assert changed.status_code == 200
    assert changed.json()["has_dystonia"] is False
    assert after["hereditary"] is False
    assert removed.status_code == 204
    assert not FamilyMember.objects.exists()
    for action in ("create", "update", "delete"):
        assert _api_entries(object_type="family_member", action=action, outcome="allowed") == 1
    assert _api_entries(object_type="family_member", action="read") == 3
    _no_clinical_words_audited()


def test_an_empty_family_history_is_still_an_audited_read(client, ward):
    sign_in(client, ward["clinician"])

    listed = client.get(f"/api/v1/patients/{ward['patient'].pk}/relatives")
    pedigree = client.get(f"/api/v1/patients/{ward['patient'].pk}/pedigree")

    assert listed.json() == []
    assert pedigree.json() == {"hereditary": False, "generations": []}
    assert _api_entries(object_type="patient", action="read", patient=ward["patient"]) == 2


def test_an_idempotency_key_adds_one_relative(client, ward):
    sign_in(client, ward["clinician"])
    url = f"/api/v1/patients/{ward['patient'].pk}/relatives"

    first = client.post(url, MOTHER, content_type=JSON, HTTP_IDEMPOTENCY_KEY="rel-1")
    retried = client.post(url, MOTHER, content_type=JSON, HTTP_IDEMPOTENCY_KEY="rel-1")

    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert FamilyMember.objects.count() == 1


BAD_RELATIVES = [
    ({"relationship": "cousin"}, "relationship"),
    ({"relationship": 3}, "relationship"),
    ({"relationship": None}, "relationship"),
    ({"condition": ""}, "condition"),
    ({"condition": "   "}, "condition"),
    ({"condition": "a\x00b"}, "condition"),
    ({"condition": "x" * (family.CONDITION_MAX_LENGTH + 1)}, "condition"),
    ({"condition": 42}, "condition"),
    ({"has_dystonia": "yes"}, "has_dystonia"),
    ({"has_dystonia": 1}, "has_dystonia"),
    ({"has_dystonia": None}, "has_dystonia"),
    ({"age_at_onset_years": "40"}, "age_at_onset_years"),
    ({"age_at_onset_years": 40.5}, "age_at_onset_years"),
    ({"age_at_onset_years": True}, "age_at_onset_years"),
    ({"age_at_onset_years": -1}, "age_at_onset_years"),
    ({"age_at_onset_years": 131}, "age_at_onset_years"),
    ({"age_at_onset_years": 2**70}, "age_at_onset_years"),
    ({"notes": "x" * (family.NOTES_MAX_LENGTH + 1)}, "notes"),
    ({"notes": "nul\x00"}, "notes"),
]


@pytest.mark.parametrize(("change", "field"), BAD_RELATIVES)
def test_bad_relatives_answer_422_naming_the_field_and_write_nothing(client, ward, change, field):
    relative = _relative(ward)
    sign_in(client, ward["clinician"])
    before = _rows()

    added = client.post(
        f"/api/v1/patients/{ward['patient'].pk}/relatives", MOTHER | change, content_type=JSON
    )
    changed = client.put(f"/api/v1/relatives/{relative.pk}", MOTHER | change, content_type=JSON)

    for response in (added, changed):
        assert response.status_code == 422, response.content
        assert field in _errors(response)
        assert response["Content-Type"].startswith(JSON)
    assert _rows() == before


def test_nul_in_a_relative_is_refused_with_the_services_message_and_audited(client, ward):
    sign_in(client, ward["clinician"])

    response = client.post(
        f"/api/v1/patients/{ward['patient'].pk}/relatives",
        MOTHER | {"condition": "a\x00b"},
        content_type=JSON,
    )

    assert _errors(response)["condition"] == f"condition: {NUL_CHARACTER}"
    assert _api_entries(object_type="family_member", action="create", outcome="refused") == 1


@pytest.mark.parametrize("body", [{}, [], "null", "{not json", '"mother"'])
def test_missing_or_malformed_bodies_are_4xx(client, ward, body):
    sign_in(client, ward["clinician"])
    before = _rows()

    response = client.post(
        f"/api/v1/patients/{ward['patient'].pk}/relatives", body, content_type=JSON
    )

    assert 400 <= response.status_code < 500
    assert "detail" in response.json()
    assert _rows() == before


# Drug history


def test_a_clinician_adds_changes_stops_and_removes_a_medicine(client, ward):
    patient = ward["patient"]
    sign_in(client, ward["clinician"])
    url = f"/api/v1/patients/{patient.pk}/drugs"
    stopped = (local_today() - timedelta(days=1)).isoformat()

    added = client.post(url, HALOPERIDOL, content_type=JSON)
    other = client.post(url, {"drug": "Levodopa", "notes": "<b>x</b>"}, content_type=JSON)
    drug_id = added.json()["id"]
    listed = client.get(url).json()
    changed = client.put(
        f"/api/v1/drugs/{drug_id}", HALOPERIDOL | {"notes": "Stopped by GP."}, content_type=JSON
    )
    stop = client.post(f"/api/v1/drugs/{drug_id}/stop", {"stopped_on": stopped}, content_type=JSON)
    again = client.post(f"/api/v1/drugs/{drug_id}/stop", {"stopped_on": stopped}, content_type=JSON)
    removed = client.delete(f"/api/v1/drugs/{other.json()['id']}")

    assert added.status_code == 201
    # Decided from the name by the core when not sent.
    assert added.json()["dopamine_receptor_blocker"] is True
    assert other.json()["dopamine_receptor_blocker"] is False
    assert [d["drug"] for d in listed] == ["Haloperidol 5 mg", "Levodopa"]
    assert listed[1]["notes"] == "<b>x</b>"
    assert changed.json()["notes"] == "Stopped by GP."
    assert stop.status_code == 200
    assert stop.json()["stopped_on"] == stopped
    assert again.status_code == 409
    assert again.json()["detail"] == drug_history.ALREADY_STOPPED
    assert removed.status_code == 204
    assert list(DrugExposure.objects.values_list("pk", flat=True)) == [drug_id]
    assert _api_entries(object_type="drug_exposure", action="create", outcome="allowed") == 2
    assert _api_entries(object_type="drug_exposure", action="update", outcome="allowed") == 2
    assert _api_entries(object_type="drug_exposure", action="update", outcome="refused") == 1
    assert _api_entries(object_type="drug_exposure", action="delete") == 1
    _no_clinical_words_audited()


def test_the_flag_can_be_set_either_way(client, ward):
    sign_in(client, ward["clinician"])
    url = f"/api/v1/patients/{ward['patient'].pk}/drugs"

    off = client.post(url, HALOPERIDOL | {"dopamine_receptor_blocker": False}, content_type=JSON)
    on = client.post(url, {"drug": "Made-up", "dopamine_receptor_blocker": True}, content_type=JSON)

    assert (off.json()["dopamine_receptor_blocker"], on.json()["dopamine_receptor_blocker"]) == (
        False,
        True,
    )


def _bad_drugs():
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    return [
        ({"drug": ""}, "drug"),
        ({"drug": "a\x00"}, "drug"),
        ({"drug": "x" * (drug_history.DRUG_MAX_LENGTH + 1)}, "drug"),
        ({"drug": 5}, "drug"),
        ({"dopamine_receptor_blocker": "true"}, "dopamine_receptor_blocker"),
        ({"dopamine_receptor_blocker": 1}, "dopamine_receptor_blocker"),
        ({"started_on": "01/03/2020"}, "started_on"),
        ({"started_on": 20200301}, "started_on"),
        ({"started_on": "2020-02-30"}, "started_on"),
        ({"started_on": "2020-03-01T10:00:00Z"}, "started_on"),
        ({"started_on": tomorrow}, "started_on"),
        ({"started_on": "1960-01-01"}, "started_on"),
        ({"stopped_on": "2019-01-01"}, "stopped_on"),
        ({"stopped_on": tomorrow}, "stopped_on"),
        ({"notes": "x" * (drug_history.NOTES_MAX_LENGTH + 1)}, "notes"),
        ({"notes": ["a"]}, "notes"),
    ]


@pytest.mark.parametrize(("change", "field"), _bad_drugs())
def test_bad_medicines_answer_422_naming_the_field_and_write_nothing(client, ward, change, field):
    drug = _drug(ward)
    sign_in(client, ward["clinician"])
    before = _rows()

    added = client.post(
        f"/api/v1/patients/{ward['patient'].pk}/drugs", HALOPERIDOL | change, content_type=JSON
    )
    changed = client.put(f"/api/v1/drugs/{drug.pk}", HALOPERIDOL | change, content_type=JSON)

    for response in (added, changed):
        assert response.status_code == 422, response.content
        assert field in _errors(response)
    assert _rows() == before


@pytest.mark.parametrize(
    "body", [{}, {"stopped_on": None}, {"stopped_on": "yesterday"}, {"stopped_on": "2019-01-01"}]
)
def test_bad_stops_answer_422_and_change_nothing(client, ward, body):
    drug = _drug(ward)
    sign_in(client, ward["clinician"])

    response = client.post(f"/api/v1/drugs/{drug.pk}/stop", body, content_type=JSON)

    assert response.status_code == 422
    assert "stopped_on" in _errors(response)
    drug.refresh_from_db()
    assert drug.stopped_on is None


# An encounter's history


def _history_url(ward) -> str:
    return f"/api/v1/encounters/{ward['encounter'].pk}/history"


def test_a_clinician_reads_and_saves_a_drafts_history(client, ward):
    sign_in(client, ward["clinician"])

    empty = client.get(_history_url(ward)).json()
    first = client.put(_history_url(ward), HISTORY | {"updated_at": None}, content_type=JSON)
    again = client.put(
        _history_url(ward),
        HISTORY | {"course": "static", "updated_at": first.json()["updated_at"]},
        content_type=JSON,
    )
    read = client.get(_history_url(ward)).json()

    assert empty["recorded"] is False
    assert (empty["updated_at"], empty["can_edit"], empty["presenting_complaint"]) == (
        None,
        True,
        "",
    )
    assert (empty["first_region"], empty["first_side"], empty["course"]) == (None, None, None)
    assert first.status_code == 200, first.content
    assert again.status_code == 200, again.content
    assert read["recorded"] is True
    assert read["presenting_complaint"] == HISTORY["presenting_complaint"]
    assert (read["first_region"], read["first_side"], read["course"]) == (
        "upper_limb",
        "right",
        "static",
    )
    assert read["variability"] == ["persistent", "diurnal"]  # the list's own order
    assert read["updated_at"] == History.objects.get().updated_at.isoformat()
    assert _api_entries(object_type="history", action="create", outcome="allowed") == 1
    assert _api_entries(object_type="history", action="update", outcome="allowed") == 1
    assert _api_entries(object_type="history", action="read") == 1
    _no_clinical_words_audited()


def test_a_history_saved_since_answers_409_with_the_current_updated_at(client, ward):
    sign_in(client, ward["clinician"])
    first = client.put(_history_url(ward), HISTORY | {"updated_at": None}, content_type=JSON)
    seen = first.json()["updated_at"]
    client.put(
        _history_url(ward), HISTORY | {"triggers": "Stress", "updated_at": seen}, content_type=JSON
    )
    before = _rows()

    stale = client.put(_history_url(ward), HISTORY | {"updated_at": seen}, content_type=JSON)
    as_new = client.put(_history_url(ward), HISTORY | {"updated_at": None}, content_type=JSON)

    for response in (stale, as_new):
        assert response.status_code == 409
        assert response.json()["detail"] == STALE
        current = History.objects.get().updated_at.isoformat()
        assert response.json()["updated_at"] == current
        assert current in _errors(response)["updated_at"]
    assert _rows() == before


def test_a_signed_encounters_history_is_locked_and_a_colleague_cannot_save(client, ward):
    sign_in(client, ward["colleague"])
    colleague = client.put(_history_url(ward), HISTORY | {"updated_at": None}, content_type=JSON)
    read = client.get(_history_url(ward))
    _sign(ward)
    sign_in(client, ward["clinician"])

    locked = client.put(_history_url(ward), HISTORY | {"updated_at": None}, content_type=JSON)

    assert colleague.status_code == 403
    assert "Dr Ann" in colleague.json()["detail"]
    assert read.status_code == 200
    assert read.json()["can_edit"] is False
    assert locked.status_code == 409
    assert locked.json()["detail"] == LOCKED
    assert not History.objects.exists()


BAD_HISTORIES = [
    ({"age_at_onset_years": "40"}, "age_at_onset_years"),
    ({"age_at_onset_years": 40.0}, "age_at_onset_years"),
    ({"age_at_onset_years": -1}, "age_at_onset_years"),
    ({"age_at_onset_years": 90}, "age_at_onset_years"),  # older than the patient
    ({"first_region": "arm"}, "first_region"),
    ({"first_region": "neck", "first_side": "right"}, "first_side"),
    ({"first_side": None}, "first_side"),  # a limb needs its side
    ({"first_side": ""}, "first_side"),
    ({"first_side": "up"}, "first_side"),
    ({"course": "fast"}, "course"),
    ({"course": ""}, "course"),
    ({"variability": ["sometimes"]}, "variability"),
    ({"variability": "persistent"}, "variability"),
    ({"presenting_complaint": "a\x00"}, "presenting_complaint"),
    ({"triggers": "x" * (history.HISTORY_TEXT_MAX_LENGTH + 1)}, "triggers"),
    ({"spread": 5}, "spread"),
    ({"updated_at": "2026-01-01T10:00:00"}, "updated_at"),
    ({"updated_at": 1_700_000_000}, "updated_at"),
]


@pytest.mark.parametrize(("change", "field"), BAD_HISTORIES)
def test_bad_histories_answer_422_naming_the_field_and_write_nothing(client, ward, change, field):
    sign_in(client, ward["clinician"])
    before = _rows()

    response = client.put(
        _history_url(ward), HISTORY | {"updated_at": None} | change, content_type=JSON
    )

    assert response.status_code == 422, response.content
    assert field in _errors(response)
    assert _rows() == before


def test_a_history_without_updated_at_is_refused(client, ward):
    sign_in(client, ward["clinician"])

    response = client.put(_history_url(ward), HISTORY, content_type=JSON)

    assert response.status_code == 422
    assert "updated_at" in _errors(response)
    assert not History.objects.exists()


# Examination and classification


def _exam_url(ward) -> str:
    return f"/api/v1/encounters/{ward['encounter'].pk}/examination"


def _examine(client, ward, sites=(NECK, RIGHT_ARM), **fields):
    History.objects.get_or_create(encounter=ward["encounter"], age_at_onset_years=40)
    saved = Examination.objects.filter(encounter=ward["encounter"]).first()
    body = {
        "sites": list(sites),
        "associated_features": ["myoclonus"],
        "notes": "Geste present.",
        "updated_at": saved.updated_at.isoformat() if saved else None,
    }
    return client.put(_exam_url(ward), body | fields, content_type=JSON)


def test_a_clinician_examines_and_confirms_the_classification(client, ward):
    sign_in(client, ward["clinician"])

    empty = client.get(_exam_url(ward)).json()
    saved = _examine(client, ward)
    review = saved.json()["classification"]
    confirmed = client.post(f"/api/v1/classification-reviews/{review['id']}/confirm")
    read = client.get(_exam_url(ward)).json()

    assert (empty["recorded"], empty["sites"], empty["classification"]) == (False, [], None)
    assert empty["missing"]
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert [(s["region"], s["side"], s["label"]) for s in body["sites"]] == [
        ("neck", "", "Neck"),
        ("upper_limb", "right", "Right upper limb"),
    ]
    assert body["sites"][0] | {"label": None} == {
        "region": "neck",
        "side": "",
        "label": None,
        "posture": "Rotated to the left",
        "movement": "",
        "tremor": True,
        "task_specific": False,
    }
    assert (body["associated_features"], body["notes"]) == (["myoclonus"], "Geste present.")
    assert body["updated_at"] == Examination.objects.get().updated_at.isoformat()
    assert review["decision"] == "pending"
    assert review["assessment"]["distribution"] == review["distribution"] == "segmental"
    assert review["id"] == classification.current_review(ward["encounter"].pk).pk
    assert confirmed.status_code == 200
    assert (confirmed.json()["decision"], confirmed.json()["decided_by"]) == ("confirmed", "Dr Ann")
    assert read["classification"]["decision"] == "confirmed"
    assert _api_entries(object_type="examination", action="create", outcome="allowed") == 1
    assert _api_entries(object_type="classification_review", action="update") == 1
    _no_clinical_words_audited()


def test_a_clinician_overrides_with_a_reason_and_a_stale_review_is_409(client, ward):
    sign_in(client, ward["clinician"])
    first = _examine(client, ward).json()["classification"]["id"]
    url = f"/api/v1/classification-reviews/{first}/override"
    without_reason = client.post(url, {"distribution": "multifocal"}, content_type=JSON)
    blank_reason = client.post(
        url, {"distribution": "multifocal", "reason": "  "}, content_type=JSON
    )
    bad = client.post(url, {"distribution": "widespread", "reason": "x"}, content_type=JSON)

    overridden = client.post(
        url,
        {"distribution": "multifocal", "reason": "Separate processes.", "statement": "Mine"},
        content_type=JSON,
    )
    _examine(client, ward, sites=(NECK,))  # a new review replaces the first
    stale = client.post(f"/api/v1/classification-reviews/{first}/confirm")

    assert without_reason.status_code == 422
    assert "reason" in _errors(without_reason)
    assert _errors(blank_reason)["reason"] == f"reason: {classification.REASON_REQUIRED}"
    assert "distribution" in _errors(bad)
    assert overridden.status_code == 200, overridden.content
    body = overridden.json()
    assert (body["decision"], body["clinician_distribution"], body["distribution"]) == (
        "overridden",
        "multifocal",
        "segmental",
    )
    assert stale.status_code == 409
    assert stale.json()["detail"] == classification.STALE_REVIEW
    assert ClassificationReview.objects.filter(decision="overridden").count() == 1


def test_an_examination_saved_since_is_409_and_a_signed_one_is_locked(client, ward):
    sign_in(client, ward["clinician"])
    seen = _examine(client, ward).json()["updated_at"]
    _examine(client, ward, notes="Saved in another tab.")
    before = _rows()

    stale = client.put(_exam_url(ward), {"sites": [NECK], "updated_at": seen}, content_type=JSON)
    assert stale.status_code == 409
    assert stale.json()["updated_at"] == Examination.objects.get().updated_at.isoformat()
    assert "updated_at" in _errors(stale)
    review = classification.current_review(ward["encounter"].pk)
    client.post(f"/api/v1/classification-reviews/{review.pk}/confirm")
    _sign(ward)
    locked = _examine(client, ward)
    decide = client.post(f"/api/v1/classification-reviews/{review.pk}/confirm")

    assert locked.status_code == 409
    assert locked.json()["detail"] == LOCKED
    assert decide.status_code == 409
    assert Examination.objects.get().notes == "Saved in another tab."
    assert _rows()[:5] == before[:5]


def test_a_colleague_reads_but_cannot_examine_or_decide(client, ward):
    sign_in(client, ward["clinician"])
    review = _examine(client, ward).json()["classification"]["id"]
    sign_in(client, ward["colleague"])
    before = _rows()

    read = client.get(_exam_url(ward))
    saved = _examine(client, ward)
    confirmed = client.post(f"/api/v1/classification-reviews/{review}/confirm")

    assert read.status_code == 200
    assert read.json()["can_edit"] is False
    assert (saved.status_code, confirmed.status_code) == (403, 403)
    assert _rows() == before


BAD_EXAMINATIONS = [
    ({"sites": "neck"}, "sites"),
    ({"sites": [{"region": "arm"}]}, "region"),
    ({"sites": [{"region": "neck", "side": "up"}]}, "side"),
    ({"sites": [{"region": "upper_limb"}]}, "sites"),  # a limb needs its side
    ({"sites": [{"region": "neck", "side": "left"}]}, "sites"),
    ({"sites": [NECK, NECK]}, "sites"),
    ({"sites": [NECK | {"tremor": "yes"}]}, "tremor"),
    ({"sites": [NECK | {"task_specific": 1}]}, "task_specific"),
    ({"sites": [NECK | {"posture": "x" * 501}]}, "posture"),
    ({"sites": [NECK | {"posture": "a\x00"}]}, "sites"),
    ({"sites": [NECK] * 11}, "sites"),
    ({"associated_features": ["sneezing"]}, "associated_features"),
    ({"associated_features": "tremor"}, "associated_features"),
    ({"notes": "a\x00"}, "notes"),
    ({"notes": 3}, "notes"),
    ({"updated_at": "yesterday"}, "updated_at"),
]


@pytest.mark.parametrize(("change", "field"), BAD_EXAMINATIONS)
def test_bad_examinations_answer_422_naming_the_field_and_write_nothing(
    client, ward, change, field
):
    History.objects.create(encounter=ward["encounter"], age_at_onset_years=40)
    sign_in(client, ward["clinician"])
    before = _rows()

    response = client.put(
        _exam_url(ward), {"sites": [NECK], "updated_at": None} | change, content_type=JSON
    )

    assert response.status_code == 422, response.content
    assert field in _errors(response)
    assert _rows() == before


def test_the_examination_needs_its_sites_and_updated_at(client, ward):
    sign_in(client, ward["clinician"])

    response = client.put(_exam_url(ward), {}, content_type=JSON)

    assert response.status_code == 422
    assert {"sites", "updated_at"} <= set(_errors(response))


# Who: anonymous 401; reception and administrators 403 about a patient, 404 by an id;
# patients 404


def _calls(ward, relative, drug, review):
    patient, encounter = ward["patient"].pk, ward["encounter"].pk
    reason = {"distribution": "focal", "reason": "x"}
    return [
        ("get", f"/api/v1/patients/{patient}/relatives", None),
        ("post", f"/api/v1/patients/{patient}/relatives", MOTHER),
        ("get", f"/api/v1/patients/{patient}/pedigree", None),
        ("get", f"/api/v1/patients/{patient}/drugs", None),
        ("post", f"/api/v1/patients/{patient}/drugs", HALOPERIDOL),
        ("put", f"/api/v1/relatives/{relative.pk}", MOTHER),
        ("delete", f"/api/v1/relatives/{relative.pk}", None),
        ("put", f"/api/v1/drugs/{drug.pk}", HALOPERIDOL),
        ("post", f"/api/v1/drugs/{drug.pk}/stop", {"stopped_on": "2021-01-01"}),
        ("delete", f"/api/v1/drugs/{drug.pk}", None),
        ("get", f"/api/v1/encounters/{encounter}/history", None),
        ("put", f"/api/v1/encounters/{encounter}/history", HISTORY | {"updated_at": None}),
        ("get", f"/api/v1/encounters/{encounter}/examination", None),
        ("put", f"/api/v1/encounters/{encounter}/examination", {"sites": [], "updated_at": None}),
        ("post", f"/api/v1/classification-reviews/{review.pk}/confirm", None),
        ("post", f"/api/v1/classification-reviews/{review.pk}/override", reason),
    ]


@pytest.fixture
def record(client, ward):
    """A relative, a medicine and a pending classification review."""
    sign_in(client, ward["clinician"])
    review_id = _examine(client, ward).json()["classification"]["id"]
    client.logout()
    return _relative(ward), _drug(ward), ClassificationReview.objects.get(pk=review_id)


def _statuses(client, ward, record):
    return [
        getattr(client, method)(url, body, content_type=JSON).status_code
        for method, url, body in _calls(ward, *record)
    ]


def test_anonymous_calls_answer_401(client, ward, record):
    before = _rows()

    assert set(_statuses(client, ward, record)) == {401}
    assert _rows() == before


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_reception_and_administrators_are_refused_and_audited(client, ward, record, role):
    user = ward["staff"][role]
    sign_in(client, user)
    before = _rows()

    statuses = _statuses(client, ward, record)

    # 403 about a patient; by an id, not even its existence is told.
    assert statuses == [403] * 5 + [404] * 11
    assert _rows() == before
    assert _api_entries(outcome="refused", actor=user) >= 16


def test_a_patient_gets_404_for_their_own_record_and_writes_nothing(client, ward, record):
    user = ward["patient_user"]
    sign_in(client, user, second_factor=False)
    before = _rows()

    statuses = _statuses(client, ward, record)

    assert statuses == [404] * 16
    assert _rows() == before
    assert _api_entries(outcome="refused", actor=user) >= 16


def test_a_clinician_without_the_second_factor_gets_403(client, ward):
    sign_in(client, ward["clinician"], second_factor=False)

    listed = client.get(f"/api/v1/patients/{ward['patient'].pk}/relatives")
    added = client.post(
        f"/api/v1/patients/{ward['patient'].pk}/drugs", HALOPERIDOL, content_type=JSON
    )

    assert (listed.status_code, added.status_code) == (403, 403)
    assert not DrugExposure.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/v1/relatives/{id}"),
        ("delete", "/api/v1/relatives/{id}"),
        ("put", "/api/v1/drugs/{id}"),
        ("post", "/api/v1/drugs/{id}/stop"),
        ("delete", "/api/v1/drugs/{id}"),
        ("get", "/api/v1/encounters/{id}/history"),
        ("get", "/api/v1/encounters/{id}/examination"),
        ("post", "/api/v1/classification-reviews/{id}/confirm"),
        ("get", "/api/v1/patients/{id}/relatives"),
        ("get", "/api/v1/patients/{id}/drugs"),
    ],
)
@pytest.mark.parametrize("unknown", ["999999", str(2**70)])
def test_unknown_ids_answer_404_and_are_audited(client, ward, method, path, unknown):
    sign_in(client, ward["clinician"])
    bodies = {"put": MOTHER | HALOPERIDOL, "post": {"stopped_on": "2021-01-01"}}

    response = getattr(client, method)(
        path.format(id=unknown), bodies.get(method), content_type=JSON
    )

    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "Not found.", "errors": []}
    assert _api_entries(outcome="refused") >= 1


def test_the_openapi_document_lists_the_paths_with_summaries(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    expected = {
        "/api/v1/patients/{patient_id}/relatives": {"get", "post"},
        "/api/v1/relatives/{relative_id}": {"put", "delete"},
        "/api/v1/patients/{patient_id}/pedigree": {"get"},
        "/api/v1/patients/{patient_id}/drugs": {"get", "post"},
        "/api/v1/drugs/{drug_id}": {"put", "delete"},
        "/api/v1/drugs/{drug_id}/stop": {"post"},
        "/api/v1/encounters/{encounter_id}/history": {"get", "put"},
        "/api/v1/encounters/{encounter_id}/examination": {"get", "put"},
        "/api/v1/classification-reviews/{review_id}/confirm": {"post"},
        "/api/v1/classification-reviews/{review_id}/override": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
        for method in methods:
            assert paths[path][method]["summary"], (path, method)


# Invariants


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(max_size=60), age=st.integers(min_value=-(2**40), max_value=2**40))
def test_any_history_is_saved_exactly_or_refused_with_nothing_changed(client, ward, text, age):
    """Invariant: text without NUL comes back as sent (line endings as \\n) and an age from 0
    to the patient's age at the encounter is kept; anything else is a 422 naming the field,
    and the saved history stays as it was."""
    sign_in(client, ward["clinician"])
    saved = History.objects.filter(encounter=ward["encounter"]).first()
    before = _rows()
    oldest = history.completed_years(BORN, history.encounter_day(ward["encounter"]))

    response = client.put(
        _history_url(ward),
        {"presenting_complaint": text, "age_at_onset_years": age, "updated_at": version(saved)},
        content_type=JSON,
    )

    if "\x00" in text or not 0 <= age <= oldest:
        assert response.status_code == 422, response.content
        assert set(_errors(response)) <= {"presenting_complaint", "age_at_onset_years"}
        assert _rows() == before
    else:
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["presenting_complaint"] == text.replace("\r\n", "\n")
        assert body["age_at_onset_years"] == age
        assert body["updated_at"] == History.objects.get().updated_at.isoformat()


@pytest.mark.parametrize("what", ["relatives", "pedigree", "drugs"])
def test_the_lists_take_the_same_number_of_queries_however_long(client, ward, what):
    sign_in(client, ward["clinician"])
    url = f"/api/v1/patients/{ward['patient'].pk}/{what}"
    _relative(ward)
    _drug(ward)
    client.get(url)  # the session and user are cached after this
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for relationship in ("father", "sister", "maternal_aunt"):
        _relative(ward, relationship=relationship)
        _drug(ward, drug=f"Medicine for the {relationship}")
    with CaptureQueriesContext(connection) as four:
        response = client.get(url)

    assert response.status_code == 200
    assert len(four.captured_queries) == len(one.captured_queries)
