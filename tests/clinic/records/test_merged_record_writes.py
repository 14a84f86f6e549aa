"""Writes aimed at a merged duplicate record are refused (records/merged.py): the pages show
"This record was merged into record ... on ...; make changes there." with a link to the record
kept, the API answers 409 with the kept record's id in ``merged_into``, nothing is written and
the refusal is audited. A merge committed between a service's first check and its write is
seen under the write's lock. Reads of the merged record, and writes to the kept one, work as
before. A double submit removes a medicine or a relative once, with one removal audited."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection

from clinic.accounts.models import Role
from clinic.audit.models import AuditChannel, AuditEntry, AuditOutcome
from clinic.records import (
    alerts,
    contacts,
    diagnoses,
    drug_history,
    encounters,
    family,
    merge,
    merged,
    services,
)
from clinic.records.drug_history import DrugDetails
from clinic.records.history import HistoryRefused
from clinic.records.merge import format_day
from clinic.records.models import (
    Addendum,
    Diagnosis,
    DrugExposure,
    Encounter,
    FamilyMember,
    NextOfKin,
    Patient,
    PatientAlert,
)
from clinic.scheduling.availability import clinic_tz, local_today
from tests import factories
from tests.clinic.records.test_diagnoses import encounter_for, review_for
from tests.clinic.records.test_encounters import context_of
from tests.clinic.records.test_patient_pages import VALID
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

JSON = "application/json"
BORN = date(1970, 1, 1)
YESTERDAY = (local_today() - timedelta(days=1)).isoformat()
DRUG_FORM = {"drug": "Haloperidol 5 mg", "dopamine_receptor_blocker": "auto", "started_on": ""}
RELATIVE_FORM = {"relationship": "mother", "condition": "Cervical dystonia", "has_dystonia": "on"}
DIAGNOSIS_FORM = {"diagnosed_on": "2020-05-01", "verification_status": "confirmed"}
KIN = {"name": "Sam Kin", "relationship": "Sister", "phone": "020 7946 0000", "email": ""}
ALLERGY = {"kind": "allergy", "detail": "Penicillin: rash"}
# Every service that writes patient data, whose first check the race tests hook.
SERVICES = (alerts, contacts, diagnoses, drug_history, encounters, family, services)


@pytest.fixture
def unit(db, staff):
    """Two records of one person, a clinician, reception and an administrator."""
    clinician = factories.user(role=Role.CLINICIAN, full_name="Dr Ann")
    clinician.is_verified = lambda: True
    return {
        "site": factories.site(slug="merged-site"),
        "clinician": clinician,
        "reception": staff[Role.RECEPTION],
        "admin": staff[Role.ADMIN],
        "keep": factories.patient(date_of_birth=BORN),
        "duplicate": factories.patient(date_of_birth=BORN),
    }


def _merge(unit) -> None:
    merge.merge_patients(
        context_of(unit["admin"]),
        keep_id=unit["keep"].pk,
        duplicate_id=unit["duplicate"].pk,
        reason="Registered twice at reception.",
    )


def _message(unit) -> str:
    duplicate = Patient.objects.get(pk=unit["duplicate"].pk)
    assert duplicate.merged_at is not None
    day = format_day(duplicate.merged_at.astimezone(clinic_tz()).date())
    return merged.MERGED.format(number=unit["keep"].hospital_number, day=day)


def _link(unit) -> str:
    keep = unit["keep"]
    return f'<a href="/records/patients/{keep.pk}/">{keep.hospital_number}</a>'


def _content() -> list[list[dict[str, Any]]]:
    """What the writes could change, without the patient each row points at (a merge moves
    the rows) and without the patients' own bookkeeping."""
    models = (DrugExposure, FamilyMember, Diagnosis, Encounter, Addendum, NextOfKin, PatientAlert)
    rows = [
        [{k: v for k, v in row.items() if k != "patient_id"} for row in model.objects.values()]
        for model in models
    ]
    people = Patient.objects.order_by("pk").values("given_name", "family_name", "nhs_number")
    return [*rows, list(people)]


def _last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _refusal_audited(unit, after: int, channel: str) -> None:
    entries = AuditEntry.objects.filter(
        pk__gt=after, outcome=AuditOutcome.REFUSED, patient=unit["duplicate"], channel=channel
    )
    assert [entry for entry in entries if _message(unit) in entry.detail]


def _send(client, method: str, url: str, data: dict[str, Any] | None, *, api: bool) -> Any:
    if not api:
        return client.post(url, data or {})
    send = getattr(client, method)
    return send(url, data, content_type=JSON) if data is not None else send(url)


def _as(client, unit, role: str) -> None:
    sign_in(client, unit["clinician"] if role == "clinician" else unit[role])


def _assert_refused_page(response, unit) -> None:
    page = response.content.decode()
    assert response.status_code == 409
    assert "This record was merged into record " in page
    assert _link(unit) in page
    assert "make changes there." in page


def _assert_refused_api(response, unit) -> None:
    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == _message(unit)
    assert unit["keep"].hospital_number in body["detail"]
    assert body["merged_into"] == unit["keep"].pk
    assert body["errors"] == []


# --- Writes to a merged record, by the patient's id --------------------------------------

# name: (who, page URL, form, API URL, API body); {p} is the patient, {site} the site's id.
BY_PATIENT = {
    "drug add": (
        "clinician",
        "/records/patients/{p}/drugs/new/",
        DRUG_FORM,
        "/api/v1/patients/{p}/drugs",
        {"drug": "Haloperidol 5 mg"},
    ),
    "relative add": (
        "clinician",
        "/records/patients/{p}/relatives/new/",
        RELATIVE_FORM,
        "/api/v1/patients/{p}/relatives",
        {"relationship": "mother", "condition": "Cervical dystonia", "has_dystonia": True},
    ),
    "diagnosis add": (
        "clinician",
        "/records/patients/{p}/diagnoses/other/new/",
        {"label": "Essential tremor", **DIAGNOSIS_FORM},
        "/api/v1/patients/{p}/diagnoses",
        {"kind": "other", "label": "Essential tremor", "diagnosed_on": "2020-05-01"},
    ),
    "hemifacial spasm add": (
        "clinician",
        "/records/patients/{p}/diagnoses/hemifacial-spasm/new/",
        {"side": "left", **DIAGNOSIS_FORM},
        "/api/v1/patients/{p}/diagnoses",
        {"kind": "hemifacial_spasm", "side": "left", "diagnosed_on": "2020-05-01"},
    ),
    "encounter start": (
        "clinician",
        "/records/patients/{p}/encounters/new/",
        {"kind": "consultation", "site": "merged-site", "date": YESTERDAY, "time": "10:00"},
        "/api/v1/patients/{p}/encounters",
        {"kind": "consultation", "site_id": "{site}"},
    ),
    "next of kin add": (
        "reception",
        "/records/patients/{p}/next-of-kin/new/",
        KIN,
        "/api/v1/patients/{p}/next-of-kin",
        {"name": "Sam Kin", "relationship": "Sister", "phone": "020 7946 0000"},
    ),
    "alert add": (
        "clinician",
        "/records/patients/{p}/alerts/new/",
        ALLERGY,
        "/api/v1/patients/{p}/alerts",
        ALLERGY,
    ),
    "details edit": ("reception", "/records/patients/{p}/edit/", VALID, "", None),
}


def _fill(value: Any, unit, patient: Patient) -> Any:
    if isinstance(value, str):
        text = value.format(p=patient.pk, site=unit["site"].pk)
        return int(text) if value == "{site}" else text
    if isinstance(value, dict):
        return {k: _fill(v, unit, patient) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", BY_PATIENT)
def test_a_page_write_to_a_merged_record_shows_the_message_and_writes_nothing(client, unit, name):
    role, url, form, _api, _body = BY_PATIENT[name]
    _merge(unit)
    _as(client, unit, role)
    before, after = _content(), _last_audit_pk()

    response = client.post(_fill(url, unit, unit["duplicate"]), form)

    _assert_refused_page(response, unit)
    assert _content() == before
    _refusal_audited(unit, after, AuditChannel.WEB)


@pytest.mark.parametrize("name", [name for name, case in BY_PATIENT.items() if case[3]])
def test_an_api_write_to_a_merged_record_is_409_naming_the_kept_record(client, unit, name):
    role, _url, _form, api, body = BY_PATIENT[name]
    _merge(unit)
    _as(client, unit, role)
    before, after = _content(), _last_audit_pk()

    duplicate = unit["duplicate"]
    response = _send(
        client, "post", _fill(api, unit, duplicate), _fill(body, unit, duplicate), api=True
    )

    _assert_refused_api(response, unit)
    assert _content() == before
    _refusal_audited(unit, after, AuditChannel.API)


@pytest.mark.parametrize("name", BY_PATIENT)
def test_the_same_writes_to_the_kept_record_still_work(client, unit, name):
    role, url, form, api, body = BY_PATIENT[name]
    _merge(unit)
    _as(client, unit, role)
    keep = unit["keep"]

    page = client.post(_fill(url, unit, keep), form)

    assert page.status_code == 302, page.content.decode()
    if api:
        if name == "alert add":  # the same allergy again would be refused as already active
            body = {"kind": "allergy", "detail": "Latex: wheeze"}
        answer = _send(client, "post", _fill(api, unit, keep), _fill(body, unit, keep), api=True)
        assert answer.status_code in {200, 201}, answer.content


def test_reads_of_a_merged_record_work_as_before(client, unit):
    _merge(unit)
    sign_in(client, unit["clinician"])
    duplicate = unit["duplicate"]

    page = client.get(f"/records/patients/{duplicate.pk}/")
    drugs = client.get(f"/api/v1/patients/{duplicate.pk}/drugs")
    form = client.get(f"/records/patients/{duplicate.pk}/drugs/new/")

    assert page.status_code == 200
    assert "This record was merged into" in page.content.decode()
    assert drugs.status_code == 200
    assert drugs.json() == []
    assert form.status_code == 200
    assert not AuditEntry.objects.filter(
        patient=duplicate, outcome=AuditOutcome.REFUSED, detail__contains="merged into record"
    ).exists()


# --- A merge committed between a service's first check and its write ------------------------


@pytest.fixture
def merge_midway(unit, monkeypatch):
    """Arm: the next write merges the duplicate into the kept record just after its service
    checked the record (as another administrator's merge committing at that moment). The
    service then holds a patient read before the merge; only its re-check under the lock can
    see the merge."""

    def arm() -> None:
        merged_already: list[bool] = []
        for module in SERVICES:
            real = module.refuse_if_merged

            def checked_then_merged(patient, *args, _real=real, **kwargs) -> None:
                _real(patient, *args, **kwargs)
                if not merged_already:
                    merged_already.append(True)
                    _merge(unit)

            monkeypatch.setattr(module, "refuse_if_merged", checked_then_merged)

    return arm


def _rows(unit) -> dict[str, Any]:
    """One row of each kind on the duplicate, before the merge."""
    duplicate, clinician = unit["duplicate"], unit["clinician"]
    draft = encounter_for(duplicate, clinician, site=unit["site"])
    draft.notes = "Seen today."
    draft.save()
    signed = encounter_for(duplicate, clinician, site=unit["site"], signed=True)
    return {
        "drug": DrugExposure.objects.create(
            patient=duplicate, drug="Levodopa", recorded_by=clinician
        ),
        "relative": FamilyMember.objects.create(
            patient=duplicate, relationship="mother", condition="Tremor", recorded_by=clinician
        ),
        "diagnosis": Diagnosis.objects.create(
            patient=duplicate,
            kind="other",
            label="Essential tremor",
            diagnosed_on=date(2020, 5, 1),
            recorded_by=clinician,
        ),
        "draft": draft,
        "signed": signed,
        "review": review_for(encounter_for(duplicate, clinician, site=unit["site"], signed=True)),
        "kin": NextOfKin.objects.create(patient=duplicate, **{**KIN, "email": ""}),
        "alert": PatientAlert.objects.create(
            patient=duplicate, kind="needs_hoist", recorded_by=unit["reception"]
        ),
    }


def _version(encounter: Encounter) -> str:
    return Encounter.objects.get(pk=encounter.pk).updated_at.isoformat()


# name: (who, page (URL, form), API (method, URL, body)); built from _rows.
BY_ID: dict[str, tuple[str, Callable[[dict], tuple], Callable[[dict], tuple] | None]] = {
    "drug change": (
        "clinician",
        lambda r: (f"/records/drugs/{r['drug'].pk}/edit/", DRUG_FORM),
        lambda r: ("put", f"/api/v1/drugs/{r['drug'].pk}", {"drug": "Levodopa 100 mg"}),
    ),
    "drug stop": (
        "clinician",
        lambda r: (f"/records/drugs/{r['drug'].pk}/stop/", {"stopped_on": "2023-01-01"}),
        lambda r: ("post", f"/api/v1/drugs/{r['drug'].pk}/stop", {"stopped_on": "2023-01-01"}),
    ),
    "drug remove": (
        "clinician",
        lambda r: (f"/records/drugs/{r['drug'].pk}/remove/", {}),
        lambda r: ("delete", f"/api/v1/drugs/{r['drug'].pk}", None),
    ),
    "relative change": (
        "clinician",
        lambda r: (f"/records/relatives/{r['relative'].pk}/edit/", RELATIVE_FORM),
        lambda r: (
            "put",
            f"/api/v1/relatives/{r['relative'].pk}",
            {"relationship": "father", "condition": "Tremor", "has_dystonia": False},
        ),
    ),
    "relative remove": (
        "clinician",
        lambda r: (f"/records/relatives/{r['relative'].pk}/remove/", {}),
        lambda r: ("delete", f"/api/v1/relatives/{r['relative'].pk}", None),
    ),
    "diagnosis status": (
        "clinician",
        lambda r: (
            f"/records/diagnoses/{r['diagnosis'].pk}/",
            {"clinical_status": "active", "verification_status": "refuted"},
        ),
        lambda r: (
            "post",
            f"/api/v1/diagnoses/{r['diagnosis'].pk}/status",
            {"clinical_status": "active", "verification_status": "refuted"},
        ),
    ),
    "diagnosis from a classification": (
        "clinician",
        lambda r: (
            f"/records/classification-reviews/{r['review'].pk}/add-to-problem-list/",
            DIAGNOSIS_FORM,
        ),
        lambda r: (
            "post",
            f"/api/v1/patients/{r['review'].encounter.patient_id}/diagnoses",
            {"from_review": r["review"].pk},
        ),
    ),
    "encounter notes": (
        "clinician",
        lambda r: (
            f"/records/encounters/{r['draft'].pk}/",
            {"notes": "Changed.", "updated_at": _version(r["draft"])},
        ),
        lambda r: (
            "put",
            f"/api/v1/encounters/{r['draft'].pk}/notes",
            {"notes": "Changed.", "updated_at": _version(r["draft"])},
        ),
    ),
    "encounter sign": (
        "clinician",
        lambda r: (
            f"/records/encounters/{r['draft'].pk}/sign/",
            {"updated_at": _version(r["draft"])},
        ),
        lambda r: (
            "post",
            f"/api/v1/encounters/{r['draft'].pk}/sign",
            {"updated_at": _version(r["draft"])},
        ),
    ),
    "addendum": (
        "clinician",
        lambda r: (f"/records/encounters/{r['signed'].pk}/addenda/new/", {"text": "Later."}),
        lambda r: ("post", f"/api/v1/encounters/{r['signed'].pk}/addenda", {"text": "Later."}),
    ),
    "next of kin change": (
        "reception",
        lambda r: (f"/records/next-of-kin/{r['kin'].pk}/edit/", {**KIN, "name": "Sam Other"}),
        lambda r: (
            "put",
            f"/api/v1/next-of-kin/{r['kin'].pk}",
            {"name": "Sam Other", "relationship": "Sister", "phone": "020 7946 0000"},
        ),
    ),
    "next of kin remove": (
        "reception",
        lambda r: (f"/records/next-of-kin/{r['kin'].pk}/remove/", {}),
        lambda r: ("delete", f"/api/v1/next-of-kin/{r['kin'].pk}", None),
    ),
    "alert end": (
        "reception",
        lambda r: (f"/records/alerts/{r['alert'].pk}/end/", {}),
        lambda r: ("post", f"/api/v1/alerts/{r['alert'].pk}/end", None),
    ),
}
# The writes by the patient's id race the same way.
BY_ID |= {
    f"{name} (merged meanwhile)": (
        role,
        lambda r, url=url, form=form: (url.format(p=r["patient"].pk), form),
        (
            lambda r, api=api, body=body: (
                "post",
                api.format(p=r["patient"].pk),
                _fill(body, r["unit"], r["patient"]),
            )
        )
        if api
        else None,
    )
    for name, (role, url, form, api, body) in BY_PATIENT.items()
}


def _race_rows(unit) -> dict[str, Any]:
    return {**_rows(unit), "patient": unit["duplicate"], "unit": unit}


@pytest.mark.parametrize("name", BY_ID)
def test_a_page_write_when_the_record_is_merged_meanwhile_is_refused_under_the_lock(
    client, unit, merge_midway, name
):
    role, page, _api = BY_ID[name]
    rows = _race_rows(unit)
    url, form = page(rows)
    _as(client, unit, role)
    before, after = _content(), _last_audit_pk()
    merge_midway()

    response = client.post(url, form)

    assert Patient.objects.get(pk=unit["duplicate"].pk).merged_into_id == unit["keep"].pk
    _assert_refused_page(response, unit)
    assert _content() == before
    _refusal_audited(unit, after, AuditChannel.WEB)


@pytest.mark.parametrize("name", [name for name, case in BY_ID.items() if case[2]])
def test_an_api_write_when_the_record_is_merged_meanwhile_is_409(client, unit, merge_midway, name):
    role, _page, api = BY_ID[name]
    assert api is not None
    rows = _race_rows(unit)
    method, url, body = api(rows)
    _as(client, unit, role)
    before, after = _content(), _last_audit_pk()
    merge_midway()

    response = _send(client, method, url, body, api=True)

    _assert_refused_api(response, unit)
    assert _content() == before
    _refusal_audited(unit, after, AuditChannel.API)


def test_a_row_moved_by_the_merge_is_changed_on_the_kept_record(client, unit):
    drug = DrugExposure.objects.create(
        patient=unit["duplicate"], drug="Levodopa", recorded_by=unit["clinician"]
    )
    _merge(unit)
    sign_in(client, unit["clinician"])

    response = client.post(f"/records/drugs/{drug.pk}/edit/", DRUG_FORM)

    assert response.status_code == 302
    drug.refresh_from_db()
    assert (drug.patient_id, drug.drug) == (unit["keep"].pk, "Haloperidol 5 mg")


def test_the_service_refusal_names_the_kept_record_for_the_api(unit):
    _merge(unit)

    with pytest.raises(HistoryRefused) as refused:
        drug_history.drug_add(
            context=context_of(unit["clinician"]),
            patient_id=unit["duplicate"].pk,
            details=DrugDetails(drug="Levodopa"),
        )

    assert (refused.value.status, refused.value.field) == (409, "")
    assert refused.value.message == _message(unit)
    assert merged.merged_into(refused.value) == unit["keep"].pk


# --- A double submit of a removal ---------------------------------------------------------


REMOVALS = {
    "medicine": (
        drug_history,
        lambda unit: DrugExposure.objects.create(
            patient=unit["keep"], drug="Levodopa", recorded_by=unit["clinician"]
        ),
        "/records/drugs/{id}/remove/",
        ("drug_exposure", "drug removed", "no such drug exposure"),
    ),
    "relative": (
        family,
        lambda unit: FamilyMember.objects.create(
            patient=unit["keep"],
            relationship="mother",
            condition="Tremor",
            recorded_by=unit["clinician"],
        ),
        "/records/relatives/{id}/remove/",
        ("family_member", "relative removed", "no such family member"),
    ),
}


@pytest.mark.parametrize("what", REMOVALS)
def test_a_double_submit_removes_once_and_audits_one_removal(client, unit, monkeypatch, what):
    module, make, url, (object_type, removed, not_found) = REMOVALS[what]
    row = make(unit)
    sign_in(client, unit["clinician"])
    real = module.refuse_if_merged

    def other_submit_first(patient, *args, **kwargs) -> None:
        # Both submits found the row; the other one removes it first.
        monkeypatch.setattr(module, "refuse_if_merged", real)
        assert client.post(url.format(id=row.pk)).status_code == 302
        real(patient, *args, **kwargs)

    monkeypatch.setattr(module, "refuse_if_merged", other_submit_first)

    response = client.post(url.format(id=row.pk))

    assert response.status_code == 404
    assert not type(row).objects.filter(pk=row.pk).exists()
    entries = AuditEntry.objects.filter(
        object_type=object_type, object_id=str(row.pk), action="delete"
    ).order_by("pk")
    assert [(e.outcome, e.detail) for e in entries] == [
        (AuditOutcome.ALLOWED, removed),
        (AuditOutcome.REFUSED, not_found),
    ]


# --- The race on PostgreSQL ---------------------------------------------------------------


def _add_while_merging(unit) -> str:
    """A merge holding its locks (paused after them) and, meanwhile, a medicine added to the
    duplicate: what the medicine's write answered."""
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def merging() -> None:
        barrier.wait()
        try:
            _merge(unit)
        finally:
            connection.close()

    def adding() -> None:
        barrier.wait()
        time.sleep(0.2)  # the merge has its locks by now
        try:
            drug_history.drug_add(
                context=context_of(unit["clinician"]),
                patient_id=unit["duplicate"].pk,
                details=DrugDetails(drug="Levodopa"),
            )
            outcome.append("added")
        except HistoryRefused as refusal:
            outcome.append(refusal.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=merging), threading.Thread(target=adding)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome[0]


@pytest.fixture
def racing(transactional_db, staff, monkeypatch):
    monkeypatch.setattr(merge, "_pause_after_lock_seconds", 0.5)
    clinician = factories.user(role=Role.CLINICIAN, full_name="Dr Ann")
    clinician.is_verified = lambda: True
    return {
        "clinician": clinician,
        "admin": staff[Role.ADMIN],
        "keep": factories.patient(date_of_birth=BORN),
        "duplicate": factories.patient(date_of_birth=BORN),
    }


on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the race needs PostgreSQL"
)


@pytest.mark.postgres
@on_postgres
def test_a_write_during_a_merge_waits_for_it_then_is_refused(racing):
    outcome = _add_while_merging(racing)

    assert outcome == _message(racing)
    assert not DrugExposure.objects.exists()


@pytest.mark.postgres
@on_postgres
def test_control_without_the_lock_the_write_lands_on_the_merged_record(racing, monkeypatch):
    monkeypatch.setattr(merged, "_locks_enabled", False)

    outcome = _add_while_merging(racing)

    # Read before the merge committed, so the check passed: what the lock prevents.
    assert outcome == "added"
    assert DrugExposure.objects.get().patient_id == racing["duplicate"].pk
